"""``np.linalg`` on square matrices (and stacks of them): inv, det, the log of
|det| behind slogdet, solve, and norm composed from the elementwise ops.

Derivatives are the standard matrix-calculus ones, each written with the
engine's ops so that it can be differentiated again:

* ``inv``:  Y = A^-1,  gA = -Y^T gY Y^T;
* ``det``:  d = det A,  gA = gd cof(A) (the cofactor matrix: d A^-T where A is
  invertible, computed without inverting so that singular matrices work too);
* ``logabsdet``: l = log|det A|,  gA = gl A^-T;
* ``solve``: X = A^-1 B,  gB = A^-T gX,  gA = -gB X^T.

A singular matrix is an error naming the op and the shapes (a ``ShapeError``
carrying NumPy's ``LinAlgError`` message), never a result full of infinities
that a gradient check would not notice.
"""
import numpy as np

from ..core import Tensor
from ..core.errors import ShapeError
from ..core.recording import defop
from ._util import value
from .arithmetic import mul, power
from .elementwise import abs as _abs, where
from .reductions import max as _max, min as _min, sum as _sum
from ._jvp import reduction, total

__all__ = ["inv", "det", "logabsdet", "slogdet", "solve", "norm"]


def _square(op, a):
    """``a``'s shape, checked to be a (stack of) square matrices."""
    shape = np.shape(value(a))
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise ShapeError(f"{op}: needs square matrices (..., n, n), got shape {shape}")
    return shape


def _linalg(op, fn, *arrays, read=None):
    """``fn(*arrays)`` with LAPACK's errors naming ``op``.  A matrix of ``arrays[0]``
    holding NaN (in the part ``fn`` reads: ``read(a)``) gives NaN results: LAPACK's
    answers there are arbitrary (NumPy's det is 0, eigh's eigenvalues finite, inv
    and svd raise), so it is computed on the identity and its results set to NaN."""
    a = np.asarray(arrays[0])
    bad = np.isnan(a if read is None else read(a)).any(axis=(-2, -1)) if a.ndim >= 2 else np.False_
    if np.any(bad):
        stand_in = np.broadcast_to(np.eye(a.shape[-2], a.shape[-1], dtype=a.dtype), a.shape)
        arrays = (np.where(bad[..., None, None], stand_in, a),) + arrays[1:]
    try:
        result = fn(*arrays)
    except np.linalg.LinAlgError as exc:
        raise np.linalg.LinAlgError(f"{op}: {exc} (shapes {[np.shape(a) for a in arrays]})") from None
    return _nan_where(bad, result) if np.any(bad) else result


def _nan_where(bad, result):
    """``result`` (an array or a tuple of them, leading axes the stack's) with NaN for the matrices in ``bad``."""
    if isinstance(result, tuple):
        return tuple(_nan_where(bad, r) for r in result)
    r = np.asarray(result)
    return np.where(bad.reshape(bad.shape + (1,) * (r.ndim - bad.ndim)), np.nan, r).astype(r.dtype, copy=False)


def _mT(F, x):
    """The transpose of the last two axes."""
    n = np.ndim(value(x))
    return F.transpose(x, axes=tuple(range(n - 2)) + (n - 1, n - 2))


def _per_matrix(F, g):
    """``g`` (one number per matrix of a stack) shaped to broadcast against the stack."""
    return F.reshape(g, np.shape(value(g)) + (1, 1))


@defop("inv", "y = A^-1;  gA = -y^T gy y^T")
def _inv(a):
    _square("inv", a)
    return _linalg("inv", np.linalg.inv, a)


@_inv.defvjp
def _inv_vjp(F, gy, y, a):
    yT = _mT(F, y)
    return F.neg(F.matmul(F.matmul(yT, gy), yT))


@_inv.defjvp(rule="ty = -y tA y")
def _inv_jvp(F, tangents, y, a):
    return F.neg(F.matmul(F.matmul(y, tangents[0]), y))


@defop("det", "y = det A;  gA = gy cof(A), the cofactor matrix (y A^-T where A is invertible; from the SVD, "
              "or the minors' determinants under create_graph, where it is singular)")
