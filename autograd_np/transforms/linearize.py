"""Linearizing a function: record it once at its primals, then push tangents
forward (forward mode) or pull cotangents back (reverse mode) through that one
graph, as often as needed (a Jacobian needs min(n, m) of them).

The primals enter as *entries*: new leaves that require grad, or, for a tensor
that already requires grad (a nested transform's variable, a parameter), a
``copy`` node, so that the results stay differentiable with respect to it.
``outside`` says whether the recorded graph reaches such tensors: then the
pushes and pulls record their own graphs (create_graph), else they run on raw
arrays.

Inside vmap, a function whose graph would hold batched values is linearized
one level down (``Lowered``): each differentiated variable becomes the whole
batch (an unbatched one repeated along the batch axis), so the derivatives are
per example, and the graph is recorded at the level below, where values exist.
"""
from __future__ import annotations

import contextlib

import numpy as np

from ..core import Node, Tensor, clock, enable_grad, graph_key, is_grad_enabled
from ..core.registry import GRAPH_OPS
from .forward import graph_between, push
from .levels import VmapError, at, batched_level, current
from .pytrees import flatten, tree_map, unflatten
from .reverse import backward_from, confined

__all__ = ["linearize", "Direct", "Lowered", "as_leaf_tensor", "requires_grad_deep"]


def linearize(f, args, leaves, rebuild, has_aux, who, names=None):
    """Record ``f(*rebuild(entries))`` with an entry for each of ``leaves`` (the
    differentiated leaves of ``args``, called ``names`` in pictures and explain);
    a ``Direct`` or ``Lowered`` linearization."""
    level = current()
    names = names or [None] * len(leaves)
    if level is None or not any(batched_level(x) is not None for x in flatten(args)[0]):
        lin = _record(f, leaves, rebuild, has_aux, who, names)
        if lin is not None:
            return lin
    return _lowered(f, leaves, rebuild, has_aux, who, level, names)


def _levels_now():
    out, level = [], current()
    while level is not None:
        out.append((level, level.count))
        level = level.parent
    return out


def _record(f, leaves, rebuild, has_aux, who, names):
    """A ``Direct`` linearization, or None when ``f`` turned out to touch batched values
    (a tensor of an enclosing vmap it closes over): then it must be lowered."""
    counts = _levels_now()
    connect = is_grad_enabled()  # under no_grad the results stay out of any graph (as torch.func's)
    start = clock()
    with (contextlib.nullcontext() if connect else enable_grad()):  # f records whatever the caller's mode
        # (only then a block: an open block puts every op on apply's slower branch); a no_grad inside f holds
        entries = [_entry(x, name, connect) for x, name in zip(leaves, names)]
        result = f(*rebuild(entries))
    if any(lv.count != n for lv, n in counts):
        return None
    out, aux = _split_aux(result, has_aux, who)
    flat, tree = flatten(out)
    outputs = [as_leaf_tensor(o, who, i) for i, o in enumerate(flat)]
    nodes = graph_between(outputs, start)
    outside = connect and (any(type(x) is Tensor and x._requires_grad for x in leaves)
                           or _reaches_outside(nodes, start, entries))
    return Direct(entries, outputs, tree, aux, nodes, start, outside)


def _entry(x, name, connect=True):
    """A differentiable variable holding ``x``'s values (named as the argument it is);
    linked to ``x``'s graph (a ``copy`` node) when ``x`` requires grad and ``connect``."""
    if type(x) is Tensor:
        if x._requires_grad and connect:
            return GRAPH_OPS.copy(x)
        return Tensor(x._data, requires_grad=True, name=name)
    return Tensor(np.asarray(x), requires_grad=True, name=name)


def _reaches_outside(nodes, start, entries):
    """Whether the recorded graph uses an older node or a leaf that requires grad
    (other than the entries): then its derivatives must stay differentiable."""
    own = {id(e) for e in entries}
    for node in nodes:
        for link in node.inputs:
            if (type(link) is Node and link.seq <= start) or \
                    (type(link) is Tensor and link._requires_grad and id(link) not in own):
                return True
    return False


def _split_aux(result, has_aux, who):
    if not has_aux:
        return result, None
    if type(result) is not tuple or len(result) != 2:
        raise TypeError(f"{who}: with has_aux=True, f must return a pair (output, aux), got "
                        f"{type(result).__name__}" + (f" of {len(result)}" if type(result) is tuple else ""))
    return result


def as_leaf_tensor(value, who, index):
    """An output leaf as a tensor: tensors as they are, numbers and arrays as constants."""
    if type(value) is Tensor:
        return value
    if isinstance(value, (np.ndarray, np.generic, int, float, bool)):
        return Tensor(np.asarray(value))
    raise TypeError(f"{who}: output {index} of f is a {type(value).__name__}; f must return tensors or arrays "
                    "(in tuples, lists or dicts)")


def requires_grad_deep(x):
    """Whether ``x`` (a tensor, or a stand-in of a vmap level) carries a graph."""
    while batched_level(x) is not None:
        x = x._data.shadow
    return type(x) is Tensor and x._requires_grad


