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
    """``a`` as a 1-d tensor (also ``flatten``)."""
    return reshape(a, shape=(-1,))


flatten = ravel


def squeeze(a, axis=None):
    """``a`` without its size-1 axes (or only those in ``axis``, which must have size 1)."""
    return reshape(a, shape=np.squeeze(np.asarray(value(a)), axis).shape)


def expand_dims(a, axis):
    """``a`` with new size-1 axes at ``axis`` (an int or a tuple)."""
    return reshape(a, shape=np.expand_dims(np.asarray(value(a)), axis).shape)


def _atleast(arys, shape_of):
    out = [reshape(a, shape=shape_of(_shape(a))) for a in arys]
    return out[0] if len(out) == 1 else out


def atleast_1d(*arys):
    """Each input with at least one axis (a list for several inputs), like ``np.atleast_1d``."""
    return _atleast(arys, lambda s: s or (1,))


def atleast_2d(*arys):
    """At least two axes: a vector ``(n,)`` becomes ``(1, n)``."""
    return _atleast(arys, lambda s: s if len(s) >= 2 else (1,) * (2 - len(s)) + s)


def atleast_3d(*arys):
    """At least three axes: ``(n,)`` becomes ``(1, n, 1)`` and ``(m, n)`` becomes ``(m, n, 1)``."""
    return _atleast(arys, lambda s: {0: (1, 1, 1), 1: (1,) + s + (1,), 2: s + (1,)}.get(len(s), s))


