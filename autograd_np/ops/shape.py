"""Shape and layout: reshape, transpose, indexing, concatenate/stack, broadcasting, casts."""
import numpy as np

from ..core.recording import defop
from ._util import value
from ._jvp import linear


@defop("reshape", "y = reshape(x, shape);  gx = reshape(gy, x.shape)")
def reshape(x, shape):
    """Give ``x`` a new shape with the same elements, like ``np.reshape``.

    Parameters
    ----------
    x : array_like or Tensor
        The input.
    shape : int or tuple of int
        The new shape; its product must be ``x.size``.  One entry may be -1: it is
        inferred from the others.

    Returns
    -------
    Tensor
        ``x``'s elements, in C order, with shape ``shape``.

    Examples
    --------
    >>> x = ag.Tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], requires_grad=True)
    >>> y = ag.reshape(x, (2, -1))
    >>> y
    Tensor([[1. 2. 3.]
     [4. 5. 6.]], dtype=float64, op=reshape)
    >>> (y * np.array([[1.0], [2.0]])).sum().backward(); x.grad
    array([1., 1., 1., 2., 2., 2.])
    """
    return np.reshape(x, shape)


@reshape.defvjp
def _reshape_vjp(F, gy, y, x, shape):
    return F.reshape(gy, shape=np.shape(value(x)))


linear(reshape, "ty = reshape(tx, shape)")


@defop("transpose", "y = transpose(x, axes);  gx = transpose(gy, inverse(axes))")
def transpose(x, axes=None):
    """Permute the axes of ``x``, like ``np.transpose``.

    Parameters
    ----------
    x : array_like or Tensor
        The input.
    axes : tuple of int or None, optional
        The permutation: axis ``i`` of the result is axis ``axes[i]`` of ``x``.
        None (the default) reverses the axes (a matrix's transpose).

    Returns
    -------
    Tensor
        ``x`` with its axes permuted.

    Examples
    --------
    >>> x = ag.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    >>> y = ag.transpose(x)
    >>> y
    Tensor([[0. 3.]
     [1. 4.]
     [2. 5.]], dtype=float64, op=transpose)
    >>> (y * np.array([1.0, 2.0])).sum().backward(); x.grad
    array([[1., 1., 1.], [2., 2., 2.]])
    """
    return np.transpose(x, axes)


@transpose.defvjp
def _transpose_vjp(F, gy, y, x, axes=None):
    return F.transpose(gy, axes=None if axes is None else tuple(np.argsort(axes)))


linear(transpose, "ty = transpose(tx, axes)")


def _plain_index(index):
    """Indices may hold tensors (e.g. labels); NumPy needs their arrays."""
    if isinstance(index, tuple):
        return tuple(value(i) for i in index)
    return value(index)


def _is_basic(index):
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice)) for i in items)


@defop("getitem", "y = x[index];  gx = zeros_like(x) with gy added at index")
def getitem(x, index):
    """Index ``x``: ``x[index]``, with basic slicing and integer-array (fancy) indexing.

    ``t[index]`` on a tensor is this op.

    Parameters
    ----------
    x : array_like or Tensor
        The input.
    index : int, slice, None, Ellipsis, array_like, Tensor or tuple of these
        The index, as NumPy takes it; an index array may be a tensor (class labels,
        say), which is not differentiated.

    Returns
    -------
    Tensor
        ``x[index]``.

    Notes
    -----
    An element picked more than once gets the sum of its gradients (``index_add``).

    Examples
    --------
    >>> x = ag.Tensor([10.0, 20.0, 30.0], requires_grad=True)
    >>> y = ag.getitem(x, np.array([0, 2, 0]))
    >>> y
    Tensor([10. 30. 10.], dtype=float64, op=getitem)
    >>> y.sum().backward(); x.grad
    array([2., 0., 1.])
    """
    return x[_plain_index(index)]


@getitem.defvjp
def _getitem_vjp(F, gy, y, x, *positional, index=None):
    # ``t[i]`` passes the index as an input (one gradient more: None); VJPs pass ``index=``
    index = positional[0] if positional else index
    g = F.index_add(gy, index=index, shape=np.shape(value(x)))
    return (g, None) if positional else g


linear(getitem, "ty = tx[index]")


@defop("index_add", "y = zeros(shape); y[index] += g;  gg = gy[index]")
def index_add(g, index, shape):
    """A zero array of ``shape`` with ``g`` added at ``index``: the gradient of ``getitem``.

    Where ``index`` repeats an element, the values added there add up (as
    ``np.add.at``).

    Parameters
    ----------
    g : array_like or Tensor
        The values to add; their shape must broadcast to that of ``zeros(shape)[index]``.
    index : int, slice, None, Ellipsis, array_like, Tensor or tuple of these
        Where to add them, as in ``getitem``.
    shape : tuple of int
        The shape of the result.

    Returns
    -------
    Tensor
        The array of ``shape``, of ``g``'s dtype.

    See Also
    --------
    getitem

    Examples
    --------
    >>> g = ag.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = ag.index_add(g, np.array([0, 2, 0]), (3,))
    >>> y
    Tensor([4. 0. 2.], dtype=float64, op=index_add)
    >>> (y * np.array([1.0, 10.0, 100.0])).sum().backward(); g.grad
    array([  1., 100.,   1.])
    """
    index = _plain_index(index)
    out = np.zeros(shape, dtype=np.result_type(g))
    if _is_basic(index):
        out[index] = g  # basic indices never repeat an element
    else:
        np.add.at(out, index, g)
    return out


