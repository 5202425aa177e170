"""The loops of ``compiled_kernels``, compiled by numba (imported only when numba is).

Batch norm: float32 arrays as (C, N, M) views (channel c's values: [c, :, :]).
Max pooling: (P, H, W) planes, windows of (kh, kw) with the stride equal to the
kernel.  Every loop runs over [lo, hi) of the first axis and releases the GIL.

The sums accumulate in float64 in ``_shifted_sums`` and ``_sums_of`` only, whose
reassociation numba may vectorize (fastmath's ``reassoc``: the lanes' order is
fixed by the machine, not by the thread); the elementwise formulas have no fast
math, so they round as NumPy's ufuncs do.
"""
import numpy as np
from numba import njit

_FLAGS = dict(nogil=True, cache=True)


@njit(fastmath={"reassoc"}, **_FLAGS)
def _shifted_sums(row, shift):
    """(sum(x - shift), sum((x - shift)^2)), float64: one pass for the mean and variance,
    shifted by one of the channel's values so that sum(x^2) does not cancel against
    sum(x)^2 (the classic shifted-data formula)."""
    s = 0.0
    q = 0.0
    for v in row:
        d = np.float64(v) - shift
        s += d
        q += d * d
    return s, q


@njit(fastmath={"reassoc"}, **_FLAGS)
def _sums_of(g_row, x_row, mean):
    """(sum(g), sum(g * (x - mean))), float64."""
    s = 0.0
    d = 0.0
    for k in range(g_row.size):
        g = np.float64(g_row[k])
        s += g
        d += g * np.float64(x_row[k] - mean)
    return s, d


@njit(**_FLAGS)
def bn_forward(x, y, gamma, beta, mean, var, inv, eps, training, lo, hi):
    """Channels [lo, hi): in training the batch's ``mean`` and biased ``var`` (written; one
    pass, float64 sums), then ``inv = 1 / sqrt(var + eps)`` and ``y = (x - mean) * (gamma * inv) + beta``,
    float32 throughout (the NumPy kernels' formula and order)."""
    n, m = x.shape[1], x.shape[2]
    eps32, one = np.float32(eps), np.float32(1.0)
    for c in range(lo, hi):
        if training:
            shift, s, q = np.float64(x[c, 0, 0]), 0.0, 0.0
            for i in range(n):
                si, qi = _shifted_sums(x[c, i], shift)
                s += si
                q += qi
            offset = s / (n * m)
            mean[c] = np.float32(shift + offset)
            var[c] = np.float32(max(0.0, q / (n * m) - offset * offset))
        inv[c] = one / np.sqrt(var[c] + eps32)
        mu, scale, shift = mean[c], gamma[c] * inv[c], beta[c]
        for i in range(n):
            xr, yr = x[c, i], y[c, i]
            for k in range(m):
                yr[k] = (xr[k] - mu) * scale + shift


@njit(**_FLAGS)
def bn_backward(gy, x, gx, gamma, mean, inv, sums, dots, training, with_gx, lo, hi):
    """Channels [lo, hi): ``sums = sum(gy)``, ``dots = sum(gy * (x - mean))`` and, when
    ``with_gx``, ``gx = ((x - mean) * k + gy - sums / M) * (gamma * inv)`` with ``k =
    -inv * inv * dots / M`` (training; eval: ``gx = gy * (gamma * inv)``): the NumPy
    kernels' formula and order, float32."""
    n, m = x.shape[1], x.shape[2]
    count = np.float32(n * m) if training else np.float32(1.0)
    for c in range(lo, hi):
        mu = mean[c]
        s = 0.0
        d = 0.0
        for i in range(n):
            si, di = _sums_of(gy[c, i], x[c, i], mu)
            s += si
            d += di
        sums[c], dots[c] = np.float32(s), np.float32(d)
        if not with_gx:
            continue
        scale = gamma[c] * inv[c]
        if not training:
            for i in range(n):
                gr, out = gy[c, i], gx[c, i]
                for k in range(m):
                    out[k] = gr[k] * scale
            continue
        slope, shift = -inv[c] * inv[c] * dots[c] / count, -sums[c] / count
        for i in range(n):
            gr, xr, out = gy[c, i], x[c, i], gx[c, i]
            for k in range(m):
                out[k] = ((xr[k] - mu) * slope + gr[k] + shift) * scale


@njit(**_FLAGS)
def max_pool(xp, yp, kh, kw, lo, hi):
    """Planes [lo, hi): each window's maximum, its cells in row-major order, each taken
    as ``np.maximum(cell, running)`` (a tie keeps the earlier; a NaN propagates)."""
    oh, ow = yp.shape[1], yp.shape[2]
    for p in range(lo, hi):
        for i in range(oh):
            out = yp[p, i]
            first = xp[p, i * kh]
            for j in range(ow):
                out[j] = first[j * kw]
            for a in range(kh):
                row = xp[p, i * kh + a]
                for b in range(kw):
                    if a == 0 and b == 0:
                        continue
                    for j in range(ow):
                        v, r = row[j * kw + b], out[j]
                        out[j] = v if v > r or v != v else r


