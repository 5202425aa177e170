"""Buffered kernels for compiled steps (``lowering.py``): the hottest ops' forward
and VJP written as NumPy calls into arrays the step allocates once and reuses.

Each form here computes with the same NumPy calls, in the same order, as the
op's own forward or VJP (``ops/``), only writing into a buffer (``out=``)
instead of a new array.  The lowering checks that once, on the traced call's
arrays: a form is used only when its numbers equal the op's own bitwise;
otherwise the step calls the op as eager does.  So a buffered form can never
change a result, only save an allocation.

A buffer never leaves the step: results are copied out, and a gradient that
is a buffer (or a view of one) is copied before it becomes a leaf's ``.grad``.
"""
from __future__ import annotations

import numpy as np

from .registry import OPS

__all__ = ["forward_into", "vjp_into"]

# op name -> the ufunc its forward is (checked against the op's result before use)
_UFUNC_OPS = {"add": "add", "sub": "subtract", "mul": "multiply", "div": "true_divide", "neg": "negative",
              "exp": "exp", "log": "log", "sqrt": "sqrt", "tanh": "tanh", "relu": None}


def _same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)


def forward_into(code, node, ins):
    """An expression computing ``node``'s forward into a buffer, or None (then the op
    is called)."""
    op = node.op
    if OPS.get(op.name) is not op or op.save is not None or node.params or node.shape == ():
        return None
    name, out, raw = op.name, node.out, node.saved
    if name == "relu" and len(raw) == 1:
        if not _same(np.maximum(raw[0], 0), out):
            return None
        return f"np.maximum({ins[0]}, 0, out={code.buffer(out)})"
    if name == "affine" and np.ndim(raw[0]) == 2 and np.ndim(raw[1]) == 2:
        trial = np.matmul(raw[0], raw[1])
        trial += raw[2]
        if not _same(trial, out):
            return None
        b = code.buffer(out)
        return f"np.add(np.matmul({ins[0]}, {ins[1]}, out={b}), {ins[2]}, out={b})"
    ufunc = _UFUNC_OPS.get(name)
    if ufunc is None or not _same(getattr(np, ufunc)(*raw), out):
        return None
    return f"np.{ufunc}({', '.join(ins)}, out={code.buffer(out)})"


def vjp_into(code, node, ins, g, gy, result, needs):
    """Expressions computing ``node``'s VJP with buffers, one per input (None where no
    gradient is wanted), or None (then the VJP is called).  ``result``: the VJP's own
    gradients on the traced call (what the buffered forms must equal)."""
    op = node.op
    if OPS.get(op.name) is not op or node.params or node.shape == ():  # 0-d: NumPy scalars, no out=
        return None
    name, y, raw = op.name, node.out, node.saved
    yname = code.node_name(node)
    if name == "sigmoid":
        t = y * y
        np.subtract(y, t, out=t)
        if not _same(gy * t, result[0]):
            return None
        b = code.buffer(result[0])
        return [f"np.multiply({g}, np.subtract({yname}, np.multiply({yname}, {yname}, out={b}), out={b}), out={b})"]
    if name == "tanh":
        if not _same(gy - gy * y * y, result[0]):
            return None
        b = code.buffer(result[0])
        return [f"np.subtract({g}, np.multiply(np.multiply({g}, {yname}, out={b}), {yname}, out={b}), out={b})"]
    if name == "relu":
        if not _same(gy * (raw[0] > 0), result[0]):
            return None
        m, b = code.buffer(raw[0] > 0), code.buffer(result[0])
        return [f"np.multiply({g}, np.greater({ins[0]}, 0, out={m}), out={b})"]
    if name == "affine" and np.ndim(raw[0]) == 2 and needs is not None:
        return _affine_vjp(code, ins, g, gy, raw, result, needs)
    return None


def _affine_vjp(code, ins, g, gy, raw, result, needs):
    """gx = gy @ W.T into a buffer (it stays in the step); gW = x.T @ gy and gb = sum(gy)
    as new arrays (they usually become a parameter's .grad)."""
    x, W, _ = raw
    trials = [(lambda: np.matmul(gy, W.T), lambda: f"np.matmul({g}, {ins[1]}.T, out={code.buffer(result[0])})"),
              (lambda: np.matmul(x.T, gy), lambda: f"np.matmul({ins[0]}.T, {g})"),
              (lambda: gy.sum(axis=0), lambda: f"{g}.sum(axis=0)")]
    for need, (trial, _), traced in zip(needs, trials, result):
        if (traced is not None) != bool(need) or need and not _same(trial(), traced):
            return None
    return [expr() if need else None for need, (_, expr) in zip(needs, trials)]
