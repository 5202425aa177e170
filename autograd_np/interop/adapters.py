"""The tables of ``numpy_api``: NumPy's functions and ufuncs, each mapped to the
autograd_np function that records it, with NumPy's signature (the adapters
here), or to the values (no derivative).  ``build()`` fills them on the first
NumPy call on a tensor.  Every entry of ``FUNCTIONS`` names its differentiable
parameters (``inputs``) and those read for their values only (``values``);
``numpy_api.guarded`` refuses a tensor that requires grad anywhere else."""
from __future__ import annotations

import numpy as np

from .. import core as engine
from .dispatch import FUNCTIONS, METHODS, UFUNCS, VALUE_FUNCTIONS, VALUE_UFUNCS, _NO, _holds_tensor, _unsupported, _values, as_tensors, float_dtype, guarded, refuse


def _ops():
    from .. import ops
    return ops


def cast(name, a, dtype, casting="unsafe"):
    """``a`` cast to the floating ``dtype`` (non-float ones never get here: see ``float_dtype``),
    refused as NumPy refuses it under ``casting``."""
    if dtype is None:
        return a
    have = np.asarray(_values(a)).dtype
    if not np.can_cast(have, dtype, casting):
        raise _unsupported(f"numpy.{name}", f"dtype={np.dtype(dtype)}", f"NumPy does not cast {have} to "
                           f"{np.dtype(dtype)} under casting={casting!r}")
    return _ops().astype(a, dtype=dtype)


def array_input(name, key, x):
    """``x`` for a parameter that takes one array: a list holding a tensor that requires grad would
    be read as values by NumPy, so it raises."""
    if type(x) is not engine.Tensor and _holds_tensor(x, needs_grad=True):
        raise _unsupported(f"numpy.{name}", f"{key}=[<a tensor that requires grad>, ...]", "NumPy would read "
                           "the list's values and the gradient would be lost; combine tensors with ag.stack")
    return x


def _keep(keepdims):
    return False if keepdims is _NO else bool(keepdims)


# --- ufuncs --------------------------------------------------------------------------

def _ufuncs(ops):
    def complex_values(fn, real):
        """``fn`` on a complex tensor's values (complex tensors never require grad: the
        values are all there is), ``real`` (recording) on a real one."""
        def apply(x, *rest, **kwargs):
            if type(x) is engine.Tensor and x._data.dtype.kind == "c":
                return engine.Tensor(fn(x._data, *rest, **kwargs))
            return real(x, *rest, **kwargs)
        return apply

    def float_power(a, b):
        return ops.power(ops.astype(a, dtype=np.float64), b)

    def divmod_(a, b):
        return ops.floor_divide(a, b), ops.remainder(a, b)

    UFUNCS.update({
        np.add: ops.add, np.subtract: ops.sub, np.multiply: ops.mul, np.divide: ops.div, np.power: ops.power,
        np.float_power: float_power, np.negative: ops.neg, np.positive: complex_values(np.positive, _same),
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
        np.conjugate: complex_values(np.conjugate, _same),
    })
    VALUE_UFUNCS.update({
        np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal, np.isfinite, np.isnan,
        np.isinf, np.signbit, np.logical_and, np.logical_or, np.logical_xor, np.logical_not, np.bitwise_and,
        np.bitwise_or, np.bitwise_xor, np.invert, np.left_shift, np.right_shift, np.gcd, np.lcm,
    })
    return complex_values


def _same(x, *rest, **kwargs):  # real, conj, positive, real_if_close of a real tensor: itself
    return x


def _methods(ops):
    def reduce(op, ufunc):
        name = f"numpy.{ufunc.__name__}.reduce"

        def method(array, axis=0, dtype=None, out=None, keepdims=False, initial=_NO, where=True):
            refuse(f"{ufunc.__name__}.reduce", out=out, initial=initial, where=where)
            if float_dtype(name, array, dtype):
                return as_tensors(ufunc.reduce(_values(array, name), axis=axis, dtype=dtype, keepdims=keepdims))
            return op(cast(name, array, dtype), axis=axis, keepdims=keepdims)
        return method

    def accumulate(op, ufunc):
        name = f"numpy.{ufunc.__name__}.accumulate"

        def method(array, axis=0, dtype=None, out=None):
            refuse(f"{ufunc.__name__}.accumulate", out=out)
            if float_dtype(name, array, dtype):
                return as_tensors(ufunc.accumulate(_values(array, name), axis=axis, dtype=dtype))
            return op(cast(name, array, dtype), axis=axis)
        return method

    METHODS.update({(np.add, "reduce"): reduce(ops.sum, np.add), (np.multiply, "reduce"): reduce(ops.prod, np.multiply),
                    (np.maximum, "reduce"): reduce(ops.max, np.maximum),
                    (np.minimum, "reduce"): reduce(ops.min, np.minimum),
                    (np.add, "accumulate"): accumulate(ops.cumsum, np.add),
                    (np.multiply, "accumulate"): accumulate(ops.cumprod, np.multiply)})


