"""Truncated backpropagation through time: a token stream cut into ``batch_size`` parallel
streams and ``seq_len``-step chunks (``SequenceLoader``), and a training step that carries the
recurrent state from one chunk to the next with the graph cut (``CarriedStep``).

    loader = nets.SequenceLoader(train_ids, batch_size=32, seq_len=64)
    history = nets.fit(model, opt, loader, val=nets.SequenceLoader(val_ids, 8, 64), epochs=3)

Batch ``k`` holds chunk ``k`` of every stream, so row ``b`` of batch ``k`` continues row ``b``
of batch ``k - 1``.  With such a loader ``fit`` carries the state when the model can give it:
a model whose ``forward`` takes ``state`` and ``return_state`` (``model(x, state=s,
return_state=True)`` returns ``(y, new_state)``, ``model(x)`` returns ``y`` starting from zeros:
``nets.models.CharLSTM`` does).  Each step starts from the previous chunk's final state as a
*constant* (``detach``): its value flows forward across chunks, its gradient stops at the chunk's
start, so the memory and the time of a backward are those of ``seq_len`` steps whatever the
length of the stream.  The state is reset (zeros) at the start of every epoch, and the
validation and test loaders (when they are ``SequenceLoader``\\ s) are scored the same way, in
order, with their own carried state.  A model without a state (a transformer with a fixed
context) is trained on the same chunks, each on its own.

Not with ``compile=True`` (the carried state would be an input of the traced step) nor on
several MPI ranks: ``fit`` says so before training.
"""
from __future__ import annotations

import inspect

import numpy as np

import autograd_np as ag

from ..util import validate as _v
from .data import DataLoader
from .evaluation import eval_scores

__all__ = ["SequenceLoader", "CarriedStep", "carries_state", "detach_state", "step_for"]


def _token_stream(tokens, who):
    ids = np.asarray(tokens.data if isinstance(tokens, ag.Tensor) else tokens)
    if ids.ndim != 1 or ids.dtype.kind not in "iu":
        raise TypeError(f"{who}: tokens must be a 1-d array of integer token ids, got dtype {ids.dtype} of shape "
                        f"{ids.shape}")
    if ids.size and ids.min() < 0:
        raise ValueError(f"{who}: tokens must be >= 0 (token ids), got {int(ids.min())} at {int(ids.argmin())}")
    return ids


class SequenceLoader(DataLoader):
    """Batches of a token stream in the order of truncated backpropagation through time.

    ``SequenceLoader(tokens, batch_size=32, seq_len=64)``: ``tokens`` a 1-d array of integer
    ids, cut into ``batch_size`` streams of equal length (stream ``b`` starts at ``b *
    len(tokens) // batch_size``, roughly), each into chunks of ``seq_len``; batch ``k`` is
    ``(x, t)`` of shape ``(batch_size, seq_len)``: chunk ``k`` of every stream and the tokens
    that follow each (``t[b, i] = tokens[j + 1]`` where ``x[b, i] = tokens[j]``).  Never shuffled
    (the state carried from a batch to the next needs the order).  The end of each stream that
    does not fill a chunk is left out (``dropped`` tokens, fewer than ``batch_size * (seq_len +
    1)``).  A ``DataLoader``: ``x`` and ``t`` hold every batch's rows, batch after batch.
    """

    def __init__(self, tokens, batch_size: int = 32, seq_len: int = 64):
        who = "SequenceLoader"
        ids = _token_stream(tokens, who)
        batch_size = _v.integer(batch_size, "batch_size", who)
        self.seq_len = _v.integer(seq_len, "seq_len", who)
        stride = (len(ids) - 1) // batch_size  # tokens per stream, the last one only a target
        chunks = stride // self.seq_len
        if chunks == 0:
            raise ValueError(f"{who}: {len(ids)} tokens cannot fill one chunk of seq_len={self.seq_len} in each of "
                             f"batch_size={batch_size} streams: need at least "
                             f"{batch_size * self.seq_len + 1} tokens")
        used = chunks * self.seq_len
        starts = np.arange(batch_size) * stride
        steps = np.arange(used)
        x = ids[starts[:, None] + steps]          # (streams, used)
        t = ids[starts[:, None] + steps + 1]
        # chunk-major rows: batch k = rows k*B .. k*B+B-1 = chunk k of streams 0..B-1
        x = x.reshape(batch_size, chunks, self.seq_len).transpose(1, 0, 2).reshape(-1, self.seq_len)
        t = t.reshape(batch_size, chunks, self.seq_len).transpose(1, 0, 2).reshape(-1, self.seq_len)
        super().__init__(x, t, batch_size=batch_size, shuffle=False, drop_last=False)
        self.dropped = len(ids) - batch_size * used

    @property
    def shuffle(self):
        return False

    @shuffle.setter
    def shuffle(self, value):
        if value:
            raise ValueError("SequenceLoader: shuffle must stay False: the state carried from one batch to the next "
                             "needs the batches in order")

    def __repr__(self):
        return (f"SequenceLoader({len(self)} batches of {self.batch_size} streams x {self.seq_len} tokens, "
                f"{self.dropped} tokens left out)")


