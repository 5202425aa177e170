"""Convolution and pooling on NCHW arrays (the book's chapter after the MLPs).

Layout and semantics are PyTorch's: inputs (N, C, H, W), weights (O, C, kh, kw),
output sides ``(H + 2 pad - kh) // stride + 1`` (floored, as PyTorch does: rows
and columns a window cannot reach are ignored).  Kernel, stride and pad are
ints or (height, width) pairs.

``im2col`` and ``col2im`` are the two primitives everything rests on: im2col
lays every window out as a row (the book's layout, ``(N*OH*OW, C*kh*kw)``),
col2im adds rows back onto the image, and each is the other's VJP, so every
derivative here can be differentiated again.  Both are vectorized: im2col is
one copy of a strided view, col2im loops over the kh*kw kernel offsets only.
"""
import math
from collections import namedtuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..core.errors import ShapeError
from ..core.recording import defop
from ._util import check_allocation, value
from .reductions import mean
from .shape import reshape, transpose

__all__ = ["conv2d", "max_pool2d", "avg_pool2d", "im2col", "col2im"]

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


def _pool_window(op, shape, kernel, stride, pad):
    """A pooling window (stride defaults to the kernel); the pad may be at most half the
    kernel, as PyTorch requires, so that every window holds at least one input element."""
    win = window(op, shape, kernel, kernel if stride is None else stride, pad)
    if any(p > k // 2 for p, k in zip(win.pad, win.kernel)):
        raise ShapeError(f"{op}: pad {win.pad} must be at most half of kernel {win.kernel} (input shape "
                         f"{tuple(shape)})")
    return win


def _windows(x, win, fill):
    """A strided view (N, C, OH, OW, kh, kw) of ``x``'s windows, padded with ``fill``."""
    (ph, pw), (sh, sw) = win.pad, win.stride
    if ph or pw:
        n, c, h, w = x.shape
        padded = np.full((n, c, h + 2 * ph, w + 2 * pw), fill, dtype=x.dtype)
        padded[:, :, ph:ph + h, pw:pw + w] = x
        x = padded
    return sliding_window_view(x, win.kernel, axis=(2, 3))[:, :, ::sh, ::sw]


def _cols(x, win):
    """The book's im2col rows: (N*OH*OW, C*kh*kw), rows (n, i, j), columns (c, p, q)."""
    n, c = x.shape[:2]
    v = _windows(x, win, 0)
    return v.transpose(0, 2, 3, 1, 4, 5).reshape(n * win.out[0] * win.out[1], c * win.kernel[0] * win.kernel[1])


@defop("im2col", "cols[(n, i, j), (c, p, q)] = x_padded[n, c, i*sh + p, j*sw + q];  gx = col2im(gy)")
def _im2col(x, *, kernel, stride=1, pad=0):
    return _cols(x, window("im2col", np.shape(x), kernel, stride, pad, np.result_type(x).itemsize))


@_im2col.defvjp
def _im2col_vjp(F, gy, y, x, *, kernel, stride=1, pad=0):
    return F.col2im(gy, shape=np.shape(value(x)), kernel=kernel, stride=stride, pad=pad)


@defop("col2im", "x[n, c, i*sh + p, j*sw + q] += cols[(n, i, j), (c, p, q)], unpadded;  gcols = im2col(gy)")
def _col2im(cols, *, shape, kernel, stride=1, pad=0):
    win = window("col2im", shape, kernel, stride, pad, np.result_type(cols).itemsize)
    n, c, h, w = shape
    (kh, kw), (sh, sw), (ph, pw), (oh, ow) = win
    if np.shape(cols) != (n * oh * ow, c * kh * kw):
        raise ShapeError(f"col2im: columns of shape {np.shape(cols)} do not fit image shape {tuple(shape)} with "
                         f"kernel {win.kernel}, stride {win.stride}, pad {win.pad}: need {(n * oh * ow, c * kh * kw)}")
    g = cols.reshape(n, oh, ow, c, kh, kw).transpose(0, 3, 4, 5, 1, 2)  # (N, C, kh, kw, OH, OW)
    out = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=cols.dtype)
    for p in range(kh):  # one strided add per kernel offset; overlapping windows add up
        for q in range(kw):
            out[:, :, p:p + sh * oh:sh, q:q + sw * ow:sw] += g[:, :, p, q]
    return out[:, :, ph:ph + h, pw:pw + w] if ph or pw else out


@_col2im.defvjp
def _col2im_vjp(F, gy, y, cols, *, shape, kernel, stride=1, pad=0):
    return F.im2col(gy, kernel=kernel, stride=stride, pad=pad)


