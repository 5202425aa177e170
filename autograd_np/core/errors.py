"""Error types, the formatter every op uses to describe its inputs, and the
engine's messages about graphs it cannot go through."""
import numpy as np

from .graph import STALE, WRITTEN


class ShapeError(ValueError):
    """An op was given inputs whose shapes (or dtypes) it cannot combine.

    The message names the op and the shapes: ``matmul: shapes (100, 784) and
    (50, 10) do not align (784 != 50)``."""


def describe(values) -> str:
    """``shapes (2, 3) and (3,)``-style text for arrays, scalars and tensors."""
    parts = []
    for v in values:
        v = _array_of(v)
        if isinstance(v, np.ndarray):
            parts.append(f"{v.shape} {v.dtype}")
        elif isinstance(v, (list, tuple)):
            parts.append("[" + ", ".join(str(np.shape(_array_of(x))) for x in v) + "]")
        else:
            parts.append(repr(v))
    if len(parts) == 1:
        return "input " + parts[0]
    return "inputs " + ", ".join(parts[:-1]) + " and " + parts[-1]


def _array_of(v):
    # duck-typed so this module needs no engine import; ndarray.data is a memoryview, not ours
    return v.data if type(v).__name__ == "Tensor" and hasattr(v, "requires_grad") else v


def label(element) -> str:
    """``'w' (3,) float64``-style text for a graph element in an error message:
    a tensor, a node (``output of tanh``), a released constant or an array."""
    kind = type(element).__name__
    if kind in ("Tensor", "Node", "Constant"):
        name = element.name
        text = f"{name!r} " if name else ""
        text += f"{tuple(element.shape)} {element.dtype}"
        if kind == "Node":
            text += f", output of {element.op.name}"
        return text
    if isinstance(element, np.ndarray):
        return f"array {element.shape} {element.dtype}"
    text = repr(element)
    return text if len(text) <= 40 else text[:37] + "..."


def vjp_result_error(node, grads, index, exc):
    """The error for a VJP that returned the wrong number of gradients, or a
    non-array; else ``exc`` itself."""
    name = node.op.name
    if len(grads) != len(node.inputs):
        return TypeError(f"backward: the VJP of op {name!r} returned {len(grads)} gradient(s) for "
                         f"{len(node.inputs)} input(s); return one per input (None where there is none)")
    gp = grads[index]
    if not (hasattr(gp, "shape") and hasattr(gp, "dtype")):
        return TypeError(f"backward: the VJP of op {name!r} returned {type(gp).__name__} for input {index} "
                         f"({label(node.inputs[index])}); return an array (or None)")
    return exc


def freed_message(node, what="backward"):
    """Why backward (or ``what``) cannot go through ``node``, whose arrays are gone."""
    if node.saved is WRITTEN:
        return modified_message(node, None)
    if getattr(node.saved, "why", None) == STALE.why:
        changed = ", ".join(label(t) for t in node.saved.changed) or "a tensor it used"
        return (f"{what}: the graph through op {node.op.name!r} was released because {changed} was changed "
                "after the forward pass (an optimizer step, an assignment to .data): a backward through it "
                "could only fail. Compute the loss again")
    return (f"{what}: the graph through op {node.op.name!r} was already freed by an earlier backward() (or by "
            "one that raised part-way); pass retain_graph=True to that first call")


def modified_message(node, index):
    """Why backward cannot differentiate ``node``: its output (``index`` None) or
    input ``index`` was written to after the op used it."""
    where = f"created at {node.where}" if node.where else \
        "run the forward pass under ag.detect_anomaly() to see the line that created it"
    module = f" in module {str(node.module)!r}" if node.module is not None else ""
    if index is None:
        what = f"its output ({label(node)}) was modified in place after the op computed it"
    else:
        what = f"its input {index} ({label(node.inputs[index])}) was modified in place after the op used it"
    return (f"backward: op {node.op.name!r}{module} cannot be differentiated: {what} (an assignment to .data, "
            f"an optimizer step, ...), so its gradient would be wrong. Change tensors after backward(), not "
            f"between the forward pass and backward(). The op: {where}.")
