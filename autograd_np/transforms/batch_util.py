"""Helpers of the batching rules (``batching*.py``): one example's number of axes,
lining a batch up with examples of another rank, axes of an example as axes of
the batch."""
from __future__ import annotations

import numpy as np

from ..core import Tensor
from ..core.errors import ShapeError
from ..core.registry import GRAPH_OPS as F

__all__ = ["ndim", "lift", "broadcast_batch", "shift_axis", "shift_axes", "arg", "same"]


def ndim(v, batched=False):
    """One example's number of axes of an argument (``v`` batched: one axis fewer)."""
    if isinstance(v, (Tensor, np.ndarray)):
        n = v.ndim
    else:  # a number or a nested list; anything else (a dtype, None) has no axes
        n = np.ndim(v) if isinstance(v, (int, float, complex, np.generic, list)) else 0
    return n - 1 if batched else n


def lift(v, batched, rank):
    """A batched ``v`` with size-1 axes after the batch axis, up to ``rank`` axes per
    example, so that it broadcasts as one example of that rank would; others as they are."""
    if not batched or ndim(v, True) >= rank:
        return v
    shape = tuple(v.shape)
    return F.reshape(v, shape=shape[:1] + (1,) * (rank - len(shape) + 1) + shape[1:])


def broadcast_batch(v, size):
    """An unbatched ``v`` repeated along a new first axis of ``size``."""
    return F.broadcast_to(v, shape=(size,) + tuple(np.shape(v.data if type(v) is Tensor else v)))


def shift_axis(axis, n, op):
    """One example's ``axis`` (of ``n`` axes) on the batch: checked, non-negative, + 1."""
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"{op}: axis must be an int, got {axis!r}")
    if not -n <= axis < max(n, 1):
        raise ShapeError(f"{op}: axis {axis} is out of bounds for an array of dimension {n}")
    return int(axis) % max(n, 1) + 1


def shift_axes(axis, n, op):
    """``axis`` (None, an int or a tuple) of one example as axes of the batch (None: all of the example's)."""
    if axis is None:
        return tuple(range(1, n + 1))
    if isinstance(axis, (tuple, list)):
        return tuple(shift_axis(a, n, op) for a in axis)
    return shift_axis(axis, n, op)


def arg(values, params, k, name):
    """An op's argument ``k`` called ``name``: positional, or a keyword parameter."""
    return values[k] if len(values) > k else params[name]


def same(name):
    """The op itself on the batch: ops on stacks of matrices (inv, det, eigh...), whose
    leading axes are a stack already."""
    def rule(values, batched, params, size):
        op = getattr(F, name)  # (looked up late: the ops register after this module loads)
        return op(*values, **params)
    return rule
