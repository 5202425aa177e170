"""The gradients a picture shows (``draw(show_grads=True)``, ``explore``): one extra
backward from scalar outputs over the intact graph, or the leaves' ``.grad`` when the
graph is gone; the engine's trace of that backward gives ``explore`` its steps."""
from __future__ import annotations

import numpy as np

from .. import core as engine
from ..core import Node, Tensor, modes

__all__ = ["backward_trace", "gradients"]


def backward_trace(outputs, order):
    """One extra backward from the scalar ``outputs`` over the intact graph (``order``, its walk):
    ``(found, trace, None)`` (the leaves' gradients and the engine's trace, see
    ``run_backward``), or ``(None, None, reason)`` when it cannot be run.  ``.grad`` is
    not touched, the graph is kept, and anomaly mode is off meanwhile (a picture must
    not raise on the NaN it is meant to show)."""
    roots = [t for t in outputs if type(t) is Tensor and t.requires_grad]
    nodes = [t for t in order if type(t) is Node]
    reason = None
    if not roots:
        reason = "no output requires grad (or an output is a node, not a tensor)"
    elif any(t.data.size != 1 for t in roots):
        reason = "the outputs are not scalars"
    elif any(t.freed for t in nodes):
        freed = next(t for t in nodes if t.freed)
        reason = ("backward() freed the graph; draw before backward() or after "
                  "backward(retain_graph=True) to see every gradient") if freed.saved is None else \
            f"the graph was released ({engine.freed_message(freed, 'draw').split(': ', 1)[1].split('. ')[0]})"
    if reason is not None:
        return None, None, reason
    trace = []
    token = modes.ANOMALY.set(None)
    try:
        with np.errstate(all="ignore"):
            found, _ = engine.run_backward(roots, None, retain_graph=True, create_graph=False, trace=trace)
    except Exception as exc:  # noqa: BLE001  (a picture with a note beats no picture)
        return None, None, f"computing the gradients failed ({type(exc).__name__}: {exc})"
    finally:
        modes.ANOMALY.reset(token)
    return found, trace, None


def gradients(outputs, order):
    """id(tensor) -> gradient for the picture, a note saying where they came from, and the
    engine's trace of the backward that computed them (None when only ``.grad`` is shown).

    On an intact graph with scalar outputs the gradients of every tensor are
    computed here by one extra backward (``backward_trace``). A freed graph
    (after a plain ``backward()``) only has the leaves' ``.grad`` left."""
    found, trace, reason = backward_trace(outputs, order)
    roots = [t for t in outputs if type(t) is Tensor and t.requires_grad]
    if reason is not None:
        grads = {id(t): t.grad for t in order if type(t) is Tensor and t.grad is not None}
        return grads, f"gradient norms: leaves' .grad only ({reason})", None
    grads = {}
    for node, upstream, _, _ in trace:  # the upstream gradient of a node is that node's own gradient
        grads.setdefault(id(node), upstream)
    for t in order:
        if type(t) is Tensor and t in found:
            grads[id(t)] = found[t]
    for t in roots:
        grads.setdefault(id(engine.graph_key(t)), np.ones_like(t.data))
    names = ", ".join(t.name or "output" for t in roots)
    return grads, f"gradient norms of d({names})/d(tensor), computed for this picture", trace
