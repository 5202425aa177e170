"""Reordering and copying elements, composed from the shape ops (getitem,
transpose, reshape, concatenate, broadcast_to, index_add) and add: exact by
construction, recording only ops whose derivatives are tested.

Reordering (flip, fliplr, flipud, rot90, roll) and copies (repeat, tile, and
pad, whose border is a constant or copies of the input's elements)."""
import numpy as np
from numpy.lib.array_utils import normalize_axis_index, normalize_axis_tuple

from ._util import value
from .arithmetic import add
from .axes import _along, _shape, ravel
from .shape import broadcast_to, concatenate, getitem, index_add, reshape, transpose


# --- reordering ---------------------------------------------------------------------

def flip(m, axis=None):
    """Reverse the order of elements along axes, like ``np.flip``.

    Parameters
    ----------
    m : array_like or Tensor
        The input.
    axis : int, tuple of int or None, optional
        The axes reversed; None (default): every axis.

    Returns
    -------
    Tensor
        Of ``m``'s shape (a recorded ``getitem`` with negative steps).

    Notes
    -----
    Derivative: that of ``getitem``: the gradient reversed back.

    Examples
    --------
    >>> a = ag.Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    >>> ag.flip(a)
    Tensor([[4. 3.]
     [2. 1.]], dtype=float64, op=getitem)
    >>> ag.flip(a, axis=0)
    Tensor([[3. 4.]
     [1. 2.]], dtype=float64, op=getitem)
    """
    n = len(_shape(m))
    axes = range(n) if axis is None else normalize_axis_tuple(axis, n)
    return getitem(m, index=tuple(slice(None, None, -1) if i in axes else slice(None) for i in range(n)))


def fliplr(m):
    """Reverse the order along axis 1 (left/right), like ``np.fliplr``.

    Parameters
    ----------
    m : array_like or Tensor
        At least 2-d.

    Returns
    -------
    Tensor
        ``m[:, ::-1]`` (a recorded ``getitem``).

    Notes
    -----
    Derivative: that of ``getitem``: the gradient reversed back.

    Examples
    --------
    >>> a = ag.Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    >>> ag.fliplr(a)
    Tensor([[2. 1.]
     [4. 3.]], dtype=float64, op=getitem)
    """
    return flip(m, 1)


def flipud(m):
    """Reverse the order along axis 0 (up/down), like ``np.flipud``.

    Parameters
    ----------
    m : array_like or Tensor
        At least 1-d.

    Returns
    -------
    Tensor
        ``m[::-1]`` (a recorded ``getitem``).

    Notes
    -----
    Derivative: that of ``getitem``: the gradient reversed back.

    Examples
    --------
    >>> a = ag.Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    >>> ag.flipud(a)
    Tensor([[3. 4.]
     [1. 2.]], dtype=float64, op=getitem)
    """
    return flip(m, 0)


def rot90(m, k=1, axes=(0, 1)):
    """Rotate by 90 degrees ``k`` times in the plane of ``axes``, like ``np.rot90``.

    From the first axis towards the second (counterclockwise for a matrix as
    printed), by flips and a transpose.

    Parameters
    ----------
    m : array_like or Tensor
        At least 2-d.
    k : int, optional
        The number of rotations (default 1; negative: the other way).
    axes : (int, int), optional
        Two different axes (default ``(0, 1)``; a ValueError otherwise).

    Returns
    -------
    Tensor
        The rotated tensor.

    Notes
    -----
    Derivative: by the chain rule through the ops it is built from (getitem,
    transpose): the gradient rotated back.

    Examples
    --------
    >>> a = ag.Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    >>> y = ag.rot90(a)
    >>> y
    Tensor([[2. 4.]
     [1. 3.]], dtype=float64, op=transpose)
    >>> (y * np.array([[1.0, 0.0], [0.0, 0.0]])).sum().backward()
    >>> a.grad
    array([[0., 1.],
           [0., 0.]])
    """
    axes = tuple(axes)
    n = len(_shape(m))
    if len(axes) != 2 or normalize_axis_index(axes[0], n) == normalize_axis_index(axes[1], n):
        raise ValueError("rot90: axes must be two different axes")
    k %= 4
    if k == 0:
        return getitem(m, index=(Ellipsis,))
    if k == 2:
        return flip(flip(m, axes[0]), axes[1])
    order = list(range(n))
    order[axes[0]], order[axes[1]] = order[axes[1]], order[axes[0]]
    if k == 1:
        return transpose(flip(m, axes[1]), axes=tuple(order))
    return flip(transpose(m, axes=tuple(order)), axes[1])


