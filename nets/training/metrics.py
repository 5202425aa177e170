"""Metrics that ``fit`` and ``evaluate`` report next to the loss.

    history = nets.fit(model, opt, (x, t), (xt, tt), metrics=["acc"])          # classifiers (the default)
    history = nets.fit(regressor, opt, (x, y), (xt, yt), metrics=["mse", "mae"])
    history.test_mse[-1]

A metric is averaged over the samples of an epoch (or of the evaluated set)
from each batch's outputs ``y`` and targets ``t``; it never touches the
graph.  Names: ``"acc"`` (also ``"accuracy"``): the fraction of rows whose
arg-max is the label (``t`` labels or one-hot rows); ``"mse"``: the mean of
``(y - t) ** 2`` over every element (not the seeds' loss ``0.5 * sum / N``);
``"mae"``: the mean of ``|y - t|``.  Any object with ``name`` and
``__call__(y, t) -> float`` (a batch mean) works too, e.g.
``nets.metrics.Metric("top2", top2_fn)``.

With ``metrics=None`` the metric is accuracy when the targets are class
labels (integers) or one-hot rows, and none otherwise: a regression run
prints its loss (and the metrics you ask for), never an accuracy.
"""
from __future__ import annotations

import re

import numpy as np

import autograd_np as ag

from ..util import validate as _v

__all__ = ["Metric", "accuracy", "mean_squared_error", "mean_absolute_error", "get", "resolve", "default_for",
           "METRICS"]

_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}\Z")


def _array(v):
    return v.data if isinstance(v, ag.Tensor) else np.asarray(v)


def accuracy(y, t) -> float:
    """Fraction of rows where ``argmax(y)`` equals the label (``t`` labels or one-hot rows)."""
    yv, tv = _array(y), _array(t)
    if tv.ndim == yv.ndim and tv.ndim > 1:
        tv = np.argmax(tv, axis=-1)
    pred = np.argmax(yv, axis=-1)
    return float(np.mean(pred == tv)) if pred.size else 0.0


def _same_shape(name, yv, tv):
    if yv.shape != tv.shape:
        raise ValueError(f"metric {name!r}: outputs of shape {yv.shape} and targets of shape {tv.shape} differ "
                         "(a regression needs targets shaped like the outputs, e.g. (N, 1))")


def mean_squared_error(y, t) -> float:
    """The mean of ``(y - t) ** 2`` over every element."""
    yv, tv = _array(y), _array(t)
    _same_shape("mse", yv, tv)
    return float(np.mean((yv.astype(np.float64) - tv) ** 2)) if yv.size else 0.0


def mean_absolute_error(y, t) -> float:
    """The mean of ``|y - t|`` over every element."""
    yv, tv = _array(y), _array(t)
    _same_shape("mae", yv, tv)
    return float(np.mean(np.abs(yv.astype(np.float64) - tv))) if yv.size else 0.0


class Metric:
    """A named batch metric: ``Metric(name, fn)`` with ``fn(y, t) -> float``, the batch mean.

    ``fit`` and ``evaluate`` weight each batch by its number of samples.
    ``higher_is_better`` tells ``EarlyStopping`` and ``ReduceLROnPlateau``
    which way is an improvement when they monitor it (``mode="auto"``)."""

    def __init__(self, name: str, fn, higher_is_better: bool = False):
        if not isinstance(name, str) or not _NAME.match(name):
            raise (ValueError if isinstance(name, str) else TypeError)(
                f"Metric: name must be lower-case letters, digits and _ (e.g. 'top2'), got {name!r:.80}")
        if name == "loss":
            raise ValueError("Metric: name 'loss' is taken: the loss is always reported")
        self.name, self.fn = name, _v.function(fn, "fn", f"Metric({name!r})")
        self.higher_is_better = _v.flag(higher_is_better, "higher_is_better", f"Metric({name!r})")

    def __call__(self, y, t) -> float:
        return float(self.fn(y, t))

    def __repr__(self):
        return f"Metric({self.name!r})"


#: The metrics by the names ``fit(metrics=...)`` takes.
METRICS = {
    "acc": Metric("acc", accuracy, higher_is_better=True),
    "mse": Metric("mse", mean_squared_error),
    "mae": Metric("mae", mean_absolute_error),
}
_ALIASES = {"accuracy": "acc", "mean_squared_error": "mse", "mean_absolute_error": "mae"}


def get(metric) -> Metric:
    """A ``Metric`` from a name (``"acc"``, ``"accuracy"``, ``"mse"``, ``"mae"``) or a Metric."""
    if isinstance(metric, Metric):
        return metric
    if isinstance(metric, str):
        key = _ALIASES.get(metric.lower(), metric.lower())
        if key in METRICS:
            return METRICS[key]
        raise ValueError(f"unknown metric {metric!r}: use one of {', '.join(sorted({*METRICS, *_ALIASES}))}, "
                         "or a nets.metrics.Metric(name, fn)")
    if callable(metric) and hasattr(metric, "name"):
        return Metric(metric.name, metric, getattr(metric, "higher_is_better", False))
    raise TypeError(f"a metric is a name such as 'acc' or 'mse', or a nets.metrics.Metric; got {metric!r}")


def _looks_like_classes(t) -> bool:
    """Integer labels, or one-hot rows (every entry 0 or 1, one 1 per row)."""
    tv = _array(t)
    if tv.dtype.kind in "iub":
        return tv.dtype.kind != "b" or tv.ndim > 1
    if tv.dtype.kind == "f" and tv.ndim >= 2 and tv.shape[-1] > 1 and tv.size:
        return bool(np.all((tv == 0) | (tv == 1)) and np.all(tv.sum(axis=-1) == 1))
    return False


def default_for(t) -> list:
    """The metrics used when none are given: accuracy for class targets, none otherwise."""
    return [METRICS["acc"]] if _looks_like_classes(t) else []


def resolve(metrics, t, who="metrics") -> list:
    """``metrics`` (None, a name, a Metric, or a list of them) as a list of ``Metric``; duplicates
    refused.  Errors start with ``who: metrics:`` (e.g. ``fit: metrics: unknown metric 'f1'``)."""
    if metrics is None:
        return default_for(t)
    if isinstance(metrics, (str, Metric)):
        metrics = [metrics]
    if isinstance(metrics, bytes) or not hasattr(metrics, "__iter__"):
        raise TypeError(f"{who}: metrics must be None, a metric name, a Metric or a list of them, got {metrics!r:.80}")
    try:
        out = [get(m) for m in metrics]
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{who}: metrics: {exc}") from None
    names = [m.name for m in out]
    for name in names:
        if names.count(name) > 1:
            raise ValueError(f"{who}: metrics: metric {name!r} is asked for twice")
    return out
