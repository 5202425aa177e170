"""Reverse mode: the walk backward from some outputs through the recorded graph.

``run_backward`` takes the nodes newest first (a topological order, since a
node is created after its inputs; a heap, no recursion), checks that no array
a VJP needs was written to since the op ran, calls each VJP, reduces every
gradient to its input's shape (NumPy broadcasting undone here, once for every
op), accumulates what reaches each node, and then releases the node's arrays:
after ``backward()`` the graph is metadata only, what is needed to draw it
and to say it was freed.  VJPs are written once against a namespace ``F`` of
ops: raw array functions in a plain backward (fast), recording ops under
``create_graph=True``, so that gradients are differentiable again.

The tensor class is read from the registry (``registry.Tensor``), which
``tensor.py`` fills: this module comes before it in the reading order.
"""
from __future__ import annotations

import heapq

import numpy as np

from . import hooks as _hooks, modes as _modes, registry as _registry
from .errors import ShapeError, freed_message, label, modified_message, vjp_result_error
from .graph import Constant, Node
from .modes import enable_grad, no_grad
from .registry import GRAPH_OPS, RAW_OPS

__all__ = ["run_backward", "graph_key", "unbroadcast", "first_gradient", "ones_seed", "released"]

_new = object.__new__  # a slotted instance without running __init__


def graph_key(t):
    """What the graph knows a tensor by: its node, or the tensor itself for a leaf."""
    return t._node or t

def _seed(out, g, create_graph):
    Tensor = _registry.Tensor
    if g is None:
        if out._data.size != 1:
            raise RuntimeError(f"backward: output has shape {out.shape}; a non-scalar output needs "
                               "an explicit grad (grad_outputs) of that shape")
        # shared and read-only in a plain backward; under create_graph it may come back as a result
        return Tensor(np.ones(out.shape, out.dtype)) if create_graph else ones_seed(out.shape, out.dtype)
    if np.shape(g) != out.shape:
        raise ShapeError(f"backward: grad of shape {np.shape(g)} does not match output of shape {out.shape}")
    value = g._data if type(g) is Tensor else g
    if not (isinstance(value, (np.ndarray, np.generic, int, float, list)) and np.result_type(value).kind in "biuf"):
        raise TypeError(f"backward: grad must be an array of real numbers of the output's shape {out.shape}, "
                        f"got {type(g).__name__}" + (f" of {np.result_type(value)}"
                                                      if isinstance(value, (np.ndarray, np.generic)) else ""))
    if create_graph:
        return g if type(g) is Tensor else Tensor(np.array(g, dtype=out.dtype))
    return np.asarray(value, dtype=out.dtype)  # backward() never hands the caller's array out as a .grad


_ONES = {}  # (shape, dtype) -> read-only 1: the seed of every scalar loss (VJPs never write to gy)


def ones_seed(shape, dtype):
    one = _ONES.get((shape, dtype))
    if one is None:
        one = _ONES[shape, dtype] = np.ones(shape, dtype)
        one.flags.writeable = False
    return one


def _as_tensor(link, value):
    """An op argument as the VJP sees it under create_graph: a tensor for graph elements."""
    Tensor = _registry.Tensor
    if type(link) is Node:
        t = _new(Tensor)
        t._data, t._grad, t._requires_grad, t._node, t._name, t._version = link.out, None, True, link, None, 0
        return t
    return link if type(link) is Tensor else value


def _slow_vjp(node, g, F, params, create_graph, checker):
    """The VJP call under create_graph (tensors in, tensors out) or anomaly mode."""
    Tensor = _registry.Tensor
    op = node.op
    if create_graph:
        for i, link in enumerate(node.inputs):  # the VJP reads the leaves themselves: check them first
            if type(link) is Tensor and link._version > node.seq:
                raise RuntimeError(modified_message(node, i))
        args = (F, g, _as_tensor(node, None), *map(_as_tensor, node.inputs, node.saved))
    else:
        args = (F, g, node.out, *node.saved)
        if op.save is not None:
            params = {**params, "saved": node.extra}
    if checker is not None:  # anomaly mode: floating-point errors in the VJP name this node
        return checker.run_vjp(node, op.vjp, args, params)
    return op.vjp(*args, **params)


