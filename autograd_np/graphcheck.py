"""``check_graph``: find the op whose derivative is wrong.

An end-to-end gradcheck only says that something is wrong somewhere.
``check_graph(loss)`` re-checks every node of a recorded graph on its own: it
runs the node's VJP with a random cotangent at the very inputs the node saw in
the forward pass, and compares the result with central differences of that one
op.  The report lists every node, worst first.

Big inputs are subsampled: at most ``max_coords`` randomly chosen elements of
each input are differenced (the VJP itself is computed in full), so a
TwoLayerNet-sized graph checks in well under a second.  Checks run in float64.
Call it before ``backward()`` (or after ``backward(retain_graph=True)``): a
freed graph no longer holds the inputs.  An input sitting exactly on a kink
(relu at 0, a tie in max) can be reported; that is the op being
non-differentiable there, not a bug.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import engine
from .engine import Tensor

__all__ = ["check_graph", "GraphReport", "NodeCheck", "GraphCheckError"]


class GraphCheckError(AssertionError):
    """Raised by ``check_graph(..., raise_on_failure=True)``; ``.report`` holds the rows."""

    def __init__(self, message, report):
        super().__init__(message)
        self.report = report


@dataclass
class NodeCheck:
    """One node's check: its op, input shapes, the named parameters upstream
    of it, the worst element's absolute error and whether it passed."""
    node: Tensor
    op: str
    input_shapes: list
    upstream: list
    max_abs_error: float
    max_rel_error: float
    passed: bool
    worst_input: int | None = None

    def __str__(self):
        flag = "ok  " if self.passed else "FAIL"
        shapes = ", ".join(str(s) for s in self.input_shapes)
        params = ",".join(self.upstream) or "-"
        return (f"{flag} {self.op:<22} inputs {shapes:<28} error {self.max_abs_error:9.2e} "
                f"(rel {self.max_rel_error:8.2e})  params upstream: {params}")


class GraphReport(list):
    """The rows of a ``check_graph`` run, worst first; ``str()`` prints a table."""

    @property
    def failures(self):
        return [row for row in self if not row.passed]

    @property
    def ok(self):
        return not self.failures

    def __str__(self):
        head = f"check_graph: {len(self)} nodes, {len(self.failures)} failing"
        return "\n".join([head] + [str(row) for row in self])


def _upstream_parameters(order):
    """For each node (by id), the sorted names of the parameters it depends on."""
    names = {}
    for node in sorted(order, key=lambda n: n._seq):  # inputs before outputs
        found = set()
        for p in node.parents:
            if p._op is None:
                if p.requires_grad and p.name:
                    found.add(p.name)
            else:
                found |= names.get(id(p), set())
        names[id(node)] = found
    return names


def _as64(value):
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return value.astype(np.float64)
    return value


def _check_node(node, rng, eps, atol, rtol, max_coords):
    op, params = node._op, dict(node._ctx)
    inputs = [_as64(v) for v in node._inputs]
    wrt = [i for i, p in enumerate(node._parents)
           if isinstance(p, Tensor) and p.requires_grad and p.dtype.kind == "f"]
    out = np.asarray(op.forward(*inputs, **params))
    cot = rng.standard_normal(out.shape)
    vjp_params = dict(params, needs=[i in wrt for i in range(len(inputs))]) if op.wants_needs else params
    grads = op.vjp(engine.RAW_OPS, cot, out, *inputs, **vjp_params)
    grads = grads if isinstance(grads, tuple) else (grads,)
    worst_abs, worst_rel, worst_input, passed = 0.0, 0.0, None, True
    for i in wrt:
        x = inputs[i]
        analytic = np.zeros(x.shape) if grads[i] is None else engine.RAW_OPS.sum_to(np.asarray(grads[i]), x.shape)
        coords = list(np.ndindex(*x.shape))
        if len(coords) > max_coords:
            coords = [coords[k] for k in rng.choice(len(coords), size=max_coords, replace=False)]
        for idx in coords:
            original = x[idx]
            values = []
            for step in (eps, -eps):
                x[idx] = original + step
                values.append(float(np.sum(np.asarray(op.forward(*inputs, **params)) * cot)))
            x[idx] = original
            numeric = (values[0] - values[1]) / (2 * eps)
            err = abs(analytic[idx] - numeric)
            rel = err / max(abs(numeric), 1e-12)
            if not err <= atol + rtol * abs(numeric):  # NaN fails too
                passed = False
            if err > worst_abs or np.isnan(err):
                worst_abs, worst_rel, worst_input = float(err), float(rel), i
    return worst_abs, worst_rel, worst_input, passed


def check_graph(output, eps=1e-6, atol=1e-5, rtol=1e-3, max_coords=16, seed=0, raise_on_failure=False):
    """Check the derivative of every node behind ``output`` at its recorded inputs.

    Returns a ``GraphReport`` (a list of ``NodeCheck`` rows, failing and worst
    first).  With ``raise_on_failure=True`` a failing node raises
    ``GraphCheckError`` naming the culprit.

        >>> report = ag.check_graph(loss)          # doctest: +SKIP
        >>> print(report)                          # doctest: +SKIP
    """
    order = engine._toposort([output])
    for node in order:
        if node._inputs is None:
            raise RuntimeError(f"check_graph: the graph through op {node._op.name!r} was freed by backward(); "
                               "call check_graph before backward(), or use backward(retain_graph=True)")
    rng = np.random.default_rng(seed)
    upstream = _upstream_parameters(order)
    report = GraphReport()
    for node in order:
        worst_abs, worst_rel, worst_input, passed = _check_node(node, rng, eps, atol, rtol, max_coords)
        report.append(NodeCheck(node, node._op.name, [np.shape(v) for v in node._inputs if np.ndim(v)],
                                sorted(upstream[id(node)]), worst_abs, worst_rel, passed, worst_input))
    report.sort(key=lambda row: (row.passed, -row.max_abs_error))
    if raise_on_failure and report.failures:
        bad = report.failures[0]
        raise GraphCheckError(f"check_graph: the derivative of op {bad.op!r} (inputs {bad.input_shapes}, "
                              f"parameters upstream: {', '.join(bad.upstream) or 'none'}) is wrong: "
                              f"abs error {bad.max_abs_error:.3e}\n{report}", report)
    return report
