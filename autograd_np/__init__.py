"""autograd_np: reverse-mode automatic differentiation of NumPy code, readable and fast.

    >>> import numpy as np, autograd_np as ag
    >>> x = ag.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    >>> y = ag.sum(x * x)
    >>> y.backward()
    >>> x.grad
    array([2., 4., 6.])
"""
import sys as _sys

from .core.modes import enable_grad, is_grad_enabled, no_grad
from .core.graph import Constant, Node, graph_nodes
from .core.registry import OPS
from .core import Tensor, backward, grad
from .core.recording import defop
from .transforms.functional import value_and_grad
from . import transforms as func  # ag.func: grad, vjp, jvp, jacrev, jacfwd, jacobian, hessian, hvp, vmap (as torch.func)
_sys.modules.setdefault(__name__ + ".func", func)  # `from autograd_np.func import vmap` works too
from .transforms import VmapError, hessian, hvp, jacfwd, jacobian, jacrev, jvp, vjp, vmap
from .core.errors import ShapeError
from .ops import *  # noqa: F401,F403  (the public functions: add, matmul, sigmoid, ...)
from .ops import __all__ as _op_names
from . import interop  # installs NumPy's protocols on Tensor: np.sum(t), np.exp(t), arr @ t
from .debug.gradcheck import GradcheckError, gradcheck, gradgradcheck, numerical_gradient
from .debug.anomaly import AnomalyError, detect_anomaly
from .debug.graphcheck import GraphCheckError, check_graph
from .debug.explain import explain
from .compiler.step import CompileError, CompileWarning, compile
from . import viz

from . import _moved

_moved.install()  # import autograd_np.engine (and the other old module paths) still works


def __getattr__(name):  # autograd_np.engine (and the other moved modules) as attributes
    if name in _moved.MOVED:
        return _moved.module_for(name)
    raise AttributeError(f"module 'autograd_np' has no attribute {name!r}")


__version__ = "0.1.0"
__all__ = ["Tensor", "Node", "Constant", "graph_nodes", "OPS", "backward", "defop", "enable_grad", "grad", "is_grad_enabled", "no_grad",
           "value_and_grad", "func", "jvp", "vjp", "jacrev", "jacfwd", "jacobian", "hessian", "hvp", "vmap",
           "VmapError", "ShapeError", "GradcheckError", "gradcheck", "gradgradcheck",
           "numerical_gradient", "AnomalyError", "detect_anomaly", "check_graph", "GraphCheckError", "explain", "compile", "CompileError", "CompileWarning", "viz", *_op_names]
