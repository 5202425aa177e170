"""vmap's batching rules: for each op, how to compute it on whole batches.

A rule is ``rule(values, batched, params, size)``: ``values`` are the op's
positional arguments, each batched one with the batch axis first (a value of
the level below), ``batched`` says which, ``params`` are the op's keyword
parameters as the op got them (for one example), and ``size`` is the batch
size.  It returns the batch of results, batch axis first, computed with the
ops themselves (``GRAPH_OPS``), so that what it does is recorded,
differentiable and batched again by an enclosing vmap.

Here: elementwise ops, reductions and shape ops; ``batching_linalg.py`` and
``batching_nn.py`` hold the others, ``batch_util.py`` the helpers.  An op with no
rule cannot take a batched tensor (``levels.Level.run_op`` says so).
"""
from __future__ import annotations

import numpy as np

from ..core import Tensor
from ..core.errors import ShapeError
from ..core.registry import GRAPH_OPS as F
from .batch_util import arg, broadcast_batch, lift, ndim, shift_axis, shift_axes
from .levels import RULES, VmapError

__all__ = ["RULES"]


def _register(names, make):
    for name in names:
        RULES[name] = make(name)


# --- elementwise -------------------------------------------------------------------

def _elementwise(name):
    def rule(values, batched, params, size):
        op = getattr(F, name)  # (looked up late: the ops register after this module loads)
        rank = max([ndim(v, b) for v, b in zip(values, batched)] +
                   [ndim(p) for p in params.values() if isinstance(p, (np.ndarray, Tensor))])
        return op(*[lift(v, b, rank) for v, b in zip(values, batched)], **params)
    return rule


ELEMENTWISE = ["add", "sub", "mul", "div", "neg", "power", "exp", "log", "sqrt", "abs", "maximum", "clip", "where",
               "exp2", "expm1", "log1p", "log2", "log10", "logaddexp", "logaddexp2", "square", "reciprocal", "cbrt",
               "minimum", "fmax", "fmin", "nan_to_num", "erf", "sign", "floor", "ceil", "trunc", "rint", "round",
               "remainder", "fmod", "floor_divide", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "arctan2",
               "hypot", "sinh", "cosh", "arcsinh", "arccosh", "arctanh", "sigmoid", "relu", "tanh", "leaky_relu",
               "softplus", "gelu", "astype", "copy", "dropout_mask"]
_register(ELEMENTWISE, _elementwise)


# --- reductions and axis ops --------------------------------------------------------

def _reduction(name):
    def rule(values, batched, params, size):
        op = getattr(F, name)  # (looked up late: the ops register after this module loads)
        x = values[0]
        return op(x, **{**params, "axis": shift_axes(params.get("axis"), ndim(x, True), name)})
    return rule


_register(["sum", "mean", "max", "prod", "var", "std", "logsumexp"], _reduction)


def _along(name):
    """cumsum, cumprod (axis None: the flattened example), softmax, log_softmax."""
    def rule(values, batched, params, size):
        op = getattr(F, name)  # (looked up late: the ops register after this module loads)
        x = values[0]
        axis = params.get("axis", -1)
        if axis is None:
            return op(F.reshape(x, shape=(size, -1)), **{**params, "axis": 1})
        return op(x, **{**params, "axis": shift_axis(axis, ndim(x, True), name)})
    return rule


_register(["cumsum", "cumprod", "softmax", "log_softmax"], _along)


# --- shapes ---------------------------------------------------------------------------

def _reshape(values, batched, params, size):
    shape = arg(values, params, 1, "shape")
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return F.reshape(values[0], shape=(size,) + shape)


def _transpose(values, batched, params, size):
    x, axes = values[0], arg(values, params, 1, "axes") if len(values) > 1 or "axes" in params else None
    n = ndim(x, True)
    if axes is None:
        return F.transpose(x, axes=(0,) + tuple(range(n, 0, -1)))
    if sorted(int(a) % max(n, 1) for a in axes) != list(range(n)) or len(axes) != n:
        raise ShapeError(f"transpose: axes {tuple(axes)} are not a permutation of an array of dimension {n}")
    return F.transpose(x, axes=(0,) + tuple(shift_axis(a, n, "transpose") for a in axes))