def im2col(x, kernel, stride=1, pad=0):
    """Every ``kernel``-sized window of the zero-padded NCHW ``x`` as a row.

    The book's ``im2col(input_data, filter_h, filter_w, stride, pad)`` layout:
    shape (N*OH*OW, C*kh*kw), rows ordered (n, i, j) and columns (c, p, q), with
    ``OH = (H + 2 pad - kh) // stride + 1`` (floored) and likewise ``OW``.

    Parameters
    ----------
    x : array_like or Tensor
        The images, (N, C, H, W).
    kernel : int or (int, int)
        The window's (height, width), each at least 1.
    stride : int or (int, int), optional
        The step between windows (default 1; at least 1).
    pad : int or (int, int), optional
        Zeros added on each side of H and W (default 0; not negative).

    Returns
    -------
    Tensor
        The windows as rows, (N*OH*OW, C*kh*kw).

    Notes
    -----
    Derivative: one op, ``im2col``, whose VJP is ``col2im`` of ``gy`` (and
    col2im's is im2col: every derivative can be differentiated again). A kernel
    larger than the padded input, a stride below 1 or a negative pad is a
    ShapeError naming the op and the shapes; a result too large for the machine's
    memory is an ``AllocationError``, raised before allocating.

    Examples
    --------
    >>> x = ag.Tensor(np.arange(9.0).reshape(1, 1, 3, 3), requires_grad=True)
    >>> cols = ag.im2col(x, 2)
    >>> cols
    Tensor([[0. 1. 3. 4.]
     [1. 2. 4. 5.]
     [3. 4. 6. 7.]
     [4. 5. 7. 8.]], dtype=float64, op=im2col)
    >>> cols.sum().backward()
    >>> x.grad[0, 0]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    """
    return _im2col(x, kernel=kernel, stride=stride, pad=pad)


def col2im(cols, shape, kernel, stride=1, pad=0):
    """The adjoint of ``im2col``: rows added back onto their windows of an image.

    Each row is added onto its window of a zero array of NCHW ``shape`` (overlaps
    add up; the padding is cut off). It is im2col's gradient, and not its inverse
    where windows overlap.

    Parameters
    ----------
    cols : array_like or Tensor
        Rows in im2col's layout, (N*OH*OW, C*kh*kw).
    shape : sequence of int
        The image shape (N, C, H, W).
    kernel : int or (int, int)
        The window's (height, width).
    stride : int or (int, int), optional
        The step between windows (default 1).
    pad : int or (int, int), optional
        The padding im2col added, cut off here (default 0).

    Returns
    -------
    Tensor
        The image, of ``shape``.

    Notes
    -----
    Derivative: one op, ``col2im``, whose VJP is ``im2col`` of ``gy``. Rows that do
    not fit ``shape``, ``kernel``, ``stride`` and ``pad`` are a ShapeError.

    Examples
    --------
    >>> rows = ag.Tensor(np.ones((4, 4)), requires_grad=True)
    >>> img = ag.col2im(rows, (1, 1, 3, 3), 2)
    >>> img
    Tensor([[[[1. 2. 1.]
       [2. 4. 2.]
       [1. 2. 1.]]]], dtype=float64, op=col2im)
    >>> (img * np.arange(9.0).reshape(1, 1, 3, 3)).sum().backward()
    >>> rows.grad
    array([[0., 1., 3., 4.],
           [1., 2., 4., 5.],
           [3., 4., 6., 7.],
           [4., 5., 7., 8.]])
    """
    return _col2im(cols, shape=tuple(int(s) for s in shape), kernel=kernel, stride=stride, pad=pad)


def _conv_window(x, W, b, stride, pad):
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


@defop("conv2d", "y = im2col(x) @ W.reshape(O, -1).T + b, as (N, O, OH, OW);  gx = col2im(gy @ W),  "
                 "gW = gy.T @ im2col(x),  gb = sum(gy over N, OH, OW)  (hand-written: one node, im2col kept)")
def _conv2d(x, W, b, *, stride=1, pad=0):
    return _conv2d_saving(x, W, b, stride=stride, pad=pad)[0]


@_conv2d.defsave
def _conv2d_saving(x, W, b, *, stride=1, pad=0):
    """The output, and the im2col rows (the weights' gradient needs them again)."""
    win = _conv_window(x, W, b, stride, pad)
    cols = _cols(x, win)
    y = cols @ W.reshape(W.shape[0], cols.shape[1]).T  # (N*OH*OW, O); (not -1: O may be 0)
    if b is not None:
        y += b
    # contiguous NCHW: the next layer (relu, pooling) runs faster on it than on a transposed view
    return np.ascontiguousarray(y.reshape(x.shape[0], *win.out, W.shape[0]).transpose(0, 3, 1, 2)), cols


