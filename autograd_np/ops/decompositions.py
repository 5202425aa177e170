"""Matrix decompositions of ``np.linalg`` and what is built on them: cholesky,
eigh (and eigvalsh), pinv, matrix_power; on matrices and stacks of them.

NumPy's cholesky and eigh read one triangle of their (symmetric) input only,
the lower one by default: the other is never looked at.  So the derivative
here is that function's: the gradient of an unread element is 0 and an
off-diagonal element of the read triangle gets both its own share and its
mirror's (``_one_triangle``).  For a symmetric perturbation (``A = B B^T``
and the like) this is the same as the symmetric gradient of the papers.

* ``cholesky`` (I. Murray, arXiv:1602.07527): L = chol(A),
  S = L^-T Phi(L^T gL) L^-1 with Phi the lower triangle, diagonal halved;
* ``eigh`` (M. Giles, "An extended collection of matrix derivative results"):
  A = V diag(w) V^T,  M = V (diag(gw) + F * (V^T gV)) V^T,  F_ij = 1/(w_j - w_i);
* ``pinv`` (Golub and Pereyra): the three-term derivative of a full-rank
  pseudo-inverse.
"""
import numpy as np

from ..core.errors import ShapeError
from ..core.recording import defop
from ._util import value
from .building import tril
from .linalg import matmul
from .matrix import _linalg, _mT, _square, inv
from .shape import getitem
from ..core.registry import GRAPH_OPS as _GRAPH

__all__ = ["cholesky", "eigh", "eigvalsh", "svd", "pinv", "matrix_power"]


def _eye_mask(n):
    return np.eye(n, dtype=bool)


def _one_triangle(F, m, upper):
    """The gradient of a function that reads only one triangle of its input,
    given ``m``, its gradient as a function of the whole symmetric matrix:
    ``m + m^T`` on the read side of the diagonal, ``m`` on it, 0 on the other."""
    n = np.shape(value(m))[-1]
    both = m + _mT(F, m)
    keep = np.triu(np.ones((n, n), dtype=bool), 1) if upper else np.tril(np.ones((n, n), dtype=bool), -1)
    return F.where(keep, both, F.where(_eye_mask(n), m, 0.0))


def _from_one_triangle(F, t, upper):
    """The symmetric matrix a read triangle of ``t`` stands for (the tangent of what the
    op reads; the transpose of ``_one_triangle``): the strict triangle, its mirror, the diagonal."""
    n = np.shape(value(t))[-1]
    keep = np.triu(np.ones((n, n), dtype=bool), 1) if upper else np.tril(np.ones((n, n), dtype=bool), -1)
    strict = F.where(keep, t, 0.0)
    return strict + _mT(F, strict) + F.where(_eye_mask(n), t, 0.0)


def _uplo(op, UPLO):  # noqa: N803  (NumPy's argument name)
    if UPLO not in ("L", "U"):
        raise ValueError(f"{op}: UPLO must be 'L' or 'U', got {UPLO!r}")
    return UPLO == "U"


@defop("cholesky", "L = chol(A) (reads A's lower triangle);  S = L^-T Phi(L^T gL) L^-1 (Phi: lower triangle, "
                   "diagonal halved),  gA = S + S^T below the diagonal, S on it, 0 above")
def _cholesky(a, upper=False):
    _square("cholesky", a)
    return _linalg("cholesky", lambda m: np.linalg.cholesky(m, upper=upper), a, read=np.tril)


@_cholesky.defvjp
def _cholesky_vjp(F, gy, y, a, upper=False):
    lower = _mT(F, y) if upper else y  # the factor as L, with A = L L^T
    g = _mT(F, gy) if upper else gy
    n = np.shape(value(y))[-1]
    inner = F.matmul(_mT(F, lower), g)
    phi = F.where(np.tril(np.ones((n, n), dtype=bool), -1), inner, F.where(_eye_mask(n), inner * 0.5, 0.0))
    left = F.solve(_mT(F, lower), phi)  # L^-T Phi
    s = _mT(F, F.solve(_mT(F, lower), _mT(F, left)))  # (L^-T (L^-T Phi)^T)^T = L^-T Phi L^-1
    return _one_triangle(F, s, upper)  # (s + s^T) / 2 is the gradient as a symmetric matrix


@_cholesky.defjvp(rule="tL = L Phi(L^-1 tA L^-T) (tA: the read triangle, mirrored; Phi: lower triangle, "
                       "diagonal halved)")
