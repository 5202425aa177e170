"""Op-table entries for the elementwise, rounding, trigonometric, reduction
and network ops added for NumPy coverage (``ops/elementwise.py``,
``numeric.py``, ``trig.py``, ``reductions.py``, ``nn.py``)."""
from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from .. import core as engine, ops
from .cases import Case, OpSpec, binary, fixed_kwargs, gapped_pair, reduction, unary
from .strategies import arrays, axes_for, broadcastable_shapes, distinct_arrays, shapes

ABOVE_ONE = (1.2, 3.0, 0.0)        # arccosh
ABOVE_MINUS_ONE = (-0.5, 2.0, 0.0)  # log1p


def _count(shape, axis):
    if axis is None:
        return int(np.prod(shape))
    axes = (axis,) if isinstance(axis, int) else axis
    return int(np.prod([shape[a] for a in axes]))


@st.composite
def stepped(draw):
    """Values 0.1 k + 0.03: at least 0.02 from every integer, half and
    0.05 + 0.1 k, where floor, ceil, trunc, rint, round(., 1) and sign jump."""
    shape = draw(shapes())
    size = int(np.prod(shape))
    k = draw(st.lists(st.integers(-25, 25), min_size=size, max_size=size))
    return (np.array(k, dtype=np.float64) * 0.1 + 0.03).reshape(shape)


@st.composite
def quotient_cases(draw):
    """(a, b) for remainder-like ops: ``b`` broadcastable to ``a``, |b| in [0.7, 1.9],
    and ``a / b`` at least 0.1 from every integer (where the remainder jumps)."""
    sa = draw(shapes())
    keep = draw(st.integers(0, len(sa)))
    sb = tuple(1 if draw(st.booleans()) else n for n in sa[len(sa) - keep:])
    b = draw(arrays(sb, domain=(-1.9, 1.9, 0.7)))
    size = int(np.prod(sa))
    whole = np.array(draw(st.lists(st.integers(-2, 2), min_size=size, max_size=size)), dtype=np.float64)
    frac = np.array(draw(st.lists(st.floats(0.1, 0.9), min_size=size, max_size=size)), dtype=np.float64)
    return Case((np.asarray((whole + frac).reshape(sa) * b), b), wrt=(0, 1))


@st.composite
def gapped_cases(draw):
    return Case(gapped_pair(draw), wrt=(0, 1))


@st.composite
def with_non_finite(draw):
    """Arrays with some NaN and infinities, whose gradient through nan_to_num is 0."""
    x = draw(shapes().flatmap(arrays)).copy()
    flat = x.reshape(-1)
    for i in draw(st.lists(st.integers(0, flat.size - 1), max_size=3)):
        flat[i] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    # finite replacements for the infinities: the dtype's extremes would drown the rest of a numerical gradient
    return Case((x,), {"nan": draw(st.sampled_from([0.0, -1.0])), "posinf": 4.0, "neginf": -4.0})


def _product_values(shape):
    """Values in +-[0.6, 1.5] (products of up to 64 stay moderate), and some exact zeros."""
    values = st.one_of(st.floats(0.6, 1.5), st.floats(-1.5, -0.6), st.floats(0.6, 1.5), st.just(0.0))
    size = int(np.prod(shape))
    return st.lists(values, min_size=size, max_size=size).map(lambda v: np.array(v, dtype=np.float64).reshape(shape))


@st.composite
def spread_cases(draw, distinct=False):
    """var/std: an axis, keepdims and ddof in {0, 1}, with more values per slice than ddof
    (std: at least two distinct values, so the derivative is finite)."""
    s = draw(shapes())
    axis = draw(axes_for(len(s)))
    ddof = draw(st.sampled_from([0, 1]))
    n = _count(s, axis)
    if n <= ddof or (distinct and n < 2):
        s, axis = s + (3,), -1
    x = draw(distinct_arrays(s) if distinct else arrays(s))
    return Case((x,), {"axis": axis, "ddof": ddof, "keepdims": draw(st.booleans())})


@st.composite
def cumsum_cases(draw, values=arrays):
    """An array (``values(shape)``) and an axis: None (the flattened array) or an int."""
    x = draw(shapes().flatmap(values))
    axis = draw(st.none() | (st.integers(-x.ndim, x.ndim - 1) if x.ndim else st.none()))
    return Case((x,), {"axis": axis})


@st.composite
def median_cases(draw):
    """Distinct values (the middle element is unique), axis None or an int, keepdims."""
    x = draw(shapes().flatmap(distinct_arrays))
    axis = draw(st.none() | (st.integers(-x.ndim, x.ndim - 1) if x.ndim else st.none()))
    return Case((x,), {"axis": axis, "keepdims": draw(st.booleans())})


