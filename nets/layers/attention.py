"""Attention: ``MultiheadAttention`` and ``TransformerEncoderLayer``, built from the engine's ops,
with PyTorch's arguments, equations and parameter names (a PyTorch layer's ``state_dict``
loads into the one built here with the same arguments)::

    attn = nets.MultiheadAttention(embed_dim=16, num_heads=4, rng=0)
    out, weights = attn(x, x, x, is_causal=True)     # x (N, L, 16): out (N, L, 16), weights (N, L, L)
    block = nets.TransformerEncoderLayer(16, 4, dim_feedforward=64, dropout=0.0, rng=0)
    y = block(x, is_causal=True)                     # a causal (decoder-only) block: position t sees 0..t

``MultiheadAttention``: ``q, k, v = query W_q^T + b_q, key W_k^T + b_k, value W_v^T + b_v`` (the
three stacked in ``in_proj_weight`` (3E, E) and ``in_proj_bias`` (3E,), PyTorch's layout), split
into ``num_heads`` heads of ``E / num_heads`` features, ``softmax(q k^T / sqrt(E / num_heads) +
mask) v`` per head, the heads concatenated and projected by ``out_proj`` (a ``Linear``).
Initialization as PyTorch's: ``in_proj_weight`` Xavier-uniform, biases zero, ``out_proj.weight``
uniform in ``[-1/sqrt(E), 1/sqrt(E)]``.  Masks as PyTorch's: ``attn_mask`` (L, S) or
(N * num_heads, L, S), boolean (True: may not attend) or float (added to the scores);
``key_padding_mask`` (N, S), boolean (True: a padding key) or float.  Differences:
``batch_first=True`` is the default (PyTorch's is False); ``is_causal=True`` without an
``attn_mask`` builds the causal mask (PyTorch requires the mask with that hint); a query that
may attend to no key at all is an error here (PyTorch returns NaN); ``kdim``, ``vdim``,
``add_bias_kv`` and ``add_zero_attn`` are not supported.

``TransformerEncoderLayer``: PyTorch's post-norm block ``x = norm1(x + sa(x)); x = norm2(x + ff(x))``
(``norm_first=True``: ``x = x + sa(norm1(x)); x = x + ff(norm2(x))``), ``sa`` the self-attention
followed by ``dropout1``, ``ff = dropout2(linear2(dropout(activation(linear1(x)))))``.  With
``is_causal=True`` (or a causal ``src_mask``) it is the block of a decoder-only (GPT-style)
language model.
"""
from __future__ import annotations

import numpy as np

import autograd_np as ag

from ..util import fields as _fields, validate as _v
from . import init as _init
from .basic import Dropout, _as_input
from .embedding import LayerNorm
from .init import WEIGHT_BYTES
from .linear import Linear
from .module import Module
from .registry import config_schema

__all__ = ["MultiheadAttention", "TransformerEncoderLayer", "causal_mask"]


def causal_mask(size: int) -> np.ndarray:
    """The boolean (size, size) mask of a causal model: True above the diagonal (position t may
    not attend to a later one), PyTorch's ``nn.Transformer.generate_square_subsequent_mask`` as booleans."""
    size = _v.integer(size, "size", "causal_mask")
    return np.triu(np.ones((size, size), dtype=bool), k=1)


def _additive(mask, name, dtype, who):
    """A boolean or float mask as an array to add to the scores (``-inf`` where masked)."""
    if isinstance(mask, ag.Tensor):
        mask = mask.data
    arr = np.asarray(mask)
    if arr.dtype.kind == "b":
        return np.where(arr, -np.inf, 0.0).astype(dtype)
    if arr.dtype.kind != "f":
        raise TypeError(f"{who}: {name} must be a boolean or float array, got dtype {arr.dtype}")
    if np.isnan(arr).any():
        raise ValueError(f"{who}: {name} holds NaN")
    return arr.astype(dtype)


def _mha_config():
    return {"required": {"embed_dim": _fields.size, "num_heads": _fields.size},
            "optional": {"dropout": _fields.fraction, "bias": _fields.boolean, "batch_first": _fields.boolean}}


