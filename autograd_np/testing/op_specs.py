"""The op table: how to draw valid inputs for every differentiable op.

``tests/autograd_np/test_ops.py`` gradient-checks every entry with hypothesis,
and a completeness test fails when an op registered with ``defop`` has no
entry here, so no op ships untested.  ``ops_markdown()`` renders the table for
the documentation site (docs/api/ops.md).
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import strategies as st

from .. import core as engine, ops
from .cases import Case, OpSpec, binary, fixed_kwargs, gapped_pair, reduction, unary
from .strategies import arrays, broadcastable_shapes, distinct_arrays, shapes

__all__ = ["Case", "OpSpec", "OP_SPECS", "COMPOSITE_SPECS", "ops_markdown", "jvp_rule", "FALLBACK_JVP"]


@st.composite
def matmul_cases(draw):
    n, k, m, b = (draw(st.integers(1, 4)) for _ in range(4))
    sa, sb = draw(st.sampled_from([((n, k), (k, m)), ((k,), (k, m)), ((n, k), (k,)), ((k,), (k,)),
                                   ((b, n, k), (b, k, m)), ((b, n, k), (k, m)), ((k,), (b, k, m)),
                                   ((1, n, k), (b, k, m))]))
    return Case((draw(arrays(sa)), draw(arrays(sb))), wrt=(0, 1))


@st.composite
def affine_cases(draw):
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    x_shape = draw(st.sampled_from([(n, k), (k,)]))
    return Case((draw(arrays(x_shape)), draw(arrays((k, m))), draw(arrays((m,)))), wrt=(0, 1, 2))


@st.composite
def index_cases(draw):
    """(array, index): ints, slices (negative steps too), integer arrays with
    repeats, boolean masks and tuples of them."""
    x = draw(shapes(min_dims=1).flatmap(arrays))
    n = x.shape[0]
    kind = draw(st.sampled_from(["int", "slice", "reverse", "ints", "mask", "tuple"]))
    if kind == "int":
        index = draw(st.integers(-n, n - 1))
    elif kind == "slice":
        index = slice(draw(st.integers(0, n - 1)), None, draw(st.integers(1, 2)))
    elif kind == "reverse":
        index = slice(None, None, -1)
    elif kind == "ints":
        index = np.array(draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=5)))
    elif kind == "mask":
        index = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    else:
        rows = np.array(draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=4)))
        index = (rows,) if x.ndim == 1 else (rows, draw(st.integers(0, x.shape[1] - 1)))
    return x, index


@st.composite
def joined_cases(draw, new_axis):
    base = draw(shapes(min_dims=1, max_dims=3))
    count = draw(st.integers(1, 3))
    axis = draw(st.integers(-len(base) - new_axis, len(base) - 1 + new_axis))
    parts = []
    for _ in range(count):
        s = list(base)
        if not new_axis:
            s[axis] = draw(st.integers(1, 3))
        parts.append(draw(arrays(tuple(s))))
    return Case(tuple(parts), {"axis": axis}, wrt=tuple(range(count)))


@st.composite
def broadcast_pair(draw):
    """(small, big) shapes with ``small`` broadcastable to ``big``."""
    big = draw(shapes())
    keep = draw(st.integers(0, len(big)))
    small = tuple(1 if draw(st.booleans()) else n for n in big[len(big) - keep:])
    return small, big


@st.composite
def reshape_cases(draw):
    x = draw(shapes().flatmap(arrays))
    target = draw(st.sampled_from([(-1,), x.shape[::-1], (x.size, 1), (1,) + x.shape]))
    return Case((x,), {"shape": target})


@st.composite
def transpose_cases(draw):
    x = draw(shapes().flatmap(arrays))
    axes = draw(st.none() | st.permutations(range(x.ndim)).map(tuple))
    return Case((x,), {"axes": axes})


@st.composite
def maximum_cases(draw):
    return Case(gapped_pair(draw), wrt=(0, 1))


@st.composite
def clip_cases(draw):
    lo, hi = draw(st.sampled_from([(-1.0, 1.0), (None, 0.5), (-0.5, None)]))
    bounds = [v for v in (lo, hi) if v is not None]
    values = st.floats(-2, 2).filter(lambda v: all(abs(v - b) > 0.05 for b in bounds))
    x = draw(shapes().flatmap(lambda s: st.lists(values, min_size=int(np.prod(s)), max_size=int(np.prod(s)))
                              .map(lambda v, s=s: np.array(v, dtype=np.float64).reshape(s))))
    return Case((x,), {"lo": lo, "hi": hi})


@st.composite
def where_cases(draw):
    sc, sa, sb = draw(broadcastable_shapes(num_shapes=3))
    size = int(np.prod(sc))
    cond = np.asarray(draw(st.lists(st.booleans(), min_size=size, max_size=size)), dtype=bool).reshape(sc)
    return Case((cond, draw(arrays(sa)), draw(arrays(sb))), wrt=(1, 2))


@st.composite
def softmax_cases(draw):
    x = draw(shapes(min_dims=1).flatmap(arrays))
    return Case((x,), {"axis": draw(st.integers(-x.ndim, x.ndim - 1))})


@st.composite
def cross_entropy_cases(draw):
    n, c = draw(st.integers(1, 4)), draw(st.integers(2, 5))
    batched = draw(st.booleans())
    x = draw(arrays((n, c) if batched else (c,)))
    rows = x.shape[:-1]
    kind = draw(st.sampled_from(["labels", "one-hot", "soft"]))
    labels = np.array(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))[:n if batched else 1]
    labels = labels.reshape(rows)
    if kind == "labels":
        return Case((x, labels))
    if kind == "one-hot":
        return Case((x, np.eye(c)[labels]))
    logits = draw(arrays(x.shape))
    soft = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    return Case((x, soft), wrt=(0, 1))


@st.composite
def index_add_cases(draw):
    x, index = draw(index_cases())
    g = draw(arrays(x[index].shape))
    return Case((g,), {"index": index, "shape": x.shape})


#: Every op registered with ``defop``, by name: how the tests draw its inputs (``OpSpec``).
OP_SPECS: dict[str, OpSpec] = {
    "add": OpSpec(ops.add, binary(), "two arrays of broadcastable shapes", numpy=np.add),
    "sub": OpSpec(ops.sub, binary(), "two arrays of broadcastable shapes", numpy=np.subtract),
    "mul": OpSpec(ops.mul, binary(), "two arrays of broadcastable shapes", numpy=np.multiply),
    "div": OpSpec(ops.div, binary("real", "nonzero"), "broadcastable; divisor |b| >= 0.25", numpy=np.divide),
    "neg": OpSpec(ops.neg, unary(), "any array", numpy=np.negative),
    "power": OpSpec(ops.power, binary("positive", "real"), "base in [0.5, 3], any exponent; broadcastable", numpy=np.power),
    "matmul": OpSpec(ops.matmul, matmul_cases(), "matrices, vectors and broadcast stacks", numpy=np.matmul),
    "affine": OpSpec(ops.affine, affine_cases(), "x (N, in) or (in,), W (in, out), b (out,)"),
    "sum": OpSpec(ops.sum, reduction(), "any array; axis None, int or tuple; keepdims", numpy=np.sum),
    "mean": OpSpec(ops.mean, reduction(), "any array; axis None, int or tuple; keepdims", numpy=np.mean),
    "max": OpSpec(ops.max, reduction(lambda s: distinct_arrays(s)), "distinct values (no ties); any axis", numpy=np.max),
    "reshape": OpSpec(ops.reshape, reshape_cases(), "any array; -1, reversed and padded shapes"),
    "transpose": OpSpec(ops.transpose, transpose_cases(), "any array; axes None or a permutation"),
    "getitem": OpSpec(ops.getitem, index_cases().map(lambda xi: Case((xi[0], xi[1]))),
                      "ints, slices, integer arrays with repeats, masks, tuples"),
    "index_add": OpSpec(ops.index_add, index_add_cases(), "the gradient of getitem, same indices"),
    "concatenate": OpSpec(engine.OPS["concatenate"], joined_cases(new_axis=0), "1-3 arrays, any axis"),
    "stack": OpSpec(engine.OPS["stack"], joined_cases(new_axis=1), "1-3 same-shaped arrays, any new axis"),
    "broadcast_to": OpSpec(ops.broadcast_to, broadcast_pair().flatmap(
        lambda p: arrays(p[0]).map(lambda x: Case((x,), {"shape": p[1]}))), "a shape and a broadcast of it"),
    "sum_to": OpSpec(ops.sum_to, broadcast_pair().flatmap(
        lambda p: arrays(p[1]).map(lambda x: Case((x,), {"shape": p[0]}))), "a shape and one it broadcasts from"),
    "astype": OpSpec(ops.astype, fixed_kwargs(unary(), dtype=np.float32),
                     "float64 to float32 (coarse step: float32 rounding)", eps=1e-2, atol=1e-4, rtol=1e-3),
    "exp": OpSpec(ops.exp, unary(), "values in [-2, 2]", numpy=np.exp),
    "log": OpSpec(ops.log, unary("positive"), "values in [0.5, 3]", numpy=np.log),
    "sqrt": OpSpec(ops.sqrt, unary("positive"), "values in [0.5, 3]", numpy=np.sqrt),
    "abs": OpSpec(ops.abs, unary("nonzero"), "|x| >= 0.25 (kink at 0)", numpy=np.abs),
    "maximum": OpSpec(ops.maximum, maximum_cases(), "same shapes, |a - b| >= 0.25", numpy=np.maximum),
    "clip": OpSpec(ops.clip, clip_cases(), "values away from the bounds; either bound may be None"),
    "where": OpSpec(ops.where, where_cases(), "boolean condition and two arrays, all broadcastable"),
    "sigmoid": OpSpec(ops.sigmoid, unary(), "values in [-2, 2]"),
    "relu": OpSpec(ops.relu, unary("nonzero"), "|x| >= 0.25 (kink at 0)"),
    "tanh": OpSpec(ops.tanh, unary(), "values in [-2, 2]", numpy=np.tanh),
    "softmax": OpSpec(ops.softmax, softmax_cases(), "at least 1-d; any axis"),
    "log_softmax": OpSpec(ops.log_softmax, softmax_cases(), "at least 1-d; any axis"),
    "softmax_cross_entropy": OpSpec(ops.softmax_cross_entropy, cross_entropy_cases(),
                                    "logits (N, C) or (C,); integer labels, one-hot or soft rows"),
}

# Functions composed from the ops above: checked the same way.
COMPOSITE_SPECS: dict[str, OpSpec] = {
    "min": OpSpec(ops.min, reduction(lambda s: distinct_arrays(s)), "distinct values (no ties); any axis",
                  numpy=np.min, composed="-max(-x, axis)"),
    "mean_squared_error": OpSpec(ops.mean_squared_error, shapes(min_dims=1).flatmap(
        lambda s: st.tuples(arrays(s), arrays(s))).map(lambda yt: Case(yt, wrt=(0, 1))), "y and t of one shape",
                                 composed="0.5 * sum((y - t)**2) / N"),
}

# The families added with the NumPy coverage keep their entries in modules of their own.
from .specs_math import MATH_COMPOSITES, MATH_SPECS
from .specs_layout import LAYOUT_COMPOSITES, LAYOUT_SPECS

OP_SPECS.update(MATH_SPECS)
OP_SPECS.update(LAYOUT_SPECS)
COMPOSITE_SPECS.update(MATH_COMPOSITES)
COMPOSITE_SPECS.update(LAYOUT_COMPOSITES)


# Families that keep their specs in a module of their own.
from .conv_specs import CONV_COMPOSITES, CONV_SPECS

OP_SPECS.update(CONV_SPECS)
COMPOSITE_SPECS.update(CONV_COMPOSITES)
from .specs_effects import EFFECTS_COMPOSITES, EFFECTS_SPECS
from .specs_matrix import MATRIX_COMPOSITES, MATRIX_SPECS

OP_SPECS.update(MATRIX_SPECS)
COMPOSITE_SPECS.update(MATRIX_COMPOSITES)
from .specs_decompositions import DECOMPOSITION_COMPOSITES, DECOMPOSITION_SPECS

OP_SPECS.update(DECOMPOSITION_SPECS)
COMPOSITE_SPECS.update(DECOMPOSITION_COMPOSITES)

OP_SPECS.update(EFFECTS_SPECS)
COMPOSITE_SPECS.update(EFFECTS_COMPOSITES)


# The order of the op table (docs/api/ops.md): by family, then as listed in the specs.
FAMILIES = ["arithmetic", "elementwise", "numeric", "trig", "activations", "nn", "reductions", "linalg",
            "matrix", "decompositions", "contraction", "shape", "layout", "losses", "conv", "effects"]


FALLBACK_JVP = "fallback: transposed VJP"  # an op without a JVP rule: forward mode transposes its VJP


def jvp_rule(op) -> str:
    """An op's forward-mode rule as the table shows it."""
    return f"`{op.jvp_rule}`" if op.jvp is not None else FALLBACK_JVP