@_conv2d.defvjp(needs=True)
def _conv2d_vjp(F, gy, y, x, W, b, needs, *, stride=1, pad=0, saved=None):
    ws, (n, _, oh, ow) = np.shape(value(W)), np.shape(value(gy))
    g = F.reshape(F.transpose(gy, axes=(0, 2, 3, 1)), shape=(n * oh * ow, ws[0]))  # (N*OH*OW, O); no -1: sizes may be 0
    gx = gW = gb = None
    if needs[0]:
        gx = F.col2im(F.matmul(g, F.reshape(W, shape=(ws[0], math.prod(ws[1:])))), shape=np.shape(value(x)),
                      kernel=ws[2:], stride=stride, pad=pad)
    if needs[1]:
        cols = saved if saved is not None else F.im2col(x, kernel=ws[2:], stride=stride, pad=pad)
        gW = F.reshape(F.matmul(F.transpose(g), cols), shape=ws)
    if needs[2] and b is not None:
        gb = F.sum(gy, axis=(0, 2, 3))
    return gx, gW, gb


def conv2d(x, W, b=None, stride=1, pad=0):
    """Two-dimensional convolution of NCHW images, as ``torch.nn.functional.conv2d``.

    A cross-correlation (as in PyTorch and the book) of ``x`` with OIHW weights
    ``W`` and an optional bias ``b``, with zero padding. The output sides are
    ``OH = (H + 2 pad - kh) // stride + 1`` and likewise ``OW`` (floored: rows and
    columns a window cannot reach are ignored).

    Parameters
    ----------
    x : array_like or Tensor
        The images, (N, C, H, W).
    W : array_like or Tensor
        The weights, (O, C, kh, kw).
    b : array_like, Tensor or None, optional
        The bias, shape (O,); None: no bias.
    stride : int or (int, int), optional
        The step between windows (default 1; at least 1).
    pad : int or (int, int), optional
        Zeros added on each side of H and W (default 0; not negative).

    Returns
    -------
    Tensor
        (N, O, OH, OW), C-contiguous.

    Notes
    -----
    Derivative: one hand-written op, ``conv2d`` (im2col's rows kept for the
    weights' gradient): ``gx = col2im(gy @ W)``, ``gW = gy^T @ im2col(x)``,
    ``gb = sum(gy)`` over N, OH, OW. A channel mismatch, a kernel larger than the
    padded input, a stride below 1 or a negative pad is a ShapeError, raised before
    anything is recorded.

    Examples
    --------
    >>> x = ag.Tensor(np.arange(9.0).reshape(1, 1, 3, 3), requires_grad=True)
    >>> W = ag.Tensor(np.ones((1, 1, 2, 2)), requires_grad=True)
    >>> b = ag.Tensor(np.array([0.5]), requires_grad=True)
    >>> y = ag.conv2d(x, W, b)
    >>> y
    Tensor([[[[ 8.5 12.5]
       [20.5 24.5]]]], dtype=float64, op=conv2d)
    >>> y.sum().backward()
    >>> x.grad[0, 0]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    >>> W.grad[0, 0]
    array([[ 8., 12.],
           [20., 24.]])
    >>> b.grad
    array([4.])
    >>> ag.conv2d(x, W, pad=1).shape
    (1, 1, 4, 4)
    """
    _conv_window(value(x), value(W), None if b is None else value(b), stride, pad)  # errors before recording
    return _conv2d(x, W, b, stride=stride, pad=pad)


@defop("max_pool2d", "y = max of each window (padding -inf);  gx = gy sent to each window's first maximum  "
                     "(piecewise linear: second derivative 0 away from ties)")
def _max_pool2d(x, *, kernel, stride=None, pad=0):
    return _max_pool2d_saving(x, kernel=kernel, stride=stride, pad=pad)[0]