def run_backward(outputs, grad_outputs, retain_graph, create_graph, wanted=(), trace=None):
    """Back-propagate; return ({graph key: gradient} for the leaves and ``wanted``, [leaves]).

    A graph key is a node, or a leaf tensor (``graph_key``).  Dicts are keyed by
    them: their hash is their identity, and a dict compares a key by identity
    before ``==`` (which is elementwise for tensors).  ``trace``, a list,
    receives ``(node, upstream_grad, input_index, input_grad)`` for every
    gradient sent (``ag.explain`` reads it)."""
    if _modes.tracers:  # a backward inside a step ag.compile traces
        _modes.backward_called(outputs, into_grad=not wanted and trace is None)
    for out in outputs:
        if not out.requires_grad:
            raise RuntimeError("backward: the output does not require grad (no input requires grad, "
                               "or it was computed under no_grad)")
    if grad_outputs is not None and len(grad_outputs) != len(outputs):
        raise ValueError(f"backward: {len(outputs)} outputs but {len(grad_outputs)} grad_outputs")
    walk = _Walk(retain_graph, create_graph, wanted, trace)
    walk.seed(outputs, grad_outputs)
    with (enable_grad() if create_graph else no_grad()):
        walk.run()
    walk.found.update(walk.grads)  # what is left are the leaves' gradients
    return walk.found, walk.leaves


class _Walk:
    """One backward pass: the gradients pending per node (``grads``), and the nodes
    waiting for their turn: the newest in ``nxt``, the others in a max-heap on
    creation number.  Every consumer of a node was created after it, so by the
    time a node is taken all of its gradient has arrived.  A node becomes pending
    with the first gradient sent to it, so the walk visits only what the outputs
    depend on, without recursion; a chain (each node feeding one node) never
    touches the heap."""

    def __init__(self, retain_graph, create_graph, wanted, trace):
        Tensor = _registry.Tensor
        self.retain_graph, self.create_graph, self.trace = retain_graph, create_graph, trace
        self.F = GRAPH_OPS if create_graph else RAW_OPS
        self.grads, self.heap, self.leaves, self.found, self.released, self.nxt = {}, [], [], {}, {}, None
        self.wanted = {graph_key(t) for t in wanted if type(t) is Tensor}  # (arrays get no gradient)
        self.checker = _modes.ANOMALY.get() if _modes.anomaly_blocks else None
        self.slow = create_graph or self.checker is not None
        self.watch = self.checker is not None or trace is not None

    def seed(self, outputs, grad_outputs):
        grads = self.grads
        for out, g in zip(outputs, grad_outputs or [None] * len(outputs)):
            g, key = _seed(out, g, self.create_graph), graph_key(out)
            if key in grads:
                grads[key] = grads[key] + g
                continue
            grads[key] = g
            if type(key) is Node:
                self.heap.append((-key.seq, key))
            else:
                self.leaves.append(key)
        heapq.heapify(self.heap)

    def run(self):
        heap, pop, next_node = self.heap, self.grads.pop, heapq.heappop
        hooks_on, wanted, retain = _hooks.active, self.wanted, self.retain_graph
        while True:
            nxt = self.nxt
            if nxt is not None and (not heap or nxt.seq > -heap[0][0]):
                node, self.nxt = nxt, None
            elif heap:
                node = next_node(heap)[1]
            else:
                return
            g = pop(node)
            if hooks_on:
                g = _hooks.apply(node, g)
            if wanted and node in wanted:
                self.found[node] = g
            self.send(node, g, self.vjp(node, g))
            if not retain:  # drop what only the VJP needed (constants went in send)
                node.saved = node.out = node.extra = None

    def vjp(self, node, g):
        """The VJP of ``node``'s op at upstream gradient ``g``: one gradient per input."""
        saved = node.saved
        if type(saved) is not list:
            raise RuntimeError(freed_message(node))
        op, params = node.op, node.params
        if op.wants_needs:
            Tensor = _registry.Tensor
            needs = []  # a plain loop: half the cost of a list comprehension on 3.11
            for p in node.inputs:
                needs.append(type(p) is Node or (type(p) is Tensor and p._requires_grad))
            params = {**params, "needs": needs}
        try:
            if self.slow:
                input_grads = _slow_vjp(node, g, self.F, params, self.create_graph, self.checker)
            elif op.save is not None:  # what the forward already computed
                input_grads = op.vjp(self.F, g, node.out, *saved, saved=node.extra, **params)
            else:
                input_grads = op.vjp(self.F, g, node.out, *saved, **params)
        except Exception as exc:  # (free in 3.11 until raised) say whose VJP it was
            exc.add_note(f"(raised in the VJP of op {op.name!r}, output {label(node)}"
                         + (f", created at {node.where})" if node.where else ")"))
            raise
        links = node.inputs
        if type(input_grads) is tuple:
            if len(input_grads) != len(links):
                raise vjp_result_error(node, input_grads, 0, None)
            return input_grads
        if len(links) == 1:
            return (input_grads,)
        return _as_gradients(node, input_grads)  # a list; or one gradient, the first input's

    def send(self, node, g, input_grads):
        """Each input's gradient, reduced to its shape and cast to its dtype, added to
        what it has (a node becomes pending with its first)."""
        Tensor, F, grads, links, retain = _registry.Tensor, self.F, self.grads, node.inputs, self.retain_graph
        gp = None
        try:
            for link, gp in zip(links, input_grads):
                kind = type(link)
                if kind is Node:
                    if gp is None:
                        continue
                    shape = link.shape
                    dtype = link.dtype
                elif kind is Tensor:
                    if link._version > node.seq:  # the op saw values that have changed since
                        raise RuntimeError(modified_message(node, _position(links, link)))
                    if not link._requires_grad:  # a data tensor: no gradient
                        if not retain:
                            _release_link(links, link, self.released)
                        continue
                    if gp is None:
                        continue
                    data = link._data
                    shape = data.shape
                    dtype = data.dtype
                else:  # a constant: no gradient
                    if not retain and kind is not float and kind is not int:
                        _release_link(links, link, self.released)
                    continue
                if gp.shape != shape:  # undo NumPy broadcasting, for every op
                    gp = unbroadcast(F, gp, shape, node, _position(input_grads, gp))
                if gp.dtype is not dtype and gp.dtype != dtype:
                    gp = F.astype(gp, dtype=dtype)
                if self.watch:
                    _watch(self.checker, self.trace, node, g, _position(links, link), gp)
                if link in grads:
                    grads[link] = grads[link] + gp
                elif kind is Node:
                    grads[link] = gp
                    self.pend(link)
                else:
                    grads[link] = gp
                    self.leaves.append(link)
        except (ValueError, AttributeError) as exc:
            raise vjp_result_error(node, input_grads, _position(input_grads, gp), exc) from None

    def pend(self, node):
        nxt = self.nxt
        if nxt is None:
            self.nxt = node
        elif node.seq > nxt.seq:
            heapq.heappush(self.heap, (-nxt.seq, nxt))
            self.nxt = node
        else:
            heapq.heappush(self.heap, (-node.seq, node))