@index_add.defvjp
def _index_add_vjp(F, gy, y, g, index, shape):
    return F.getitem(gy, index=index)


linear(index_add, "ty = zeros(shape); ty[index] += tg")


@defop("concatenate", "y = concatenate(xs, axis);  gx_i = the slice of gy that came from x_i")
def _concatenate(*xs, axis=0):
    return np.concatenate(xs, axis=axis)


@_concatenate.defvjp
def _concatenate_vjp(F, gy, y, *xs, axis=0):
    grads, start = [], 0
    ndim = np.ndim(value(y))
    for x in xs:
        n = np.shape(value(x))[axis]
        index = (slice(None),) * (axis % ndim) + (slice(start, start + n),)
        grads.append(F.getitem(gy, index=index))
        start += n
    return tuple(grads)


linear(_concatenate, "ty = concatenate(txs, axis)", all_inputs=True)


def concatenate(tensors, axis=0):
    """Join a sequence of tensors (or arrays) along an existing ``axis``, like ``np.concatenate``.

    Parameters
    ----------
    tensors : sequence of array_like or Tensor
        The pieces; their shapes must agree except along ``axis``.
    axis : int, optional
        The axis to join along (default 0).

    Returns
    -------
    Tensor
        The joined tensor: its size along ``axis`` is the sum of the pieces'.

    See Also
    --------
    stack

    Notes
    -----
    Derivative: through the op ``concatenate`` it applies to the pieces
    (``y = concatenate(xs, axis);  gx_i = the slice of gy that came from x_i``).

    Examples
    --------
    >>> a = ag.Tensor([1.0, 2.0], requires_grad=True)
    >>> b = ag.Tensor([3.0], requires_grad=True)
    >>> y = ag.concatenate([a, b])
    >>> y
    Tensor([1. 2. 3.], dtype=float64, op=concatenate)
    >>> (y * np.array([1.0, 2.0, 3.0])).sum().backward(); a.grad, b.grad
    (array([1., 2.]), array([3.]))
    """
    return _concatenate(*tensors, axis=axis)


@defop("stack", "y = stack(xs, axis);  gx_i = gy taken at position i of axis")
def _stack(*xs, axis=0):
    return np.stack(xs, axis=axis)


@_stack.defvjp
def _stack_vjp(F, gy, y, *xs, axis=0):
    axis = axis % np.ndim(value(y))
    return tuple(F.getitem(gy, index=(slice(None),) * axis + (i,)) for i in range(len(xs)))


linear(_stack, "ty = stack(txs, axis)", all_inputs=True)


def stack(tensors, axis=0):
    """Join a sequence of same-shaped tensors along a new ``axis``, like ``np.stack``.

    Parameters
    ----------
    tensors : sequence of array_like or Tensor
        The pieces, all of one shape.
    axis : int, optional
        The position of the new axis in the result (default 0).

    Returns
    -------
    Tensor
        The stacked tensor: the pieces' shape with ``len(tensors)`` inserted at
        ``axis``.

    See Also
    --------
    concatenate

    Notes
    -----
    Derivative: through the op ``stack`` it applies to the pieces
    (``y = stack(xs, axis);  gx_i = gy taken at position i of axis``).

    Examples
    --------
    >>> a = ag.Tensor([1.0, 2.0], requires_grad=True)
    >>> b = ag.Tensor([3.0, 4.0], requires_grad=True)
    >>> y = ag.stack([a, b], axis=1)
    >>> y
    Tensor([[1. 3.]
     [2. 4.]], dtype=float64, op=stack)
    >>> (y * np.array([1.0, 10.0])).sum().backward(); a.grad, b.grad
    (array([1., 1.]), array([10., 10.]))
    """
    return _stack(*tensors, axis=axis)


@defop("broadcast_to", "y = broadcast_to(x, shape);  gx = sum_to(gy, x.shape)")
def broadcast_to(x, shape):
    """Broadcast ``x`` to ``shape``, like ``np.broadcast_to``.

    The result is a read-only view, as in NumPy.

    Parameters
    ----------
    x : array_like or Tensor
        The input.
    shape : int or tuple of int
        The shape to broadcast to, by NumPy's broadcasting rules.

    Returns
    -------
    Tensor
        ``x`` repeated along the new and size-1 axes, of shape ``shape``.

    See Also
    --------
    sum_to

    Examples
    --------
    >>> x = ag.Tensor([1.0, 2.0], requires_grad=True)
    >>> y = ag.broadcast_to(x, (3, 2))
    >>> y
    Tensor([[1. 2.]
     [1. 2.]
     [1. 2.]], dtype=float64, op=broadcast_to)
    >>> y.sum().backward(); x.grad
    array([3., 3.])
    """
    return np.broadcast_to(x, shape)


