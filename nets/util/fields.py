"""Checks of JSON values read from a file, one field at a time: each returns the value or raises
``Bad(field, problem)``, which the reader turns into an error naming the file and the field::

    runs/x/checkpoint.npz: field 'config.sizes[1]': 0 is out of range (1 to 2147483647)

The checkpoint schema (``nets.io.checkpoint_schema``) is built from these, and so are the
config schemas the layers and models declare for themselves (``nets.layers.registry``).
Unlike ``nets.util.validate`` (arguments of a Python call: NumPy integers pass, ``2.0`` is a
``ValueError``), these see only what ``json.loads`` makes: ints, floats, strings, lists, dicts.
"""
from __future__ import annotations

import json
import math

__all__ = ["Bad", "shown", "is_int", "is_number", "integer", "number", "text", "boolean", "mapping", "array_of",
           "size", "fraction", "window", "optional_window", "exactly", "MAX_NAME", "MAX_UNITS", "MAX_LAYERS"]

MAX_NAME = 256                # class names, optimizer hyper-parameter names, module names
MAX_UNITS = 2 ** 31 - 1       # one layer's size
MAX_LAYERS = 10_000


class Bad(Exception):
    """A field that fails its check: ``Bad(field, problem)``; turned into a CheckpointError."""

    def __init__(self, field, problem):
        super().__init__(field, problem)
        self.field, self.problem = field, problem


def shown(value) -> str:
    """``value`` as JSON (a string as its repr), cut to 60 characters."""
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def integer(v, field, lo=0, hi=None):
    if not is_int(v):
        raise Bad(field, f"{shown(v)} is not an integer")
    if v < lo or (hi is not None and v > hi):
        raise Bad(field, f"{v} is out of range ({lo} to {hi})" if hi is not None else f"{v} is less than {lo}")
    return v


def number(v, field, lo=None, hi=None, lo_open=False, hi_open=False):
    """A finite number (int or float, not bool) in the given range."""
    if not is_number(v):
        raise Bad(field, f"{shown(v)} is not a number")
    if not math.isfinite(v):
        raise Bad(field, f"{v} is not a finite number")
    if lo is not None and (v < lo or (lo_open and v == lo)):
        raise Bad(field, f"{v} must be {'>' if lo_open else '>='} {lo}")
    if hi is not None and (v > hi or (hi_open and v == hi)):
        raise Bad(field, f"{v} must be {'<' if hi_open else '<='} {hi}")
    return v


def text(v, field, choices=None, maxlen=MAX_NAME, lower=False):
    if not isinstance(v, str):
        raise Bad(field, f"{shown(v)} is not a string")
    if len(v) > maxlen:
        raise Bad(field, f"a string of {len(v)} characters, more than {maxlen}")
    if choices is not None and (v.lower() if lower else v) not in choices:
        raise Bad(field, f"{shown(v)} is not one of {', '.join(choices)}")
    return v


def boolean(v, field):
    if not isinstance(v, bool):
        raise Bad(field, f"{shown(v)} is not true or false")
    return v


def mapping(v, field, required=(), optional=()):
    if not isinstance(v, dict):
        raise Bad(field, f"{shown(v)} is not an object")
    missing = [k for k in required if k not in v]
    if missing:
        raise Bad(f"{field}.{missing[0]}" if field else missing[0], "missing")
    known = set(required) | set(optional)
    extra = [k for k in v if k not in known]
    if extra:
        raise Bad(f"{field}.{extra[0]}" if field else extra[0], "unexpected field")
    return v


def array_of(v, field, item, maxlen):
    if not isinstance(v, list):
        raise Bad(field, f"{shown(v)} is not a list")
    if len(v) > maxlen:
        raise Bad(field, f"a list of {len(v)} items, more than {maxlen}")
    return [item(x, f"{field}[{i}]") for i, x in enumerate(v)]


# --- the arguments of layer configs ------------------------------------------------------------

def size(v, field):
    """A layer's size: an integer from 1 to ``MAX_UNITS``."""
    return integer(v, field, lo=1, hi=MAX_UNITS)


def fraction(v, field):
    """A probability in [0, 1)."""
    return number(v, field, lo=0.0, hi=1.0, hi_open=True)


def window(minimum):
    """A kernel, stride or pad: an int >= ``minimum`` or a list of two."""
    def check(v, field):
        if isinstance(v, list):
            array_of(v, field, lambda x, f: integer(x, f, lo=minimum, hi=MAX_UNITS), 2)
            if len(v) != 2:
                raise Bad(field, f"{len(v)} values: need one int or a pair (height, width)")
            return v
        return integer(v, field, lo=minimum, hi=MAX_UNITS)
    return check


def optional_window(v, field):
    return None if v is None else window(1)(v, field)


def exactly(v, field, n):
    """``v`` (a list already checked) has ``n`` items."""
    if len(v) != n:
        raise Bad(field, f"{len(v)} values: need {n}")
    return v
