"""Argument checks shared by every public constructor and function of ``nets``.

Each check takes the value, the argument's name and ``who`` (the class or function), and
returns the value in its canonical type or raises with a message that names all three::

    Affine: in_size must be an integer >= 1, got 64.5

A value of the wrong kind (a string for a number, a bool for an integer, None where a value
is needed) is a ``TypeError``; a value of the right kind outside the domain (a float that
is not a whole number, NaN, inf, a negative count, a probability of 1) is a ``ValueError``.
Sizes are checked against the memory available before anything is allocated.
"""
from __future__ import annotations

import math
import numbers
import os
from pathlib import Path

import numpy as np

from .memory import available_memory, size_text

__all__ = ["integer", "number", "optional_number", "flag", "optional_flag", "choice", "seed", "function", "path",
           "float_dtype", "text", "allocation", "int_list", "MAX_ELEMENTS", "instance", "fail"]

# more elements than any machine holds: refused even where the free memory is unknown
MAX_ELEMENTS = 2 ** 40
SMALL = 64 * 2 ** 20  # bytes below which the free memory is not even looked up


def fail(kind, who, name, wanted, value):
    """Raise ``kind`` (TypeError or ValueError): ``"<who>: <name> must be <wanted>, got <value>"``."""
    raise kind(f"{who}: {name} must be {wanted}, got {_shown(value)}")


def _shown(value):
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _is_bool(value):
    return isinstance(value, (bool, np.bool_))


def integer(value, name, who, low=1, high=None, wanted=None):
    """``value`` as an int in ``[low, high]``: ints and NumPy integers only (not bools, not
    floats, not even ``2.0``: a float where a count is expected is a mistake somewhere)."""
    wanted = wanted or (f"an integer >= {low}" if high is None else f"an integer in [{low}, {high}]")
    if _is_bool(value) or not isinstance(value, numbers.Real):
        fail(TypeError, who, name, wanted, value)
    if not isinstance(value, numbers.Integral):
        fail(ValueError, who, name, wanted, value)
    value = int(value)
    if value < low or (high is not None and value > high):
        fail(ValueError, who, name, wanted, value)
    return value


def _interval(low, high, low_open, high_open, optional=False):
    """``> 0 (a finite number)``, ``a number in [0, 1)``... (``None or ...`` when ``optional``)."""
    if low is not None and high is not None:
        text = f"a number in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    elif low is not None or high is not None:
        bound = f"{'>' if low_open else '>='} {low:g}" if low is not None else f"{'<' if high_open else '<='} {high:g}"
        text = f"a finite number {bound}" if optional else f"{bound} (a finite number)"
    else:
        text = "a finite number"
    return "None or " + text if optional else text


def number(value, name, who, low=None, high=None, low_open=False, high_open=False, wanted=None, inf=False):
    """``value`` as a finite float in the interval (open or closed at each end); with
    ``inf=True`` +inf is taken too (where it means "no limit")."""
    if inf and isinstance(value, numbers.Real) and not _is_bool(value) and value == math.inf:
        return math.inf
    wanted = wanted or _interval(low, high, low_open, high_open)
    if _is_bool(value) or not isinstance(value, numbers.Real):
        fail(TypeError, who, name, wanted, value)
    try:
        out = float(value)
    except OverflowError:  # an int beyond the float range
        fail(ValueError, who, name, wanted, value)
    if not math.isfinite(out):
        fail(ValueError, who, name, wanted, value)
    if low is not None and (out < low or (low_open and out == low)):
        fail(ValueError, who, name, wanted, value)
    if high is not None and (out > high or (high_open and out == high)):
        fail(ValueError, who, name, wanted, value)
    return out


def optional_number(value, name, who, low=None, high=None, low_open=False, high_open=False):
    """None, or ``number(value, ...)``."""
    if value is None:
        return None
    return number(value, name, who, low, high, low_open, high_open,
                  wanted=_interval(low, high, low_open, high_open, optional=True))


def flag(value, name, who):
    """A bool (``True``/``False`` or NumPy's): not 0/1, not a string."""
    if not _is_bool(value):
        fail(TypeError, who, name, "True or False", value)
    return bool(value)


def optional_flag(value, name, who):
    return None if value is None else flag(value, name, who)


def choice(value, name, who, options):
    """One of ``options`` (strings compared as given)."""
    if not isinstance(value, str) or value not in options:
        kind = ValueError if isinstance(value, str) else TypeError
        fail(kind, who, name, "one of " + ", ".join(repr(o) for o in options), value)
    return value


