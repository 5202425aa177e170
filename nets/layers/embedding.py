"""``Embedding`` and ``LayerNorm``: the layer classes of the ops ``ag.embedding`` and
``ag.layer_norm``, with PyTorch's arguments, parameter names and initialization, so a
PyTorch ``state_dict`` loads into them as it is::

    emb = nets.Embedding(65, 32, rng=0)        # weight (65, 32), N(0, 1) as PyTorch's
    h = emb(np.array([[1, 4, 2]]))              # (1, 3, 32)
    norm = nets.LayerNorm(32)                   # weight ones (32,), bias zeros (32,)
    y = norm(h)                                 # normalized over the last axis

Indices are integers in ``[0, num_embeddings)``: a negative or too large index is an
``IndexError`` naming the layer and the index (NumPy would wrap a negative one around,
silently); floats are taken when they hold whole numbers (a float64 copy of token ids,
as ``nets.gradient_check`` makes), any other float is refused.
"""
from __future__ import annotations

import numbers

import numpy as np

import autograd_np as ag

from ..util import fields as _fields, validate as _v
from . import init as _init
from .basic import _as_input
from .init import WEIGHT_BYTES
from .module import Module
from .registry import config_schema

__all__ = ["Embedding", "LayerNorm", "token_ids"]

_MAX_AXES = 64


def token_ids(x, vocabulary: int, who: str) -> np.ndarray:
    """``x`` as an integer array of indices in ``[0, vocabulary)``, or a clear error naming ``who``.

    Integer arrays (or tensors) pass; float arrays pass when every value is a whole number
    (e.g. the float64 copy ``gradient_check`` makes of token ids); booleans, other floats and
    indices out of range are refused (NumPy would wrap a negative index silently)."""
    ids = np.asarray(x.data if isinstance(x, ag.Tensor) else x)
    if ids.dtype.kind == "f":
        if ids.size and not np.all(np.isfinite(ids) & (ids == np.round(ids))):
            bad = ids[~(np.isfinite(ids) & (ids == np.round(ids)))].ravel()[:3].tolist()
            raise TypeError(f"{who}: indices must be integers, got floats such as {bad}")
        ids = ids.astype(np.int64)
    elif ids.dtype.kind not in "iu":
        raise TypeError(f"{who}: indices must be an array of integers, got dtype {ids.dtype} "
                        f"(shape {ids.shape})")
    if ids.size:
        lo, hi = int(ids.min()), int(ids.max())
        if lo < 0 or hi >= vocabulary:
            worst = lo if lo < 0 else hi
            where = tuple(int(i) for i in np.argwhere(ids == worst)[0])
            raise IndexError(f"{who}: index {worst} at {where} is out of range for num_embeddings={vocabulary} "
                             f"(indices must be in [0, {vocabulary - 1}])")
    return ids


def _padding_config(v, field):
    return None if v is None else _fields.integer(v, field, lo=-_fields.MAX_UNITS, hi=_fields.MAX_UNITS)


@config_schema(required={"num_embeddings": _fields.size, "embedding_dim": _fields.size},
               optional={"padding_idx": _padding_config},
               size=lambda c: c["num_embeddings"] * c["embedding_dim"])