def _det(a):
    _square("det", a)
    return _linalg("det", np.linalg.det, a)


@_det.defvjp
def _det_vjp(F, gy, y, a):
    return F.mul(_per_matrix(F, gy), _cofactor(F, y, a))


reduction(_det, "ty = sum(cof(A) * tA), over each matrix  (the VJP at ones, times tA)", axes=(-2, -1))


def _cofactor(F, y, a):
    """The cofactor matrix of ``a`` (the transposed adjugate: det's derivative), which
    exists for singular matrices too.  A plain backward takes it from the SVD, exact
    at zero singular values; under create_graph it is ``y A^-T`` for well-conditioned
    matrices and the determinants of the minors otherwise (differentiable again)."""
    if type(a) is not Tensor:
        a = np.asarray(a)
        return _cofactor_svd(a) if np.all(np.isfinite(a)) else _cofactor_by_minors(F, a)  # (no SVD of inf, NaN)
    av = value(a)
    if not np.all(np.isfinite(av)):  # (no SVD of inf or NaN)
        return _cofactor_by_minors(F, a)
    s = np.linalg.svd(av, compute_uv=False) if av.size else np.ones(av.shape[:-1])
    if av.shape[-1] and np.all(s[..., -1] > _WELL_CONDITIONED * s[..., 0]):
        return F.mul(_per_matrix(F, y), _mT(F, F.inv(a)))
    return _cofactor_by_minors(F, a)


_WELL_CONDITIONED = 1e-6  # smallest / largest singular value above which y A^-T is accurate (to ~1e-10)


def _cofactor_svd(a):
    """``sign U diag(prod of the other singular values) V^T`` for ``a = U diag(s) V^T``
    (sign = det U det V): the cofactor matrix, without dividing by anything."""
    n = a.shape[-1]
    if n <= 1:
        return np.ones_like(a)
    u, s, vh = np.linalg.svd(a)
    left, right = np.ones_like(s), np.ones_like(s)  # products of the singular values before / after each
    np.cumprod(s[..., :-1], axis=-1, out=left[..., 1:])
    np.cumprod(s[..., :0:-1], axis=-1, out=right[..., -2::-1])
    sign = np.linalg.det(u) * np.linalg.det(vh)
    return sign[..., None, None] * ((u * (left * right)[..., None, :]) @ vh)


def _cofactor_by_minors(F, a):
    """Cofactors as signed determinants of the (n-1, n-1) minors, all in one batched det
    (O(n**5)): a differentiable function of ``a`` at singular matrices too."""
    shape = np.shape(value(a))
    n = shape[-1]
    if n <= 1:
        return F.where(np.ones(shape, dtype=bool), 1.0, a)  # the constant 1, still a function of a
    keep = np.array([[k for k in range(n) if k != i] for i in range(n)])  # (n, n-1): the rows without i
    rows, cols = keep[:, None, :, None], keep[None, :, None, :]  # minors (..., n, n, n-1, n-1)
    signs = (-1.0) ** np.add.outer(np.arange(n), np.arange(n))
    return F.mul(F.det(F.getitem(a, index=(Ellipsis, rows, cols))), signs)


@defop("logabsdet", "y = log|det A| (slogdet's second value);  gA = gy A^-T")
def _logabsdet(a):
    _square("logabsdet", a)
    sign, logdet = _linalg("logabsdet", np.linalg.slogdet, a)
    if np.any(sign == 0):
        raise np.linalg.LinAlgError(f"logabsdet: singular matrix (det 0; shape {np.shape(a)})")
    return logdet


@_logabsdet.defvjp
def _logabsdet_vjp(F, gy, y, a):
    return F.mul(_per_matrix(F, gy), _mT(F, F.inv(a)))


reduction(_logabsdet, "ty = sum(A^-T * tA) = trace(A^-1 tA), over each matrix", axes=(-2, -1))


