"""Forward mode: tangents pushed through a recorded graph, node by node in the
order the nodes were made (a topological order), each with its op's JVP rule
(``Op.defjvp``, next to the op's VJP in ``autograd_np/ops``).

An op without a rule (conv2d, max_pool2d, im2col, col2im, batch_norm and
dropout_mask, and any op a user registers without one) gets the *transposed
VJP*: its VJP is linear in the cotangent ``u``, ``u -> J^T u``, so one more
reverse pass through that VJP, seeded with the tangent, gives ``J t``.  It
costs about two VJPs of the op; the op table says which ops use it.

Three modes: ``raw`` (arrays and the raw forwards: nothing records), ``batched``
(the recording ops on arrays, so that a vmap level batches the tangents'
ops), ``graph`` (the primal values as graph tensors: the tangents are
differentiable again, for reverse-over-forward and nested transforms).
"""
from __future__ import annotations

import numpy as np

from ..core import Node, Tensor, clock, enable_grad, freed_message, modified_message
from ..core.backward import _as_tensor
from ..core.errors import ShapeError
from ..core.registry import GRAPH_OPS, RAW_OPS
from .reverse import backward_from, confined

__all__ = ["graph_between", "push", "transposed_vjp"]


def graph_between(outputs, start):
    """The nodes made after clock reading ``start`` that ``outputs`` (tensors) depend
    on, oldest first; the walk does not go into older nodes."""
    stack = [t._node for t in outputs if type(t) is Tensor and t._node is not None and t._node.seq > start]
    seen = set(stack)
    found = []
    while stack:
        node = stack.pop()
        found.append(node)
        for link in node.inputs:
            if type(link) is Node and link.seq > start and link not in seen:
                seen.add(link)
                stack.append(link)
    found.sort(key=lambda n: n.seq)
    return found


def push(nodes, seeds, mode):
    """{graph key: tangent} for every node reached from ``seeds`` ({graph key:
    tangent}); ``nodes`` oldest first.  Each node's inputs' tangents go to its op's
    JVP rule; a node none of whose inputs has a tangent is skipped."""
    F = RAW_OPS if mode == "raw" else GRAPH_OPS
    tangents = dict(seeds)
    get = tangents.get
    for node in nodes:
        ts = tuple(get(link) if type(link) is Node or type(link) is Tensor else None for link in node.inputs)
        if not any(t is not None for t in ts):
            continue
        y, inputs = _values(node, mode)
        op = node.op
        try:
            if op.jvp is not None:
                t = op.jvp(F, ts, y, *inputs, **node.params)
            else:
                t = transposed_vjp(op, ts, y, inputs, node, mode)
            if t is not None:
                tangents[node] = _conform(F, t, node)
        except Exception as exc:
            exc.add_note(f"(raised in the JVP of op {op.name!r}, output shape {node.shape})")
            raise
    return tangents


def _values(node, mode):
    """The op's output and inputs as its JVP gets them (checked: not freed, not written)."""
    saved = node.saved
    if type(saved) is not list:
        raise RuntimeError(freed_message(node).replace("backward", "forward mode", 1))
    for i, link in enumerate(node.inputs):
        if type(link) is Tensor and link._version > node.seq:
            raise RuntimeError(modified_message(node, i))
    if mode != "graph":
        return node.out, saved
    return _as_tensor(node, None), [_as_tensor(link, v) for link, v in zip(node.inputs, saved)]


def _conform(F, t, node):
    """A JVP's result as the tangent of ``node``'s output: its shape (a rule may return
    a broadcastable one, as ``ta + tb`` does when only ``ta`` is there) and dtype."""
    if type(t) is not Tensor and type(t) is not np.ndarray:
        t = np.asarray(t)
    if t.shape != node.shape:
        try:
            fits = np.broadcast_shapes(t.shape, node.shape) == node.shape
        except ValueError:
            fits = False
        if not fits:
            raise ShapeError(f"forward mode: the JVP of op {node.op.name!r} returned shape {t.shape} for an output "
                             f"of shape {node.shape}")
        t = F.broadcast_to(t, shape=node.shape)
    if t.dtype != node.dtype:
        t = F.astype(t, dtype=node.dtype)
    return t


def transposed_vjp(op, tangents, y, inputs, node, mode):
    """``J t`` for an op without a JVP rule: the gradient in ``u`` of ``sum_k <VJP_k(u), t_k>``
    (the VJP is linear in ``u``): the VJP recorded once more, then a reverse pass."""
    yv = y._data if type(y) is Tensor else y
    u = Tensor(np.zeros(np.shape(yv), np.result_type(yv)), requires_grad=True)
    params = dict(node.params)
    if op.wants_needs:
        params["needs"] = [t is not None for t in tangents]
    start = clock()
    with enable_grad():
        grads = op.vjp(GRAPH_OPS, u, y, *inputs, **params)
    grads = grads if type(grads) in (tuple, list) else (grads,) + (None,) * (len(tangents) - 1)
    outs, cts = [], []
    for g, t in zip(grads, tangents):
        if g is not None and t is not None and type(g) is Tensor and g.requires_grad:
            outs.append(g)
            cts.append(t if tuple(t.shape) == tuple(g.shape) else GRAPH_OPS.broadcast_to(t, shape=g.shape))
    if not outs:
        return None  # the VJP does not depend on u: J = 0 (dropout's mask)
    with confined(graph_between(outs, start), start):  # (in graph mode the VJP also links to the primal graph)
        found = backward_from(outs, cts, [u], create_graph=mode != "raw", retain_graph=mode != "raw")
    jt = found.get(u)
    return None if jt is None else (jt._data if mode == "raw" and type(jt) is Tensor else jt)