def _cholesky_jvp(F, tangents, y, a, upper=False):
    lower = _mT(F, y) if upper else y
    n = np.shape(value(y))[-1]
    half = F.solve(lower, _from_one_triangle(F, tangents[0], upper))  # L^-1 tA
    inner = F.solve(lower, _mT(F, half))  # L^-1 tA L^-T (tA is symmetric)
    phi = F.where(np.tril(np.ones((n, n), dtype=bool), -1), inner, F.where(_eye_mask(n), inner * 0.5, 0.0))
    tl = F.matmul(lower, phi)
    return _mT(F, tl) if upper else tl


def cholesky(a, upper=False):
    """Cholesky factor of a symmetric positive-definite matrix, like ``np.linalg.cholesky``.

    The lower ``L`` with ``a = L L^T`` (``upper=True``: ``U = L^T``), of each
    matrix of a stack. Only ``a``'s lower triangle is read, as NumPy does.

    Parameters
    ----------
    a : array_like or Tensor
        Symmetric positive-definite matrices, (..., n, n).
    upper : bool, optional
        Return the upper factor ``L^T`` instead (default False).

    Returns
    -------
    Tensor
        The triangular factor, of ``a``'s shape.

    Notes
    -----
    Derivative: one op, ``cholesky`` (I. Murray, arXiv:1602.07527), that of a
    function of the lower triangle alone: the upper elements' gradient is 0 and an
    element below the diagonal gets its own share and its mirror's (the same as the
    symmetric gradient for a symmetric perturbation such as ``A = B B^T``). A matrix
    that is not positive definite is an error carrying NumPy's LinAlgError message
    and naming the op; a matrix holding NaN (in the lower triangle) gives NaN.

    Examples
    --------
    >>> a = ag.Tensor(np.array([[4.0, 2.0], [2.0, 5.0]]), requires_grad=True)
    >>> L = ag.cholesky(a)
    >>> L
    Tensor([[2. 0.]
     [1. 2.]], dtype=float64, op=cholesky)
    >>> L.sum().backward()
    >>> a.grad
    array([[0.1875, 0.    ],
           [0.25  , 0.25  ]])
    >>> ag.cholesky(a, upper=True)
    Tensor([[2. 1.]
     [0. 2.]], dtype=float64, op=cholesky)
    """
    return _cholesky(a, upper=bool(upper))


_EIGENVALUES = (Ellipsis, slice(0, 1), slice(None))  # the rows of eigh's packed output
_EIGENVECTORS = (Ellipsis, slice(1, None), slice(None))


@defop("eigh", "w, V = eigh(A), packed as rows [w, V] (one triangle read);  M = V (diag(gw) + F * (V^T gV)) V^T, "
               "F_ij = 1 / (w_j - w_i) off the diagonal, gA = M + M^T in the read triangle, M on the diagonal  "
               "(a repeated eigenvalue: its pair's term is left out (F_ij = 0), which gives the derivative along every "
               "perturbation that has one and stays finite)")
def _eigh(a, upper=False):
    _square("eigh", a)
    w, v = _linalg("eigh", lambda m: np.linalg.eigh(m, UPLO="U" if upper else "L"), a,
                   read=np.triu if upper else np.tril)
    # one output for the op: eigenvalues as row 0 above the eigenvector matrix (..., n + 1, n)
    return np.concatenate([w[..., None, :], v], axis=-2)


@_eigh.defvjp
def _eigh_vjp(F, gy, y, a, upper=False):
    n = np.shape(value(a))[-1]
    w, v = F.getitem(y, index=_EIGENVALUES), F.getitem(y, index=_EIGENVECTORS)  # w as a (..., 1, n) row
    gw, gv = F.getitem(gy, index=_EIGENVALUES), F.getitem(gy, index=_EIGENVECTORS)
    inner = F.where(_eye_mask(n), gw, 0.0)  # diag(gw): gw (..., 1, n) broadcast down the columns
    if np.any(value(gv) != 0):  # NOTE: skipped when only w is used, so that ties give a finite gradient
        gaps = w - _mT(F, w)  # [i, j] = w_j - w_i
        f = _reciprocal_off_ties(F, gaps, n)
        inner = inner + f * F.matmul(_mT(F, v), gv)
    m = F.matmul(F.matmul(v, inner), _mT(F, v))
    return _one_triangle(F, m, upper)


