"""The NumPy kernels behind ``batch_norm`` over images (N, C, ...): raw arrays, no graph.

Each kernel walks the channels in groups of about ``GROUP`` values: a group's
values are read from memory once, and the passes over them (the sum, the
centred copy, its dot product, the scale and shift) run on few megabytes.
A whole-array formula made five to seven passes over memory with full-size
temporaries.  The groups have fixed boundaries (a function of the shape alone)
and ``by_channels`` hands half of them to a second thread: each group is the
same NumPy calls either way, so one thread and two give the same bits.

A group is ``(g, M)`` rows, one channel's M = N*H*W values per row: a view when
memory holds them so (a convolution's channel-major output), else a copy into
the group's scratch (NCHW memory: one more pass, in cache).  Sums of a row run in
lanes (``_row_sums``: as accurate as NumPy's pairwise sum, three times as fast);
the variance and the gradient's ``sum(gy * (x - mean))`` are dot products of
centred rows (the centring kept: no ``E[x^2] - E[x]^2`` cancellation).
"""
import math

import numpy as np

from .conv_kernels import by_channels

__all__ = ["GROUP", "bn_forward", "bn_grads"]

# values per group of channels. Measured (BatchNorm2d forward + backward, two threads, quiet 2-core
# machine): 2^16 (a group in L2) took 12.7 ms on (100, 32, 28, 28), slower than the whole-array
# formula's 9.0, as the two threads traded the GIL between many small NumPy calls; 2^20 took 7.5-7.8
# (and 4.5 ms on (100, 64, 14, 14): 2^16 took 8.1), 2^19 and 2^21 a little more.
GROUP = 1 << 20
LANES = 2048  # running sums a row in _row_sums


def _channels_first(a):
    """The (C, N, ...) view of an (N, C, ...) array."""
    return np.moveaxis(a, 1, 0)


