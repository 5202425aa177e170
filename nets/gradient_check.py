"""``gradient_check``: the seeds' "verify backprop" step in one call.

    report = nets.gradient_check(model, x[:3], t[:3])
    #  parameter   shape       mean |diff|   max |diff|   ok
    #  fc1.W       (64, 32)    3.1e-11       2.2e-10      yes
    #  ...
    assert report.ok

The model is copied and converted to float64 (the original is untouched),
the backprop gradient of ``model.loss(x, t)`` is computed through the graph,
and every parameter element is perturbed by ``+-eps`` for the central
difference.  Dropout layers that draw random masks get the mask of one
forward pass fixed for the whole check.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

import autograd_np as ag

from .layers import Dropout
from .module import Module

__all__ = ["GradientCheckRow", "GradientCheckReport", "gradient_check", "float64_copy"]


def float64_copy(model: Module, x, t):
    """``(model, x, t)`` for a numerical gradient: a float64 deep copy of
    ``model`` (the original is untouched), ``x`` and one-hot ``t`` as float64.

    Float32 rounds the loss to ~1e-7 of its size, so a central difference
    ``(f(p+eps) - f(p-eps)) / 2eps`` with eps 1e-4 is off by up to ~1e-3:
    as much as typical gradients."""
    m = copy.deepcopy(model).astype(np.float64)
    x = np.asarray(x.data if isinstance(x, ag.Tensor) else x, dtype=np.float64)
    t = np.asarray(t.data if isinstance(t, ag.Tensor) else t)
    if t.dtype.kind == "f":
        t = t.astype(np.float64)
    return m, x, t


@dataclass
class GradientCheckRow:
    """One parameter: its name, shape, and the mean / max absolute difference
    between backprop and numerical gradients over the elements checked."""

    name: str
    shape: tuple
    mean_abs_diff: float
    max_abs_diff: float
    checked: int
    ok: bool


class GradientCheckReport(list):
    """A list of ``GradientCheckRow``; ``ok`` is True when every row passed.
    ``str(report)`` is a table."""

    tol: float = 1e-7

    @property
    def ok(self) -> bool:
        return all(row.ok for row in self)

    def worst(self) -> GradientCheckRow | None:
        return max(self, key=lambda r: r.mean_abs_diff, default=None)

    def __str__(self):
        header = ("parameter", "shape", "checked", "mean |diff|", "max |diff|", "ok")
        rows = [(r.name, str(tuple(r.shape)), str(r.checked), f"{r.mean_abs_diff:.3e}", f"{r.max_abs_diff:.3e}",
                 "yes" if r.ok else "NO") for r in self]
        widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(header)]
        fmt = "  ".join("{:<%d}" % w for w in widths)
        lines = [fmt.format(*header), fmt.format(*("-" * w for w in widths))]
        lines += [fmt.format(*row) for row in rows]
        verdict = "all gradients agree" if self.ok else "MISMATCH"
        lines.append(f"{verdict} (tolerance: mean |diff| <= {self.tol:g})")
        return "\n".join(lines)

    __repr__ = list.__repr__


def gradient_check(model: Module, x, t, eps: float = 1e-6, tol: float = 1e-7, max_elements: int | None = None,
                   seed: int = 0, verbose: bool = True) -> GradientCheckReport:
    """Compare backprop and numerical gradients of ``model.loss(x, t)`` for every parameter.

    Runs on a float64 deep copy of ``model`` (in the model's current
    train/eval mode) with ``x`` (and one-hot ``t``) cast to float64.
    ``max_elements``: check at most that many randomly chosen elements per
    parameter (``seed``), for large layers; default all.  A row passes when
    its mean absolute difference is at most ``tol``.  Prints the table when
    ``verbose``; returns the ``GradientCheckReport``.
    """
    m, x, t = float64_copy(model, x, t)

    # Fix random dropout masks: one forward draws them, then they stay.
    m.zero_grad()
    loss = m.loss(x, t)
    drops = [d for d in m.modules() if isinstance(d, Dropout) and d.training and d.p > 0 and d.mask is None]
    if drops:
        for d in drops:
            d.mask = d.last_mask
        loss = m.loss(x, t)
    loss.backward()
    named = list(m.named_parameters())
    analytic = {name: (np.zeros_like(p.data) if p.grad is None else np.array(p.grad, dtype=np.float64))
                for name, p in named}

    def f(_):
        return m.loss(x, t).item()

    rng = np.random.default_rng(seed)
    report = GradientCheckReport()
    report.tol = tol
    with ag.no_grad():
        for name, p in named:
            a = analytic[name]
            if max_elements is None or p.size <= max_elements:
                num = ag.numerical_gradient(f, p.data, eps)
                diff = np.abs(a - num).ravel()
            else:
                flat_idx = rng.choice(p.size, size=max_elements, replace=False)
                diff = np.empty(max_elements)
                data = p.data.reshape(-1)  # a view: perturbations reach the parameter
                for j, k in enumerate(flat_idx):
                    old = data[k]
                    data[k] = old + eps
                    fp = f(None)
                    data[k] = old - eps
                    fm = f(None)
                    data[k] = old
                    diff[j] = abs(a.reshape(-1)[k] - (fp - fm) / (2 * eps))
            mean, mx = (float(diff.mean()), float(diff.max())) if diff.size else (0.0, 0.0)
            report.append(GradientCheckRow(name, tuple(p.shape), mean, mx, int(diff.size),
                                           bool(np.isfinite(mean) and mean <= tol)))
    if verbose:
        print(report)
    return report
