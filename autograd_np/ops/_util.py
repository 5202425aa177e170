"""Small helpers shared by the op modules (never per-op copies)."""
import math
import os

import numpy as np

from ..core import Tensor
from ..core.errors import ShapeError


def value(x):
    """The array behind a tensor (or ``x`` itself): for masks and shapes in VJPs,
    which are constants of the derivative, not part of the graph."""
    return x._data if type(x) is Tensor else x  # (_data: library code reading a shape is not a value read)


def normalize_axes(axis, ndim):
    """``axis`` (None, int or tuple) as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    return tuple(sorted(int(a) % ndim if ndim else 0 for a in axes))


def expand_reduced(F, gy, in_shape, axis, keepdims):
    """Broadcast the gradient of a reduction back to the input's shape."""
    if not keepdims:
        axes = normalize_axes(axis, len(in_shape))
        kept = tuple(1 if i in axes else n for i, n in enumerate(in_shape))
        gy = F.reshape(gy, shape=kept)
    return F.broadcast_to(gy, shape=in_shape)


def batch_size(x):
    """Rows of a batch: the first axis of a 2-D (or higher) array, 1 for a vector."""
    shape = np.shape(value(x))
    return shape[0] if len(shape) >= 2 else 1


class AllocationError(ShapeError, MemoryError):
    """An op's arguments would make it allocate more than the machine's memory: raised
    before allocating, naming the op, the argument and the size (a ``ShapeError``, and a
    ``MemoryError`` for code that catches those)."""


def _physical_memory():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not POSIX: a fixed cap
        return 1 << 40


def human_bytes(n):
    """``n`` bytes as text: ``58.2 TiB``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{n} B"
        n /= 1024
    return f"{n} B"  # (unreachable)


def check_allocation(op, what, shape, itemsize, because):
    """Raise ``AllocationError`` if an array of ``shape`` (Python integers: no overflow)
    would not fit in the machine's physical memory; ``what`` names the array and
    ``because`` the arguments that make it that large."""
    size = math.prod(int(n) for n in shape) * int(itemsize)
    limit = _physical_memory()
    if size > limit:
        raise AllocationError(f"{op}: {because} would allocate {human_bytes(size)} for {what} {tuple(shape)}, "
                              f"more than the {human_bytes(limit)} of memory of this machine")
