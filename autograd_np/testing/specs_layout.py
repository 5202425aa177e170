"""Op-table entries for einsum and the contraction and layout functions
composed from the shape ops (``ops/contraction.py``, ``ops/layout.py``)."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from .. import core as engine, ops
from ..ops.contraction import _explicit
from .cases import Case, OpSpec, unary
from .strategies import arrays, distinct_arrays, shapes

# (subscripts, operand shapes in letters): the combinations HIPS autograd checks, and more
EINSUMS = [
    ("ij->ji", ["ij"]), ("ij,jk->ik", ["ij", "jk"]), ("ijk,lji->lki", ["ijk", "lji"]),
    ("...jk,...lj->...lk", ["bjk", "blj"]), ("...jk,...lj->...lk", ["jk", "bblj"]), ("...,...->...", ["bj", "j"]),
    ("ijk,lji,lli->lki", ["ijk", "lji", "lli"]), ("ii->i", ["ii"]), ("ii", ["ii"]), ("i,i", ["i", "i"]),
    ("ij->", ["ij"]), ("bij,bjk->bik", ["bij", "bjk"]), ("i,j->ij", ["i", "j"]), ("ij,j", ["ij", "j"]),
    ("ba", ["ba"]), ("ij,ij->ij", ["ij", "1j"]),
]


@st.composite
def einsum_subscripts(draw):
    """(subscripts as written, operands): sizes 1-3 per letter; "1" marks a broadcast size-1 axis."""
    subscripts, letters = draw(st.sampled_from(EINSUMS))
    sizes = {c: draw(st.integers(1, 3)) for c in set("".join(letters))}
    sizes["1"] = 1
    operands = tuple(draw(arrays(tuple(sizes[c] for c in sub))) for sub in letters)
    return subscripts, operands


def _einsum_case(written):
    subscripts, operands = written
    inputs, output = _explicit(subscripts, [x.shape for x in operands])
    return Case(operands, {"subscripts": ",".join(inputs) + "->" + output}, wrt=tuple(range(len(operands))))


@st.composite
def tensordot_cases(draw):
    """The pairs of HIPS autograd's test_tensordot_*: axes as pairs of lists and as ints."""
    a, b = draw(st.sampled_from([((1, 3), (3,)), ((2, 3, 2), (3, 1)), ((1, 3), (3, 4, 2)), ((3,), (1, 3)),
                                 ((3, 4, 2), (2, 3, 2)), ((2, 3), (1, 2, 3)), ((2, 3, 4), (2, 2, 3, 4)),
                                 ((2, 2), (2, 2)), ((4, 2, 2), (2, 2, 4)), ((3,), (2,)), ((), (2, 3))]))
    options = {((1, 3), (3,)): [([1], [0])], ((2, 3, 2), (3, 1)): [([1], [0])], ((1, 3), (3, 4, 2)): [([1], [0])],
               ((3,), (1, 3)): [([0], [1])], ((3, 4, 2), (2, 3, 2)): [([0], [1])],
               ((2, 3), (1, 2, 3)): [([0, 1], [1, 2]), ([1, 0], [2, 1])],
               ((2, 3, 4), (2, 2, 3, 4)): [([0, 1], [1, 2]), ([-2, -1], [-2, -1])],
               ((2, 2), (2, 2)): [1, 2], ((4, 2, 2), (2, 2, 4)): [1, 2], ((3,), (2,)): [0], ((), (2, 3)): [0]}
    axes = draw(st.sampled_from(options[(a, b)]))
    return Case((draw(arrays(a)), draw(arrays(b))), {"axes": axes}, wrt=(0, 1))


def _pair_cases(pairs):
    return st.sampled_from(pairs).flatmap(lambda ab: st.tuples(arrays(ab[0]), arrays(ab[1]))).map(
        lambda xy: Case(xy, wrt=(0, 1)))


@st.composite
def axis_of(draw, min_dims=1, distinct=False):
    """An array and one valid axis (negative too)."""
    s = draw(shapes(min_dims=min_dims))
    x = draw(distinct_arrays(s) if distinct else arrays(s))
    return x, draw(st.integers(-x.ndim, x.ndim - 1))