def build():
    """Fill the tables."""
    ops = _ops()
    complex_values = _ufuncs(ops)
    _methods(ops)
    for func, adapter, *spec in _functions(ops, complex_values):
        FUNCTIONS[func] = guarded(func, adapter, *spec)
    VALUE_FUNCTIONS.update({
        np.shape, np.ndim, np.size, np.argmax, np.argmin, np.argsort, np.argpartition, np.argwhere, np.nonzero,
        np.flatnonzero, np.count_nonzero, np.searchsorted, np.all, np.any, np.isclose, np.allclose,
        np.array_equal, np.array_equiv, np.zeros_like, np.ones_like, np.empty_like,
        np.iscomplexobj, np.isrealobj, np.iscomplex, np.isreal, np.isneginf, np.isposinf, np.result_type,
        np.can_cast, np.min_scalar_type, np.may_share_memory, np.shares_memory, np.array2string, np.array_repr,
        np.array_str, np.digitize,
    })


# --- functions -----------------------------------------------------------------------

def _clip(ops):
    def clip(a, a_min=_NO, a_max=_NO, out=None, *, min=_NO, max=_NO, **kwargs):
        refuse("clip", out=out, **kwargs)
        lo, hi = (a_min if min is _NO else min), (a_max if max is _NO else max)
        lo, hi = (None if lo is _NO else array_input("clip", "a_min", lo)), (None if hi is _NO else
                                                                              array_input("clip", "a_max", hi))
        if not (_holds_tensor(lo, needs_grad=True) or _holds_tensor(hi, needs_grad=True)):
            return ops.clip(a, lo=_values(lo), hi=_values(hi))
        return bounded(array_input("clip", "a", a), lo, hi)

    def bounded(x, lo, hi):
        """``min(max(x, lo), hi)`` as NumPy computes it, differentiable in the bounds too: at a tie
        the gradient goes to ``x`` (PyTorch's clamp), a NaN's to where NumPy took it from."""
        read = "numpy.clip"  # the masks are computed in Python: ag.compile is told of the values read
        xv = _values(x, read)
        if lo is not None:
            take_x = (xv >= _values(lo, read)) | np.isnan(xv)
            x, xv = ops.where(take_x, x, lo), np.where(take_x, xv, _values(lo, read))
        if hi is not None:
            keep = (xv <= _values(hi, read)) | np.isnan(xv)
            x = ops.where(keep, x, hi)
        return x
    return clip


def _bincount(ops):
    def bincount(x, weights=None, minlength=0):
        x = _values(x, "numpy.bincount")
        counts = np.bincount(x, weights=_values(array_input("bincount", "weights", weights), "numpy.bincount"),
                             minlength=_values(minlength, "numpy.bincount"))
        if type(weights) is not engine.Tensor:
            return counts
        # a scatter-add of the weights (in float64, as NumPy computes it): its gradient gathers
        return ops.index_add(ops.astype(weights, dtype=np.float64), index=(np.asarray(x),), shape=counts.shape)
    return bincount


def _full_like(ops):
    def full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, **kwargs):
        fill_value = array_input("full_like", "fill_value", fill_value)
        full = np.full_like(_values(a, "numpy.full_like"), _values(fill_value, "numpy.full_like"), dtype, order,
                            subok, _values(shape, "numpy.full_like"), **kwargs)
        if not _holds_tensor(fill_value, needs_grad=True):
            return full  # the template's values do not matter: no derivative
        float_dtype("numpy.full_like", fill_value, full.dtype)
        return ops.copy(ops.broadcast_to(ops.astype(fill_value, dtype=full.dtype), shape=full.shape))
    return full_like


