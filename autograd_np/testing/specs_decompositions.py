"""Op-table entries for the matrix decompositions (``ops/decompositions.py``):
cholesky and eigh on symmetric matrices and stacks of them, with junk in the
triangle NumPy does not read (so the tests see that it gets no gradient),
pinv on full-rank rectangular matrices, eigvalsh and matrix_power."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from .. import core as engine, ops
from .cases import Case, OpSpec
from .specs_matrix import square
from .strategies import arrays


@st.composite
def _batch_and_size(draw):
    return draw(st.sampled_from([(), (2,)])), draw(st.integers(1, 3))


@st.composite
def _junk_in_unread_triangle(draw, a, upper):
    """``a`` with the triangle NumPy does not read (strictly above the diagonal for
    the lower one) replaced by arbitrary values, half of the time."""
    if not draw(st.booleans()):
        return a
    n = a.shape[-1]
    unread = np.tril(np.ones((n, n), dtype=bool), -1) if upper else np.triu(np.ones((n, n), dtype=bool), 1)
    return np.where(unread, draw(arrays(a.shape)), a)


@st.composite
def cholesky_cases(draw):
    """Symmetric positive definite: B B^T + n I, entries of B in [-1, 1]."""
    batch, n = draw(_batch_and_size())
    b = draw(arrays(batch + (n, n), domain=(-1.0, 1.0, 0.0)))
    upper = draw(st.booleans())
    a = b @ np.swapaxes(b, -1, -2) + n * np.eye(n)
    return Case((draw(_junk_in_unread_triangle(a, upper)),), {"upper": upper})


@st.composite
def symmetric(draw):
    """Q diag(w) Q^T with Q orthogonal (the QR of a drawn matrix plus 2 I) and the
    eigenvalues w at least 0.5 apart, so that 1 / (w_j - w_i) stays moderate."""
    batch, n = draw(_batch_and_size())
    q, _ = np.linalg.qr(draw(arrays(batch + (n, n), domain=(-1.0, 1.0, 0.0))) + 2 * np.eye(n))
    gaps = draw(arrays(batch + (n,), domain=(0.5, 1.5, 0.0)))
    w = np.cumsum(gaps, axis=-1) - n / 2
    return (q * w[..., None, :]) @ np.swapaxes(q, -1, -2)


@st.composite
def eigh_cases(draw):
    upper = draw(st.booleans())
    return Case((draw(_junk_in_unread_triangle(draw(symmetric()), upper)),), {"upper": upper})


@st.composite
def full_rank(draw):
    """(..., m, n) matrices: entries in [-0.5, 0.5] plus (min(m, n) + 1) on the main diagonal."""
    batch, m = draw(_batch_and_size())
    n = draw(st.integers(1, 3))
    return draw(arrays(batch + (m, n), domain=(-0.5, 0.5, 0.0))) + (min(m, n) + 1) * np.eye(m, n)


def _sign_fix(packed, rows):
    """+-1 per column of a packed decomposition (eigh's [w; V], svd's [U; s; V]) for
    the vector rows (``rows``: a slice), 1 for the value rows.  Each column gets
    the sign that makes ``u . c`` positive, ``u`` its first vector block and ``c``
    fixed and generic.  LAPACK's signs are arbitrary and can flip between nearby
    matrices (a central difference then measures the flip); fixed this way the
    vectors are a smooth function of the input."""
    packed = np.asarray(packed)
    first = packed[..., rows, :]
    c = np.sqrt(np.arange(first.shape[-2]) + 2.0)[:, None]
    signs = np.where(np.sum(first * c, axis=-2, keepdims=True) < 0, -1.0, 1.0)
    vector_rows = np.zeros(packed.shape[-2], dtype=bool)
    vector_rows[rows] = True
    return np.where(vector_rows[:, None], signs, 1.0).astype(packed.dtype)


def _signed(op, fix):
    """``op``'s packed output times its sign fix (a constant of the derivative)."""
    def fn(a, **kwargs):
        packed = engine.OPS[op](a, **kwargs)
        return ops.mul(packed, fix(packed.data, a))
    return fn


