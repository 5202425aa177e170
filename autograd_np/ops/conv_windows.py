"""Window geometry for the convolution and pooling ops (``conv.py``), the general
max pooling (every window copied out of a strided view and ``argmax``: any
kernel, stride and padding; ``conv_kernels`` has the fast paths) and average
pooling, composed of ops."""
from collections import namedtuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..core.errors import ShapeError
from ._util import check_allocation, value
from .reductions import mean
from .shape import getitem, reshape

__all__ = ["Window", "window", "pool_window", "conv_window", "windows", "book_cols", "max_pool_general",
           "avg_pool_tiled"]

# The geometry of a sliding window over an NCHW input, every entry a (height, width) pair.
Window = namedtuple("Window", "kernel stride pad out")


def _pair(op, what, v, minimum, shape):
    """``v`` (an int or a pair of ints) as a pair, each at least ``minimum``
    (``shape``: the input's, for the message)."""
    pair = (v, v) if isinstance(v, (int, np.integer)) else tuple(v) if isinstance(v, (tuple, list)) else None
    if pair is None or len(pair) != 2 or not all(isinstance(k, (int, np.integer)) and not isinstance(k, bool)
                                                 for k in pair):
        raise ShapeError(f"{op}: {what} must be an int or a pair of ints, got {v!r} (input shape {shape})")
    if min(pair) < minimum:
        raise ShapeError(f"{op}: {what} must be at least {minimum}, got {v!r} (input shape {shape})")
    return int(pair[0]), int(pair[1])


