"""Axes and gathering, composed from the shape ops (reshape, transpose, getitem):
every function here is exact by construction and records only ops whose
derivatives are tested.

Flattening and axes (ravel, flatten, squeeze, expand_dims, atleast_*d,
moveaxis, swapaxes) and gathering and sorting (take_along_axis, sort,
partition, take): the base of the rest of the layout functions (``reorder``,
``stacking``, ``building``), which ``layout`` gathers."""
import numpy as np
from numpy.lib.array_utils import normalize_axis_index, normalize_axis_tuple

from ._util import value
from .shape import getitem, reshape, transpose


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
    return reshape(a, shape=np.squeeze(np.empty(_shape(a), bool), axis).shape)  # (the shape alone: vmap batches it)


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
    return reshape(a, shape=np.expand_dims(np.empty(_shape(a), bool), axis).shape)


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


# --- gathering and sorting ---------------------------------------------------------

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
