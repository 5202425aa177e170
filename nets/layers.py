"""Layers: Affine, activations, SoftmaxWithLoss, Dropout, BatchNorm, Flatten.

Every layer is a ``Module`` whose forward is composed of engine ops, so its
gradient comes from the graph; none has a hand-written backward.

    layer = nets.Affine(784, 128, init="he", rng=0)   # W (784, 128), b (128,), float32
    h = nets.ReLU()(layer(x))                          # x: array or tensor of shape (N, 784)
"""
from __future__ import annotations

import numpy as np

import autograd_np as ag

from . import init as _init
from .module import Module, _targets_like

__all__ = ["Affine", "Sigmoid", "ReLU", "Tanh", "Identity", "Flatten", "SoftmaxWithLoss", "Dropout",
           "BatchNorm", "activation"]


def _as_input(x, dtype):
    """Arrays (not tensors) of another float dtype are cast to the layer's dtype,
    so float64 data does not silently promote a float32 model."""
    if isinstance(x, ag.Tensor):
        return x
    x = np.asarray(x)
    if x.dtype != dtype:
        x = x.astype(dtype)
    return x


class Affine(Module):
    """Fully connected layer ``y = x @ W + b`` (the engine's fused ``ag.affine``).

    ``Affine(in_size, out_size, init="he", rng=None, dtype=np.float32)``:
    ``W`` (in_size, out_size) drawn by ``init`` ("he", "xavier" or a standard
    deviation) from ``rng`` (a seed or Generator), ``b`` zeros.
    """

    def __init__(self, in_size: int, out_size: int, init="he", rng=None, dtype=np.float32):
        super().__init__()
        self.in_size, self.out_size, self.init = int(in_size), int(out_size), init
        if self.in_size <= 0 or self.out_size <= 0:
            raise ValueError(f"Affine: sizes must be positive, got {in_size} and {out_size}")
        self.W = ag.Tensor(_init.weights((self.in_size, self.out_size), init, _init.rng_of(rng), dtype),
                           requires_grad=True, name="W")
        self.b = ag.Tensor(np.zeros(self.out_size, dtype=dtype), requires_grad=True, name="b")

    def forward(self, x):
        return ag.affine(_as_input(x, self.W.dtype), self.W, self.b)

    def extra_repr(self):
        return f"{self.in_size}, {self.out_size}"

    def config(self):
        return {"type": "Affine", "in_size": self.in_size, "out_size": self.out_size, "init": self.init}


class _Activation(Module):
    fn = None

    def forward(self, x):
        return type(self).fn(x)

    def config(self):
        return {"type": type(self).__name__}


class Sigmoid(_Activation):
    """``1 / (1 + exp(-x))`` elementwise."""
    fn = staticmethod(ag.sigmoid)


class ReLU(_Activation):
    """``max(x, 0)`` elementwise."""
    fn = staticmethod(ag.relu)


class Tanh(_Activation):
    """``tanh(x)`` elementwise."""
    fn = staticmethod(ag.tanh)


class Identity(Module):
    """Returns its input."""

    def forward(self, x):
        return x

    def config(self):
        return {"type": "Identity"}


class Flatten(Module):
    """Reshape ``(N, ...)`` to ``(N, features)``, e.g. images (N, 1, 28, 28) to (N, 784)."""

    def forward(self, x):
        return ag.reshape(x, (np.shape(x)[0], -1))

    def config(self):
        return {"type": "Flatten"}


