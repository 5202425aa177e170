"""The NumPy kernels behind ``conv2d`` and ``max_pool2d`` (raw arrays, no graph).

Layout.  A convolution computes in the channel-major layout: its im2col columns
are ``(C*kh*kw [+1], N*OH*OW)`` (rows (c, p, q), then a row of ones that carries
the bias through the matmul; columns (n, i, j)), so one matmul gives the output
as ``(O, N, OH, OW)`` memory, handed out as its (N, O, OH, OW) view: no copy to
NCHW.  Batch norm, ReLU and pooling keep that layout (NumPy's elementwise ops
and ``empty_like`` follow their input's), every channel's values are one
contiguous run for batch norm's reductions, and the gradient reaching the
convolution's backward is already the ``(O, N*OH*OW)`` matrix its matmuls
need.  Copying windows out of a (C, N, H, W) image moves runs of OW values;
the book's (N*OH*OW, C*kh*kw) rows moved runs of kw (3 or 5).  A stride-1
convolution whose output has the input's size copies and adds whole images
instead (``conv_shifted.py``); with numba, batch norm, max pooling and those
copies and adds run as compiled loops (``compiled_kernels.py``).

Pooling with the stride equal to the kernel and no padding (the common case)
is the maximum of the kh*kw strided views of the input, one per window offset
(computed by rows when the planes lie in memory order: ``_max_by_rows``), and
its gradient goes back through the same views; every other geometry takes the
general path in ``conv.py``.  Each kernel here is checked against that
general path in tests/autograd_np/test_conv_fast.py.
"""
import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import compiled_kernels, conv_shifted, tuning

__all__ = ["by_channels", "channel_major", "conv_columns", "conv_forward", "conv_weight_grad", "conv_input_grad",
           "col2im_channel_major", "non_overlapping", "offset_views", "max_offsets", "max_offsets_grad", "scatter_to_first"]


# Two cores: NumPy's copies and elementwise loops run on one while the matmuls use every one.
# by_channels splits a loop's channels between the calling thread and one more (NumPy releases
# the GIL inside them); every element is computed by the same calls either way, so the results
# are the same bits (tests/autograd_np/test_conv_fast.py compares them).
PARALLEL_MIN = 1 << 19  # elements below which one thread is faster than handing half over
_EXECUTOR = {}  # pid -> the helper thread's executor (a forked child makes its own)


def _usable_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def by_channels(fn, channels, size):
    """``fn(lo, hi)`` over the channels ``[0, channels)``: two halves, the second on a helper
    thread, when ``size`` (elements the loop touches) is at least ``PARALLEL_MIN`` and two
    cores are usable; else one call."""
    if size < PARALLEL_MIN or channels < 2 or _usable_cores() < 2:
        fn(0, channels)
        return
    pool = _EXECUTOR.get(os.getpid())
    if pool is None:
        tuning.apply_once()  # (OpenBLAS's idle spin and glibc's trimming: see tuning.py)
        pool = _EXECUTOR.setdefault(os.getpid(), ThreadPoolExecutor(1, thread_name_prefix="autograd_np"))
    mid = channels // 2
    other = pool.submit(fn, mid, channels)
    try:
        fn(0, mid)
    finally:
        other.result()  # (its exception, if any, is raised here)


def channel_major(a):
    """The (C, N, H, W) view of an (N, C, H, W) array (and back: the same transpose)."""
    return a.transpose(1, 0, 2, 3)


def _cut(p, stride, count):
    """The slice of a padded side that offset ``p`` of ``count`` windows reads."""
    return slice(p, p + stride * (count - 1) + 1, stride)


def _padded(x, pad, dtype, out=None):
    """``x``'s channel-major view, zero-padded (a copy) when ``pad`` is not (0, 0);
    ``out``: a zero-bordered array to write the interior of (the border stays 0)."""
    xt = channel_major(x)
    (ph, pw), (c, n, h, w) = pad, xt.shape
    if not (ph or pw):
        return xt
    xp = np.zeros((c, n, h + 2 * ph, w + 2 * pw), dtype) if out is None else out
    xp[:, :, ph:ph + h, pw:pw + w] = xt
    return xp


