"""Convolutional layers on NCHW images: Conv2d, MaxPool2d, AvgPool2d, BatchNorm2d.

Each is a few engine ops (``ag.conv2d``, ``ag.max_pool2d``, ``ag.avg_pool2d``,
``ag.batch_norm``), so, like every layer here, none has a hand-written
backward.  Layouts and defaults are PyTorch's: inputs (N, C, H, W), weights
(out_channels, in_channels, kh, kw), a pooling stride equal to its kernel.

    conv = nets.Conv2d(1, 30, kernel_size=5, rng=0)      # W (30, 1, 5, 5), b (30,)
    h = nets.MaxPool2d(2)(nets.ReLU()(conv(x)))           # x (N, 1, 28, 28) -> (N, 30, 12, 12)
"""
from __future__ import annotations

import numpy as np

import autograd_np as ag

from ..util import fields as _fields, validate as _v
from . import init as _init
from .basic import BATCH_NORM_CONFIG, _as_input, check_batch_norm
from .init import WEIGHT_BYTES
from .module import Module
from .registry import config_schema

_POOL_CONFIG = dict(required={"kernel_size": _fields.window(1)},
                    optional={"stride": _fields.optional_window, "pad": _fields.window(0)}, size=lambda c: 0)

__all__ = ["Conv2d", "MaxPool2d", "AvgPool2d", "BatchNorm2d"]


def _is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _window_arg(name, value, what, minimum):
    """An int, or a (height, width) pair of ints, each at least ``minimum``: an int or a
    list of two (JSON-able, for ``config``)."""
    pair = [value, value] if _is_int(value) else list(value) if isinstance(value, (tuple, list)) else None
    if pair is None or len(pair) != 2 or not all(_is_int(v) and v >= minimum for v in pair):
        raise ValueError(f"{name}: {what} must be an int >= {minimum} or a pair of them, got {value!r}")
    return int(value) if _is_int(value) else [int(v) for v in pair]


def _area(v):
    return v * v if isinstance(v, int) else v[0] * v[1]


@config_schema(required={"in_channels": _fields.size, "out_channels": _fields.size, "kernel_size": _fields.window(1)},
               optional={"stride": _fields.window(1), "pad": _fields.window(0), "init": _init.config_check},
               size=lambda c: c["out_channels"] * c["in_channels"] * _area(c["kernel_size"]) + c["out_channels"])
