"""Reductions: sum, mean, max (and min, composed from max), prod, var (and std),
cumsum, cumprod, logsumexp, and median (composed from sort)."""
import numpy as np

from ..core import Tensor
from ..core.recording import defop
from ._util import expand_reduced, normalize_axes, value
from .layout import sort
from .elementwise import where
from .shape import getitem, reshape
from ._jvp import linear, reduction


def _count(shape, axis):
    return int(np.prod([shape[a] for a in normalize_axes(axis, len(shape))]))


@defop("sum", "y = sum(x, axis);  gx = broadcast(gy)")
def sum(x, axis=None, keepdims=False):
    """Sum of the elements over ``axis``, like ``np.sum``.

    Parameters
    ----------
    x : array_like or Tensor
        The input.
    axis : int, tuple of int or None, optional
        The axes to reduce over; None (the default) reduces over all of them.
    keepdims : bool, optional
        Keep the reduced axes, with size 1, so the result broadcasts against ``x``.

    Returns
    -------
    Tensor
        ``x`` reduced over ``axis``: ``x``'s shape without those axes (size 1
        with ``keepdims``); a 0-d tensor when reducing over all axes.

    Examples
    --------
    >>> x = ag.Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    >>> y = ag.sum(x, axis=0)
    >>> y
    Tensor([5. 7. 9.], dtype=float64, op=sum)
    >>> y.sum().backward(); x.grad
    array([[1., 1., 1.], [1., 1., 1.]])
    """
    return np.sum(x, axis=axis, keepdims=keepdims)


@sum.defvjp
def _sum_vjp(F, gy, y, x, axis=None, keepdims=False):
    return expand_reduced(F, gy, np.shape(value(x)), axis, keepdims)


linear(sum, "ty = sum(tx, axis)")


@defop("mean", "y = mean(x, axis);  gx = broadcast(gy) / n")
def mean(x, axis=None, keepdims=False):
    """Arithmetic mean over ``axis``, like ``np.mean``.

    Parameters
    ----------
    x : array_like or Tensor
        The input.
    axis : int, tuple of int or None, optional
        The axes to reduce over; None (the default) reduces over all of them.
    keepdims : bool, optional
        Keep the reduced axes, with size 1, so the result broadcasts against ``x``.

    Returns
    -------
    Tensor
        ``x`` reduced over ``axis``: ``x``'s shape without those axes (size 1
        with ``keepdims``); a 0-d tensor when reducing over all axes.
        Integer inputs give float64.

    Notes
    -----
    ``n`` in the derivative is the number of elements averaged per output.

    Examples
    --------
    >>> x = ag.Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> y = ag.mean(x, axis=1, keepdims=True)
    >>> y
    Tensor([[1.5]
     [3.5]], dtype=float64, op=mean)
    >>> y.sum().backward(); x.grad
    array([[0.5, 0.5], [0.5, 0.5]])
    """
    return np.mean(x, axis=axis, keepdims=keepdims)


@mean.defvjp
def _mean_vjp(F, gy, y, x, axis=None, keepdims=False):
    shape = np.shape(value(x))
    return expand_reduced(F, gy / _count(shape, axis), shape, axis, keepdims)


linear(mean, "ty = mean(tx, axis)")


@defop("max", "y = max(x, axis);  gx = broadcast(gy) where x == y, shared equally by ties (as torch.amax; a NaN "
              "maximum: by the NaN elements)")
def max(x, axis=None, keepdims=False):
    """Maximum over ``axis``, like ``np.max``.

    NaN propagates, as in NumPy.  Elements tied for the maximum share its
    gradient equally (as ``torch.amax``).

    Parameters
    ----------
    x : array_like or Tensor
        The input.
    axis : int, tuple of int or None, optional
        The axes to reduce over; None (the default) reduces over all of them.
    keepdims : bool, optional
        Keep the reduced axes, with size 1, so the result broadcasts against ``x``.

    Returns
    -------
    Tensor
        ``x`` reduced over ``axis``: ``x``'s shape without those axes (size 1
        with ``keepdims``); a 0-d tensor when reducing over all axes.

    See Also
    --------
    min, maximum

    Examples
    --------
    >>> x = ag.Tensor([1.0, 3.0, 3.0], requires_grad=True)
    >>> y = ag.max(x)
    >>> y
    Tensor(3., dtype=float64, op=max)
    >>> y.backward(); x.grad
    array([0. , 0.5, 0.5])
    """
    return np.max(x, axis=axis, keepdims=keepdims)


