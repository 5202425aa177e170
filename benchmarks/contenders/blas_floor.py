"""The BLAS floor of a training step: only its matmuls, on arrays of the right
shapes and layouts (the transposes are views, as in every contender), with
nothing else: no activation, no loss, no update, no Python graph."""
import numpy as np

NAME = "blas_floor"
LABEL = "BLAS floor (matmuls only)"


def setup():
    return "numpy matmul"


class MLP:
    def __init__(self, net, params):
        rng = np.random.default_rng(1)
        self.W = [W.copy() for W, _ in params]
        # inputs of the hidden layers and upstream gradients: any normal float32 values will do
        self.acts = [None] + [rng.random((net.batch, W.shape[0]), dtype=np.float32) for W in self.W[1:]]
        self.gys = [rng.standard_normal((net.batch, W.shape[1])).astype(np.float32) for W in self.W]

    def prepare(self, x, t):
        return x, t

    def step(self, batch):
        x = batch[0]
        for i, W in enumerate(self.W):
            a, gy = (x if i == 0 else self.acts[i]), self.gys[i]
            np.matmul(a, W)          # forward
            np.matmul(a.T, gy)       # weight gradient
            if i:
                np.matmul(gy, W.T)   # input gradient (not for the data)
