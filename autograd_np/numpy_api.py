"""NumPy's own functions on tensors: ``np.exp(t)``, ``np.sum(t, axis=0)``,
``np.concatenate([t, u])``, ``arr * t``.

``Tensor`` hooks NumPy's two override protocols to the two functions here:
``__array_ufunc__`` (NEP 13: ufuncs such as ``np.exp``, ``np.add``, and the
operators of an ndarray on the left, ``arr @ t``) and ``__array_function__``
(NEP 18: ``np.sum``, ``np.concatenate``, ...).  Every NumPy function given a
tensor lands in one of three tables, or raises:

* ``UFUNCS`` / ``FUNCTIONS``: differentiable, dispatched to the autograd_np
  function, so the call records graph nodes.  The adapters here take NumPy's
  signature and refuse what would write outside the graph (``out=``) or that
  we do not implement (``where=``, ``initial=``, ``order="F"``) by name.
* ``VALUE_UFUNCS`` / ``VALUE_FUNCTIONS``: results with no derivative
  (comparisons, ``isnan``, ``argmax``, ``shape``, ``zeros_like``, ``all``):
  computed on the values, returning NumPy arrays, as comparisons of tensors do.
* Anything else raises ``TypeError`` naming the function: computing it on the
  values would drop the gradient without a word.  ``t.data`` gives the values.

What NumPy does not dispatch: ``np.asarray(t)`` and ``np.array(t)`` give the
values (``__array__``), and so does ``np.array([t1, t2])`` and any NumPy
function given a *list* holding tensors (``np.sum([t1, t2])``); ``ag.array``
and ``ag.stack`` record.  An ndarray method given a tensor (``arr.dot(t)``)
sees its values too.

The tables are filled on first use (they need the ops, which need the engine,
which hooks these functions in), so importing the engine stays cheap.
"""
from __future__ import annotations

import numpy as np

from . import engine, modes

__all__ = ["array_ufunc", "array_function", "UFUNCS", "FUNCTIONS", "VALUE_UFUNCS", "VALUE_FUNCTIONS"]

UFUNCS: dict = {}           # ufunc -> function of the inputs, recording
FUNCTIONS: dict = {}        # NumPy function -> adapter with NumPy's signature, recording
VALUE_UFUNCS: set = set()   # ufuncs computed on the values (no derivative)
VALUE_FUNCTIONS: set = set()
_NO = np._NoValue
_REFERENCE = "the README's op table lists them"


def _unsupported(name, argument=None, why=None):
    """The TypeError for a NumPy function (``name``: "numpy.sum"), or one of its arguments, we do not support."""
    if argument is None:
        return TypeError(f"{name} is not supported on autograd_np tensors: computed on the values it would drop the "
                         f"graph, and the gradient with it. Use t.data for the values (no gradient), or an "
                         f"autograd_np function ({_REFERENCE}).")
    return TypeError(f"{name}(..., {argument}) is not supported on autograd_np tensors: "
                     f"{why or 'leave it out, or pass t.data for the values (no gradient)'}.")


def _values(x, reader=None):
    """``x`` with the tensors in it (also inside lists, tuples and dicts) replaced by their arrays.
    ``reader``: the NumPy function about to compute on the values (no derivative), which
    ``ag.compile`` counts as Python reading them."""
    kind = type(x)
    if kind is engine.Tensor:
        if reader is not None and modes.tracers:
            modes.value_read(x, reader)
        return x._data
    if kind is list or kind is tuple:
        return kind(_values(v, reader) for v in x)
    if kind is dict:
        return {k: _values(v, reader) for k, v in x.items()}
    return x


# --- the two protocol methods (bound in Tensor) ----------------------------------------

