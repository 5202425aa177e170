"""Op-table entries for the matrix decompositions (``ops/decompositions.py``):
cholesky and eigh on symmetric matrices and stacks of them, with junk in the
triangle NumPy does not read (so the tests see that it gets no gradient),
pinv on full-rank rectangular matrices, eigvalsh and matrix_power."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from .. import engine, ops
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


def _sign_fix(packed):
    """+-1 per eigenvector (column) of eigh's packed output, 1 for the eigenvalue row:
    the sign that makes ``v . c`` positive for a fixed generic ``c``.  LAPACK's sign is
    arbitrary and can flip between nearby matrices (a central difference then
    measures the flip); fixed this way the eigenvectors are a smooth function."""
    v = np.asarray(packed)[..., 1:, :]
    c = np.sqrt(np.arange(v.shape[-2]) + 2.0)[:, None]
    signs = np.where(np.sum(v * c, axis=-2, keepdims=True) < 0, -1.0, 1.0)
    return np.concatenate([np.ones_like(signs), np.broadcast_to(signs, v.shape)], axis=-2).astype(v.dtype)


def _eigh_signed(a, upper):
    packed = engine.OPS["eigh"](a, upper=upper)
    return ops.mul(packed, _sign_fix(packed.data))  # (the signs are constants of the derivative)


def _packed_eigh(a, upper):
    w, v = np.linalg.eigh(a, UPLO="U" if upper else "L")
    packed = np.concatenate([w[..., None, :], v], axis=-2)
    return packed * _sign_fix(packed)


DECOMPOSITION_SPECS: dict[str, OpSpec] = {
    "cholesky": OpSpec(engine.OPS["cholesky"], cholesky_cases(),
                       "B B^T + n I and stacks; lower or upper; junk in the unread triangle", numpy=np.linalg.cholesky),
    "eigh": OpSpec(_eigh_signed, eigh_cases(), "symmetric, eigenvalues >= 0.5 apart, and stacks; junk in the "
                   "unread triangle; eigenvector signs fixed (see _sign_fix)", numpy=_packed_eigh),
    "pinv": OpSpec(engine.OPS["pinv"], full_rank().map(lambda a: Case((a,))), "full-rank (m, n) matrices and stacks",
                   numpy=np.linalg.pinv),
}

DECOMPOSITION_COMPOSITES: dict[str, OpSpec] = {
    "eigvalsh": OpSpec(ops.eigvalsh, st.tuples(symmetric(), st.sampled_from(["L", "U"])).map(
        lambda au: Case((au[0],), {"UPLO": au[1]})), "symmetric, eigenvalues >= 0.5 apart; L or U",
                       numpy=np.linalg.eigvalsh, composed="eigh(a)[0]"),
    "matrix_power": OpSpec(ops.matrix_power, st.tuples(square(), st.integers(-3, 4)).map(
        lambda an: Case((an[0],), {"n": an[1]})), "well-conditioned square matrices and stacks; n from -3 to 4",
                           numpy=np.linalg.matrix_power, composed="matmul by repeated squaring; inv for n < 0"),
}
