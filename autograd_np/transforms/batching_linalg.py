"""Batching rules of the linear algebra: matmul, affine, einsum, solve, and the
matrix functions and decompositions, which take stacks of matrices already."""
from __future__ import annotations

from ..core.registry import GRAPH_OPS as F
from .batch_util import lift, ndim, same
from .levels import RULES

__all__ = []


def _drop_axis(v, axis):
    """``v`` without its size-1 ``axis`` (-1 or -2)."""
    shape = list(v.shape)
    del shape[axis]
    return F.reshape(v, shape=tuple(shape))


def _matmul(values, batched, params, size):
    (a, b), (ba, bb) = values, batched
    ra, rb = ndim(a, ba), ndim(b, bb)
    if ra == 1 and rb == 1:  # inner products
        return F.sum(F.mul(lift(a, ba, 1), lift(b, bb, 1)), axis=-1)
    if ra == 1:  # a row vector (1, k), dropped again after
        a = F.reshape(a, shape=tuple(a.shape[:-1]) + (1, a.shape[-1]))
    if rb == 1:  # a column vector (k, 1)
        b = F.reshape(b, shape=tuple(b.shape) + (1,))
    rank = max(ra, rb, 2)
    out = F.matmul(lift(a, ba, rank), lift(b, bb, rank))
    if rb == 1:
        out = _drop_axis(out, -1)
    if ra == 1:
        out = _drop_axis(out, -2)
    return out


def _affine(values, batched, params, size):
    (x, w, b), (bx, bw, bb) = values, batched
    if not bw and not bb and ndim(x, True) == 1:
        return F.affine(x, w, b)  # a batch of vectors is a matrix of rows
    if not bw and not bb:  # a batch of (N, in) matrices: N * batch rows
        rows = F.affine(F.reshape(x, shape=(-1, x.shape[-1])), w, b)
        return F.reshape(rows, shape=tuple(x.shape[:-1]) + (rows.shape[-1],))
    y = _matmul([x, w], [bx, bw], {}, size)
    rank = ndim(x, bx)
    return F.add(lift(y, True, rank), lift(b, bb, rank) if bb else b)


def _einsum(values, batched, params, size):
    subscripts = params["subscripts"]
    inputs, output = subscripts.split("->")
    letter = next(c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in subscripts)
    inputs = [letter + s if b else s for s, b in zip(inputs.split(","), batched)]
    return F.einsum(*values, subscripts=",".join(inputs) + "->" + letter + output,
                    optimize=params.get("optimize", False))


def _solve(values, batched, params, size):
    (a, b), (ba, bb) = values, batched
    ra, rb = ndim(a, ba), ndim(b, bb)
    if rb == 1:  # one vector per example: a column, dropped again after
        b = F.reshape(b, shape=tuple(b.shape) + (1,))
        rank = max(ra, 2)
        return _drop_axis(F.solve(lift(a, ba, rank), lift(b, bb, rank)), -1)
    rank = max(ra, rb)
    return F.solve(lift(a, ba, rank), lift(b, bb, rank))


RULES.update(matmul=_matmul, affine=_affine, einsum=_einsum, solve=_solve)
for _name in ("inv", "det", "logabsdet", "cholesky", "eigh", "svd", "pinv"):
    RULES[_name] = same(_name)
del _name
