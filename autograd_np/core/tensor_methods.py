"""``Tensor``'s NumPy-like methods, as a mixin: ``t.sum()``, ``t.reshape(2, 3)``,
``t.exp()``... and the reflected operators (``2 * t``).  Each forwards to its op
(``GRAPH_OPS``, which records) or, for a composite, to NumPy's function, which
dispatches to ours (``numpy_api.py``).  ``engine.Tensor`` holds the state."""
from __future__ import annotations

import numpy as np

from .registry import GRAPH_OPS

__all__ = ["TensorMethods"]


class TensorMethods:
    """The methods of ``Tensor`` that only call an op (no state of their own)."""

    __slots__ = ()

    # --- reflected operators: the arguments swapped ---------------------------
    def __radd__(self, o): return GRAPH_OPS.add(o, self)
    def __rsub__(self, o): return GRAPH_OPS.sub(o, self)
    def __rmul__(self, o): return GRAPH_OPS.mul(o, self)
    def __rtruediv__(self, o): return GRAPH_OPS.div(o, self)
    def __rpow__(self, o): return GRAPH_OPS.power(o, self)
    def __rmatmul__(self, o): return GRAPH_OPS.matmul(o, self)
    def __rmod__(self, o): return GRAPH_OPS.remainder(o, self)
    def __rfloordiv__(self, o): return GRAPH_OPS.floor_divide(o, self)  # piecewise constant: gradient 0
    def __divmod__(self, o): return GRAPH_OPS.floor_divide(self, o), GRAPH_OPS.remainder(self, o)
    def __rdivmod__(self, o): return GRAPH_OPS.floor_divide(o, self), GRAPH_OPS.remainder(o, self)
    def __pos__(self): return self

    # --- methods mirroring the functions in autograd_np.ops -----------------
    def sum(self, axis=None, keepdims=False): return GRAPH_OPS.sum(self, axis=axis, keepdims=keepdims)
    def mean(self, axis=None, keepdims=False): return GRAPH_OPS.mean(self, axis=axis, keepdims=keepdims)
    def max(self, axis=None, keepdims=False): return GRAPH_OPS.max(self, axis=axis, keepdims=keepdims)
    def min(self, axis=None, keepdims=False): return -GRAPH_OPS.max(-self, axis=axis, keepdims=keepdims)
    def reshape(self, *shape): return GRAPH_OPS.reshape(self, shape=shape[0] if len(shape) == 1 else shape)
    def transpose(self, *axes): return GRAPH_OPS.transpose(self, axes=axes[0] if len(axes) == 1 else (axes or None))
    def astype(self, dtype): return GRAPH_OPS.astype(self, dtype=dtype)
    def exp(self): return GRAPH_OPS.exp(self)
    def log(self): return GRAPH_OPS.log(self)
    def sqrt(self): return GRAPH_OPS.sqrt(self)
    def abs(self): return GRAPH_OPS.abs(self)
    def sigmoid(self): return GRAPH_OPS.sigmoid(self)
    def relu(self): return GRAPH_OPS.relu(self)
    def tanh(self): return GRAPH_OPS.tanh(self)
    def softmax(self, axis=-1): return GRAPH_OPS.softmax(self, axis=axis)
    def log_softmax(self, axis=-1): return GRAPH_OPS.log_softmax(self, axis=axis)
    def clip(self, lo, hi): return GRAPH_OPS.clip(self, lo=lo, hi=hi)
    def prod(self, axis=None, keepdims=False): return GRAPH_OPS.prod(self, axis=axis, keepdims=keepdims)
    def var(self, axis=None, ddof=0, keepdims=False): return GRAPH_OPS.var(self, axis=axis, ddof=ddof, keepdims=keepdims)
    def cumsum(self, axis=None): return GRAPH_OPS.cumsum(self, axis=axis)
    def ravel(self): return GRAPH_OPS.reshape(self, shape=(-1,))
    def flatten(self): return GRAPH_OPS.reshape(self, shape=(-1,))
    # composites: through NumPy's function, which dispatches to ours (numpy_api.py)
    def std(self, axis=None, ddof=0, keepdims=False): return np.std(self, axis=axis, ddof=ddof, keepdims=keepdims)
    def squeeze(self, axis=None): return np.squeeze(self, axis)
    def repeat(self, repeats, axis=None): return np.repeat(self, repeats, axis)
    def swapaxes(self, axis1, axis2): return np.swapaxes(self, axis1, axis2)
    def dot(self, b): return np.dot(self, b)
    def trace(self, offset=0, axis1=0, axis2=1): return np.trace(self, offset, axis1, axis2)
    def diagonal(self, offset=0, axis1=0, axis2=1): return np.diagonal(self, offset, axis1, axis2)
    def round(self, decimals=0): return np.round(self, decimals)
    # not differentiable: indices, as NumPy gives them
    def argmax(self, axis=None): return self.numpy().argmax(axis)  # (numpy(): a value read, for ag.compile)
    def argmin(self, axis=None): return self.numpy().argmin(axis)