ACTIVATIONS = {"relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh}


def activation(name: str) -> Module:
    """A new activation layer by name: "relu", "sigmoid" or "tanh"."""
    try:
        return ACTIVATIONS[name.lower()]()
    except (KeyError, AttributeError):
        raise ValueError(f"unknown activation {name!r}: use one of {', '.join(ACTIVATIONS)}") from None


class SoftmaxWithLoss(Module):
    """Softmax followed by cross-entropy, averaged over the batch: ``layer(logits, t)``.

    ``t`` holds integer class labels (N,) or one-hot rows (N, C).  Calls the
    engine's fused ``ag.softmax_cross_entropy`` (gradient ``(softmax - t) / N``).
    As the last layer of a ``Sequential`` it is that model's criterion.
    """

    is_loss = True

    def forward(self, y, t):
        return ag.softmax_cross_entropy(y, _targets_like(t, y))

    def config(self):
        return {"type": "SoftmaxWithLoss"}


class Dropout(Module):
    """Inverted dropout: in training, zero each input with probability ``p``
    and scale the survivors by ``1 / (1 - p)``; in eval mode, the identity.

    ``Dropout(p=0.5, rng=None, mask=None)``: ``rng`` is a seed or Generator
    for the masks; ``mask`` (or setting ``.mask`` later), a boolean array of
    the input's shape (True = keep), fixes the mask, e.g. for gradient checks.
    The mask is drawn inside the op ``ag.dropout_mask``, so a compiled step
    draws the same masks from the same generator as eager.  ``.last_mask`` is
    the mask of the latest eager training forward (a compiled replay does not
    update it).
    """

    def __init__(self, p: float = 0.5, rng=None, mask=None):
        super().__init__()
        p = float(p)
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1), got {p}")
        self.p = p
        self.rng = _init.rng_of(rng)
        self.mask = None if mask is None else np.asarray(mask, dtype=bool)
        self._last_scale = None  # the scale array of the latest eager training forward

    @property
    def last_mask(self):
        return None if self._last_scale is None else self._last_scale > 0

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        if self.mask is not None:
            if self.mask.shape != np.shape(x):
                raise ValueError(f"Dropout: fixed mask of shape {self.mask.shape} does not match input "
                                 f"{np.shape(x)}")
            dtype = x.dtype if isinstance(x, ag.Tensor) else np.asarray(x).dtype
            scale = ag.Tensor(self.mask.astype(dtype) * dtype.type(1.0 / (1.0 - self.p)))
        else:
            scale = ag.dropout_mask(x, p=self.p, rng=self.rng)
        self._last_scale = scale._data  # (the array itself: not a read of its values)
        return x * scale

    def extra_repr(self):
        return f"p={self.p}"

    def config(self):
        return {"type": "Dropout", "p": self.p}


class BatchNorm(Module):
    """Batch normalization over the batch axis (``ag.batch_norm``).

    Training: ``(x - mean) / sqrt(var + eps) * gamma + beta`` with the batch's
    mean and (biased) variance, and the running statistics updated as
    ``running = momentum * running + (1 - momentum) * batch``.
    Eval: the running statistics are used instead.
    Parameters ``gamma`` (ones) and ``beta`` (zeros); buffers
    ``running_mean`` and ``running_var`` (saved in ``state_dict``).
    """

    def __init__(self, size: int, momentum: float = 0.9, eps: float = 1e-5, dtype=np.float32):
        super().__init__()
        self.size, self.momentum, self.eps = int(size), float(momentum), float(eps)
        self.gamma = ag.Tensor(np.ones(self.size, dtype=dtype), requires_grad=True, name="gamma")
        self.beta = ag.Tensor(np.zeros(self.size, dtype=dtype), requires_grad=True, name="beta")
        self.register_buffer("running_mean", np.zeros(self.size, dtype=dtype))
        self.register_buffer("running_var", np.ones(self.size, dtype=dtype))

    def forward(self, x):
        # one op (ag.batch_norm) that also updates the running statistics in place, inside its
        # forward: a compiled step replays the update as eager does
        return ag.batch_norm(_as_input(x, self.gamma.dtype), self.gamma, self.beta,
                             running_mean=self.running_mean, running_var=self.running_var,
                             momentum=self.momentum, eps=self.eps, training=self.training)

    def extra_repr(self):
        return f"{self.size}"

    def config(self):
        return {"type": "BatchNorm", "size": self.size, "momentum": self.momentum, "eps": self.eps}