def text(value, name, who, allow_none=False):
    """A non-empty string (or None when allowed)."""
    if value is None and allow_none:
        return None
    wanted = "a non-empty string" + (" or None" if allow_none else "")
    if not isinstance(value, str):
        fail(TypeError, who, name, wanted, value)
    if not value:
        fail(ValueError, who, name, wanted, value)
    return value


def seed(value, name, who):
    """None, an integer >= 0 (or a list of them), a ``SeedSequence``, a ``BitGenerator`` or a
    ``numpy.random.Generator``: what ``numpy.random.default_rng`` takes."""
    wanted = "None, an integer >= 0 or a numpy.random.Generator"
    if value is None or isinstance(value, (np.random.Generator, np.random.SeedSequence, np.random.BitGenerator)):
        return value
    if isinstance(value, (list, tuple)) and value:
        return int_list(value, name, who, low=0)
    return integer(value, name, who, low=0, wanted=wanted)


def function(value, name, who, allow_none=False):
    if (value is None and allow_none) or callable(value):
        return value
    fail(TypeError, who, name, "a function" + (" or None" if allow_none else ""), value)


def path(value, name, who, allow_none=False, folder_ok=False):
    """A str or ``os.PathLike`` naming a file (not empty; not a folder that exists, unless
    ``folder_ok``: the caller says so itself)."""
    if value is None and allow_none:
        return None
    wanted = "a file path (str or os.PathLike)" + (" or None" if allow_none else "")
    if not isinstance(value, (str, os.PathLike)):
        fail(TypeError, who, name, wanted, value)
    text_ = os.fspath(value)
    if isinstance(text_, bytes) or not text_ or "\0" in text_:
        fail(ValueError, who, name, wanted, value)
    if not folder_ok and Path(text_).is_dir():
        fail(ValueError, who, name, "a file path, not a folder", value)
    return value


def float_dtype(value, name, who):
    """A floating-point NumPy dtype (``np.float32``, ``"float64"``...)."""
    wanted = "a floating-point dtype such as np.float32 or np.float64"
    try:
        dtype = np.dtype(value) if value is not None else None
    except (TypeError, ValueError):
        dtype = None
    if dtype is None or dtype.kind != "f":
        fail(TypeError, who, name, wanted, value)
    return dtype


def int_list(value, name, who, min_len=1, low=1):
    """A list or tuple (or 1-d integer array) of at least ``min_len`` integers >= ``low``."""
    wanted = f"a list of at least {min_len} integers >= {low}"
    if isinstance(value, np.ndarray) and value.ndim == 1:
        value = value.tolist()
    if not isinstance(value, (list, tuple)):
        fail(TypeError, who, name, wanted, value)
    if len(value) < min_len:
        fail(ValueError, who, name, wanted, value)
    out = []
    for i, v in enumerate(value):
        if _is_bool(v) or not isinstance(v, numbers.Real):
            fail(TypeError, who, name, wanted + f" (item {i} is {_shown(v)})", list(value))
        if not isinstance(v, numbers.Integral) or v < low:
            fail(ValueError, who, name, wanted + f" (item {i} is {_shown(v)})", list(value))
        out.append(int(v))
    return out


def allocation(who, args: str, elements: int, bytes_per_element: int):
    """Refuse, before allocating, ``elements`` array elements needing ``bytes_per_element``
    bytes each at the peak (the array and its temporaries): more than ``MAX_ELEMENTS``, or
    more bytes than this process may still allocate.  ``args`` names the arguments at fault
    with their values, e.g. ``"in_size=1000000 and out_size=1000000"``."""
    need = elements * bytes_per_element
    if need < SMALL:
        return
    if elements > MAX_ELEMENTS:
        raise ValueError(f"{who}: {args} make {elements:,} elements (about {size_text(need)} of memory), more than "
                         f"the {MAX_ELEMENTS:,} any machine holds")
    free = available_memory()
    if free is not None and need > free:
        raise ValueError(f"{who}: {args} make {elements:,} elements, about {size_text(need)} of memory to build, but "
                         f"only {size_text(free)} is available")


def instance(value, kind, name, who, wanted):
    """``value`` when it is an instance of ``kind`` (a class, e.g. ``nets.Module``); else a
    TypeError saying ``wanted`` (``"a nets.Module"``)."""
    if not isinstance(value, kind):
        fail(TypeError, who, name, wanted, value)
    return value