def conv_columns(x, win, bias, dtype, out=None, padded=None):
    """im2col in the channel-major layout: ``(C*kh*kw [+1], N*OH*OW)``, rows (c, p, q)
    and, when ``bias``, a last row of ones; written into ``out`` when given (and the
    padded image into ``padded``, zero-bordered)."""
    n, c = x.shape[:2]
    (kh, kw), (sh, sw), pad, (oh, ow) = win
    k = c * kh * kw
    if out is not None and not (out.flags.c_contiguous and out.shape == (k + bool(bias), n * oh * ow)):
        raise ValueError(f"conv_columns: out must be a C-contiguous ({k + bool(bias)}, {n * oh * ow}) array "
                         f"(the copies write through its reshapes), got shape {out.shape}")
    cols = np.empty((k + bool(bias), n * oh * ow), dtype) if out is None else out
    v = cols[:k].reshape(c, kh, kw, n, oh, ow)
    xt = channel_major(x)
    images = conv_shifted.image_rows(xt) if conv_shifted.same_size(win, *x.shape[2:]) else None
    if images is not None:  # (stride 1, the input's size: shifted runs, conv_shifted.py)
        flat = conv_shifted.flat_images(x, xt)
        loops = compiled_kernels.float_kernels(flat[0], cols) if flat is not None else None
        if loops is not None:
            h, w = x.shape[2:]
            by_channels(lambda lo, hi: loops.im2col_same(*flat, cols.reshape(-1), n, h, w, kh, kw, *pad, lo, hi),
                        c, v.size)
        else:
            by_channels(lambda lo, hi: conv_shifted.shifted_copies(images[lo:hi], cols[lo * kh * kw:hi * kh * kw],
                                                                   win), c, v.size)
        if bias:
            cols[k] = 1
        return cols
    xp = _padded(x, pad, dtype, padded)

    def copy(lo, hi):  # one copy per kernel offset, runs of OW values
        for p in range(kh):
            for q in range(kw):
                v[lo:hi, p, q] = xp[lo:hi, :, _cut(p, sh, oh), _cut(q, sw, ow)]
    by_channels(copy, c, v.size)
    if bias:
        cols[k] = 1
    return cols


def _weights_matrix(W, b, dtype):
    """``W`` as (O, C*kh*kw), with the bias as one more column."""
    o, k = W.shape[0], math.prod(W.shape[1:])
    if b is None:
        return W.reshape(o, k)
    if not np.can_cast(b.dtype, dtype, "same_kind"):
        raise TypeError(f"conv2d: cannot add a bias of dtype {b.dtype} to an output of dtype {dtype}")
    Wb = np.empty((o, k + 1), dtype)
    Wb[:, :k] = W.reshape(o, k)
    Wb[:, k] = b
    return Wb


def conv_forward(x, W, b, win, cols=None, out=None, padded=None):
    """(y, cols): the convolution as one matmul over the channel-major columns; ``y``
    is the (N, O, OH, OW) view of (O, N, OH, OW) memory.  ``cols``, ``out`` and
    ``padded``: arrays to write into (a compiled step's buffers)."""
    dtype = np.result_type(x, W)
    cols = conv_columns(x, win, b is not None, dtype, cols, padded)
    y = np.matmul(_weights_matrix(W, b, dtype), cols, out=out)
    return channel_major(y.reshape(W.shape[0], x.shape[0], *win.out)), cols


def _gy_matrix(gy):
    """The output gradient as (O, N*OH*OW): a view when it is channel-major already."""
    n, o, oh, ow = gy.shape
    return channel_major(gy).reshape(o, n * oh * ow)


def conv_weight_grad(gy, cols, w_shape, bias):
    """(gW, gb) from the saved columns: one matmul; gb is its bias column."""
    k = math.prod(w_shape[1:])
    gm = _gy_matrix(gy)
    # (OpenBLAS runs the product transposed faster when the columns have more rows than the output
    # channels, e.g. 3.8 ms against 6.3 at (64, 19600) x (19600, 289); slower on (30, 57600) x
    # (57600, 26): 2.3 against 2.0)
    g = (cols @ gm.T).T if len(cols) > len(gm) else gm @ cols.T
    return g[:, :k].reshape(w_shape), (g[:, k] if bias else None)


def conv_input_grad(gy, W, x_shape, win, buffers=None):
    """gx: the columns' gradient ``W.T @ gy`` added back onto the image.  ``buffers``:
    (columns, padded image, image) arrays to write into, or None."""
    o, k = W.shape[0], math.prod(W.shape[1:])
    gcols, padded, image = buffers or (None, None, None)
    gcols = np.matmul(W.reshape(o, k).T, _gy_matrix(gy), out=gcols)
    return col2im_channel_major(gcols, x_shape, win, padded, image)


