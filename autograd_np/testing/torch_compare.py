"""The boundary sweep's comparison with PyTorch (imported only where torch is
installed): the forward, the gradient for the same cotangent and the second
derivative for the same weights, all in float64, through ``torch.autograd``."""
from __future__ import annotations

import numpy as np
import torch

from .closeness import close as _close

__all__ = ["compare", "as_torch"]

RTOL = 1e-6


def as_torch(point):
    """The point's arguments for a PyTorch reference: differentiated arrays as float64
    leaves, other numeric arrays as tensors, anything else as it is."""
    args, leaves = [], []
    for i, a in enumerate(point.args):
        if i in point.wrt:
            t = torch.tensor(np.array(a, dtype=np.float64), requires_grad=True)
            leaves.append(t)
            args.append(t)
        elif isinstance(a, np.ndarray) and a.dtype.kind in "fiub":
            args.append(torch.as_tensor(a))
        else:
            args.append(a)
    return args, leaves


def _numpy(grads, leaves):
    return [np.zeros(tuple(t.shape)) if g is None else g.detach().numpy(force=True) for g, t in zip(grads, leaves)]


def _differ(problems, what, ours, theirs):
    for k, (a, b) in enumerate(zip(ours, theirs)):
        if not _close(*_undefined_alike(a, b), RTOL):
            problems.append(f"{what} of input {k} is {a!r}, PyTorch's {b!r}")


def _undefined_alike(a, b):
    """``a`` and ``b`` with the elements where neither has a number made equal: where
    PyTorch's derivative is NaN (0 * inf inside its formula: no value to compare;
    ours, if finite, is checked by the one-sided differences), or ours is NaN where
    PyTorch's is infinite (a pole: neither is a finite derivative)."""
    a, b = np.array(a, dtype=np.float64), np.array(b, dtype=np.float64)
    skip = np.isnan(b) | (np.isnan(a) & np.isinf(b))
    a[skip] = b[skip] = 0.0
    return a, b


def compare(ref, point, y, g1, g2, v, w):
    """Problems where our forward ``y``, gradient ``g1`` (cotangent ``v``) or second
    derivative ``g2`` (weights ``w``; None: not compared) differ from PyTorch's."""
    args, leaves = as_torch(point)
    with torch.enable_grad():
        out = ref(*args, **point.kwargs)
        problems = []
        if not _close(y, out.detach().numpy(), RTOL):
            problems.append(f"forward {y!r} differs from PyTorch's {out.detach().numpy()!r}")
        if not out.requires_grad:
            return problems
        grads = torch.autograd.grad(out, leaves, torch.tensor(v), create_graph=g2 is not None, allow_unused=True)
        _differ(problems, "the gradient", g1, _numpy(grads, leaves))
        if g2 is None:
            return problems
        terms = [(g * torch.tensor(wk)).sum() for g, wk in zip(grads, w) if g is not None and g.requires_grad]
        if not terms:
            second = [None] * len(leaves)
        else:
            second = torch.autograd.grad(sum(terms), leaves, allow_unused=True)
        _differ(problems, "the second derivative", g2, _numpy(second, leaves))
    return problems