def _broadcast_to(values, batched, params, size):
    shape = arg(values, params, 1, "shape")
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return F.broadcast_to(lift(values[0], True, len(shape)), shape=(size,) + shape)


def _sum_to(values, batched, params, size):
    x, shape = values[0], tuple(arg(values, params, 1, "shape"))
    have = tuple(x.shape[1:])
    lead = len(have) - len(shape)
    if lead < 0 or any(n != 1 and n != m for n, m in zip(shape, have[lead:])):
        raise ShapeError(f"sum_to: shape {have} cannot be summed to {shape}")
    axes = tuple(range(1, lead + 1)) + tuple(1 + lead + i for i, n in enumerate(shape) if n == 1 and have[lead + i] != 1)
    out = F.sum(x, axis=axes, keepdims=True) if axes else x
    return F.reshape(out, shape=(size,) + shape)


def _joined(name, new_axis):
    def rule(values, batched, params, size):
        op = getattr(F, name)  # (looked up late: the ops register after this module loads)
        parts = [v if b else broadcast_batch(v, size) for v, b in zip(values, batched)]
        axis = params.get("axis", 0)
        if axis is None and not new_axis:  # the examples flattened first
            return op(*[F.reshape(p, shape=(size, -1)) for p in parts], axis=1)
        return op(*parts, axis=shift_axis(axis, ndim(values[0], batched[0]) + new_axis, name))
    return rule


RULES.update(reshape=_reshape, transpose=_transpose, broadcast_to=_broadcast_to, sum_to=_sum_to,
             concatenate=_joined("concatenate", 0), stack=_joined("stack", 1))


# --- indexing -------------------------------------------------------------------------

def _advanced(i):
    return isinstance(i, (np.ndarray, list, Tensor)) or (isinstance(i, (int, np.integer)) and not isinstance(i, bool))


def batch_position(index):
    """Where the batch axis lands in ``x[(slice(None),) + index]``: 0, unless the
    index's advanced entries (arrays; ints among arrays) are not next to each other,
    when NumPy puts their broadcast axes first."""
    items = index if type(index) is tuple else (index,)
    arrays = [i for i in items if isinstance(i, (np.ndarray, list, Tensor))]
    if not arrays:
        return 0
    places = [k for k, i in enumerate(items) if _advanced(i)]
    if places == list(range(places[0], places[-1] + 1)):
        return 0
    shapes = []
    for i in items:
        if _advanced(i):
            a = np.asarray(i.data if type(i) is Tensor else i)
            shapes += [(int(np.count_nonzero(a)),)] * a.ndim if a.dtype == bool else [a.shape]
    return len(np.broadcast_shapes(*shapes))


def _move(x, source, target):
    if source == target:
        return x
    order = list(range(x.ndim))
    order.insert(target, order.pop(source))
    return F.transpose(x, axes=tuple(order))


def _getitem(values, batched, params, size):
    x, index = values[0], arg(values, params, 1, "index")
    if len(values) > 1 and batched[1]:
        return _gather(x, batched[0], index, size)
    items = index if type(index) is tuple else (index,)
    out = F.getitem(x, (slice(None),) + items)
    return _move(out, batch_position(items), 0)


def _gather(x, x_batched, index, size):
    """``x[index]`` with a batched integer index (labels picking rows)."""
    if index.dtype.kind not in "iu":
        raise VmapError(f"vmap: getitem with a batched index of dtype {index.dtype} (a mask's result has a shape "
                        "that depends on its values); only integer index arrays are batched")
    if not x_batched:
        return F.getitem(x, index)
    rows = np.arange(size).reshape((size,) + (1,) * (index.ndim - 1))
    return F.getitem(x, (rows, index))


def _index_add(values, batched, params, size):
    g, index, shape = values[0], arg(values, params, 1, "index"), tuple(arg(values, params, 2, "shape"))
    items = index if type(index) is tuple else (index,)
    g = _move(g, 0, batch_position(items))
    return F.index_add(g, (slice(None),) + items, (size,) + shape)


RULES.update(getitem=_getitem, index_add=_index_add)
