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

A plain backward (``saved`` given) runs the fast kernels of ``conv_kernels``:
the convolution in the channel-major layout, pooling over windows that tile
the image by strided views.  Under ``create_graph`` (and in ``check_graph``)
the VJPs are composed of ops, so that they can be differentiated again; the
window geometry and the general max pooling are in ``conv_windows``.
"""
import math

import numpy as np

from ..core.errors import ShapeError
from ..core.recording import defop
from . import conv_kernels as kernels
from .conv_buffered import conv_buffers, max_pool_buffers
from ._util import value
from .conv_windows import avg_pool_tiled, book_cols, conv_window, max_pool_general, pool_window, window
from .reductions import mean
from .shape import reshape, transpose

__all__ = ["conv2d", "max_pool2d", "avg_pool2d", "im2col", "col2im"]


@defop("im2col", "cols[(n, i, j), (c, p, q)] = x_padded[n, c, i*sh + p, j*sw + q];  gx = col2im(gy)")
def _im2col(x, *, kernel, stride=1, pad=0):
    return book_cols(x, window("im2col", np.shape(x), kernel, stride, pad, np.result_type(x).itemsize))


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


@defop("conv2d", "y = im2col(x) @ W.reshape(O, -1).T + b, as (N, O, OH, OW);  gx = col2im(gy @ W),  "
                 "gW = gy.T @ im2col(x),  gb = sum(gy over N, OH, OW)  (hand-written: one node, im2col kept)")
def _conv2d(x, W, b, *, stride=1, pad=0):
    return _conv2d_saving(x, W, b, stride=stride, pad=pad)[0]


@_conv2d.defsave
def _conv2d_saving(x, W, b, *, stride=1, pad=0):
    """The output, and the im2col columns in the channel-major layout (the weights'
    gradient needs them again; ``conv_kernels``)."""
    return kernels.conv_forward(x, W, b, conv_window(x, W, b, stride, pad))


@_conv2d.defvjp(needs=True)
def _conv2d_vjp(F, gy, y, x, W, b, needs, *, stride=1, pad=0, saved=None):
    if saved is not None:  # a plain backward: arrays, and the forward's columns
        return _conv2d_kernel_grads(gy, x, W, b, needs, saved, stride, pad)
    # create_graph / check_graph: composed of ops, so that it can be differentiated again
    ws, (n, _, oh, ow) = np.shape(value(W)), np.shape(value(gy))
    g = F.reshape(F.transpose(gy, axes=(0, 2, 3, 1)), shape=(n * oh * ow, ws[0]))  # (N*OH*OW, O); no -1: sizes may be 0
    gx = gW = gb = None
    if needs[0]:
        gx = F.col2im(F.matmul(g, F.reshape(W, shape=(ws[0], math.prod(ws[1:])))), shape=np.shape(value(x)),
                      kernel=ws[2:], stride=stride, pad=pad)
    if needs[1]:
        gW = F.reshape(F.matmul(F.transpose(g), F.im2col(x, kernel=ws[2:], stride=stride, pad=pad)), shape=ws)
    if needs[2] and b is not None:
        gb = F.sum(gy, axis=(0, 2, 3))
    return gx, gW, gb


_conv2d_saving.buffered = conv_buffers  # a compiled step's form with buffers (conv_buffered.py)


def _conv2d_kernel_grads(gy, x, W, b, needs, cols, stride, pad):
    """The three gradients with the channel-major kernels: two matmuls and one add per
    kernel offset (the bias's gradient is a column of the weights' matmul)."""
    win = window("conv2d", x.shape, W.shape[2:], stride, pad)
    gx = kernels.conv_input_grad(gy, W, x.shape, win) if needs[0] else None
    gW = gb = None
    if needs[1] or (needs[2] and b is not None):
        gW, gb = kernels.conv_weight_grad(gy, cols, W.shape, b is not None)
    return gx, gW if needs[1] else None, gb if needs[2] else None


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
        (N, O, OH, OW): a view of channel-major (O, N, OH, OW) memory, the layout
        the next layers (batch norm, ReLU, pooling) and this op's backward work
        fastest in; ``np.ascontiguousarray`` gives NCHW memory.

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
    conv_window(value(x), value(W), None if b is None else value(b), stride, pad)  # errors before recording
    return _conv2d(x, W, b, stride=stride, pad=pad)


@defop("max_pool2d", "y = max of each window (padding -inf);  gx = gy sent to each window's first maximum  "
                     "(piecewise linear: second derivative 0 away from ties)")
def _max_pool2d(x, *, kernel, stride=None, pad=0):
    win = pool_window("max_pool2d", np.shape(x), kernel, stride, pad)
    if kernels.non_overlapping(win):
        return kernels.max_offsets(x, win)
    return max_pool_general(x, win)[0]


# what a max pooling over non-overlapping windows saves: nothing, its gradient finds the
# maxima again from x and y (a marker, since saved=None means create_graph's path)
_FROM_X_AND_Y = "from x and y"


@_max_pool2d.defsave
def _max_pool2d_saving(x, *, kernel, stride=None, pad=0):
    """The output, and what its gradient needs: the position in each window of its
    source (the general path), or nothing (non-overlapping windows)."""
    win = pool_window("max_pool2d", np.shape(x), kernel, stride, pad)
    if kernels.non_overlapping(win):
        return kernels.max_offsets(x, win), _FROM_X_AND_Y
    return max_pool_general(x, win)


@_max_pool2d.defvjp
def _max_pool2d_vjp(F, gy, y, x, *, kernel, stride=None, pad=0, saved=None):
    shape = np.shape(value(x))
    win = pool_window("max_pool2d", shape, kernel, stride, pad)
    if saved is _FROM_X_AND_Y and not (y.dtype.kind == "f" and np.isnan(y).any()):
        return kernels.max_offsets_grad(gy, y, x, win)
    if saved is not None:  # a plain backward with the sources saved (or NaN maxima: found again here)
        first = saved if saved is not _FROM_X_AND_Y else max_pool_general(x, win)[1]
        return kernels.scatter_to_first(gy, first, shape, win)
    # create_graph / check_graph: composed of ops, so that it can be differentiated again
    first = max_pool_general(value(x), win)[1]
    n, c, (oh, ow), k = shape[0], shape[1], win.out, win.kernel[0] * win.kernel[1]
    # a constant of the derivative: which window element each output came from, in im2col's row layout
    picked = first.transpose(0, 2, 3, 1)[..., None] == np.arange(k)
    rows = F.where(picked, F.reshape(F.transpose(gy, axes=(0, 2, 3, 1)), shape=(n, oh, ow, c, 1)), 0.0)
    return F.col2im(F.reshape(rows, shape=(n * oh * ow, c * k)), shape=shape, kernel=win.kernel,
                    stride=win.stride, pad=win.pad)


_max_pool2d_saving.buffered = max_pool_buffers(_FROM_X_AND_Y, _max_pool2d_vjp)


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
    pool_window("max_pool2d", np.shape(value(x)), kernel, stride, pad)
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
    im2col's rows, reshape, transpose; when the windows tile the image, stride equal
    to the kernel and no padding, a reshape of ``x`` and a mean over the window
    axes): each window sends ``gy / (kh*kw)`` to each of its cells, overlapping
    windows adding up.

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
    win = pool_window("avg_pool2d", np.shape(value(x)), kernel, stride, pad)
    return avg_pool_tiled(x, win) if kernels.non_overlapping(win) else avg_pool_general(x, win)


def avg_pool_general(x, win):
    """Any window: the mean of im2col's rows."""
    n, c = np.shape(value(x))[:2]
    rows = im2col(x, win.kernel, win.stride, win.pad)
    per_window = reshape(rows, shape=(n, *win.out, c, win.kernel[0] * win.kernel[1]))
    return transpose(mean(per_window, axis=-1), axes=(0, 3, 1, 2))
