"""Character-level language models, their held-out loss, sampling, and n-gram baselines.

    model = nets.models.CharLSTM(vocab_size=len(vocab), embedding_dim=32, hidden_size=128, rng=0)
    nets.fit(model, nets.optim.Adam(model, lr=3e-3), nets.SequenceLoader(train_ids, 32, 64), epochs=2)
    nats = nets.models.text_loss(model, test_ids)          # mean -log p(next char), in nats
    ids = nets.models.generate(model, vocab.encode("A "), 200, temperature=0.8, rng=0)

``CharLSTM`` carries its state (truncated BPTT: ``nets.training.bptt``); ``CharTransformer``
is a small causal (decoder-only, GPT-style) transformer that sees the last ``context``
characters.  Both map token ids (N, T) to logits (N, T, vocab_size); the criterion is the
softmax cross-entropy over every position (nats per character; divide by ln 2 for bits).
``ngram_baselines`` gives what a unigram and a bigram model score on the same text.
"""
from __future__ import annotations

import math

import numpy as np

import autograd_np as ag

from ..layers import init as _init
from ..layers.attention import TransformerEncoderLayer, _encoder_size
from ..layers.embedding import Embedding, LayerNorm, token_ids
from ..layers.init import WEIGHT_BYTES
from ..layers.linear import Linear
from ..layers.module import Module
from ..layers.recurrent import LSTM, _layer_sizes
from ..layers.registry import config_schema
from ..util import fields as _fields, validate as _v

__all__ = ["CharLSTM", "CharTransformer", "text_loss", "generate", "ngram_baselines", "unigram_loss", "bigram_loss",
           "BITS_PER_NAT"]

BITS_PER_NAT = 1.0 / math.log(2.0)


def _lstm_size(c):
    """The numbers a CharLSTM's config makes (checked against a checkpoint's arrays before building)."""
    v, e, h = c["vocab_size"], c.get("embedding_dim", 64), c.get("hidden_size", 256)
    return v * e + _layer_sizes({"input_size": e, "hidden_size": h, "num_layers": c.get("num_layers", 1)}, 4) \
        + h * v + v


def _transformer_size(c):
    v, d, f = c["vocab_size"], c.get("d_model", 64), c.get("dim_feedforward", 256)
    block = _encoder_size({"d_model": d, "dim_feedforward": f})
    return (v + c.get("context", 64)) * d + c.get("num_layers", 2) * block + 2 * d + d * v + v


@config_schema(required={"vocab_size": _fields.size},
               optional={"embedding_dim": _fields.size, "hidden_size": _fields.size,
                         "num_layers": lambda v, f: _fields.integer(v, f, lo=1, hi=_fields.MAX_LAYERS),
                         "dropout": _fields.fraction},
               size=_lstm_size)
class CharLSTM(Module):
    """Embedding -> LSTM -> Linear: a character-level language model with a state.

    ``CharLSTM(vocab_size, embedding_dim=64, hidden_size=256, num_layers=1, dropout=0.0, rng=None,
    dtype=np.float32)``.  ``model(x)``: logits (N, T, vocab_size) for ids ``x`` (N, T), from a
    zero state; ``model(x, state=s, return_state=True)``: ``(logits, (h, c))`` continuing from
    ``s`` (what truncated BPTT and ``generate`` use).  Parameters ``embedding.weight``,
    ``lstm.*`` (PyTorch's names), ``head.weight``, ``head.bias``."""

    def __init__(self, vocab_size: int, embedding_dim: int = 64, hidden_size: int = 256, num_layers: int = 1,
                 dropout: float = 0.0, rng=None, dtype=np.float32):
        super().__init__()
        who = "CharLSTM"  # every argument checked here, so that a message names CharLSTM's argument
        self.vocab_size = _v.integer(vocab_size, "vocab_size", who)
        sizes = {"vocab_size": self.vocab_size, **{name: _v.integer(value, name, who) for name, value in (
            ("embedding_dim", embedding_dim), ("hidden_size", hidden_size))},
            "num_layers": _v.integer(num_layers, "num_layers", who, high=_fields.MAX_LAYERS)}
        dropout = _v.number(dropout, "dropout", who, low=0.0, high=1.0, high_open=True)
        rng, dtype = _init.rng_of(rng, "rng", who), _v.float_dtype(dtype, "dtype", who)
        _v.allocation(who, ", ".join(f"{k}={v}" for k, v in sizes.items()), _lstm_size(sizes), WEIGHT_BYTES)
        self.embedding = Embedding(self.vocab_size, sizes["embedding_dim"], rng=rng, dtype=dtype)
        self.lstm = LSTM(sizes["embedding_dim"], sizes["hidden_size"], sizes["num_layers"], dropout=dropout, rng=rng,
                         dtype=dtype)
        self.head = Linear(self.lstm.hidden_size, self.vocab_size, rng=rng, dtype=dtype)

    def forward(self, x, state=None, return_state=False):
        out, state = self.lstm(self.embedding(x), state)
        y = self.head(out)
        return (y, state) if return_state else y

    def config(self):
        return {"type": "CharLSTM", "vocab_size": self.vocab_size, "embedding_dim": self.embedding.embedding_dim,
                "hidden_size": self.lstm.hidden_size, "num_layers": self.lstm.num_layers,
                "dropout": self.lstm.dropout}


