"""``ConvNet``: a small VGG-style convolutional net with batch norm; with three blocks
(``channels=(32, 64, 128)``) it passes 0.925 on Fashion-MNIST in 10 epochs
(docs/guides/convnets.md has the command and its log).

    model = nets.ConvNet(input_dim=(1, 28, 28), channels=(32, 64, 128), hidden_size=128, dropout=0.4, rng=0)
    # conv 3x3 -> BatchNorm2d -> ReLU -> 2x2 max-pool, per entry of channels; then
    # affine -> ReLU -> dropout -> affine (the logits)
"""
from __future__ import annotations

import numpy as np

import autograd_np as ag

from ..layers import init as _init
from ..layers.basic import Affine, Dropout, Flatten, ReLU, _as_input
from ..layers.conv import BatchNorm2d, Conv2d, MaxPool2d
from ..layers.init import WEIGHT_BYTES
from ..layers.module import Module
from ..layers.registry import config_schema
from ..util import fields as _fields
from ..util import validate as _v
from ..util.fields import Bad

__all__ = ["ConvNet"]

MAX_BLOCKS = 8


def _odd_kernel(v, field):
    k = _fields.integer(v, field, lo=1, hi=_fields.MAX_UNITS)
    if k % 2 == 0:
        raise Bad(field, f"{k} is even: the padding k // 2 keeps the image size only for odd kernels")
    return k


def _sides_after(input_dim, blocks):
    """The image sides after ``blocks`` 2x2 poolings (floored)."""
    h, w = input_dim[1:]
    return h >> blocks, w >> blocks


def _convnet_size(c):
    """The numbers a ConvNet config holds (its schema's size): weights, biases, batch norm's
    parameters and running statistics."""
    (cin, *_), chans, k = c["input_dim"], c["channels"], c["kernel_size"]
    h, w = _sides_after(c["input_dim"], len(chans))
    if h < 1 or w < 1:
        raise Bad("channels", f"{len(chans)} blocks halve the {c['input_dim'][1]}x{c['input_dim'][2]} input to "
                              f"nothing")
    total = sum(a * b * k * k + b + 4 * b for a, b in zip([cin, *chans], chans))
    hidden, out = c["hidden_size"], c["output_size"]
    return total + (chans[-1] * h * w + 1) * hidden + (hidden + 1) * out


@config_schema(required={"input_dim": lambda v, f: _fields.exactly(_fields.array_of(v, f, _fields.size, 3), f, 3),
                         "channels": lambda v, f: _fields.array_of(v, f, _fields.size, MAX_BLOCKS)},
               optional={"kernel_size": _odd_kernel, "hidden_size": _fields.size, "output_size": _fields.size,
                         "dropout": _fields.fraction, "init": _init.config_check},
               size=_convnet_size)