def carries_state(model) -> bool:
    """Whether ``model``'s forward takes ``state`` and ``return_state`` (the protocol of a model
    whose state truncated BPTT carries)."""
    try:
        params = inspect.signature(model.forward).parameters
    except (TypeError, ValueError):
        return False
    return "state" in params and "return_state" in params


def detach_state(state):
    """``state`` (a tensor, an array, None, or tuples / lists of them) cut from the graph: the same
    values as constants, so no gradient flows into the chunk that made them."""
    if state is None:
        return None
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(s) for s in state)
    if isinstance(state, ag.Tensor):
        return state.detach()
    return np.asarray(state)


class CarriedStep:
    """``fit``'s training step under truncated BPTT: ``step(x, t) -> (loss, y)`` runs
    ``model(x, state=<the previous chunk's state, detached>, return_state=True)``, the criterion
    and the backward, and keeps the new state for the next call; ``reset()`` forgets it (each
    epoch starts from zeros).  ``scores(part, x, t, metric_list)`` evaluates a ``SequenceLoader``'s
    rows (``streams``: part -> batch size) in order with a carried state, in eval mode."""

    def __init__(self, model, streams=None):
        self.model, self.streams, self.state = model, dict(streams or {}), None

    def reset(self):
        self.state = None

    def _shape_matches(self, x):
        """A state of another batch size (a last partial batch) cannot continue: start from zeros."""
        first = self.state
        while isinstance(first, (tuple, list)):
            first = first[0] if first else None
        return first is None or np.shape(first)[-2] == np.shape(x)[0]

    def __call__(self, x, t):
        state = self.state if self._shape_matches(x) else None
        y, state = self.model(x, state=state, return_state=True)
        self.state = detach_state(state)  # the graph is cut here: the next backward stops at its chunk
        loss = self.model.criterion(y, t)
        loss.backward()
        return loss, y

    def scores(self, part, x, t, metric_list, batch_size, world=None):
        """``{"loss": ..., <metric>: ...}`` over ``(x, t)``: a ``SequenceLoader``'s rows with the
        state carried from batch to batch (its ``streams[part]`` rows each); other data as
        ``evaluate`` scores it."""
        rows = self.streams.get(part)
        if rows is None:
            return eval_scores(self.model, x, t, metric_list, batch_size, world)
        model, was_training = self.model, self.model.training
        sums, state = {"loss": 0.0, **{m.name: 0.0 for m in metric_list}}, None
        model.eval()
        try:
            with ag.no_grad():
                for b in range(0, len(x), rows):
                    xb, tb = x[b:b + rows], t[b:b + rows]
                    y, state = model(xb, state=state, return_state=True)
                    sums["loss"] += float(model.criterion(y, tb).item()) * len(xb)
                    for m in metric_list:
                        sums[m.name] += m(y, tb) * len(xb)
        finally:
            model.train(was_training)
        return {k: v / max(len(x), 1) for k, v in sums.items()}


def step_for(model, train, others, world, compile):  # noqa: A002  (fit's argument of that name)
    """``fit``'s ``CarriedStep`` when ``train`` is a ``SequenceLoader`` and ``model`` carries a
    state; None otherwise (the plain step: a stateless model trains on each chunk alone).
    ``others``: ``{"val": data, "test": data}`` as given to fit."""
    if not isinstance(train, SequenceLoader) or not carries_state(model):
        return None
    if compile:
        raise ValueError("fit: compile=True cannot carry the recurrent state of truncated BPTT from one batch to the "
                         "next (a SequenceLoader and a model with a state): train with compile=False")
    if world.size > 1:
        raise ValueError("fit: truncated BPTT (a SequenceLoader and a model with a state) runs on one process; "
                         f"this run has {world.size} ranks")
    streams = {part: data.batch_size for part, data in others.items() if isinstance(data, SequenceLoader)}
    return CarriedStep(model, streams)
