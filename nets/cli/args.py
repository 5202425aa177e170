"""Argument checks for ``python -m nets``: value types, memory estimates, writable paths.

Every check raises ``UsageError`` (or ``argparse.ArgumentTypeError`` inside an
argparse ``type``) with a one-line message; ``nets.cli.program.main`` prints it and
exits with status 2.  Nothing here trains, loads data or allocates a model:
it runs before any of that.
"""
from __future__ import annotations

import argparse
import math
import os
import re
import tempfile
from pathlib import Path

from ..util.memory import available_memory, size_text

__all__ = ["UsageError", "layers", "size_list", "integer", "real", "seed", "path_text", "check_model_size", "output_folder",
           "output_file", "available_memory", "MAX_SEED", "MAX_PARAMETERS", "MAX_LAYERS"]

MAX_SEED = 2 ** 32 - 1          # numpy's legacy np.random.seed range; Generators accept it too
MAX_PARAMETERS = 2 ** 31        # 8 GiB of float32 weights, whatever the machine has
MAX_LAYERS = 1000
_SIZE = re.compile(r"[0-9]{1,12}\Z")


class UsageError(Exception):
    """A bad command-line argument; printed as one line."""


def _bad(message):
    return argparse.ArgumentTypeError(message)


def shown(text: str, limit: int = 40) -> str:
    """``repr(text)``, cut to ``limit`` characters (a 4,000-digit number stays one short line)."""
    r = repr(text)
    return r if len(r) <= limit else r[:limit - 4] + "...'"


def size_list(option: str, at_least: int, example: str, most: int):
    """An argparse type: comma-separated positive sizes (ASCII digits, no empty items), at
    least ``at_least`` and at most ``most`` of them; errors name ``option`` and show ``example``."""
    def parse(text: str) -> list[int]:
        if not text.strip():
            raise _bad(f"{option} is empty: give comma-separated sizes like {example}")
        sizes = []
        for i, item in enumerate(text.split(","), 1):
            item = item.strip()
            if not item:
                raise _bad(f"{option} {shown(text)} has an empty size (item {i}): "
                           f"give comma-separated sizes like {example}")
            if not _SIZE.match(item):
                raise _bad(f"{option} must be comma-separated integers like {example}, got {shown(text)} "
                           f"(item {i}: {shown(item, 20)})")
            sizes.append(int(item))
        if len(sizes) < at_least or min(sizes) <= 0:
            wanted = "at least two positive sizes (input,...,classes)" if at_least == 2 else "positive sizes"
            raise _bad(f"{option} needs {wanted}, got {shown(text)}")
        if len(sizes) > most:
            raise _bad(f"{option} has {len(sizes)} sizes, more than {most}")
        return sizes
    return parse


layers = size_list("--layers", 2, "64,128,10", MAX_LAYERS)
layers.__doc__ = """``--layers 64,128,10``: at least two positive sizes, ASCII digits, no empty items."""


def integer(lo: int, hi: int, wanted: str):
    """An argparse type: an integer in [lo, hi]; ``wanted`` words the error."""
    def parse(text):
        try:
            value = int(text.strip()) if re.fullmatch(r"\s*[+-]?[0-9]+\s*", text) else None
        except ValueError:  # more digits than Python converts
            value = None
        if value is None or not lo <= value <= hi:
            raise _bad(f"expected {wanted}, got {shown(text)}")
        return value
    return parse


def real(ok, wanted: str):
    """An argparse type: a finite float for which ``ok(value)`` holds (nan and inf never pass)."""
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise _bad(f"expected {wanted}, got {shown(text)}") from None
        if not math.isfinite(value) or not ok(value):
            raise _bad(f"expected {wanted}, got {shown(text)}")
        return value
    return parse


seed = integer(0, MAX_SEED, f"a seed from 0 to {MAX_SEED}")


def path_text(text: str) -> str:
    """An argparse type for paths: not empty, no NUL byte."""
    if not text.strip():
        raise _bad("expected a path, got an empty string")
    if "\0" in text:
        raise _bad("a path cannot contain a NUL byte")
    return text


# --- memory -----------------------------------------------------------------------------------

def check_model_size(sizes, batch: int, itemsize: int = 4, copies: int = 6, flag: str = "--layers"):
    """Refuse a network too large to build: more than ``MAX_PARAMETERS`` parameters, or an
    estimate of its memory (``copies`` arrays per parameter: weights, gradients, optimizer
    slots, initialization; activations of ``batch`` rows) above the memory available."""
    params = sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))
    need = params * itemsize * copies + batch * sum(sizes) * itemsize * 8
    shown = ",".join(map(str, sizes))
    if params > MAX_PARAMETERS:
        raise UsageError(f"{flag} {shown}: {params:,} parameters (about {size_text(need)} to train), more than the "
                         f"{MAX_PARAMETERS:,} this command builds")
    free = available_memory()
    if free is not None and need > free:
        raise UsageError(f"{flag} {shown}: {params:,} parameters and a batch of {batch} need about {size_text(need)} "
                         f"of memory, but only {size_text(free)} is available")
    return params


# --- paths ------------------------------------------------------------------------------------

def _probe(folder: Path, flag: str, shown):
    """Create and delete a file in ``folder``, so that a read-only place fails now."""
    try:
        fd, name = tempfile.mkstemp(prefix=".nets-write-test.", dir=folder)
        os.close(fd)
        os.unlink(name)
    except OSError as exc:
        raise UsageError(f"{flag} {shown}: cannot write in {folder}: {exc.strerror or exc}") from None


def output_folder(path, flag: str = "--out", files=()) -> Path:
    """An output folder, created (with its parents) and probed for writing, whose ``files``
    are not folders (or anything but regular files), so that writing them cannot fail later."""
    out = Path(path)
    try:
        if out.exists() and not out.is_dir():
            raise UsageError(f"{flag} {path}: exists and is not a folder")
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{flag} {path}: cannot create the folder: {exc.strerror or exc}") from None
    _probe(out, flag, path)
    for name in files:
        _not_in_the_way(out / name, flag, path)
    return out


def _not_in_the_way(p: Path, flag: str, shown):
    try:
        if p.is_symlink() and not p.exists():
            raise UsageError(f"{flag} {shown}: {p} is a broken symbolic link; remove it")
        if p.exists() and not p.is_file():
            what = "a folder" if p.is_dir() else "not a regular file"
            raise UsageError(f"{flag} {shown}: {p} is {what}, so it cannot be written; remove it or choose "
                             f"another {flag}")
        if p.exists() and not os.access(p, os.W_OK) and not os.access(p.parent, os.W_OK):
            raise UsageError(f"{flag} {shown}: {p} cannot be replaced (permission denied)")
    except OSError as exc:
        raise UsageError(f"{flag} {shown}: {p}: {exc.strerror or exc}") from None


def output_file(path, flag: str, also=()) -> Path:
    """An output file's folder created and probed, the file itself (and the names in ``also``,
    written next to it) not in the way."""
    p = Path(path)
    if not p.name or p.name in (".", ".."):
        raise UsageError(f"{flag} {path}: a folder, not a file name")
    try:
        if p.is_dir():
            raise UsageError(f"{flag} {path}: is a folder, not a file")
        p.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{flag} {path}: cannot create the folder {p.parent}: {exc.strerror or exc}") from None
    _probe(p.parent, flag, path)
    for q in (p, *also):
        _not_in_the_way(Path(q), flag, path)
    return p
