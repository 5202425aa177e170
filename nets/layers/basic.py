"""Layers: Affine, activations, SoftmaxWithLoss, Dropout, BatchNorm, Flatten.

Every layer is a ``Module`` whose forward is composed of engine ops, so its
gradient comes from the graph; none has a hand-written backward.

    layer = nets.Affine(784, 128, init="he", rng=0)   # W (784, 128), b (128,), float32
    h = nets.ReLU()(layer(x))                          # x: array or tensor of shape (N, 784)
"""
from __future__ import annotations

import numpy as np

import autograd_np as ag

from ..util import fields as _fields, validate as _v
from . import init as _init
from .calling import targets_like
from .init import WEIGHT_BYTES
from .module import Module
from .registry import config_schema

_NOTHING = dict(size=lambda c: 0)  # the schema of a layer without arguments or numbers
# BatchNorm's and BatchNorm2d's optional config arguments
BATCH_NORM_CONFIG = {"momentum": lambda v, f: _fields.number(v, f, lo=0.0, hi=1.0),
                     "eps": lambda v, f: _fields.number(v, f, lo=0.0, lo_open=True)}

__all__ = ["Affine", "Sigmoid", "ReLU", "Tanh", "Identity", "Flatten", "SoftmaxWithLoss", "Dropout",
           "BatchNorm", "activation"]




def _as_input(x, dtype):
    """Arrays (not tensors) of another float dtype are cast to the layer's dtype,
    so float64 data does not silently promote a float32 model."""
    if isinstance(x, ag.Tensor):
        return x
    x = np.asanyarray(x)  # (not asarray: ag.compile traces an ndarray argument as a subclass of it)
    if x.dtype != dtype:
        x = x.astype(dtype)
    return x


@config_schema(required={"in_size": _fields.size, "out_size": _fields.size}, optional={"init": _init.config_check},
               size=lambda c: c["in_size"] * c["out_size"] + c["out_size"])
class Affine(Module):
    """Fully connected layer ``y = x @ W + b`` (the engine's fused ``ag.affine``).

    ``Affine(in_size, out_size, init="he", rng=None, dtype=np.float32)``:
    ``W`` (in_size, out_size) drawn by ``init`` ("he", "xavier" or a standard
    deviation) from ``rng`` (a seed or Generator), ``b`` zeros.
    """

    def __init__(self, in_size: int, out_size: int, init="he", rng=None, dtype=np.float32):
        super().__init__()
        self.in_size = _v.integer(in_size, "in_size", "Affine")
        self.out_size = _v.integer(out_size, "out_size", "Affine")
        self.init = init
        std = _init.std_for(init, self.in_size, "init", "Affine")
        rng, dtype = _init.rng_of(rng, "rng", "Affine"), _v.float_dtype(dtype, "dtype", "Affine")
        _v.allocation("Affine", f"in_size={self.in_size} and out_size={self.out_size}",
                      self.in_size * self.out_size, WEIGHT_BYTES)
        W = _init.normal((self.in_size, self.out_size), std, rng, dtype, "Affine", "init")
        self.W = ag.Tensor(W, requires_grad=True, name="W")
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


@config_schema(**_NOTHING)
class Sigmoid(_Activation):
    """``1 / (1 + exp(-x))`` elementwise."""
    fn = staticmethod(ag.sigmoid)


@config_schema(**_NOTHING)
class ReLU(_Activation):
    """``max(x, 0)`` elementwise."""
    fn = staticmethod(ag.relu)


@config_schema(**_NOTHING)
class Tanh(_Activation):
    """``tanh(x)`` elementwise."""
    fn = staticmethod(ag.tanh)


@config_schema(**_NOTHING)
class Identity(Module):
    """Returns its input."""

    def forward(self, x):
        return x

    def config(self):
        return {"type": "Identity"}


