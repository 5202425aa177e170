"""``vmap(f, in_axes=0, out_axes=0)``: ``f`` written for one example, run once on a
whole batch.  Each op ``f`` applies to a batched tensor runs its batching rule
(``batching.py``) on the whole batch; see ``levels.py`` for how."""
from __future__ import annotations

import numpy as np

from ..core import Tensor
from ..core.registry import GRAPH_OPS
from . import batching, batching_linalg, batching_nn  # noqa: F401  (they register the batching rules)
from .arguments import arrays_only, describe, give
from .levels import VmapError, at, current, open_level
from .pytrees import argument_name, broadcast_prefix, flatten, path_name, unflatten

__all__ = ["vmap"]


def vmap(f, in_axes=0, out_axes=0):
    """``f`` mapped over a batch axis of its arguments, in one call.

    Parameters
    ----------
    f : callable
        A function of one example: tensors or arrays in, tensors or arrays out (in
        tuples, lists and dicts).
    in_axes : int, None, or a tuple with one entry per positional argument
        The batch axis of each argument (None: not batched, the same for every
        example); an entry may itself be a tuple, list or dict matching the
        argument's structure.  Negative axes count from the end.
    out_axes : int, None, or a structure like f's output
        Where the batch axis goes in each output (None: an output that is the same
        for every example, returned once).

    Returns
    -------
    callable
        ``vmap(f)(*args)``: ``f``'s outputs with the batch axis at ``out_axes``.
        Arrays for array arguments, tensors when a tensor was passed (then
        differentiable, as a Python loop would be).

    Examples
    --------
    >>> ag.vmap(lambda row: ag.sum(row * row))(np.array([[1.0, 2.0], [3.0, 4.0]]))
    array([ 5., 25.])
    >>> ag.vmap(lambda x, w: x @ w, in_axes=(0, None))(np.ones((3, 2)), np.eye(2)).shape
    (3, 2)
    """
    if not callable(f):
        raise TypeError(f"vmap: f must be a function, got {describe(f)}")

    def batched(*args, **kwargs):
        if kwargs:
            raise TypeError("vmap: pass f's arguments by position (in_axes names them by position)")
        flat, tree = flatten(args)
        axes = broadcast_prefix(tuple(in_axes) if type(in_axes) is list else in_axes, args, "vmap: in_axes")
        names = [argument_name(tree, k) for k in range(len(flat))]
        size = _batch_size(flat, axes, names)
        parent = current()
        with open_level(size) as level:
            inside = [x if a is None else level.stand_in(_batch_first(x, a)) for x, a in zip(flat, axes)]
            with at(level):
                result = f(*unflatten(tree, inside))
            outs, out_tree = flatten(result)
            where = broadcast_prefix(out_axes, result, "vmap: out_axes")
            shadows = [_leave(level, o, a, name) for o, a, name in
                       zip(outs, where, [path_name(out_tree, k, "output") for k in range(len(outs))])]
        with at(parent):
            final = [_place(s, a) for s, a in zip(shadows, where)]
        arrays = arrays_only(args)
        return unflatten(out_tree, [give(v, arrays) for v in final])

    batched.__name__ = f"vmap({getattr(f, '__name__', 'f')})"
    return batched


def _axis(x, axis, name, what):
    """``axis`` of leaf ``x`` as a non-negative int, checked."""
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise VmapError(f"vmap: {what} for {name} must be an int or None, got {axis!r}")
    if not isinstance(x, (np.ndarray, Tensor)):
        raise VmapError(f"vmap: {what} says {name} is batched along axis {axis}, but it is {describe(x)}, which has "
                        "no axes; give it None")
    ndim = x.ndim
    if not -ndim <= axis < ndim:
        raise VmapError(f"vmap: {what} says {name} is batched along axis {axis}, but it is {describe(x)}, which "
                        f"has {ndim} axes")
    return int(axis) % ndim


def _batch_size(flat, axes, names):
    sizes = []
    for x, a, name in zip(flat, axes, names):
        if a is not None:
            axis = _axis(x, a, name, "in_axes")
            sizes.append((name, x.shape[axis], a, x))
    if not sizes:
        raise VmapError("vmap: in_axes batch no argument (every entry is None): there is nothing to map over")
    if len({n for _, n, _, _ in sizes}) > 1:
        said = "; ".join(f"{name} has {n} (axis {a} of {describe(x)})" for name, n, a, x in sizes)
        raise VmapError(f"vmap: the batched arguments have different sizes along their in_axes: {said}")
    return sizes[0][1]


def _batch_first(x, axis):
    """``x`` with its batch axis first (a value of the level below)."""
    axis = _axis(x, axis, "", "in_axes")
    if axis == 0:
        return x
    if type(x) is Tensor:
        return GRAPH_OPS.transpose(x, axes=(axis,) + tuple(i for i in range(x.ndim) if i != axis))
    return np.moveaxis(x, axis, 0)


def _leave(level, out, axis, name):
    """An output of f, at the level below: a batch (batch axis first), or None's value."""
    if level.owns(out):
        if axis is None:
            raise VmapError(f"vmap: out_axes gives None for {name}, but it is batched (it depends on a batched "
                            "argument); give it an axis")
        return out._data.shadow
    if axis is None:
        return out
    if not isinstance(out, (Tensor, np.ndarray, int, float, np.generic)) or isinstance(out, bool):
        raise VmapError(f"vmap: {name} of f is {describe(out)}; f must return tensors or arrays")
    return level.materialize(out)


def _place(shadow, axis):
    """The batch axis (first) moved to ``axis`` of the output."""
    if axis is None:
        return shadow
    ndim = shadow.ndim
    axis = _axis(shadow, axis, "the output", "out_axes")
    if axis == 0:
        return shadow
    order = list(range(1, ndim))
    order.insert(axis, 0)
    return GRAPH_OPS.transpose(shadow, axes=tuple(order))