@max.defvjp
def _max_vjp(F, gy, y, x, axis=None, keepdims=False):
    xv, yv = value(x), value(y)
    if not keepdims:
        yv = np.expand_dims(yv, normalize_axes(axis, xv.ndim))
    mask = (xv == yv) | (np.isnan(xv) & np.isnan(yv))  # a NaN maximum: its NaN elements share the gradient
    share = mask / mask.sum(axis=axis, keepdims=True)  # a constant of the derivative
    return expand_reduced(F, gy, xv.shape, axis, keepdims) * share.astype(xv.dtype, copy=False)


reduction(max, "ty = sum(tx where x == y, shared by ties, over axis)  (the VJP at ones, times tx)")


def min(x, axis=None, keepdims=False):
    """Minimum over ``axis``, like ``np.min``: ``-max(-x)``.

    NaN propagates, as in NumPy.  Elements tied for the minimum share its
    gradient equally (as ``torch.amin``).

    Parameters
    ----------
    x : array_like or Tensor
        The input.
    axis : int, tuple of int or None, optional
        The axes to reduce over; None (the default) reduces over all of them.
    keepdims : bool, optional
        Keep the reduced axes, with size 1, so the result broadcasts against ``x``.

    Returns
    -------
    Tensor
        ``x`` reduced over ``axis``: ``x``'s shape without those axes (size 1
        with ``keepdims``); a 0-d tensor when reducing over all axes.

    See Also
    --------
    max, minimum

    Notes
    -----
    Derivative: by the chain rule through the ops it is built from (``neg``,
    ``max``, ``neg``): ``gx = broadcast(gy)`` where ``x`` equals the minimum,
    shared equally by ties.

    Examples
    --------
    >>> x = ag.Tensor([1.0, 3.0, 1.0], requires_grad=True)
    >>> y = ag.min(x)
    >>> y
    Tensor(1., dtype=float64, op=neg)
    >>> y.backward(); x.grad
    array([0.5, 0. , 0.5])
    """
    from .arithmetic import neg
    return neg(max(neg(x), axis=axis, keepdims=keepdims))


@defop("prod", "y = prod(x, axis);  gx = broadcast(gy) * (product of the other elements)  "
               "(hand-written: y / x, exact at zeros too)")
def prod(x, axis=None, keepdims=False):
    """Product of the elements over ``axis``, like ``np.prod``.

    Parameters
    ----------
    x : array_like or Tensor
        The input.
    axis : int, tuple of int or None, optional
        The axes to reduce over; None (the default) reduces over all of them.
    keepdims : bool, optional
        Keep the reduced axes, with size 1, so the result broadcasts against ``x``.

    Returns
    -------
    Tensor
        ``x`` reduced over ``axis``: ``x``'s shape without those axes (size 1
        with ``keepdims``); a 0-d tensor when reducing over all axes.

    Notes
    -----
    The gradient is computed as ``y / x`` where that is exact, and otherwise (a
    zero, infinite or NaN factor, a product that overflowed or underflowed) as
    the product of the other elements, without dividing.

    Examples
    --------
    >>> x = ag.Tensor([2.0, 0.0, 4.0], requires_grad=True)
    >>> y = ag.prod(x)
    >>> y
    Tensor(0., dtype=float64, op=prod)
    >>> y.backward(); x.grad   # exact at the zero: 2 * 4
    array([0., 8., 0.])
    """
    return np.prod(x, axis=axis, keepdims=keepdims)


@prod.defvjp
def _prod_vjp(F, gy, y, x, axis=None, keepdims=False):
    xv = value(x)
    g = expand_reduced(F, gy, xv.shape, axis, keepdims)
    if _divisible(xv, value(y)):  # the common case: y / x is exact enough
        return g * expand_reduced(F, y, xv.shape, axis, keepdims) / x
    return g * _product_of_others(F, x, normalize_axes(axis, xv.ndim))


reduction(prod, "ty = sum(tx * (product of the other elements), over axis)  (the VJP at ones, times tx)")


