"""The NumPy kernels behind ``batch_norm`` over images (N, C, ...): raw arrays, no graph.

Each kernel walks the channels in groups of about ``GROUP`` values, an even number
of groups with channel counts differing by at most one, and ``by_channels`` hands
half of them to a second thread.  The groups have fixed boundaries (a function of
the shape alone) and each group is the same NumPy calls either way, so one thread
and two give the same bits.

A group is ``(g, M)`` rows, one channel's M = N*H*W values per row: a view when
memory holds them so (a convolution's channel-major output), else a copy into
the group's scratch (NCHW memory: one more pass).  After the first pass, every
operation runs in place in the output's rows (a separate output array costs a
third more memory traffic: its lines are read before they are written).  Sums of
a row run in lanes (``_row_sums``: as accurate as NumPy's pairwise sum, three
times as fast); the variance and the gradient's ``sum(gy * (x - mean))`` are dot
products of centred rows (the centring kept: no ``E[x^2] - E[x]^2``
cancellation).  Where numba is installed, float32 batch norm runs as the compiled
loops of ``compiled_kernels`` instead.
"""
import math

import numpy as np

from . import compiled_kernels
from .conv_kernels import by_channels

__all__ = ["GROUP", "bn_forward", "bn_grads"]

# values per group of channels. Measured (BatchNorm2d(32) on (100, 32, 28, 28) forward + backward, two
# threads, 2-core machine, one interleaved run): 2^22 (one group a thread here) 4.42 ms, 2^20 4.72, 2^18
# 5.52, 2^17 and below slower still: small groups are many small NumPy calls, between which the two
# threads trade the GIL; a group in L2 gained less than that costs.
GROUP = 1 << 22
LANES = 2048  # running sums a row in _row_sums


def _channels_first(a):
    """The (C, N, ...) view of an (N, C, ...) array."""
    return np.moveaxis(a, 1, 0)