@config_schema(**_mha_config(), size=lambda c: 4 * c["embed_dim"] * (c["embed_dim"] + c.get("bias", True)))
class MultiheadAttention(Module):
    """Multi-head scaled dot-product attention, as ``torch.nn.MultiheadAttention``.

    ``MultiheadAttention(embed_dim, num_heads, dropout=0.0, bias=True, batch_first=True, rng=None,
    dtype=np.float32)``; ``embed_dim`` must be a multiple of ``num_heads``; ``dropout`` applies to
    the attention weights in training.  ``attn(query, key, value, key_padding_mask=None,
    need_weights=True, attn_mask=None, average_attn_weights=True, is_causal=False)`` returns
    ``(output, weights)``: output (N, L, E), weights (N, L, S) averaged over the heads, (N,
    num_heads, L, S) with ``average_attn_weights=False``, or None with ``need_weights=False``.
    See the module's docstring for the masks and the differences from PyTorch.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 batch_first: bool = True, rng=None, dtype=np.float32):
        super().__init__()
        who = "MultiheadAttention"
        self.embed_dim = _v.integer(embed_dim, "embed_dim", who)
        self.num_heads = _v.integer(num_heads, "num_heads", who, high=self.embed_dim)
        if self.embed_dim % self.num_heads:
            raise ValueError(f"{who}: embed_dim={self.embed_dim} must be divisible by num_heads={self.num_heads}")
        self.head_dim = self.embed_dim // self.num_heads
        self.dropout = _v.number(dropout, "dropout", who, low=0.0, high=1.0, high_open=True)
        has_bias, self.batch_first = _v.flag(bias, "bias", who), _v.flag(batch_first, "batch_first", who)
        rng, dtype = _init.rng_of(rng, "rng", who), _v.float_dtype(dtype, "dtype", who)
        e = self.embed_dim
        _v.allocation(who, f"embed_dim={e}", 4 * e * e, WEIGHT_BYTES)
        bound = np.sqrt(6.0 / (e + 3 * e))  # Xavier-uniform of the (3E, E) matrix, as PyTorch's
        self.in_proj_weight = ag.Tensor(rng.uniform(-bound, bound, (3 * e, e)).astype(dtype), requires_grad=True,
                                        name="in_proj_weight")
        self.in_proj_bias = ag.Tensor(np.zeros(3 * e, dtype), requires_grad=True, name="in_proj_bias") \
            if has_bias else None
        self.out_proj = Linear(e, e, bias=has_bias, rng=rng, dtype=dtype)
        if has_bias:
            self.out_proj.bias.data = np.zeros(e, dtype)  # PyTorch zeroes it too
        self.drop = Dropout(self.dropout, rng=rng) if self.dropout > 0 else None

    def _project(self, x, part):
        """``x W^T + b`` with the rows ``part`` (0: q, 1: k, 2: v) of the stacked projection,
        split into heads: (N, heads, length, head_dim)."""
        e = self.embed_dim
        w = self.in_proj_weight[part * e:(part + 1) * e]
        y = ag.matmul(x, w.T)
        if self.in_proj_bias is not None:
            y = y + self.in_proj_bias[part * e:(part + 1) * e]
        n, length = np.shape(x)[:2]
        return ag.swapaxes(ag.reshape(y, (n, length, self.num_heads, self.head_dim)), 1, 2)

    def _inputs(self, query, key, value):
        dtype, who = self.in_proj_weight.dtype, self._name()
        xs = [_as_input(v, dtype) for v in (query, key, value)]
        shapes = [tuple(np.shape(v)) for v in xs]
        layout = "(batch, length, embed_dim)" if self.batch_first else "(length, batch, embed_dim)"
        for name, shape in zip(("query", "key", "value"), shapes):
            if len(shape) != 3 or shape[2] != self.embed_dim or 0 in shape:
                raise ValueError(f"{who}: {name} of shape {shape}; need {layout} with embed_dim={self.embed_dim}")
        if not self.batch_first:
            xs = [ag.swapaxes(v, 0, 1) for v in xs]
            shapes = [(s[1], s[0], s[2]) for s in shapes]
        if shapes[1] != shapes[2] or shapes[0][0] != shapes[1][0]:
            raise ValueError(f"{who}: query {shapes[0]}, key {shapes[1]} and value {shapes[2]} (batch first): key "
                             "and value must have the same shape, and all three the same batch size")
        return xs, shapes[0][0], shapes[0][1], shapes[1][1]

    def _mask(self, n, length, source, attn_mask, key_padding_mask, is_causal):
        """The additive mask (broadcasting to (N, heads, L, S)) or None; refuses a query row that
        may attend to no key (its softmax would be NaN)."""
        who, dtype, h = self._name(), self.in_proj_weight.dtype, self.num_heads
        total = None
        if _v.flag(is_causal, "is_causal", who) and attn_mask is None:
            if length != source:
                raise ValueError(f"{who}: is_causal=True needs as many queries as keys, got {length} and {source}")
            attn_mask = causal_mask(length)
        if attn_mask is not None:
            m = _additive(attn_mask, "attn_mask", dtype, who)
            if m.shape == (length, source):
                total = m
            elif m.shape == (n * h, length, source):
                total = m.reshape(n, h, length, source)
            else:
                raise ValueError(f"{who}: attn_mask of shape {m.shape}; need (L, S) = {(length, source)} or "
                                 f"(N * num_heads, L, S) = {(n * h, length, source)}")
        if key_padding_mask is not None:
            m = _additive(key_padding_mask, "key_padding_mask", dtype, who)
            if m.shape != (n, source):
                raise ValueError(f"{who}: key_padding_mask of shape {m.shape}; need (N, S) = {(n, source)}")
            m = m[:, None, None, :]
            total = m if total is None else total + m
        if total is not None:
            blocked = np.all(np.isneginf(np.broadcast_to(total, np.broadcast_shapes(total.shape, (n, 1, length, 1)))),
                             axis=-1)
            if blocked.any():
                where = tuple(int(i) for i in np.argwhere(blocked)[0])
                raise ValueError(f"{who}: the masks leave query {where[-1]} (batch/head index {where[:-1]}) no key "
                                 "to attend to: its attention would be NaN")
        return total

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        who = self._name()
        need_weights = _v.flag(need_weights, "need_weights", who)
        average = _v.flag(average_attn_weights, "average_attn_weights", who)
        (query, key, value), n, length, source = self._inputs(query, key, value)
        mask = self._mask(n, length, source, attn_mask, key_padding_mask, is_causal)
        q, k, v = self._project(query, 0), self._project(key, 1), self._project(value, 2)
        scores = ag.matmul(q, ag.swapaxes(k, -1, -2)) * (1.0 / np.sqrt(self.head_dim))
        if mask is not None:
            scores = scores + mask
        weights = ag.softmax(scores, axis=-1)
        used = self.drop(weights) if self.drop is not None else weights
        heads = ag.matmul(used, v)  # (N, heads, L, head_dim)
        out = self.out_proj(ag.reshape(ag.swapaxes(heads, 1, 2), (n, length, self.embed_dim)))
        if not self.batch_first:
            out = ag.swapaxes(out, 0, 1)
        if not need_weights:
            return out, None
        return out, (ag.mean(weights, axis=1) if average else weights)

    def _name(self):
        return f"MultiheadAttention({self.embed_dim}, {self.num_heads})"

    def extra_repr(self):
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}" + (
            f", dropout={self.dropout}" if self.dropout else "")

    def config(self):
        return {"type": "MultiheadAttention", "embed_dim": self.embed_dim, "num_heads": self.num_heads,
                "dropout": self.dropout, "bias": self.in_proj_bias is not None, "batch_first": self.batch_first}


_ACTIVATIONS = {"relu": ag.relu, "gelu": ag.gelu}


def _encoder_size(c):
    d, f, b = c["d_model"], c.get("dim_feedforward", 2048), c.get("bias", True)
    return 4 * d * (d + b) + 2 * d * f + f * b + d * b + 2 * d * (1 + b)  # attention, feed-forward, norms


@config_schema(required={"d_model": _fields.size, "nhead": _fields.size},
               optional={"dim_feedforward": _fields.size, "dropout": _fields.fraction,
                         "activation": lambda v, f: _fields.text(v, f, tuple(_ACTIVATIONS)),
                         "layer_norm_eps": lambda v, f: _fields.number(v, f, lo=0.0, lo_open=True),
                         "batch_first": _fields.boolean, "norm_first": _fields.boolean, "bias": _fields.boolean},
               size=_encoder_size)
class TransformerEncoderLayer(Module):
    """A transformer block: self-attention and a feed-forward network, each with a residual
    connection and a layer norm, as ``torch.nn.TransformerEncoderLayer``.

    ``TransformerEncoderLayer(d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
    layer_norm_eps=1e-5, batch_first=True, norm_first=False, bias=True, rng=None, dtype=np.float32)``
    (``activation``: "relu" or "gelu"); ``layer(src, src_mask=None, src_key_padding_mask=None,
    is_causal=False)``.  Sub-modules and parameter names as PyTorch's: ``self_attn``,
    ``linear1``, ``linear2``, ``norm1``, ``norm2`` (and ``dropout``, ``dropout1``, ``dropout2``).
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str = "relu", layer_norm_eps: float = 1e-5, batch_first: bool = True,
                 norm_first: bool = False, bias: bool = True, rng=None, dtype=np.float32):
        super().__init__()
        who = "TransformerEncoderLayer"
        d_model, nhead = _v.integer(d_model, "d_model", who), _v.integer(nhead, "nhead", who)
        dim_feedforward = _v.integer(dim_feedforward, "dim_feedforward", who)
        p = _v.number(dropout, "dropout", who, low=0.0, high=1.0, high_open=True)
        self.activation = _v.choice(activation, "activation", who, tuple(_ACTIVATIONS))
        eps = _v.number(layer_norm_eps, "layer_norm_eps", who, low=0.0, low_open=True)
        self.batch_first, self.norm_first = _v.flag(batch_first, "batch_first", who), _v.flag(norm_first,
                                                                                               "norm_first", who)
        bias, rng = _v.flag(bias, "bias", who), _init.rng_of(rng, "rng", who)
        if d_model % nhead:
            raise ValueError(f"{who}: d_model={d_model} must be divisible by nhead={nhead}")
        _v.allocation(who, f"d_model={d_model} and dim_feedforward={dim_feedforward}",
                      _encoder_size({"d_model": d_model, "dim_feedforward": dim_feedforward}), WEIGHT_BYTES)
        dtype = _v.float_dtype(dtype, "dtype", who)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=p, bias=bias, batch_first=True, rng=rng,
                                            dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, rng=rng, dtype=dtype)
        self.dropout = Dropout(p, rng=rng)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, rng=rng, dtype=dtype)
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1, self.dropout2 = Dropout(p, rng=rng), Dropout(p, rng=rng)
        self._args = dict(d_model=d_model, nhead=nhead, dim_feedforward=dim_feedforward, dropout=p,
                          activation=self.activation, layer_norm_eps=eps, batch_first=self.batch_first,
                          norm_first=self.norm_first, bias=bias)

    def _sa(self, x, mask, padding, is_causal):
        out, _ = self.self_attn(x, x, x, key_padding_mask=padding, need_weights=False, attn_mask=mask,
                                is_causal=is_causal)
        return self.dropout1(out)

    def _ff(self, x):
        return self.dropout2(self.linear2(self.dropout(_ACTIVATIONS[self.activation](self.linear1(x)))))

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        x = _as_input(src, self.linear1.weight.dtype)
        if np.ndim(x) != 3:
            raise ValueError(f"TransformerEncoderLayer: src of shape {tuple(np.shape(x))}; need "
                             f"{'(batch, length, d_model)' if self.batch_first else '(length, batch, d_model)'}")
        if not self.batch_first:
            x = ag.swapaxes(x, 0, 1)
        if self.norm_first:
            x = x + self._sa(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff(self.norm2(x))
        else:
            x = self.norm1(x + self._sa(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff(x))
        return x if self.batch_first else ag.swapaxes(x, 0, 1)

    def extra_repr(self):
        return f"d_model={self._args['d_model']}, nhead={self._args['nhead']}"

    def config(self):
        return {"type": "TransformerEncoderLayer", **self._args}