def roll(a, shift, axis=None):
    """Elements shifted cyclically along axes, like ``np.roll``.

    Each shift is two slices joined along its axis; elements pushed past the end
    come back at the start.

    Parameters
    ----------
    a : array_like or Tensor
        The input.
    shift : int or tuple of int
        The shift (positive: towards higher indices), one per axis of ``axis`` or
        broadcast against it.
    axis : int, tuple of int or None, optional
        The axes; None (default): the flattened array, reshaped back.

    Returns
    -------
    Tensor
        Of ``a``'s shape.

    Notes
    -----
    Derivative: by the chain rule through the ops it is built from (getitem,
    concatenate, reshape): the gradient rolled back.

    Examples
    --------
    >>> a = ag.Tensor(np.array([1.0, 2.0, 3.0, 4.0]), requires_grad=True)
    >>> y = ag.roll(a, 1)
    >>> y
    Tensor([4. 1. 2. 3.], dtype=float64, op=reshape)
    >>> (y * np.array([1.0, 0.0, 0.0, 0.0])).sum().backward()
    >>> a.grad
    array([0., 0., 0., 1.])
    >>> ag.roll(np.arange(6.0).reshape(2, 3), (1, -1), axis=(0, 1))
    Tensor([[4. 5. 3.]
     [1. 2. 0.]], dtype=float64)
    """
    shape = _shape(a)
    if axis is None:
        return reshape(roll(ravel(a), shift, 0), shape=shape)
    totals = {}
    for s, ax in np.broadcast(shift, axis):
        ax = normalize_axis_index(int(ax), len(shape))
        totals[ax] = totals.get(ax, 0) + int(s)
    x = a
    for ax, s in totals.items():
        n = shape[ax]
        s = s % n if n else 0
        if s:
            x = concatenate([getitem(x, index=_along(ax, slice(n - s, None))),
                             getitem(x, index=_along(ax, slice(None, n - s)))], axis=ax)
    return x if x is not a else getitem(a, index=(Ellipsis,))


# --- copies -------------------------------------------------------------------------

def repeat(a, repeats, axis=None):
    """Each element repeated along an axis, like ``np.repeat``.

    One count is a broadcast, several counts a gather.

    Parameters
    ----------
    a : array_like or Tensor
        The input.
    repeats : int or array_like of int
        One count for every element, or one per element along ``axis``.
    axis : int or None, optional
        The axis; None (default): the flattened ``a``.

    Returns
    -------
    Tensor
        ``a`` with the axis lengthened.

    Notes
    -----
    Derivative: by the chain rule through the ops it is built from (reshape,
    broadcast_to, or getitem): each element gets the sum of its copies' gradients.

    Examples
    --------
    >>> a = ag.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    >>> y = ag.repeat(a, 3)
    >>> y
    Tensor([1. 1. 1. 2. 2. 2.], dtype=float64, op=reshape)
    >>> y.sum().backward()
    >>> a.grad
    array([3., 3.])
    >>> ag.repeat(np.array([[1.0, 2.0], [3.0, 4.0]]), [1, 2], axis=0)
    Tensor([[1. 2.]
     [3. 4.]
     [3. 4.]], dtype=float64)
    """
    if axis is None:
        a, axis = ravel(a), 0
    shape = _shape(a)
    ax = normalize_axis_index(axis, len(shape))
    counts = np.asarray(value(repeats))
    if counts.size == 1:
        r = int(counts.reshape(()))
        x = reshape(a, shape=shape[:ax + 1] + (1,) + shape[ax + 1:])
        x = broadcast_to(x, shape=shape[:ax + 1] + (r,) + shape[ax + 1:])
        return reshape(x, shape=shape[:ax] + (shape[ax] * r,) + shape[ax + 1:])
    return getitem(a, index=_along(ax, np.repeat(np.arange(shape[ax]), counts)))


