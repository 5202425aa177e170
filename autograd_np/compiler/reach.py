"""The Python state a compiled step can read, flattened so that a call can tell
cheaply whether any of it changed (``guards.SourceGuards`` and ``guards.key``).

From some roots (fn's free variables, the globals its code names, its default
arguments, the object a method belongs to, an argument that is a plain
object...), ``flatten`` walks what Python code could reach by name, a few
levels deep: the attributes of plain objects (instances of the user's classes),
the items of lists, tuples, dicts and sets, the parts of a ``functools.partial``,
the defaults and free variables of a function, a bound method's object, and
the attributes of a Python module or class that some code names.  It returns
every object met (to compare by identity, the fast way), the *shape* of the
walk (attribute names, lengths: compared by value), and the objects that guard
themselves (``__compile_guard__``: nets modules, whose whole state is theirs to
describe).  Arrays, tensors, generators and library objects are leaves,
compared by identity.

Bounded: ``DEPTH`` levels, ``CAP`` items per container (a longer one counts by
identity and length only).
"""
from __future__ import annotations

import functools
import operator
import struct
import types

import numpy as np

__all__ = ["Same", "Key", "flatten", "same", "shallow_key", "guarded", "plain_object", "is_library", "DEPTH", "CAP"]

DEPTH = 3
CAP = 64
_LIBRARIES = ("numpy", "autograd_np", "builtins")
_pack_double = struct.Struct("<d").pack
_ATOMS = (str, bytes, type(None), bool, int, float, complex, type(Ellipsis), slice)
_NOT_PLAIN = (type, types.ModuleType, types.FunctionType, types.MethodType, types.BuiltinFunctionType,
              types.CodeType, functools.partial, types.GeneratorType)


def is_library(obj):
    """An object (or function, class or Python module) of NumPy, autograd_np or the builtins."""
    if isinstance(obj, types.ModuleType):
        module = obj.__name__
    elif isinstance(obj, (type, types.FunctionType)):
        module = getattr(obj, "__module__", None)
    else:
        module = getattr(type(obj), "__module__", None)
    return (module or "").split(".")[0] in _LIBRARIES


def guarded(value):
    """An object that describes its own state (``__compile_guard__``: a nets module)."""
    return hasattr(value, "__compile_guard__") and not isinstance(value, type)


def plain_object(value):
    """An instance of a user's class (not a module, function, class, nets module, or
    an object of NumPy or autograd_np): its attributes are state fn may read."""
    return (hasattr(value, "__dict__") or hasattr(type(value), "__slots__")) and not isinstance(value, _NOT_PLAIN) \
        and not guarded(value) and not isinstance(value, _ATOMS) and not is_library(value)


def shallow_key(value):
    """``value`` itself as part of a signature (what it holds is walked apart):
    numbers by their bits (``0.0`` and ``-0.0`` differ, every NaN is the same
    NaN, ``1``, ``True`` and ``1.0`` differ), strings by value, containers by
    type, everything else by identity."""
    kind = type(value)
    if kind is float:
        return (float, _pack_double(value))
    if kind is str or kind is int or kind is bool or value is None or kind is bytes:
        return (kind, value)
    if kind is complex:
        return (complex, _pack_double(value.real), _pack_double(value.imag))
    if isinstance(value, np.generic):
        return (kind, value.tobytes())
    if kind is list or kind is tuple or kind is dict or kind is set or kind is frozenset:
        return kind
    if isinstance(value, np.dtype):
        return ("dtype", value.str)
    if kind is slice:
        return (slice, shallow_key(value.start), shallow_key(value.stop), shallow_key(value.step))
    return Same(value)


class Same:
    """Identity as a hashable value: equal only to a ``Same`` of the very same object
    (which it keeps alive, so an identity is never reused while a key is held)."""

    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj

    def __eq__(self, other):
        return type(other) is Same and other.obj is self.obj

    def __hash__(self):
        return id(self.obj)

    def __repr__(self):
        return f"<the same {type(self.obj).__name__}>"


class Key:
    """A part of a signature that is compared often and changes rarely: its hash is
    computed once (a tuple's is computed on every dict lookup, and a ``Same`` inside
    it costs a Python call each time)."""

    __slots__ = ("value", "hash")

    def __init__(self, value):
        self.value, self.hash = value, hash(value)

    def __hash__(self):
        return self.hash

    def __eq__(self, other):
        return self is other or (type(other) is Key and other.hash == self.hash and other.value == self.value)

    def __repr__(self):
        return f"Key({self.value!r})"


