"""autograd_np, used as its README shows: ops on tensors, ``backward``, an SGD
update under ``no_grad``."""

import numpy as np

from . import apply_chain

NAME = "autograd_np"
LABEL = "autograd_np"


def setup():
    import autograd_np
    MLP.ag = CNN.ag = autograd_np
    return f"autograd_np {autograd_np.__version__}"


class MLP:
    ag = None  # the autograd_np package this contender runs (ag_baseline runs an older one)

    def __init__(self, net, params):
        ag = self.ag
        self.lr = net.lr
        self.act = {"sigmoid": ag.sigmoid, "relu": ag.relu}[net.activation]
        self.layers = [(ag.Tensor(W.copy(), requires_grad=True), ag.Tensor(b.copy(), requires_grad=True))
                       for W, b in params]
        self.params = [p for layer in self.layers for p in layer]

    def prepare(self, x, t):
        return x, t  # ops take plain arrays: the data needs no Tensor wrapper

    def loss(self, x, t):
        ag = self.ag
        h, last = x, len(self.layers) - 1
        for i, (W, b) in enumerate(self.layers):
            h = ag.affine(h, W, b)
            if i < last:
                h = self.act(h)
        return ag.softmax_cross_entropy(h, t)

    def step(self, batch):
        self.loss(*batch).backward()
        with self.ag.no_grad():
            for p in self.params:
                p.data -= self.lr * p.grad
                p.grad = None

    def gradients(self, batch):
        loss = self.loss(*batch)
        loss.backward()
        grads = [p.grad for p in self.params]
        for p in self.params:
            p.grad = None
        return float(loss.data), grads

    def weights(self):
        return [p.data for p in self.params]


class CNN:
    """Workload 6: the nets of ``cnn_specs`` with the ops (conv2d, batch_norm, relu,
    max_pool2d, affine), ``backward`` and an SGD update under ``no_grad``."""
    ag = None

    def __init__(self, spec, params):
        self.spec, self.lr = spec, spec.lr
        self.params = [self.ag.Tensor(p.copy(), requires_grad=True) for p in params]
        self.stats = [(np.zeros(c.out, np.float32), np.ones(c.out, np.float32)) for c in spec.convs]

    def prepare(self, x, t):
        return x, t

    def loss(self, x, t):
        ag, it = self.ag, iter(self.params)
        h = x
        for conv, (mean, var) in zip(self.spec.convs, self.stats):
            h = ag.conv2d(h, next(it), next(it), pad=conv.pad)
            if conv.bn:
                h = ag.batch_norm(h, next(it), next(it), running_mean=mean, running_var=var)
            h = ag.max_pool2d(ag.relu(h), 2)
        h = ag.relu(ag.affine(ag.reshape(h, (x.shape[0], -1)), next(it), next(it)))
        return ag.softmax_cross_entropy(ag.affine(h, next(it), next(it)), t)

    step, gradients, weights = MLP.step, MLP.gradients, MLP.weights


def make_chain(ops, x0, ag=None):
    ag = ag or MLP.ag
    fns = {"sigmoid": ag.sigmoid, "tanh": ag.tanh}
    x = ag.Tensor(x0.copy(), requires_grad=True)

    def run():
        y = apply_chain(x, ops, fns)
        ag.sum(y).backward()
        g, x.grad = x.grad, None
        return g
    return run
