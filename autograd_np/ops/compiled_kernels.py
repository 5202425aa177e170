"""Compiled loops for batch norm, max pooling and same-size convolutions' im2col and
col2im: the optional ``numba`` extra.

NumPy makes one pass over memory per operation: batch norm's forward and gradient
are five and seven operations over every value in NumPy (``norm_kernels``), where a
loop per channel reads them twice each; max pooling's gradient builds masks per
window offset, and a convolution's im2col and col2im are a copy and an add per
kernel offset over all channels (``conv_kernels``), where a loop per image keeps
its values in cache.  With numba installed (``pip install
'autograd_np[numba]'``) these loops run compiled; without it, or with the
environment variable ``AUTOGRAD_NP_KERNELS=numpy``, the NumPy kernels run.  They
are the default of a plain install and the reference the tests compare these
against (tests/autograd_np/test_compiled_kernels.py).

Each loop takes a range of channels (or image planes) ``[lo, hi)`` and releases
the GIL, so ``by_channels`` splits the work between two threads as it does for
NumPy's loops.  A channel is computed by one thread in a fixed order: one thread
or two give the same bits.

What matches NumPy's kernels bit for bit: max pooling (comparisons only; a tie
keeps the earlier cell, a NaN propagates, as ``np.maximum`` does), im2col (a
copy) and col2im (the same sums in the same order), and batch norm's elementwise
formulas given the same statistics.  The statistics differ
in rounding only: float32 sums accumulate in float64 here (more accurate than
the NumPy kernels' float32 sums).  Batch norm runs here for float32 only;
float64 (gradient checks) keeps the NumPy kernels.
"""
import os

import numpy as np

__all__ = ["ENV", "enabled", "using", "batch_norm_kernels", "float_kernels"]

ENV = "AUTOGRAD_NP_KERNELS"  # "numpy": the NumPy kernels even where numba is installed
_CHOICES = ("numba", "numpy")
_state = {"choice": None, "kernels": None}


def _load():
    """The compiled kernels (compiled on first use, cached on disk by numba), or None
    without numba."""
    if _state["kernels"] is None:
        try:
            from . import _numba_loops
        except ImportError:  # (numba not installed: the NumPy kernels)
            _state["kernels"] = False
        else:
            _state["kernels"] = _numba_loops
    return _state["kernels"] or None


def enabled():
    """Whether the compiled kernels run: numba is importable and neither ``using("numpy")``
    nor ``AUTOGRAD_NP_KERNELS=numpy`` turned them off."""
    choice = _state["choice"] or os.environ.get(ENV, "numba").strip().lower() or "numba"
    if choice not in _CHOICES:
        raise ValueError(f"{ENV}={os.environ.get(ENV)!r}: expected one of {', '.join(_CHOICES)}")
    return choice == "numba" and _load() is not None


class using:
    """``with using("numpy"):`` (or ``"numba"``) runs the block with those kernels; a test's
    and a benchmark's switch.  ``using("numba")`` raises ImportError without numba."""

    def __init__(self, choice):
        if choice not in _CHOICES:
            raise ValueError(f"using({choice!r}): expected one of {', '.join(_CHOICES)}")
        if choice == "numba" and _load() is None:
            raise ImportError("the compiled kernels need numba: pip install 'autograd_np[numba]'")
        self.choice = choice

    def __enter__(self):
        self.before, _state["choice"] = _state["choice"], self.choice
        return self

    def __exit__(self, *exc):
        _state["choice"] = self.before


def _channel_rows(a_cf):
    """The (C, N, M) view of a (C, N, ...) view whose trailing axes merge without a copy,
    else None."""
    step = a_cf.itemsize
    for size, stride in zip(reversed(a_cf.shape[2:]), reversed(a_cf.strides[2:])):
        if size > 1 and stride != step:
            return None
        step *= size
    return a_cf.reshape(a_cf.shape[:2] + (-1,))  # (a view: the axes merge)


def batch_norm_kernels(*arrays):
    """The compiled batch norm loops and the (C, N, M) views of ``arrays`` ((C, N, ...)
    views), when they run here: enabled, every array float32 and viewable so; else None."""
    if not enabled() or any(a.dtype != np.float32 for a in arrays):
        return None
    views = [_channel_rows(a) for a in arrays]
    return None if any(v is None for v in views) else (_load(), views)


def float_kernels(*arrays):
    """The compiled loops, when they run for these arrays (max pooling's planes, a
    convolution's flat images and columns): float32 or float64, one dtype; else None."""
    if not enabled() or any(a is None for a in arrays) or arrays[0].dtype not in (np.float32, np.float64) \
            or len({a.dtype for a in arrays}) > 1:
        return None
    return _load()