class Embedding(Module):
    """A lookup table of ``num_embeddings`` vectors of ``embedding_dim`` values: ``weight[x]``.

    ``Embedding(num_embeddings, embedding_dim, padding_idx=None, rng=None, dtype=np.float32)``:
    ``weight`` (num_embeddings, embedding_dim) drawn from N(0, 1) (PyTorch's default), from
    ``rng`` (a seed or Generator).  Input: integer indices of any shape; output: that shape
    plus ``(embedding_dim,)``.  ``padding_idx`` (negative counts from the end, as PyTorch's):
    that row starts at zero and gets no gradient.  The gradient of a row is the sum of the
    gradients of its uses (``ag.embedding``, a recorded ``getitem``).
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx=None, rng=None, dtype=np.float32):
        super().__init__()
        who = "Embedding"
        self.num_embeddings = _v.integer(num_embeddings, "num_embeddings", who)
        self.embedding_dim = _v.integer(embedding_dim, "embedding_dim", who)
        if padding_idx is not None:
            n = self.num_embeddings
            padding_idx = _v.integer(padding_idx, "padding_idx", who, low=-n, high=n - 1,
                                     wanted=f"None or an integer in [{-n}, {n - 1}] (a row of the table)")
            padding_idx %= n
        self.padding_idx = padding_idx
        rng, dtype = _init.rng_of(rng, "rng", who), _v.float_dtype(dtype, "dtype", who)
        _v.allocation(who, f"num_embeddings={self.num_embeddings} and embedding_dim={self.embedding_dim}",
                      self.num_embeddings * self.embedding_dim, WEIGHT_BYTES)
        weight = rng.standard_normal((self.num_embeddings, self.embedding_dim)).astype(dtype)
        if padding_idx is not None:
            weight[padding_idx] = 0
        self.weight = ag.Tensor(weight, requires_grad=True, name="weight")

    def forward(self, x):
        ids = token_ids(x, self.num_embeddings, "Embedding")
        out = ag.embedding(ids, self.weight)
        if self.padding_idx is None or not np.any(ids == self.padding_idx):
            return out
        # the padding row's value, as a constant there: no gradient reaches it (as PyTorch's)
        pad = (ids == self.padding_idx)[..., None]
        return ag.where(pad, self.weight.data[self.padding_idx], out)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}" + (
            f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")

    def config(self):
        return {"type": "Embedding", "num_embeddings": self.num_embeddings, "embedding_dim": self.embedding_dim,
                "padding_idx": self.padding_idx}


def _shape_of(normalized_shape, who):
    """``normalized_shape`` (an int or a sequence of ints >= 1) as a tuple."""
    if isinstance(normalized_shape, numbers.Integral) and not isinstance(normalized_shape, (bool, np.bool_)):
        normalized_shape = [normalized_shape]
    if isinstance(normalized_shape, (list, tuple)) and len(normalized_shape) > _MAX_AXES:
        _v.fail(ValueError, who, "normalized_shape", f"at most {_MAX_AXES} sizes", normalized_shape)
    return tuple(_v.int_list(normalized_shape, "normalized_shape", who))


def _shape_config(v, field):
    if isinstance(v, list):
        return _fields.array_of(v, field, _fields.size, _MAX_AXES)
    return _fields.size(v, field)


def _norm_size(c):
    shape = c["normalized_shape"]
    n = int(np.prod(shape if isinstance(shape, list) else [shape], dtype=object))
    return n * ((1 + c.get("bias", True)) if c.get("elementwise_affine", True) else 0)


@config_schema(required={"normalized_shape": _shape_config},
               optional={"eps": lambda v, f: _fields.number(v, f, lo=0.0, lo_open=True),
                         "elementwise_affine": _fields.boolean, "bias": _fields.boolean},
               size=_norm_size)
class LayerNorm(Module):
    """Layer normalization over the last ``len(normalized_shape)`` axes (``ag.layer_norm``).

    ``LayerNorm(normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, dtype=np.float32)``,
    as PyTorch's: ``(x - mean) / sqrt(var + eps) * weight + bias`` with the mean and (biased)
    variance of each sample over those axes; ``weight`` ones and ``bias`` zeros of
    ``normalized_shape``; ``elementwise_affine=False``: neither, ``bias=False``: no bias.  The
    same in training and evaluation (no running statistics).
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True,
                 dtype=np.float32):
        super().__init__()
        who = "LayerNorm"
        self.normalized_shape = _shape_of(normalized_shape, who)
        self.eps = _v.number(eps, "eps", who, low=0.0, low_open=True)
        self.elementwise_affine = _v.flag(elementwise_affine, "elementwise_affine", who)
        has_bias = _v.flag(bias, "bias", who)
        dtype = _v.float_dtype(dtype, "dtype", who)
        size = int(np.prod(self.normalized_shape, dtype=object))
        _v.allocation(who, f"normalized_shape={self.normalized_shape}", 2 * size, dtype.itemsize)
        self.weight = self.bias = None
        if self.elementwise_affine:
            self.weight = ag.Tensor(np.ones(self.normalized_shape, dtype), requires_grad=True, name="weight")
            if has_bias:
                self.bias = ag.Tensor(np.zeros(self.normalized_shape, dtype), requires_grad=True, name="bias")

    def forward(self, x):
        if self.weight is not None:  # (without parameters the input keeps its own dtype)
            x = _as_input(x, self.weight.dtype)
        shape, k = np.shape(x), len(self.normalized_shape)
        if tuple(shape[len(shape) - k:]) != self.normalized_shape or len(shape) < k:
            raise ValueError(f"LayerNorm{self.normalized_shape}: input of shape {tuple(shape)}: its last {k} "
                             f"ax{'is' if k == 1 else 'es'} must be {self.normalized_shape}")
        return ag.layer_norm(x, self.weight, self.bias, axis=tuple(range(-k, 0)), eps=self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"

    def config(self):
        return {"type": "LayerNorm", "normalized_shape": list(self.normalized_shape), "eps": self.eps,
                "elementwise_affine": self.elementwise_affine, "bias": self.bias is not None or
                not self.elementwise_affine}