def _divisible(xv, yv):
    """Whether products of the others are ``y / x`` here: no zero, infinite or NaN
    factor, and no product that overflowed or underflowed (1e200 * 1e200 is inf,
    yet the product of the others is 1e200)."""
    with np.errstate(invalid="ignore"):
        return bool(xv.size and np.all(xv != 0) and np.all(np.isfinite(xv)) and np.all(yv != 0)
                    and np.all(np.isfinite(yv)))


def _product_of_others(F, x, axes):
    """For every element of ``x``, the product of the other elements of its
    slice along ``axes``, without dividing (so exact where ``x`` has zeros)."""
    xv = value(x)
    kept = [i for i in range(xv.ndim) if i not in axes]
    order = kept + list(axes)
    inverse = tuple(np.argsort(order))
    lead = tuple(xv.shape[i] for i in kept)
    n = int(np.prod([xv.shape[i] for i in axes]))
    if type(x) is not Tensor:  # a plain backward: exclusive products from both ends, O(n)
        flat = np.transpose(xv, order).reshape(lead + (n,))
        left = np.ones_like(flat)
        right = np.ones_like(flat)
        np.cumprod(flat[..., :-1], axis=-1, out=left[..., 1:])
        np.cumprod(flat[..., :0:-1], axis=-1, out=right[..., -2::-1])
        return np.transpose((left * right).reshape(lead + tuple(xv.shape[i] for i in axes)), inverse)
    # create_graph: the same products from recording ops (O(n**2) memory, only with zeros present)
    flat = F.reshape(F.transpose(x, axes=tuple(order)), shape=lead + (1, n))
    rows = F.broadcast_to(flat, shape=lead + (n, n))
    others = F.prod(F.where(np.eye(n, dtype=bool), 1.0, rows), axis=-1)
    return F.transpose(F.reshape(others, shape=lead + tuple(xv.shape[i] for i in axes)), axes=inverse)


@defop("var", "y = var(x, axis, ddof);  gx = broadcast(gy) * 2 (x - mean(x)) / (n - ddof)")
def var(x, axis=None, ddof=0, keepdims=False):
    """Variance over ``axis``, like ``np.var``.

    Parameters
    ----------
    x : array_like or Tensor
        The input.
    axis : int, tuple of int or None, optional
        The axes to reduce over; None (the default) reduces over all of them.
    ddof : int, optional
        Delta degrees of freedom: the divisor is ``n - ddof``, ``n`` the number of
        elements reduced (0: the population value; 1: the unbiased sample one).
    keepdims : bool, optional
        Keep the reduced axes, with size 1, so the result broadcasts against ``x``.

    Returns
    -------
    Tensor
        ``x`` reduced over ``axis``: ``x``'s shape without those axes (size 1
        with ``keepdims``); a 0-d tensor when reducing over all axes.
        With no more elements than ``ddof`` it is NaN.

    See Also
    --------
    std

    Examples
    --------
    >>> x = ag.Tensor([1.0, 2.0, 3.0, 6.0], requires_grad=True)
    >>> y = ag.var(x)
    >>> y
    Tensor(3.5, dtype=float64, op=var)
    >>> y.backward(); x.grad
    array([-1. , -0.5,  0. ,  1.5])
    >>> ag.var(x, ddof=1)
    Tensor(4.6667, dtype=float64, op=var)
    """
    return np.var(x, axis=axis, ddof=ddof, keepdims=keepdims)


@var.defvjp
def _var_vjp(F, gy, y, x, axis=None, ddof=0, keepdims=False):
    shape = np.shape(value(x))
    centred = x - F.mean(x, axis=axis, keepdims=True)
    with np.errstate(divide="ignore"):  # (no more values than ddof: NaN, as the variance)
        scale = np.divide(2.0, _count(shape, axis) - ddof)
    return expand_reduced(F, gy, shape, axis, keepdims) * centred * scale


reduction(var, "ty = sum(tx * 2 (x - mean(x)) / (n - ddof), over axis)")


@defop("std", "y = sqrt(var(x, axis, ddof));  gx = broadcast(gy) * (x - mean(x)) / ((n - ddof) y), 0 where y = 0  "
              "(hand-written: sqrt(var) is 0/0 on a constant slice)")