def _solve_shapes(a, b):
    """Whether ``b`` is one vector (n,); then ``a`` must be one matrix (a stack of them
    takes ``b[..., None]``: NumPy reads a 1-D ``b`` either way, a gradient cannot)."""
    sa, sb = _square("solve", a), np.shape(value(b))
    vector = len(sb) == 1
    if vector and len(sa) != 2:
        raise ShapeError(f"solve: a vector b of shape {sb} with a stack of matrices {sa}: pass b[..., None]")
    if (sb[0] if vector else (sb[-2] if len(sb) >= 2 else None)) != sa[-1]:
        raise ShapeError(f"solve: A of shape {sa} and b of shape {sb} do not fit (b needs {sa[-1]} rows)")
    return vector


@defop("solve", "x = A^-1 b;  gb = A^-T gx,  gA = -gb x^T")
def _solve(a, b):
    _solve_shapes(a, b)
    return _linalg("solve", np.linalg.solve, a, b)


@_solve.defvjp(needs=True)
def _solve_vjp(F, gy, y, a, b, needs):
    vector = _solve_shapes(a, b)
    gb = F.solve(_mT(F, a), gy)
    if not needs[0]:
        return None, gb
    if vector:
        n = np.shape(value(y))[0]
        return F.neg(F.mul(F.reshape(gb, (n, 1)), F.reshape(y, (1, n)))), gb
    return F.neg(F.matmul(gb, _mT(F, y))), gb


@_solve.defjvp(rule="tx = A^-1 (tb - tA x)")
def _solve_jvp(F, tangents, y, a, b):
    ta, tb = tangents
    return F.solve(a, total(tb, None if ta is None else F.neg(F.matmul(ta, y))))


def inv(a):
    """Inverse of a square matrix or of each matrix of a stack, like ``np.linalg.inv``.

    Parameters
    ----------
    a : array_like or Tensor
        Square matrices, (..., n, n).

    Returns
    -------
    Tensor
        ``a^-1``, of ``a``'s shape.

    Notes
    -----
    Derivative: one op, ``inv``: ``gA = -Y^T gY Y^T`` with ``Y = a^-1``. A
    singular matrix is a ShapeError naming the op and the shapes (carrying NumPy's
    LinAlgError message); a matrix holding NaN gives NaN.

    Examples
    --------
    >>> a = ag.Tensor(np.array([[2.0, 0.0], [0.0, 4.0]]), requires_grad=True)
    >>> y = ag.inv(a)
    >>> y
    Tensor([[0.5  0.  ]
     [0.   0.25]], dtype=float64, op=inv)
    >>> y.sum().backward()
    >>> a.grad
    array([[-0.25  , -0.125 ],
           [-0.125 , -0.0625]])
    """
    return _inv(a)


def det(a):
    """Determinant of a square matrix (or of each of a stack), like ``np.linalg.det``.

    Parameters
    ----------
    a : array_like or Tensor
        Square matrices, (..., n, n).

    Returns
    -------
    Tensor
        One determinant per matrix, of shape ``a.shape[:-2]``.

    Notes
    -----
    Derivative: one op, ``det``: ``gA = gd cof(A)``, the cofactor matrix
    (``d A^-T`` where ``A`` is invertible), computed so that singular matrices
    have their gradient too: a plain backward takes it from the SVD; under
    ``create_graph`` it is ``d A^-T`` for well-conditioned matrices and the
    minors' determinants otherwise (differentiable again).

    Examples
    --------
    >>> a = ag.Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    >>> y = ag.det(a)
    >>> y
    Tensor(-2., dtype=float64, op=det)
    >>> y.backward()
    >>> a.grad
    array([[ 4., -3.],
           [-2.,  1.]])
    >>> s = ag.Tensor(np.array([[1.0, 2.0], [2.0, 4.0]]), requires_grad=True)
    >>> ag.det(s).backward()
    >>> s.grad
    array([[ 4., -2.],
           [-2.,  1.]])
    """
    return _det(a)


