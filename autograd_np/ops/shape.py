"""Shape and layout: reshape, transpose, indexing, concatenate/stack, broadcasting, casts."""
import numpy as np

from ..core.recording import defop
from ._util import value


@defop("reshape", "y = reshape(x, shape);  gx = reshape(gy, x.shape)")
def reshape(x, shape):
    """``x`` with a new shape (one entry may be -1)."""
    return np.reshape(x, shape)


@reshape.defvjp
def _reshape_vjp(F, gy, y, x, shape):
    return F.reshape(gy, shape=np.shape(value(x)))


@defop("transpose", "y = transpose(x, axes);  gx = transpose(gy, inverse(axes))")
def transpose(x, axes=None):
    """Permute axes (reverse them when ``axes`` is None)."""
    return np.transpose(x, axes)


@transpose.defvjp
def _transpose_vjp(F, gy, y, x, axes=None):
    return F.transpose(gy, axes=None if axes is None else tuple(np.argsort(axes)))


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
    """``x[index]``: basic slicing and integer-array (fancy) indexing."""
    return x[_plain_index(index)]


@getitem.defvjp
def _getitem_vjp(F, gy, y, x, *positional, index=None):
    # ``t[i]`` passes the index as an input (one gradient more: None); VJPs pass ``index=``
    index = positional[0] if positional else index
    g = F.index_add(gy, index=index, shape=np.shape(value(x)))
    return (g, None) if positional else g


@defop("index_add", "y = zeros(shape); y[index] += g;  gg = gy[index]")
def index_add(g, index, shape):
    """A zero array of ``shape`` with ``g`` added at ``index`` (repeats add up):
    the gradient of ``getitem``."""
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


def concatenate(tensors, axis=0):
    """Join a sequence of tensors (or arrays) along an existing ``axis``."""
    return _concatenate(*tensors, axis=axis)


@defop("stack", "y = stack(xs, axis);  gx_i = gy taken at position i of axis")
def _stack(*xs, axis=0):
    return np.stack(xs, axis=axis)


@_stack.defvjp
def _stack_vjp(F, gy, y, *xs, axis=0):
    axis = axis % np.ndim(value(y))
    return tuple(F.getitem(gy, index=(slice(None),) * axis + (i,)) for i in range(len(xs)))


def stack(tensors, axis=0):
    """Join a sequence of same-shaped tensors along a new ``axis``."""
    return _stack(*tensors, axis=axis)


@defop("broadcast_to", "y = broadcast_to(x, shape);  gx = sum_to(gy, x.shape)")
def broadcast_to(x, shape):
    """``x`` broadcast to ``shape`` (a read-only view, as in NumPy)."""
    return np.broadcast_to(x, shape)


@broadcast_to.defvjp
def _broadcast_to_vjp(F, gy, y, x, shape):
    return F.sum_to(gy, shape=np.shape(value(x)))


@defop("sum_to", "y = sum_to(x, shape);  gx = broadcast_to(gy, x.shape)")
def sum_to(x, shape):
    """Sum ``x`` down to ``shape``, undoing NumPy broadcasting (leading axes
    removed, size-1 axes summed)."""
    shape = tuple(shape)
    lead = np.ndim(x) - len(shape)
    xshape = np.shape(x)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and xshape[lead + i] != 1)
    y = np.sum(x, axis=axes, keepdims=True) if axes else x
    return y.reshape(shape) if lead else y


@sum_to.defvjp
def _sum_to_vjp(F, gy, y, x, shape):
    return F.broadcast_to(gy, shape=np.shape(value(x)))


@defop("astype", "y = x.astype(dtype);  gx = gy.astype(x.dtype)")
def astype(x, dtype):
    """Cast to ``dtype`` (gradients are cast back).  Between real and complex it
    raises: only real tensors are differentiable, and the engine casts every
    gradient to its input's dtype here, so a complex gradient reaching a real
    tensor (a graph that mixed in a complex number, ``t * 1j``) raises too,
    instead of silently dropping its imaginary part."""
    x = np.asarray(x)
    if (x.dtype.kind == "c") != (np.dtype(dtype).kind == "c"):
        raise TypeError(f"astype: cannot cast {x.dtype} to {np.dtype(dtype)}: autograd_np differentiates real "
                        "floating-point tensors only, and a complex value met a real one (in backward: an op mixed "
                        "a complex number into the graph of a real tensor, e.g. t * 1j); use .data for complex math")
    return x.astype(dtype, copy=False)


@astype.defvjp
def _astype_vjp(F, gy, y, x, dtype):
    return F.astype(gy, dtype=np.result_type(value(x)))


@defop("copy", "y = a copy of x;  gx = gy")
def copy(x):
    """A new array with ``x``'s values, like ``np.copy``: never a view of ``x``, so
    writing to either leaves the other alone."""
    return np.array(x, copy=True)


@copy.defvjp
def _copy_vjp(F, gy, y, x):
    return gy