def std(x, axis=None, ddof=0, keepdims=False):
    """Standard deviation over ``axis``, like ``np.std``.

    Parameters
    ----------
    x : array_like or Tensor
        The input.
    axis : int, tuple of int or None, optional
        The axes to reduce over; None (the default) reduces over all of them.
    ddof : int, optional
        Delta degrees of freedom: the divisor is ``n - ddof``, ``n`` the number of
        elements reduced (0: the population value; 1: the unbiased sample one).
    keepdims : bool, optional
        Keep the reduced axes, with size 1, so the result broadcasts against ``x``.

    Returns
    -------
    Tensor
        ``x`` reduced over ``axis``: ``x``'s shape without those axes (size 1
        with ``keepdims``); a 0-d tensor when reducing over all axes.

    See Also
    --------
    var

    Notes
    -----
    On a slice of equal values (one value included) the derivative is taken as
    0: exact for one value, a subgradient of the cone otherwise.

    Examples
    --------
    >>> x = ag.Tensor([1.0, 3.0], requires_grad=True)
    >>> y = ag.std(x)
    >>> y
    Tensor(1., dtype=float64, op=std)
    >>> y.backward(); x.grad
    array([-0.5,  0.5])
    >>> c = ag.Tensor([5.0, 5.0], requires_grad=True)
    >>> ag.std(c).backward(); c.grad   # a constant slice: 0, not NaN
    array([0., 0.])
    """
    return np.std(x, axis=axis, ddof=ddof, keepdims=keepdims)


@std.defvjp
def _std_vjp(F, gy, y, x, axis=None, ddof=0, keepdims=False):
    shape = np.shape(value(x))
    spread = expand_reduced(F, y, shape, axis, keepdims)
    flat = value(spread) == 0
    safe = F.where(flat, 1.0, spread) * float(_count(shape, axis) - ddof)
    centred = x - F.mean(x, axis=axis, keepdims=True)
    return F.where(flat, 0.0, expand_reduced(F, gy, shape, axis, keepdims) * centred / safe)


reduction(std, "ty = sum(tx * (x - mean(x)) / ((n - ddof) y), over axis), 0 where y = 0")


@defop("cumsum", "y = cumsum(x, axis);  gx = reversed cumsum of gy along axis")
def cumsum(x, axis=None):
    """Cumulative sum along ``axis``, like ``np.cumsum``.

    Parameters
    ----------
    x : array_like or Tensor
        The input.
    axis : int or None, optional
        The axis to accumulate along; None (the default) accumulates over the
        flattened array.

    Returns
    -------
    Tensor
        The running sums, of ``x``'s shape (1-D, of ``x.size``, when ``axis`` is
        None).

    Examples
    --------
    >>> x = ag.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = ag.cumsum(x)
    >>> y
    Tensor([1. 3. 6.], dtype=float64, op=cumsum)
    >>> y.sum().backward(); x.grad
    array([3., 2., 1.])
    """
    return np.cumsum(x, axis=axis)


def _reverse_cumsum(F, g, ax):
    """``g``'s sums from each position to the end of axis ``ax``: the adjoint of a cumsum."""
    flip = (slice(None),) * ax + (slice(None, None, -1),)
    return F.getitem(F.cumsum(F.getitem(g, index=flip), axis=ax), index=flip)


@cumsum.defvjp
def _cumsum_vjp(F, gy, y, x, axis=None):
    shape = np.shape(value(x))
    g = _reverse_cumsum(F, gy, 0 if axis is None else axis % len(shape))
    return F.reshape(g, shape=shape) if axis is None else g


linear(cumsum, "ty = cumsum(tx, axis)")


@defop("cumprod", "y = cumprod(x, axis);  gx = reversed cumsum of gy * y, divided by x  "
                  "(hand-written; where x has zeros, the products of the other elements, exact)")
def cumprod(x, axis=None):
    """Cumulative product along ``axis``, like ``np.cumprod``.

    Parameters
    ----------
    x : array_like or Tensor
        The input.
    axis : int or None, optional
        The axis to accumulate along; None (the default) accumulates over the
        flattened array.

    Returns
    -------
    Tensor
        The running products, of ``x``'s shape (1-D, of ``x.size``, when
        ``axis`` is None).

    Notes
    -----
    Where ``x`` has zeros (or the products overflow or underflow) the gradient
    is computed from the products of the other elements, without dividing: exact,
    in O(n**2) time and memory along ``axis``.

    Examples
    --------
    >>> x = ag.Tensor([2.0, 0.0, 3.0], requires_grad=True)
    >>> y = ag.cumprod(x)
    >>> y
    Tensor([2. 0. 0.], dtype=float64, op=cumprod)
    >>> y.sum().backward(); x.grad
    array([1., 8., 0.])
    """
    return np.cumprod(x, axis=axis)