def _reciprocal_off_ties(F, gaps, n):
    """``1 / gaps`` off the diagonal, and 0 on it and wherever a gap is exactly 0 (a
    repeated eigen- or singular value).  There the vectors of the repeated value are
    LAPACK's arbitrary basis: they have a derivative only along perturbations that do
    not mix them, and there that pair's term is 0 (the perturbation's coupling of
    the two is 0), so dropping it gives the derivative wherever one exists, instead
    of inf or NaN everywhere (PyTorch's and HIPS autograd's)."""
    off = ~_eye_mask(n) & (value(gaps) != 0)
    return F.where(off, 1.0 / F.where(off, gaps, 1.0), 0.0)


@_eigh.defjvp(rule="M = V^T tA V (tA: the read triangle, mirrored);  tw = diag(M),  tV = V (F * M), "
                   "F_ij = 1 / (w_j - w_i) off the diagonal, 0 at ties (as the VJP)")
def _eigh_jvp(F, tangents, y, a, upper=False):
    n = np.shape(value(a))[-1]
    w, v = F.getitem(y, index=_EIGENVALUES), F.getitem(y, index=_EIGENVECTORS)
    m = F.matmul(F.matmul(_mT(F, v), _from_one_triangle(F, tangents[0], upper)), v)
    tw = F.sum(F.where(_eye_mask(n), m, 0.0), axis=-2, keepdims=True)  # diag(M) as a (..., 1, n) row
    tv = F.matmul(v, _reciprocal_off_ties(F, w - _mT(F, w), n) * m)
    return F.concatenate(tw, tv, axis=-2)


def _unpack_eigh(packed):
    return getitem(packed, index=(Ellipsis, 0, slice(None))), getitem(packed, index=_EIGENVECTORS)


def eigh(a, UPLO="L"):  # noqa: N803
    """Eigenvalues and eigenvectors of a symmetric matrix, like ``np.linalg.eigh``.

    Of one matrix or of each of a stack; reads the lower triangle (``UPLO="U"``:
    the upper one). Each eigenvector's sign is LAPACK's choice: a loss should not
    depend on it.

    Parameters
    ----------
    a : array_like or Tensor
        Symmetric matrices, (..., n, n).
    UPLO : {"L", "U"}, optional
        The triangle read (default "L"); anything else is a ValueError.

    Returns
    -------
    w : Tensor
        The eigenvalues in ascending order, (..., n).
    V : Tensor
        The eigenvectors as columns, (..., n, n).

    Notes
    -----
    Derivative: one ``eigh`` op (M. Giles, "An extended collection of matrix
    derivative results"), ``w`` and ``V`` being parts of its output:
    ``M = V (diag(gw) + F * (V^T gV)) V^T`` with ``F_ij = 1 / (w_j - w_i)``, then
    ``M + M^T`` in the read triangle, ``M`` on the diagonal, 0 in the other. A
    repeated eigenvalue's pair term is left out (``F_ij = 0``): the derivative along
    every perturbation that has one, and finite (PyTorch's is inf or NaN there);
    when only ``w`` is used the term is skipped altogether.

    Examples
    --------
    >>> a = ag.Tensor(np.array([[2.0, 1.0], [1.0, 2.0]]), requires_grad=True)
    >>> w, V = ag.eigh(a)
    >>> w
    Tensor([1. 3.], dtype=float64, op=getitem)
    >>> V.shape
    (2, 2)
    >>> w[1].backward()
    >>> a.grad
    array([[0.5, 0. ],
           [1. , 0.5]])
    """
    return _unpack_eigh(_eigh(a, upper=_uplo("eigh", UPLO)))


def eigvalsh(a, UPLO="L"):  # noqa: N803
    """Eigenvalues of a symmetric matrix (or of each of a stack), like ``np.linalg.eigvalsh``.

    Parameters
    ----------
    a : array_like or Tensor
        Symmetric matrices, (..., n, n).
    UPLO : {"L", "U"}, optional
        The triangle read (default "L").

    Returns
    -------
    Tensor
        The eigenvalues in ascending order, (..., n).

    Notes
    -----
    Derivative: that of ``eigh`` with no gradient on the eigenvectors:
    ``V diag(gw) V^T`` folded onto the read triangle, finite at repeated
    eigenvalues.

    Examples
    --------
    >>> a = ag.Tensor(np.array([[2.0, 1.0], [1.0, 2.0]]), requires_grad=True)
    >>> w = ag.eigvalsh(a)
    >>> w
    Tensor([1. 3.], dtype=float64, op=getitem)
    >>> (w * np.array([1.0, 10.0])).sum().backward()
    >>> a.grad
    array([[5.5, 0. ],
           [9. , 5.5]])
    """
    return eigh(a, UPLO)[0]


