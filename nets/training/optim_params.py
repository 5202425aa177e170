"""What an optimizer updates: the tensors of a module or a list (``parameter_list``), or
the arrays and floats of the book's ``params`` dict (``ArraySlot``)."""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

import autograd_np as ag

__all__ = ["parameter_list", "ArraySlot"]


def parameter_list(params, who):
    """The tensors to optimize, from a Module, an iterable of tensors, or None (the book's
    ``update(params, grads)``); each must require grad and appear once."""
    if isinstance(params, (int, float)) and not isinstance(params, bool):
        raise TypeError(f"{who}: params (the first argument) are the parameters; give the learning rate "
                        f"by name: {who}(lr={params!r})")
    if params is None:
        return []
    module = hasattr(params, "parameters") and callable(params.parameters)
    if module:
        params = params.parameters()
    if isinstance(params, (str, bytes, Mapping, ag.Tensor)) or not hasattr(params, "__iter__"):
        raise TypeError(f"{who}: params must be a Module or a list of ag.Tensor with requires_grad=True (or None "
                        f"for update(params, grads)), got {params!r:.80}")
    params = list(params)
    if not params:
        raise ValueError(f"{who}: params is empty{' (the module has no parameters)' if module else ''}: nothing "
                         "to optimize (make it without params for the book's update(params, grads))")
    seen = {}
    for i, p in enumerate(params):
        if not isinstance(p, ag.Tensor) or not p.requires_grad:
            raise TypeError(f"{who}: params[{i}] must be an ag.Tensor with requires_grad=True, got "
                            f"{type(p).__name__}")
        if id(p) in seen:  # it would be stepped twice per step
            raise ValueError(f"{who}: params[{i}] is params[{seen[id(p)]}] again; give each parameter once")
        seen[id(p)] = i
    return params


class ArraySlot:
    """``params[key]`` of a plain dict, seen as a parameter.  An array is updated in place
    (the caller's array, the book's ``network.params[key]``, is the one that changes); a
    Python float (the book's ``params['x'] = -7.0``) is replaced by the new float, as the
    book's ``params[key] -= lr * grads[key]`` does."""

    __slots__ = ("mapping", "key")

    def __init__(self, mapping, key):
        self.mapping, self.key = mapping, key
        value = mapping[key]
        kind = np.asarray(value).dtype.kind if isinstance(value, (np.ndarray, float, np.floating)) else None
        if kind != "f":
            raise TypeError(f"update: params[{key!r}] must be a floating-point NumPy array, a float or a tensor, "
                            f"got {type(value).__name__}"
                            f"{' of ' + str(value.dtype) if isinstance(value, np.ndarray) else ''}")

    @property
    def data(self):
        value = self.mapping[self.key]
        return value if isinstance(value, np.ndarray) else np.array(value, dtype=np.float64)

    @data.setter
    def data(self, value):
        old = self.mapping[self.key]
        if isinstance(old, np.ndarray):
            if value is not old:
                old[...] = value
        else:
            self.mapping[self.key] = float(value)

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def shape(self):
        return np.shape(self.mapping[self.key])

    name = property(lambda self: self.key)