@cumprod.defvjp
def _cumprod_vjp(F, gy, y, x, axis=None):
    shape = np.shape(value(x))
    if axis is None:  # the flattened array's derivative, shaped back at the end
        x, gy, y = F.reshape(x, shape=(-1,)), F.reshape(gy, shape=(-1,)), F.reshape(y, shape=(-1,))
    ax = 0 if axis is None else axis % len(shape)
    if _divisible(value(x), value(y)):  # d y_j / d x_i = y_j / x_i for j >= i
        g = _reverse_cumsum(F, gy * y, ax) / x
    else:
        g = _cumprod_of_others(F, gy, x, ax)
    return F.reshape(g, shape=shape) if axis is None else g


def _cumprod_of_others(F, gy, x, ax):
    """``gx_i = sum over j >= i of gy_j * prod(x_k for k <= j, k != i)`` along ``ax``,
    without dividing (so exact at zeros): an (n, n) table of the cumulative
    products with x_i set to 1 in row i (O(n**2), only when ``x`` has zeros)."""
    xv = value(x)
    order = tuple(i for i in range(xv.ndim) if i != ax) + (ax,)  # the axis last
    inverse = tuple(np.argsort(order))
    n = xv.shape[ax]
    lead = tuple(xv.shape[i] for i in order[:-1])
    rows = F.broadcast_to(F.reshape(F.transpose(x, axes=order), shape=lead + (1, n)), shape=lead + (n, n))
    others = F.cumprod(F.where(np.eye(n, dtype=bool), 1.0, rows), axis=-1)  # [i, j]: prod of x_k, k <= j, k != i
    g = F.reshape(F.transpose(gy, axes=order), shape=lead + (1, n))
    later = np.triu(np.ones((n, n), dtype=bool))  # j >= i: the outputs x_i enters
    return F.transpose(F.sum(F.where(later, others * g, 0.0), axis=-1), axes=inverse)


@cumprod.defjvp(rule="ty = y * cumsum(tx / x, axis)  (where x has zeros: the products of the other elements)")
def _cumprod_jvp(F, tangents, y, x, axis=None):
    shape, t = np.shape(value(x)), tangents[0]
    if axis is None:  # the flattened array's cumulative product: y is flat already
        x, t = F.reshape(x, shape=(-1,)), F.reshape(t, shape=(-1,))
    ax = 0 if axis is None else axis % len(shape)
    if _divisible(value(x), value(y)):
        return y * F.cumsum(t / x, axis=ax)
    return _cumprod_tangent_of_others(F, t, x, ax)


def _cumprod_tangent_of_others(F, t, x, ax):
    """sum_i (prod of x_k, k <= j, k != i) t_i over i <= j, with no division (exact at zeros)."""
    xv = value(x)
    order = tuple(i for i in range(xv.ndim) if i != ax) + (ax,)  # the axis last
    n, lead = xv.shape[ax], tuple(xv.shape[i] for i in order[:-1])
    rows = F.broadcast_to(F.reshape(F.transpose(x, axes=order), shape=lead + (1, n)), shape=lead + (n, n))
    others = F.cumprod(F.where(np.eye(n, dtype=bool), 1.0, rows), axis=-1)  # [i, j]: prod of x_k, k <= j, k != i
    column = F.reshape(F.transpose(t, axes=order), shape=lead + (n, 1))
    later = np.triu(np.ones((n, n), dtype=bool))  # j >= i
    return F.transpose(F.sum(F.where(later, others * column, 0.0), axis=-2), axes=tuple(np.argsort(order)))


@defop("logsumexp", "y = log(sum(exp(x), axis));  gx = broadcast(gy) * exp(x - y)  "
                    "(hand-written: the composition overflows)")
