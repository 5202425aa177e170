"""The reference: hand-written NumPy forward and backward, no graph.

Workload 1 uses the seeds' layer classes (Affine, Sigmoid, Relu,
SoftmaxWithLoss, as in the book the seeds follow), kept in their style: the
Affine layer computes ``dx`` even for the first layer, Relu masks in place.
Two changes only, both needed for a fair float32 comparison: parameters and
data are float32 (the seeds' ``np.zeros(n)`` bias would silently upcast every
layer to float64) and labels are integers (the seeds' one-hot path costs more).

Workload 2's reference is the plain-NumPy floor: each op in the fewest NumPy
calls that compute it, the backward written out by hand, no graph.
"""
from collections import OrderedDict

import numpy as np

NAME = "numpy"
LABEL = "hand-written NumPy (reference)"


def setup():
    return f"numpy {np.__version__}"


# --- the seeds' layers ------------------------------------------------------

def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softmax(x):
    x = x - np.max(x, axis=-1, keepdims=True)  # overflow guard
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)


def cross_entropy_error(y, t):
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)
    if t.size == y.size:  # one-hot targets -> label indices
        t = t.argmax(axis=1)
    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size


class Relu:
    def __init__(self):
        self.mask = None

    def forward(self, x):
        self.mask = (x <= 0)
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dout[self.mask] = 0
        dx = dout
        return dx


class Sigmoid:
    def __init__(self):
        self.out = None

    def forward(self, x):
        out = sigmoid(x)
        self.out = out
        return out

    def backward(self, dout):
        dx = dout * (1.0 - self.out) * self.out
        return dx


class Affine:
    def __init__(self, W, b):
        self.W = W
        self.b = b
        self.x = None
        self.original_x_shape = None
        self.dW = None
        self.db = None

    def forward(self, x):
        self.original_x_shape = x.shape
        x = x.reshape(x.shape[0], -1)
        self.x = x
        out = np.dot(self.x, self.W) + self.b
        return out

    def backward(self, dout):
        dx = np.dot(dout, self.W.T)
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        dx = dx.reshape(*self.original_x_shape)
        return dx


class SoftmaxWithLoss:
    def __init__(self):
        self.loss = None
        self.y = None
        self.t = None

    def forward(self, x, t):
        self.t = t
        self.y = softmax(x)
        self.loss = cross_entropy_error(self.y, self.t)
        return self.loss

    def backward(self, dout=1):
        batch_size = self.t.shape[0]
        if self.t.size == self.y.size:
            dx = (self.y - self.t) / batch_size
        else:
            dx = self.y.copy()
            dx[np.arange(batch_size), self.t] -= 1
            dx = dx / batch_size
        return dx


class MultiLayerNet:
    """The seeds' TwoLayerNet generalised to any depth: a layer dict, a loss
    layer, ``gradient`` by backprop through the layers in reverse."""

    def __init__(self, params, activation):
        self.params = {}
        self.layers = OrderedDict()
        act = {"sigmoid": Sigmoid, "relu": Relu}[activation]
        for i, (W, b) in enumerate(params, 1):
            self.params[f"W{i}"], self.params[f"b{i}"] = W, b
            self.layers[f"Affine{i}"] = Affine(W, b)
            if i < len(params):
                self.layers[f"Act{i}"] = act()
        self.last_layer = SoftmaxWithLoss()
        self.n = len(params)

    def loss(self, x, t):
        for layer in self.layers.values():
            x = layer.forward(x)
        return self.last_layer.forward(x, t)

    def gradient(self, x, t):
        loss = self.loss(x, t)
        dout = self.last_layer.backward(1)
        for layer in reversed(self.layers.values()):
            dout = layer.backward(dout)
        grads = {}
        for i in range(1, self.n + 1):
            grads[f"W{i}"] = self.layers[f"Affine{i}"].dW
            grads[f"b{i}"] = self.layers[f"Affine{i}"].db
        return loss, grads


class MLP:
    """Training step: ``grads = net.gradient(x, t)``, then the seeds' SGD update."""

    def __init__(self, net, params):
        self.lr = net.lr
        self.net = MultiLayerNet([(W.copy(), b.copy()) for W, b in params], net.activation)

    def prepare(self, x, t):
        return x, t

    def gradients(self, batch):
        loss, grads = self.net.gradient(*batch)
        return float(loss), [grads[k] for k in self.net.params]

    def step(self, batch):
        _, grads = self.net.gradient(*batch)
        for key in self.net.params:
            self.net.params[key] -= self.lr * grads[key]

    def weights(self):
        return list(self.net.params.values())


class CNN:
    """Workload 6: the book's convolutional layers (``benchmarks/book_cnn.py``), its
    ``gradient``, then the same SGD update."""

    def __init__(self, spec, params):
        from ..book_cnn import ConvNet
        self.lr, self.params = spec.lr, [p.copy() for p in params]
        self.net = ConvNet(spec, self.params)  # the layers hold these very arrays

    def prepare(self, x, t):
        return x, t

    def gradients(self, batch):
        loss, grads = self.net.gradient(*batch)
        return float(loss), grads

    def step(self, batch):
        _, grads = self.net.gradient(*batch)
        for p, g in zip(self.params, grads):
            p -= self.lr * g

    def weights(self):
        return self.params


# --- workload 2: the plain-NumPy floor ---------------------------------------
# The fewest NumPy calls per op, fixed whatever the engine does: sigmoid as
# (1 + tanh(x/2)) / 2 in place (three calls; 1 / (1 + exp(-x)) takes four),
# and the textbook derivatives (no gradient for the constant of mul or add).

def _sigmoid_fwd(x):
    y = np.tanh(np.multiply(x, 0.5))
    y += 1
    y *= 0.5
    return y


def make_chain(ops, x0):
    def run():
        x, saved = x0, []
        for name, c in ops:
            if name == "sigmoid":
                x = _sigmoid_fwd(x)
                saved.append(x)
            elif name == "tanh":
                x = np.tanh(x)
                saved.append(x)
            elif name == "mul":
                x = x * c
            else:  # add
                x = x + c
        g = np.ones_like(x)  # d sum(x) / dx
        for name, c in reversed(ops):
            if name == "sigmoid":
                y = saved.pop()
                g = g * y * (1 - y)
            elif name == "tanh":
                y = saved.pop()
                g = g * (1 - y * y)
            elif name == "mul":
                g = g * c
        return g
    return run
