"""Reductions: sum, mean, max (and min, composed from max)."""
import numpy as np

from ..recording import defop
from ._util import expand_reduced, normalize_axes, value


def _count(shape, axis):
    return int(np.prod([shape[a] for a in normalize_axes(axis, len(shape))]))


@defop("sum", "y = sum(x, axis);  gx = broadcast(gy)")
def sum(x, axis=None, keepdims=False):
    """Sum over ``axis`` (None: all), like ``np.sum``."""
    return np.sum(x, axis=axis, keepdims=keepdims)


@sum.defvjp
def _sum_vjp(F, gy, y, x, axis=None, keepdims=False):
    return expand_reduced(F, gy, np.shape(value(x)), axis, keepdims)


@defop("mean", "y = mean(x, axis);  gx = broadcast(gy) / n")
def mean(x, axis=None, keepdims=False):
    """Mean over ``axis`` (None: all), like ``np.mean``."""
    return np.mean(x, axis=axis, keepdims=keepdims)


@mean.defvjp
def _mean_vjp(F, gy, y, x, axis=None, keepdims=False):
    shape = np.shape(value(x))
    return expand_reduced(F, gy / _count(shape, axis), shape, axis, keepdims)


@defop("max", "y = max(x, axis);  gx = broadcast(gy) where x == y, shared equally by ties")
def max(x, axis=None, keepdims=False):
    """Maximum over ``axis`` (None: all), like ``np.max``."""
    return np.max(x, axis=axis, keepdims=keepdims)


@max.defvjp
def _max_vjp(F, gy, y, x, axis=None, keepdims=False):
    xv, yv = value(x), value(y)
    if not keepdims:
        yv = np.expand_dims(yv, normalize_axes(axis, xv.ndim))
    mask = xv == yv
    share = mask / mask.sum(axis=axis, keepdims=True)  # a constant of the derivative
    return expand_reduced(F, gy, xv.shape, axis, keepdims) * share.astype(xv.dtype, copy=False)


def min(x, axis=None, keepdims=False):
    """Minimum over ``axis``: ``-max(-x)``."""
    from .arithmetic import neg
    return neg(max(neg(x), axis=axis, keepdims=keepdims))