def _eigh_fix(packed, a):
    return _sign_fix(packed, slice(1, None))


def _packed_eigh(a, upper):
    w, v = np.linalg.eigh(a, UPLO="U" if upper else "L")
    packed = np.concatenate([w[..., None, :], v], axis=-2)
    return packed * _eigh_fix(packed, a)


def _svd_fix(packed, a):
    m = np.shape(a)[-2]
    fix = _sign_fix(packed, slice(0, m))  # from U's rows
    fix[..., m + 1:, :] = fix[..., :1, :]  # a singular pair (u_i, v_i) flips together
    return fix


def _packed_svd(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    packed = np.concatenate([u, s[..., None, :], np.swapaxes(vh, -1, -2)], axis=-2)
    return packed * _svd_fix(packed, a)


@st.composite
def spread_singular_values(draw):
    """U diag(s) V^T with orthonormal U, V (QRs of drawn matrices plus I) and the
    singular values s at least 0.5 apart and from 0."""
    batch, m = draw(_batch_and_size())
    n = draw(st.integers(1, 3))
    k = min(m, n)
    u, _ = np.linalg.qr(draw(arrays(batch + (m, k), domain=(-1.0, 1.0, 0.0))) + 2 * np.eye(m, k))
    v, _ = np.linalg.qr(draw(arrays(batch + (n, k), domain=(-1.0, 1.0, 0.0))) + 2 * np.eye(n, k))
    s = np.cumsum(draw(arrays(batch + (k,), domain=(0.5, 1.5, 0.0))), axis=-1)
    return (u * s[..., None, :]) @ np.swapaxes(v, -1, -2)


DECOMPOSITION_SPECS: dict[str, OpSpec] = {
    "cholesky": OpSpec(engine.OPS["cholesky"], cholesky_cases(),
                       "B B^T + n I and stacks; lower or upper; junk in the unread triangle", numpy=np.linalg.cholesky),
    "eigh": OpSpec(_signed("eigh", _eigh_fix), eigh_cases(), "symmetric, eigenvalues >= 0.5 apart, and stacks; junk in the "
                   "unread triangle; eigenvector signs fixed (see _sign_fix)", numpy=_packed_eigh),
    "svd": OpSpec(_signed("svd", _svd_fix), spread_singular_values().map(lambda a: Case((a,))),
                  "(m, n) with singular values >= 0.5 apart, and stacks; pair signs fixed (see _sign_fix)",
                  numpy=_packed_svd),
    "pinv": OpSpec(engine.OPS["pinv"], full_rank().map(lambda a: Case((a,))), "full-rank (m, n) matrices and stacks",
                   numpy=np.linalg.pinv),
}

DECOMPOSITION_COMPOSITES: dict[str, OpSpec] = {
    "eigvalsh": OpSpec(ops.eigvalsh, st.tuples(symmetric(), st.sampled_from(["L", "U"])).map(
        lambda au: Case((au[0],), {"UPLO": au[1]})), "symmetric, eigenvalues >= 0.5 apart; L or U",
                       numpy=np.linalg.eigvalsh, composed="eigh(a)[0]"),
    "svd(compute_uv=False)": OpSpec(lambda a: ops.svd(a, compute_uv=False), spread_singular_values().map(
        lambda a: Case((a,))), "(m, n) with singular values >= 0.5 apart, and stacks",
                                    numpy=lambda a: np.linalg.svd(a, compute_uv=False), composed="svd(a)[1]",
                                    family="decompositions"),
    "matrix_power": OpSpec(ops.matrix_power, st.tuples(square(), st.integers(-3, 4)).map(
        lambda an: Case((an[0],), {"n": an[1]})), "well-conditioned square matrices and stacks; n from -3 to 4",
                           numpy=np.linalg.matrix_power, composed="matmul by repeated squaring; inv for n < 0"),
}
