"""``gradient_check``: the seeds' "verify backprop" step in one call, and
``compare_grads``: a hand-written backward's gradients next to the engine's.

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

``compare_grads(mine, engine)`` is the step after: your own backward (the
seeds' ``gradient`` method written out by hand) against the engine's, per
parameter, with the largest absolute and relative error and the worst
element's two values side by side::

    report = nets.compare_grads(hand_written_grads, model)   # or a dict of arrays
    #  parameter  shape     max |a-b|  max rel   worst at  hand-written  engine   ok
    #  W1         (64, 10)  2.2e-17    3.1e-16   (3, 1)    0.0123        0.0123   yes
    assert report.ok
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

import autograd_np as ag
from autograd_np.core.display import table as _html_table

from ..layers.basic import Dropout
from ..layers.module import Module
from ..util import validate as _v

__all__ = ["GradientCheckRow", "GradientCheckReport", "gradient_check", "float64_copy", "compare_grads",
           "GradComparison", "GradComparisonRow"]


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

    _header = ("parameter", "shape", "checked", "mean |diff|", "max |diff|", "ok")

    def _rows(self):
        return [(r.name, str(tuple(r.shape)), str(r.checked), f"{r.mean_abs_diff:.3e}", f"{r.max_abs_diff:.3e}",
                 "yes" if r.ok else "NO") for r in self]

    def _verdict(self):
        return f"{'all gradients agree' if self.ok else 'MISMATCH'} (tolerance: mean |diff| <= {self.tol:g})"

    def __str__(self):
        return _text_table(self._header, self._rows()) + "\n" + self._verdict()

    def __repr__(self):
        worst = self.worst()
        detail = f"; worst {worst.name} mean |diff| {worst.mean_abs_diff:.2e}" if worst is not None else ""
        failing = [r.name for r in self if not r.ok]
        verdict = "all agree" if not failing else f"MISMATCH in {', '.join(failing)}"
        return f"<GradientCheckReport: {len(self)} parameters, {verdict}{detail}>"

    def _repr_html_(self):
        bad = [i for i, r in enumerate(self) if not r.ok]
        return _html_table(self._header, self._rows(), caption="gradient_check: " + self._verdict(), bad=bad)


def _text_table(header, rows):
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(header)]
    fmt = "  ".join("{:<%d}" % w for w in widths)
    lines = [fmt.format(*header), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*row) for row in rows]
    return "\n".join(line.rstrip() for line in lines)


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
    who = "gradient_check"
    _v.instance(model, Module, "model", who, "a nets.Module")
    eps = _v.number(eps, "eps", who, low=0.0, high=1.0, low_open=True, high_open=True)
    tol = _v.number(tol, "tol", who, low=0.0)
    max_elements = None if max_elements is None else _v.integer(max_elements, "max_elements", who)
    seed, verbose = _v.seed(seed, "seed", who), _v.flag(verbose, "verbose", who)
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


# --- compare_grads ------------------------------------------------------------------------------

@dataclass
class GradComparisonRow:
    """One gradient of ``compare_grads``: the largest absolute and relative errors, the
    worst element's index and both values there, and whether every element is within
    ``atol + rtol * |engine|``.  ``problem`` says why two gradients could not be compared
    (one is missing, the shapes differ)."""

    name: str
    shape: tuple
    max_abs_error: float
    max_rel_error: float
    worst_index: tuple | None
    mine: float | None
    engine: float | None
    ok: bool
    problem: str | None = None


class GradComparison(list):
    """The rows of ``compare_grads``; ``ok`` when all agree, ``failures`` the others.
    ``str()`` is a table; a notebook shows it as an HTML table with failing rows in red."""

    labels = ("mine", "engine")
    rtol, atol = 1e-5, 1e-8

    @property
    def failures(self):
        return [r for r in self if not r.ok]

    @property
    def ok(self) -> bool:
        return not self.failures

    def __getitem__(self, key):
        if isinstance(key, str):
            for row in self:
                if row.name == key:
                    return row
            raise KeyError(f"compare_grads: no gradient named {key!r} (have {', '.join(r.name for r in self)})")
        return list.__getitem__(self, key)

    def _header(self):
        note = ("note",) if any(r.problem for r in self) else ()
        return ("parameter", "shape", "max |a-b|", "max rel", "worst at", *self.labels, "ok", *note)

    def _rows(self):
        rows = []
        notes = any(r.problem for r in self)
        for r in self:
            if r.problem:
                rows.append((r.name, str(tuple(r.shape)), "-", "-", "-", "-", "-", "NO", r.problem))
                continue
            rows.append((r.name, str(tuple(r.shape)), f"{r.max_abs_error:.2e}", f"{r.max_rel_error:.2e}",
                         str(r.worst_index), f"{r.mine:.6g}", f"{r.engine:.6g}", "yes" if r.ok else "NO",
                         *(("",) if notes else ())))
        return rows

    def _verdict(self):
        verdict = "all gradients agree" if self.ok else f"{len(self.failures)} of {len(self)} disagree"
        return f"{verdict} ({self.labels[0]} vs {self.labels[1]}; allowed |a-b| <= {self.atol:g} + " \
               f"{self.rtol:g} * |{self.labels[1]}|)"

    def __str__(self):
        return _text_table(self._header(), self._rows()) + "\n" + self._verdict()

    def __repr__(self):
        return f"<GradComparison: {len(self)} gradients, " + (
            "all agree>" if self.ok else f"disagree: {', '.join(r.name for r in self.failures)}>")

    def _repr_html_(self):
        bad = [i for i, r in enumerate(self) if not r.ok]
        return _html_table(self._header(), self._rows(), caption="compare_grads: " + self._verdict(), bad=bad)


def _grads_of(source, what):
    """``{name: array}`` from a dict of arrays or tensors (their ``.grad``), a Module (its
    parameters' ``.grad``), or a list of named tensors."""
    if isinstance(source, Module):
        items = list(source.named_parameters())
    elif isinstance(source, dict) or hasattr(source, "items"):
        items = list(source.items())
    elif isinstance(source, (list, tuple)):
        items = [(t.name or f"#{i}", t) for i, t in enumerate(source)]
    else:
        raise TypeError(f"compare_grads: {what} must be a dict name -> gradient, a nets.Module or a list of tensors, "
                        f"not {type(source).__name__}")
    out = {}
    for name, v in items:
        if isinstance(v, ag.Tensor):  # a parameter: its gradient (None before backward)
            v = v.grad
        out[str(name)] = None if v is None else np.asarray(v)
    return out


def compare_grads(mine, engine, *, rtol: float = 1e-5, atol: float = 1e-8, labels=("mine", "engine"),
                  verbose: bool = False) -> GradComparison:
    """Put a hand-written gradient next to the engine's, per parameter (or per step).

    ``mine`` and ``engine`` are dicts name -> array (``engine`` may also be a
    ``nets.Module``, whose parameters' ``.grad`` are used, or tensors, whose
    ``.grad`` is used when set).  Names are matched; for each pair the row
    gives the largest ``|a - b|``, the largest relative error ``|a - b| /
    max(|a|, |b|)``, the worst element's index and both values there.  A row
    passes when every element has ``|a - b| <= atol + rtol * |b|`` (NumPy's
    ``allclose`` rule and defaults); a missing gradient or another shape
    fails with that said.  ``labels`` name the two columns.  Returns a
    ``GradComparison`` (prints it when ``verbose``)."""
    who = "compare_grads"
    rtol, atol = _v.number(rtol, "rtol", who, low=0.0), _v.number(atol, "atol", who, low=0.0)
    verbose = _v.flag(verbose, "verbose", who)
    if not isinstance(labels, (tuple, list)) or len(labels) != 2 or not all(isinstance(x, str) for x in labels):
        raise TypeError(f"compare_grads: labels must be two strings (the columns' names), got {labels!r}")
    a_all, b_all = _grads_of(mine, "mine"), _grads_of(engine, "engine")
    report = GradComparison()
    report.labels, report.rtol, report.atol = tuple(labels), float(rtol), float(atol)
    for name in list(a_all) + [n for n in b_all if n not in a_all]:
        a, b = a_all.get(name), b_all.get(name)
        if a is None or b is None:
            side = labels[0] if a is None else labels[1]
            shape = np.shape(b if a is None else a)
            report.append(GradComparisonRow(name, shape, np.inf, np.inf, None, None, None, False,
                                            f"no gradient in {side}"))
            continue
        if a.shape != b.shape:
            report.append(GradComparisonRow(name, b.shape, np.inf, np.inf, None, None, None, False,
                                            f"shapes differ: {labels[0]} {a.shape}, {labels[1]} {b.shape}"))
            continue
        a64, b64 = a.astype(np.float64), b.astype(np.float64)
        err = np.abs(a64 - b64)
        scale = np.maximum(np.abs(a64), np.abs(b64))
        rel = np.divide(err, scale, out=np.zeros_like(err), where=scale > 0)
        ok = bool(np.all(err <= atol + rtol * np.abs(b64)))
        if a.size:
            flat = int(np.argmax(np.where(np.isnan(err), np.inf, err)))
            idx = tuple(int(k) for k in np.unravel_index(flat, a.shape))
            report.append(GradComparisonRow(name, a.shape, float(np.max(err)), float(np.max(rel)), idx,
                                            float(a64[idx]), float(b64[idx]), ok))
        else:
            report.append(GradComparisonRow(name, a.shape, 0.0, 0.0, (), 0.0, 0.0, True))
    if verbose:
        print(report)
    return report
