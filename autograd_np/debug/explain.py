"""``explain``: the backward pass, step by step, as the seeds write it by hand.

For every node, in the order backward visits them: its op, the shape and norm
of the gradient arriving from above, the op's derivative rule, and the gradient
sent to each input.  Running it on the seeds' ``simpleNet`` shows the familiar
``(y - t) / N`` step of softmax-with-loss.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import core as engine

__all__ = ["explain", "backward_steps", "ExplainStep", "ExplainSteps"]


@dataclass
class ExplainStep:
    """One node of the backward walk."""
    op: str
    output_shape: tuple
    upstream_shape: tuple
    upstream_norm: float
    rule: str
    sent: list  # (input label, gradient shape, gradient norm) per input that receives one
    upstream: np.ndarray | None = None  # with values=True: the gradient arriving from above
    sent_values: list | None = None     # with values=True: the gradient sent to each input, as in ``sent``
    node: object = field(default=None, repr=False, compare=False)  # the graph node (ag.viz.explore reads it)
    targets: list = field(default_factory=list, repr=False, compare=False)  # the input link of each ``sent`` row

    def __str__(self):
        lines = [f"{self.op}  out {self.output_shape}  upstream grad {self.upstream_shape} "
                 f"|g| = {self.upstream_norm:.4g}",
                 f"    rule: {self.rule}"]
        if self.upstream is not None:
            lines.append("    upstream = " + _array_text(self.upstream))
        for i, (label, shape, norm) in enumerate(self.sent):
            lines.append(f"    -> {label:<14} grad {shape}  |g| = {norm:.4g}")
            if self.sent_values is not None:
                lines.append("       = " + _array_text(self.sent_values[i]))
        return "\n".join(lines)

    def __repr__(self):
        sent = ", ".join(f"{label} {shape}" for label, shape, _ in self.sent)
        return f"<ExplainStep {self.op} out {self.output_shape} -> {sent}>"

    def _cells(self):
        from ..core.display import array_html, Raw
        sent = Raw("<br>".join(f"{_esc(label)} {shape} |g| = {norm:.4g}" for label, shape, norm in self.sent))
        row = [self.op, str(self.output_shape), f"{self.upstream_norm:.4g}", self.rule, sent]
        if self.upstream is not None:
            row.insert(3, array_html(self.upstream, threshold=12))
            row.append(Raw("".join(array_html(v, threshold=12) for v in self.sent_values)))
        return row


class ExplainSteps(list):
    """The steps ``explain`` returns: a list of ``ExplainStep``; ``print(steps)`` shows them
    as ``explain`` prints them, and a notebook shows a table (with the arrays, for
    ``values=True``)."""

    def __str__(self):
        return "\n".join(str(s) for s in self)

    def __repr__(self):
        ops = " -> ".join(s.op for s in self[:8]) + (" -> ..." if len(self) > 8 else "")
        return f"<{len(self)} backward steps: {ops}>"

    def _repr_html_(self):
        from ..core.display import table
        values = bool(self) and self[0].upstream is not None
        headers = ["op", "out", "|upstream|", *(["upstream"] if values else []), "rule", "sends",
                   *(["sent values"] if values else [])]
        return table(headers, [s._cells() for s in self], caption=f"backward, step by step ({len(self)} steps)")


def _esc(text):
    import html
    return html.escape(str(text))


def _array_text(a):
    return np.array2string(np.asarray(a), precision=4, threshold=24, edgeitems=3).replace("\n", "\n         ")


def _label(link):
    """A graph element as the steps name it: its name, ``(op)`` for a node, else "input"."""
    if link.name:
        return link.name
    return f"({link.op.name})" if type(link) is engine.Node else "input"


def explain(output, grad=None, print_steps=True, values=False):
    """Walk ``output``'s backward pass and describe every step.

    Returns the steps (a list of ``ExplainStep``) and prints them unless
    ``print_steps=False``.  ``values=True`` also keeps (and prints) the arrays
    of every step: the gradient arriving at each op (``step.upstream``) and
    the one it sends to each input (``step.sent_values``), the numbers a
    hand-written backward computes.  Leaves' ``.grad`` are not touched and the
    graph is retained, so ``backward()`` can follow.
    """
    trace = []
    engine.run_backward([output], None if grad is None else [grad], retain_graph=True, create_graph=False, trace=trace)
    steps = backward_steps(trace, values)
    if print_steps:
        print(steps)
    return steps


def backward_steps(trace, values=False):
    """The steps of one backward pass, in the order the engine ran them, from its
    ``trace`` (the list ``run_backward(..., trace=trace)`` fills): what ``explain``
    returns.  Each step also keeps its ``node`` and, per ``sent`` row, the input
    link it went to (``targets``), for ``ag.viz.explore``'s backward slider."""
    steps, by_node = [], {}
    with np.errstate(all="ignore"):  # a NaN gradient's norm is NaN, without a warning
        for node, upstream, index, sent in trace:
            step = by_node.get(node)
            if step is None:
                up = np.asarray(upstream)
                step = ExplainStep(node.op.name, node.shape, up.shape, float(np.linalg.norm(up)), node.op.rule, [],
                                   np.array(up) if values else None, [] if values else None, node=node)
                by_node[node] = step
                steps.append(step)
            g = np.asarray(sent)
            step.sent.append((_label(node.inputs[index]), g.shape, float(np.linalg.norm(g))))
            step.targets.append(node.inputs[index])
            if values:
                step.sent_values.append(np.array(g))
    return ExplainSteps(steps)
