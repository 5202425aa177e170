"""HIPS autograd: the loss as a NumPy function of the parameter list,
``value_and_grad`` of it, and the SGD update on the returned arrays."""
import numpy as np

from . import apply_chain

NAME = "autograd"
LABEL = "HIPS autograd"

anp = value_and_grad = grad = logsumexp = expit = None


def setup():
    global anp, value_and_grad, grad, logsumexp, expit
    import autograd
    import autograd.numpy as _anp
    from autograd.scipy.special import expit as _expit, logsumexp as _logsumexp
    anp, value_and_grad, grad = _anp, autograd.value_and_grad, autograd.grad
    logsumexp, expit = _logsumexp, _expit
    from importlib.metadata import version
    return f"autograd {version('autograd')}"


def _relu(x):
    return anp.maximum(x, 0.0)


class MLP:
    def __init__(self, net, params):
        self.lr = net.lr
        self.params = [p.copy() for layer in params for p in layer]
        act = {"sigmoid": expit, "relu": _relu}[net.activation]

        def loss(params, x, t):
            h, last = x, len(params) // 2 - 1
            for i in range(0, len(params), 2):
                h = anp.dot(h, params[i]) + params[i + 1]
                if i // 2 < last:
                    h = act(h)
            logp = h - logsumexp(h, axis=1, keepdims=True)
            return -anp.mean(logp[np.arange(len(t)), t])

        self.value_and_grad = value_and_grad(loss)

    def prepare(self, x, t):
        return x, t

    def step(self, batch):
        _, grads = self.value_and_grad(self.params, *batch)
        for p, g in zip(self.params, grads):
            p -= self.lr * g

    def gradients(self, batch):
        loss, grads = self.value_and_grad(self.params, *batch)
        return float(loss), list(grads)

    def weights(self):
        return self.params


def make_chain(ops, x0):
    def f(x):
        return anp.sum(apply_chain(x, ops, {"sigmoid": expit, "tanh": anp.tanh}))
    g = grad(f)
    return lambda: g(x0)
