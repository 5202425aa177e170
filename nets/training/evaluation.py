"""``evaluate``: a model's loss and metrics on a data set, in eval mode under no_grad, in batches
(``fit`` scores its validation and test sets with the same code, on every rank's slice)."""
from __future__ import annotations

import numpy as np

import autograd_np as ag

from ..layers import Module
from ..util import validate as _validate
from . import arguments as _arguments, metrics as _metrics
from .data import DataLoader

__all__ = ["evaluate", "as_xy", "eval_scores"]


def as_xy(data, name):
    if isinstance(data, DataLoader):
        return data.x, data.t
    if isinstance(data, (tuple, list)) and len(data) == 2:
        x, t = (np.asarray(v.data if isinstance(v, ag.Tensor) else v) for v in data)
        if x.ndim == 0 or t.ndim == 0:
            raise ValueError(f"{name} must be a pair (x, t) of arrays with a row per sample, got arrays of shapes "
                             f"{x.shape} and {t.shape}")
        if len(x) != len(t):
            raise ValueError(f"{name}: x has {len(x)} rows but t has {len(t)}")
        return x, t
    raise TypeError(f"{name} must be a pair (x, t) of arrays or a DataLoader, got {type(data).__name__}")


def eval_scores(model, x, t, metric_list, batch_size, world=None):
    """``{"loss": ..., <metric>: ...}`` of ``model`` on ``(x, t)``, in eval mode under no_grad.
    With a ``world`` of several ranks each evaluates its slice and the sums are added up."""
    n = len(x)
    lo, hi = (0, n) if world is None else world.shard_range(n)
    was_training = model.training
    model.eval()
    sums = {"loss": 0.0, **{m.name: 0.0 for m in metric_list}}
    try:
        with ag.no_grad():
            for b in range(lo, hi, batch_size):
                xb, tb = x[b:min(b + batch_size, hi)], t[b:min(b + batch_size, hi)]
                y = model(xb)
                sums["loss"] += float(model.criterion(y, tb).item()) * len(xb)
                for m in metric_list:
                    sums[m.name] += m(y, tb) * len(xb)
    finally:
        model.train(was_training)
    if world is not None and world.size > 1:
        sums = dict(zip(sums, world.sum(list(sums.values()))))
    return {k: v / max(n, 1) for k, v in sums.items()}


def evaluate(model: Module, data, t=None, *, batch_size: int = 1000, metrics=None, return_dict: bool = False):
    """The loss and metrics of ``model`` on a data set, in eval mode under no_grad, in batches.

    ``data`` is what ``fit`` takes: an ``(x, t)`` pair or a ``DataLoader``
    (``evaluate(model, x, t)`` works too).  ``metrics`` as for ``fit``
    (default: accuracy for class targets, none otherwise).  Returns the tuple
    ``(loss, *metrics)``, so a classifier gives ``loss, acc = evaluate(...)``,
    or a dict ``{"loss": ..., "acc": ...}`` with ``return_dict=True``.  The
    model's previous mode is restored."""
    _arguments.model_argument(model, "model", "evaluate")
    x, t = as_xy(data if t is None else (data, t), "evaluate: data")
    _validate.integer(batch_size, "batch_size", "evaluate")
    _validate.flag(return_dict, "return_dict", "evaluate")
    metric_list = _metrics.resolve(metrics, t, "evaluate")
    scores = eval_scores(model, x, t, metric_list, batch_size)
    return scores if return_dict else tuple(scores.values())
