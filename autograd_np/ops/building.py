"""Matrix parts, differences and tensors built from others, composed from the
shape ops (getitem, transpose, index_add, concatenate, stack, broadcast_to,
astype) and the arithmetic ops and where: exact by construction, recording
only ops whose derivatives are tested.

Differences (diff), matrix parts (diagonal, diag, tril, triu), and building
tensors (array, linspace, broadcast_arrays)."""
import numpy as np
from numpy.lib.array_utils import normalize_axis_index

from ..core import Tensor
from ._util import value
from .arithmetic import add, mul, sub
from .elementwise import where
from .axes import _along, _shape
from .shape import astype, broadcast_to, concatenate, copy, getitem, index_add, stack, transpose


# --- differences ---------------------------------------------------------------------

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
    return where(np.tri(*_shape(m)[-2:], k=k, dtype=bool), m, _zero_like(m))


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
    return where(~np.tri(*_shape(m)[-2:], k=k - 1, dtype=bool), m, _zero_like(m))


# --- building tensors -----------------------------------------------------------------

def _zero_like(m):
    """A 0 of ``m``'s dtype (a Python 0.0 would turn an integer matrix into float64)."""
    return np.zeros((), dtype=np.result_type(value(m)))


def _holds_tensor(obj):
    return type(obj) is Tensor or (isinstance(obj, (list, tuple)) and any(_holds_tensor(o) for o in obj))


def array(obj, dtype=None):
    """A tensor from nested lists of tensors and numbers, recorded.

    The graph-keeping form of ``np.array([t1, t2])`` (which gives values only): a
    stack of stacks. Numbers take the tensors' dtype (float32 stays float32); a
    tensor is copied (or cast to ``dtype``), as ``np.array`` copies; nested lists without a
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
    if type(obj) is Tensor:  # a new tensor, as np.array copies (recorded: the gradient flows back)
        return copy(obj) if dtype is None else astype(obj, dtype=dtype)
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