@defop("svd", "U, s, V^T = svd(A) (reduced), packed as rows [U, s, V];  with F_ij = 1 / (s_j**2 - s_i**2) off the "
              "diagonal, gA = U (F * (U^T gU - gU^T U) diag(s) + diag(gs) + diag(s) F * (V^T gV - gV^T V)) V^T "
              "+ (I - U U^T) gU diag(1/s) V^T + U diag(1/s) gV^T (I - V V^T)  (J. Townsend, 'Differentiating the "
              "SVD'; a repeated singular value: its pair's term is left out, and 1/s is 0 at s = 0: finite, and the "
              "derivative wherever there is one)")
def _svd(a):
    if np.ndim(a) < 2:
        raise ShapeError(f"svd: needs matrices (..., m, n), got shape {np.shape(a)}")
    u, s, vh = _linalg("svd", lambda m: np.linalg.svd(m, full_matrices=False), a)
    # one output for the op: U (m, k) above s (1, k) above V = vh^T (n, k)
    return np.concatenate([u, s[..., None, :], np.swapaxes(vh, -1, -2)], axis=-2)


def _svd_parts(F, packed, m):
    """(U, s as a (..., 1, k) row, V) from svd's packed output."""
    return (F.getitem(packed, index=(Ellipsis, slice(0, m), slice(None))),
            F.getitem(packed, index=(Ellipsis, slice(m, m + 1), slice(None))),
            F.getitem(packed, index=(Ellipsis, slice(m + 1, None), slice(None))))


@_svd.defvjp
def _svd_vjp(F, gy, y, a):
    (m, n), dtype = np.shape(value(a))[-2:], value(a).dtype
    k = min(m, n)
    u, s, v = _svd_parts(F, y, m)
    gu, gs, gv = _svd_parts(F, gy, m)
    core = F.where(_eye_mask(k), gs, 0.0)  # diag(gs)
    if np.any(value(gu) != 0) or np.any(value(gv) != 0):  # NOTE: skipped for s alone, finite at repeated values
        squares = s * s
        f = _reciprocal_off_ties(F, squares - _mT(F, squares), k)
        utgu, vtgv = F.matmul(_mT(F, u), gu), F.matmul(_mT(F, v), gv)
        core = core + f * (utgu - _mT(F, utgu)) * s + _mT(F, s) * (f * (vtgv - _mT(F, vtgv)))
        inv_s = _reciprocal_or_zero(F, s)  # (a zero singular value: see there)
        gu_rest = F.matmul(np.eye(m, dtype=dtype) - F.matmul(u, _mT(F, u)), gu) * inv_s  # (I - U U^T) gU diag(1/s)
        gv_rest = F.matmul(np.eye(n, dtype=dtype) - F.matmul(v, _mT(F, v)), gv) * inv_s
        return F.matmul(F.matmul(u, core), _mT(F, v)) + F.matmul(gu_rest, _mT(F, v)) + F.matmul(u, _mT(F, gv_rest))
    return F.matmul(F.matmul(u, core), _mT(F, v))


def _reciprocal_or_zero(F, s):
    """``1 / s``, 0 where ``s == 0``: the terms it scales are the projections of gU and
    gV off the singular vectors, zero for a square matrix; for a rectangular one the
    vector of a zero singular value has no derivative, and this keeps it finite."""
    zero = value(s) == 0
    return F.where(zero, 0.0, 1.0 / F.where(zero, 1.0, s)) if np.any(zero) else 1.0 / s


@_svd.defjvp(rule="P = U^T tA V;  ts = diag(P),  tU = U (F * (P S + S P^T)) + (I - U U^T) tA V S^-1,  "
                  "tV = V (F * (S P + P^T S)) + (I - V V^T) tA^T U S^-1, F_ij = 1 / (s_j**2 - s_i**2) off the "
                  "diagonal, 0 at ties, 1/s = 0 at s = 0 (as the VJP)")