@st.composite
def squeeze_cases(draw):
    s = list(draw(shapes()))
    for _ in range(draw(st.integers(0, 2))):
        s.insert(draw(st.integers(0, len(s))), 1)
    ones = [i for i, n in enumerate(s) if n == 1]
    axis = draw(st.none() | (st.sampled_from(ones) if ones else st.none()))
    return Case((draw(arrays(tuple(s))),), {"axis": axis})


@st.composite
def expand_dims_cases(draw):
    x = draw(shapes(max_dims=2).flatmap(arrays))
    axis = draw(st.integers(-x.ndim - 1, x.ndim) | st.just((0, -1)))
    return Case((x,), {"axis": axis})


@st.composite
def moveaxis_cases(draw):
    x = draw(shapes(min_dims=1).flatmap(arrays))
    k = draw(st.integers(1, x.ndim))
    source = draw(st.permutations(range(x.ndim)))[:k]
    dest = draw(st.permutations(range(-x.ndim, 0)))[:k]
    return Case((x,), {"source": list(source), "destination": list(dest)})


@st.composite
def swapaxes_cases(draw):
    x = draw(shapes(min_dims=1).flatmap(arrays))
    return Case((x,), {"axis1": draw(st.integers(-x.ndim, x.ndim - 1)), "axis2": draw(st.integers(0, x.ndim - 1))})


@st.composite
def flip_cases(draw):
    x = draw(shapes().flatmap(arrays))
    axis = draw(st.none() | (st.integers(-x.ndim, x.ndim - 1) if x.ndim else st.none()))
    return Case((x,), {"axis": axis})


@st.composite
def rot90_cases(draw):
    x = draw(shapes(min_dims=2).flatmap(arrays))
    axes = draw(st.permutations(range(x.ndim)))[:2]
    return Case((x,), {"k": draw(st.integers(-1, 4)), "axes": tuple(axes)})


@st.composite
def roll_cases(draw):
    x = draw(shapes(min_dims=1).flatmap(arrays))
    if draw(st.booleans()):
        return Case((x,), {"shift": draw(st.integers(-5, 5)), "axis": None})
    axes = draw(st.lists(st.integers(-x.ndim, x.ndim - 1), min_size=1, max_size=2))
    shifts = [draw(st.integers(-5, 5)) for _ in axes]
    return Case((x,), {"shift": shifts if len(axes) > 1 else shifts[0], "axis": axes if len(axes) > 1 else axes[0]})


@st.composite
def sort_cases(draw, kth=False):
    x, axis = draw(axis_of(distinct=True))
    axis = draw(st.just(axis) | st.none())
    kwargs = {"axis": axis}
    if kth:
        kwargs["kth"] = draw(st.integers(0, (x.size if axis is None else x.shape[axis]) - 1))
    return Case((x,), kwargs)


@st.composite
def take_cases(draw):
    x = draw(shapes(min_dims=1).flatmap(arrays))
    axis = draw(st.none() | st.integers(-x.ndim, x.ndim - 1))
    n = x.size if axis is None else x.shape[axis]
    ishape = draw(shapes(max_dims=2))
    idx = np.array(draw(st.lists(st.integers(-n, n - 1), min_size=int(np.prod(ishape)),
                                 max_size=int(np.prod(ishape))))).reshape(ishape)
    return Case((x, idx), {"axis": axis})


@st.composite
def take_along_axis_cases(draw):
    x, axis = draw(axis_of())
    shape = list(x.shape)
    shape[axis] = draw(st.integers(1, 4))
    idx = np.array(draw(st.lists(st.integers(0, x.shape[axis] - 1), min_size=int(np.prod(shape)),
                                 max_size=int(np.prod(shape))))).reshape(shape)
    return Case((x, idx), {"axis": axis})


@st.composite
def repeat_cases(draw):
    x = draw(shapes().flatmap(arrays))
    axis = draw(st.none() | (st.integers(-x.ndim, x.ndim - 1) if x.ndim else st.none()))
    n = x.size if axis is None else x.shape[axis]
    repeats = draw(st.integers(0, 3) | st.lists(st.integers(0, 3), min_size=n, max_size=n))
    return Case((x,), {"repeats": repeats, "axis": axis})


