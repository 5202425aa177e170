"""What ``ag.compile`` checks before it replays a program: the *signature* of a call.

A program is a function of its array and tensor arguments' values; everything
else that fn's Python decided while it was traced is baked into it.  So the
signature holds all of that, and a call whose signature has no program traces
fn again:

* array and tensor arguments: shape, dtype (a tensor's ``requires_grad``, and
  whether it is a leaf), and which argument positions hold the same object;
* every other argument by value, exactly: a float by its bits (``0.0`` and
  ``-0.0``, two NaNs, are told apart; ``1`` and ``True`` and ``1.0`` too),
  tuples item by item, other objects by identity (or by their
  ``__compile_guard__()`` when they have one, as ``nets`` modules do);
* the free variables and globals fn's code reads (and those of the Python
  functions it reads, a few levels deep): the same objects, the same numbers;
* the state of every object with a ``__compile_guard__`` method found there
  (a ``nets`` model: its layers, their parameters by identity, ``training``,
  ``p``, ``mask``...), and of those passed in ``guard_modules``;
* ``guard()``, a function of the user's, when given.

``key(value)`` is the comparable, hashable form of one value; objects compared
by identity are held by ``Same`` wrappers, which also keep them alive (so an
identity is never reused by another object while a program is cached).
"""
from __future__ import annotations

import functools
import types

import numpy as np

from ..core import Tensor
from .reach import Key, Same, flatten, is_library, same, shallow_key

__all__ = ["Same", "key", "argument_keys", "SourceGuards", "UnhashableArgument"]


class UnhashableArgument(TypeError):
    """An argument (or a guard's value) that cannot be part of a signature."""


def key(value):
    """A non-array argument (or a ``guard()`` value) as part of a signature: numbers
    by their bits, strings by value, tuples item by item (``reach.shallow_key``); a
    nets module by its ``__compile_guard__()``; any other object by identity and
    by the state reachable from it (a plain object's attributes, a function's
    defaults and free variables, a bound method's object: ``reach.flatten``)."""
    kind = type(value)
    if kind is float or kind is int or kind is str or kind is bool or value is None:
        return shallow_key(value)
    if kind is tuple:
        return (tuple,) + tuple(key(v) for v in value)
    if kind is np.ndarray or kind is Tensor:
        raise UnhashableArgument(f"an array or tensor ({kind.__name__}) where a value is expected")
    objects, shape, stateful, _ = flatten([value])
    if len(objects) == 1 and not shape and not stateful:
        return shallow_key(value)
    return (tuple(map(shallow_key, objects)), tuple(shape), tuple(m.__compile_guard__() for m in stateful))


def argument_keys(args, kwargs=None):
    """The signature's part for the arguments: one key per argument (and per keyword
    argument, in the call's order).  Arrays and tensors (also inside tuples, lists
    and dicts) by shape, dtype, flags, and the first leaf position holding the same
    object (the aliasing pattern); everything else by ``key``.  Raises
    ``UnhashableArgument`` naming the argument."""
    first = {}
    parts = [_tree_key(a, first, f"argument {i}", 0) for i, a in enumerate(args)]
    if kwargs:
        parts.append(tuple((k, _tree_key(v, first, f"keyword argument {k!r}", 0)) for k, v in kwargs.items()))
    return tuple(parts)


_MAX_TREE = 8  # how deep tuples, lists and dicts of arrays may nest in an argument


def _tree_key(value, first, where, depth):
    kind = type(value)
    if kind is np.ndarray:
        return (value.shape, value.dtype, first.setdefault(id(value), len(first)))
    if kind is Tensor:
        return ("tensor", value._data.shape, value._data.dtype, value._requires_grad, value._node is None,
                first.setdefault(id(value), len(first)))
    if kind is tuple or kind is list or kind is dict:
        if depth >= _MAX_TREE:
            raise UnhashableArgument(f"{where} nests containers more than {_MAX_TREE} deep")
        if kind is dict:
            if not all(type(k) in (str, int) for k in value):
                raise UnhashableArgument(f"{where} is a dict with keys other than strings and integers")
            return (dict,) + tuple((k, _tree_key(v, first, where, depth + 1)) for k, v in value.items())
        return (kind,) + tuple(_tree_key(v, first, where, depth + 1) for v in value)
    return key(value)


