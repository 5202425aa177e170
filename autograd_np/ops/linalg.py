"""Linear algebra: matmul, and the fused affine map of a dense layer."""
import numpy as np

from ..core.recording import defop
from ..core.errors import ShapeError
from ._util import value
from ._jvp import total


def _swap_last(F, x):
    n = np.ndim(value(x))
    return F.transpose(x, axes=tuple(range(n - 2)) + (n - 1, n - 2))


@defop("matmul", "y = a @ b;  ga = gy @ b.T,  gb = a.T @ gy")
def matmul(a, b):
    """Matrix product ``a @ b``, with NumPy's rules, like ``np.matmul``.

    1-D operands are a row vector on the left and a column vector on the right
    (the added axis is dropped again), and stacks of matrices broadcast over
    their leading axes.  ``t @ u`` on tensors is this op.

    Parameters
    ----------
    a : array_like or Tensor
        The left operand, of shape (..., n, k) or (k,).
    b : array_like or Tensor
        The right operand, of shape (..., k, m) or (k,).

    Returns
    -------
    Tensor
        The product, of shape (..., n, m) (without ``n`` or ``m`` for a 1-D
        operand; a scalar for two vectors).

    Raises
    ------
    ShapeError
        For a scalar operand (use ``mul``), or when the inner sizes differ.

    Notes
    -----
    A vector operand's gradient is summed over the batch axes it was broadcast to.

    Examples
    --------
    >>> a = ag.Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> b = ag.Tensor([1.0, -1.0], requires_grad=True)
    >>> y = ag.matmul(a, b)
    >>> y
    Tensor([-1. -1.], dtype=float64, op=matmul)
    >>> y.sum().backward(); a.grad, b.grad
    (array([[ 1., -1.], [ 1., -1.]]), array([4., 6.]))
    """
    try:
        return np.matmul(a, b)  # (the checks below only explain what NumPy refused: the call is hot)
    except ValueError:
        sa, sb = np.shape(a), np.shape(b)
        if not sa or not sb:
            raise ShapeError(f"matmul: scalar operands are not allowed (shapes {sa} and {sb}); use *") from None
        ka, kb = sa[-1], (sb[0] if len(sb) == 1 else sb[-2])
        if ka != kb:
            raise ShapeError(f"matmul: shapes {sa} and {sb} do not align ({ka} != {kb})") from None
        raise


@matmul.defvjp(needs=True)
def _matmul_vjp(F, gy, y, a, b, needs):
    a_vec, b_vec = np.ndim(value(a)) == 1, np.ndim(value(b)) == 1
    if a_vec and b_vec:  # inner product: y is a scalar
        return (gy * b if needs[0] else None), (gy * a if needs[1] else None)
    # Treat vectors as 1-row / 1-column matrices, then drop that axis again.
    A = F.reshape(a, shape=(1, -1)) if a_vec else a
    B = F.reshape(b, shape=(-1, 1)) if b_vec else b
    G = gy
    if a_vec:
        G = F.reshape(G, shape=np.shape(value(G))[:-1] + (1, np.shape(value(G))[-1]))
    if b_vec:
        G = F.reshape(G, shape=np.shape(value(G)) + (1,))
    ga = gb = None
    if needs[0]:
        ga = F.matmul(G, _swap_last(F, B))
        if a_vec:  # summed over any batch axes too: a vector was broadcast to every matrix
            ga = F.reshape(F.sum_to(ga, shape=(1, np.shape(value(a))[0])), shape=np.shape(value(a)))
    if needs[1]:
        gb = F.matmul(_swap_last(F, A), G)
        if b_vec:
            gb = F.reshape(F.sum_to(gb, shape=(np.shape(value(b))[0], 1)), shape=np.shape(value(b)))
    return ga, gb


@matmul.defjvp(rule="ty = ta @ b + a @ tb")
def _matmul_jvp(F, tangents, y, a, b):
    ta, tb = tangents
    return total(None if ta is None else F.matmul(ta, b), None if tb is None else F.matmul(a, tb))


@defop("affine", "y = x @ W + b;  gx = gy @ W.T,  gW = x.T @ gy,  gb = sum(gy, rows)")
def affine(x, W, b):
    """Fused dense layer ``x @ W + b``: one node instead of two.

    Parameters
    ----------
    x : array_like or Tensor
        The inputs, of shape (N, in), or (in,) for one row.
    W : array_like or Tensor
        The weights, of shape (in, out).
    b : array_like or Tensor
        The bias, of shape (out,).

    Returns
    -------
    Tensor
        ``x @ W + b``, of shape (N, out), or (out,) for a 1-D ``x``.

    Raises
    ------
    ShapeError
        When the shapes do not fit as above.

    Examples
    --------
    >>> x = ag.Tensor([[1.0, 2.0]], requires_grad=True)
    >>> W = ag.Tensor([[1.0, 0.0, 2.0], [0.0, 1.0, -1.0]], requires_grad=True)
    >>> b = ag.Tensor([0.5, 0.5, 0.5], requires_grad=True)
    >>> y = ag.affine(x, W, b)
    >>> y
    Tensor([[1.5 2.5 0.5]], dtype=float64, op=affine)
    >>> y.sum().backward(); x.grad, W.grad, b.grad
    (array([[3., 0.]]), array([[1., 1., 1.], [2., 2., 2.]]), array([1., 1., 1.]))
    """
    sx, sw, sb = np.shape(x), np.shape(W), np.shape(b)
    if len(sw) != 2 or len(sx) not in (1, 2) or sx[-1] != sw[0] or sb != (sw[1],):
        raise ShapeError(f"affine: x {sx}, W {sw}, b {sb} do not fit: need x (N, in) or (in,), "
                         "W (in, out), b (out,)")
    y = np.matmul(x, W)
    y += b  # y is a fresh array: adding in place saves a temporary
    return y


@affine.defvjp(needs=True)
def _affine_vjp(F, gy, y, x, W, b, needs):
    # .T and .sum are methods of arrays and of tensors alike: the same line records under
    # create_graph, and skips a Python wrapper in a plain backward (this VJP is hot)
    vec = np.ndim(value(x)) == 1
    gx = F.matmul(gy, W.T) if needs[0] else None
    gW = gb = None
    if needs[1]:
        gW = (F.matmul(F.reshape(x, shape=(-1, 1)), F.reshape(gy, shape=(1, -1))) if vec
              else F.matmul(x.T, gy))
    if needs[2]:
        gb = gy if vec else gy.sum(axis=0)
    return gx, gW, gb


@affine.defjvp(rule="ty = tx @ W + x @ tW + tb")
def _affine_jvp(F, tangents, y, x, W, b):
    tx, tw, tb = tangents
    return total(None if tx is None else F.matmul(tx, W), None if tw is None else F.matmul(x, tw), tb)