def _reductions(ops):
    def sum_(a, axis=None, dtype=None, out=None, keepdims=_NO, initial=_NO, where=_NO):
        refuse("sum", out=out, initial=initial, where=where)
        return ops.sum(cast("sum", a, dtype), axis=axis, keepdims=_keep(keepdims))

    def mean(a, axis=None, dtype=None, out=None, keepdims=_NO, *, where=_NO):
        refuse("mean", out=out, where=where)
        return ops.mean(cast("mean", a, dtype), axis=axis, keepdims=_keep(keepdims))

    def prod(a, axis=None, dtype=None, out=None, keepdims=_NO, initial=_NO, where=_NO):
        refuse("prod", out=out, initial=initial, where=where)
        return ops.prod(cast("prod", a, dtype), axis=axis, keepdims=_keep(keepdims))

    def extreme(op, name):
        def reduce_(a, axis=None, out=None, keepdims=_NO, initial=_NO, where=_NO):
            refuse(name, out=out, initial=initial, where=where)
            return op(a, axis=axis, keepdims=_keep(keepdims))
        return reduce_

    def spread(op, name):
        def reduce_(a, axis=None, dtype=None, out=None, ddof=0, keepdims=_NO, *, where=_NO, mean=_NO,
                    correction=_NO):
            refuse(name, out=out, where=where, mean=mean)
            if correction is not _NO:
                ddof = correction
            return op(cast(name, a, dtype), axis=axis, ddof=ddof, keepdims=_keep(keepdims))
        return reduce_

    def cumulative(op, name):
        def scan(a, axis=None, dtype=None, out=None):
            refuse(name, out=out)
            return op(cast(name, a, dtype), axis=axis)
        return scan

    def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
        refuse("median", out=out)  # (overwrite_input only lets NumPy scribble on its input; ours is never written)
        return ops.median(a, axis=axis, keepdims=keepdims)

    def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
        refuse("trace", out=out)
        return ops.trace(cast("trace", a, dtype), offset, axis1, axis2)

    return [(np.sum, sum_), (np.mean, mean), (np.prod, prod), (np.max, extreme(ops.max, "max")),
            (np.amax, extreme(ops.max, "amax")), (np.min, extreme(ops.min, "min")),
            (np.amin, extreme(ops.min, "amin")), (np.var, spread(ops.var, "var")), (np.std, spread(ops.std, "std")),
            (np.cumsum, cumulative(ops.cumsum, "cumsum")), (np.cumprod, cumulative(ops.cumprod, "cumprod")),
            (np.median, median), (np.trace, trace)]


