"""Layer classes for the engine's activation ops, under PyTorch's names and arguments:
``LeakyReLU(negative_slope=0.01)``, ``GELU(approximate="none")``, ``SiLU()``,
``Softplus(beta=1.0, threshold=20.0)``, ``Softmax(dim=-1)`` and ``LogSoftmax(dim=-1)``
(``Sigmoid``, ``ReLU`` and ``Tanh`` are in ``nets.layers.basic``).  Each is its op,
so its gradient is the op's, checked in the op table; the PyTorch tests compare
values and gradients in float64.

Softmax and LogSoftmax take ``dim=-1`` by default (PyTorch's ``dim=None`` guesses an
axis and warns); Softplus is PyTorch's ``log(1 + exp(beta * x)) / beta``, the
identity where ``beta * x > threshold``.
"""
from __future__ import annotations

import autograd_np as ag

from ..util import fields as _fields, validate as _v
from .basic import _NOTHING, _Activation
from .registry import config_schema

__all__ = ["LeakyReLU", "GELU", "SiLU", "Softplus", "Softmax", "LogSoftmax"]

_MAX_AXES = 64  # NumPy's most dimensions: an axis is in [-64, 63]


def _axis(value, who):
    return _v.integer(value, "dim", who, low=-_MAX_AXES, high=_MAX_AXES - 1)


def _axis_config(v, field):
    return _fields.integer(v, field, lo=-_MAX_AXES, hi=_MAX_AXES - 1)


@config_schema(optional={"negative_slope": lambda v, f: _fields.number(v, f)}, size=lambda c: 0)
class LeakyReLU(_Activation):
    """``x`` where ``x > 0``, else ``negative_slope * x`` (``ag.leaky_relu``)."""

    def __init__(self, negative_slope: float = 0.01):
        super().__init__()
        self.negative_slope = _v.number(negative_slope, "negative_slope", "LeakyReLU")

    def forward(self, x):
        return ag.leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"

    def config(self):
        return {"type": "LeakyReLU", "negative_slope": self.negative_slope}


@config_schema(optional={"approximate": lambda v, f: _fields.text(v, f, choices=("none", "tanh"))}, size=lambda c: 0)
class GELU(_Activation):
    """``x * Phi(x)``, Phi the normal CDF (``approximate="tanh"``: its tanh approximation); ``ag.gelu``."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        self.approximate = _v.choice(approximate, "approximate", "GELU", ("none", "tanh"))

    def forward(self, x):
        return ag.gelu(x, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"

    def config(self):
        return {"type": "GELU", "approximate": self.approximate}


@config_schema(**_NOTHING)
class SiLU(_Activation):
    """``x * sigmoid(x)`` (swish; ``ag.silu``)."""
    fn = staticmethod(ag.silu)


_POSITIVE = lambda v, f: _fields.number(v, f, lo=0.0, lo_open=True)  # noqa: E731


@config_schema(optional={"beta": _POSITIVE, "threshold": _POSITIVE}, size=lambda c: 0)
class Softplus(_Activation):
    """``log(1 + exp(beta * x)) / beta``, and ``x`` itself where ``beta * x > threshold``,
    as PyTorch's (``ag.softplus`` is stable everywhere; the threshold keeps PyTorch's values)."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta = _v.number(beta, "beta", "Softplus", low=0.0, low_open=True)
        self.threshold = _v.number(threshold, "threshold", "Softplus", low=0.0, low_open=True)

    def forward(self, x):
        bx = x * self.beta if self.beta != 1.0 else x
        smooth = ag.softplus(bx)
        if self.beta != 1.0:
            smooth = smooth / self.beta
        # where beta * x > threshold: x itself (the condition is a graph value: a compiled step replays it)
        return ag.where(ag.relu(bx - self.threshold), x, smooth)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"

    def config(self):
        return {"type": "Softplus", "beta": self.beta, "threshold": self.threshold}


class _AlongAxis(_Activation):
    """Softmax and LogSoftmax: an op along ``dim``."""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = _axis(dim, type(self).__name__)

    def forward(self, x):
        return type(self).fn(x, axis=self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"

    def config(self):
        return {"type": type(self).__name__, "dim": self.dim}


@config_schema(optional={"dim": _axis_config}, size=lambda c: 0)
class Softmax(_AlongAxis):
    """``exp(x) / sum(exp(x))`` along ``dim`` (``ag.softmax``)."""
    fn = staticmethod(ag.softmax)


@config_schema(optional={"dim": _axis_config}, size=lambda c: 0)
class LogSoftmax(_AlongAxis):
    """``x - logsumexp(x)`` along ``dim`` (``ag.log_softmax``)."""
    fn = staticmethod(ag.log_softmax)