def col2im_channel_major(gcols, shape, win, padded=None, image=None):
    """Columns (C*kh*kw, N*OH*OW) added onto a zero (N, C, H, W) image (channel-major
    memory): one strided add per kernel offset; overlapping windows add up.
    ``padded`` and ``image``: (C, N, H + 2 ph, W + 2 pw) and (C, N, H, W) arrays to
    write into, or None."""
    n, c, h, w = shape
    (kh, kw), (sh, sw), (ph, pw), (oh, ow) = win
    target = image if ph or pw else padded  # (the same-size path writes the image alone: no padding)
    if conv_shifted.same_size(win, h, w) and (target is None or target.flags.c_contiguous):
        target = np.empty((c, n, h, w), gcols.dtype) if target is None else target
        loops = compiled_kernels.float_kernels(gcols, target) if gcols.flags.c_contiguous else None
        if loops is not None:
            flat, target_flat = gcols.reshape(-1), target.reshape(-1)
            by_channels(lambda lo, hi: loops.col2im_same(flat, target_flat, n, h, w, kh, kw, ph, pw, lo, hi), c,
                        gcols.size)
        else:
            images = target.reshape(c, n, h * w)
            by_channels(lambda lo, hi: conv_shifted.shifted_adds(gcols[lo * kh * kw:hi * kh * kw], images[lo:hi],
                                                                 win), c, gcols.size)
        return channel_major(target)
    gx = np.empty((c, n, h + 2 * ph, w + 2 * pw), gcols.dtype) if padded is None else padded
    out = gx if not (ph or pw) else np.empty((c, n, h, w), gcols.dtype) if image is None else image
    v = gcols.reshape(c, kh, kw, n, oh, ow)

    def add(lo, hi):
        gx[lo:hi] = 0
        for p in range(kh):
            for q in range(kw):
                gx[lo:hi, :, _cut(p, sh, oh), _cut(q, sw, ow)] += v[lo:hi, p, q]
        if out is not gx:  # the padding's share is cut off, into compact memory
            out[lo:hi] = gx[lo:hi, :, ph:ph + h, pw:pw + w]
    by_channels(add, c, v.size)
    return channel_major(out)


# --- pooling with the stride equal to the kernel, no padding -------------------------------------

def non_overlapping(win):
    """Whether ``win`` tiles the image: the stride is the kernel and there is no padding."""
    return win.stride == win.kernel and win.pad == (0, 0)


def offset_views(a, win):
    """The kh*kw strided views of ``a`` (N, C, H, W), one per window offset (p, q) in
    row-major order: view k holds element k of every window (rows and columns no
    window reaches are left out, as the output sides are floored)."""
    (kh, kw), (oh, ow) = win.kernel, win.out
    return [a[:, :, p:p + kh * oh:kh, q:q + kw * ow:kw] for p in range(kh) for q in range(kw)]


def max_offsets(x, win, out=None):
    """Each window's maximum, as the elementwise maximum of the offset views.

    ``np.maximum(a, b)`` returns ``b`` where they are equal (0.0 and -0.0 too), so
    the running maximum is passed second: a tie keeps the earlier cell's value,
    as the first maximum of a window is the output.  A NaN propagates, as it is a
    window's maximum.  The output follows ``x``'s memory layout."""
    views = offset_views(x, win)
    y = np.empty_like(views[0]) if out is None else out
    planes = _same_planes(x, y, win)
    if planes is not None:
        xp, yp = planes
        loops = compiled_kernels.float_kernels(xp, yp)
        if loops is not None:
            by_channels(lambda lo, hi: loops.max_pool(xp, yp, *win.kernel, lo, hi), len(xp), x.size)
        else:
            by_channels(lambda lo, hi: _max_by_rows(xp[lo:hi], yp[lo:hi], win.kernel), len(xp), x.size)
        return y

    def maximum(lo, hi):
        part, target = [v[:, lo:hi] for v in views], y[:, lo:hi]
        if len(part) == 1:  # a 1x1 window: a copy (an op's output never shares an input's memory)
            target[...] = part[0]
            return
        np.maximum(part[1], part[0], out=target)
        for v in part[2:]:
            np.maximum(v, target, out=target)
    by_channels(maximum, y.shape[1], x.size)
    return y


def _planes(a):
    """The (planes, H, W) view of an (N, C, H, W) array whose H x W planes lie one after
    another in memory (NCHW or channel-major), else None."""
    for t in (a, channel_major(a)):
        if t.flags.c_contiguous:
            return t.reshape(-1, *a.shape[2:])
    return None


def _same_planes(x, y, win):
    """(x's planes, y's planes) when both hold them in the same order and the windows
    tile each row (W a multiple of kw), for ``_max_by_rows``; else None."""
    (kh, kw), (_, ow) = win.kernel, win.out
    if kh * kw == 1 or x.shape[3] != kw * ow or not (x.flags.c_contiguous == y.flags.c_contiguous):
        return None
    xp, yp = _planes(x), _planes(y)
    return None if xp is None or yp is None else (xp, yp)


