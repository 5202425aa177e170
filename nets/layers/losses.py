"""Loss layers under PyTorch's names: ``CrossEntropyLoss`` (``SoftmaxWithLoss`` itself:
the mean cross-entropy of logits against labels or one-hot rows; no ``weight``,
``ignore_index``, ``reduction`` or ``label_smoothing``) and ``MSELoss`` (PyTorch's
``mean((y - t) ** 2)`` over every element, not the seeds' ``0.5 * sum / N`` of
``ag.mean_squared_error``).  As the last layer of a ``Sequential`` either is its
criterion, and ``criterion(y, t)`` may be called directly in a training loop."""
from __future__ import annotations

import numpy as np

import autograd_np as ag

from .basic import _NOTHING, SoftmaxWithLoss
from .module import Module
from .registry import config_schema

__all__ = ["CrossEntropyLoss", "MSELoss"]

CrossEntropyLoss = SoftmaxWithLoss


@config_schema(**_NOTHING)
class MSELoss(Module):
    """``mean((y - t) ** 2)`` over every element, as ``torch.nn.MSELoss()``: ``loss(y, t)``.

    ``y`` and ``t`` must have one shape: a broadcast between them (``(N, 1)``
    against ``(N,)``) would compare every prediction with every target, so it is
    refused (PyTorch only warns)."""

    is_loss = True

    def forward(self, y, t):
        if np.shape(y) != np.shape(t):
            raise ValueError(f"MSELoss: predictions of shape {np.shape(y)} and targets of shape {np.shape(t)}: give "
                             "them one shape (a broadcast would compare every prediction with every target)")
        if not isinstance(t, ag.Tensor) and isinstance(y, ag.Tensor):
            t = np.asarray(t, dtype=y.dtype)
        d = y - t
        return ag.mean(d * d)

    def config(self):
        return {"type": "MSELoss"}
