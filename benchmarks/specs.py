"""What is measured: the MLP workloads, the op chain, and the initial weights
drawn once in float32 so that every contender starts from the same numbers."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Net:
    """One MLP workload: layer sizes, hidden activation, batch size, init scheme."""
    key: str
    title: str
    sizes: tuple
    activation: str  # "sigmoid" or "relu"
    batch: int
    init: str        # "std0.01" (the seeds' TwoLayerNet) or "he"
    lr: float = 0.1

    def layer_shapes(self):
        return list(zip(self.sizes[:-1], self.sizes[1:]))

    def matmul_shapes(self):
        """(m, k, n, what) of every matmul a minimal step needs: the forward x @ W,
        the weight gradient x.T @ gy, and the input gradient gy @ W.T for every
        layer but the first (nobody needs the gradient of the data)."""
        shapes = []
        for i, (fan_in, fan_out) in enumerate(self.layer_shapes()):
            shapes.append((self.batch, fan_in, fan_out, f"L{i + 1} x@W"))
            shapes.append((fan_in, self.batch, fan_out, f"L{i + 1} x.T@gy"))
            if i:
                shapes.append((self.batch, fan_out, fan_in, f"L{i + 1} gy@W.T"))
        return shapes

    def flops(self):
        return sum(2 * m * k * n for m, k, n, _ in self.matmul_shapes())


MLPS = [
    Net("1a", "784-50-10 sigmoid, batch 100 (the seeds' TwoLayerNet)", (784, 50, 10), "sigmoid", 100, "std0.01"),
    Net("1b", "784-128-64-10 ReLU, He init, batch 100", (784, 128, 64, 10), "relu", 100, "he"),
    Net("1c", "784-1024-1024-10 ReLU, He init, batch 256 (BLAS-bound)", (784, 1024, 1024, 10), "relu", 256, "he"),
]


def init_params(sizes, scheme: str, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """[(W, b), ...] in float32, W of shape (in, out).  ``std0.01``: the seeds'
    ``0.01 * randn``; ``he``: ``randn * sqrt(2 / fan_in)``.  Biases start at zero."""
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        scale = 0.01 if scheme == "std0.01" else np.sqrt(2.0 / fan_in)
        W = (rng.standard_normal((fan_in, fan_out)) * scale).astype(np.float32)
        params.append((W, np.zeros(fan_out, dtype=np.float32)))
    return params


# Workload 2: a chain of small elementwise ops on a (10, 10) float32 array.  One
# round of the pattern has derivative 0.25 * 4 * 1 = 1 at its fixed point 0, so
# neither values nor gradients overflow or sink into (slow) subnormals over 200 ops.
CHAIN_SHAPE = (10, 10)
CHAIN_PATTERN = [("sigmoid", None), ("add", -0.5), ("mul", 4.0), ("tanh", None)]
CHAIN_LENGTH = 200
CHAIN_OPS = (CHAIN_PATTERN * (CHAIN_LENGTH // len(CHAIN_PATTERN)))[:CHAIN_LENGTH]


def chain_input(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(CHAIN_SHAPE).astype(np.float32)