@njit(**_FLAGS)
def max_pool_grad(gyp, yp, xp, gxp, kh, kw, lo, hi):
    """Planes [lo, hi): each window's gradient to its first cell equal to its maximum
    (its last when none is: ``y`` holds no NaN, the caller checks), +0.0 to every other
    cell and to the rows and columns no window reaches."""
    oh, ow = yp.shape[1], yp.shape[2]
    h, w = xp.shape[1], xp.shape[2]
    zero = gxp.dtype.type(0)
    cells = kh * kw
    for p in range(lo, hi):
        for i in range(oh):
            m, g = yp[p, i], gyp[p, i]
            top = i * kh
            for j in range(ow):
                first = cells - 1
                for k in range(cells - 1):
                    if xp[p, top + k // kw, j * kw + k % kw] == m[j]:
                        first = k
                        break
                for k in range(cells):
                    gxp[p, top + k // kw, j * kw + k % kw] = g[j] if k == first else zero
            for a in range(kh):
                gxp[p, top + a, ow * kw:] = zero
        gxp[p, oh * kh:, :] = zero


@njit(**_FLAGS)
def max_pool_grad_2x2(gyp, yp, xp, gxp, lo, hi):
    """``max_pool_grad`` for 2x2 windows (the common case), unrolled."""
    oh, ow = yp.shape[1], yp.shape[2]
    w = xp.shape[2]
    zero = gxp.dtype.type(0)
    for p in range(lo, hi):
        for i in range(oh):
            m, g = yp[p, i], gyp[p, i]
            x0, x1, o0, o1 = xp[p, 2 * i], xp[p, 2 * i + 1], gxp[p, 2 * i], gxp[p, 2 * i + 1]
            for j in range(ow):
                mj, gj = m[j], g[j]
                s0 = x0[2 * j] == mj
                s1 = not s0 and x0[2 * j + 1] == mj
                s2 = not (s0 or s1) and x1[2 * j] == mj
                s3 = not (s0 or s1 or s2)
                o0[2 * j] = gj if s0 else zero
                o0[2 * j + 1] = gj if s1 else zero
                o1[2 * j] = gj if s2 else zero
                o1[2 * j + 1] = gj if s3 else zero
            if 2 * ow < w:
                o0[2 * ow:] = zero
                o1[2 * ow:] = zero
        gxp[p, 2 * oh:, :] = zero




# --- stride-1 convolutions whose output has the input's size (conv_kernels' shifted runs) -------
# Flat arrays: a channel's image n is a run of L = H*W values; kernel offset (p, q) moves it by
# d = (p - ph) * W + (q - pw).  The loops index views that start where the run starts: indexing
# one long array at base + k + d kept LLVM from vectorizing them (12 times slower measured).

@njit(**_FLAGS)
def _zero_wrapped(run, h, w, dq):
    """The cells of an offset's run whose column the shift takes past a row's edge."""
    if dq < 0:
        for i in range(h):
            for j in range(-dq):
                run[i * w + j] = 0
    elif dq > 0:
        for i in range(h):
            for j in range(w - dq, w):
                run[i * w + j] = 0


@njit(**_FLAGS)
def im2col_same(x, step_c, step_n, cols, n_, h, w, kh, kw, ph, pw, lo, hi):
    """Channels [lo, hi) of the flat im2col rows ``cols`` (rows (c, p, q), then (n, H*W))
    from the flat images ``x`` (channel c's image n at ``c * step_c + n * step_n``); the
    padding's cells 0: the NumPy kernels' copies, the same values."""
    size = h * w
    for c in range(lo, hi):
        for p in range(kh):
            for q in range(kw):
                d = (p - ph) * w + q - pw
                a, b = max(0, -d), size - max(0, d)
                for n in range(n_):
                    at = (((c * kh + p) * kw + q) * n_ + n) * size
                    dst = cols[at:at + size]
                    if a >= b:
                        dst[:] = 0
                        continue
                    src, out = x[c * step_c + n * step_n + a + d:c * step_c + n * step_n + b + d], dst[a:b]
                    for k in range(b - a):
                        out[k] = src[k]
                    dst[:a] = 0
                    dst[b:] = 0
                    _zero_wrapped(dst, h, w, q - pw)


@njit(**_FLAGS)
def col2im_same(gcols, gx, n_, h, w, kh, kw, ph, pw, lo, hi):
    """Channels [lo, hi) of the flat image gradient ``gx`` (C, N, H*W) from the flat columns'
    gradient ``gcols`` (rows (c, p, q), then (n, H*W)), whose padding cells are set to 0
    first: each pixel its cells added to 0 in kernel-offset order, the NumPy kernels' sums
    (the same bits: they add the padding's zeros, which change no sum started at +0.0)."""
    size = h * w
    for c in range(lo, hi):
        for n in range(n_):
            at = (c * n_ + n) * size
            image = gx[at:at + size]
            image[:] = 0
            for p in range(kh):
                for q in range(kw):
                    d = (p - ph) * w + q - pw
                    a, b = max(0, -d), size - max(0, d)
                    if a >= b:
                        continue
                    start = (((c * kh + p) * kw + q) * n_ + n) * size
                    run = gcols[start:start + size]
                    _zero_wrapped(run, h, w, q - pw)
                    out, src = image[a + d:b + d], run[a:b]
                    for k in range(b - a):
                        out[k] += src[k]
