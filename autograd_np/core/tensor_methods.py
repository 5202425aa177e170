"""``Tensor``'s NumPy-like methods, as a mixin: ``t.sum()``, ``t.reshape(2, 3)``,
``t.exp()``... and the reflected operators (``2 * t``).  Each forwards to its op
(``GRAPH_OPS``, which records) or, for a composite, to NumPy's function, which
dispatches to ours (``numpy_api.py``).  ``engine.Tensor`` holds the state.

PyTorch's names where they mean the same: ``view`` (a reshape), ``unsqueeze``,
``clone`` (a recorded copy), ``tolist``, ``dim``, ``to`` (a dtype; the CPU is the
only device); ``print(t)`` shows NumPy's full precision (``repr`` keeps 4 digits)."""
from __future__ import annotations

import numbers

import numpy as np

from . import modes as _modes
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

    # --- PyTorch's names -----------------------------------------------------
    def view(self, *shape):
        """``t.view(2, -1)`` or ``t.view((2, -1))``: PyTorch's name for a reshape (recorded;
        any layout is accepted, as ``reshape``: there is no stride to be incompatible with)."""
        dims = shape[0] if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        if not shape or not all(isinstance(d, (numbers.Integral, np.integer)) and not isinstance(d, (bool, np.bool_))
                               for d in dims):
            raise TypeError(f"Tensor.view: the shape must be integers (one may be -1), as view(2, -1) or "
                            f"view((2, -1)), got {shape!r:.60}")
        return GRAPH_OPS.reshape(self, shape=tuple(dims))

    def unsqueeze(self, dim):
        """A new axis of size 1 at ``dim`` (``-ndim - 1 <= dim <= ndim``), as ``torch.unsqueeze``."""
        if isinstance(dim, bool) or not isinstance(dim, numbers.Integral):
            raise TypeError(f"Tensor.unsqueeze: dim must be an integer, got {dim!r:.40}")
        if not -self.ndim - 1 <= dim <= self.ndim:
            raise IndexError(f"Tensor.unsqueeze: dim {dim} is out of range for a tensor of {self.ndim} "
                             f"dimension(s) (shape {self.shape}): use {-self.ndim - 1} to {self.ndim}")
        return np.expand_dims(self, int(dim) if dim >= 0 else int(dim) + self.ndim + 1)

    def clone(self):
        """A copy of the values, recorded (op ``copy``): gradients flow back to ``self``, as
        ``torch.clone``'s; ``detach()`` is the copy cut from the graph."""
        return GRAPH_OPS.copy(self)

    def tolist(self):
        """The values as (nested) Python lists, as ``ndarray.tolist``; a value read for ``ag.compile``."""
        if _modes.tracers:
            _modes.value_read(self, ".tolist()")
        return self._data.tolist()

    def dim(self):
        """The number of axes (``ndim``), PyTorch's name."""
        return self.ndim

    def to(self, *args, dtype=None, device=None, copy=False):
        """PyTorch's ``to``: ``t.to(np.float32)``, ``t.to("cpu")``, ``t.to("cpu", np.float64)``,
        ``t.to(other)`` (other's dtype), keywords ``dtype``, ``device``, ``copy``.

        A cast is recorded (op ``astype``); nothing to change returns ``self`` (a
        recorded copy with ``copy=True``), as PyTorch does.  NumPy computes on the CPU:
        another device (``"cuda"``) is refused, naming it."""
        if not isinstance(copy, (bool, np.bool_)):
            raise TypeError(f"Tensor.to: copy must be True or False, got {copy!r:.40}")
        for arg in args:
            if type(arg) is type(self):
                dtype = _one("dtype", dtype, arg.dtype)
            elif _is_device(arg):
                device = _one("device", device, arg)
            else:
                dtype = _one("dtype", dtype, arg)
        if device is not None and not _is_device(device, cpu_only=True):
            raise ValueError(f"Tensor.to: device {str(device)!r} is not available: autograd_np computes with "
                             "NumPy on the CPU ('cpu' is the only device)")
        if dtype is not None:
            try:
                dtype = np.dtype(dtype)
            except TypeError:
                raise TypeError(f"Tensor.to: {dtype!r:.60} is neither a dtype nor a device ('cpu')") from None
        out = self if dtype is None or dtype == self.dtype else GRAPH_OPS.astype(self, dtype=dtype)
        return GRAPH_OPS.copy(out) if copy and out is self else out

    def __str__(self):
        """``print(t)``: as ``repr`` but with the precision NumPy prints: a 0-d tensor (a
        loss) in full, as ``print(np.float64(x))`` (every digit that tells it apart), an
        array with ``np.set_printoptions``' precision (8 digits by default)."""
        if _modes.tracers:
            _modes.value_read(self, "str()")
        text, short = repr(self), "Tensor(" + np.array2string(self._data, precision=4, threshold=20)
        if not text.startswith(short):  # (repr's layout changed: keep it rather than guess)
            return text
        data = self._data
        full = str(data[()]) if data.ndim == 0 else np.array2string(data, threshold=20)
        return "Tensor(" + full + text[len(short):]


def _is_device(value, cpu_only=False):
    """A device as PyTorch names one: a string (or an object whose ``str`` is one) such as 'cpu' or 'cuda:0'."""
    text = value if isinstance(value, str) else str(value) if type(value).__name__ == "device" else None
    if text is None:
        return False
    kind = text.split(":", 1)[0]
    return kind == "cpu" if cpu_only else kind in ("cpu", "cuda", "mps", "xpu", "meta", "hip", "xla", "ipu")


def _one(what, given, new):
    if given is not None:
        raise TypeError(f"Tensor.to: {what} given twice ({given!r:.40} and {new!r:.40})")
    return new
