"""Small helpers shared by the op modules (never per-op copies)."""
import numpy as np

from ..engine import Tensor


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
