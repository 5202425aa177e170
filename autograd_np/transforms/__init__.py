"""Function transforms: functions that take a function and return another, as
JAX's and ``torch.func``'s do.  ``ag.func`` is this package.

* ``grad(f, argnums=0, has_aux=False)``, ``value_and_grad``: reverse mode;
* ``vjp(f, *primals)``, ``jvp(f, primals, tangents)``: one pass backward or forward;
* ``jacrev``, ``jacfwd``, ``jacobian`` (the cheaper of the two), ``hessian``, ``hvp``;
* ``vmap(f, in_axes=0, out_axes=0)``: ``f`` of one example, run on a batch at once;
* ``functional_call(module, params, *args)``: a ``nets`` model run with given parameters.

They nest (``jacfwd(jacrev(f))``, ``vmap(grad(f))``) and take and return arrays
and tensors, in tuples, lists and dicts.  The engine's ``ag.grad(outputs,
inputs)`` is unchanged: the functional ``grad`` lives here.

Reading order: ``pytrees.py`` (nested arguments), ``levels.py`` (how vmap runs
f once for a batch), ``batching*.py`` (each op's batching rule),
``reverse.py`` and ``forward.py`` (the two passes through a recorded graph;
each op's JVP rule sits beside its VJP in ``autograd_np/ops``),
``linearize.py`` (record once, pass many times; inside vmap, one level down),
``arguments.py``, ``functional.py``, ``jacobians.py``, ``vmap.py``, ``modules.py``.
They may import the core and the ops.
"""
from .levels import VmapError
from .vmap import vmap
from .functional import grad, jvp, value_and_grad, vjp
from .jacobians import hessian, hvp, jacfwd, jacobian, jacrev
from .modules import functional_call

__all__ = ["grad", "value_and_grad", "vjp", "jvp", "jacrev", "jacfwd", "jacobian", "hessian", "hvp", "vmap",
           "functional_call", "VmapError"]
