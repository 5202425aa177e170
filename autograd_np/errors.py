"""Error types and the one formatter every op uses to describe its inputs."""
import numpy as np


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
