"""Argument checks shared by every public constructor of ``nets`` and by ``fit``.

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

from .memory import available_memory

__all__ = ["integer", "number", "optional_number", "flag", "optional_flag", "choice", "seed", "function", "path",
           "float_dtype", "text", "allocation", "int_list", "MAX_ELEMENTS", "module", "fit_arguments", "finite_data",
           "one_sample_batches"]

# more elements than any machine holds: refused even where the free memory is unknown
MAX_ELEMENTS = 2 ** 40
SMALL = 64 * 2 ** 20  # bytes below which the free memory is not even looked up


def _fail(kind, who, name, wanted, value):
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
        _fail(TypeError, who, name, wanted, value)
    if not isinstance(value, numbers.Integral):
        _fail(ValueError, who, name, wanted, value)
    value = int(value)
    if value < low or (high is not None and value > high):
        _fail(ValueError, who, name, wanted, value)
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
        _fail(TypeError, who, name, wanted, value)
    try:
        out = float(value)
    except OverflowError:  # an int beyond the float range
        _fail(ValueError, who, name, wanted, value)
    if not math.isfinite(out):
        _fail(ValueError, who, name, wanted, value)
    if low is not None and (out < low or (low_open and out == low)):
        _fail(ValueError, who, name, wanted, value)
    if high is not None and (out > high or (high_open and out == high)):
        _fail(ValueError, who, name, wanted, value)
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
        _fail(TypeError, who, name, "True or False", value)
    return bool(value)


def optional_flag(value, name, who):
    return None if value is None else flag(value, name, who)


def choice(value, name, who, options):
    """One of ``options`` (strings compared as given)."""
    if not isinstance(value, str) or value not in options:
        kind = ValueError if isinstance(value, str) else TypeError
        _fail(kind, who, name, "one of " + ", ".join(repr(o) for o in options), value)
    return value


def text(value, name, who, allow_none=False):
    """A non-empty string (or None when allowed)."""
    if value is None and allow_none:
        return None
    wanted = "a non-empty string" + (" or None" if allow_none else "")
    if not isinstance(value, str):
        _fail(TypeError, who, name, wanted, value)
    if not value:
        _fail(ValueError, who, name, wanted, value)
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
    _fail(TypeError, who, name, "a function" + (" or None" if allow_none else ""), value)


def path(value, name, who, allow_none=False, folder_ok=False):
    """A str or ``os.PathLike`` naming a file (not empty; not a folder that exists, unless
    ``folder_ok``: the caller says so itself)."""
    if value is None and allow_none:
        return None
    wanted = "a file path (str or os.PathLike)" + (" or None" if allow_none else "")
    if not isinstance(value, (str, os.PathLike)):
        _fail(TypeError, who, name, wanted, value)
    text_ = os.fspath(value)
    if isinstance(text_, bytes) or not text_ or "\0" in text_:
        _fail(ValueError, who, name, wanted, value)
    if not folder_ok and Path(text_).is_dir():
        _fail(ValueError, who, name, "a file path, not a folder", value)
    return value


def float_dtype(value, name, who):
    """A floating-point NumPy dtype (``np.float32``, ``"float64"``...)."""
    wanted = "a floating-point dtype such as np.float32 or np.float64"
    try:
        dtype = np.dtype(value) if value is not None else None
    except (TypeError, ValueError):
        dtype = None
    if dtype is None or dtype.kind != "f":
        _fail(TypeError, who, name, wanted, value)
    return dtype


def int_list(value, name, who, min_len=1, low=1):
    """A list or tuple (or 1-d integer array) of at least ``min_len`` integers >= ``low``."""
    wanted = f"a list of at least {min_len} integers >= {low}"
    if isinstance(value, np.ndarray) and value.ndim == 1:
        value = value.tolist()
    if not isinstance(value, (list, tuple)):
        _fail(TypeError, who, name, wanted, value)
    if len(value) < min_len:
        _fail(ValueError, who, name, wanted, value)
    out = []
    for i, v in enumerate(value):
        if _is_bool(v) or not isinstance(v, numbers.Real):
            _fail(TypeError, who, name, wanted + f" (item {i} is {_shown(v)})", list(value))
        if not isinstance(v, numbers.Integral) or v < low:
            _fail(ValueError, who, name, wanted + f" (item {i} is {_shown(v)})", list(value))
        out.append(int(v))
    return out


def _bytes(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"


def allocation(who, args: str, elements: int, bytes_per_element: int):
    """Refuse, before allocating, ``elements`` array elements needing ``bytes_per_element``
    bytes each at the peak (the array and its temporaries): more than ``MAX_ELEMENTS``, or
    more bytes than this process may still allocate.  ``args`` names the arguments at fault
    with their values, e.g. ``"in_size=1000000 and out_size=1000000"``."""
    need = elements * bytes_per_element
    if need < SMALL:
        return
    if elements > MAX_ELEMENTS:
        raise ValueError(f"{who}: {args} make {elements:,} elements (about {_bytes(need)} of memory), more than "
                         f"the {MAX_ELEMENTS:,} any machine holds")
    free = available_memory()
    if free is not None and need > free:
        raise ValueError(f"{who}: {args} make {elements:,} elements, about {_bytes(need)} of memory to build, but "
                         f"only {_bytes(free)} is available")


# --- fit -----------------------------------------------------------------------------------------

def module(value, name, who):
    from ..layers.module import Module  # (imported here: nets.module's users import this module)
    if not isinstance(value, Module):
        _fail(TypeError, who, name, "a nets.Module", value)
    return value


def fit_arguments(model, optimizer, a: dict):
    """Check ``fit``'s arguments (``a``: its keyword arguments by name) before anything is done."""
    who = "fit"
    module(model, "model", who)
    if not (callable(getattr(optimizer, "step", None)) and callable(getattr(optimizer, "zero_grad", None))):
        _fail(TypeError, who, "optimizer", "an optimizer with step() and zero_grad(), e.g. nets.optim.Adam(model)",
              optimizer)
    stepped = getattr(optimizer, "params", None)
    mine = {id(p) for p in model.parameters()}
    if isinstance(stepped, list) and not any(id(p) in mine for p in stepped):
        raise ValueError(f"{who}: optimizer steps {len(stepped)} tensors, none of them the model's: make it with "
                         "this model's parameters, e.g. nets.optim.Adam(model)" if stepped else
                         f"{who}: optimizer has no parameters (it was made for update(params, grads)); make it "
                         "with the model's, e.g. nets.optim.Adam(model)")
    for name in ("epochs", "batch_size", "eval_batch_size"):
        integer(a[name], name, who)
    if a["seed"] is not None:
        integer(a["seed"], "seed", who, low=0, wanted="None or an integer >= 0")
    for name in ("shuffle", "drop_last", "verbose", "resume", "compile"):
        flag(a[name], name, who)
    optional_flag(a["progress"], "progress", who)
    callbacks = a["callbacks"]
    if callbacks is not None and not hasattr(callbacks, "on_epoch_end") and (
            isinstance(callbacks, (str, bytes)) or not hasattr(callbacks, "__iter__")):
        _fail(TypeError, who, "callbacks", "None, a nets.Callback or a list of them", callbacks)
    path(a["checkpoint"], "checkpoint", who, allow_none=True, folder_ok=True)
    if a["resume"] and a["checkpoint"] is None:
        raise ValueError(f"{who}: resume=True needs checkpoint=<path>, the file to resume from")
    function(a["log"], "log", who, allow_none=True)
    from ..distributed import World
    if a["distributed"] is not None and not isinstance(a["distributed"], World):
        flag(a["distributed"], "distributed", who)  # (1 would pass for True in distributed's own check)