def window(op, shape, kernel, stride, pad, itemsize=8):
    """Check an NCHW ``shape`` against a window; return its ``Window``.

    ShapeError (naming ``op`` and the shapes) for a wrong ndim, a stride below 1,
    a negative pad or a kernel larger than the padded input; ``AllocationError``
    (a ShapeError and a MemoryError) when the padded image or the windows laid out
    as rows (``itemsize`` bytes each) would not fit in memory, before allocating."""
    shape = tuple(shape)
    if len(shape) != 4:
        raise ShapeError(f"{op}: the input must be 4-D (N, C, H, W), got shape {shape}")
    kernel, stride, pad = (_pair(op, "kernel", kernel, 1, shape), _pair(op, "stride", stride, 1, shape),
                           _pair(op, "pad", pad, 0, shape))
    padded = (shape[2] + 2 * pad[0], shape[3] + 2 * pad[1])
    if kernel[0] > padded[0] or kernel[1] > padded[1]:
        raise ShapeError(f"{op}: kernel {kernel} is larger than the padded input {padded} "
                         f"(input shape {shape}, pad {pad})")
    out = tuple((p - k) // s + 1 for p, k, s in zip(padded, kernel, stride))
    because = f"kernel {kernel}, stride {stride} and pad {pad} on input shape {shape}"
    check_allocation(op, "the padded image" if pad != (0, 0) else "the image", shape[:2] + padded, itemsize, because)
    check_allocation(op, "the windows as rows", (shape[0] * out[0] * out[1], shape[1] * kernel[0] * kernel[1]),
                     itemsize, because)
    return Window(kernel, stride, pad, out)


def pool_window(op, shape, kernel, stride, pad):
    """A pooling window (stride defaults to the kernel); the pad may be at most half the
    kernel, as PyTorch requires, so that every window holds at least one input element."""
    win = window(op, shape, kernel, kernel if stride is None else stride, pad)
    if any(p > k // 2 for p, k in zip(win.pad, win.kernel)):
        raise ShapeError(f"{op}: pad {win.pad} must be at most half of kernel {win.kernel} (input shape "
                         f"{tuple(shape)})")
    return win


def windows(x, win, fill):
    """A strided view (N, C, OH, OW, kh, kw) of ``x``'s windows, padded with ``fill``."""
    (ph, pw), (sh, sw) = win.pad, win.stride
    if ph or pw:
        n, c, h, w = x.shape
        padded = np.full((n, c, h + 2 * ph, w + 2 * pw), fill, dtype=x.dtype)
        padded[:, :, ph:ph + h, pw:pw + w] = x
        x = padded
    return sliding_window_view(x, win.kernel, axis=(2, 3))[:, :, ::sh, ::sw]


def book_cols(x, win):
    """The book's im2col rows: (N*OH*OW, C*kh*kw), rows (n, i, j), columns (c, p, q)."""
    n, c = x.shape[:2]
    v = windows(x, win, 0)
    return v.transpose(0, 2, 3, 1, 4, 5).reshape(n * win.out[0] * win.out[1], c * win.kernel[0] * win.kernel[1])


def _fill_low(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


def max_pool_general(x, win):
    """Any window: every window copied out and ``argmax``, with PyTorch's rule for the
    source of each output: the first maximum among the input's own cells (the
    padding never wins, even against -inf), or the last NaN."""
    k = win.kernel[0] * win.kernel[1]  # (not -1: there may be no images)
    flat = windows(x, win, _fill_low(x.dtype)).reshape(*x.shape[:2], *win.out, k)  # (N, C, OH, OW, kh*kw)
    first = flat.argmax(axis=-1)  # NumPy's argmax takes the first of equal maxima, as PyTorch's kernel does
    if win.pad != (0, 0):
        first = _first_real_maximum(flat, first, _real_cells(x.shape, win))
    if flat.dtype.kind == "f":
        first = _last_nan(flat, first)
    return np.take_along_axis(flat, first[..., None], axis=-1)[..., 0], first
def _real_cells(shape, win):
    """(OH, OW, kh*kw): which window elements are the input's cells, not padding."""
    return windows(np.ones((1, 1) + tuple(shape[2:]), dtype=bool), win, False).reshape(
        *win.out, win.kernel[0] * win.kernel[1])


def _first_real_maximum(flat, first, real):
    """``first`` moved off the padding: a window whose maximum is the padding value
    (-inf, or the integer minimum) takes its first own cell holding it."""
    best = np.take_along_axis(flat, first[..., None], axis=-1)
    return (real & (flat == best)).argmax(axis=-1)


def _last_nan(flat, first):
    """Windows holding NaN: their last NaN (PyTorch's kernel keeps the later of two NaNs)."""
    nan = np.isnan(flat)
    if not nan.any():
        return first
    last = flat.shape[-1] - 1 - nan[..., ::-1].argmax(axis=-1)
    return np.where(nan.any(axis=-1), last, first)


def conv_window(x, W, b, stride, pad):
    """Check a convolution's shapes; return its ``Window``."""
    xs, ws = np.shape(x), np.shape(W)
    if len(ws) != 4:
        raise ShapeError(f"conv2d: the weights must be 4-D (O, C, kh, kw), got shape {ws}")
    win = window("conv2d", xs, ws[2:], stride, pad)
    if xs[1] != ws[1]:
        raise ShapeError(f"conv2d: the input has {xs[1]} channels (shape {xs}) but the weights expect {ws[1]} "
                         f"(shape {ws})")
    if b is not None and np.shape(b) != (ws[0],):
        raise ShapeError(f"conv2d: the bias must have shape ({ws[0]},) for weights {ws}, got {np.shape(b)}")
    return win


def avg_pool_tiled(x, win):
    """Windows that tile the image: the mean over the window axes of a reshape (a view:
    no copy of the windows); rows and columns no window reaches are cut off first."""
    (n, c, h, w), (kh, kw), (oh, ow) = np.shape(value(x)), win.kernel, win.out
    if (oh * kh, ow * kw) != (h, w):
        x = getitem(x, (slice(None), slice(None), slice(0, oh * kh), slice(0, ow * kw)))
    return mean(reshape(x, shape=(n, c, oh, kh, ow, kw)), axis=(3, 5))