def logsumexp(x, axis=None, keepdims=False):
    """Logarithm of the sum of exponentials, ``log(sum(exp(x)))``, over ``axis``.

    The maximum of each slice is subtracted before ``exp`` and added back after
    the ``log``, so ``exp`` never overflows; a slice that is all ``-inf`` (or
    holds ``inf``) has nothing subtracted.

    Parameters
    ----------
    x : array_like or Tensor
        The input.
    axis : int, tuple of int or None, optional
        The axes to reduce over; None (the default) reduces over all of them.
    keepdims : bool, optional
        Keep the reduced axes, with size 1, so the result broadcasts against ``x``.

    Returns
    -------
    Tensor
        ``x`` reduced over ``axis``: ``x``'s shape without those axes (size 1
        with ``keepdims``); a 0-d tensor when reducing over all axes.

    Examples
    --------
    >>> x = ag.Tensor([0.0, np.log(3.0)], requires_grad=True)
    >>> y = ag.logsumexp(x)
    >>> y
    Tensor(1.3863, dtype=float64, op=logsumexp)
    >>> y.backward(); x.grad   # softmax(x)
    array([0.25, 0.75])
    >>> ag.logsumexp(np.array([1000.0, 1000.0]))
    Tensor(1000.6931, dtype=float64)
    """
    x = np.asarray(x)
    m = np.max(x, axis=axis, keepdims=True) if x.size else np.zeros((1,) * x.ndim, x.dtype)
    m = np.where(np.isfinite(m), m, 0)  # all -inf (or inf) slices: nothing to subtract
    y = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return y if keepdims else np.squeeze(y, axis=normalize_axes(axis, x.ndim))


@logsumexp.defvjp
def _logsumexp_vjp(F, gy, y, x, axis=None, keepdims=False):
    shape = np.shape(value(x))
    return expand_reduced(F, gy, shape, axis, keepdims) * F.exp(x - expand_reduced(F, y, shape, axis, keepdims))


reduction(logsumexp, "ty = sum(tx * exp(x - y), over axis)")


def median(a, axis=None, keepdims=False):
    """Median over ``axis``, like ``np.median``.

    The middle element of a sort, or the mean of the middle two.  A slice
    holding NaN has median NaN, as NumPy's.

    Parameters
    ----------
    a : array_like or Tensor
        The input.
    axis : int or None, optional
        The axis to take the median along; None (the default) takes it over the
        flattened array.  A tuple of axes is a ``TypeError``.
    keepdims : bool, optional
        Keep the reduced axes, with size 1, so the result broadcasts against ``x``.

    Returns
    -------
    Tensor
        The medians: ``a``'s shape without ``axis`` (size 1 with ``keepdims``);
        a 0-d tensor when ``axis`` is None.

    Notes
    -----
    Derivative: by the chain rule through the ops it is built from (``sort``,
    ``getitem``, ``mean``, ``where``, ``reshape``), so the gradient goes to the
    middle element(s), shared equally by two; where values tie there it goes to
    the one the stable sort put in the middle.  In a slice holding NaN it goes to
    that NaN.

    Examples
    --------
    >>> x = ag.Tensor([3.0, 1.0, 4.0, 1.0], requires_grad=True)
    >>> y = ag.median(x)
    >>> y
    Tensor(2., dtype=float64, op=reshape)
    >>> y.backward(); x.grad   # the middle two of 1, 1, 3, 4: the second 1 and the 3
    array([0.5, 0. , 0. , 0.5])
    """
    shape = np.shape(value(a))
    if axis is not None and not isinstance(axis, (int, np.integer)):
        raise TypeError(f"median: axis must be None or an int, got {axis!r}")
    ax = 0 if axis is None else int(axis) % (len(shape) or 1)
    ordered = sort(a, axis=axis)  # (axis None: flattened)
    n = np.shape(value(ordered))[ax]
    middle = getitem(ordered, index=(slice(None),) * ax + (slice((n - 1) // 2, n // 2 + 1),))
    m = mean(middle, axis=ax, keepdims=True)
    nan = np.isnan(value(ordered)).any(axis=ax, keepdims=True) if n else None
    if nan is not None and nan.any():  # NumPy's median of a slice holding NaN is NaN: the last of the sort
        m = where(nan, getitem(ordered, index=(slice(None),) * ax + (slice(n - 1, n),)), m)
    if keepdims:
        return reshape(m, shape=(1,) * len(shape)) if axis is None else m
    return reshape(m, shape=() if axis is None else shape[:ax] + shape[ax + 1:])
