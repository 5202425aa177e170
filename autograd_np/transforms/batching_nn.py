"""Batching rules of the network ops: the fused losses and normalizations, and the
convolution family, whose own leading axis (N images) takes the batch too."""
from __future__ import annotations

import math

import numpy as np

from ..core import Tensor
from ..core.registry import GRAPH_OPS as F
from ..ops.losses import _targets
from .batch_util import broadcast_batch, lift, ndim, shift_axis
from .levels import RULES, VmapError

__all__ = []


def _value(v):
    return v._data if type(v) is Tensor else np.asarray(v)


def _softmax_cross_entropy(values, batched, params, size):
    """One loss per example: the mean over that example's rows of -sum(t * log softmax(x))."""
    (x, t), (bx, bt) = values, batched
    x = x if bx else broadcast_batch(x, size)
    shape = tuple(x.shape[1:])
    if not shape:
        raise VmapError("softmax_cross_entropy: the logits are a scalar; they need a class axis (the last)")
    t = t if bt else broadcast_batch(t, size)
    rows = math.prod(shape[:-1])
    flat_t = _value(t).reshape((size * rows,) + tuple(t.shape[1 + len(shape) - 1:]))
    _, labels = _targets(np.broadcast_to(np.zeros((), x.dtype), (size * rows, shape[-1])), flat_t)  # the op's checks
    logp = F.log_softmax(x, axis=-1)
    if labels:
        picked = F.getitem(F.reshape(logp, shape=(size * rows, shape[-1])), (np.arange(size * rows), flat_t))
        return F.div(F.neg(F.sum(F.reshape(picked, shape=(size, rows)), axis=1)), float(rows))
    if _value(t).dtype.kind != "f":
        t = F.astype(t, dtype=x.dtype)
    terms = F.mul(t, logp)
    if np.isnan(_value(terms)).any():  # 0 * log 0: a class of probability 0 contributes 0, as the op's forward
        terms = F.where(_value(t) != 0, terms, 0.0)
    return F.div(F.neg(F.sum(terms, axis=tuple(range(1, terms.ndim)))), float(rows))


def _layer_norm(values, batched, params, size):
    (x, w, b), (bx, bw, bb) = values, batched
    x = x if bx else broadcast_batch(x, size)
    rank = ndim(x, True)
    axis = params.get("axis", -1)
    axes = tuple(a if a < 0 else shift_axis(a, rank, "layer_norm") for a in
                 (axis if isinstance(axis, (tuple, list)) else (axis,)))
    w = lift(w, bw, rank) if w is not None else None
    b = lift(b, bb, rank) if b is not None else None
    if not (bw or bb):
        return F.layer_norm(x, w, b, axis=axes if len(axes) > 1 else axes[0], eps=params.get("eps", 1e-5))
    y = F.layer_norm(x, None, None, axis=axes if len(axes) > 1 else axes[0], eps=params.get("eps", 1e-5))
    y = y if w is None else F.mul(y, w)
    return y if b is None else F.add(y, b)


def _batch_norm(values, batched, params, size):
    """Eval mode only: with the running statistics it is an affine map per channel.  In
    training mode each example would be a batch of its own, and the running statistics
    would be updated once per example: not batched."""
    if params.get("training", True):
        raise VmapError("vmap: batch_norm in training mode normalizes over an example's own batch and updates the "
                        "running statistics once per call; under vmap that is not defined: use eval mode, or "
                        "loop over the batch")
    (x, gamma, beta), (bx, bg, bb) = values, batched
    x = x if bx else broadcast_batch(x, size)
    rank = ndim(x, True)
    channel = (1, x.shape[2]) + (1,) * (rank - 2)  # (1, C, 1, ...): one example's per-channel shape
    mean, var = np.asarray(params["running_mean"]), np.asarray(params["running_var"])
    inv = (1.0 / np.sqrt(var.astype(x.dtype) + x.dtype.type(params.get("eps", 1e-5)))).reshape(channel)
    xn = F.mul(F.sub(x, mean.astype(x.dtype).reshape(channel)), inv)
    per_channel = [F.reshape(v, shape=(size,) + channel) if flag else F.reshape(v, shape=channel)
                   for v, flag in ((gamma, bg), (beta, bb))]
    return F.add(F.mul(xn, per_channel[0]), per_channel[1])


def _images_first(name):
    """An op on (N, C, H, W) images (max_pool2d, im2col): the batch joins N."""
    def rule(values, batched, params, size):
        op = getattr(F, name)  # (looked up late: the ops register after this module loads)
        x = values[0]
        out = op(F.reshape(x, shape=(-1,) + tuple(x.shape[2:])), *values[1:], **params)
        return F.reshape(out, shape=(size, -1) + tuple(out.shape[1:]))
    return rule


def _col2im(values, batched, params, size):
    cols, shape = values[0], tuple(params["shape"])
    out = F.col2im(F.reshape(cols, shape=(-1, cols.shape[-1])), **{**params, "shape": (size * shape[0],) + shape[1:]})
    return F.reshape(out, shape=(size,) + shape)


def _conv2d(values, batched, params, size):
    """Images batched alone: the batch joins N.  Batched weights (per-example gradients:
    each example its own copy): im2col of every image at once, then a batched matmul."""
    if not any(batched[1:]):
        return _images_first("conv2d")(values, batched, params, size)
    if not hasattr(F, "im2col"):  # (one call per example)
        calls = [F.conv2d(*[F.getitem(v, i) if flag else v for v, flag in zip(values, batched)], **params)
                 for i in range(size)]
        return F.stack(*calls, axis=0)
    (x, w, b), (bx, bw, bb) = values, batched
    x = x if bx else broadcast_batch(x, size)
    w = w if bw else broadcast_batch(w, size)
    (n, _, h, width), (out, _, kh, kw) = x.shape[1:], w.shape[1:]
    stride, pad = params.get("stride", 1), params.get("pad", 0)
    cols = F.im2col(F.reshape(x, shape=(-1,) + tuple(x.shape[2:])), kernel=(kh, kw), stride=stride, pad=pad)
    rows = cols.shape[0] // (size * n)  # OH * OW windows per image
    y = F.matmul(F.reshape(cols, shape=(size, n * rows, -1)), F.transpose(F.reshape(w, shape=(size, out, -1)),
                                                                             axes=(0, 2, 1)))
    if b is not None:
        y = F.add(y, F.reshape(b, shape=(size, 1, out)) if bb else b)
    sh, sw = (stride, stride) if isinstance(stride, (int, np.integer)) else stride
    ph, pw = (pad, pad) if isinstance(pad, (int, np.integer)) else pad
    oh, ow = (h + 2 * ph - kh) // sh + 1, (width + 2 * pw - kw) // sw + 1
    return F.transpose(F.reshape(y, shape=(size, n, oh, ow, out)), axes=(0, 1, 4, 2, 3))


RULES.update(softmax_cross_entropy=_softmax_cross_entropy, layer_norm=_layer_norm, batch_norm=_batch_norm,
             max_pool2d=_images_first("max_pool2d"), im2col=_images_first("im2col"), col2im=_col2im,
             conv2d=_conv2d)