@broadcast_to.defvjp
def _broadcast_to_vjp(F, gy, y, x, shape):
    return F.sum_to(gy, shape=np.shape(value(x)))


linear(broadcast_to, "ty = broadcast_to(tx, shape)")


@defop("sum_to", "y = sum_to(x, shape);  gx = broadcast_to(gy, x.shape)")
def sum_to(x, shape):
    """Sum ``x`` down to ``shape``, undoing NumPy broadcasting.

    Leading axes that broadcasting added are summed away, and axes that are 1 in
    ``shape`` are summed with the size 1 kept: the adjoint of ``broadcast_to``.

    Parameters
    ----------
    x : array_like or Tensor
        The input.
    shape : tuple of int
        The shape to reduce to: one that broadcasts to ``x``'s shape.

    Returns
    -------
    Tensor
        The sums, of shape ``shape``.

    See Also
    --------
    broadcast_to

    Examples
    --------
    >>> x = ag.Tensor(np.ones((3, 2)), requires_grad=True)
    >>> y = ag.sum_to(x, (1, 2))
    >>> y
    Tensor([[3. 3.]], dtype=float64, op=sum_to)
    >>> y.sum().backward(); x.grad
    array([[1., 1.], [1., 1.], [1., 1.]])
    >>> ag.sum_to(np.ones((3, 2)), (2,))
    Tensor([3. 3.], dtype=float64)
    """
    shape = tuple(shape)
    lead = np.ndim(x) - len(shape)
    xshape = np.shape(x)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and xshape[lead + i] != 1)
    y = np.sum(x, axis=axes, keepdims=True) if axes else x
    return y.reshape(shape) if lead else y


@sum_to.defvjp
def _sum_to_vjp(F, gy, y, x, shape):
    return F.broadcast_to(gy, shape=np.shape(value(x)))


linear(sum_to, "ty = sum_to(tx, shape)")


@defop("astype", "y = x.astype(dtype);  gx = gy.astype(x.dtype)")
def astype(x, dtype):
    """Cast ``x`` to ``dtype``, like ``ndarray.astype``; gradients are cast back.

    Parameters
    ----------
    x : array_like or Tensor
        The input.
    dtype : data-type
        The dtype to cast to (a NumPy dtype, type or name).

    Returns
    -------
    Tensor
        ``x``'s values as ``dtype`` (``x``'s own data when it already has that
        dtype: no copy).

    Raises
    ------
    ShapeError
        Between real and complex dtypes (the op's ``TypeError``, as the engine
        reports a forward's): only real tensors are differentiable.

    Notes
    -----
    The engine casts every gradient to its input's dtype with this op, so a
    complex gradient reaching a real tensor (a graph that mixed in a complex
    number, ``t * 1j``) raises too, instead of silently dropping its imaginary
    part.

    Examples
    --------
    >>> x = ag.Tensor([1.5, 2.5], requires_grad=True)
    >>> y = ag.astype(x, np.float32)
    >>> y
    Tensor([1.5 2.5], dtype=float32, op=astype)
    >>> y.sum().backward(); x.grad.dtype, x.grad
    (dtype('float64'), array([1., 1.]))
    """
    x = np.asarray(x)
    if (x.dtype.kind == "c") != (np.dtype(dtype).kind == "c"):
        raise TypeError(f"astype: cannot cast {x.dtype} to {np.dtype(dtype)}: autograd_np differentiates real "
                        "floating-point tensors only, and a complex value met a real one (in backward: an op mixed "
                        "a complex number into the graph of a real tensor, e.g. t * 1j); use .data for complex math")
    return x.astype(dtype, copy=False)


@astype.defvjp
def _astype_vjp(F, gy, y, x, dtype):
    return F.astype(gy, dtype=np.result_type(value(x)))


linear(astype, "ty = tx.astype(dtype)")


@defop("copy", "y = a copy of x;  gx = gy")
def copy(x):
    """A new array with ``x``'s values, like ``np.copy``.

    Never a view of ``x``: writing to either leaves the other alone.

    Parameters
    ----------
    x : array_like or Tensor
        The input.

    Returns
    -------
    Tensor
        A copy of ``x``, of its shape and dtype.

    Examples
    --------
    >>> x = ag.Tensor([1.5, 2.5], requires_grad=True)
    >>> y = ag.copy(x)
    >>> y
    Tensor([1.5 2.5], dtype=float64, op=copy)
    >>> y.sum().backward(); x.grad
    array([1., 1.])
    """
    return np.array(x, copy=True)


@copy.defvjp
def _copy_vjp(F, gy, y, x):
    return gy


linear(copy, "ty = tx")
