"""Layout, composed from the shape ops (reshape, transpose, getitem,
index_add, concatenate, stack, broadcast_to) and where: every function here is
exact by construction and records only ops whose derivatives are tested.

Flattening and axes (ravel, squeeze, expand_dims, atleast_*d, moveaxis,
swapaxes), reordering (flip, rot90, roll, sort, partition), copies (repeat,
tile), joining and splitting (hstack, vstack, dstack, column_stack, append,
split, array_split, hsplit, vsplit), gathering (take, take_along_axis),
pad, diff, matrix parts (diagonal, diag, tril, triu), and building tensors
(array, linspace, broadcast_arrays)."""
import numpy as np
from numpy.lib.array_utils import normalize_axis_index, normalize_axis_tuple

from ..core import Tensor
from ._util import value
from .arithmetic import add, mul, sub
from .elementwise import where
from .shape import astype, broadcast_to, concatenate, getitem, index_add, reshape, stack, transpose


def _shape(x):
    return np.shape(value(x))


def _along(axis, item):
    """An index that applies ``item`` to ``axis`` and takes everything else."""
    return (slice(None),) * axis + (item,)


# --- flattening and axes ------------------------------------------------------------

def ravel(a):
    """The elements of ``a`` as a 1-d tensor, like ``np.ravel`` (also ``ag.flatten``).

    In C (row-major) order.

    Parameters
    ----------
    a : array_like or Tensor
        The input.

    Returns
    -------
    Tensor
        Of shape ``(a.size,)`` (a recorded ``reshape``).

    Notes
    -----
    Derivative: that of ``reshape``: the gradient reshaped back to ``a``'s shape.

    Examples
    --------
    >>> a = ag.Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    >>> y = ag.ravel(a)
    >>> y
    Tensor([1. 2. 3. 4.], dtype=float64, op=reshape)
    >>> (y * np.array([1.0, 2.0, 3.0, 4.0])).sum().backward()
    >>> a.grad
    array([[1., 2.],
           [3., 4.]])
    """
    return reshape(a, shape=(-1,))


flatten = ravel


def squeeze(a, axis=None):
    """Remove size-1 axes, like ``np.squeeze``.

    Parameters
    ----------
    a : array_like or Tensor
        The input.
    axis : int, tuple of int or None, optional
        Only these axes, which must have size 1 (a ValueError otherwise); None
        (default): every size-1 axis.

    Returns
    -------
    Tensor
        The same elements with fewer axes (a recorded ``reshape``).

    Notes
    -----
    Derivative: that of ``reshape``: the gradient reshaped back.

    Examples
    --------
    >>> a = ag.Tensor(np.ones((1, 3, 1)), requires_grad=True)
    >>> ag.squeeze(a).shape, ag.squeeze(a, axis=0).shape
    ((3,), (3, 1))
    """
    return reshape(a, shape=np.squeeze(np.asarray(value(a)), axis).shape)


def expand_dims(a, axis):
    """Insert new size-1 axes, like ``np.expand_dims``.

    Parameters
    ----------
    a : array_like or Tensor
        The input.
    axis : int or tuple of int
        The positions of the new axes in the result.

    Returns
    -------
    Tensor
        The same elements with more axes (a recorded ``reshape``).

    Notes
    -----
    Derivative: that of ``reshape``: the gradient reshaped back.

    Examples
    --------
    >>> a = ag.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    >>> ag.expand_dims(a, 1)
    Tensor([[1.]
     [2.]], dtype=float64, op=reshape)
    >>> ag.expand_dims(a, (0, 2)).shape
    (1, 2, 1)
    """
    return reshape(a, shape=np.expand_dims(np.asarray(value(a)), axis).shape)


def _atleast(arys, shape_of):
    out = [reshape(a, shape=shape_of(_shape(a))) for a in arys]
    return out[0] if len(out) == 1 else out


def atleast_1d(*arys):
    """Each input with at least one axis, like ``np.atleast_1d``.

    A scalar becomes shape ``(1,)``; inputs with axes are unchanged.

    Parameters
    ----------
    *arys : array_like or Tensor
        The inputs.

    Returns
    -------
    Tensor or list of Tensor
        One tensor for one input, a list for several.

    Notes
    -----
    Derivative: that of ``reshape``, through which each input goes.

    Examples
    --------
    >>> ag.atleast_1d(ag.Tensor(np.float64(5.0)))
    Tensor([5.], dtype=float64)
    >>> ag.atleast_1d(1.0, np.ones(2))
    [Tensor([1.], dtype=float64), Tensor([1. 1.], dtype=float64)]
    """
    return _atleast(arys, lambda s: s or (1,))


