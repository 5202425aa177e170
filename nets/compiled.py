"""A model's training step compiled with ``ag.compile``: traced once, replayed
as flat code (see ``autograd_np/compiler.py``).

    step = nets.compile_step(model)
    for x, t in loader:
        opt.zero_grad()
        loss, y = step(x, t)     # forward, criterion, backward into the parameters' .grad
        opt.step()

Dropout draws its masks and BatchNorm updates its running statistics inside
their ops, so a replay draws and updates exactly as an eager step does.  The
step re-traces when a layer's train/eval mode changes, when a running
statistic or a dropout generator is replaced by another object (a loaded
state dict, a new seed), and on whatever ``ag.compile`` itself guards (the
shapes and dtypes of the batch and of the parameters).
"""
from __future__ import annotations

import autograd_np as ag

from .module import Module

__all__ = ["compile_step"]


def compile_step(model: Module, check: bool = False):
    """``step(x, t) -> (loss, y)``: ``y = model(x)``, ``loss = model.criterion(y, t)``,
    then ``loss.backward()``, compiled.  ``loss`` and ``y`` are copies (tensors
    cut from the graph).  ``check=True`` also runs eagerly and raises
    ``ag.CompileError`` on any difference (for debugging)."""
    modules = [m for _, m in model.named_modules()]
    stateful = [(m, name) for m in modules for name in _state_names(m)]

    def guard():  # cheap on every call: flags and identities, no walk of the model
        return (tuple(m.training for m in modules), tuple(id(getattr(m, name)) for m, name in stateful))

    def train_step(x, t):
        y = model(x)
        return model.criterion(y, t), y

    step = ag.compile(train_step, check=check, guard=guard)
    step.model = model
    return step


def _state_names(module):
    """The attributes of ``module`` an op changes in place: running statistics, a generator."""
    names = list(vars(module).get("_buffer_names", ()))
    if hasattr(module, "rng"):
        names.append("rng")
    return names
