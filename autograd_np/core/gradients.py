"""What users call: ``backward`` (into ``.grad``), ``grad`` (returned), and the
release of graphs no backward can use any more (``release_stale``).  The walk
itself is ``backward.run_backward``."""
from __future__ import annotations

import threading

import numpy as np

from . import hooks as _hooks, registry as _registry
from .backward import graph_key, released, run_backward
from .errors import label
from .graph import STALE, Node, graph_nodes
from .registry import GRAPH_OPS

__all__ = ["backward", "grad", "owned_gradient", "release_stale", "GRAD_LOCK"]

GRAD_LOCK = threading.Lock()  # .grad accumulation: backward from several threads adds up


def _raw(x):
    return x._data if type(x) is _registry.Tensor else x


def release_stale(output) -> bool:
    """Let go of the arrays of the nodes behind ``output`` (a tensor or a node)
    that no backward can go through any more: those that used a leaf written
    since, and those computed from them.  Returns True when ``output``'s own
    node was released.  Nodes not affected (a part of the graph that another,
    valid loss shares) keep their arrays.  A released node costs what a node
    after ``backward()`` costs (metadata only); backward through it raises,
    naming the tensor that changed.  nets models call this on the losses of
    their earlier ``loss()`` calls, so that a list of logged losses that are
    never backpropagated (the seeds' loop) holds no activations."""
    Tensor = _registry.Tensor
    node = output._node if type(output) is Tensor else output
    if type(node) is not Node or node.freed:
        return False
    tainted, memo = {}, {}
    for n in reversed(graph_nodes([node])):  # inputs before the nodes made from them
        changed = [link for link in n.inputs if type(link) is Tensor and link._version > n.seq]
        if changed or any(type(link) is Node and link in tainted for link in n.inputs):
            tainted[n] = changed or next(tainted[link] for link in n.inputs if type(link) is Node and link in tainted)
    for n, changed in tainted.items():
        if type(n.saved) is list:
            n.saved, n.out, n.extra = STALE.because(changed), None, None
            links = n.inputs
            for i, link in enumerate(links):
                if not (type(link) is Tensor and link._requires_grad):
                    links[i] = released(link, memo)
    return node in tainted


def owned_gradient(g, handed, leaf):
    """A gradient handed to the user: a writeable ndarray of its own memory,
    shared with no other gradient handed out (``handed``: their ids) and not
    the leaf's own data (a VJP may return a read-only broadcast view, a view of
    another gradient, the same array for two inputs as add's does, or a NumPy
    scalar for 0-d input)."""
    if type(g) is not np.ndarray or g.base is not None or id(g) in handed or not g.flags.writeable \
            or (leaf is not None and g is leaf._data):
        g = np.array(g)
    handed.add(id(g))
    return g


def backward(outputs, grad_outputs=None, retain_graph=False):
    """``Tensor.backward`` for several outputs at once: accumulates into ``.grad``."""
    grads, leaves = run_backward(outputs, grad_outputs, retain_graph, create_graph=False)
    handed = {id(_raw(g)) for g in grad_outputs or ()}  # the caller's seeds: copied if they reach a leaf
    if _hooks.active:  # (outside the lock: a hook may itself call backward)
        grads = {leaf: _hooks.apply(leaf, grads[leaf]) for leaf in leaves}
    with GRAD_LOCK:  # threads sharing a leaf: every contribution counts
        for leaf in leaves:
            g = grads[leaf]
            # a new array, never in place: the old .grad may be held by the user
            old = leaf._grad
            leaf._grad = owned_gradient(g if old is None else old + g, handed, leaf)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """Gradients of ``outputs`` with respect to ``inputs``, as a list of tensors.

    Does not touch ``.grad``.  With ``create_graph=True`` the returned tensors
    are part of a new graph, so they can be differentiated again (second
    derivatives).  An input the outputs do not depend on raises, unless
    ``allow_unused=True`` (then its gradient is ``None``).
    """
    Tensor = _registry.Tensor
    single_out = isinstance(outputs, Tensor)
    outputs = [outputs] if single_out else list(outputs)
    if grad_outputs is not None and single_out and not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs]
    single_in = isinstance(inputs, Tensor)
    inputs = [inputs] if single_in else list(inputs)
    retain = create_graph if retain_graph is None else retain_graph
    found, _ = run_backward(outputs, grad_outputs, retain, create_graph, wanted=inputs)
    result = []
    handed = {id(g) for g in grad_outputs or ()} | {id(_raw(g)) for g in grad_outputs or ()}  # the caller's seeds
    for i, x in enumerate(inputs):
        g = found.get(graph_key(x)) if type(x) is Tensor else None
        if g is None and not allow_unused:
            what = "an array, not a tensor: only tensors get gradients" if type(x) is not Tensor else \
                "is not used to compute the outputs"
            raise RuntimeError(f"grad: input {i} ({label(x)}) {what}; pass allow_unused=True to get None for it")
        if g is not None:
            if type(g) is not Tensor:
                g = Tensor(owned_gradient(g, handed, x if x.is_leaf else None))
            elif id(g) in handed:  # the same graph tensor for two inputs, or the caller's seed
                g = GRAPH_OPS.mul(g, 1.0)
            handed.add(id(g))
        result.append(g)
    return result[0] if single_in else result
