"""The compile guard of a module: the state a compiled step depends on (``ag.compile``
makes ``__compile_guard__()`` part of a step's signature), cached until one of the objects
it looked at is replaced."""
from __future__ import annotations

import functools
import operator
import weakref

import numpy as np

import autograd_np as ag

from autograd_np.compiler.guards import Same as _Same, key as _key
from autograd_np.compiler.reach import Key as _Key

__all__ = ["CompileGuard"]


class CompileGuard:
    """The ``__compile_guard__`` of ``Module`` (its base class).  ``_unguarded`` names the
    attributes that are not state a forward reads (bookkeeping, the outputs of the latest
    call): a subclass adds its own."""

    _unguarded = frozenset({"_path", "_loss_graphs", "_loss_graphs_checked"})

    def __compile_guard__(self):
        """The state a compiled step depends on (``ag.compile`` makes it part of the
        signature): for this module and every sub-module, its class and every
        attribute: tensors, arrays, generators, modules and functions by identity
        (a parameter replaced by another tensor counts), numbers and strings by
        value (``training``, ``p``, ``mask`` set or cleared), lists and dicts item
        by item, plain objects (a config) by their attributes.  Recomputed only
        when one of those objects is not the same as on the last call (however it
        was set: ``setattr``, ``vars(m)[...]``, a list item); else the last one."""
        cache = _GUARDS.get(self)
        if cache is not None and _same_objects(cache[0], cache[1]):
            return cache[2]
        plan, key = [], []
        for _, m in self.named_modules():
            space = vars(m)
            names = tuple(k for k in space if k not in m._unguarded)
            plan.append((space, _getter(names)))
            items = []
            for k in names:
                items.append((k, _state_key(space[k], plan)))
            key.append((type(m), tuple(items)))
        key = _Key(tuple(key))  # (its hash once: a signature is looked up on every compiled call)
        _GUARDS[self] = (plan, _objects_of(plan), key)
        return key


_GUARDS = weakref.WeakKeyDictionary()  # root module -> (plan, its objects then, key): __compile_guard__'s cache


def _state_key(value, plan):
    """An attribute's part of ``__compile_guard__``: modules, tensors, arrays and
    functions by identity, numbers and strings by value, lists, tuples and dicts
    item by item, plain objects by their state (``ag.guards.key``).  ``plan``
    collects the containers and objects whose contents the fast path compares."""
    if isinstance(value, (list, tuple)):
        plan.append((value, _items))
        return (type(value),) + tuple(_state_key(v, plan) for v in value)
    if isinstance(value, dict):
        plan.append((value, _items))
        return (dict,) + tuple((k, _state_key(v, plan)) for k, v in value.items())
    if isinstance(value, (CompileGuard, ag.Tensor, np.ndarray)) or callable(value):
        return _Same(value)
    if hasattr(value, "__dict__") and not isinstance(value, type):  # a plain object (a config): one level
        plan.append((vars(value), _getter(tuple(vars(value)))))
    return _key(value)


def _objects_of(plan):
    """Every object the plan looks at, in order (compared by identity): for a
    container its items, for a module's or plain object's attributes their values
    by name (and how many there are: one added is a change)."""
    out = []
    add, extend = out.append, out.extend
    for holder, get in plan:
        add(len(holder))
        extend(get(holder))
    return out


def _items(holder):
    return holder.values() if isinstance(holder, dict) else holder


@functools.lru_cache(maxsize=1024)
def _getter(names):
    """``holder -> (holder[name] for name in names)``, at C speed (a missing name: a KeyError)."""
    if not names:
        return lambda h: ()
    get = operator.itemgetter(*names)
    return (lambda h: (get(h),)) if len(names) == 1 else get


def _same_objects(plan, objects):
    try:
        now = _objects_of(plan)
    except KeyError:  # an attribute was deleted
        return False
    return len(now) == len(objects) and all(map(operator.is_, now, objects))