def logabsdet(a):
    """Logarithm of the absolute determinant, ``log|det a|``.

    The second value of ``np.linalg.slogdet``: the stable way to a determinant's
    size and gradient for large matrices, whose determinant over- or underflows.

    Parameters
    ----------
    a : array_like or Tensor
        Square matrices, (..., n, n).

    Returns
    -------
    Tensor
        One value per matrix, of shape ``a.shape[:-2]``.

    Notes
    -----
    Derivative: one op, ``logabsdet``: ``gA = gl A^-T``. A singular matrix (det 0)
    is a ShapeError naming the op and the shape, where NumPy gives ``-inf``.

    Examples
    --------
    >>> a = ag.Tensor(np.array([[2.0, 0.0], [0.0, -4.0]]), requires_grad=True)
    >>> y = ag.logabsdet(a)
    >>> y
    Tensor(2.0794, dtype=float64, op=logabsdet)
    >>> y.backward()
    >>> a.grad
    array([[ 0.5 , -0.  ],
           [ 0.  , -0.25]])
    """
    return _logabsdet(a)


def slogdet(a):
    """Sign and ``log|det a|``, like ``np.linalg.slogdet``.

    Parameters
    ----------
    a : array_like or Tensor
        Square matrices, (..., n, n).

    Returns
    -------
    sign : numpy.ndarray or numpy.float64
        The determinants' signs, a constant (its derivative is zero where it is
        defined).
    logabsdet : Tensor
        ``log|det a|``, differentiable (``ag.logabsdet``).

    Notes
    -----
    Derivative: that of ``logabsdet``, ``gA = gl A^-T``; the sign carries none. A
    singular matrix is a ShapeError (NumPy gives ``(0, -inf)``).

    Examples
    --------
    >>> a = ag.Tensor(np.array([[2.0, 0.0], [0.0, -4.0]]), requires_grad=True)
    >>> sign, logdet = ag.slogdet(a)
    >>> sign, logdet
    (np.float64(-1.0), Tensor(2.0794, dtype=float64, op=logabsdet))
    >>> logdet.backward()
    >>> a.grad
    array([[ 0.5 , -0.  ],
           [ 0.  , -0.25]])
    """
    sign, _ = _linalg("slogdet", np.linalg.slogdet, np.asarray(value(a)))
    return sign, _logabsdet(a)


def solve(a, b):
    """Solution ``x`` of ``a @ x == b``, like ``np.linalg.solve``.

    Parameters
    ----------
    a : array_like or Tensor
        Square matrices, (..., n, n).
    b : array_like or Tensor
        One vector (n,), with one matrix ``a``; or matrices (..., n, k). A vector
        with a stack of matrices is a ShapeError: pass ``b[..., None]`` (NumPy
        reads a 1-D ``b`` either way, a gradient cannot).

    Returns
    -------
    Tensor
        ``x``, of ``b``'s shape (broadcast over the stack).

    Notes
    -----
    Derivative: one op, ``solve``: ``gb = A^-T gx``, ``gA = -gb x^T``. A singular
    matrix is a ShapeError naming the op and the shapes.

    Examples
    --------
    >>> a = ag.Tensor(np.array([[2.0, 0.0], [0.0, 4.0]]), requires_grad=True)
    >>> b = ag.Tensor(np.array([2.0, 8.0]), requires_grad=True)
    >>> x = ag.solve(a, b)
    >>> x
    Tensor([1. 2.], dtype=float64, op=solve)
    >>> x.sum().backward()
    >>> b.grad
    array([0.5 , 0.25])
    >>> a.grad
    array([[-0.5 , -1.  ],
           [-0.25, -0.5 ]])
    """
    return _solve(a, b)