@st.composite
def tile_cases(draw):
    x = draw(shapes(max_dims=2).flatmap(arrays))
    reps = draw(st.integers(1, 3) | st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple))
    return Case((x,), {"reps": reps})


@st.composite
def stacked_cases(draw, kind):
    """1-3 arrays that hstack / vstack / dstack / column_stack / append accept."""
    count = draw(st.integers(1, 3))
    base = draw(shapes(max_dims=3 if kind == "dstack" else 2))
    parts = []
    for _ in range(count):
        s = list(base)
        grow = {"hstack": 1 if len(s) > 1 else 0, "vstack": 0, "dstack": 2, "column_stack": 1}[kind]
        if grow < len(s) and not (kind == "column_stack" and len(s) < 2):
            s[grow] = draw(st.integers(1, 3))
        parts.append(draw(arrays(tuple(s))))
    if kind in ("vstack", "column_stack") and base and len(base) == 1:
        parts = [draw(arrays(base)) for _ in range(count)]  # vectors must all be of one length
    return Case(tuple(parts), wrt=tuple(range(count)))


@st.composite
def split_cases(draw, kind):
    x, axis = draw(axis_of())
    if kind == "hsplit":
        axis = 1 if x.ndim > 1 else 0
    elif kind == "vsplit":
        x, axis = (x if x.ndim >= 2 else x.reshape(1, -1)), 0
    n = x.shape[axis]
    if kind == "array_split" and draw(st.booleans()):
        sections = draw(st.integers(1, n + 2))
    elif draw(st.booleans()):
        sections = draw(st.sampled_from([d for d in range(1, n + 1) if n % d == 0]))
    else:
        sections = sorted(draw(st.lists(st.integers(0, n), max_size=3)))
    kwargs = {"indices_or_sections": sections}
    if kind in ("split", "array_split"):
        kwargs["axis"] = axis
    return Case((x,), kwargs)


def _split_spec(name, inputs):
    ag_fn, np_fn = getattr(ops, name), getattr(np, name)
    hsplit = name == "hsplit"

    def concat(x, kwargs, ag_side):
        ndim = np.ndim(x.data if isinstance(x, engine.Tensor) else x)
        axis = kwargs.get("axis", (1 if ndim > 1 else 0) if hsplit else 0)
        return lambda parts: (ops.concatenate if ag_side else np.concatenate)(parts, axis=axis)

    def ours(x, **kwargs):
        return concat(x, kwargs, True)([p * (i + 1.0) for i, p in enumerate(ag_fn(x, **kwargs))])

    def theirs(x, **kwargs):
        return concat(x, kwargs, False)([p * (i + 1.0) for i, p in enumerate(np_fn(x, **kwargs))])

    return OpSpec(ours, split_cases(name), inputs, numpy=theirs, composed="getitem slices (the test joins the "
                  "parts, each scaled by its position)", family="layout")


@st.composite
def pad_cases(draw):
    x = draw(shapes(min_dims=1, max_dims=2).flatmap(arrays))
    mode = draw(st.sampled_from(["constant", "edge", "reflect", "symmetric", "wrap"]))
    limit = 3 if mode != "reflect" else 2
    width = draw(st.integers(0, limit) | st.tuples(st.integers(0, limit), st.integers(0, limit))
                 | st.lists(st.tuples(st.integers(0, limit), st.integers(0, limit)), min_size=x.ndim,
                            max_size=x.ndim))
    kwargs = {"pad_width": width, "mode": mode}
    if mode == "constant":
        kwargs["constant_values"] = draw(st.sampled_from([0, 1.5, (1.0, -2.0)]))
    if mode == "reflect" and min(x.shape) < 2:
        kwargs["mode"] = "symmetric"
    return Case((x,), kwargs)