def _layout(ops):
    from ..ops import layout

    def copy(a, order="K", subok=False):
        refuse("copy", order=None if order in ("K", "C", "A") else order)
        return ops.copy(a)

    def reshape(a, shape=None, order="C", *, newshape=None, copy=None):
        refuse("reshape", order=None if order == "C" else order)
        return ops.reshape(a, shape=newshape if shape is None else shape)

    def transpose(a, axes=None):
        return ops.transpose(a, axes=None if axes is None else tuple(axes))

    def ravel(a, order="C"):
        refuse("ravel", order=None if order == "C" else order)
        return layout.ravel(a)

    def concatenate(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
        refuse("concatenate", out=out)
        arrays = [cast("concatenate", a, dtype, casting) for a in arrays]
        return ops.concatenate([layout.ravel(a) for a in arrays] if axis is None else arrays, axis=axis or 0)

    def stack(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
        refuse("stack", out=out)
        return ops.stack([cast("stack", a, dtype, casting) for a in arrays], axis=axis)

    def joined(fn, name):
        def join(tup, *, dtype=None, casting="same_kind"):
            return fn([cast(name, a, dtype, casting) for a in tup])
        return join

    def broadcast_to(array, shape, subok=False):
        return ops.broadcast_to(array, shape=(shape,) if np.ndim(shape) == 0 else tuple(shape))

    def broadcast_arrays(*args, subok=False):
        return tuple(layout.broadcast_arrays(*args))

    def where(condition, x=_NO, y=_NO):
        if x is _NO and y is _NO:  # the indices of the true elements: no derivative
            return np.where(_values(condition, "numpy.where"))
        return ops.where(condition, x, y)

    def sort(a, axis=-1, kind=None, order=None, *, stable=None):
        refuse("sort", order=order)
        return layout.sort(a, axis=axis)

    def partition(a, kth, axis=-1, kind="introselect", order=None):
        refuse("partition", order=order)
        return layout.partition(a, kth, axis=axis)

    def take(a, indices, axis=None, out=None, mode="raise"):
        refuse("take", out=out, mode=None if mode == "raise" else mode)
        return layout.take(a, indices, axis=axis)

    def diff(a, n=1, axis=-1, prepend=_NO, append=_NO):
        return layout.diff(a, n, axis, prepend=None if prepend is _NO else prepend,
                           append=None if append is _NO else append)

    def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *, device=None):
        refuse("linspace", retstep=retstep or None, axis=axis or None)
        return cast("linspace", layout.linspace(start, stop, num, endpoint), dtype)

    return [(np.copy, copy), (np.reshape, reshape), (np.transpose, transpose), (np.ravel, ravel),
            (np.squeeze, lambda a, axis=None: layout.squeeze(a, axis)), (np.expand_dims, layout.expand_dims),
            (np.atleast_1d, layout.atleast_1d), (np.atleast_2d, layout.atleast_2d), (np.atleast_3d, layout.atleast_3d),
            (np.moveaxis, layout.moveaxis), (np.swapaxes, layout.swapaxes), (np.flip, layout.flip),
            (np.fliplr, layout.fliplr), (np.flipud, layout.flipud), (np.rot90, layout.rot90),
            (np.roll, layout.roll), (np.repeat, layout.repeat), (np.tile, layout.tile),
            (np.concatenate, concatenate), (np.stack, stack), (np.hstack, joined(layout.hstack, "hstack")),
            (np.vstack, joined(layout.vstack, "vstack")), (np.dstack, layout.dstack),
            (np.column_stack, layout.column_stack), (np.append, layout.append, "arr values"),
            (np.split, layout.split), (np.array_split, layout.array_split), (np.hsplit, layout.hsplit),
            (np.vsplit, layout.vsplit), (np.pad, layout.pad), (np.diff, diff, "a prepend append"), (np.sort, sort),
            (np.partition, partition), (np.take, take), (np.take_along_axis, layout.take_along_axis),
            (np.broadcast_to, broadcast_to), (np.broadcast_arrays, broadcast_arrays),
            (np.where, where, "x y", "condition"),
            (np.diagonal, layout.diagonal), (np.diag, layout.diag), (np.tril, layout.tril), (np.triu, layout.triu),
            (np.linspace, linspace, "start stop")]


def _algebra(ops):
    def dot(a, b, out=None):
        refuse("dot", out=out)
        return ops.dot(a, b)

    def outer(a, b, out=None):
        refuse("outer", out=out)
        return ops.outer(a, b)

    def einsum(*operands, out=None, optimize=False, dtype=None, order="K", casting="safe"):
        refuse("einsum", out=out, dtype=dtype, order=None if order == "K" else order)
        return ops.einsum(*operands, optimize=optimize)

    def pinv(a, rcond=None, hermitian=False, *, rtol=_NO):
        refuse("linalg.pinv", rcond=rcond, hermitian=hermitian or None, rtol=None if rtol is _NO else rtol)
        return ops.pinv(a)

    def norm(x, ord=None, axis=None, keepdims=False):
        if isinstance(ord, np.ndarray) and ord.ndim == 0:  # NumPy takes a 0-d array as the number
            ord = ord.item()
        return ops.norm(x, ord, axis, keepdims)

    two = "a b"
    return [(np.dot, dot, two), (np.vdot, ops.vdot, two), (np.inner, ops.inner, two), (np.outer, outer, two),
            (np.tensordot, ops.tensordot, two), (np.einsum, einsum), (np.kron, ops.kron, two),
            (np.cross, ops.cross, two), (np.linalg.inv, ops.inv), (np.linalg.det, ops.det),
            (np.linalg.slogdet, ops.slogdet), (np.linalg.solve, ops.solve, two), (np.linalg.norm, norm),
            (np.linalg.cholesky, ops.cholesky), (np.linalg.eigh, ops.eigh), (np.linalg.eigvalsh, ops.eigvalsh),
            (np.linalg.pinv, pinv), (np.linalg.matrix_power, ops.matrix_power), (np.linalg.svd, ops.svd)]


def _elementwise(ops, complex_values):
    def round_(a, decimals=0, out=None):
        refuse("round", out=out)
        return ops.round(a, decimals=decimals)

    def fix(x, out=None):
        refuse("fix", out=out)
        return ops.trunc(x)

    def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
        refuse("nan_to_num", copy=None if copy else False)
        return ops.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    def zeros(x):  # the imaginary part of a real tensor: 0 (never NaN), gradient 0
        return ops.where(False, x, 0.0)

    def angle(z, deg=False):  # of a real number: 0 or pi, as arctan2(0, x) gives it (gradient 0)
        a = ops.arctan2(0.0, z)
        return ops.rad2deg(a) if deg else a

    return [(np.round, round_), (np.around, round_), (np.fix, fix), (np.nan_to_num, nan_to_num),
            (np.real, complex_values(np.real, _same)), (np.real_if_close, complex_values(np.real_if_close, _same)),
            (np.imag, complex_values(np.imag, zeros)), (np.angle, complex_values(np.angle, angle))]


def _functions(ops, complex_values):
    """(NumPy function, adapter, inputs, values) for every function of ``FUNCTIONS``."""
    return [*_reductions(ops), *_layout(ops), *_algebra(ops), *_elementwise(ops, complex_values),
            (np.clip, _clip(ops), "a a_min a_max min max"), (np.bincount, _bincount(ops), "weights"),
            (np.full_like, _full_like(ops), "fill_value", "a", False)]
