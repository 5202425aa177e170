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
import operator
import struct
import types

import numpy as np

from .engine import Tensor

__all__ = ["Same", "key", "argument_keys", "SourceGuards", "UnhashableArgument"]

_pack_double = struct.Struct("<d").pack


class UnhashableArgument(TypeError):
    """An argument (or a guard's value) that cannot be part of a signature."""


class Same:
    """Identity as a hashable value: equal only to a ``Same`` of the very same object."""

    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj

    def __eq__(self, other):
        return type(other) is Same and other.obj is self.obj

    def __hash__(self):
        return id(self.obj)

    def __repr__(self):
        return f"<the same {type(self.obj).__name__}>"


_BY_VALUE = (str, bytes, type(None), bool, int, type(Ellipsis))


def key(value, depth=0):
    """``value`` as part of a signature: equal keys mean "the same for a program"."""
    kind = type(value)
    if kind is float:
        return (float, _pack_double(value))  # bitwise: -0.0 and NaN payloads count
    if kind in _BY_VALUE:
        return (kind, value)
    if kind is complex:
        return (complex, _pack_double(value.real), _pack_double(value.imag))
    if isinstance(value, np.generic):
        return (kind, value.tobytes())
    if kind is tuple or kind is frozenset:
        if depth > 8:
            raise UnhashableArgument("a tuple nested more than 8 deep")
        return (kind,) + tuple(key(v, depth + 1) for v in (value if kind is tuple else sorted(value, key=repr)))
    if kind is np.ndarray or kind is Tensor:
        return ("array", value.shape, value.dtype.str)  # by shape only where an array is a program input
    if kind is slice:
        return (slice, key(value.start), key(value.stop), key(value.step))
    if kind is np.dtype or isinstance(value, np.dtype):
        return ("dtype", value.str)
    guard = getattr(value, "__compile_guard__", None)
    if guard is not None and not isinstance(value, type):
        return (Same(value), guard())
    try:
        hash(value)
    except TypeError:
        raise UnhashableArgument(f"a {kind.__name__}, which is not hashable") from None
    return Same(value)


def argument_keys(args):
    """The signature's part for the arguments: one key per argument, and the
    aliasing pattern (for each array/tensor argument, the first position holding
    the same object).  Raises ``UnhashableArgument`` naming the position."""
    parts, first = [], {}
    for i, a in enumerate(args):
        kind = type(a)
        if kind is np.ndarray:
            parts.append((a.shape, a.dtype, first.setdefault(id(a), i)))
        elif kind is Tensor:
            parts.append(("tensor", a._data.shape, a._data.dtype, a._requires_grad, a._node is None,
                          first.setdefault(id(a), i)))
        else:
            try:
                parts.append(key(a))
            except UnhashableArgument as exc:
                raise UnhashableArgument(f"argument {i} is {exc.args[0]}") from None
    return tuple(parts)


# --- free variables and globals ---------------------------------------------------------

_SKIP_MODULES = ("numpy", "autograd_np", "builtins")


def _is_library(fn):
    module = getattr(fn, "__module__", None) or ""
    return module.split(".")[0] in _SKIP_MODULES