def array_ufunc(self, ufunc, method, *inputs, **kwargs):
    """``Tensor.__array_ufunc__``: a ufunc with a tensor among its inputs (or its ``out``)."""
    if method == "__call__":
        impl = UFUNCS.get(ufunc)
        if impl is None and not UFUNCS:
            _build()
            impl = UFUNCS.get(ufunc)
        if impl is not None:
            if kwargs:
                _check_ufunc_kwargs(ufunc.__name__, kwargs)
            return impl(*inputs)
        if ufunc in VALUE_UFUNCS:
            if any(type(o) is engine.Tensor for o in kwargs.get("out") or ()):
                raise _unsupported(f"numpy.{ufunc.__name__}", "out=<a tensor>", "it would write into a tensor's "
                                   "array behind the graph's back")
            return ufunc(*_values(inputs, f"numpy.{ufunc.__name__}"), **kwargs)
        raise _unsupported(f"numpy.{ufunc.__name__}")
    if not UFUNCS:
        _build()
    impl = _METHODS.get((ufunc, method))
    if impl is None:
        raise _unsupported(f"numpy.{ufunc.__name__}.{method}")
    return impl(*inputs, **kwargs)


def array_function(self, func, types, args, kwargs):
    """``Tensor.__array_function__``: a NumPy function with a tensor among its arguments."""
    impl = FUNCTIONS.get(func)
    if impl is None:
        if not FUNCTIONS:
            _build()
            return array_function(self, func, types, args, kwargs)
        if func in VALUE_FUNCTIONS:
            return func(*_values(args, _name(func)), **_values(kwargs, _name(func)))
        raise _unsupported(_name(func))
    return impl(*args, **kwargs)


def _name(func):
    return f"{getattr(func, '__module__', None) or 'numpy'}.{getattr(func, '__name__', repr(func))}"


_UFUNC_DEFAULTS = {"out": None, "where": True, "casting": "same_kind", "order": "K", "dtype": None, "subok": True,
                   "signature": None}


def _check_ufunc_kwargs(name, kwargs):
    for key, given in kwargs.items():
        if key == "out" and (given is None or all(o is None for o in given)):
            continue
        default = _UFUNC_DEFAULTS.get(key, _NO)
        if not (given is default or (isinstance(given, (str, bool)) and given == default)):
            if key == "out":
                raise _unsupported(f"numpy.{name}", "out=...", "it would write into an array outside the graph; "
                                   "write `a = a + t`, not `a += t`")
            raise _unsupported(f"numpy.{name}", f"{key}={given!r}")


def _refuse(name, **given):
    """Raise for an argument we do not implement, unless it has its default (None, or NumPy's no-value)."""
    for key, v in given.items():
        if v is not None and v is not _NO and not (key == "where" and v is True):
            raise _unsupported(f"numpy.{name}", f"{key}=...", "it would write into an array outside the graph"
                               if key == "out" else None)


# --- the tables ------------------------------------------------------------------------

_METHODS: dict = {}  # (ufunc, "reduce" / "accumulate") -> adapter


