"""Gradient clipping: ``clip_grad_norm``, ``clip_grad_value`` and the ``GradientClipping`` callback."""
from __future__ import annotations

import math

import numpy as np

import autograd_np as ag

from ...util import validate as _v
from .base import Callback

__all__ = ["GradientClipping", "clip_grad_norm", "clip_grad_value"]


def _params_of(params, who):
    if hasattr(params, "parameters") and callable(params.parameters):
        params = params.parameters()
    if isinstance(params, ag.Tensor):
        return [params]
    if isinstance(params, (str, bytes)) or not hasattr(params, "__iter__"):
        raise TypeError(f"{who}: params must be a Module, a tensor or a list of tensors, got {params!r:.80}")
    params = list(params)
    for i, p in enumerate(params):
        if not isinstance(p, ag.Tensor):
            raise TypeError(f"{who}: params[{i}] must be an ag.Tensor, got {type(p).__name__}")
    return params


def clip_grad_norm(params, max_norm: float) -> float:
    """Scale the gradients of ``params`` (tensors, or a Module) so that their global L2 norm
    is at most ``max_norm``; returns the norm before clipping (as PyTorch's ``clip_grad_norm_``).

    The norm is computed in float64 over every ``.grad``; a gradient is replaced by a
    scaled copy, never changed in place.  A non-finite norm leaves the gradients alone."""
    _v.number(max_norm, "max_norm", "clip_grad_norm", low=0.0, low_open=True, inf=True)
    ps = [p for p in _params_of(params, "clip_grad_norm") if p.grad is not None]
    total = math.sqrt(sum(float(np.sum(np.square(np.asarray(p.grad, dtype=np.float64)))) for p in ps))
    if math.isfinite(total) and total > max_norm:
        scale = max_norm / (total + 1e-6)
        for p in ps:
            g = np.asarray(p.grad)
            p.grad = g * g.dtype.type(scale)
    return total


def clip_grad_value(params, clip_value: float) -> None:
    """Clip every gradient element of ``params`` into ``[-clip_value, clip_value]`` (a new array)."""
    _v.number(clip_value, "clip_value", "clip_grad_value", low=0.0, low_open=True, inf=True)
    for p in _params_of(params, "clip_grad_value"):
        if p.grad is not None:
            g = np.asarray(p.grad)
            p.grad = np.clip(g, -g.dtype.type(clip_value), g.dtype.type(clip_value))


class GradientClipping(Callback):
    """Clip the gradients before every optimizer step: by global norm (``max_norm``), by value
    (``max_value``), or both (value first).  ``norms`` holds the epoch's pre-clip norms'
    largest value after each epoch (``last_max_norm``), to see how often clipping bites:
    ``clipped`` counts the steps whose norm was above ``max_norm`` in the last epoch."""

    def __init__(self, max_norm: float | None = None, max_value: float | None = None):
        if max_norm is None and max_value is None:
            raise ValueError("GradientClipping: give max_norm, max_value or both")
        for name, v in (("max_norm", max_norm), ("max_value", max_value)):
            _v.optional_number(v, name, "GradientClipping", low=0.0, low_open=True)
        self.max_norm, self.max_value = max_norm, max_value
        self.clipped, self.last_max_norm = 0, 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self.clipped, self.last_max_norm = 0, 0.0

    def on_before_optimizer_step(self, batch, logs=None):
        params = self.optimizer.params
        if self.max_value is not None:
            clip_grad_value(params, self.max_value)
        if self.max_norm is not None:
            norm = clip_grad_norm(params, self.max_norm)
            self.last_max_norm = max(self.last_max_norm, norm)
            self.clipped += norm > self.max_norm

    def __repr__(self):
        return f"GradientClipping(max_norm={self.max_norm}, max_value={self.max_value})"