@config_schema(required={"vocab_size": _fields.size},
               optional={"context": _fields.size, "d_model": _fields.size, "nhead": _fields.size,
                         "num_layers": lambda v, f: _fields.integer(v, f, lo=1, hi=_fields.MAX_LAYERS),
                         "dim_feedforward": _fields.size, "dropout": _fields.fraction},
               size=_transformer_size)
class CharTransformer(Module):
    """A small causal transformer (decoder-only, GPT-style) over characters.

    ``CharTransformer(vocab_size, context=64, d_model=64, nhead=4, num_layers=2,
    dim_feedforward=256, dropout=0.0, rng=None, dtype=np.float32)``: token and position
    embeddings (``token``, ``position``: learned, ``context`` positions), ``num_layers``
    pre-norm ``TransformerEncoderLayer`` blocks with GELU under a causal mask (position t sees
    positions 0..t), a final ``LayerNorm`` and a ``Linear`` head.  ``model(x)``: logits
    (N, T, vocab_size) for ids (N, T) with T <= ``context`` (a longer input is an error)."""

    def __init__(self, vocab_size: int, context: int = 64, d_model: int = 64, nhead: int = 4, num_layers: int = 2,
                 dim_feedforward: int = 256, dropout: float = 0.0, rng=None, dtype=np.float32):
        super().__init__()
        who = "CharTransformer"  # every argument checked here, so that a message names CharTransformer's argument
        self.vocab_size = _v.integer(vocab_size, "vocab_size", who)
        self.context = _v.integer(context, "context", who, high=_fields.MAX_UNITS)
        d_model, dim_feedforward = _v.integer(d_model, "d_model", who), _v.integer(dim_feedforward,
                                                                                    "dim_feedforward", who)
        nhead = _v.integer(nhead, "nhead", who, high=d_model)
        num_layers = _v.integer(num_layers, "num_layers", who, high=_fields.MAX_LAYERS)
        dropout = _v.number(dropout, "dropout", who, low=0.0, high=1.0, high_open=True)
        rng, dtype = _init.rng_of(rng, "rng", who), _v.float_dtype(dtype, "dtype", who)
        if d_model % nhead:
            raise ValueError(f"{who}: d_model={d_model} must be divisible by nhead={nhead}")
        sizes = {"vocab_size": self.vocab_size, "context": self.context, "d_model": d_model,
                 "dim_feedforward": dim_feedforward, "num_layers": num_layers}
        _v.allocation(who, ", ".join(f"{k}={v}" for k, v in sizes.items()), _transformer_size(sizes), WEIGHT_BYTES)
        self.token = Embedding(self.vocab_size, d_model, rng=rng, dtype=dtype)
        self.position = Embedding(self.context, d_model, rng=rng, dtype=dtype)
        for emb in (self.token, self.position):  # N(0, 0.02) as GPT-2's, not PyTorch's N(0, 1): a stable start
            emb.weight.data *= emb.weight.dtype.type(0.02)
        self.blocks = [TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation="gelu",
                                               norm_first=True, rng=rng, dtype=dtype) for _ in range(num_layers)]
        self.norm = LayerNorm(d_model, dtype=dtype)
        self.head = Linear(d_model, self.vocab_size, rng=rng, dtype=dtype)
        first = self.blocks[0]
        self._args = dict(d_model=d_model, nhead=first.self_attn.num_heads, num_layers=num_layers,
                          dim_feedforward=first.linear1.out_features, dropout=first.self_attn.dropout)

    def forward(self, x):
        ids = token_ids(x, self.vocab_size, "CharTransformer")
        if ids.ndim != 2 or ids.shape[1] > self.context:
            raise ValueError(f"CharTransformer: ids of shape {ids.shape}; need (batch, length) with length <= "
                             f"context={self.context}")
        h = self.token(ids) + self.position(np.arange(ids.shape[1]))
        for block in self.blocks:
            h = block(h, is_causal=True)
        return self.head(self.norm(h))

    def config(self):
        return {"type": "CharTransformer", "vocab_size": self.vocab_size, "context": self.context, **self._args}


