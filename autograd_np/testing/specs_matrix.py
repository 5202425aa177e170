"""Op-table entries for ``np.linalg`` on matrices (``ops/matrix.py``): inv, det,
logabsdet (slogdet), solve and norm, on well-conditioned square matrices and
stacks of them (a random matrix plus a multiple of the identity, its sign
flipped at random so that determinants of both signs are drawn)."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from .. import core as engine, ops
from .cases import Case, OpSpec
from .strategies import arrays, shapes


@st.composite
def square(draw, stacked=True):
    """A well-conditioned (..., n, n) matrix: entries in [-1, 1] plus (n + 1) on the diagonal."""
    n = draw(st.integers(1, 3))
    batch = draw(st.sampled_from([(), (2,)])) if stacked else ()
    a = draw(arrays(batch + (n, n), domain=(-1.0, 1.0, 0.0))) + (n + 1) * np.eye(n)
    return a * draw(st.sampled_from([1.0, -1.0]))


def _one(strategy):
    return strategy.map(lambda a: Case((a,)))


@st.composite
def solve_cases(draw):
    a = draw(square())
    n, batch = a.shape[-1], a.shape[:-2]
    if not batch and draw(st.booleans()):
        b = draw(arrays((n,)))
    else:
        b = draw(arrays(batch + (n, draw(st.integers(1, 3)))))
    return Case((a, b), wrt=(0, 1))


@st.composite
def norm_cases(draw):
    """Vectors (an axis, or 1-D) with any supported ord, and matrices (2-D, or a pair of
    axes) with the Frobenius, 1 and inf norms; entries away from 0 and from ties."""
    if draw(st.booleans()):
        x = draw(shapes(min_dims=1, max_dims=3).flatmap(lambda s: arrays(s, domain="nonzero")))
        axis = None if x.ndim == 1 and draw(st.booleans()) else draw(st.integers(-x.ndim, x.ndim - 1))
        ord_ = draw(st.sampled_from([None, 1, 2, 3.0, 0.5]))
        return Case((x,), {"ord": ord_, "axis": axis, "keepdims": draw(st.booleans())})
    rows, cols = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    distinct = 2.0 ** np.arange(rows * cols)  # powers of two: every row and column sum differs (no ties)
    signs = np.array(draw(st.lists(st.sampled_from([1.0, -1.0]), min_size=rows * cols, max_size=rows * cols)))
    x = (distinct * signs * 0.5).reshape(rows, cols) + draw(arrays((rows, cols), domain=(-0.01, 0.01, 0.0)))
    ord_ = draw(st.sampled_from([None, "fro", 1, -1, np.inf, -np.inf]))
    axis = draw(st.sampled_from([None, (0, 1), (1, 0)]))
    return Case((x,), {"ord": ord_, "axis": axis, "keepdims": False if axis is None else draw(st.booleans())})


def _slogdet_log(a):
    """slogdet's differentiable value (its sign is a constant)."""
    return ops.slogdet(a)[1]


MATRIX_SPECS: dict[str, OpSpec] = {
    "inv": OpSpec(engine.OPS["inv"], _one(square()), "well-conditioned square matrices and stacks",
                  numpy=np.linalg.inv),
    "det": OpSpec(engine.OPS["det"], _one(square()), "well-conditioned square matrices and stacks, both signs",
                  numpy=np.linalg.det),
    "logabsdet": OpSpec(engine.OPS["logabsdet"], _one(square()), "well-conditioned square matrices, both signs",
                        numpy=lambda a: np.linalg.slogdet(a)[1]),
    "solve": OpSpec(engine.OPS["solve"], solve_cases(), "square matrices (and stacks) with vectors or matrices",
                    numpy=np.linalg.solve),
}

MATRIX_COMPOSITES: dict[str, OpSpec] = {
    "slogdet": OpSpec(_slogdet_log, _one(square()), "square matrices; the log of |det| (the sign is constant)",
                      numpy=lambda a: np.linalg.slogdet(a)[1], composed="(sign, logabsdet(a))", family="matrix"),
    "norm": OpSpec(ops.norm, norm_cases(), "vectors (ord None, 1, 2, p, inf) and matrices (fro, 1, inf)",
                   numpy=np.linalg.norm, composed="power(sum(abs(x) ** p), 1 / p); max / min of row or column sums",
                   family="matrix"),
}
