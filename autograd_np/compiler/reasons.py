"""Why a traced call cannot be replayed, and what changed between two signatures:
the reasons ``ag.compile`` gives (``compiled.eager_reasons``, its warning, the
errors of ``strict=True``)."""
from __future__ import annotations

from ..core import Tensor, hooks
from .traced_array import TracedArray

__all__ = ["HOOK_REASON", "untraceable", "computed_in_python", "difference", "what_changed"]

HOOK_REASON = "a gradient hook"


def untraceable(loss, nodes, start):
    if loss.node is None or loss._data.size != 1:
        return "fn's first result is not a scalar computed from tensors that require grad"
    for node in nodes:
        if hooks.registered(node) or any(type(p) is Tensor and hooks.registered(p) for p in node.inputs):
            return f"{HOOK_REASON} (register_hook, retain_grad) is registered in the graph (op {node.op.name!r})"
        if node.seq < start:
            return f"the result depends on a graph made before the call (op {node.op.name!r})"
        if node.freed:
            return f"op {node.op.name!r}'s graph was released inside fn"
    return None


def computed_in_python(nodes, names):
    """Why an op's input is an array fn computed with NumPy from an argument (a
    replay would use the traced call's), or None."""
    for node in nodes:
        for link in node.inputs:
            if type(link) is TracedArray and id(link) not in names:
                return (f"op {node.op.name!r} was given {link._what} by NumPy in Python, which a replay would not "
                        "compute again; compute it with ops (ag.*), or pass it as an argument")
    return None


def difference(first, second):
    """Why two traces of one signature differ (None when they agree)."""
    a, b = first, second
    if len(a) != len(b):
        return f"the second call recorded {len(b)} ops where the first recorded {len(a)} (control flow in fn)"
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"the two calls differ at op {i} ({x[0]}): {_why_different(x, y)}"
    return None


def _why_different(x, y):
    """What most likely made two descriptions of one op differ."""
    if x[0] == y[0] and len(x) == len(y) and x[1] != y[1]:
        for i, (p, q) in enumerate(zip(x[1], y[1])):
            if p != q and p[0] == "same" == q[0]:
                return (f"its input {i} is a new {type(p[1].obj).__name__} on every call (made in fn from Python "
                        "values, under no_grad, or by ops on tensors that need no gradient, which are not "
                        "recorded), which a replay would not make again; pass it as an argument")
    return "control flow in fn, or values computed in Python"


def what_changed(old, new, sources):
    """Short names for what differs between two signatures ("argument 0's shape")."""
    (old_args, old_src, *old_guard), (new_args, new_src, *new_guard) = old, new
    out = []
    if len(old_args) != len(new_args):
        out.append("the number of arguments")
    for i, (a, b) in enumerate(zip(old_args, new_args)):
        if a != b:
            out.append(f"argument {i}'s {_argument_change(a, b)}")
    if old_src != new_src:
        labels = sources.labels()
        changed = [label for label, a, b in zip(labels, old_src[0].value[0], new_src[0].value[0]) if a != b]
        out.append(changed[0] if changed and changed[0] else "fn's state (a module, a variable or an attribute)")
    if old_guard != new_guard:
        out.append("guard()")
    return out or ["the signature"]


def _argument_change(a, b):
    """What differs between two argument keys: an array's (shape, dtype, alias) or a
    tensor's ("tensor", shape, dtype, requires_grad, leaf, alias); else a value."""
    if type(a) is tuple and type(b) is tuple and len(a) == len(b) and len(a) in (3, 6) \
            and (len(a) == 3 or a[0] == "tensor"):
        first = 1 if len(a) == 6 else 0
        if a[first] != b[first]:
            return "shape"
        if a[first + 1] != b[first + 1]:
            return "dtype"
        return "flags or aliasing"
    return "value"
