"""The op table: every registered op, by name, three ways.  ``defop`` fills it;
the engine, the tests and the docs read it."""
from __future__ import annotations

from types import ModuleType

__all__ = ["OPS", "RAW_OPS", "GRAPH_OPS", "Tensor"]

OPS: dict = {}  # op name -> Op (forward, vjp, rule): the test table checks every one has a spec
# op name -> forward function on arrays (VJPs' F in a plain backward), and -> the function that
# applies and records the op (VJPs' F under create_graph=True; Tensor's operators).  Module
# objects: the fastest attribute lookup there is.
RAW_OPS = ModuleType("autograd_np.raw_ops")
GRAPH_OPS = ModuleType("autograd_np.graph_ops")

# The tensor class, set by ``tensor.py`` when it is defined: the backward walk (which comes
# before it in the core's reading order) finds it here.
Tensor = None
