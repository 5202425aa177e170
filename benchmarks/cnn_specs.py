"""What workload 6 measures: two convolutional nets (a training step each) and the
ops they spend their time in, with the initial weights drawn once in float32 so
that every contender starts from the same numbers."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Conv:
    """One block: conv (``out`` filters of ``kernel`` x ``kernel``, zero padding ``pad``),
    batch norm when ``bn``, ReLU, 2x2 max pooling."""
    out: int
    kernel: int
    pad: int
    bn: bool


@dataclass(frozen=True)
class CNNSpec:
    key: str
    title: str
    convs: tuple
    hidden: int
    classes: int = 10
    batch: int = 100
    image: tuple = (1, 28, 28)
    lr: float = 0.01

    def flat_features(self):
        c, h, w = self.image
        for conv in self.convs:
            c, h, w = conv.out, (h + 2 * conv.pad - conv.kernel + 1) // 2, (w + 2 * conv.pad - conv.kernel + 1) // 2
        return c * h * w


CNNS = [
    CNNSpec("6a", "the book's SimpleConvNet: conv 30 5x5, ReLU, pool 2, affine 100, ReLU, affine 10",
            (Conv(30, 5, 0, False),), 100),
    CNNSpec("6b", "conv 32 3x3 + BN + ReLU + pool, conv 64 3x3 + BN + ReLU + pool, affine 128, affine 10",
            (Conv(32, 3, 1, True), Conv(64, 3, 1, True)), 128),
]


def init_cnn_params(spec: CNNSpec, seed: int = 0) -> list[np.ndarray]:
    """[conv W (O, C, k, k), conv b, (gamma, beta when bn), ..., W1 (in, hidden), b1, W2, b2] in
    float32, He-initialized, biases zero, gamma one."""
    rng = np.random.default_rng(seed)
    params, c = [], spec.image[0]
    for conv in spec.convs:
        fan_in = c * conv.kernel * conv.kernel
        params.append((rng.standard_normal((conv.out, c, conv.kernel, conv.kernel)) * np.sqrt(2 / fan_in))
                      .astype(np.float32))
        params.append(np.zeros(conv.out, np.float32))
        if conv.bn:
            params += [np.ones(conv.out, np.float32), np.zeros(conv.out, np.float32)]
        c = conv.out
    for fan_in, fan_out in ((spec.flat_features(), spec.hidden), (spec.hidden, spec.classes)):
        params.append((rng.standard_normal((fan_in, fan_out)) * np.sqrt(2 / fan_in)).astype(np.float32))
        params.append(np.zeros(fan_out, np.float32))
    return params


@dataclass(frozen=True)
class OpSpec:
    """One op of the nets above, forward and backward alone: ``kind`` conv, pool or bn."""
    key: str
    title: str
    kind: str
    x_shape: tuple
    out: int = 0
    kernel: int = 2
    pad: int = 0
    input_grad: bool = True


OPS = [
    OpSpec("conv1", "conv 1->32, 3x3 pad 1 at 28x28 (no input gradient)", "conv", (100, 1, 28, 28), 32, 3, 1, False),
    OpSpec("conv2", "conv 32->64, 3x3 pad 1 at 14x14", "conv", (100, 32, 14, 14), 64, 3, 1),
    OpSpec("pool", "max-pool 2x2 on (100, 32, 28, 28)", "pool", (100, 32, 28, 28)),
    OpSpec("bn", "BatchNorm2d(32) on (100, 32, 28, 28), training", "bn", (100, 32, 28, 28)),
]