def tile(A, reps):
    """Repeat ``A`` ``reps`` times along each axis, like ``np.tile``.

    One broadcast: ``A``'s shape and ``reps`` are padded with leading 1s to the
    same length.

    Parameters
    ----------
    A : array_like or Tensor
        The input.
    reps : int or sequence of int
        The number of copies along each axis.

    Returns
    -------
    Tensor
        Of shape ``reps * A.shape`` elementwise.

    Notes
    -----
    Derivative: by the chain rule through ``reshape`` and ``broadcast_to``: each
    element gets the sum of its copies' gradients.

    Examples
    --------
    >>> a = ag.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    >>> y = ag.tile(a, (2, 2))
    >>> y
    Tensor([[1. 2. 1. 2.]
     [1. 2. 1. 2.]], dtype=float64, op=reshape)
    >>> y.sum().backward()
    >>> a.grad
    array([4., 4.])
    """
    reps = (int(reps),) if np.ndim(reps) == 0 else tuple(int(r) for r in reps)
    shape = _shape(A)
    d = max(len(shape), len(reps))
    shape, reps = (1,) * (d - len(shape)) + shape, (1,) * (d - len(reps)) + reps
    x = reshape(A, shape=tuple(n for s in shape for n in (1, s)))
    x = broadcast_to(x, shape=tuple(n for r, s in zip(reps, shape) for n in (r, s)))
    return reshape(x, shape=tuple(r * s for r, s in zip(reps, shape)))


# --- pad ----------------------------------------------------------------------------

_INDEX_MODES = ("edge", "reflect", "symmetric", "wrap")


def pad(array, pad_width, mode="constant", **kwargs):
    """Pad a tensor, like ``np.pad``, in the modes whose result is made of its elements.

    "constant" (``constant_values``, default 0), "edge", "reflect" and "symmetric"
    (even reflections only) and "wrap". The other modes of NumPy are a ValueError,
    and so are a negative width and an odd ``reflect_type``.

    Parameters
    ----------
    array : array_like or Tensor
        The input.
    pad_width : int or sequence
        Widths before and after each axis: ``((before, after), ...)``, one pair for
        all axes, or one int for all.
    mode : str, optional
        "constant" (default), "edge", "reflect", "symmetric" or "wrap".
    **kwargs
        ``constant_values`` (mode "constant": one value, or per-axis pairs, as
        NumPy); ``reflect_type`` (only "even"); other keywords for the index modes
        go to ``np.pad``.

    Returns
    -------
    Tensor
        The padded tensor.

    Notes
    -----
    Derivative: by the chain rule through the ops it is built from (index_add and
    add for "constant": the padding's gradient is 0; getitem for the others: the
    gradient of a copied element adds up at its source).

    Examples
    --------
    >>> a = ag.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    >>> y = ag.pad(a, (1, 2), constant_values=9.0)
    >>> y
    Tensor([9. 1. 2. 3. 9. 9.], dtype=float64, op=add)
    >>> b = ag.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    >>> y = ag.pad(b, 2, mode="reflect")
    >>> y
    Tensor([3. 2. 1. 2. 3. 2. 1.], dtype=float64, op=getitem)
    >>> y.sum().backward()
    >>> b.grad
    array([2., 3., 2.])
    """
    shape = _shape(array)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (len(shape), 2))
    if np.any(widths < 0):
        raise ValueError("pad: index can't contain negative values")
    if mode == "constant":
        fill = kwargs.pop("constant_values", 0)
        if kwargs:
            raise TypeError(f"pad: unsupported keyword arguments for mode 'constant': {sorted(kwargs)}")
        out = index_add(array, index=tuple(slice(b, b + n) for (b, _), n in zip(widths, shape)),
                        shape=tuple(int(n + b + e) for (b, e), n in zip(widths, shape)))
        if np.any(np.asarray(value(fill)) != 0):
            out = add(out, np.pad(np.zeros(shape, out.dtype), widths, constant_values=value(fill)))
        return out
    if mode not in _INDEX_MODES:
        raise ValueError(f"pad: mode {mode!r} is not supported; the differentiable modes are 'constant', "
                         f"{', '.join(map(repr, _INDEX_MODES))}")
    if kwargs.get("reflect_type", "even") != "even":
        raise ValueError("pad: only reflect_type='even' is supported (an odd reflection is not a copy of elements)")
    source = np.pad(np.arange(int(np.prod(shape))).reshape(shape), widths, mode=mode, **kwargs)
    return getitem(ravel(array), index=source)