def _children(value, names):
    """(shape marker, [children], [their labels], getter) of a value the walk enters,
    or None for a leaf.  ``getter(value)`` gives the children again, cheaply (what
    ``same`` compares).  ``names``: the attribute names code reads (for modules
    and classes)."""
    kind = type(value)
    if kind is list or kind is tuple:
        return (len(value), list(value), [f"[{i}]" for i in range(len(value))], None) if len(value) <= CAP else None
    if kind is dict:
        return ((tuple(value), list(value.values()), [f"[{k!r}]" for k in value], dict.values)
                if len(value) <= CAP else None)
    if kind is set or kind is frozenset:
        return (frozenset(shallow_key(v) for v in value), list(value), ["[item]"] * len(value), tuple) \
            if len(value) <= CAP else None
    if isinstance(value, functools.partial):
        return ("partial", [value.func, value.args, value.keywords], [".func", ".args", ".keywords"], _PARTIAL)
    if isinstance(value, types.MethodType):
        return ("method", [value.__func__, value.__self__], [".__func__", ".__self__"], _METHOD)
    if isinstance(value, types.FunctionType):
        if is_library(value):
            return None
        free = value.__code__.co_freevars
        return ("function", _function_parts(value),
                [".__defaults__", ".__kwdefaults__", *(f" free variable {n!r}" for n in free)], _function_parts)
    if isinstance(value, (types.ModuleType, type)):
        if is_library(value) or not names:
            return None
        space = vars(value)
        found = tuple(n for n in names if n in space)
        return (found, [space[n] for n in found], [f".{n}" for n in found], _space_getter(found)) if found else None
    if plain_object(value):
        attributes = dict(vars(value)) if hasattr(value, "__dict__") else {}
        slots = tuple(s for s in _slots(type(value)) if hasattr(value, s))
        for slot in slots:
            attributes[slot] = getattr(value, slot)
        plain = tuple(attributes)[:len(attributes) - len(slots)]
        return (tuple(attributes), [len(attributes) - len(slots), *attributes.values()],
                [" (its attributes)", *(f".{n}" for n in attributes)], _object_getter(plain, slots))
    return None


_PARTIAL = operator.attrgetter("func", "args", "keywords")
_METHOD = operator.attrgetter("__func__", "__self__")


def _function_parts(fn):
    return [fn.__defaults__, fn.__kwdefaults__, *map(_cell, fn.__closure__ or ())]


def _space_getter(names):
    get = operator.itemgetter(*names)
    return (lambda v: (get(vars(v)),)) if len(names) == 1 else (lambda v: get(vars(v)))


def _object_getter(names, slots):
    """The children of a plain object again: how many attributes it has, their values."""
    get = operator.itemgetter(*names) if names else None
    get_slots = operator.attrgetter(*slots) if slots else None

    def children(value):
        out = [len(vars(value)) if hasattr(value, "__dict__") else 0]
        if get is not None:
            got = get(vars(value))
            out += [got] if len(names) == 1 else got
        if get_slots is not None:
            got = get_slots(value)
            out += [got] if len(slots) == 1 else got
        return out
    return children


def _slots(cls):
    out = []
    for c in cls.__mro__:
        slots = c.__dict__.get("__slots__", ())
        out += [slots] if isinstance(slots, str) else [s for s in slots if s not in ("__dict__", "__weakref__")]
    return out


_EMPTY = object()


def _cell(cell):
    try:
        return cell.cell_contents
    except ValueError:  # not bound yet
        return _EMPTY


def flatten(roots, names=(), labels=None):
    """(objects, shape, self-guarded objects, plan) of the state reachable from
    ``roots``; with ``labels`` (one per root), a label per object instead of the
    plan, for messages.  ``same(roots, plan, objects)`` is the cheap re-check."""
    objects, shape, stateful, seen, out_labels, plan = [], [], [], set(), [], []
    level, level_labels = list(roots), list(labels or [None] * len(roots))
    for depth in range(DEPTH + 1):
        below, below_labels = [], []
        for value, label in zip(level, level_labels):
            objects.append(value)
            out_labels.append(label)
            if isinstance(value, _ATOMS) or id(value) in seen:
                continue
            seen.add(id(value))
            if guarded(value):
                stateful.append(value)
                continue
            if depth == DEPTH:
                continue
            found = _children(value, names)
            if found is not None:
                shape.append(found[0])
                below += found[1]
                below_labels += [None if label is None else label + suffix for suffix in found[2]]
                plan.append((value, found[3]))
        level, level_labels = below, below_labels
        if not level:
            break
    return (objects, shape, stateful, out_labels) if labels is not None else (objects, shape, stateful, plan)


def same(roots, plan, objects):
    """Whether the state reachable from ``roots`` is made of the same objects as
    when ``flatten`` gave ``plan`` and ``objects`` (then its key is the same too)."""
    now = list(roots)
    try:
        for value, getter in plan:
            now.extend(value if getter is None else getter(value))
    except (KeyError, AttributeError, ValueError):  # an attribute or key gone, a free variable unbound
        return False
    return len(now) == len(objects) and all(map(operator.is_, now, objects))