class ConvNet(Module):
    """Blocks of conv (``kernel_size``, padding ``kernel_size // 2``) -> BatchNorm2d ->
    ReLU -> 2x2 max-pool, one per entry of ``channels``; then affine ->
    ReLU -> dropout -> affine, the logits.

    ``ConvNet(input_dim=(1, 28, 28), channels=(32, 64), kernel_size=3,
    hidden_size=128, output_size=10, dropout=0.0, init="he", rng=None,
    dtype=np.float32)``.  Layers are attributes ``conv1, bn1, relu1, pool1,
    conv2, ..., flatten, fc1, relu, drop, fc2`` (parameters ``conv1.W``,
    ``bn1.gamma``, ``fc1.W``...).  The input is images (N, C, H, W) or rows
    (N, C*H*W), which are reshaped to ``input_dim``; every layer keeps the
    convolutions' channel-major memory (see ``ag.conv2d``).
    """

    def __init__(self, input_dim=(1, 28, 28), channels=(32, 64), kernel_size=3, hidden_size=128, output_size=10,
                 dropout=0.0, init="he", rng=None, dtype=np.float32):
        super().__init__()
        who = "ConvNet"
        if not isinstance(input_dim, (tuple, list)) or len(input_dim) != 3:
            raise ValueError(f"{who}: input_dim must be (channels, height, width), got {input_dim!r:.80}")
        self.input_dim = tuple(_v.integer(v, f"input_dim {name}", who)
                               for v, name in zip(input_dim, ("channels", "height", "width")))
        self.channels = tuple(_v.int_list(channels, "channels", who))
        if len(self.channels) > MAX_BLOCKS:
            raise ValueError(f"{who}: channels has {len(self.channels)} blocks; at most {MAX_BLOCKS}")
        self.kernel_size = _v.integer(kernel_size, "kernel_size", who)
        if self.kernel_size % 2 == 0:
            raise ValueError(f"{who}: kernel_size must be odd (padding kernel_size // 2 keeps the image size), "
                             f"got {kernel_size}")
        self.hidden_size = _v.integer(hidden_size, "hidden_size", who)
        self.output_size = _v.integer(output_size, "output_size", who)
        self.dropout = _v.number(dropout, "dropout", who, low=0.0, high=1.0, high_open=True)
        self.init = _init.check_init(init, "init", who)
        rng, dtype = _init.rng_of(rng, "rng", who), _v.float_dtype(dtype, "dtype", who)
        h, w = _sides_after(self.input_dim, len(self.channels))
        if h < 1 or w < 1:
            raise ValueError(f"{who}: input_dim {self.input_dim} is too small for {len(self.channels)} blocks of 2x2 "
                             f"pooling (they halve its {self.input_dim[1]}x{self.input_dim[2]} images to nothing); "
                             "use larger images or fewer channels entries")
        flat = self.channels[-1] * h * w
        _v.allocation(who, f"input_dim={self.input_dim}, channels={self.channels}, hidden_size={hidden_size} and "
                      f"output_size={output_size}", _convnet_size(self.config()), WEIGHT_BYTES)
        self._build(rng, dtype, flat)

    def _build(self, rng, dtype, flat):
        order, k = [], self.kernel_size
        for i, (cin, cout) in enumerate(zip((self.input_dim[0],) + self.channels, self.channels), 1):
            setattr(self, f"conv{i}", Conv2d(cin, cout, k, pad=k // 2, init=self.init, rng=rng, dtype=dtype))
            setattr(self, f"bn{i}", BatchNorm2d(cout, dtype=dtype))
            setattr(self, f"relu{i}", ReLU())
            setattr(self, f"pool{i}", MaxPool2d(2))
            order += [f"conv{i}", f"bn{i}", f"relu{i}", f"pool{i}"]
        self.flatten = Flatten()
        self.fc1 = Affine(flat, self.hidden_size, init=self.init, rng=rng, dtype=dtype)
        self.relu = ReLU()
        order += ["flatten", "fc1", "relu"]
        if self.dropout > 0:
            self.drop = Dropout(self.dropout, rng=int(rng.integers(2 ** 63)))
            order.append("drop")
        self.fc2 = Affine(self.hidden_size, self.output_size, init=self.init, rng=rng, dtype=dtype)
        self.layer_names = tuple(order + ["fc2"])

    @property
    def layers(self):
        return [getattr(self, name) for name in self.layer_names]

    def forward(self, x):
        x = _as_input(x, self.fc1.W.dtype)
        shape = np.shape(x)
        if len(shape) == 2:  # rows, as the MLPs take them
            if shape[1] != int(np.prod(self.input_dim)):
                raise ValueError(f"ConvNet: rows of {shape[1]} features do not fit input_dim {self.input_dim} "
                                 f"({int(np.prod(self.input_dim))} features)")
            x = ag.reshape(x, (shape[0],) + self.input_dim)
        elif len(shape) != 4 or tuple(shape[1:]) != self.input_dim:
            raise ValueError(f"ConvNet: input of shape {tuple(shape)}; need (N, {', '.join(map(str, self.input_dim))})"
                             f" images or (N, {int(np.prod(self.input_dim))}) rows")
        for name in self.layer_names:
            x = getattr(self, name)(x)
        return x

    def extra_repr(self):
        return f"input_dim={self.input_dim}, channels={self.channels}, hidden_size={self.hidden_size}"

    def config(self):
        return {"type": "ConvNet", "input_dim": list(self.input_dim), "channels": list(self.channels),
                "kernel_size": self.kernel_size, "hidden_size": self.hidden_size, "output_size": self.output_size,
                "dropout": self.dropout, "init": self.init}