def _stream(ids, who, name="ids"):
    ids = np.asarray(ids)
    if ids.ndim != 1 or ids.dtype.kind not in "iu" or ids.size < 2:
        raise ValueError(f"{who}: {name} must be a 1-d array of at least 2 integer token ids, got {ids.dtype} "
                         f"of shape {ids.shape}")
    return ids


def text_loss(model: Module, ids, seq_len: int = 256, batch_size: int = 16) -> float:
    """The mean ``-log p(ids[i + 1] | ids[:i + 1])`` over a token stream, in nats per token (eval
    mode, no graph).  A model with a state (``CharLSTM``) reads the stream as ``batch_size``
    consecutive pieces side by side, each in chunks of ``seq_len`` with the state carried:
    every token is predicted from everything before it in its piece.  A ``CharTransformer``
    reads windows of its ``context``, half overlapping (``batch_size`` windows at a time):
    every token but those of the first window is predicted from at least ``context // 2``
    tokens before it."""
    ids = _stream(ids, "text_loss")
    seq_len = _v.integer(seq_len, "seq_len", "text_loss")
    batch_size = _v.integer(batch_size, "batch_size", "text_loss")
    was_training = model.training
    model.eval()
    try:
        with ag.no_grad():
            scorer = _windowed_loss if hasattr(model, "context") else _carried_loss
            total = scorer(model, ids[:-1], ids[1:], seq_len, batch_size)
    finally:
        model.train(was_training)
    return total / (len(ids) - 1)


def _summed_nll(y, targets, first=0):
    """The summed ``-log p`` of ``targets`` (B, T) under logits ``y`` (B, T', V), from position ``first``."""
    logp = ag.log_softmax(y, axis=-1).data[:, first:]
    rows, cols = np.indices(targets[:, first:].shape)
    return float(-logp[rows, cols, targets[:, first:]].sum())


def _carried_loss(model, x_all, t_all, seq_len, batch_size):
    """Pieces side by side (the rest, shorter than a piece per row, on its own), state carried."""
    piece = len(x_all) // batch_size
    parts = [(0, piece, batch_size)] if piece else []
    if len(x_all) - piece * batch_size:
        parts.append((piece * batch_size, len(x_all) - piece * batch_size, 1))
    total = 0.0
    for start, length, rows in parts:
        xs = x_all[start:start + length * rows].reshape(rows, length)
        ts = t_all[start:start + length * rows].reshape(rows, length)
        state = None
        for lo in range(0, length, seq_len):
            y, state = model(xs[:, lo:lo + seq_len], state=state, return_state=True)
            total += _summed_nll(y, ts[:, lo:lo + seq_len])
    return total