def _max_by_rows(xp, yp, kernel):
    """``max_offsets`` over planes: the maximum of each row's kw cells first, as
    ``np.maximum`` of the strided runs of the planes as one flat array (one long loop,
    where a view per window offset loops over rows of OW values), then of each
    window's kh row maxima.  A tie keeps the earlier cell, so the first maximum in
    row-major order is the output, as there."""
    (kh, kw), (n, h, w), oh = kernel, xp.shape, yp.shape[1]
    u = xp
    if kw > 1:
        flat, u = xp.reshape(-1), np.empty((n, h, w // kw), xp.dtype)
        row_max = u.reshape(-1)
        np.maximum(flat[1::kw], flat[0::kw], out=row_max)
        for q in range(2, kw):
            np.maximum(flat[q::kw], row_max, out=row_max)
    rows = u[:, :oh * kh].reshape(n, oh, kh, -1)
    if kh == 1:
        yp[...] = rows[:, :, 0]
        return
    np.maximum(rows[:, :, 1], rows[:, :, 0], out=yp)
    for p in range(2, kh):
        np.maximum(rows[:, :, p], yp, out=yp)


def max_offsets_grad(gy, y, x, win, buffers=None):
    """gx of ``max_offsets``: each window's gradient to its first cell equal to the
    maximum (PyTorch's rule), found from ``x`` and ``y`` (nothing was saved).  ``y``
    must hold no NaN (the caller takes the general path then): a window's last cell is
    then its maximum when no earlier one is (not compared: each strided pass costs).  A
    non-finite ``gy`` is sent with ``where`` (a product would turn ``inf * 0`` into NaN
    elsewhere).  ``buffers``: (gx, hit, left) arrays to write into (x's and y's
    shapes), or None."""
    gx = buffers[0] if buffers else np.empty_like(x, dtype=gy.dtype)
    if gy.strides != y.strides:  # (NCHW from a reshape after channel-major pooling: half the speed mixed)
        gy = _in_layout_of(y, gy)
    (kh, kw), (oh, ow) = win.kernel, win.out
    # (compiled: every array's planes in the same order, as _same_planes checks x's and y's)
    tiled = _same_planes(x, y, win) is not None and gx.flags.c_contiguous == x.flags.c_contiguous \
        == gy.flags.c_contiguous
    planes = [_planes(a) for a in (gy, y, x, gx)] if tiled else None
    loops = compiled_kernels.float_kernels(*planes) if tiled else None
    if loops is not None:
        if (kh, kw) == (2, 2):
            by_channels(lambda lo, hi: loops.max_pool_grad_2x2(*planes, lo, hi), len(planes[0]), x.size)
        else:
            by_channels(lambda lo, hi: loops.max_pool_grad(*planes, kh, kw, lo, hi), len(planes[0]), x.size)
        return gx
    hit, left = buffers[1:] if buffers else (np.empty_like(y, dtype=bool), np.empty_like(y, dtype=bool))
    gx[:, :, oh * kh:] = 0  # rows and columns no window reaches
    gx[:, :, :, ow * kw:] = 0
    views, targets = offset_views(x, win), offset_views(gx, win)
    finite = bool(np.isfinite(gy).all())

    def send(lo, hi):
        part = np.s_[:, lo:hi]
        _send_part(gy[part], y[part], [v[part] for v in views], [t[part] for t in targets], hit[part], left[part],
                   finite)
    by_channels(send, y.shape[1], x.size)
    return gx


def _in_layout_of(like, a):
    """A copy of ``a`` in the memory layout of ``like`` (of its shape)."""
    out = np.empty_like(like, dtype=a.dtype)
    np.copyto(out, a)
    return out


def _send_part(g, m, views, targets, now, done, finite):
    """``max_offsets_grad`` over some channels (whole: blocks that fit in cache are slower,
    the strided loops cost, not memory): ``done`` marks the windows whose maximum an
    earlier cell already was, ``now`` those whose maximum this cell is first."""
    last = len(views) - 1
    for k, (v, t) in enumerate(zip(views, targets)):
        if k == 0:
            mask = np.equal(v, m, out=done) if last else np.ones_like(now)
        elif k == last:
            mask = np.logical_not(done, out=now)
        else:
            mask = np.greater(np.equal(v, m, out=now), done, out=now)  # equal, and no earlier cell was
            np.logical_or(done, now, out=done)
        if finite:
            np.multiply(g, mask, out=t)
        else:
            np.copyto(t, np.where(mask, g, 0))


def scatter_to_first(gy, first, shape, win):
    """gx of max pooling for any window: ``gy`` sent to the cell ``first`` names in
    each window (its index in the window, row-major), overlapping windows adding
    up, the padding cut off: one strided add per kernel offset.  A cell no window
    picked gets +0.0, also where ``gy`` is inf or NaN (``where``, not a product)."""
    n, c, h, w = shape
    (kh, kw), (sh, sw), (ph, pw), (oh, ow) = win
    gx = np.zeros((n, c, h + 2 * ph, w + 2 * pw), gy.dtype)
    for p in range(kh):
        for q in range(kw):
            gx[:, :, _cut(p, sh, oh), _cut(q, sw, ow)] += np.where(first == p * kw + q, gy, 0)
    return gx[:, :, ph:ph + h, pw:pw + w] if ph or pw else gx