@st.composite
def layer_norm_cases(draw):
    x = draw(shapes(min_dims=1).flatmap(arrays))
    axis = draw(st.sampled_from([-1, tuple(range(max(x.ndim - 2, 0), x.ndim))]))
    axes = (axis % x.ndim,) if isinstance(axis, int) else axis
    if int(np.prod([x.shape[a] for a in axes])) < 2:  # one value per slice: the output is constant 0
        x = draw(arrays(x.shape[:-1] + (3,)))
    wshape = x.shape[axes[0]:]
    weight = draw(st.none() | arrays(wshape, domain="positive"))
    bias = draw(st.none() | arrays(wshape))
    wrt = (0,) + ((1,) if weight is not None else ()) + ((2,) if bias is not None else ())
    return Case((x, weight, bias), {"axis": axis}, wrt=wrt)


@st.composite
def embedding_cases(draw):
    vocab, features = draw(st.integers(1, 5)), draw(st.integers(1, 3))
    ishape = draw(shapes(max_dims=2))
    ids = np.array(draw(st.lists(st.integers(0, vocab - 1), min_size=int(np.prod(ishape)),
                                 max_size=int(np.prod(ishape))))).reshape(ishape)
    return Case((ids, draw(arrays((vocab, features)))), wrt=(1,))


def _logsumexp_numpy(x, axis, keepdims):
    """NumPy's own logaddexp, reduced (no overflow: log(sum(exp(x))) is inf at 1e308)."""
    if not np.size(x):
        return np.full(np.sum(x, axis=axis, keepdims=keepdims).shape, -np.inf)
    return np.logaddexp.reduce(x, axis=axis, keepdims=keepdims)


def _layer_norm_numpy(x, weight, bias, axis=-1, eps=1e-5):
    m = x.mean(axis=axis, keepdims=True)
    y = (x - m) / np.sqrt(((x - m) ** 2).mean(axis=axis, keepdims=True) + eps)
    return y * (1 if weight is None else weight) + (0 if bias is None else bias)


def _gelu_numpy(x, approximate="none"):
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1 + np.vectorize(math.erf, otypes=[float])(x / math.sqrt(2)))