def _code_names(code):
    """The global names a code object (and the code nested in it) reads."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names


class SourceGuards:
    """What fn reads besides its arguments, found once from its code and read again
    on every call: ``values()`` is its part of the signature.

    * fn's free variables and the globals its code names (and those of the Python
      functions found there, a few levels deep): by identity, numbers by value,
      so a rebinding (``W = new_tensor``, a closure variable set to another
      object, a number that changes) changes the signature;
    * the attributes of the plain objects found there and of a bound method's
      ``self`` (one level: ``self.model``, ``cfg.scale``), the same way;
    * the state (``__compile_guard__()``) of every object that has one among all
      of these (nets modules), and of those passed in ``guard_modules``."""

    MAX_DEPTH = 3

    def __init__(self, fn, extra=()):
        self.cells, self.globals_, self.selves = [], [], []  # (cell, name), (namespace, name), objects
        self.extra = list(extra)              # guard_modules
        self._seen = set()
        self._last_base = self._last = self._last_key = self._last_names = None
        self._plain, self._stateful = [], []
        self._walk(fn, 0)

    def _walk(self, fn, depth):
        if id(fn) in self._seen or depth > self.MAX_DEPTH:
            return
        self._seen.add(id(fn))
        if isinstance(fn, types.MethodType):
            self.selves.append(fn.__self__)
            fn = fn.__func__
        elif _guarded(fn) or _plain_object(fn):  # a module, or a callable object: ag.compile(model)
            self.selves.append(fn)
            fn = getattr(type(fn), "__call__", None)
        code = getattr(fn, "__code__", None)
        if code is None or _is_library(fn):
            return
        for name, cell in zip(code.co_freevars, fn.__closure__ or ()):
            self.cells.append((cell, name))
            self._follow(_cell_value(cell), depth)
        namespace = fn.__globals__
        for name in sorted(_code_names(code)):
            if name in namespace:
                self.globals_.append((namespace, name))
                self._follow(namespace[name], depth)

    def _follow(self, value, depth):
        if isinstance(value, (types.FunctionType, types.MethodType)) and not _is_library(value):
            self._walk(value, depth + 1)

    def values(self):
        """The signature's part for what fn reads besides its arguments.  When every
        variable and attribute holds the same object as on the last call, their keys
        are reused (numbers and strings are immutable; other objects are compared by
        identity), and only the modules' ``__compile_guard__()`` is asked again."""
        base = [_cell_value(cell) for cell, _ in self.cells] + [ns.get(name, _MISSING) for ns, name in self.globals_]
        base += self.selves
        if self._last_base is None or len(base) != len(self._last_base) \
                or not all(map(operator.is_, base, self._last_base)):
            self._last_base = base
            self._plain = list({id(o): o for o in base if _plain_object(o)}.values())
        objs, names = list(base), []
        for o in self._plain:
            attributes = vars(o)
            names.append(tuple(attributes))  # an attribute added or deleted
            objs.append(None)                # (where names() says "the attributes of ...")
            objs.extend(attributes.values())
        if self._last is None or len(objs) != len(self._last) or names != self._last_names \
                or not all(map(operator.is_, objs, self._last)):
            self._last, self._last_names, self._last_key = objs, names, tuple(map(_source_key, objs))
            stateful = {id(o): o for o in [*(o for o in objs if _guarded(o)), *self.extra]}
            self._stateful = list(stateful.values())
        return self._last_key + tuple(m.__compile_guard__() for m in self._stateful)

    def names(self):
        """What ``values()`` reads, in its order (for messages)."""
        out = ([f"free variable {name!r}" for _, name in self.cells]
               + [f"global {name!r}" for _, name in self.globals_]
               + [f"the {type(o).__name__} fn is a method of" for o in self.selves])
        for o in self._plain:
            out.append(f"the attributes of a {type(o).__name__}")
            out += [f"attribute {name!r} of a {type(o).__name__}" for name in vars(o)]
        return out + [f"the state of {type(m).__name__}" for m in self._stateful]


_MISSING = object()


def _cell_value(cell):
    try:
        return cell.cell_contents
    except ValueError:  # not bound yet
        return _MISSING


def _guarded(value):
    return hasattr(value, "__compile_guard__") and not isinstance(value, type)


_NOT_PLAIN = (type, types.ModuleType, types.FunctionType, types.MethodType, types.BuiltinFunctionType,
              types.CodeType, functools.partial)


def _plain_object(value):
    """An instance of a user's class (not a module, function, class, nets module, or
    an object of NumPy or autograd_np): its attributes are read like variables."""
    return hasattr(value, "__dict__") and not isinstance(value, _NOT_PLAIN) and not _guarded(value) \
        and type(value).__module__.split(".")[0] not in _SKIP_MODULES


def _source_key(value):
    """A free variable's or global's key: arrays, tensors, modules and containers by
    identity (a rebinding is a change); numbers, strings, tuples by value."""
    if type(value) in (np.ndarray, Tensor) or _guarded(value):
        return Same(value)
    try:
        return key(value)
    except UnhashableArgument:
        return Same(value)  # a list, a dict: by identity (what is inside is fn's business)
