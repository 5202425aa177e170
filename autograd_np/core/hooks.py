"""Gradient hooks (``Tensor.register_hook``, ``retain_grad``): the hooks of each graph
element, and their application to a gradient during backward.

``active`` stays False until the first hook is registered, so a backward in a
program without hooks never looks them up.
"""
from __future__ import annotations

import weakref

import numpy as np

from .errors import ShapeError
from .tensor_methods import TensorMethods

__all__ = ["HookHandle", "register", "registered", "apply", "active", "generation"]

active = False  # set by the first register(): until then backward looks at none
generation = 0  # counts registrations and removals: ag.compile re-checks its programs when it moves


class _Hooks:
    """Node or leaf tensor -> [hook], by identity, forgetting an entry when its key is
    collected (a WeakKeyDictionary compares keys with ==, elementwise for tensors)."""

    def __init__(self):
        self._entries = {}  # id(key) -> (weak reference to key, [hook])

    def get(self, key):
        entry = self._entries.get(id(key))
        return entry[1] if entry is not None and entry[0]() is key else None

    def setdefault(self, key, default):
        found = self.get(key)
        if found is not None:
            return found
        ident = id(key)
        self._entries[ident] = (weakref.ref(key, lambda _, i=ident: self._entries.pop(i, None)), default)
        return default


_REGISTRY = _Hooks()


class HookHandle:
    """What ``register_hook`` returns: ``remove()`` takes the hook off again."""

    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        global generation
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)
            generation += 1


def register(key, hook) -> HookHandle:
    """Add ``hook`` to the graph element ``key`` (a node, or a leaf tensor)."""
    global active, generation
    hooks = _REGISTRY.setdefault(key, [])
    hooks.append(hook)
    active = True
    generation += 1
    return HookHandle(hooks, hook)


def registered(key) -> bool:
    """True when some hook is registered on ``key``."""
    return active and bool(_REGISTRY.get(key))


def apply(key, g):
    """``g`` after the hooks registered on ``key`` have seen it (read-only); a hook's
    result of the same shape replaces it."""
    hooks = _REGISTRY.get(key)
    if not hooks:
        return g
    for hook in list(hooks):
        view = g
        if type(g) is np.ndarray:
            view = g.view()
            view.flags.writeable = False
        result = hook(view)
        if result is not None:
            if not isinstance(g, TensorMethods):  # a plain backward (an array or a NumPy scalar): arrays only
                result = np.asarray(result._data if isinstance(result, TensorMethods) else result)
            if np.shape(result) != np.shape(g):
                raise ShapeError(f"register_hook: the hook returned shape {np.shape(result)} for a gradient of "
                                 f"shape {np.shape(g)}")
            g = result
    return g