@st.composite
def diff_cases(draw):
    x, axis = draw(axis_of())
    kwargs = {"n": draw(st.integers(0, 2)), "axis": axis}
    if draw(st.booleans()):
        kwargs["prepend"] = draw(st.sampled_from([0.5, -1.0]))
    if draw(st.booleans()):
        s = list(x.shape)
        s[axis] = 2
        kwargs["n"] = max(kwargs["n"], 1)  # (n = 0 ignores append: it would get no gradient)
        return Case((x, draw(arrays(tuple(s)))), kwargs, wrt=(0, 1))  # append, differentiated too
    return Case((x,), kwargs)


@st.composite
def diagonal_cases(draw):
    x = draw(shapes(min_dims=2).flatmap(arrays))
    axes = draw(st.permutations(range(x.ndim)))[:2]
    return Case((x,), {"offset": draw(st.integers(-3, 3)), "axis1": axes[0], "axis2": axes[1]})


@st.composite
def diag_cases(draw):
    x = draw(shapes(min_dims=1, max_dims=2).flatmap(arrays))
    return Case((x,), {"k": draw(st.integers(-2, 2))})


@st.composite
def tri_cases(draw):
    x = draw(shapes(min_dims=2).flatmap(arrays))
    return Case((x,), {"k": draw(st.integers(-2, 2))})


@st.composite
def array_cases(draw):
    base = draw(shapes(max_dims=2))
    n = draw(st.integers(1, 3))
    xs = tuple(draw(arrays(base)) for _ in range(n))
    return Case(xs, {"nested": draw(st.booleans())}, wrt=tuple(range(n)))


def _array_of(*xs, nested=False, lib=None):
    rows = [list(xs), list(xs[::-1])] if nested else list(xs)
    return (lib or ops).array(rows)


@st.composite
def linspace_cases(draw):
    s = draw(shapes(max_dims=2))
    return Case((draw(arrays(s)), draw(arrays(s))), {"num": draw(st.integers(1, 5)), "endpoint": draw(st.booleans())},
                wrt=(0, 1))


@st.composite
def broadcast_arrays_cases(draw):
    from .strategies import broadcastable_shapes
    sa, sb = draw(broadcastable_shapes())
    return Case((draw(arrays(sa)), draw(arrays(sb))), wrt=(0, 1))


@st.composite
def cross_cases(draw):
    """3-vectors along any axis of either operand, broadcast stacks, any output axis."""
    (sa, axisa), (sb, axisb) = draw(st.sampled_from([
        (((3,), -1), ((3,), -1)), (((2, 3), -1), ((3,), 0)), (((3, 2), 0), ((2, 3), 1)),
        (((3, 3), 0), ((3, 3), -1)), (((2, 1, 3), -1), ((4, 3), -1))]))
    out_ndim = np.cross(np.zeros(sa), np.zeros(sb), axisa=axisa, axisb=axisb).ndim
    kwargs = {"axisa": axisa, "axisb": axisb, "axisc": draw(st.integers(-out_ndim, out_ndim - 1))}
    return Case((draw(arrays(sa)), draw(arrays(sb))), kwargs, wrt=(0, 1))


LAYOUT_SPECS: dict[str, OpSpec] = {
    "copy": OpSpec(engine.OPS["copy"], unary(), "any array", numpy=np.copy),
    "einsum": OpSpec(engine.OPS["einsum"], einsum_subscripts().map(_einsum_case),
                     "HIPS autograd's subscripts and more: transposes, products, ellipses, diagonals, implicit output",
                     numpy=lambda *xs, subscripts: np.einsum(subscripts, *xs)),
}


def _c(fn, cases, inputs, numpy, composed):
    return OpSpec(fn, cases, inputs, numpy=numpy, composed=composed, family="contraction"
                  if fn in (ops.tensordot, ops.dot, ops.inner, ops.outer, ops.vdot, ops.kron, ops.trace) else "layout")