def _fill_low(dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


@_max_pool2d.defsave
def _max_pool2d_saving(x, *, kernel, stride=None, pad=0):
    """The output, and the position in each window of its source, by PyTorch's rule:
    the first maximum among the input's own cells (the padding never wins, even
    against -inf), or the last NaN."""
    win = _pool_window("max_pool2d", np.shape(x), kernel, stride, pad)
    k = win.kernel[0] * win.kernel[1]  # (not -1: there may be no images)
    flat = _windows(x, win, _fill_low(x.dtype)).reshape(*x.shape[:2], *win.out, k)  # (N, C, OH, OW, kh*kw)
    first = flat.argmax(axis=-1)  # NumPy's argmax takes the first of equal maxima, as PyTorch's kernel does
    if win.pad != (0, 0):
        first = _first_real_maximum(flat, first, _real_cells(x.shape, win))
    if flat.dtype.kind == "f":
        first = _last_nan(flat, first)
    return np.take_along_axis(flat, first[..., None], axis=-1)[..., 0], first


def _real_cells(shape, win):
    """(OH, OW, kh*kw): which window elements are the input's cells, not padding."""
    return _windows(np.ones((1, 1) + tuple(shape[2:]), dtype=bool), win, False).reshape(
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


@_max_pool2d.defvjp
def _max_pool2d_vjp(F, gy, y, x, *, kernel, stride=None, pad=0, saved=None):
    shape = np.shape(value(x))
    win = _pool_window("max_pool2d", shape, kernel, stride, pad)
    first = saved if saved is not None else _max_pool2d_saving(value(x), kernel=kernel, stride=stride, pad=pad)[1]
    n, c, (oh, ow), k = shape[0], shape[1], win.out, win.kernel[0] * win.kernel[1]
    # a constant of the derivative: which window element each output came from, in im2col's row layout
    picked = (first.transpose(0, 2, 3, 1)[..., None] == np.arange(k)).astype(np.result_type(value(gy)))
    rows = F.reshape(F.transpose(gy, axes=(0, 2, 3, 1)), shape=(n, oh, ow, c, 1)) * picked
    return F.col2im(F.reshape(rows, shape=(n * oh * ow, c * k)), shape=shape, kernel=win.kernel,
                    stride=win.stride, pad=win.pad)


def max_pool2d(x, kernel, stride=None, pad=0):
    """Max pooling of NCHW images, as ``torch.nn.functional.max_pool2d``.

    The padding is -inf (never the maximum), the pad may be at most half the
    kernel, and the output sides are floored.

    Parameters
    ----------
    x : array_like or Tensor
        The images, (N, C, H, W).
    kernel : int or (int, int)
        The window's (height, width).
    stride : int, (int, int) or None, optional
        The step between windows; None (default): the kernel.
    pad : int or (int, int), optional
        The -inf padding on each side (default 0; at most half the kernel).

    Returns
    -------
    Tensor
        (N, C, OH, OW), each the maximum of its window.

    Notes
    -----
    Derivative: one op, ``max_pool2d``, which sends each output's gradient to its
    source. Ties: the first maximum in the window (row-major) is the output's source
    and gets the whole gradient, as in PyTorch; a window whose maximum is -inf sends
    it to its first own -inf cell (never the padding). A NaN in a window is its
    maximum (the last NaN gets the gradient, as in PyTorch). Second derivatives are
    zero (piecewise linear), except at ties, where there is no derivative.

    Examples
    --------
    >>> x = ag.Tensor(np.array([[[[1.0, 4.0], [4.0, 3.0]]]]), requires_grad=True)
    >>> y = ag.max_pool2d(x, 2)
    >>> y
    Tensor([[[[4.]]]], dtype=float64, op=max_pool2d)
    >>> y.sum().backward()
    >>> x.grad
    array([[[[0., 1.],
             [0., 0.]]]])
    """
    _pool_window("max_pool2d", np.shape(value(x)), kernel, stride, pad)
    return _max_pool2d(x, kernel=kernel, stride=stride, pad=pad)


def avg_pool2d(x, kernel, stride=None, pad=0):
    """Average pooling of NCHW images, as ``torch.nn.functional.avg_pool2d``.

    With PyTorch's default ``count_include_pad=True``: the zero padding counts, so
    every window is divided by kh*kw. The pad may be at most half the kernel; the
    output sides are floored.

    Parameters
    ----------
    x : array_like or Tensor
        The images, (N, C, H, W).
    kernel : int or (int, int)
        The window's (height, width).
    stride : int, (int, int) or None, optional
        The step between windows; None (default): the kernel.
    pad : int or (int, int), optional
        The zero padding on each side (default 0; at most half the kernel).

    Returns
    -------
    Tensor
        (N, C, OH, OW), each the mean of its window.

    Notes
    -----
    Derivative: by the chain rule through the ops it is built from (the mean of
    im2col's rows, reshape, transpose): each window sends ``gy / (kh*kw)`` to each of
    its cells, overlapping windows adding up.

    Examples
    --------
    >>> x = ag.Tensor(np.arange(9.0).reshape(1, 1, 3, 3), requires_grad=True)
    >>> y = ag.avg_pool2d(x, 2, stride=1)
    >>> y
    Tensor([[[[2. 3.]
       [5. 6.]]]], dtype=float64, op=transpose)
    >>> y.sum().backward()
    >>> x.grad[0, 0]
    array([[0.25, 0.5 , 0.25],
           [0.5 , 1.  , 0.5 ],
           [0.25, 0.5 , 0.25]])
    """
    shape = np.shape(value(x))
    win = _pool_window("avg_pool2d", shape, kernel, stride, pad)
    rows = im2col(x, win.kernel, win.stride, win.pad)
    per_window = reshape(rows, shape=(shape[0], *win.out, shape[1], win.kernel[0] * win.kernel[1]))
    return transpose(mean(per_window, axis=-1), axes=(0, 3, 1, 2))