def markdown_cell(text: str) -> str:
    """``text`` for a cell of a Markdown table: each ``|`` escaped (``\\|``, even inside a code
    span, as GitHub's tables need), so "divisor |b| >= 0.25" stays one cell."""
    return str(text).replace("|", "\\|")


def ops_markdown() -> str:
    """The op table as Markdown (the documentation site generates its op table page from it):
    every op and composite, grouped by family module, with its derivative (VJP)
    and its forward-mode rule (JVP)."""
    rows = []
    for name, spec in OP_SPECS.items():
        op = engine.OPS[name]
        rows.append((op.forward.__module__.rsplit(".", 1)[-1], f"`{op.rule}`", jvp_rule(op), name, spec))
    for name, spec in COMPOSITE_SPECS.items():
        module = spec.family or (getattr(spec.fn, "__module__", "") or "").rsplit(".", 1)[-1]
        rows.append((module, f"composite: `{spec.composed}`" if spec.composed
                     else "composed from the ops above", "its ops' JVPs", name, spec))
    rank = {family: i for i, family in enumerate(FAMILIES)}
    rows.sort(key=lambda r: rank.get(r[0], len(FAMILIES)))
    lines = ["| op | module | derivative (VJP) | forward mode (JVP) | inputs drawn by the tests |",
             "|---|---|---|---|---|"]
    lines += ["| " + " | ".join(markdown_cell(c) for c in (f"`{name}`", module, rule, jvp, spec.inputs)) + " |"
              for module, rule, jvp, name, spec in rows]
    return "\n".join(lines)


# Every entry's boundary points (0, +-inf, NaN, kinks, ties, singular matrices, empty arrays):
# the boundary sweep (tests/autograd_np/test_boundary_sweep.py) evaluates each op there.
from .boundary_points import BOUNDARIES

for _name, _points in BOUNDARIES.items():
    _table = OP_SPECS if _name in OP_SPECS else COMPOSITE_SPECS
    _table[_name] = replace(_table[_name], boundary=_points)