@config_schema(**_NOTHING)
class Flatten(Module):
    """Reshape ``(N, ...)`` to ``(N, features)``, e.g. images (N, 1, 28, 28) to (N, 784)."""

    def forward(self, x):
        return ag.reshape(x, (np.shape(x)[0], -1))

    def config(self):
        return {"type": "Flatten"}


#: The activation layers by the names ``activation=`` takes.
ACTIVATIONS = {"relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh}


def activation_config(v, field):
    """An activation's name in a checkpoint's config (``nets.util.fields``: raises ``Bad``)."""
    return _fields.text(v, field, choices=tuple(ACTIVATIONS), lower=True)


def activation(name: str, who: str = "nets.activation") -> Module:
    """A new activation layer by name: "relu", "sigmoid" or "tanh" (any case); another name is
    refused naming ``who``'s ``activation`` argument."""
    arg = "name" if who == "nets.activation" else "activation"  # called directly, or for a model's argument
    if not isinstance(name, str):
        raise TypeError(f"{who}: {arg} must be one of {', '.join(map(repr, ACTIVATIONS))}, got {name!r:.80}")
    try:
        return ACTIVATIONS[name.lower()]()
    except KeyError:
        raise ValueError(f"{who}: unknown activation {name!r}: {arg} must be one of "
                         f"{', '.join(map(repr, ACTIVATIONS))}") from None


@config_schema(**_NOTHING)
class SoftmaxWithLoss(Module):
    """Softmax followed by cross-entropy, averaged over the batch: ``layer(logits, t)``.

    ``t`` holds integer class labels (N,) or one-hot rows (N, C).  Calls the
    engine's fused ``ag.softmax_cross_entropy`` (gradient ``(softmax - t) / N``).
    As the last layer of a ``Sequential`` it is that model's criterion.
    """

    is_loss = True

    def forward(self, y, t):
        return ag.softmax_cross_entropy(y, targets_like(t, y))

    def config(self):
        return {"type": "SoftmaxWithLoss"}


@config_schema(optional={"p": _fields.fraction}, size=lambda c: 0)
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

    _unguarded = Module._unguarded | {"_last_scale"}  # an output of the latest call, not state it reads

    def __init__(self, p: float = 0.5, rng=None, mask=None):
        super().__init__()
        self.p = _v.number(p, "p", "Dropout", low=0.0, high=1.0, high_open=True)
        self.rng = _init.rng_of(rng, "rng", "Dropout")
        self.mask = None if mask is None else _bool_mask(mask)
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


def _bool_mask(mask):
    """A keep-mask: booleans, or numbers that are all 0 or 1 (anything else would be cast silently)."""
    try:
        arr = np.asarray(mask)
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.dtype.kind not in "biuf" or arr.ndim == 0:
        raise TypeError(f"Dropout: mask must be None or an array of booleans (True = keep), got {mask!r:.80}")
    if arr.dtype.kind != "b" and not np.all((arr == 0) | (arr == 1)):
        raise ValueError(f"Dropout: mask must hold booleans (or only 0 and 1), got values such as "
                         f"{arr[(arr != 0) & (arr != 1)].ravel()[:3].tolist()}")
    return arr.astype(bool)


def check_batch_norm(who, size_name, size, momentum, eps, dtype):
    """The arguments of BatchNorm and BatchNorm2d: ``(size, momentum, eps, dtype)``."""
    size = _v.integer(size, size_name, who)
    momentum = _v.number(momentum, "momentum", who, low=0.0, high=1.0)
    eps = _v.number(eps, "eps", who, low=0.0, low_open=True)
    dtype = _v.float_dtype(dtype, "dtype", who)
    _v.allocation(who, f"{size_name}={size}", 4 * size, dtype.itemsize)
    return size, momentum, eps, dtype


@config_schema(required={"size": _fields.size}, optional=BATCH_NORM_CONFIG, size=lambda c: 4 * c["size"])
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
        self.size, self.momentum, self.eps, dtype = check_batch_norm("BatchNorm", "size", size, momentum, eps, dtype)
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