def atleast_2d(*arys):
    """Each input with at least two axes, like ``np.atleast_2d``.

    A vector ``(n,)`` becomes ``(1, n)``, a scalar ``(1, 1)``.

    Parameters
    ----------
    *arys : array_like or Tensor
        The inputs.

    Returns
    -------
    Tensor or list of Tensor
        One tensor for one input, a list for several.

    Notes
    -----
    Derivative: that of ``reshape``, through which each input goes.

    Examples
    --------
    >>> ag.atleast_2d(np.array([1.0, 2.0]))
    Tensor([[1. 2.]], dtype=float64)
    """
    return _atleast(arys, lambda s: s if len(s) >= 2 else (1,) * (2 - len(s)) + s)


def atleast_3d(*arys):
    """Each input with at least three axes, like ``np.atleast_3d``.

    ``(n,)`` becomes ``(1, n, 1)``, ``(m, n)`` becomes ``(m, n, 1)``, a scalar
    ``(1, 1, 1)``.

    Parameters
    ----------
    *arys : array_like or Tensor
        The inputs.

    Returns
    -------
    Tensor or list of Tensor
        One tensor for one input, a list for several.

    Notes
    -----
    Derivative: that of ``reshape``, through which each input goes.

    Examples
    --------
    >>> ag.atleast_3d(np.ones(2)).shape, ag.atleast_3d(np.ones((2, 3))).shape
    ((1, 2, 1), (2, 3, 1))
    """
    return _atleast(arys, lambda s: {0: (1, 1, 1), 1: (1,) + s + (1,), 2: s + (1,)}.get(len(s), s))


