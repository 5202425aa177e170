"""PyTorch's version of every op of the table, for the boundary sweep's comparison
(imported only where torch is installed).  ``TORCH[name]`` takes the spec's
arguments, the differentiated ones as float64 tensors, and its keyword
arguments; a string instead says why there is no PyTorch counterpart."""
from __future__ import annotations


import numpy as np
import torch
from torch.nn import functional as F

__all__ = ["TORCH"]


def _dim(axis):
    return tuple(axis) if isinstance(axis, (tuple, list)) else axis


def _reduce(fn):
    """A torch reduction called NumPy's way: axis None (everything), an int or a tuple."""
    def call(x, axis=None, keepdims=False, **kwargs):
        if axis is None:
            axis = tuple(range(x.ndim))
        return fn(x, dim=_dim(axis), keepdim=keepdims, **kwargs) if x.ndim else fn(x, **kwargs)
    return call


def _clamp(x, lo=None, hi=None):
    return torch.clamp(x, lo, hi)


def _gelu(x, approximate="none"):
    return F.gelu(x, approximate=approximate)


def _round(x, decimals=0):
    return torch.round(x, decimals=decimals)


def _nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    return torch.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)


def _where(cond, a, b):
    return torch.where(torch.as_tensor(cond), a, b)


def _leaky(x, negative_slope=0.01):
    return F.leaky_relu(x, negative_slope)


TORCH = {
    "neg": torch.neg, "exp": torch.exp, "exp2": torch.exp2, "expm1": torch.expm1, "log": torch.log,
    "log2": torch.log2, "log10": torch.log10, "log1p": torch.log1p, "sqrt": torch.sqrt, "square": torch.square,
    "reciprocal": torch.reciprocal, "abs": torch.abs, "erf": torch.erf, "nan_to_num": _nan_to_num,
    "cbrt": "PyTorch has no cube root (x ** (1/3) is NaN for x < 0)",
    "add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div, "power": torch.pow,
    "maximum": torch.maximum, "minimum": torch.minimum, "fmax": torch.fmax, "fmin": torch.fmin,
    "logaddexp": torch.logaddexp, "logaddexp2": torch.logaddexp2, "where": _where, "clip": _clamp,
    "sign": torch.sign, "floor": torch.floor, "ceil": torch.ceil, "trunc": torch.trunc, "rint": torch.round,
    "round": _round, "remainder": torch.remainder, "fmod": torch.fmod,
    "floor_divide": "PyTorch does not differentiate floor_divide (ours: 0, piecewise constant)",
    "sin": torch.sin, "cos": torch.cos, "tan": torch.tan, "arcsin": torch.asin, "arccos": torch.acos,
    "arctan": torch.atan, "arctan2": torch.atan2, "hypot": torch.hypot, "sinh": torch.sinh, "cosh": torch.cosh,
    "arcsinh": torch.asinh, "arccosh": torch.acosh, "arctanh": torch.atanh, "deg2rad": torch.deg2rad,
    "rad2deg": torch.rad2deg,
    "sigmoid": torch.sigmoid, "relu": torch.relu, "tanh": torch.tanh, "softplus": F.softplus, "silu": F.silu,
    "leaky_relu": _leaky, "gelu": _gelu,
}


# --- reductions, softmax, losses, normalisation --------------------------------------

_amax, _amin = _reduce(torch.amax), _reduce(torch.amin)


def _prod(x, axis=None, keepdims=False):
    if axis is None:
        return torch.prod(x).reshape((1,) * x.ndim if keepdims else ())
    return torch.prod(x, dim=axis, keepdim=keepdims)


def _spread(fn):
    def call(x, axis=None, ddof=0, keepdims=False):
        return _reduce(fn)(x, axis, keepdims, correction=ddof)
    return call


def _cumulative(fn):
    def call(x, axis=None):
        return fn(x.reshape(-1), dim=0) if axis is None else fn(x, dim=axis)
    return call


def _logsumexp(x, axis=None, keepdims=False):
    return torch.logsumexp(x.reshape(-1), dim=0) if axis is None and not keepdims else \
        _reduce(torch.logsumexp)(x, axis, keepdims)


def _median(x, axis=None, keepdims=False):
    """NumPy's median (the mean of the two middle values for an even count): quantile 0.5."""
    if axis is None:
        return torch.quantile(x.reshape(-1), 0.5) if x.numel() else x.sum() * np.nan
    return torch.quantile(x, 0.5, dim=axis, keepdim=keepdims)


def _norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002
    if ord == "fro" or (isinstance(axis, tuple) and ord is None):
        return torch.linalg.matrix_norm(x, "fro", dim=axis or (-2, -1), keepdim=keepdims)
    if isinstance(axis, tuple) or (axis is None and x.ndim == 2 and ord is not None):
        return torch.linalg.matrix_norm(x, ord, dim=axis or (0, 1), keepdim=keepdims)
    return torch.linalg.vector_norm(x, 2 if ord is None else ord, dim=axis, keepdim=keepdims)


def _cross_entropy(x, t):
    classes = x.shape[-1]
    if t.dtype in (torch.int64, torch.int32):
        return F.cross_entropy(x.reshape(-1, classes), t.reshape(-1))
    return F.cross_entropy(x.reshape(-1, classes), t.reshape(-1, classes))


def _mse(y, t):
    n = y.shape[0] if y.ndim >= 2 else 1
    return 0.5 * ((y - t) ** 2).sum() / n if n else ((y - t) ** 2).mean()


def _layer_norm(x, weight, bias, axis=-1, eps=1e-5):
    return F.layer_norm(x, x.shape[-1:], weight, bias, eps)


def _batch_norm(x, gamma, beta, *, running_mean, running_var, momentum=0.9, eps=1e-5, training=True):
    return F.batch_norm(x, torch.tensor(running_mean), torch.tensor(running_var), gamma, beta, training,
                        1 - momentum, eps)


TORCH.update({
    "sum": _reduce(torch.sum), "mean": _reduce(torch.mean), "max": _amax, "min": _amin, "prod": _prod,
    "var": _spread(torch.var), "std": _spread(torch.std), "cumsum": _cumulative(torch.cumsum),
    "cumprod": _cumulative(torch.cumprod), "logsumexp": _logsumexp, "median": _median, "norm": _norm,
    "softmax": lambda x, axis=-1: F.softmax(x, dim=axis), "log_softmax": lambda x, axis=-1: F.log_softmax(x, dim=axis),
    "softmax_cross_entropy": _cross_entropy, "mean_squared_error": _mse, "layer_norm": _layer_norm,
    "batch_norm": _batch_norm, "embedding": lambda ids, w: F.embedding(ids, w),
    "dropout_mask": "a random mask (PyTorch draws from its own generator): its gradient is 0 by construction",
    "dropout": "a random mask (PyTorch draws from its own generator)",
})

from .torch_refs_arrays import ARRAY_REFS

TORCH.update(ARRAY_REFS)