def _windowed_loss(model, x_all, t_all, seq_len, batch_size):
    """Windows of ``context`` tokens every ``context // 2`` (the last one ending at the end); each
    scores the tokens no earlier window did."""
    c = min(model.context, len(x_all))
    step = max(1, c // 2)
    starts = list(range(0, len(x_all) - c + 1, step))
    if starts[-1] != len(x_all) - c:
        starts.append(len(x_all) - c)
    firsts = [0] + [prev + c - lo for prev, lo in zip(starts, starts[1:])]  # first position not scored yet
    total = 0.0
    for b in range(0, len(starts), batch_size):
        group = starts[b:b + batch_size]
        idx = np.asarray(group)[:, None] + np.arange(c)
        y = model(x_all[idx])
        for row, first in enumerate(firsts[b:b + batch_size]):
            total += _summed_nll(y.data[row:row + 1], t_all[idx[row:row + 1]], first)
    return total


def generate(model: Module, prompt, length: int, temperature: float = 1.0, rng=None) -> np.ndarray:
    """``length`` token ids sampled one after another from ``model``'s predictions, after the
    ``prompt`` ids (a 1-d array, at least one id); returns the new ids.  ``temperature``
    divides the logits (below 1: likelier tokens, above: more varied); ``rng`` a seed or
    Generator.  Eval mode, no graph; a ``CharLSTM`` carries its state, a ``CharTransformer``
    sees the last ``context`` ids."""
    who = "generate"
    prompt = np.asarray(prompt)
    if prompt.ndim != 1 or prompt.dtype.kind not in "iu" or prompt.size == 0:
        raise ValueError(f"{who}: prompt must be a 1-d array of at least one token id, got {prompt.dtype} of shape "
                         f"{prompt.shape}")
    length = _v.integer(length, "length", who, low=0)
    temperature = _v.number(temperature, "temperature", who, low=0.0, low_open=True)
    rng = _init.rng_of(rng, "rng", who)
    out, was_training = [], model.training
    model.eval()
    try:
        with ag.no_grad():
            if hasattr(model, "context"):
                ids = list(prompt)
                for _ in range(length):
                    y = model(np.asarray(ids[-model.context:])[None])
                    ids.append(_draw(y.data[0, -1], temperature, rng))
                    out.append(ids[-1])
            else:
                y, state = model(prompt[None], return_state=True)
                for _ in range(length):
                    out.append(_draw(y.data[0, -1], temperature, rng))
                    y, state = model(np.array([[out[-1]]]), state=state, return_state=True)
    finally:
        model.train(was_training)
    return np.asarray(out, dtype=np.int64)


def _draw(logits, temperature, rng):
    z = logits.astype(np.float64) / temperature
    p = np.exp(z - z.max())
    return int(rng.choice(len(p), p=p / p.sum()))


# --- baselines --------------------------------------------------------------------------------

def unigram_loss(train_ids, eval_ids, vocab_size: int) -> float:
    """Nats per token of a unigram model (add-one smoothed character frequencies of ``train_ids``)
    on ``eval_ids`` (every token of it, the first one too)."""
    vocab_size = _v.integer(vocab_size, "vocab_size", "unigram_loss")
    counts = np.bincount(_stream(train_ids, "unigram_loss", "train_ids"), minlength=vocab_size) + 1.0
    p = counts / counts.sum()
    return float(-np.log(p[_stream(eval_ids, "unigram_loss", "eval_ids")]).mean())


def bigram_loss(train_ids, eval_ids, vocab_size: int, alpha: float = 1.0) -> float:
    """Nats per token of a bigram model on ``eval_ids[1:]`` given the previous token:
    ``p(b | a) = (count(a, b) + alpha * p_unigram(b)) / (count(a) + alpha)`` (counts from
    ``train_ids``; the unigram add-one smoothed): a bigram backing off to the unigram where ``a``
    was rarely seen."""
    who = "bigram_loss"
    vocab_size = _v.integer(vocab_size, "vocab_size", who)
    alpha = _v.number(alpha, "alpha", who, low=0.0, low_open=True)
    tr, ev = _stream(train_ids, who, "train_ids"), _stream(eval_ids, who, "eval_ids")
    uni = np.bincount(tr, minlength=vocab_size) + 1.0
    uni /= uni.sum()
    pairs = np.bincount(tr[:-1].astype(np.int64) * vocab_size + tr[1:], minlength=vocab_size * vocab_size)
    pair_counts = pairs[ev[:-1].astype(np.int64) * vocab_size + ev[1:]]
    first = np.bincount(tr[:-1], minlength=vocab_size)[ev[:-1]]
    p = (pair_counts + alpha * uni[ev[1:]]) / (first + alpha)
    return float(-np.log(p).mean())


def ngram_baselines(train_ids, val_ids, test_ids, vocab_size: int) -> dict:
    """``{"unigram": nats, "bigram": nats, "bigram_alpha": alpha}`` on ``test_ids``, the bigram's
    ``alpha`` chosen on ``val_ids`` (from 0.01 to 1000)."""
    alphas = 10.0 ** np.arange(-2, 3.5, 0.5)
    best = min(alphas, key=lambda a: bigram_loss(train_ids, val_ids, vocab_size, a))
    return {"unigram": unigram_loss(train_ids, test_ids, vocab_size),
            "bigram": bigram_loss(train_ids, test_ids, vocab_size, best), "bigram_alpha": float(best)}
