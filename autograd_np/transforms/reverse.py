"""Reverse mode for the transforms: the engine's backward walk
(``core.run_backward``), confined to the graph a transform recorded, and seeded
with cotangents that may be batched (vmap over a VJP: one backward carries a
batch of cotangents through a graph recorded once)."""
from __future__ import annotations

import contextlib

import numpy as np

from ..core import Node, Tensor, run_backward
from ..core.recording import Op
from .levels import at, batched_level

__all__ = ["backward_from", "confined"]

_new = object.__new__


def _cotangent(y, ct):
    """A scalar 0 that depends on ``y``: backward through it sends ``ct`` to ``y``."""
    return np.zeros((), np.result_type(y))


# not registered (no op table entry): the transforms' seed, so that a batched cotangent
# enters the walk as ordinary ops do (the engine's seed must be an array of values)
COTANGENT = Op("cotangent", _cotangent, "L = 0 * y;  gy = ct (the transforms' seed of a batched cotangent)")
COTANGENT.defvjp(lambda F, gy, out, y, ct: (F.mul(ct, gy), None))


def backward_from(outputs, cotangents, wanted, create_graph, retain_graph=True):
    """{graph key: gradient} of ``sum <output, cotangent>`` for the ``wanted`` tensors:
    ``core.run_backward``, with cotangents of a vmap level entering through seed nodes."""
    if not any(batched_level(c) is not None for c in cotangents):
        found, _ = run_backward(outputs, cotangents, retain_graph, create_graph, wanted=wanted)
        return found
    with at(None):  # the seeds join the graph at the bottom, where it was recorded
        seeds = [COTANGENT.apply(o, c) for o, c in zip(outputs, cotangents)]
    found, _ = run_backward(seeds, None, True, True, wanted=wanted)
    return found


@contextlib.contextmanager
def confined(nodes, start):
    """Backward through ``nodes`` (made after clock reading ``start``) and no further:
    while the body runs, each link to an older node is a leaf that stands for it
    (a gradient created meanwhile still links to that node, so it stays
    differentiable beyond), and the walk stops there: it neither computes the older
    graph's gradients nor calls its hooks."""
    stubs, changed = {}, []
    for node in nodes:
        links = node.inputs
        for i, link in enumerate(links):
            if type(link) is Node and link.seq <= start:
                stub = stubs.get(link)
                if stub is None:
                    stub = stubs[link] = _stub(link, node.saved[i] if type(node.saved) is list else link.out)
                changed.append((links, i, link))
                links[i] = stub
    try:
        yield
    finally:
        for links, i, link in changed:
            links[i] = link


def _stub(node, data):
    t = _new(Tensor)
    t._data, t._node, t._requires_grad, t._grad, t._version = data, node, True, None, 0
    t._name = t._constant = t._shares = None
    return t