def _position(items, item):
    """The index of ``item`` in ``items`` by identity (for messages and traces: the
    hot loop keeps no counter); the first when an object appears twice."""
    for i, x in enumerate(items):
        if x is item:
            return i
    return 0


def _release_link(links, link, memo):
    """Replace every occurrence of the constant ``link`` among a node's inputs by what a
    released graph keeps of it."""
    kept = released(link, memo)
    for i, x in enumerate(links):
        if x is link:
            links[i] = kept


def _as_gradients(node, result):
    """A VJP's result, not a tuple, as one gradient per input: a list as a tuple; a
    single gradient as the first input's (see first_gradient)."""
    if type(result) is list:
        result = tuple(result)
        if len(result) != len(node.inputs):
            raise vjp_result_error(node, result, 0, None)
        return result
    return first_gradient(node, result)


def first_gradient(node, gx):
    """A VJP's single gradient for an op of several inputs, as one per input: the
    first input's, and None for the others, which must not need one (``reshape(x,
    shape)``); a differentiable one would lose its gradient, so that raises."""
    Tensor = _registry.Tensor
    for i, link in enumerate(node.inputs[1:], 1):
        if type(link) is Node or (type(link) is Tensor and link._requires_grad):
            raise vjp_result_error(node, (gx,), i, None)
    return (gx,) + (None,) * (len(node.inputs) - 1)


def _watch(checker, trace, node, g, index, gp):
    """Anomaly mode's check of a gradient sent, and explain's record of it."""
    if checker is not None:
        checker.check_gradient(node, index, gp)
    if trace is not None:
        trace.append((node, g, index, gp))


def released(link, memo):
    """What a released node keeps of a constant input: for a data tensor, its
    ``Constant`` record (one per tensor, kept on it, so that every picture shows
    one box for it); for an array, one record per array (``memo``); for a
    tuple or list (an index), the same with its arrays replaced; the input
    itself for numbers and the like."""
    Tensor = _registry.Tensor
    if type(link) is Tensor:
        const = link._constant
        if const is None or const.shape != link._data.shape or const.dtype != link._data.dtype \
                or const.name != link.name:
            const = link._constant = Constant(link._data, link.name, True)
        return const
    if isinstance(link, np.ndarray):
        kept = memo.get(id(link))
        if kept is None:
            kept = memo[id(link)] = (Constant(link, None, False), link)  # the value stays alive: ids stay unique
        return kept[0]
    if type(link) is tuple or type(link) is list:
        return type(link)(released(v, memo) for v in link)
    return link  # numbers, slices, shapes: small, kept as they are


def unbroadcast(F, gp, shape, node, index):
    """``gp`` summed down to ``shape``, or a ShapeError when no broadcast of
    ``shape`` has ``gp``'s shape (a VJP returning the wrong shape)."""
    have = tuple(gp.shape)
    lead = len(have) - len(shape)
    if lead < 0 or any(n != 1 and n != m for n, m in zip(shape, have[lead:])):
        raise ShapeError(f"backward: the VJP of op {node.op.name!r} returned a gradient of shape {have} for "
                         f"input {index} ({label(node.inputs[index])}), which cannot be reduced to that "
                         f"input's shape {shape}")
    return F.sum_to(gp, shape=shape)
