"""im2col and col2im of stride-1 convolutions whose output has the input's size (a "same"
convolution: pad = kernel // 2) as shifted runs, for ``conv_kernels`` (raw arrays, no graph).

Kernel offset (p, q) moves every pixel of an image by d = (p - ph) * W + (q - pw) in its
flattened H*W values, so its im2col rows are one shifted copy per image and its col2im share
one shifted add: runs of H*W values, where a copy per offset of (N, OH, OW) views moves runs of
OW.  The cells that the shift takes across a row's edge or out of the image are the padding's:
zeroed after the copy, and zeroed in the columns' gradient before the add (adding +0.0 changes
no sum: a sum started at +0.0 is never -0.0), so the adds run in the same (p, q) order, the
same bits as the strided path.
"""
__all__ = ["same_size", "image_rows", "flat_images", "shifted_copies", "shifted_adds"]


def same_size(win, h, w):
    """Whether ``win`` is a stride-1 convolution whose output has the input's size."""
    (sh, sw), (oh, ow) = win.stride, win.out
    return (sh, sw) == (1, 1) and (oh, ow) == (h, w)


def image_rows(xt):
    """The (C, N, H*W) view of the channel-major view ``xt`` (C, N, H, W) of a convolution's
    input when each image's plane is one run in memory (NCHW or channel-major), else None."""
    c, n, h, w = xt.shape
    if w > 1 and xt.strides[3] != xt.itemsize or h > 1 and xt.strides[2] != w * xt.itemsize:
        return None
    return xt.reshape(c, n, h * w)


def flat_images(x, xt):
    """(the memory of ``x`` (N, C, H, W) as one flat array, the step between channels, between
    images) for the compiled copies, given its channel-major view ``xt``: NCHW or
    channel-major memory, else None."""
    for a in (x, xt):
        if a.flags.c_contiguous:
            return a.reshape(-1), xt.strides[0] // x.itemsize, xt.strides[1] // x.itemsize
    return None


def _edges(rows, win, p, q):
    """The cells of offset (p, q)'s (channels, N, H*W) rows that lie in the padding: the
    rows and columns of each image that the shift takes past an edge, set to 0."""
    (ph, pw), (h, w) = win.pad, win.out
    dp, dq = p - ph, q - pw
    images = rows.reshape(rows.shape[:2] + (h, w))
    if dp:
        images[:, :, :max(0, -dp)] = 0
        images[:, :, h - max(0, dp):] = 0
    if dq:
        images[:, :, :, :max(0, -dq)] = 0
        images[:, :, :, w - max(0, dq):] = 0


def shifted_copies(images, cols, win):
    """im2col rows ``cols`` (channels * kh * kw, N*H*W) of the channels' (channels, N,
    H*W) ``images``."""
    (kh, kw), (ph, pw), w = win.kernel, win.pad, win.out[1]
    c, n, length = images.shape
    rows = cols.reshape(c, kh * kw, n, length)
    for p in range(kh):
        for q in range(kw):
            d, dst = (p - ph) * w + (q - pw), rows[:, p * kw + q]
            if abs(d) >= length:  # (images smaller than the shift: all padding)
                dst[:] = 0
                continue
            if d >= 0:
                dst[:, :, :length - d] = images[:, :, d:]
                dst[:, :, length - d:] = 0
            else:
                dst[:, :, -d:] = images[:, :, :length + d]
                dst[:, :, :-d] = 0
            _edges(dst, win, p, q)


def shifted_adds(gcols, images, win):
    """col2im of ``gcols`` (channels * kh * kw, N*H*W) onto the channels' (channels, N,
    H*W) ``images`` (zeroed first); the padding's cells of ``gcols`` are set to 0."""
    (kh, kw), (ph, pw), w = win.kernel, win.pad, win.out[1]
    c, n, length = images.shape
    rows = gcols.reshape(c, kh * kw, n, length)
    images[:] = 0
    for p in range(kh):
        for q in range(kw):
            d, src = (p - ph) * w + (q - pw), rows[:, p * kw + q]
            if abs(d) >= length:
                continue
            _edges(src, win, p, q)
            if d >= 0:
                images[:, :, d:] += src[:, :, :length - d]
            else:
                images[:, :, :length + d] += src[:, :, -d:]
