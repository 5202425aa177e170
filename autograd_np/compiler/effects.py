"""Python side effects of a traced call, which a replay would skip.

A replay runs none of fn's Python.  So a call that changed Python state fn can
reach (a counter, a list it appends to, an attribute it sets, an optimizer's
state), drew from a random generator in Python (``rng.random()``,
``np.random.rand()``, ``random.random()``), or wrote into an array it holds (an
exponential average kept in a buffer) cannot be replayed: ``Watch`` looks at
that state before and after a traced call.  The state ops change themselves
(a dropout op's generator, batch norm's running statistics) is the program's
own, and a replay changes it too.
"""
from __future__ import annotations

import hashlib
import random

import numpy as np

from .reach import Same, flatten

__all__ = ["Watch"]

_GENERATORS = (np.random.Generator, np.random.RandomState, np.random.BitGenerator)
_MAX_DIGEST = 16 * 2**20  # arrays larger than this are not compared (documented)


def _numpy_global_state():
    """A snapshot of NumPy's global generator (``np.random.*``): its MT19937 state words
    read straight from memory (``get_state()`` builds a dict: 35 us, twice per traced
    call), or ``get_state()`` where that view is not available."""
    view = _GLOBAL_VIEW[0]
    if view is None:
        try:
            import ctypes
            bits = np.random.mtrand._rand._bit_generator
            view = np.ctypeslib.as_array((ctypes.c_uint32 * 625).from_address(bits.ctypes.state_address))
            before = view.tobytes()
            probe = np.random.get_state()
            np.random.random_sample()
            moved = view.tobytes() != before
            np.random.set_state(probe)
            view = view if moved else False
        except Exception:  # noqa: BLE001  (another layout, another NumPy: use get_state)
            view = False
        _GLOBAL_VIEW[0] = view
    return view.tobytes() if view is not False else np.random.get_state(legacy=False)


_GLOBAL_VIEW = [None]


def _state_of(generator):
    bits = generator.bit_generator if isinstance(generator, np.random.Generator) else generator
    return bits.state if isinstance(bits, np.random.BitGenerator) else bits.get_state(legacy=False)


def _digest(array):
    data = np.ascontiguousarray(array)
    return hashlib.blake2b(data.reshape(-1).view(np.uint8), digest_size=16).digest()


def _in_keys(value, out):
    """The arrays and generators held (as ``Same``) inside a module's guard key."""
    if type(value) is Same:
        if isinstance(value.obj, (np.ndarray, *_GENERATORS)):
            out.append(value.obj)
    elif type(value) is tuple:
        for v in value:
            _in_keys(v, out)
    return out


def _same(a, b):
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)):
        return isinstance(b, (tuple, list)) and len(a) == len(b) and all(map(_same, a, b))
    return np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b


class Watch:
    """The state fn can reach, as it was before a traced call."""

    def __init__(self, sources):
        self.sources = sources
        self.before = sources.values()
        objects, _, stateful, self.plan = flatten(sources.roots(), sources.names)
        for m in stateful:
            _in_keys(m.__compile_guard__(), objects)
        seen, self.generators, self.arrays = set(), [], []
        for o in objects:
            if id(o) in seen:
                continue
            seen.add(id(o))
            if isinstance(o, _GENERATORS):
                self.generators.append((o, _state_of(o)))
            elif type(o) is np.ndarray and o.nbytes <= _MAX_DIGEST:
                self.arrays.append((o, _digest(o)))
        self.global_numpy = _numpy_global_state()
        self.global_python = random.getstate()

    def changed(self, op_state):
        """Why the call cannot be replayed (None when fn changed nothing it can reach);
        ``op_state``: the objects the recorded ops change themselves."""
        mine = {id(o) for o in op_state}
        what = self.sources.changed(self.before)
        if what is not None:
            return f"fn changed {what} (Python state a replay would not change)"
        for g, state in self.generators:
            if id(g) not in mine and not _same(state, _state_of(g)):
                return ("fn drew from a random generator in Python (a replay would not draw): draw inside an op "
                        "(ag.dropout_mask), or pass the values as an argument")
        if not _same(self.global_numpy, _numpy_global_state()):
            return "fn drew from NumPy's global random generator (np.random.*), which a replay would not do"
        if self.global_python != random.getstate():
            return "fn drew from Python's random module, which a replay would not do"
        for a, digest in self.arrays:
            if id(a) not in mine and not any(np.may_share_memory(a, o) for o in op_state
                                             if isinstance(o, np.ndarray)) and digest != _digest(a):
                return "fn wrote into an array it holds (not an argument) in place, which a replay would not do"
        return None