def moveaxis(a, source, destination):
    """Move axes ``source`` to positions ``destination``, the others keeping their order."""
    n = len(_shape(a))
    source, destination = normalize_axis_tuple(source, n, "source"), normalize_axis_tuple(destination, n, "destination")
    if len(source) != len(destination):
        raise ValueError("moveaxis: `source` and `destination` need the same number of elements")
    order = [i for i in range(n) if i not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    return transpose(a, axes=tuple(order))


def swapaxes(a, axis1, axis2):
    """``a`` with two axes interchanged."""
    n = len(_shape(a))
    order = list(range(n))
    i, j = normalize_axis_index(axis1, n), normalize_axis_index(axis2, n)
    order[i], order[j] = order[j], order[i]
    return transpose(a, axes=tuple(order))


# --- reordering ---------------------------------------------------------------------

def flip(m, axis=None):
    """``m`` reversed along ``axis`` (None: every axis)."""
    n = len(_shape(m))
    axes = range(n) if axis is None else normalize_axis_tuple(axis, n)
    return getitem(m, index=tuple(slice(None, None, -1) if i in axes else slice(None) for i in range(n)))


def fliplr(m):
    """``m`` reversed along axis 1."""
    return flip(m, 1)


def flipud(m):
    """``m`` reversed along axis 0."""
    return flip(m, 0)


def rot90(m, k=1, axes=(0, 1)):
    """``m`` rotated by 90 degrees ``k`` times in the plane of ``axes``, as ``np.rot90`` (flips and a transpose)."""
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
    """Elements shifted cyclically by ``shift`` along ``axis`` (None: of the
    flattened array), like ``np.roll``: two slices joined per axis."""
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
    """``arr`` gathered at ``indices`` along ``axis``, like ``np.take_along_axis``."""
    indices = np.asarray(value(indices))
    if axis is None:
        arr, axis = ravel(arr), 0
    shape = _shape(arr)
    ax = normalize_axis_index(axis, len(shape))
    index = tuple(indices if i == ax else np.arange(n).reshape([-1 if j == i else 1 for j in range(len(shape))])
                  for i, n in enumerate(shape))
    return getitem(arr, index=index)


def sort(a, axis=-1):
    """``a`` sorted along ``axis`` (None: flattened).  The gradient follows each
    element to its place; ties keep their order (a stable sort), so a tie's
    gradient goes to the element that sorted there."""
    if axis is None:
        a, axis = ravel(a), 0
    return take_along_axis(a, np.argsort(np.asarray(value(a)), axis=axis, kind="stable"), axis)


def partition(a, kth, axis=-1):
    """``a`` partly sorted so that position ``kth`` holds the element a full sort puts there, like ``np.partition``."""
    if axis is None:
        a, axis = ravel(a), 0
    return take_along_axis(a, np.argpartition(np.asarray(value(a)), kth, axis=axis), axis)


def take(a, indices, axis=None):
    """Elements at ``indices`` along ``axis`` (None: of the flattened array), like ``np.take``."""
    indices = np.asarray(value(indices))
    if axis is None:
        return getitem(ravel(a), index=indices)
    return getitem(a, index=_along(normalize_axis_index(axis, len(_shape(a))), indices))


# --- copies -------------------------------------------------------------------------

def repeat(a, repeats, axis=None):
    """Each element repeated ``repeats`` times along ``axis`` (None: flattened
    first), like ``np.repeat``: a broadcast for one count, a gather for several."""
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
    """``A`` repeated ``reps`` times along each axis, like ``np.tile`` (one broadcast)."""
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
    """Join along axis 1 (axis 0 for vectors), like ``np.hstack``."""
    arrs = _listed(atleast_1d(*tup))
    return concatenate(arrs, axis=0 if arrs and arrs[0].ndim == 1 else 1)


def vstack(tup):
    """Join along axis 0 after making every input at least 2-d, like ``np.vstack``."""
    return concatenate(_listed(atleast_2d(*tup)), axis=0)


def dstack(tup):
    """Join along axis 2 after making every input at least 3-d, like ``np.dstack``."""
    return concatenate(_listed(atleast_3d(*tup)), axis=2)


def column_stack(tup):
    """Vectors as columns (and 2-d inputs as they are), joined along axis 1."""
    cols = [reshape(a, shape=(-1, 1)) if len(_shape(a)) < 2 else a for a in tup]
    return concatenate(cols, axis=1)


def append(arr, values, axis=None):
    """``values`` after ``arr`` along ``axis`` (None: both flattened), like ``np.append``."""
    if axis is None:
        return concatenate([ravel(arr), ravel(values)], axis=0)
    return concatenate([arr, values], axis=axis)


def array_split(ary, indices_or_sections, axis=0):
    """A list of parts along ``axis``: ``n`` parts as equal as can be (the first
    ones one longer), or cut at the given indices, like ``np.array_split``."""
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
    """``array_split``, but a number of sections must divide the axis equally (as ``np.split``)."""
    if np.ndim(indices_or_sections) == 0:
        n = _shape(ary)[normalize_axis_index(axis, len(_shape(ary)))]
        if n % int(indices_or_sections):
            raise ValueError("split: array split does not result in an equal division")
    return array_split(ary, indices_or_sections, axis)


def hsplit(ary, indices_or_sections):
    """``split`` along axis 1 (axis 0 for vectors)."""
    return split(ary, indices_or_sections, axis=1 if len(_shape(ary)) > 1 else 0)


def vsplit(ary, indices_or_sections):
    """``split`` along axis 0 of an array of at least 2 axes."""
    if len(_shape(ary)) < 2:
        raise ValueError("vsplit: only works on arrays of 2 or more dimensions")
    return split(ary, indices_or_sections, axis=0)


# --- pad and diff ---------------------------------------------------------------------

_INDEX_MODES = ("edge", "reflect", "symmetric", "wrap")


def pad(array, pad_width, mode="constant", **kwargs):
    """``array`` padded, like ``np.pad``, for the modes whose result is made of
    the input's elements: "constant" (``constant_values``; the gradient of the
    padding is 0), "edge", "reflect" and "symmetric" (even reflections) and
    "wrap" (the gradient of a copied element adds up at its source)."""
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
    """The ``n``-th difference along ``axis``, like ``np.diff`` (``prepend`` /
    ``append``: values put before / after ``a`` first; a scalar is broadcast)."""
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
    """The diagonal of the ``axis1``, ``axis2`` planes (``offset`` above it when
    positive), appended as the last axis, like ``np.diagonal``."""
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
    """A 1-d ``v`` on the ``k``-th diagonal of a square matrix, or the ``k``-th
    diagonal of a 2-d ``v``, like ``np.diag``."""
    shape = _shape(v)
    if len(shape) == 1:
        size = shape[0] + abs(k)
        rows, cols = np.arange(shape[0]) + max(-k, 0), np.arange(shape[0]) + max(k, 0)
        return index_add(v, index=(rows, cols), shape=(size, size))
    if len(shape) == 2:
        return diagonal(v, offset=k)
    raise ValueError(f"diag: input must be 1-d or 2-d, not of shape {shape}")


def tril(m, k=0):
    """``m`` with the elements above the ``k``-th diagonal zeroed (on the last two axes)."""
    return where(np.tri(*_shape(m)[-2:], k=k, dtype=bool), m, 0.0)


def triu(m, k=0):
    """``m`` with the elements below the ``k``-th diagonal zeroed (on the last two axes)."""
    return where(~np.tri(*_shape(m)[-2:], k=k - 1, dtype=bool), m, 0.0)


# --- building tensors -----------------------------------------------------------------

def _holds_tensor(obj):
    return type(obj) is Tensor or (isinstance(obj, (list, tuple)) and any(_holds_tensor(o) for o in obj))


def array(obj, dtype=None):
    """A tensor from nested lists of tensors and numbers, recorded (a stack of
    stacks): the graph-keeping form of ``np.array([t1, t2])``, which gives values."""
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
    """``num`` evenly spaced values from ``start`` to ``stop`` (arrays: along a
    new first axis), differentiable in both ends."""
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
    """The inputs broadcast to their common shape (a list), like ``np.broadcast_arrays``."""
    shape = np.broadcast_shapes(*[_shape(a) for a in args])
    return [broadcast_to(a, shape=shape) for a in args]
