"""Joining and splitting, composed from the shape ops (concatenate, reshape,
getitem): exact by construction, recording only ops whose derivatives are
tested.

Joining (hstack, vstack, dstack, column_stack, append) and splitting (split,
array_split, hsplit, vsplit)."""
import numpy as np
from numpy.lib.array_utils import normalize_axis_index

from .axes import _along, _shape, atleast_1d, atleast_2d, atleast_3d, ravel
from .shape import concatenate, getitem, reshape


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