def moveaxis(a, source, destination):
    """Move axes to new positions, like ``np.moveaxis``.

    The other axes keep their order.

    Parameters
    ----------
    a : array_like or Tensor
        The input.
    source : int or sequence of int
        The axes to move.
    destination : int or sequence of int
        Their positions in the result, as many as ``source`` (a ValueError
        otherwise).

    Returns
    -------
    Tensor
        A recorded ``transpose`` of ``a``.

    Notes
    -----
    Derivative: that of ``transpose``: the gradient transposed back.

    Examples
    --------
    >>> a = ag.Tensor(np.zeros((2, 3, 4)), requires_grad=True)
    >>> ag.moveaxis(a, 0, -1).shape, ag.moveaxis(a, [0, 1], [-1, -2]).shape
    ((3, 4, 2), (4, 3, 2))
    """
    n = len(_shape(a))
    source, destination = normalize_axis_tuple(source, n, "source"), normalize_axis_tuple(destination, n, "destination")
    if len(source) != len(destination):
        raise ValueError("moveaxis: `source` and `destination` need the same number of elements")
    order = [i for i in range(n) if i not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    return transpose(a, axes=tuple(order))


def swapaxes(a, axis1, axis2):
    """Interchange two axes, like ``np.swapaxes``.

    Parameters
    ----------
    a : array_like or Tensor
        The input.
    axis1 : int
        The first axis.
    axis2 : int
        The second axis.

    Returns
    -------
    Tensor
        A recorded ``transpose`` of ``a``.

    Notes
    -----
    Derivative: that of ``transpose``: the gradient transposed back.

    Examples
    --------
    >>> a = ag.Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    >>> y = ag.swapaxes(a, 0, 1)
    >>> y
    Tensor([[1. 3.]
     [2. 4.]], dtype=float64, op=transpose)
    >>> (y * np.array([[0.0, 1.0], [0.0, 0.0]])).sum().backward()
    >>> a.grad
    array([[0., 0.],
           [1., 0.]])
    """
    n = len(_shape(a))
    order = list(range(n))
    i, j = normalize_axis_index(axis1, n), normalize_axis_index(axis2, n)
    order[i], order[j] = order[j], order[i]
    return transpose(a, axes=tuple(order))


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


def take_along_axis(arr, indices, axis):
    """Gather elements at ``indices`` along an axis, like ``np.take_along_axis``.

    Parameters
    ----------
    arr : array_like or Tensor
        The input.
    indices : array_like of int
        Of ``arr``'s number of axes, broadcast against it off ``axis`` (a constant:
        no gradient reaches it), e.g. from ``np.argsort``.
    axis : int or None
        The axis gathered along; None: the flattened ``arr``.

    Returns
    -------
    Tensor
        The gathered elements (a recorded ``getitem``).

    Notes
    -----
    Derivative: that of ``getitem``: each element's gradient is the sum of the
    gradients of its copies.

    Examples
    --------
    >>> a = ag.Tensor(np.array([[3.0, 1.0], [2.0, 5.0]]), requires_grad=True)
    >>> y = ag.take_along_axis(a, np.array([[1], [0]]), axis=1)
    >>> y
    Tensor([[1.]
     [2.]], dtype=float64, op=getitem)
    >>> y.sum().backward()
    >>> a.grad
    array([[0., 1.],
           [1., 0.]])
    """
    indices = np.asarray(value(indices))
    if axis is None:
        arr, axis = ravel(arr), 0
    shape = _shape(arr)
    ax = normalize_axis_index(axis, len(shape))
    index = tuple(indices if i == ax else np.arange(n).reshape([-1 if j == i else 1 for j in range(len(shape))])
                  for i, n in enumerate(shape))
    return getitem(arr, index=index)


def sort(a, axis=-1):
    """Sort along an axis, like ``np.sort``.

    A stable sort: ties keep their order.

    Parameters
    ----------
    a : array_like or Tensor
        The input.
    axis : int or None, optional
        The axis sorted along (default -1, the last); None: the flattened ``a``.

    Returns
    -------
    Tensor
        The sorted values (a recorded ``getitem`` at the stable argsort).

    Notes
    -----
    Derivative: that of ``getitem``: the gradient follows each element to its
    place; a tie's gradient goes to the element that sorted there.

    Examples
    --------
    >>> a = ag.Tensor(np.array([3.0, 1.0, 2.0, 1.0]), requires_grad=True)
    >>> y = ag.sort(a)
    >>> y
    Tensor([1. 1. 2. 3.], dtype=float64, op=getitem)
    >>> (y * np.array([1.0, 2.0, 3.0, 4.0])).sum().backward()
    >>> a.grad
    array([4., 1., 3., 2.])
    """
    if axis is None:
        a, axis = ravel(a), 0
    return take_along_axis(a, np.argsort(np.asarray(value(a)), axis=axis, kind="stable"), axis)


def partition(a, kth, axis=-1):
    """Partly sort so that position ``kth`` holds its sorted element, like ``np.partition``.

    Position ``kth`` holds the element a full sort puts there, the elements
    before it are no greater and those after it no smaller, each side in no
    particular order.

    Parameters
    ----------
    a : array_like or Tensor
        The input.
    kth : int or sequence of int
        The position(s) put in sorted place.
    axis : int or None, optional
        The axis (default -1, the last); None: the flattened ``a``.

    Returns
    -------
    Tensor
        Of ``a``'s shape (a recorded ``getitem`` at ``np.argpartition``).

    Notes
    -----
    Derivative: that of ``getitem``: the gradient follows each element to its
    place.

    Examples
    --------
    >>> a = ag.Tensor(np.array([3.0, 4.0, 2.0, 1.0]), requires_grad=True)
    >>> y = ag.partition(a, 1)
    >>> y[1]
    Tensor(2., dtype=float64, op=getitem)
    >>> y[1].backward()
    >>> a.grad
    array([0., 0., 1., 0.])
    """
    if axis is None:
        a, axis = ravel(a), 0
    return take_along_axis(a, np.argpartition(np.asarray(value(a)), kth, axis=axis), axis)


def take(a, indices, axis=None):
    """Elements at ``indices`` along an axis, like ``np.take``.

    Parameters
    ----------
    a : array_like or Tensor
        The input.
    indices : array_like of int
        The positions, of any shape (a constant: no gradient reaches it).
    axis : int or None, optional
        The axis taken along; None (default): the flattened ``a``.

    Returns
    -------
    Tensor
        The elements (a recorded ``getitem``).

    Notes
    -----
    Derivative: that of ``getitem``: an element taken several times gets the sum
    of their gradients.

    Examples
    --------
    >>> a = ag.Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    >>> y = ag.take(a, [3, 0, 3])
    >>> y
    Tensor([4. 1. 4.], dtype=float64, op=getitem)
    >>> y.sum().backward()
    >>> a.grad
    array([[1., 0.],
           [0., 2.]])
    >>> ag.take(a, [1], axis=1)
    Tensor([[2.]
     [4.]], dtype=float64, op=getitem)
    """
    indices = np.asarray(value(indices))
    if axis is None:
        return getitem(ravel(a), index=indices)
    return getitem(a, index=_along(normalize_axis_index(axis, len(_shape(a))), indices))


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


# --- joining and splitting ----------------------------------------------------------

def _listed(x):
    return x if isinstance(x, list) else [x]


def hstack(tup):
    """Join tensors horizontally, like ``np.hstack``.

    Along axis 1, or axis 0 when the inputs are vectors (scalars become vectors
    first).

    Parameters
    ----------
    tup : sequence of array_like or Tensor
        The inputs, of the same shape off the joining axis.

    Returns
    -------
    Tensor
        The joined tensor (a recorded ``concatenate``).

    Notes
    -----
    Derivative: that of ``concatenate``: each input gets its slice of the gradient.

    Examples
    --------
    >>> a = ag.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    >>> y = ag.hstack([a, np.array([3.0])])
    >>> y
    Tensor([1. 2. 3.], dtype=float64, op=concatenate)
    >>> y.sum().backward()
    >>> a.grad
    array([1., 1.])
    >>> ag.hstack([np.ones((2, 1)), np.zeros((2, 2))])
    Tensor([[1. 0. 0.]
     [1. 0. 0.]], dtype=float64)
    """
    arrs = _listed(atleast_1d(*tup))
    return concatenate(arrs, axis=0 if arrs and arrs[0].ndim == 1 else 1)


def vstack(tup):
    """Join tensors vertically, like ``np.vstack``.

    Along axis 0, after making every input at least 2-d (a vector ``(n,)`` is a
    row ``(1, n)``).

    Parameters
    ----------
    tup : sequence of array_like or Tensor
        The inputs, of the same shape off axis 0.

    Returns
    -------
    Tensor
        The joined tensor, at least 2-d (a recorded ``concatenate``).

    Notes
    -----
    Derivative: that of ``concatenate`` (and ``reshape``): each input gets its
    slice of the gradient.

    Examples
    --------
    >>> a = ag.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    >>> y = ag.vstack([a, np.array([3.0, 4.0])])
    >>> y
    Tensor([[1. 2.]
     [3. 4.]], dtype=float64, op=concatenate)
    >>> (y * np.array([[1.0, 2.0], [0.0, 0.0]])).sum().backward()
    >>> a.grad
    array([1., 2.])
    """
    return concatenate(_listed(atleast_2d(*tup)), axis=0)


def dstack(tup):
    """Join tensors depth-wise, like ``np.dstack``.

    Along axis 2, after making every input at least 3-d (``(n,)`` is
    ``(1, n, 1)``, ``(m, n)`` is ``(m, n, 1)``).

    Parameters
    ----------
    tup : sequence of array_like or Tensor
        The inputs, of the same shape off axis 2.

    Returns
    -------
    Tensor
        The joined tensor, at least 3-d (a recorded ``concatenate``).

    Notes
    -----
    Derivative: that of ``concatenate`` (and ``reshape``): each input gets its
    slice of the gradient.

    Examples
    --------
    >>> y = ag.dstack([np.array([1.0, 2.0]), np.array([3.0, 4.0])])
    >>> y.shape
    (1, 2, 2)
    >>> y[0]
    Tensor([[1. 3.]
     [2. 4.]], dtype=float64)
    """
    return concatenate(_listed(atleast_3d(*tup)), axis=2)


def column_stack(tup):
    """Join vectors as columns, like ``np.column_stack``.

    Vectors (and scalars) become columns ``(n, 1)``; 2-d inputs are joined as they
    are, along axis 1.

    Parameters
    ----------
    tup : sequence of array_like or Tensor
        The inputs, with the same number of rows.

    Returns
    -------
    Tensor
        A matrix (a recorded ``concatenate``).

    Notes
    -----
    Derivative: that of ``concatenate`` (and ``reshape``): each input gets its
    column(s) of the gradient.

    Examples
    --------
    >>> a = ag.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    >>> y = ag.column_stack([a, np.array([3.0, 4.0])])
    >>> y
    Tensor([[1. 3.]
     [2. 4.]], dtype=float64, op=concatenate)
    >>> (y * np.array([[1.0, 0.0], [2.0, 0.0]])).sum().backward()
    >>> a.grad
    array([1., 2.])
    """
    cols = [reshape(a, shape=(-1, 1)) if len(_shape(a)) < 2 else a for a in tup]
    return concatenate(cols, axis=1)


def append(arr, values, axis=None):
    """Values appended after ``arr`` along an axis, like ``np.append``.

    Parameters
    ----------
    arr : array_like or Tensor
        The first part.
    values : array_like or Tensor
        The part appended: of ``arr``'s shape off ``axis`` when an axis is given.
    axis : int or None, optional
        The axis; None (default): both are flattened first.

    Returns
    -------
    Tensor
        The joined tensor (a recorded ``concatenate``).

    Notes
    -----
    Derivative: that of ``concatenate`` (and ``reshape``): each part gets its slice
    of the gradient.

    Examples
    --------
    >>> a = ag.Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    >>> y = ag.append(a, [5.0, 6.0])
    >>> y
    Tensor([1. 2. 3. 4. 5. 6.], dtype=float64, op=concatenate)
    >>> y.sum().backward()
    >>> a.grad
    array([[1., 1.],
           [1., 1.]])
    >>> ag.append(a, [[5.0, 6.0]], axis=0)
    Tensor([[1. 2.]
     [3. 4.]
     [5. 6.]], dtype=float64, op=concatenate)
    """
    if axis is None:
        return concatenate([ravel(arr), ravel(values)], axis=0)
    return concatenate([arr, values], axis=axis)


def array_split(ary, indices_or_sections, axis=0):
    """Split into parts along an axis, like ``np.array_split``.

    ``n`` parts as equal as can be (the first ones one longer), or cuts at the
    given indices.

    Parameters
    ----------
    ary : array_like or Tensor
        The input.
    indices_or_sections : int or sequence of int
        The number of parts (at least 1; a ValueError otherwise), or the sorted
        indices where the axis is cut.
    axis : int, optional
        The axis (default 0).

    Returns
    -------
    list of Tensor
        The parts (recorded ``getitem`` slices).

    Notes
    -----
    Derivative: that of ``getitem``: each part's gradient lands on its slice, the
    parts no loss uses contributing 0.

    Examples
    --------
    >>> a = ag.Tensor(np.arange(5.0), requires_grad=True)
    >>> parts = ag.array_split(a, 3)
    >>> parts
    [Tensor([0. 1.], dtype=float64, op=getitem), Tensor([2. 3.], dtype=float64, op=getitem),
     Tensor([4.], dtype=float64, op=getitem)]
    >>> (parts[0].sum() * 2.0).backward()
    >>> a.grad
    array([2., 2., 0., 0., 0.])
    >>> ag.array_split(np.arange(5.0), [1, 3])
    [Tensor([0.], dtype=float64), Tensor([1. 2.], dtype=float64), Tensor([3. 4.], dtype=float64)]
    """
    shape = _shape(ary)
    ax = normalize_axis_index(axis, len(shape))
    n = shape[ax]
    if np.ndim(indices_or_sections) == 0:
        parts = int(indices_or_sections)
        if parts <= 0:
            raise ValueError("array_split: the number of sections must be larger than 0")
        each, extra = divmod(n, parts)
        bounds = np.cumsum([0] + [each + 1] * extra + [each] * (parts - extra)).tolist()
    else:
        bounds = [0] + [int(i) for i in indices_or_sections] + [n]
    return [getitem(ary, index=_along(ax, slice(start, stop))) for start, stop in zip(bounds[:-1], bounds[1:])]


def split(ary, indices_or_sections, axis=0):
    """Split into equal parts or at indices, like ``np.split``.

    As ``array_split``, but a number of parts must divide the axis equally (a
    ValueError otherwise).

    Parameters
    ----------
    ary : array_like or Tensor
        The input.
    indices_or_sections : int or sequence of int
        The number of equal parts, or the sorted indices where the axis is cut.
    axis : int, optional
        The axis (default 0).

    Returns
    -------
    list of Tensor
        The parts (recorded ``getitem`` slices).

    Notes
    -----
    Derivative: that of ``getitem``: each part's gradient lands on its slice.

    Examples
    --------
    >>> a = ag.Tensor(np.arange(4.0), requires_grad=True)
    >>> first, second = ag.split(a, 2)
    >>> first, second
    (Tensor([0. 1.], dtype=float64, op=getitem), Tensor([2. 3.], dtype=float64, op=getitem))
    >>> second.sum().backward()
    >>> a.grad
    array([0., 0., 1., 1.])
    """
    if np.ndim(indices_or_sections) == 0:
        n = _shape(ary)[normalize_axis_index(axis, len(_shape(ary)))]
        if n % int(indices_or_sections):
            raise ValueError("split: array split does not result in an equal division")
    return array_split(ary, indices_or_sections, axis)


def hsplit(ary, indices_or_sections):
    """Split horizontally, like ``np.hsplit``.

    ``split`` along axis 1 (axis 0 for vectors).

    Parameters
    ----------
    ary : array_like or Tensor
        The input.
    indices_or_sections : int or sequence of int
        The number of equal parts, or the indices where the axis is cut.

    Returns
    -------
    list of Tensor
        The parts (recorded ``getitem`` slices).

    Notes
    -----
    Derivative: that of ``getitem``: each part's gradient lands on its slice.

    Examples
    --------
    >>> left, right = ag.hsplit(np.arange(4.0).reshape(2, 2), 2)
    >>> left
    Tensor([[0.]
     [2.]], dtype=float64)
    """
    return split(ary, indices_or_sections, axis=1 if len(_shape(ary)) > 1 else 0)


def vsplit(ary, indices_or_sections):
    """Split vertically, like ``np.vsplit``.

    ``split`` along axis 0 of an array of at least 2 axes (fewer: a ValueError).

    Parameters
    ----------
    ary : array_like or Tensor
        The input, at least 2-d.
    indices_or_sections : int or sequence of int
        The number of equal parts, or the indices where the axis is cut.

    Returns
    -------
    list of Tensor
        The parts (recorded ``getitem`` slices).

    Notes
    -----
    Derivative: that of ``getitem``: each part's gradient lands on its slice.

    Examples
    --------
    >>> top, bottom = ag.vsplit(np.arange(4.0).reshape(2, 2), 2)
    >>> top
    Tensor([[0. 1.]], dtype=float64)
    """
    if len(_shape(ary)) < 2:
        raise ValueError("vsplit: only works on arrays of 2 or more dimensions")
    return split(ary, indices_or_sections, axis=0)


# --- pad and diff ---------------------------------------------------------------------

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


def diff(a, n=1, axis=-1, prepend=None, append=None):
    """The ``n``-th discrete difference along an axis, like ``np.diff``.

    ``out[i] = a[i + 1] - a[i]``, ``n`` times; ``n = 0`` gives ``a`` itself
    (``prepend`` and ``append`` ignored, as NumPy).

    Parameters
    ----------
    a : array_like or Tensor
        The input.
    n : int, optional
        The number of differences (default 1; negative: a ValueError).
    axis : int, optional
        The axis (default -1, the last).
    prepend : array_like, Tensor or None, optional
        Values put before ``a`` along the axis first; a scalar is broadcast (a
        Python number takes ``a``'s dtype).
    append : array_like, Tensor or None, optional
        Values put after ``a`` likewise.

    Returns
    -------
    Tensor
        The differences, the axis ``n`` shorter (plus the prepended and appended
        lengths).

    Notes
    -----
    Derivative: by the chain rule through the ops it is built from (concatenate,
    getitem, sub).

    Examples
    --------
    >>> a = ag.Tensor(np.array([1.0, 4.0, 9.0, 16.0]), requires_grad=True)
    >>> y = ag.diff(a)
    >>> y
    Tensor([3. 5. 7.], dtype=float64, op=sub)
    >>> y.sum().backward()
    >>> a.grad
    array([-1.,  0.,  0.,  1.])
    >>> ag.diff(a, n=2)
    Tensor([2. 2.], dtype=float64, op=sub)
    >>> ag.diff(a, prepend=0.0)
    Tensor([1. 3. 5. 7.], dtype=float64, op=sub)
    """
    if n < 0:
        raise ValueError(f"diff: order must be non-negative but got {n}")
    if n == 0:  # as NumPy: a itself, prepend and append ignored
        return getitem(a, index=(Ellipsis,))
    shape = _shape(a)
    ax = normalize_axis_index(axis, len(shape))
    edge = shape[:ax] + (1,) + shape[ax + 1:]

    def end(v):  # a scalar is broadcast along the axis; a Python number keeps a's dtype
        if isinstance(v, (int, float)):
            v = np.asarray(v, dtype=np.result_type(value(a), v))
        return broadcast_to(v, shape=edge) if np.ndim(value(v)) == 0 else v

    parts = [a]
    if prepend is not None:
        parts.insert(0, end(prepend))
    if append is not None:
        parts.append(end(append))
    x = concatenate(parts, axis=ax) if len(parts) > 1 else a
    for _ in range(n):
        x = sub(getitem(x, index=_along(ax, slice(1, None))), getitem(x, index=_along(ax, slice(None, -1))))
    return x


# --- matrix parts ---------------------------------------------------------------------

def diagonal(a, offset=0, axis1=0, axis2=1):
    """The diagonal of the planes of two axes, like ``np.diagonal``.

    Parameters
    ----------
    a : array_like or Tensor
        At least 2-d.
    offset : int, optional
        The diagonal: above the main one when positive, below when negative
        (default 0).
    axis1 : int, optional
        The planes' first axis (default 0).
    axis2 : int, optional
        The planes' second axis (default 1; the same as ``axis1``: a ValueError).

    Returns
    -------
    Tensor
        ``a``'s other axes followed by the diagonal as the last axis (a recorded
        ``getitem``).

    Notes
    -----
    Derivative: that of ``getitem``: the gradient on the diagonal, 0 elsewhere.

    Examples
    --------
    >>> a = ag.Tensor(np.arange(9.0).reshape(3, 3), requires_grad=True)
    >>> y = ag.diagonal(a)
    >>> y
    Tensor([0. 4. 8.], dtype=float64, op=getitem)
    >>> y.sum().backward()
    >>> a.grad
    array([[1., 0., 0.],
           [0., 1., 0.],
           [0., 0., 1.]])
    >>> ag.diagonal(a, offset=-1)
    Tensor([3. 7.], dtype=float64, op=getitem)
    """
    shape = _shape(a)
    n = len(shape)
    i, j = normalize_axis_index(axis1, n), normalize_axis_index(axis2, n)
    if i == j:
        raise ValueError("diagonal: axis1 and axis2 cannot be the same")
    order = [d for d in range(n) if d not in (i, j)] + [i, j]
    x = a if order == list(range(n)) else transpose(a, axes=tuple(order))
    r0, c0 = max(-offset, 0), max(offset, 0)
    k = max(0, min(shape[i] - r0, shape[j] - c0))
    return getitem(x, index=(Ellipsis, np.arange(k) + r0, np.arange(k) + c0))


def diag(v, k=0):
    """Build a diagonal matrix or take a diagonal, like ``np.diag``.

    A 1-d ``v`` is put on the ``k``-th diagonal of a square zero matrix; of a 2-d
    ``v`` the ``k``-th diagonal is taken.

    Parameters
    ----------
    v : array_like or Tensor
        1-d or 2-d (other shapes: a ValueError).
    k : int, optional
        The diagonal: above the main one when positive, below when negative
        (default 0).

    Returns
    -------
    Tensor
        The matrix ``(n + |k|, n + |k|)``, or the diagonal.

    Notes
    -----
    Derivative: that of ``index_add`` (a 1-d ``v``: the diagonal of the gradient)
    or of ``diagonal`` (a 2-d ``v``).

    Examples
    --------
    >>> v = ag.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    >>> m = ag.diag(v, k=1)
    >>> m
    Tensor([[0. 1. 0.]
     [0. 0. 2.]
     [0. 0. 0.]], dtype=float64, op=index_add)
    >>> m.sum().backward()
    >>> v.grad
    array([1., 1.])
    >>> ag.diag(np.arange(4.0).reshape(2, 2))
    Tensor([0. 3.], dtype=float64)
    """
    shape = _shape(v)
    if len(shape) == 1:
        size = shape[0] + abs(k)
        rows, cols = np.arange(shape[0]) + max(-k, 0), np.arange(shape[0]) + max(k, 0)
        return index_add(v, index=(rows, cols), shape=(size, size))
    if len(shape) == 2:
        return diagonal(v, offset=k)
    raise ValueError(f"diag: input must be 1-d or 2-d, not of shape {shape}")


def tril(m, k=0):
    """Lower triangle: the elements above the ``k``-th diagonal zeroed, like ``np.tril``.

    On the last two axes (a stack of matrices is zeroed matrix by matrix).

    Parameters
    ----------
    m : array_like or Tensor
        At least 2-d.
    k : int, optional
        The last diagonal kept: above the main one when positive (default 0).

    Returns
    -------
    Tensor
        Of ``m``'s shape (a recorded ``where``).

    Notes
    -----
    Derivative: that of ``where``: the gradient in the kept triangle, 0 elsewhere.

    Examples
    --------
    >>> m = ag.Tensor(np.ones((3, 3)), requires_grad=True)
    >>> y = ag.tril(m)
    >>> y
    Tensor([[1. 0. 0.]
     [1. 1. 0.]
     [1. 1. 1.]], dtype=float64, op=where)
    >>> y.sum().backward()
    >>> m.grad
    array([[1., 0., 0.],
           [1., 1., 0.],
           [1., 1., 1.]])
    """
    return where(np.tri(*_shape(m)[-2:], k=k, dtype=bool), m, 0.0)


def triu(m, k=0):
    """Upper triangle: the elements below the ``k``-th diagonal zeroed, like ``np.triu``.

    On the last two axes (a stack of matrices is zeroed matrix by matrix).

    Parameters
    ----------
    m : array_like or Tensor
        At least 2-d.
    k : int, optional
        The first diagonal kept: above the main one when positive (default 0).

    Returns
    -------
    Tensor
        Of ``m``'s shape (a recorded ``where``).

    Notes
    -----
    Derivative: that of ``where``: the gradient in the kept triangle, 0 elsewhere.

    Examples
    --------
    >>> m = ag.Tensor(np.ones((3, 3)), requires_grad=True)
    >>> y = ag.triu(m, k=1)
    >>> y
    Tensor([[0. 1. 1.]
     [0. 0. 1.]
     [0. 0. 0.]], dtype=float64, op=where)
    >>> y.sum().backward()
    >>> m.grad
    array([[0., 1., 1.],
           [0., 0., 1.],
           [0., 0., 0.]])
    """
    return where(~np.tri(*_shape(m)[-2:], k=k - 1, dtype=bool), m, 0.0)


# --- building tensors -----------------------------------------------------------------

def _holds_tensor(obj):
    return type(obj) is Tensor or (isinstance(obj, (list, tuple)) and any(_holds_tensor(o) for o in obj))


def array(obj, dtype=None):
    """A tensor from nested lists of tensors and numbers, recorded.

    The graph-keeping form of ``np.array([t1, t2])`` (which gives values only): a
    stack of stacks. Numbers take the tensors' dtype (float32 stays float32); a
    tensor is returned as it is (or cast to ``dtype``); nested lists without a
    tensor give a constant tensor.

    Parameters
    ----------
    obj : Tensor, array_like or nested sequence
        The elements: tensors, arrays and numbers in lists or tuples.
    dtype : data-type, optional
        Cast the result to it (a recorded ``astype``).

    Returns
    -------
    Tensor
        The stacked tensor.

    Notes
    -----
    Derivative: that of ``stack``: each tensor gets its slot of the gradient.

    Examples
    --------
    >>> x = ag.Tensor(np.array(2.0), requires_grad=True)
    >>> y = ag.array([[x, 1.0], [0.0, x * x]])
    >>> y
    Tensor([[2. 1.]
     [0. 4.]], dtype=float64, op=stack)
    >>> y.sum().backward()
    >>> x.grad
    array(5.)
    >>> ag.array([1, 2], dtype=np.float32)
    Tensor([1. 2.], dtype=float32)
    """
    if type(obj) is Tensor:
        return obj if dtype is None else astype(obj, dtype=dtype)
    if not (isinstance(obj, (list, tuple)) and _holds_tensor(obj)):
        return Tensor(np.array(obj, dtype=dtype))
    items = [array(o) if isinstance(o, (list, tuple)) else o for o in obj]
    kind = np.result_type(*[value(o) for o in items if type(o) is Tensor])
    items = [o if type(o) is Tensor or isinstance(o, np.ndarray) else np.asarray(o, dtype=kind)
             for o in items]  # numbers take the tensors' dtype (float32 stays float32)
    out = stack(items)
    return out if dtype is None else astype(out, dtype=dtype)


def linspace(start, stop, num=50, endpoint=True):
    """Evenly spaced values from ``start`` to ``stop``, like ``np.linspace``.

    ``num`` values, differentiable in both ends: ``start + (stop - start) * t``
    for ``t`` in ``[0, 1]``, the last value (with ``endpoint``) being ``stop``
    itself, as NumPy's (not ``start + (stop - start)``, which is NaN for
    infinite ends).

    Parameters
    ----------
    start : array_like or Tensor
        The first value (arrays: one sequence per element, along a new first
        axis).
    stop : array_like or Tensor
        The last value (or the bound with ``endpoint=False``), broadcast with
        ``start``.
    num : int, optional
        The number of values (default 50).
    endpoint : bool, optional
        Include ``stop`` (default True).

    Returns
    -------
    Tensor
        Shape ``(num,) + broadcast shape of start and stop``, floating point.

    Notes
    -----
    Derivative: by the chain rule through the ops it is built from (sub, mul,
    add, where): ``gstart = sum(gy * (1 - t))``, ``gstop = sum(gy * t)``.

    Examples
    --------
    >>> lo = ag.Tensor(np.array(0.0), requires_grad=True)
    >>> hi = ag.Tensor(np.array(1.0), requires_grad=True)
    >>> y = ag.linspace(lo, hi, num=5)
    >>> y
    Tensor([0.   0.25 0.5  0.75 1.  ], dtype=float64, op=where)
    >>> y.sum().backward()
    >>> lo.grad, hi.grad
    (array(2.5), array(2.5))
    """
    shape = np.broadcast_shapes(np.shape(value(start)), np.shape(value(stop)))
    kind = np.result_type(value(start), value(stop), 1.0)
    steps = np.linspace(0.0, 1.0, num, endpoint=endpoint).astype(kind).reshape((num,) + (1,) * len(shape))
    values = add(start, mul(sub(stop, start), steps))
    if not (endpoint and num > 1):
        return values
    last = np.zeros(steps.shape, dtype=bool)
    last[-1] = True  # the last value is stop itself, as NumPy's (not start + (stop - start): inf - inf is NaN)
    return where(last, stop, values)


def broadcast_arrays(*args):
    """The inputs broadcast to their common shape, like ``np.broadcast_arrays``.

    Parameters
    ----------
    *args : array_like or Tensor
        The inputs, of broadcastable shapes.

    Returns
    -------
    list of Tensor
        One per input, each of the common shape (recorded ``broadcast_to``).

    Notes
    -----
    Derivative: that of ``broadcast_to``: each gradient summed back to its input's
    shape.

    Examples
    --------
    >>> a = ag.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    >>> p, q = ag.broadcast_arrays(a, np.zeros((3, 1)))
    >>> p
    Tensor([[1. 2.]
     [1. 2.]
     [1. 2.]], dtype=float64, op=broadcast_to)
    >>> p.sum().backward()
    >>> a.grad
    array([3., 3.])
    """
    shape = np.broadcast_shapes(*[_shape(a) for a in args])
    return [broadcast_to(a, shape=shape) for a in args]