def finite_data(who, part, x, t):
    """Refuse NaN or infinite values in a data set's ``x`` or ``t``, naming the rows: one sum
    per array when every value is finite (the exact check runs only when the sum is not)."""
    for name, arr in (("x", x), ("t", t)):
        if arr.dtype.kind not in "fc" or arr.size == 0:
            continue
        with np.errstate(all="ignore"):
            if np.isfinite(np.add.reduce(arr, axis=None)):
                continue
        rows = np.flatnonzero(~np.isfinite(arr.reshape(len(arr), -1)).all(axis=1))
        if len(rows):
            shown = ", ".join(map(str, rows[:10])) + (", ..." if len(rows) > 10 else "")
            raise ValueError(f"{who}: {part}'s {name} holds NaN or infinite values in {len(rows)} "
                             f"row{'s' if len(rows) > 1 else ''} ({shown}); remove or replace them (the loss of "
                             "such a row is NaN, whatever the learning rate)")


def _shard_sizes(n, ranks):
    """The sizes of the ranks' slices of a batch of ``n`` (as ``World.shard_range`` cuts it)."""
    return {(r + 1) * n // ranks - r * n // ranks for r in range(ranks)}


def one_sample_batches(model, n, batch_size, drop_last, ranks=1, loader=False):
    """Why training ``model`` on ``n`` samples in batches of ``batch_size`` would give a batch
    norm layer one sample (a message), or None.  On several ranks a rank's slice of a batch counts."""
    from ..layers.basic import BatchNorm
    names = [name or "<root>" for name, m in model.named_modules() if isinstance(m, BatchNorm)]
    if not names:
        return None
    last = n % batch_size if not drop_last else 0
    sizes = ({batch_size} if n >= batch_size else set()) | ({last} if last else set())
    if not any(1 in _shard_sizes(size, ranks) for size in sizes):
        return None
    what = ("every batch" if batch_size == 1 else "the last batch of each epoch" if last == 1 and ranks == 1
            else f"a rank's share of a batch on {ranks} ranks")
    fix = ("drop_last=True or another batch_size" if batch_size > 1 else "a batch_size of 2 or more")
    return (f"the model has batch normalization ({', '.join(names)}), and {what} would hold 1 sample ({n} samples, "
            f"batch_size={batch_size}): the statistics of one sample are undefined in training (PyTorch raises "
            f"'Expected more than 1 value per channel when training'); "
            f"{'make the DataLoader with ' if loader else 'pass '}{fix}")
