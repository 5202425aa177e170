"""``check_graph``: find the op whose derivative is wrong.

An end-to-end gradcheck only says that something is wrong somewhere.
``check_graph(loss)`` re-checks every node of a recorded graph on its own: it
runs the node's VJP with a random cotangent at the very inputs the node saw in
the forward pass, and compares the result with central differences of that one
op.  The report lists every node, worst first.

Big inputs are subsampled: at most ``max_coords`` randomly chosen elements of
each input are differenced (the VJP itself is computed in full), so a
TwoLayerNet-sized graph checks in well under a second.  Checks run in float64,
with ``gradcheck``'s steps and tolerances (both scale with the values:
``central_difference``).
Call it before ``backward()`` (or after ``backward(retain_graph=True)``): a
freed graph no longer holds the inputs.  An input sitting exactly on a kink
(relu at 0, a tie in max) can be reported; that is the op being
non-differentiable there, not a bug.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import core as engine
from ..core import Node, Tensor
from ..core.errors import modified_message
from .gradcheck import central_difference
from ..core.recording import restore, snapshot, state_of

__all__ = ["check_graph", "GraphReport", "NodeCheck", "GraphCheckError"]


class GraphCheckError(AssertionError):
    """Raised by ``check_graph(..., raise_on_failure=True)``; ``.report`` holds the rows."""

    def __init__(self, message, report):
        super().__init__(message)
        self.report = report


@dataclass
class NodeCheck:
    """One node's check: its op, input shapes, the named parameters upstream
    of it, the worst element's absolute error and whether it passed.
    ``problem`` says what is wrong when the VJP could not even be compared
    (missing, or returning the wrong number or shape of gradients)."""
    node: Node
    op: str
    input_shapes: list
    upstream: list
    max_abs_error: float
    max_rel_error: float
    passed: bool
    worst_input: int | None = None
    problem: str | None = None

    def __str__(self):
        flag = "ok  " if self.passed else "FAIL"
        shapes = ", ".join(str(s) for s in self.input_shapes)
        params = ",".join(self.upstream) or "-"
        if self.problem:
            return f"{flag} {self.op:<22} inputs {shapes:<28} {self.problem}  params upstream: {params}"
        return (f"{flag} {self.op:<22} inputs {shapes:<28} error {self.max_abs_error:9.2e} "
                f"(rel {self.max_rel_error:8.2e})  params upstream: {params}")

    def __repr__(self):
        return f"<NodeCheck {'ok' if self.passed else 'FAIL'} {self.op} error {self.max_abs_error:.2e}>"

    def _cells(self):
        shapes = ", ".join(str(s) for s in self.input_shapes)
        error = self.problem or f"{self.max_abs_error:.2e}"
        rel = "" if self.problem else f"{self.max_rel_error:.2e}"
        return ("ok" if self.passed else "FAIL", self.op, shapes, error, rel, ", ".join(self.upstream) or "-")


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

    def __repr__(self):
        failing = ", ".join(dict.fromkeys(row.op for row in self.failures))
        return f"<GraphReport: {len(self)} nodes, {len(self.failures)} failing{': ' + failing if failing else ''}>"

    def _repr_html_(self):
        from ..core.display import table
        bad = [i for i, row in enumerate(self) if not row.passed]
        return table(("", "op", "inputs", "error", "rel error", "params upstream"), [row._cells() for row in self],
                     caption=f"check_graph: {len(self)} nodes, {len(self.failures)} failing", bad=bad)


def _upstream_parameters(order):
    """For each node, the sorted names of the parameters it depends on."""
    names = {}
    for node in sorted(order, key=lambda n: n.seq):  # inputs before outputs
        found = set()
        for p in node.parents:
            if type(p) is Node:
                found |= names.get(p, set())
            elif p.requires_grad and p.name:
                found.add(p.name)
        names[node] = found
    return names


def _as64(value):
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return value.astype(np.float64)
    return value


def _differentiable(link):
    return type(link) is Node and link.dtype.kind == "f" or \
        type(link) is Tensor and link.requires_grad and link.dtype.kind == "f"


def _analytic(node, inputs, out, cot, wrt):
    """The node's VJP at ``inputs`` (output ``out``) for cotangent ``cot``: one gradient
    per input in ``wrt``, each reduced to its input's shape; or a string saying why
    there is none."""
    op, params = node.op, dict(node.params)
    if op.wants_needs:
        params["needs"] = [i in wrt for i in range(len(inputs))]
    try:
        grads = op.vjp(engine.RAW_OPS, cot, out, *inputs, **params)
    except NotImplementedError as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001  (a VJP that raises is a failing row, not a crash)
        return f"its VJP raised {type(exc).__name__}: {exc}"
    if isinstance(grads, list):
        grads = tuple(grads)
    elif not isinstance(grads, tuple):  # one gradient: the first input's, when the others are constants
        grads = (grads,) + (None,) * (len(inputs) - 1) if not any(i > 0 for i in wrt) else (grads,)
    if len(grads) != len(inputs):
        return f"its VJP returned {len(grads)} gradient(s) for {len(inputs)} input(s)"
    result = {}
    for i in wrt:
        g = grads[i]
        x = inputs[i]
        if g is None:
            result[i] = np.zeros(x.shape)
            continue
        g = np.asarray(g)
        lead = g.ndim - x.ndim
        if lead < 0 or any(n != 1 and n != m for n, m in zip(x.shape, g.shape[lead:])):
            return f"its VJP returned shape {g.shape} for input {i} of shape {x.shape}"
        result[i] = engine.RAW_OPS.sum_to(g, x.shape)
    return result


def _check_node(node, rng, eps, atol, rtol, max_coords):
    """(worst abs error, worst rel error, worst input, passed, problem) of one node."""
    op, params = node.op, node.params
    state = state_of(node)  # a generator it draws from, statistics it updates: the same for every forward
    saved_state = snapshot(state)
    try:
        return _check_node_values(node, op, params, rng, eps, atol, rtol, max_coords, state, saved_state)
    finally:
        restore(state, saved_state)


def _check_node_values(node, op, params, rng, eps, atol, rtol, max_coords, state, saved_state):
    inputs = [_as64(v) for v in node.saved]
    wrt = [i for i, link in enumerate(node.inputs) if _differentiable(link)]
    restore(state, saved_state)
    out = np.asarray(op.forward(*inputs, **params))
    cot = rng.standard_normal(out.shape)
    analytic = _analytic(node, inputs, out, cot, wrt)
    if isinstance(analytic, str):
        return float("nan"), float("nan"), None, False, analytic
    worst_abs, worst_rel, worst_input, passed = 0.0, 0.0, None, True
    for i in wrt:
        x = inputs[i]
        coords = list(np.ndindex(*x.shape))
        if len(coords) > max_coords:
            coords = [coords[k] for k in rng.choice(len(coords), size=max_coords, replace=False)]
        evaluate = _projected(op, inputs, params, cot, state, saved_state)
        for idx in coords:
            numeric, noise = central_difference(evaluate, x, idx, eps)  # the step and tolerance scale with x
            err = abs(analytic[i][idx] - numeric)
            rel = err / max(abs(numeric), 1e-12)
            if not err <= atol + rtol * abs(numeric) + noise:  # NaN fails too
                passed = False
            if err > worst_abs or np.isnan(err):
                worst_abs, worst_rel, worst_input = float(err), float(rel), i
    return worst_abs, worst_rel, worst_input, passed, None


def _projected(op, inputs, params, cot, state, saved_state):
    """``evaluate()`` for ``central_difference``: the op's output at ``inputs``' current
    values projected on ``cot``, and the sum of the magnitudes of the terms."""
    def evaluate():
        restore(state, saved_state)
        terms = np.asarray(op.forward(*inputs, **params)) * cot
        return float(np.sum(terms)), float(np.sum(np.abs(terms)))
    return evaluate


def check_graph(output, eps=1e-6, atol=1e-5, rtol=1e-3, max_coords=16, seed=0, raise_on_failure=False):
    """Check the derivative of every node behind ``output`` at its recorded inputs.

    Returns a ``GraphReport`` (a list of ``NodeCheck`` rows, failing and worst
    first).  With ``raise_on_failure=True`` a failing node raises
    ``GraphCheckError`` naming the culprit.

        >>> report = ag.check_graph(loss)          # doctest: +SKIP
        >>> print(report)                          # doctest: +SKIP
    """
    order = engine.graph_nodes([output])
    for node in order:
        if node.freed:
            hint = "" if node.saved is not None else \
                "; call check_graph before backward(), or use backward(retain_graph=True)"
            raise RuntimeError(engine.freed_message(node, "check_graph") + hint)
        for i, link in enumerate(node.inputs):  # as backward would: the recorded inputs must be the current ones
            if type(link) is Tensor and link._version > node.seq:
                raise RuntimeError(modified_message(node, i).replace("backward:", "check_graph:", 1))
    rng = np.random.default_rng(seed)
    upstream = _upstream_parameters(order)
    report = GraphReport()
    for node in order:
        worst_abs, worst_rel, worst_input, passed, problem = _check_node(node, rng, eps, atol, rtol, max_coords)
        report.append(NodeCheck(node, node.op.name, [v.shape for v in node.saved if isinstance(v, np.ndarray) and v.ndim],
                                sorted(upstream[node]), worst_abs, worst_rel, passed, worst_input, problem))
    report.sort(key=lambda row: (row.passed, row.problem is None, -np.nan_to_num(row.max_abs_error, nan=np.inf)))
    if raise_on_failure and report.failures:
        bad = report.failures[0]
        what = bad.problem or f"abs error {bad.max_abs_error:.3e}"
        raise GraphCheckError(f"check_graph: the derivative of op {bad.op!r} (inputs {bad.input_shapes}, "
                              f"parameters upstream: {', '.join(bad.upstream) or 'none'}) is wrong: "
                              f"{what}\n{report}", report)
    return report