class _Groups:
    """The channel groups of an (N, C, ...) shape: ``g`` channels each (the last may have
    fewer), ``per`` values per channel."""

    def __init__(self, shape):
        self.channels, self.per = shape[1], math.prod(shape[:1] + shape[2:])
        self.g = max(1, GROUP // max(self.per, 1))
        self.count = -(-self.channels // self.g)

    def run(self, fn, size):
        """``fn(lo, hi, scratch)`` per group of channels [lo, hi), on one thread or two
        (``by_channels`` over the groups); ``scratch(i, dtype, rows)``: the first
        ``rows`` rows of this thread's i-th (g, per) array of ``dtype``, allocated
        once per thread and call."""
        g, c = self.g, self.channels

        def groups(first, last):
            arrays = {}

            def scratch(i, dtype, rows):
                if (i, dtype) not in arrays:
                    arrays[i, dtype] = np.empty((g, self.per), dtype)
                return arrays[i, dtype][:rows]
            for k in range(first, last):
                fn(k * g, min(c, (k + 1) * g), scratch)
        by_channels(groups, self.count, size)


def _rows(a_cf, lo, hi, out):
    """Channels [lo, hi) of the (C, N, ...) view ``a_cf`` as contiguous (hi - lo, M) rows:
    a view when memory holds them so, else copied into ``out``."""
    part = a_cf[lo:hi]
    if part.flags.c_contiguous:
        return part.reshape(hi - lo, -1)
    np.copyto(out.reshape(part.shape), part)
    return out


def _row_sums(rows):
    """The sum of each row of a contiguous (g, M) array: ``LANES`` running sums a row (each
    adding every LANES-th value in turn: vector adds, where NumPy's pairwise sum of a row
    runs at a third of the speed), then the pairwise sum of the lanes and of the tail.  As
    accurate as the pairwise sum of the row (about M / LANES + log2(LANES) roundings deep)."""
    g, m = rows.shape
    k = m // LANES
    if k < 2:
        return np.sum(rows, axis=1)
    sums = np.add.reduce(rows[:, :k * LANES].reshape(g, k, LANES), axis=1).sum(axis=1)
    return sums + rows[:, k * LANES:].sum(axis=1) if m % LANES else sums


def _column(v):
    return v[:, None]


def bn_forward(x, gamma, beta, eps, stats, out=None):
    """(y, mean, var, inv) of batch norm over the images ``x`` (N, C, ...), a float array.

    ``stats``: None (training: the batch's mean and biased variance, returned) or the
    (mean, var) to use (eval, in ``x``'s dtype).  ``y = (x - mean) * (gamma * inv) +
    beta`` with ``inv = 1 / sqrt(var + eps)``, in ``x``'s memory layout; ``out``: an
    array to write it into."""
    dtype = np.result_type(x, gamma, beta)
    y = np.empty_like(x, dtype=dtype) if out is None else out
    groups, c = _Groups(x.shape), x.shape[1]
    count = groups.per
    mean, var = (np.empty(c, x.dtype), np.empty(c, x.dtype)) if stats is None else stats
    inv = np.empty(c, np.result_type(var, eps))
    x_cf, y_cf = _channels_first(x), _channels_first(y)

    def normalize(lo, hi, scratch):
        n = hi - lo
        xr = _rows(x_cf, lo, hi, scratch(0, x.dtype, n))
        if stats is None:
            mean[lo:hi] = _row_sums(xr) / count
        xc = np.subtract(xr, _column(mean[lo:hi]), out=scratch(0, x.dtype, n))
        if stats is None:
            var[lo:hi] = np.vecdot(xc, xc) / count
        inv[lo:hi] = 1.0 / np.sqrt(var[lo:hi] + eps)
        scale = gamma[lo:hi] * inv[lo:hi]
        scaled = np.multiply(xc, _column(scale), out=scratch(0 if xc.dtype == np.result_type(xc, scale) else 1,
                                                             np.result_type(xc, scale), n))
        np.add(scaled.reshape(y_cf[lo:hi].shape), beta[lo:hi].reshape((n,) + (1,) * (x.ndim - 1)),
               out=y_cf[lo:hi])
    groups.run(normalize, x.size)
    return y, mean, var, inv


def bn_grads(gy, x, gamma, mean, inv, needs, training, out=None):
    """(gx, ggamma, gbeta) of batch norm from the forward's ``mean`` and ``inv`` (the batch's
    in training, the running ones in eval); None where ``needs`` says no.

    Per channel: ``s = sum(gy)``, ``d = sum(gy * (x - mean))``; ``ggamma = d * inv``,
    ``gbeta = s``; ``gx = gy * a + (x - mean) * b + c`` with ``a = gamma * inv``, ``b = -a
    * inv^2 * d / M`` and ``c = -a * s / M`` (training; eval: ``gx = gy * a``).  ``gx``
    is in ``gy``'s memory layout; ``out``: an array to write it into."""
    groups, c = _Groups(x.shape), x.shape[1]
    count = groups.per if training else 1
    sums = np.empty(c, gy.dtype)
    dots = np.empty(c, np.result_type(gy, x, mean))
    gx = None
    if needs[0]:
        gx = np.empty_like(gy, dtype=np.result_type(gy, gamma, inv)) if out is None else out
    x_cf, gy_cf, gx_cf = _channels_first(x), _channels_first(gy), None if gx is None else _channels_first(gx)

    def backward(lo, hi, scratch):
        n = hi - lo
        xr = _rows(x_cf, lo, hi, scratch(0, x.dtype, n))
        xc = np.subtract(xr, _column(mean[lo:hi]), out=scratch(0, np.result_type(xr, mean), n))
        gr = _rows(gy_cf, lo, hi, scratch(1, gy.dtype, n))
        sums[lo:hi], dots[lo:hi] = _row_sums(gr), np.vecdot(gr, xc)
        if gx is None:
            return
        scale = gamma[lo:hi] * inv[lo:hi]
        target, shape = gx_cf[lo:hi], gx_cf[lo:hi].shape
        if not training:
            np.multiply(gr.reshape(shape), scale.reshape((n,) + (1,) * (x.ndim - 1)), out=target)
            return
        g = np.multiply(gr, _column(scale), out=scratch(1 if gr.dtype == gx.dtype else 2, gx.dtype, n))
        g += np.multiply(xc, _column(-scale * inv[lo:hi] * inv[lo:hi] * dots[lo:hi] / count), out=xc)
        np.add(g.reshape(shape), (-scale * sums[lo:hi] / count).reshape((n,) + (1,) * (x.ndim - 1)), out=target)
    groups.run(backward, x.size)
    return gx, (dots * inv if needs[1] else None), (sums if needs[2] else None)