# --- free variables and globals ---------------------------------------------------------

def _code_names(code):
    """The global and attribute names a code object (and the code nested in it) reads."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names


class SourceGuards:
    """What fn reads besides its arguments: ``values()`` is its part of the signature.

    The roots: fn itself (its default arguments and free variables, a bound
    method's object, a ``functools.partial``'s parts), the globals its code names,
    and those of the Python functions found there (``MAX_DEPTH`` levels), and the
    ``guard_modules``.  From them, ``reach.flatten`` walks the state Python could
    reach by name: attributes of plain objects, items of containers, attributes
    of modules and classes that the code names.  Objects by identity, numbers by
    value: a rebinding, an attribute set, a list changed, a number that changes
    all change the signature.  A nets module adds its ``__compile_guard__()``.
    When every object met is the same as on the last call (and the walk has the
    same shape), the last key is reused and only the modules are asked again."""

    MAX_DEPTH = 3

    def __init__(self, fn, extra=()):
        self.fn, self.extra = fn, list(extra)
        self.globals_, self.names = [], set()  # (namespace, name); attribute names the code reads
        self._seen = set()
        self._walk(fn, 0)
        self._last = self._last_key = self._plan = None
        self._stateful = []

    def _walk(self, fn, depth):
        if id(fn) in self._seen or depth > self.MAX_DEPTH:
            return
        self._seen.add(id(fn))
        if isinstance(fn, functools.partial):
            return self._walk(fn.func, depth)
        if isinstance(fn, types.MethodType):
            return self._walk(fn.__func__, depth)
        if not isinstance(fn, types.FunctionType):  # a callable object: its class's __call__
            fn = getattr(type(fn), "__call__", None)
        code = getattr(fn, "__code__", None)
        if code is None or is_library(fn):
            return
        names = _code_names(code)
        self.names |= names
        namespace = fn.__globals__
        for name in sorted(names):
            if name in namespace:
                self.globals_.append((namespace, name))
                value = namespace[name]
                if isinstance(value, (types.FunctionType, types.MethodType, functools.partial)):
                    self._walk(value, depth + 1)
        for cell in fn.__closure__ or ():
            value = _cell_value(cell)
            if isinstance(value, (types.FunctionType, types.MethodType, functools.partial)):
                self._walk(value, depth + 1)

    def roots(self):
        return [self.fn] + [ns.get(name, _MISSING) for ns, name in self.globals_] + self.extra

    def values(self):
        roots = self.roots()
        if self._plan is None or not same(roots, self._plan, self._last):
            objects, shape, self._stateful, self._plan = flatten(roots, self.names)
            self._last, self._last_key = objects, (Key((tuple(map(shallow_key, objects)), tuple(shape))),)
        return self._last_key + tuple(m.__compile_guard__() for m in self._stateful)

    def labels(self):
        """A label per object ``values()`` compares, in its order (for messages)."""
        roots = ["fn", *(f"global {name!r}" for _, name in self.globals_),
                 *(f"guard_modules[{i}]" for i in range(len(self.extra)))]
        return flatten(self.roots(), self.names, labels=roots)[3]

    def changed(self, before):
        """What differs between ``before`` (an earlier ``values()``) and now: a label,
        or None when nothing did."""
        now = self.values()
        if now == before:
            return None
        labels = self.labels()
        (old, old_shape), (new, new_shape) = before[0].value, now[0].value
        for label, a, b in zip(labels, old, new):
            if a != b:
                return label or "fn's state"
        if len(old) != len(new) or old_shape != new_shape:
            return "the shape of fn's state (an attribute, item or variable added or removed)"
        return f"the state of a {type(self._stateful[0]).__name__}" if self._stateful else "fn's state"


_MISSING = object()


def _cell_value(cell):
    try:
        return cell.cell_contents
    except ValueError:  # not bound yet
        return _MISSING
