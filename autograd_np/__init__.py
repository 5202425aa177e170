"""autograd_np: reverse-mode automatic differentiation of NumPy code, readable and fast.

    >>> import numpy as np, autograd_np as ag
    >>> x = ag.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    >>> y = ag.sum(x * x)
    >>> y.backward()
    >>> x.grad
    array([2., 4., 6.])
"""
from .modes import enable_grad, is_grad_enabled, no_grad
from .graph import Constant, Node, graph_nodes
from .registry import OPS
from .engine import Tensor, backward, grad
from .recording import defop
from .functional import value_and_grad
from .errors import ShapeError
from .ops import *  # noqa: F401,F403  (the public functions: add, matmul, sigmoid, ...)
from .ops import __all__ as _op_names
from .gradcheck import GradcheckError, gradcheck, gradgradcheck, numerical_gradient
from .anomaly import AnomalyError, detect_anomaly
from .graphcheck import GraphCheckError, check_graph
from .explain import explain
from .compiler import CompileError, CompileWarning, compile
from . import viz

__version__ = "0.1.0"
__all__ = ["Tensor", "Node", "Constant", "graph_nodes", "OPS", "backward", "defop", "enable_grad", "grad", "is_grad_enabled", "no_grad",
           "value_and_grad", "ShapeError", "GradcheckError", "gradcheck", "gradgradcheck",
           "numerical_gradient", "AnomalyError", "detect_anomaly", "check_graph", "GraphCheckError", "explain", "compile", "CompileError", "CompileWarning", "viz", *_op_names]
