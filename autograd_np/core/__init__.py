"""The core: tensors, the graph they record, and reverse mode.  It imports
nothing of the rest of the package (ops, NumPy interop, the compiler, the
debugging tools and pictures all build on it).

Read it in this order, each module only using those before it:

1. ``graph.py``: ``Node``, what one recorded op application keeps, and the
   clock that orders nodes and writes.
2. ``registry.py``: the op table (``OPS``) and the two namespaces of ops the
   VJPs compute with (``RAW_OPS`` on arrays, ``GRAPH_OPS`` recording).
3. ``modes.py``: ``no_grad``/``enable_grad``, anomaly mode's switch, and the
   tracers ``ag.compile`` leaves watching.
4. ``errors.py``: the messages that name an op, a tensor, a module.
5. ``tensor_methods.py``: the methods of ``Tensor`` that only call an op.
6. ``hooks.py``: gradient hooks.
7. ``backward.py``: the walk from outputs to leaves (``run_backward``).
8. ``gradients.py``: ``backward`` into ``.grad``, ``grad`` returned.
9. ``tensor.py``: ``Tensor``.
10. ``recording.py``: ``Op`` and ``defop``, and the function that applies an
    op to tensors and records a node.

``display.py`` renders small HTML tables for notebooks (no dependencies).
"""
from . import modes
from .graph import Constant, Node, clock, graph_nodes, last_write
from .registry import GRAPH_OPS, OPS, RAW_OPS
from .modes import enable_grad, is_grad_enabled, no_grad
from .errors import ShapeError, freed_message, label, modified_message, vjp_result_error
from .backward import first_gradient, graph_key, ones_seed, run_backward, unbroadcast
from .gradients import GRAD_LOCK, backward, grad, owned_gradient, release_stale
from .tensor import Tensor
from .recording import Op, defop

__all__ = ["Tensor", "Node", "Constant", "graph_nodes", "clock", "last_write", "OPS", "RAW_OPS", "GRAPH_OPS",
           "modes", "no_grad", "enable_grad", "is_grad_enabled", "ShapeError", "label", "freed_message",
           "modified_message", "vjp_result_error", "run_backward", "graph_key", "unbroadcast", "first_gradient",
           "ones_seed", "backward", "grad", "owned_gradient", "release_stale", "GRAD_LOCK", "Op", "defop"]