LAYOUT_COMPOSITES: dict[str, OpSpec] = {
    # contractions
    "cross": OpSpec(ops.cross, cross_cases(), "3-vectors along any axes, broadcast stacks", numpy=np.cross,
                    composed="getitem the components, mul, sub, stack", family="contraction"),
    "tensordot": _c(ops.tensordot, tensordot_cases(), "HIPS autograd's shape pairs; axes as ints and lists",
                    np.tensordot, "transpose, reshape, matmul, reshape"),
    "dot": _c(ops.dot, _pair_cases([((), ()), ((), (3,)), ((3,), ()), ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)),
                                     ((2, 3), (3, 4)), ((2, 2, 3), (3, 4)), ((2, 3), (2, 3, 4)), ((3,), (2, 3, 4))]),
              "scalars, vectors, matrices and N-d pairs", np.dot, "mul, matmul or tensordot"),
    "inner": _c(ops.inner, _pair_cases([((), (3,)), ((3,), (3,)), ((2, 3), (3,)), ((2, 3), (4, 3)),
                                         ((2, 2, 3), (4, 3))]), "scalars, vectors, matrices, 3-d", np.inner,
                "tensordot over the last axes"),
    "outer": _c(ops.outer, _pair_cases([((3,), (2,)), ((2, 2), (3,)), ((), (2,))]), "any two arrays (flattened)",
                np.outer, "reshape(a, (-1, 1)) * reshape(b, (1, -1))"),
    "vdot": _c(ops.vdot, _pair_cases([((3,), (3,)), ((2, 3), (3, 2))]), "two arrays of one size", np.vdot,
               "matmul of the flattened arrays"),
    "kron": _c(ops.kron, _pair_cases([((2,), (3,)), ((2, 2), (3, 1)), ((2,), (2, 3)), ((), (2,)), ((2, 1, 2), (2, 2))]),
               "vectors, matrices, mixed dims", np.kron, "reshape a and b interleaved, mul, reshape"),
    "trace": _c(ops.trace, diagonal_cases(), "2-d and more; offsets -3..3; any two axes", np.trace,
                "sum(diagonal(...), axis=-1)"),
    # layout
    "ravel": _c(ops.ravel, unary(), "any array", np.ravel, "reshape(x, (-1,))"),
    "squeeze": _c(ops.squeeze, squeeze_cases(), "arrays with size-1 axes; axis None or one of them", np.squeeze,
                  "reshape"),
    "expand_dims": _c(ops.expand_dims, expand_dims_cases(), "any new axis, or a tuple", np.expand_dims, "reshape"),
    "atleast_1d": _c(ops.atleast_1d, unary(), "0-d to 3-d", np.atleast_1d, "reshape"),
    "atleast_2d": _c(ops.atleast_2d, unary(), "0-d to 3-d", np.atleast_2d, "reshape"),
    "atleast_3d": _c(ops.atleast_3d, unary(), "0-d to 3-d", np.atleast_3d, "reshape"),
    "moveaxis": _c(ops.moveaxis, moveaxis_cases(), "one or several axes, negative destinations", np.moveaxis,
                   "transpose"),
    "swapaxes": _c(ops.swapaxes, swapaxes_cases(), "any two axes", np.swapaxes, "transpose"),
    "flip": _c(ops.flip, flip_cases(), "axis None or an int", np.flip, "getitem with reversed slices"),
    "fliplr": _c(ops.fliplr, unary(min_dims=2), "at least 2-d", np.fliplr, "flip(m, 1)"),
    "flipud": _c(ops.flipud, unary(min_dims=1), "at least 1-d", np.flipud, "flip(m, 0)"),
    "rot90": _c(ops.rot90, rot90_cases(), "k from -1 to 4; any plane", np.rot90, "flip and transpose"),
    "roll": _c(ops.roll, roll_cases(), "shifts -5..5; axis None, an int or several", np.roll,
               "two getitem slices and concatenate per axis"),
    "sort": _c(ops.sort, sort_cases(), "distinct values (ties: see the docstring); axis an int or None", np.sort,
               "getitem at argsort's indices"),
    "partition": _c(ops.partition, sort_cases(kth=True), "distinct values; any kth; axis an int or None",
                    np.partition, "getitem at argpartition's indices"),
    "take": _c(ops.take, take_cases(), "indices of any shape with repeats and negatives; axis None or an int",
               np.take, "getitem"),
    "take_along_axis": _c(ops.take_along_axis, take_along_axis_cases(), "indices with repeats along any axis",
                          np.take_along_axis, "getitem with broadcast index grids"),
    "repeat": _c(ops.repeat, repeat_cases(), "one count (0-3) or one per element; axis None or an int", np.repeat,
                 "reshape, broadcast_to, reshape (one count); getitem (several)"),
    "tile": _c(ops.tile, tile_cases(), "reps an int or a tuple longer or shorter than the shape", np.tile,
               "reshape, broadcast_to, reshape"),
    "hstack": _c(lambda *xs: ops.hstack(xs), stacked_cases("hstack"), "1-3 arrays, 0-d to 2-d",
                 lambda *xs: np.hstack(xs), "atleast_1d and concatenate"),
    "vstack": _c(lambda *xs: ops.vstack(xs), stacked_cases("vstack"), "1-3 arrays, 0-d to 2-d",
                 lambda *xs: np.vstack(xs), "atleast_2d and concatenate"),
    "dstack": _c(lambda *xs: ops.dstack(xs), stacked_cases("dstack"), "1-3 arrays, 0-d to 3-d",
                 lambda *xs: np.dstack(xs), "atleast_3d and concatenate"),
    "column_stack": _c(lambda *xs: ops.column_stack(xs), stacked_cases("column_stack"), "1-3 vectors or matrices",
                       lambda *xs: np.column_stack(xs), "reshape and concatenate"),
    "append": _c(ops.append, st.tuples(unary(), unary()).map(lambda cc: Case(cc[0].args + cc[1].args, wrt=(0, 1))),
                 "any two arrays (flattened)", np.append, "ravel and concatenate"),
    "split": _split_spec("split", "equal sections or cut indices; any axis"),
    "array_split": _split_spec("array_split", "any number of sections, or cut indices; any axis"),
    "hsplit": _split_spec("hsplit", "equal sections or cut indices"),
    "vsplit": _split_spec("vsplit", "equal sections or cut indices; at least 2-d"),
    "pad": _c(ops.pad, pad_cases(), "1-d and 2-d; constant (with values), edge, reflect, symmetric, wrap", np.pad,
              "index_add (+ the constant), or getitem at np.pad's indices"),
    "diff": _c(lambda a, append=None, **kw: ops.diff(a, append=append, **kw), diff_cases(),
               "n 0-2; any axis; prepend a scalar, append an array", lambda a, append=None, **kw: np.diff(
                   a, append=np._NoValue if append is None else append, **kw),
               "concatenate, getitem slices, sub"),
    "diagonal": _c(ops.diagonal, diagonal_cases(), "2-d and more; offsets -3..3; any two axes", np.diagonal,
                   "transpose and getitem with index arrays"),
    "diag": _c(ops.diag, diag_cases(), "vectors (to a matrix) and matrices (their diagonal); k -2..2", np.diag,
               "index_add (1-d) or diagonal (2-d)"),
    "tril": _c(ops.tril, tri_cases(), "2-d and stacks; k -2..2", np.tril, "where(tri(k), x, 0)"),
    "triu": _c(ops.triu, tri_cases(), "2-d and stacks; k -2..2", np.triu, "where(not tri(k - 1), x, 0)"),
    "array": _c(_array_of, array_cases(), "1-3 tensors, flat or nested lists",
                lambda *xs, nested: _array_of(*xs, nested=nested, lib=np), "stack, nested"),
    "linspace": _c(ops.linspace, linspace_cases(), "start and stop arrays; num 1-5; endpoint or not", np.linspace,
                   "start + (stop - start) * steps"),
    "broadcast_arrays": _c(lambda a, b: ops.add(*[p * (i + 1.0) for i, p in enumerate(ops.broadcast_arrays(a, b))]),
                           broadcast_arrays_cases(), "two arrays of broadcastable shapes",
                           lambda a, b: sum(p * (i + 1.0) for i, p in enumerate(np.broadcast_arrays(a, b))),
                           "broadcast_to each"),
}