def _svd_jvp(F, tangents, y, a):
    (m, n), dtype = np.shape(value(a))[-2:], value(a).dtype
    k = min(m, n)
    u, s, v = _svd_parts(F, y, m)
    ta = tangents[0]
    p = F.matmul(F.matmul(_mT(F, u), ta), v)  # (k, k)
    ts = F.sum(F.where(_eye_mask(k), p, 0.0), axis=-2, keepdims=True)  # diag(P) as a (..., 1, k) row
    squares = s * s
    f = _reciprocal_off_ties(F, squares - _mT(F, squares), k)
    inv_s = _reciprocal_or_zero(F, s)
    tu = F.matmul(u, f * (p * s + _mT(F, s) * _mT(F, p))) + \
        F.matmul(np.eye(m, dtype=dtype) - F.matmul(u, _mT(F, u)), F.matmul(ta, v)) * inv_s
    tv = F.matmul(v, f * (_mT(F, s) * p + _mT(F, p) * s)) + \
        F.matmul(np.eye(n, dtype=dtype) - F.matmul(v, _mT(F, v)), F.matmul(_mT(F, ta), u)) * inv_s
    return F.concatenate(tu, ts, tv, axis=-2)


def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """Singular value decomposition, like ``np.linalg.svd``.

    ``(U, s, Vh)`` with ``a = U diag(s) Vh``, of one matrix or of each of a stack,
    or ``s`` alone with ``compute_uv=False``. Each singular pair's sign is
    LAPACK's choice: a loss should not depend on it.

    Parameters
    ----------
    a : array_like or Tensor
        Matrices, (..., m, n).
    full_matrices : bool, optional
        Full square ``U`` and ``Vh`` (default True, as NumPy). Non-square matrices
        need False (a ValueError otherwise): the columns a full ``U`` or ``V`` adds
        are not unique, so they have no derivative.
    compute_uv : bool, optional
        Return ``U`` and ``Vh`` too (default True).
    hermitian : bool, optional
        Must be False (True is a ValueError: use ``eigh`` for symmetric matrices).

    Returns
    -------
    U : Tensor
        The left singular vectors as columns, (..., m, k), ``k = min(m, n)``; only
        with ``compute_uv``.
    s : Tensor
        The singular values in descending order, (..., k).
    Vh : Tensor
        The right singular vectors as rows, (..., k, n); only with ``compute_uv``.

    Notes
    -----
    Derivative: one ``svd`` op (J. Townsend, "Differentiating the SVD"), the
    three results being parts of its output; with ``F_ij = 1 / (s_j**2 - s_i**2)``:
    ``gA = U (F * (U^T gU - gU^T U) diag(s) + diag(gs) + diag(s) F * (V^T gV - gV^T V)) V^T
    + (I - U U^T) gU diag(1/s) V^T + U diag(1/s) gV^T (I - V V^T)``. A repeated
    singular value's pair term is left out and ``1/s`` is 0 at ``s = 0``: finite,
    and the derivative wherever there is one; when only ``s`` is used the terms of
    the vectors are skipped altogether.

    Examples
    --------
    >>> a = ag.Tensor(np.array([[3.0, 0.0], [0.0, -2.0]]), requires_grad=True)
    >>> u, s, vh = ag.svd(a)
    >>> s
    Tensor([3. 2.], dtype=float64, op=getitem)
    >>> s.sum().backward()
    >>> a.grad
    array([[ 1.,  0.],
           [ 0., -1.]])
    >>> b = ag.Tensor(np.array([[1.0, 2.0, 2.0]]), requires_grad=True)
    >>> ag.svd(b, compute_uv=False)
    Tensor([3.], dtype=float64, op=getitem)
    >>> u, s, vh = ag.svd(b, full_matrices=False)
    >>> u.shape, s.shape, vh.shape
    ((1, 1), (1,), (1, 3))
    """
    shape = np.shape(value(a))
    if hermitian:
        raise ValueError("svd: hermitian=True is not supported (use eigh for symmetric matrices)")
    if compute_uv and full_matrices and len(shape) >= 2 and shape[-1] != shape[-2]:
        raise ValueError(f"svd: full_matrices=True of a non-square {shape} matrix has columns with no derivative; "
                         "pass full_matrices=False")
    u, s, v = _svd_parts(_GRAPH, _svd(a), shape[-2] if len(shape) >= 2 else 0)
    s = getitem(s, index=(Ellipsis, 0, slice(None)))
    return (u, s, _mT(_GRAPH, v)) if compute_uv else s


@defop("pinv", "P = pinv(A) (full rank);  gA = -P^T gP P^T + (I - A P) gP^T P P^T + P^T P gP^T (I - P A)")
def _pinv(a):
    if np.ndim(a) < 2:
        raise ShapeError(f"pinv: needs matrices (..., m, n), got shape {np.shape(a)}")
    return _linalg("pinv", np.linalg.pinv, a)