class _Groups:
    """The channel groups of an (N, C, ...) shape: an even number of groups (each thread of
    ``by_channels`` takes half) of about ``GROUP`` values each, channel counts differing
    by at most one; ``per`` values per channel."""

    def __init__(self, shape):
        self.channels, self.per = shape[1], math.prod(shape[:1] + shape[2:])
        halves = -(-self.channels * self.per // (2 * GROUP))
        self.count = min(self.channels, 2 * max(1, halves))
        # group k: channels [bounds[k], bounds[k + 1])
        self.bounds = [k * self.channels // self.count for k in range(self.count + 1)]
        self.g = -(-self.channels // self.count)

    def run(self, fn, size):
        """``fn(lo, hi, scratch)`` per group of channels [lo, hi), on one thread or two
        (``by_channels`` over the groups); ``scratch(i, dtype, rows)``: the first
        ``rows`` rows of this thread's i-th (g, per) array of ``dtype``, allocated
        once per thread and call."""
        g, bounds = self.g, self.bounds

        def groups(first, last):
            arrays = {}

            def scratch(i, dtype, rows):
                if (i, dtype) not in arrays:
                    arrays[i, dtype] = np.empty((g, self.per), dtype)
                return arrays[i, dtype][:rows]
            for k in range(first, last):
                fn(bounds[k], bounds[k + 1], scratch)
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


def _target(a_cf, lo, hi, scratch):
    """Channels [lo, hi) of the (C, N, ...) view ``a_cf`` as (hi - lo, M) rows to write:
    a view when memory holds them so, else ``scratch`` (``_store`` copies it back)."""
    part = a_cf[lo:hi]
    return part.reshape(hi - lo, -1) if part.flags.c_contiguous else scratch


def _store(a_cf, lo, hi, rows):
    """Write ``rows`` (from ``_target``) into channels [lo, hi) of ``a_cf`` unless they are
    its memory already (``_target``'s test)."""
    part = a_cf[lo:hi]
    if not part.flags.c_contiguous:
        np.copyto(part, rows.reshape(part.shape))


def _compiled(*images, gamma, **per_channel):
    """(the compiled loops, the (C, N, M) views of ``images``, the per-channel parameters
    given by name first (gamma, beta) as contiguous arrays) when batch norm runs compiled
    here (``compiled_kernels``: numba, float32 throughout), else None."""
    if any(np.asarray(v).dtype != np.float32 for v in (gamma, *per_channel.values())):
        return None
    found = compiled_kernels.batch_norm_kernels(*images)
    if found is None:
        return None
    # (copies: writable and compact, one compiled form for every caller's arrays)
    params = [np.array(p, np.float32) for p in (gamma, per_channel.get("beta")) if p is not None]
    return found + (params,)


def _broadcast(v, ndim):
    return v.reshape((len(v),) + (1,) * (ndim - 1))


def bn_forward(x, gamma, beta, eps, stats, out=None):
    """(y, mean, var, inv) of batch norm over the images ``x`` (N, C, ...), a float array.

    ``stats``: None (training: the batch's mean and biased variance, returned) or the
    (mean, var) to use (eval, in ``x``'s dtype).  ``y = (x - mean) * (gamma * inv) +
    beta`` with ``inv = 1 / sqrt(var + eps)``, in ``x``'s memory layout; ``out``: an
    array to write it into.  The passes after the first write into ``y``'s own rows in
    place (a separate output array costs a third more memory traffic)."""
    dtype = np.result_type(x, gamma, beta)
    y = np.empty_like(x, dtype=dtype) if out is None else out
    groups, c = _Groups(x.shape), x.shape[1]
    count = groups.per
    mean, var = (np.empty(c, x.dtype), np.empty(c, x.dtype)) if stats is None else stats
    inv = np.empty(c, np.result_type(var, eps))
    x_cf, y_cf = _channels_first(x), _channels_first(y)
    compiled = _compiled(x_cf, y_cf, gamma=gamma, beta=beta, mean=mean, var=var)
    if compiled is not None:
        loops, (x3, y3), (g, b) = compiled
        by_channels(lambda lo, hi: loops.bn_forward(x3, y3, g, b, mean, var, inv, eps, stats is None, lo, hi),
                    c, x.size)
        return y, mean, var, inv

    def normalize(lo, hi, scratch):
        n = hi - lo
        xr = _rows(x_cf, lo, hi, scratch(0, x.dtype, n))
        if stats is None:
            mean[lo:hi] = _row_sums(xr) / count
        # (x's copy, when it is one, is free to overwrite: (x - mean) goes there)
        yr = _target(y_cf, lo, hi, scratch(0 if dtype == x.dtype else 1, dtype, n))
        np.subtract(xr, _column(mean[lo:hi]), out=yr)
        if stats is None:
            var[lo:hi] = np.vecdot(yr, yr) / count
        inv[lo:hi] = 1.0 / np.sqrt(var[lo:hi] + eps)
        yr *= _column(gamma[lo:hi] * inv[lo:hi])
        yr += _column(beta[lo:hi])
        _store(y_cf, lo, hi, yr)
    groups.run(normalize, x.size)
    return y, mean, var, inv


def bn_grads(gy, x, gamma, mean, inv, needs, training, out=None):
    """(gx, ggamma, gbeta) of batch norm from the forward's ``mean`` and ``inv`` (the batch's
    in training, the running ones in eval); None where ``needs`` says no.

    Per channel: ``s = sum(gy)``, ``d = sum(gy * (x - mean))``; ``ggamma = d * inv``,
    ``gbeta = s``; ``gx = ((x - mean) * k + gy - s / M) * a`` with ``a = gamma * inv``
    and ``k = -inv^2 * d / M`` (training; eval: ``gx = gy * a``), computed in place in
    ``gx``'s rows.  ``gx`` is in ``gy``'s memory layout; ``out``: an array to write it
    into."""
    groups, c = _Groups(x.shape), x.shape[1]
    count = groups.per if training else 1
    sums = np.empty(c, gy.dtype)
    dots = np.empty(c, np.result_type(gy, x, mean))
    gx = None
    if needs[0]:
        gx = np.empty_like(gy, dtype=np.result_type(gy, gamma, inv)) if out is None else out
    x_cf, gy_cf, gx_cf = _channels_first(x), _channels_first(gy), None if gx is None else _channels_first(gx)
    centred = np.result_type(x, mean)
    # training: (x - mean) in gx's rows, the gradient then formed over it (gx's dtype holds
    # x - mean: inv, in it, has the dtype of x and mean there)
    in_gx = gx is not None and training
    compiled = _compiled(x_cf, gy_cf, *([] if gx is None else [gx_cf]), gamma=gamma, mean=mean, inv=inv)
    if compiled is not None:
        loops, (x3, gy3, *gx3), (g,) = compiled
        by_channels(lambda lo, hi: loops.bn_backward(gy3, x3, gx3[0] if gx3 else gy3, g, mean, inv, sums, dots,
                                                     training, gx is not None, lo, hi), c, x.size)
        return gx, (dots * inv if needs[1] else None), (sums if needs[2] else None)

    def backward(lo, hi, scratch):
        n = hi - lo
        xr = _rows(x_cf, lo, hi, scratch(0, x.dtype, n))
        gr = _rows(gy_cf, lo, hi, scratch(1, gy.dtype, n))
        xc = _target(gx_cf, lo, hi, scratch(2, gx.dtype, n)) if in_gx else scratch(2, centred, n)
        np.subtract(xr, _column(mean[lo:hi]), out=xc)
        sums[lo:hi], dots[lo:hi] = _row_sums(gr), np.vecdot(gr, xc)
        if gx is None:
            return
        scale = gamma[lo:hi] * inv[lo:hi]
        if not training:
            np.multiply(gr.reshape(gx_cf[lo:hi].shape), _broadcast(scale, x.ndim), out=gx_cf[lo:hi])
            return
        xc *= _column(-inv[lo:hi] * inv[lo:hi] * dots[lo:hi] / count)
        xc += gr
        xc += _column(-sums[lo:hi] / count)
        xc *= _column(scale)
        _store(gx_cf, lo, hi, xc)
    groups.run(backward, x.size)
    return gx, (dots * inv if needs[1] else None), (sums if needs[2] else None)