class Conv2d(Module):
    """2-D convolution ``y = conv2d(x, W, b, stride, pad)`` on NCHW input.

    ``Conv2d(in_channels, out_channels, kernel_size, stride=1, pad=0, init="he",
    rng=None, dtype=np.float32)``: ``W`` (out, in, kh, kw) drawn by ``init``
    ("he", "xavier" or a standard deviation) with fan-in ``in * kh * kw``, ``b``
    zeros.  ``kernel_size``, ``stride`` and ``pad`` are ints or (h, w) pairs;
    ``padding=`` (PyTorch's name) may be given instead of ``pad=``.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, pad=0, init="he", rng=None,
                 dtype=np.float32, *, padding=None):
        super().__init__()
        pad, pad_name = _padding_alias("Conv2d", pad, padding, 0)
        self.in_channels = _v.integer(in_channels, "in_channels", "Conv2d")
        self.out_channels = _v.integer(out_channels, "out_channels", "Conv2d")
        self.kernel_size = _window_arg("Conv2d", kernel_size, "kernel_size", 1)
        self.stride, self.pad = _window_arg("Conv2d", stride, "stride", 1), _window_arg("Conv2d", pad, pad_name, 0)
        self.init = init
        kh, kw = _pair_of(self.kernel_size)
        fan_in = self.in_channels * kh * kw
        std = _init.std_for(init, fan_in, "init", "Conv2d")
        rng, dtype = _init.rng_of(rng, "rng", "Conv2d"), _v.float_dtype(dtype, "dtype", "Conv2d")
        _v.allocation("Conv2d", f"in_channels={self.in_channels}, out_channels={self.out_channels} and "
                      f"kernel_size={self.kernel_size}", self.out_channels * fan_in, WEIGHT_BYTES)
        W = _init.normal((self.out_channels, self.in_channels, kh, kw), std, rng, dtype, "Conv2d", "init")
        self.W = ag.Tensor(W, requires_grad=True, name="W")
        self.b = ag.Tensor(np.zeros(self.out_channels, dtype=dtype), requires_grad=True, name="b")

    def forward(self, x):
        return ag.conv2d(_as_input(x, self.W.dtype), self.W, self.b, stride=_pair(self.stride),
                         pad=_pair(self.pad))

    def extra_repr(self):
        return f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}" + _options(self, 1)

    def config(self):
        return {"type": "Conv2d", "in_channels": self.in_channels, "out_channels": self.out_channels,
                "kernel_size": self.kernel_size, "stride": self.stride, "pad": self.pad, "init": self.init}


def _pair(v):
    return tuple(v) if isinstance(v, list) else v


def _padding_alias(who, pad, padding, default):
    """``pad``, or PyTorch's ``padding=`` given instead (both at once is an error, as a keyword
    given twice is in Python)."""
    if padding is None:
        return pad, "pad"
    if not (isinstance(pad, int) and pad == default):
        raise TypeError(f"{who}: got both pad={pad!r} and padding={padding!r}; padding is PyTorch's name for pad: "
                        "give one")
    return padding, "padding"


def _options(layer, stride_default):
    """``, stride=.., pad=..`` for the values that are not the defaults (the repr shows them)."""
    return "".join(f", {name}={value}" for name, value, default in (("stride", layer.stride, stride_default),
                                                                    ("pad", layer.pad, 0)) if value != default)


def _pair_of(v):
    return (v, v) if isinstance(v, int) else tuple(v)


class _Pool(Module):
    """Pooling over ``kernel_size`` windows (stride defaults to the kernel, as PyTorch's;
    ``padding=``, PyTorch's name, may be given instead of ``pad=``)."""

    op = None

    def __init__(self, kernel_size, stride=None, pad=0, *, padding=None):
        super().__init__()
        name = type(self).__name__
        pad, pad_name = _padding_alias(name, pad, padding, 0)
        self.kernel_size = _window_arg(name, kernel_size, "kernel_size", 1)
        self.stride = None if stride is None else _window_arg(name, stride, "stride", 1)
        self.pad = _window_arg(name, pad, pad_name, 0)
        # PyTorch's rule (its pooling ops raise it): a window that is mostly padding has no input to pool
        if any(p > k // 2 for p, k in zip(_pair_of(self.pad), _pair_of(self.kernel_size))):
            raise ValueError(f"{name}: {pad_name} must be at most half of kernel_size, got {pad_name}={pad!r} and "
                             f"kernel_size={kernel_size!r}")

    def forward(self, x):
        stride = None if self.stride is None else _pair(self.stride)
        return type(self).op(x, _pair(self.kernel_size), stride=stride, pad=_pair(self.pad))

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}" + _options(self, None)

    def config(self):
        return {"type": type(self).__name__, "kernel_size": self.kernel_size, "stride": self.stride,
                "pad": self.pad}


@config_schema(**_POOL_CONFIG)
class MaxPool2d(_Pool):
    """Max pooling (``ag.max_pool2d``: padding counts as -inf; on ties the first
    maximum of a window gets the gradient, as in PyTorch)."""

    op = staticmethod(ag.max_pool2d)


@config_schema(**_POOL_CONFIG)
class AvgPool2d(_Pool):
    """Average pooling (``ag.avg_pool2d``: zero padding counts in the average,
    PyTorch's default ``count_include_pad=True``)."""

    op = staticmethod(ag.avg_pool2d)


@config_schema(required={"channels": _fields.size}, optional=BATCH_NORM_CONFIG, size=lambda c: 4 * c["channels"])
class BatchNorm2d(Module):
    """Batch normalization per channel of NCHW input: the statistics are over the
    batch and both image axes (N, H, W), as PyTorch's ``BatchNorm2d``.

    ``BatchNorm2d(channels, momentum=0.9, eps=1e-5)``: parameters ``gamma``,
    ``beta`` (channels,), buffers ``running_mean``, ``running_var`` updated as
    ``running = momentum * running + (1 - momentum) * batch`` (``nets.BatchNorm``'s
    convention) and used in eval mode.  One ``ag.batch_norm`` on the NCHW input
    (it reduces over N, H and W in whatever order memory holds them: no copy to
    rows and back).
    """

    def __init__(self, channels: int, momentum: float = 0.9, eps: float = 1e-5, dtype=np.float32):
        super().__init__()
        self.channels, self.momentum, self.eps, dtype = check_batch_norm("BatchNorm2d", "channels", channels, momentum,
                                                                         eps, dtype)
        self.gamma = ag.Tensor(np.ones(self.channels, dtype=dtype), requires_grad=True, name="gamma")
        self.beta = ag.Tensor(np.zeros(self.channels, dtype=dtype), requires_grad=True, name="beta")
        self.register_buffer("running_mean", np.zeros(self.channels, dtype=dtype))
        self.register_buffer("running_var", np.ones(self.channels, dtype=dtype))

    def forward(self, x):
        x = _as_input(x, self.gamma.dtype)
        shape = np.shape(x)
        if len(shape) != 4 or shape[1] != self.channels:
            raise ValueError(f"BatchNorm2d({self.channels}): input of shape {shape}; need (N, {self.channels}, H, W)")
        return ag.batch_norm(x, self.gamma, self.beta, running_mean=self.running_mean,
                             running_var=self.running_var, momentum=self.momentum, eps=self.eps,
                             training=self.training)

    def extra_repr(self):
        return f"{self.channels}"

    def config(self):
        return {"type": "BatchNorm2d", "channels": self.channels, "momentum": self.momentum, "eps": self.eps}