MATH_SPECS: dict[str, OpSpec] = {
    # elementwise
    "exp2": OpSpec(ops.exp2, unary(), "values in [-2, 2]", numpy=np.exp2),
    "expm1": OpSpec(ops.expm1, unary(), "values in [-2, 2]", numpy=np.expm1),
    "log1p": OpSpec(ops.log1p, unary(ABOVE_MINUS_ONE), "values in [-0.5, 2]", numpy=np.log1p),
    "log2": OpSpec(ops.log2, unary("positive"), "values in [0.5, 3]", numpy=np.log2),
    "log10": OpSpec(ops.log10, unary("positive"), "values in [0.5, 3]", numpy=np.log10),
    "logaddexp": OpSpec(ops.logaddexp, binary(), "two arrays of broadcastable shapes", numpy=np.logaddexp),
    "logaddexp2": OpSpec(ops.logaddexp2, binary(), "two arrays of broadcastable shapes", numpy=np.logaddexp2),
    "square": OpSpec(ops.square, unary(), "any array", numpy=np.square),
    "reciprocal": OpSpec(ops.reciprocal, unary("nonzero"), "|x| >= 0.25", numpy=np.reciprocal),
    "cbrt": OpSpec(ops.cbrt, unary("nonzero"), "|x| >= 0.25 (infinite slope at 0)", numpy=np.cbrt),
    "minimum": OpSpec(ops.minimum, gapped_cases(), "same shapes, |a - b| >= 0.25", numpy=np.minimum),
    "fmax": OpSpec(ops.fmax, gapped_cases(), "same shapes, |a - b| >= 0.25", numpy=np.fmax),
    "fmin": OpSpec(ops.fmin, gapped_cases(), "same shapes, |a - b| >= 0.25", numpy=np.fmin),
    "nan_to_num": OpSpec(ops.nan_to_num, with_non_finite(), "values with some NaN, inf and -inf",
                         numpy=lambda x, **kw: np.nan_to_num(x, **kw)),
    "erf": OpSpec(ops.erf, unary(), "values in [-2, 2]", numpy=np.vectorize(math.erf, otypes=[float])),
    # numeric: piecewise constant, and remainders
    "sign": OpSpec(ops.sign, stepped().map(lambda x: Case((x,))), "0.1 k + 0.03 (away from the jumps)",
                   numpy=np.sign),
    "floor": OpSpec(ops.floor, stepped().map(lambda x: Case((x,))), "0.1 k + 0.03 (away from the jumps)",
                    numpy=np.floor),
    "ceil": OpSpec(ops.ceil, stepped().map(lambda x: Case((x,))), "0.1 k + 0.03 (away from the jumps)",
                   numpy=np.ceil),
    "trunc": OpSpec(ops.trunc, stepped().map(lambda x: Case((x,))), "0.1 k + 0.03 (away from the jumps)",
                    numpy=np.trunc),
    "rint": OpSpec(ops.rint, stepped().map(lambda x: Case((x,))), "0.1 k + 0.03 (away from the jumps)",
                   numpy=np.rint),
    "round": OpSpec(ops.round, st.tuples(stepped(), st.sampled_from([0, 1])).map(
        lambda xd: Case((xd[0],), {"decimals": xd[1]})), "0.1 k + 0.03; decimals 0 or 1", numpy=np.round),
    "remainder": OpSpec(ops.remainder, quotient_cases(), "b broadcastable to a, |b| in [0.7, 1.9], a / b off integers",
                        numpy=np.remainder),
    "fmod": OpSpec(ops.fmod, quotient_cases(), "b broadcastable to a, |b| in [0.7, 1.9], a / b off integers",
                   numpy=np.fmod),
    "floor_divide": OpSpec(ops.floor_divide, quotient_cases(), "b broadcastable to a, a / b off integers",
                           numpy=np.floor_divide),
    # trig
    "sin": OpSpec(ops.sin, unary(), "values in [-2, 2]", numpy=np.sin),
    "cos": OpSpec(ops.cos, unary(), "values in [-2, 2]", numpy=np.cos),
    "tan": OpSpec(ops.tan, unary("unit"), "values in [-0.9, 0.9]", numpy=np.tan),
    "arcsin": OpSpec(ops.arcsin, unary("unit"), "values in [-0.9, 0.9]", numpy=np.arcsin),
    "arccos": OpSpec(ops.arccos, unary("unit"), "values in [-0.9, 0.9]", numpy=np.arccos),
    "arctan": OpSpec(ops.arctan, unary(), "values in [-2, 2]", numpy=np.arctan),
    "arctan2": OpSpec(ops.arctan2, binary("nonzero", "nonzero"), "broadcastable; |a|, |b| >= 0.25",
                      numpy=np.arctan2),
    "hypot": OpSpec(ops.hypot, binary("nonzero", "nonzero"), "broadcastable; |a|, |b| >= 0.25", numpy=np.hypot),
    "sinh": OpSpec(ops.sinh, unary(), "values in [-2, 2]", numpy=np.sinh),
    "cosh": OpSpec(ops.cosh, unary(), "values in [-2, 2]", numpy=np.cosh),
    "arcsinh": OpSpec(ops.arcsinh, unary(), "values in [-2, 2]", numpy=np.arcsinh),
    "arccosh": OpSpec(ops.arccosh, unary(ABOVE_ONE), "values in [1.2, 3]", numpy=np.arccosh),
    "arctanh": OpSpec(ops.arctanh, unary("unit"), "values in [-0.9, 0.9]", numpy=np.arctanh),
    # reductions
    "prod": OpSpec(ops.prod, reduction(_product_values), "+-[0.6, 1.5] and exact zeros; any axis; keepdims",
                   numpy=np.prod),
    "var": OpSpec(ops.var, spread_cases(), "any axis; ddof 0 or 1 (fewer values than ddof + 1 avoided)",
                  numpy=np.var),
    "std": OpSpec(ops.std, spread_cases(distinct=True), "distinct values; any axis; ddof 0 or 1", numpy=np.std),
    "cumsum": OpSpec(ops.cumsum, cumsum_cases(), "any array; axis None or an int", numpy=np.cumsum),
    "cumprod": OpSpec(ops.cumprod, cumsum_cases(_product_values), "+-[0.6, 1.5] and exact zeros; axis None or an int",
                      numpy=np.cumprod),
    "logsumexp": OpSpec(ops.logsumexp, reduction(), "any array; axis None, int or tuple; keepdims",
                        numpy=_logsumexp_numpy),
    # nn
    "leaky_relu": OpSpec(ops.leaky_relu, st.tuples(unary("nonzero"), st.sampled_from([0.01, 0.2])).map(
        lambda cs: Case(cs[0].args, {"negative_slope": cs[1]})), "|x| >= 0.25 (kink at 0); slopes 0.01, 0.2",
                         numpy=lambda x, negative_slope: np.where(x > 0, x, negative_slope * x)),
    "softplus": OpSpec(ops.softplus, unary(), "values in [-2, 2]", numpy=lambda x: np.logaddexp(0, x)),
    "gelu": OpSpec(ops.gelu, st.tuples(unary(), st.sampled_from(["none", "tanh"])).map(
        lambda ca: Case(ca[0].args, {"approximate": ca[1]})), "values in [-2, 2]; exact and tanh forms",
                   numpy=_gelu_numpy),
    "layer_norm": OpSpec(engine.OPS["layer_norm"], layer_norm_cases(),
                         "last axis or last two; weight and bias optional", numpy=_layer_norm_numpy),
}

MATH_COMPOSITES: dict[str, OpSpec] = {
    "median": OpSpec(ops.median, median_cases(), "distinct values; axis None or an int; keepdims", numpy=np.median,
                     composed="mean of the middle one or two of sort(x, axis)"),
    "deg2rad": OpSpec(ops.deg2rad, unary(), "values in [-2, 2]", numpy=np.deg2rad, composed="x * pi / 180"),
    "rad2deg": OpSpec(ops.rad2deg, unary(), "values in [-2, 2]", numpy=np.rad2deg, composed="x * 180 / pi"),
    "silu": OpSpec(ops.silu, unary(), "values in [-2, 2]", numpy=lambda x: x / (1 + np.exp(-x)),
                   composed="x * sigmoid(x)"),
    "embedding": OpSpec(ops.embedding, embedding_cases(), "integer indices of any shape, weight (vocab, features)",
                        numpy=lambda ids, w: w[ids], composed="weight[indices]"),
}