def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002  (NumPy's argument name)
    """Vector or matrix norm, like ``np.linalg.norm``.

    Vectors (a 1-D array, or ``axis`` an int): ``ord`` None or 2, 1, inf, -inf,
    or any number > 0. Matrices (a 2-D array with ``axis`` None, or ``axis`` a
    pair): ``ord`` None or "fro" (Frobenius), 1 / -1 (largest / smallest column
    sum), inf / -inf (row sums). ``axis`` None and ``ord`` None: the 2-norm of
    the flattened array, as NumPy. Not supported (a ValueError): the spectral
    and nuclear norms (``ord`` 2, -2, "nuc" of matrices), which need an SVD.

    Parameters
    ----------
    x : array_like or Tensor
        The input.
    ord : {None, int, float, inf, -inf, "fro"}, optional
        The norm's order, as above.
    axis : int, (int, int) or None, optional
        The vector axis, or the pair of matrix axes; None: the whole array.
    keepdims : bool, optional
        Keep the reduced axes with size 1 (default False).

    Returns
    -------
    Tensor
        The norms, ``x``'s shape without ``axis`` (or with it as size 1).

    Notes
    -----
    Derivative: by the chain rule through the ops it is built from (abs, power,
    sum, max, min). At 0, where it has no derivative, the gradient is 0, as
    PyTorch's (a slice of zeros is computed at ones and its result set to 0, not
    ``inf * 0``).

    Examples
    --------
    >>> x = ag.Tensor(np.array([3.0, -4.0]), requires_grad=True)
    >>> y = ag.norm(x)
    >>> y
    Tensor(5., dtype=float64, op=power)
    >>> y.backward()
    >>> x.grad
    array([ 0.6, -0.8])
    >>> ag.norm(x, ord=1), ag.norm(x, ord=np.inf)
    (Tensor(7., dtype=float64, op=sum), Tensor(4., dtype=float64, op=max))
    >>> m = ag.Tensor(np.array([[1.0, -2.0], [3.0, 4.0]]), requires_grad=True)
    >>> ag.norm(m, ord=1)
    Tensor(6., dtype=float64, op=max)
    >>> ag.norm(m, axis=1)
    Tensor([2.2361 5.    ], dtype=float64, op=power)
    """
    n = np.ndim(value(x))
    matrix = isinstance(axis, tuple) or (axis is None and n == 2 and ord is not None)
    if ord is None or (ord == "fro" and matrix):
        return _root_of_sum(x, 2.0, axis, keepdims)
    if axis is None and n > 2:
        raise ValueError(f"norm: ord={ord!r} of a {n}-D array needs an axis (or a pair of axes)")
    if matrix:
        return _matrix_norm(x, ord, axis if axis is not None else (0, 1), keepdims)
    if isinstance(ord, str) or not isinstance(ord, (int, float, np.number)):
        raise ValueError(f"norm: ord={ord!r} is not a vector norm (None, a number > 0, inf or -inf)")
    if ord == np.inf or ord == -np.inf:
        return (_max if ord > 0 else _min)(_abs(x), axis=axis, keepdims=keepdims)
    if not ord > 0:
        raise ValueError(f"norm: ord must be None, a number > 0, inf or -inf for vectors, got {ord!r}")
    if ord == 1:
        return _sum(_abs(x), axis=axis, keepdims=keepdims)
    return _root_of_sum(x, float(ord), axis, keepdims)


def _root_of_sum(x, p, axis, keepdims):
    """``sum(|x|**p) ** (1/p)`` over ``axis``; on a slice of zeros its derivative is 0
    (PyTorch's choice; it has none there), where the composition would give
    ``inf * 0``: such slices are computed at ones and their result set to 0."""
    xv = np.asarray(value(x))
    zero = np.sum(np.abs(xv), axis=axis, keepdims=True) == 0
    if np.any(zero):
        x = where(zero, 1.0, x)
    terms = mul(x, x) if p == 2.0 else power(_abs(x), p)
    root = power(_sum(terms, axis=axis, keepdims=keepdims), 1.0 / p)
    if np.any(zero):
        root = where(zero if keepdims else np.squeeze(zero, axis=_reduced_axes(axis, xv.ndim)), 0.0, root)
    return root


def _reduced_axes(axis, ndim):
    return tuple(range(ndim)) if axis is None else (axis if isinstance(axis, tuple) else (axis,))


def _matrix_norm(x, ord, axes, keepdims):  # noqa: A002
    if ord not in (1, -1, np.inf, -np.inf):
        raise ValueError(f"norm: ord={ord!r} of matrices is not supported (None, 'fro', 1, -1, inf, -inf are; "
                         "the spectral and nuclear norms need an SVD)")
    rows, cols = axes
    summed = rows if ord in (1, -1) else cols  # column sums for 1, row sums for inf
    sums = _sum(_abs(x), axis=summed, keepdims=True)
    return (_max if ord > 0 else _min)(sums, axis=(rows, cols), keepdims=keepdims)  # (the summed axis has size 1)
