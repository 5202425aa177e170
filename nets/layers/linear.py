"""``Linear``: PyTorch's ``nn.Linear``, with its weight layout, names and initialization.

``Affine`` is the seeds' dense layer: ``W`` of shape (in, out), He or Xavier
normal weights, a zero bias, ``y = x @ W + b``.  ``Linear`` is PyTorch's: ``weight``
of shape (out_features, in_features), ``bias`` of shape (out_features,) (or none),
both drawn uniformly from ``[-1/sqrt(in_features), 1/sqrt(in_features)]`` (what
``torch.nn.Linear.reset_parameters`` draws), ``y = x @ weight.T + bias`` over the
last axis of an input of any number of axes.  The parameter names are PyTorch's, so a
PyTorch model's ``state_dict`` loads into the same architecture built here::

    net.load_state_dict({k: v.numpy() for k, v in torch_net.state_dict().items()})
"""
from __future__ import annotations

import numpy as np

import autograd_np as ag

from ..util import fields as _fields, validate as _v
from . import init as _init
from .basic import _as_input
from .init import WEIGHT_BYTES
from .module import Module
from .registry import config_schema

__all__ = ["Linear"]


def _linear_size(c):
    return c["in_features"] * c["out_features"] + (c["out_features"] if c.get("bias", True) else 0)


@config_schema(required={"in_features": _fields.size, "out_features": _fields.size},
               optional={"bias": _fields.boolean}, size=_linear_size)
class Linear(Module):
    """PyTorch's fully connected layer: ``y = x @ weight.T + bias``.

    ``Linear(in_features, out_features, bias=True, rng=None, dtype=np.float32)``:
    ``weight`` (out_features, in_features) and ``bias`` (out_features,), both
    uniform in ``[-k, k]`` with ``k = 1 / sqrt(in_features)`` (PyTorch's default
    initialization), drawn from ``rng`` (a seed or Generator); ``bias=False``
    leaves ``bias`` None.  The input's last axis has ``in_features`` values; any
    axes before it are kept (``(N, in)``, ``(N, T, in)``).  Unlike ``Affine``
    (the seeds' ``W`` of shape (in, out), He or Xavier normal weights, a zero bias).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, rng=None, dtype=np.float32):
        super().__init__()
        who = "Linear"
        self.in_features = _v.integer(in_features, "in_features", who)
        self.out_features = _v.integer(out_features, "out_features", who)
        has_bias = _v.flag(bias, "bias", who)
        rng, dtype = _init.rng_of(rng, "rng", who), _v.float_dtype(dtype, "dtype", who)
        _v.allocation(who, f"in_features={self.in_features} and out_features={self.out_features}",
                      self.in_features * self.out_features, WEIGHT_BYTES)
        k = 1.0 / np.sqrt(self.in_features)
        weight = rng.uniform(-k, k, (self.out_features, self.in_features)).astype(dtype)
        self.weight = ag.Tensor(weight, requires_grad=True, name="weight")
        self.bias = None
        if has_bias:
            self.bias = ag.Tensor(rng.uniform(-k, k, self.out_features).astype(dtype), requires_grad=True, name="bias")

    def forward(self, x):
        x = _as_input(x, self.weight.dtype)
        if self.bias is not None and np.ndim(x) <= 2:
            return ag.affine(x, self.weight.T, self.bias)  # one fused node for the usual (N, in)
        y = ag.matmul(x, self.weight.T)
        return y if self.bias is None else y + self.bias

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"

    def config(self):
        return {"type": "Linear", "in_features": self.in_features, "out_features": self.out_features,
                "bias": self.bias is not None}