class Direct:
    """A linearization recorded at the caller's level: its graph holds no batched value."""

    batchable = True  # push / pull may run under a further vmap (tangents batched, values not)

    def __init__(self, entries, outputs, tree, aux, nodes, start, outside):
        self.entries, self.outputs, self.tree, self.aux = entries, outputs, tree, aux
        self.nodes, self.start, self.outside = nodes, start, outside

    def values(self):
        """The outputs for the caller: part of the graph when it reaches outside, else cut from it."""
        return self.outputs if self.outside else [Tensor(o._data) for o in self.outputs]

    def aux_values(self):
        """``has_aux``'s aux, as the outputs."""
        return self.aux if self.outside else tree_map(detached, self.aux)

    def push(self, tangents):
        """The output tangents (one per output; zeros where none reaches) of entry tangents."""
        mode = _mode(tangents, self.outside)
        seeds = {graph_key(e): _plain(t, mode) for e, t in zip(self.entries, tangents) if t is not None}
        with (contextlib.nullcontext() if is_grad_enabled() else enable_grad()):  # (graph mode records)
            found = push(self.nodes, seeds, mode) if seeds else {}
        return [_or_zeros(found.get(graph_key(o)), o) for o in self.outputs]

    def pull(self, cotangents, retain=True):
        """The entries' cotangents (zeros where none reaches) of output cotangents."""
        pairs = [(o, c) for o, c in zip(self.outputs, cotangents) if c is not None and o._requires_grad]
        if not pairs:
            return [_or_zeros(None, e) for e in self.entries]
        outs, cts = zip(*pairs)
        mode = _mode(cts, self.outside)
        cts, create = [_plain(c, mode) for c in cts], mode != "raw"
        with confined(self.nodes, self.start):
            found = backward_from(list(outs), list(cts), self.entries, create, retain or create)
        grads = [_or_zeros(found.get(graph_key(e)), e) for e in self.entries]
        return grads if mode != "batched" else [detached(g) for g in grads]  # (recorded only to be batched)


def _mode(vectors, outside):
    """How tangents or cotangents go through a graph: "graph" (the results differentiable
    again: the graph reaches outside, or a vector requires grad), "batched" (a vmap level's
    vectors: through the recording ops, which the level batches), or "raw" (arrays)."""
    if outside or any(requires_grad_deep(v) for v in vectors):
        return "graph"
    if any(batched_level(v) is not None for v in vectors):
        return "batched"
    return "raw"


def detached(x):
    """``x`` cut from the graph, at every vmap level down to the bottom."""
    level = batched_level(x)
    if level is not None:
        return level.stand_in(detached(x._data.shadow))
    return Tensor(x._data) if type(x) is Tensor and x._requires_grad else x


def _plain(v, mode):
    """A plain tensor's array in raw mode (the walk then runs on arrays)."""
    return v._data if mode == "raw" and type(v) is Tensor else v


def _or_zeros(t, like):
    return np.zeros(like.shape, like.dtype) if t is None else t


def _lowered(f, leaves, rebuild, has_aux, who, level, names):
    """Linearize ``f`` inside ``level`` by linearizing, one level down, the function of
    whole batches that ``f`` computes there."""
    batches = [level.materialize(x) for x in leaves]
    state = {}

    def batched_f(*variables):
        stand_ins = [level.stand_in(v) for v in variables]
        with at(level):
            result = f(*rebuild(stand_ins))
        out, state["aux"] = _split_aux(result, has_aux, who)
        flat, state["tree"] = flatten(out)
        return unflatten(state["tree"], [level.materialize(as_leaf_tensor(o, who, i)) for i, o in enumerate(flat)])

    with at(level.parent):
        inner = linearize(batched_f, tuple(batches), batches, lambda e: e, False, who, names)
    return Lowered(inner, level, state["tree"], state["aux"])


class Lowered:
    """A linearization of ``f`` inside a vmap level, computed one level down on whole
    batches.  Its pushes and pulls run inside that same level."""

    batchable = False

    def __init__(self, inner, level, tree, aux):
        self.inner, self.level, self.tree, self.aux = inner, level, tree, aux
        self.outputs = [level.stand_in(v) for v in inner.values()]
        self.entries = [level.stand_in(e) for e in inner.entries]

    def values(self):
        return self.outputs

    def aux_values(self):
        return self.aux

    def _check(self, who):
        if current() is not self.level:
            raise VmapError(f"{who}: this function was linearized inside a vmap and must be called inside that "
                            "same vmap (not outside it, nor under a vmap of its own)")

    def push(self, tangents):
        self._check("jvp")
        batches = [None if t is None else self.level.materialize(t) for t in tangents]
        with at(self.level.parent):
            out = self.inner.push(batches)
        return [self.level.stand_in(t) for t in out]

    def pull(self, cotangents, retain=True):
        self._check("vjp")
        batches = [None if c is None else self.level.materialize(c) for c in cotangents]
        with at(self.level.parent):
            out = self.inner.pull(batches, retain)
        return [self.level.stand_in(g) for g in out]