@_pinv.defvjp
def _pinv_vjp(F, gy, y, a):
    (m, n), dtype = np.shape(value(a))[-2:], value(a).dtype
    p, pt, gt = y, _mT(F, y), _mT(F, gy)
    rows = np.eye(m, dtype=dtype) - F.matmul(a, p)  # I - A P, (m, m)
    cols = np.eye(n, dtype=dtype) - F.matmul(p, a)  # I - P A, (n, n)
    return (F.neg(F.matmul(F.matmul(pt, gy), pt)) + F.matmul(F.matmul(rows, gt), F.matmul(p, pt))
            + F.matmul(F.matmul(pt, p), F.matmul(gt, cols)))


@_pinv.defjvp(rule="tP = -P tA P + P P^T tA^T (I - A P) + (I - P A) tA^T P^T P")
def _pinv_jvp(F, tangents, y, a):
    (m, n), dtype = np.shape(value(a))[-2:], value(a).dtype
    p, pt, tt = y, _mT(F, y), _mT(F, tangents[0])
    rows = np.eye(m, dtype=dtype) - F.matmul(a, p)  # I - A P
    cols = np.eye(n, dtype=dtype) - F.matmul(p, a)  # I - P A
    return (F.neg(F.matmul(F.matmul(p, tangents[0]), p)) + F.matmul(F.matmul(p, pt), F.matmul(tt, rows))
            + F.matmul(F.matmul(cols, tt), F.matmul(pt, p)))


def pinv(a):
    """Moore-Penrose pseudo-inverse, like ``np.linalg.pinv`` with its default cutoff.

    Of one matrix or of each of a stack.

    Parameters
    ----------
    a : array_like or Tensor
        Matrices, (..., m, n).

    Returns
    -------
    Tensor
        The pseudo-inverses, (..., n, m).

    Notes
    -----
    Derivative: one op, ``pinv`` (Golub and Pereyra): the three-term derivative of
    a matrix of full rank, ``gA = -P^T gP P^T + (I - A P) gP^T P P^T + P^T P gP^T (I - P A)``
    (exact where the rank is locally constant); at a rank drop the pseudo-inverse
    is not continuous, and neither is its gradient.

    Examples
    --------
    >>> a = ag.Tensor(np.array([[1.0], [1.0]]), requires_grad=True)
    >>> p = ag.pinv(a)
    >>> p
    Tensor([[0.5 0.5]], dtype=float64, op=pinv)
    >>> p.sum().backward()
    >>> a.grad
    array([[-0.5],
           [-0.5]])
    """
    return _pinv(a)


def matrix_power(a, n):
    """A square matrix multiplied by itself ``n`` times, like ``np.linalg.matrix_power``.

    Composed of matmul by repeated squaring (about ``2 log2(n)`` products), and
    ``inv`` first for ``n < 0``; ``n = 0`` gives the identity, with gradient 0.

    Parameters
    ----------
    a : array_like or Tensor
        Square matrices, (..., n, n).
    n : int
        The exponent (any integer; a non-integer is a TypeError).

    Returns
    -------
    Tensor
        ``a**n`` as a matrix power, of ``a``'s shape.

    Notes
    -----
    Derivative: by the chain rule through the ops it is built from (matmul, and
    inv for ``n < 0``).

    Examples
    --------
    >>> a = ag.Tensor(np.array([[1.0, 1.0], [0.0, 1.0]]), requires_grad=True)
    >>> y = ag.matrix_power(a, 3)
    >>> y
    Tensor([[1. 3.]
     [0. 1.]], dtype=float64, op=matmul)
    >>> y[0, 1].backward()
    >>> a.grad
    array([[3., 3.],
           [1., 3.]])
    >>> ag.matrix_power(a, -1)
    Tensor([[ 1. -1.]
     [ 0.  1.]], dtype=float64, op=inv)
    """
    if not isinstance(n, (int, np.integer)):
        raise TypeError(f"matrix_power: the exponent must be an integer, got {n!r}")
    shape = _square("matrix_power", a)
    if n == 0:
        eye = np.broadcast_to(np.eye(shape[-1], dtype=value(a).dtype), shape)
        return tril(a, k=-shape[-1]) + eye  # (tril below every diagonal: zeros that keep a in the graph)
    base, n = (inv(a), -n) if n < 0 else (a, n)
    result = None
    while n:  # binary powering: about 2 log2(n) matmuls
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    return result
