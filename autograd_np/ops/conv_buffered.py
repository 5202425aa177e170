"""Buffered forms of ``conv2d`` and ``max_pool2d`` for compiled steps.

A compiled step (``ag.compile``) replays the same shapes on every call, so the
geometry is checked once and the large arrays the kernels of ``conv_kernels``
write (im2col columns, the padded image, the columns' gradient, pooling's
output and comparison masks) can be allocated once.  Each class here runs those
kernels with ``out=`` arrays: the same NumPy calls in the same order as the op,
so the same numbers; the compiler (``compiler/inline.py``) checks that bitwise
on the traced call before using one, and copies any buffer before it leaves the
step.  An op offers its buffered form as the attribute ``buffered`` of its
saving forward: a function of (inputs, params) giving the object, or None
where it does not apply.
"""
import math

import numpy as np

from . import conv_kernels as kernels
from .conv_windows import pool_window, window

__all__ = ["ConvBuffers", "MaxPoolBuffers", "conv_buffers", "max_pool_buffers"]


class ConvBuffers:
    """``conv2d`` for one geometry: ``forward(x, W, b) -> (y, cols)`` and
    ``vjp(gy, y, x, W, b, cols, needs) -> (gx, gW, gb)``, the op's save and VJP."""

    def __init__(self, x, W, b, stride, pad):
        self.win = win = window("conv2d", x.shape, W.shape[2:], stride, pad)
        self.dtype = dtype = np.result_type(x, W)
        n, c, h, w = self.x_shape = x.shape
        (kh, kw), _, (ph, pw), (oh, ow) = win
        k, m = c * kh * kw, n * oh * ow
        padded = (c, n, h + 2 * ph, w + 2 * pw)
        self.padded = np.zeros(padded, dtype) if ph or pw else None
        self.cols = np.empty((k + (b is not None), m), dtype)
        self.out = np.empty((W.shape[0], m), dtype)
        self.grad = (np.empty((k, m), dtype), np.empty(padded, dtype),
                     np.empty((c, n, h, w), dtype) if ph or pw else None)
        self.buffers = [a for a in (self.padded, self.cols, self.out, *self.grad) if a is not None]

    def forward(self, x, W, b):
        return kernels.conv_forward(x, W, b, self.win, self.cols, self.out, self.padded)

    def vjp(self, gy, y, x, W, b, cols, needs):
        gx = kernels.conv_input_grad(gy, W, self.x_shape, self.win, self.grad) if needs[0] else None
        gW = gb = None
        if needs[1] or (needs[2] and b is not None):
            gW, gb = kernels.conv_weight_grad(gy, cols, W.shape, b is not None)
        return gx, gW if needs[1] else None, gb if needs[2] else None


def conv_buffers(inputs, params):
    """A ``ConvBuffers`` for a recorded conv2d's (x, W, b) and parameters, or None for
    anything but plain arrays."""
    if not all(isinstance(a, np.ndarray) for a in inputs if a is not None) or math.prod(inputs[0].shape) == 0:
        return None
    x, W, b = inputs
    return ConvBuffers(x, W, b, params.get("stride", 1), params.get("pad", 0))


class MaxPoolBuffers:
    """``max_pool2d`` over windows that tile the image: ``forward(x) -> (y, marker)``
    and ``vjp(gy, y, x, marker) -> (gx,)``."""

    def __init__(self, x, kernel, stride, pad, marker, general_vjp):
        self.win = win = pool_window("max_pool2d", x.shape, kernel, stride, pad)
        self.marker, self.general_vjp, self.kernel = marker, general_vjp, (kernel, stride, pad)
        sample = kernels.offset_views(x, win)[0]
        self.out = np.empty_like(sample)
        self.grad = (np.empty_like(x), np.empty_like(self.out, dtype=bool), np.empty_like(self.out, dtype=bool))
        self.buffers = [self.out, self.grad[0]]

    def forward(self, x):
        return kernels.max_offsets(x, self.win, self.out), self.marker

    def vjp(self, gy, y, x, saved):
        """(gx,): the op's VJP, with the buffers when no maximum is NaN (as eager, which
        takes the general path then)."""
        if y.dtype.kind == "f" and np.isnan(y).any() or gy.dtype != self.grad[0].dtype:
            kernel, stride, pad = self.kernel
            return self.general_vjp(None, gy, y, x, kernel=kernel, stride=stride, pad=pad, saved=saved),
        return kernels.max_offsets_grad(gy, y, x, self.win, self.grad),


def max_pool_buffers(marker, general_vjp):
    """The ``buffered`` factory of max_pool2d: a ``MaxPoolBuffers`` for windows that tile
    a float image, else None (the op is called as eager does)."""
    def make(inputs, params):
        x = inputs[0]
        if not isinstance(x, np.ndarray) or x.dtype.kind != "f" or x.size == 0:
            return None
        win = pool_window("max_pool2d", x.shape, params["kernel"], params.get("stride"), params.get("pad", 0))
        if not kernels.non_overlapping(win):
            return None
        return MaxPoolBuffers(x, params["kernel"], params.get("stride"), params.get("pad", 0), marker, general_vjp)
    return make
