"""Linear algebra: matmul, and the fused affine map of a dense layer."""
import numpy as np

from ..core.recording import defop
from ..core.errors import ShapeError
from ._util import value


def _swap_last(F, x):
    n = np.ndim(value(x))
    return F.transpose(x, axes=tuple(range(n - 2)) + (n - 1, n - 2))


@defop("matmul", "y = a @ b;  ga = gy @ b.T,  gb = a.T @ gy")
def matmul(a, b):
    """Matrix product with NumPy's rules (1-D operands, batched stacks)."""
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


@defop("affine", "y = x @ W + b;  gx = gy @ W.T,  gW = x.T @ gy,  gb = sum(gy, rows)")
def affine(x, W, b):
    """Fused dense layer ``x @ W + b`` for ``x`` of shape (N, in) (or (in,)),
    ``W`` (in, out), ``b`` (out,): one node instead of two."""
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