def _build():
    """Fill the tables (on the first NumPy call on a tensor)."""
    from . import ops
    from .ops import layout

    def cast(a, dtype):
        return a if dtype is None else ops.astype(a, dtype=dtype)

    def keep(keepdims):
        return False if keepdims is _NO else bool(keepdims)

    def complex_values(fn, real):
        """``fn`` on a complex tensor's values (complex tensors never require grad: the
        values are all there is), ``real`` (recording) on a real one."""
        def apply(x, *rest, **kwargs):
            if type(x) is engine.Tensor and x._data.dtype.kind == "c":
                return engine.Tensor(fn(x._data, *rest, **kwargs))
            return real(x, *rest, **kwargs)
        return apply

    def same(x, *rest, **kwargs):  # real, conj, positive, real_if_close of a real tensor: itself
        return x

    def zeros(x):  # the imaginary part of a real tensor: 0 (never NaN), gradient 0
        return ops.where(False, x, 0.0)

    def angle(z, deg=False):  # of a real number: 0 or pi, as arctan2(0, x) gives it (gradient 0)
        a = ops.arctan2(0.0, z)
        return ops.rad2deg(a) if deg else a

    def float_power(a, b):
        return ops.power(ops.astype(a, dtype=np.float64), b)

    def divmod_(a, b):
        return ops.floor_divide(a, b), ops.remainder(a, b)

    UFUNCS.update({
        np.add: ops.add, np.subtract: ops.sub, np.multiply: ops.mul, np.divide: ops.div, np.power: ops.power,
        np.float_power: float_power, np.negative: ops.neg, np.positive: complex_values(np.positive, same),
        np.absolute: ops.abs, np.fabs: ops.abs, np.matmul: ops.matmul,
        np.exp: ops.exp, np.exp2: ops.exp2, np.expm1: ops.expm1, np.log: ops.log, np.log2: ops.log2,
        np.log10: ops.log10, np.log1p: ops.log1p, np.logaddexp: ops.logaddexp, np.logaddexp2: ops.logaddexp2,
        np.sqrt: ops.sqrt, np.cbrt: ops.cbrt, np.square: ops.square, np.reciprocal: ops.reciprocal,
        np.sin: ops.sin, np.cos: ops.cos, np.tan: ops.tan, np.arcsin: ops.arcsin, np.arccos: ops.arccos,
        np.arctan: ops.arctan, np.arctan2: ops.arctan2, np.hypot: ops.hypot, np.sinh: ops.sinh, np.cosh: ops.cosh,
        np.tanh: ops.tanh, np.arcsinh: ops.arcsinh, np.arccosh: ops.arccosh, np.arctanh: ops.arctanh,
        np.deg2rad: ops.deg2rad, np.rad2deg: ops.rad2deg,  # np.radians and np.degrees are other ufuncs
        np.radians: ops.deg2rad, np.degrees: ops.rad2deg,
        np.maximum: ops.maximum, np.minimum: ops.minimum, np.fmax: ops.fmax, np.fmin: ops.fmin,
        np.remainder: ops.remainder, np.fmod: ops.fmod, np.floor_divide: ops.floor_divide, np.divmod: divmod_,
        np.sign: ops.sign, np.floor: ops.floor, np.ceil: ops.ceil, np.trunc: ops.trunc, np.rint: ops.rint,
        np.conjugate: complex_values(np.conjugate, same),
    })
    VALUE_UFUNCS.update({
        np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal, np.isfinite, np.isnan,
        np.isinf, np.signbit, np.logical_and, np.logical_or, np.logical_xor, np.logical_not, np.bitwise_and,
        np.bitwise_or, np.bitwise_xor, np.invert, np.left_shift, np.right_shift, np.gcd, np.lcm,
    })

    def reduce(op, name):
        def method(array, axis=0, dtype=None, out=None, keepdims=False, initial=_NO, where=True):
            _refuse(f"{name}.reduce", out=out, initial=initial, where=where)
            return op(cast(array, dtype), axis=axis, keepdims=keepdims)
        return method

    def accumulate(op, name):
        def method(array, axis=0, dtype=None, out=None):
            _refuse(f"{name}.accumulate", out=out)
            return op(cast(array, dtype), axis=axis)
        return method

    _METHODS.update({(np.add, "reduce"): reduce(ops.sum, "add"), (np.multiply, "reduce"): reduce(ops.prod, "multiply"),
                     (np.maximum, "reduce"): reduce(ops.max, "maximum"),
                     (np.minimum, "reduce"): reduce(ops.min, "minimum"),
                     (np.add, "accumulate"): accumulate(ops.cumsum, "add"),
                     (np.multiply, "accumulate"): accumulate(ops.cumprod, "multiply")})

    # reductions
    def sum_(a, axis=None, dtype=None, out=None, keepdims=_NO, initial=_NO, where=_NO):
        _refuse("sum", out=out, initial=initial, where=where)
        return ops.sum(cast(a, dtype), axis=axis, keepdims=keep(keepdims))

    def mean(a, axis=None, dtype=None, out=None, keepdims=_NO, *, where=_NO):
        _refuse("mean", out=out, where=where)
        return ops.mean(cast(a, dtype), axis=axis, keepdims=keep(keepdims))

    def prod(a, axis=None, dtype=None, out=None, keepdims=_NO, initial=_NO, where=_NO):
        _refuse("prod", out=out, initial=initial, where=where)
        return ops.prod(cast(a, dtype), axis=axis, keepdims=keep(keepdims))

    def extreme(op, name):
        def reduce_(a, axis=None, out=None, keepdims=_NO, initial=_NO, where=_NO):
            _refuse(name, out=out, initial=initial, where=where)
            return op(a, axis=axis, keepdims=keep(keepdims))
        return reduce_

    def spread(op, name):
        def reduce_(a, axis=None, dtype=None, out=None, ddof=0, keepdims=_NO, *, where=_NO, mean=_NO,
                    correction=_NO):
            _refuse(name, out=out, where=where, mean=mean)
            if correction is not _NO:
                ddof = correction
            return op(cast(a, dtype), axis=axis, ddof=ddof, keepdims=keep(keepdims))
        return reduce_

    def cumulative(op, name):
        def scan(a, axis=None, dtype=None, out=None):
            _refuse(name, out=out)
            return op(cast(a, dtype), axis=axis)
        return scan

    def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
        _refuse("median", out=out)  # (overwrite_input only lets NumPy scribble on its input; ours is never written)
        return ops.median(a, axis=axis, keepdims=keepdims)

    def copy(a, order="K", subok=False):
        _refuse("copy", order=None if order in ("K", "C", "A") else order)
        return ops.copy(a)

    # shapes and layout
    def reshape(a, shape=None, order="C", *, newshape=None, copy=None):
        _refuse("reshape", order=None if order == "C" else order)
        return ops.reshape(a, shape=newshape if shape is None else shape)

    def transpose(a, axes=None):
        return ops.transpose(a, axes=None if axes is None else tuple(axes))

    def ravel(a, order="C"):
        _refuse("ravel", order=None if order == "C" else order)
        return layout.ravel(a)

    def concatenate(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
        _refuse("concatenate", out=out)
        arrays = [cast(a, dtype) for a in arrays]
        return ops.concatenate([layout.ravel(a) for a in arrays] if axis is None else arrays, axis=axis or 0)

    def stack(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
        _refuse("stack", out=out)
        return ops.stack([cast(a, dtype) for a in arrays], axis=axis)

    def joined(fn):
        def join(tup, *, dtype=None, casting="same_kind"):
            return fn([cast(a, dtype) for a in tup])
        return join

    def broadcast_to(array, shape, subok=False):
        return ops.broadcast_to(array, shape=(shape,) if np.ndim(shape) == 0 else tuple(shape))

    def broadcast_arrays(*args, subok=False):
        return tuple(layout.broadcast_arrays(*args))

    def where(condition, x=_NO, y=_NO):
        if x is _NO and y is _NO:
            return np.where(_values(condition, "numpy.where"))  # the indices of the true elements: no derivative
        return ops.where(condition, x, y)

    def clip(a, a_min=_NO, a_max=_NO, out=None, *, min=_NO, max=_NO, **kwargs):
        _refuse("clip", out=out, **kwargs)
        lo, hi = (a_min if min is _NO else min), (a_max if max is _NO else max)
        return ops.clip(a, lo=None if lo is _NO else _values(lo), hi=None if hi is _NO else _values(hi))

    def sort(a, axis=-1, kind=None, order=None, *, stable=None):
        _refuse("sort", order=order)
        return layout.sort(a, axis=axis)

    def partition(a, kth, axis=-1, kind="introselect", order=None):
        _refuse("partition", order=order)
        return layout.partition(a, kth, axis=axis)

    def take(a, indices, axis=None, out=None, mode="raise"):
        _refuse("take", out=out, mode=None if mode == "raise" else mode)
        return layout.take(a, indices, axis=axis)

    def take_along_axis(arr, indices, axis=-1):
        return layout.take_along_axis(arr, indices, axis)

    def diff(a, n=1, axis=-1, prepend=_NO, append=_NO):
        return layout.diff(a, n, axis, prepend=None if prepend is _NO else prepend,
                           append=None if append is _NO else append)

    def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *, device=None):
        _refuse("linspace", retstep=retstep or None, dtype=dtype, axis=axis or None)
        return layout.linspace(start, stop, num, endpoint)

    def squeeze(a, axis=None):
        return layout.squeeze(a, axis)

    # contractions
    def dot(a, b, out=None):
        _refuse("dot", out=out)
        return ops.dot(a, b)

    def outer(a, b, out=None):
        _refuse("outer", out=out)
        return ops.outer(a, b)

    def einsum(*operands, out=None, optimize=False, dtype=None, order="K", casting="safe"):
        _refuse("einsum", out=out, dtype=dtype, order=None if order == "K" else order)
        return ops.einsum(*operands, optimize=optimize)

    def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
        _refuse("trace", out=out)
        return ops.trace(cast(a, dtype), offset, axis1, axis2)

    def pinv(a, rcond=None, hermitian=False, *, rtol=_NO):
        _refuse("linalg.pinv", rcond=rcond, hermitian=hermitian or None, rtol=None if rtol is _NO else rtol)
        return ops.pinv(a)

    # elementwise functions that are not ufuncs
    def round_(a, decimals=0, out=None):
        _refuse("round", out=out)
        return ops.round(a, decimals=decimals)

    def fix(x, out=None):
        _refuse("fix", out=out)
        return ops.trunc(x)

    def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
        _refuse("nan_to_num", copy=None if copy else False)
        return ops.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    FUNCTIONS.update({
        np.sum: sum_, np.mean: mean, np.prod: prod, np.max: extreme(ops.max, "max"),
        np.amax: extreme(ops.max, "amax"), np.min: extreme(ops.min, "min"), np.amin: extreme(ops.min, "amin"),
        np.var: spread(ops.var, "var"), np.std: spread(ops.std, "std"), np.cumsum: cumulative(ops.cumsum, "cumsum"),
        np.cumprod: cumulative(ops.cumprod, "cumprod"),
        np.median: median, np.copy: copy, np.cross: ops.cross,
        np.reshape: reshape, np.transpose: transpose, np.ravel: ravel, np.squeeze: squeeze,
        np.expand_dims: layout.expand_dims, np.atleast_1d: layout.atleast_1d, np.atleast_2d: layout.atleast_2d,
        np.atleast_3d: layout.atleast_3d, np.moveaxis: layout.moveaxis, np.swapaxes: layout.swapaxes,
        np.flip: layout.flip, np.fliplr: layout.fliplr, np.flipud: layout.flipud, np.rot90: layout.rot90,
        np.roll: layout.roll, np.repeat: layout.repeat, np.tile: layout.tile,
        np.concatenate: concatenate, np.stack: stack, np.hstack: joined(layout.hstack),
        np.vstack: joined(layout.vstack), np.dstack: layout.dstack, np.column_stack: layout.column_stack,
        np.append: layout.append, np.split: layout.split, np.array_split: layout.array_split,
        np.hsplit: layout.hsplit, np.vsplit: layout.vsplit, np.pad: layout.pad, np.diff: diff,
        np.sort: sort, np.partition: partition, np.take: take, np.take_along_axis: take_along_axis,
        np.broadcast_to: broadcast_to, np.broadcast_arrays: broadcast_arrays, np.where: where, np.clip: clip,
        np.diagonal: layout.diagonal, np.diag: layout.diag, np.tril: layout.tril, np.triu: layout.triu,
        np.linspace: linspace,
        np.dot: dot, np.vdot: ops.vdot, np.inner: ops.inner, np.outer: outer, np.tensordot: ops.tensordot,
        np.einsum: einsum, np.kron: ops.kron, np.trace: trace,
        np.linalg.inv: ops.inv, np.linalg.det: ops.det, np.linalg.slogdet: ops.slogdet, np.linalg.solve: ops.solve,
        np.linalg.norm: ops.norm, np.linalg.cholesky: ops.cholesky, np.linalg.eigh: ops.eigh,
        np.linalg.eigvalsh: ops.eigvalsh, np.linalg.pinv: pinv, np.linalg.matrix_power: ops.matrix_power,
        np.linalg.svd: ops.svd,
        np.round: round_, np.around: round_, np.fix: fix, np.nan_to_num: nan_to_num,
        np.real: complex_values(np.real, same), np.real_if_close: complex_values(np.real_if_close, same),
        np.imag: complex_values(np.imag, zeros), np.angle: complex_values(np.angle, angle),
    })
    VALUE_FUNCTIONS.update({
        np.shape, np.ndim, np.size, np.argmax, np.argmin, np.argsort, np.argpartition, np.argwhere, np.nonzero,
        np.flatnonzero, np.count_nonzero, np.searchsorted, np.all, np.any, np.isclose, np.allclose,
        np.array_equal, np.array_equiv, np.zeros_like, np.ones_like, np.empty_like, np.full_like,
        np.iscomplexobj, np.isrealobj, np.iscomplex, np.isreal, np.isneginf, np.isposinf, np.result_type,
        np.can_cast, np.min_scalar_type, np.may_share_memory, np.shares_memory, np.array2string, np.array_repr,
        np.array_str, np.bincount, np.digitize,
    })
