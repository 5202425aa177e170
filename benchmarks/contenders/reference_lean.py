"""The reference without the one matmul the seeds' code spends on nobody.

The seeds' Affine layer computes ``dx`` for the first layer too: the gradient
of the input data, which no training step uses and no other contender
computes (it is 49% of workload 1a's matmul FLOPs, 44% of 1b's).  This
contender is the reference with that product dropped, so its row shows the
engines against exactly the BLAS work they do.  The targets stay against the
seeds' code, as the performance issue defines them."""
from . import reference

NAME = "numpy_lean"
LABEL = "hand-written NumPy, no input gradient"
setup = reference.setup


class _FirstAffine(reference.Affine):
    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return None  # the data's gradient: nobody's


class MLP(reference.MLP):
    def __init__(self, net, params):
        super().__init__(net, params)
        first = self.net.layers["Affine1"]
        self.net.layers["Affine1"] = _FirstAffine(first.W, first.b)
