"""Recurrent layers: ``RNN``, ``LSTM`` and ``GRU``, built from the engine's ops (no hand-written
backward: backpropagation through time is the graph's backward through the unrolled steps).

Arguments, equations, parameter names and shapes are PyTorch's, so a PyTorch layer's
``state_dict`` loads into the layer built here with the same arguments (and back)::

    lstm = nets.LSTM(input_size=8, hidden_size=16, num_layers=2, rng=0)
    out, (h, c) = lstm(x)                       # x (N, T, 8) -> out (N, T, 16), h and c (2, N, 16)
    lstm.load_state_dict({k: v.numpy() for k, v in torch_lstm.state_dict().items()})

Per layer ``l`` (``G`` gates of ``hidden_size`` rows each, stacked in PyTorch's order):

======  ====  ================================================================================
layer   G     gates, in the order of the rows of ``weight_ih_l{l}`` (G*H, in) and ``weight_hh_l{l}`` (G*H, H)
======  ====  ================================================================================
RNN     1     ``h' = tanh(W_ih x + b_ih + W_hh h + b_hh)`` (``nonlinearity="relu"``: relu)
LSTM    4     i, f, g, o: ``c' = sigmoid(f) * c + sigmoid(i) * tanh(g)``, ``h' = sigmoid(o) * tanh(c')``
GRU     3     r, z, n: ``n = tanh(W_in x + b_in + sigmoid(r) * (W_hn h + b_hn))``, ``h' = (1 - z) * n + z * h``
======  ====  ================================================================================

(each gate of LSTM and GRU is ``sigmoid(W_i. x + b_i. + W_h. h + b_h.)`` but ``g`` and ``n``).
Parameters ``weight_ih_l{l}``, ``weight_hh_l{l}``, ``bias_ih_l{l}``, ``bias_hh_l{l}`` for each
layer, all drawn uniformly from ``[-1/sqrt(hidden_size), 1/sqrt(hidden_size)]`` (PyTorch's
initialization).  One difference: ``batch_first=True`` is the default here (inputs
``(batch, seq, feature)``; PyTorch's default is ``False``, ``(seq, batch, feature)``, which
``batch_first=False`` gives).  The states ``h`` (and ``c``) are ``(num_layers, batch,
hidden_size)`` either way, as PyTorch's.  ``dropout`` is applied to the outputs of every layer
but the last, in training.  Not supported: ``bidirectional``, ``proj_size``, unbatched input.
"""
from __future__ import annotations

import numpy as np

import autograd_np as ag

from ..util import fields as _fields, validate as _v
from . import init as _init
from .basic import Dropout, _as_input
from .init import WEIGHT_BYTES
from .module import Module
from .registry import config_schema

__all__ = ["RNN", "LSTM", "GRU"]


def _layer_sizes(c, gates):
    h, n = c["hidden_size"], c["input_size"]
    per = gates * h * (h + 2 * c.get("bias", True))
    return gates * h * n + per + (c.get("num_layers", 1) - 1) * (gates * h * h + per)


_CONFIG = {"required": {"input_size": _fields.size, "hidden_size": _fields.size},
           "optional": {"num_layers": lambda v, f: _fields.integer(v, f, lo=1, hi=_fields.MAX_LAYERS),
                        "bias": _fields.boolean, "batch_first": _fields.boolean, "dropout": _fields.fraction}}


class _Recurrent(Module):
    """The parameters, checks and layer loop shared by RNN, LSTM and GRU; ``_cell`` is the step."""

    gates = 1
    has_cell = False  # LSTM's second state

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=True, dropout=0.0, rng=None,
                 dtype=np.float32):
        super().__init__()
        who = type(self).__name__
        self.input_size = _v.integer(input_size, "input_size", who)
        self.hidden_size = _v.integer(hidden_size, "hidden_size", who)
        self.num_layers = _v.integer(num_layers, "num_layers", who, high=_fields.MAX_LAYERS)
        self.bias = _v.flag(bias, "bias", who)
        self.batch_first = _v.flag(batch_first, "batch_first", who)
        self.dropout = _v.number(dropout, "dropout", who, low=0.0, high=1.0, high_open=True)
        rng, dtype = _init.rng_of(rng, "rng", who), _v.float_dtype(dtype, "dtype", who)
        gh, h = self.gates * self.hidden_size, self.hidden_size
        total = gh * (self.input_size + h + 2) + (self.num_layers - 1) * gh * (2 * h + 2)
        _v.allocation(who, f"input_size={self.input_size}, hidden_size={h} and num_layers={self.num_layers}", total,
                      WEIGHT_BYTES)
        k = 1.0 / np.sqrt(h)
        for layer in range(self.num_layers):
            n_in = self.input_size if layer == 0 else h
            names = [(f"weight_ih_l{layer}", (gh, n_in)), (f"weight_hh_l{layer}", (gh, h))]
            if self.bias:
                names += [(f"bias_ih_l{layer}", (gh,)), (f"bias_hh_l{layer}", (gh,))]
            for name, shape in names:
                setattr(self, name, ag.Tensor(rng.uniform(-k, k, shape).astype(dtype), requires_grad=True, name=name))
        self.drop = Dropout(self.dropout, rng=rng) if self.dropout > 0 and self.num_layers > 1 else None

    # --- the layer loop -------------------------------------------------------------------------
    def _weights(self, layer):
        get = lambda kind: getattr(self, f"{kind}_l{layer}", None)  # noqa: E731
        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh")

    def _input(self, x):
        x = _as_input(x, self.weight_ih_l0.dtype)
        shape = tuple(np.shape(x))
        want = "(batch, seq, input_size)" if self.batch_first else "(seq, batch, input_size)"
        if len(shape) != 3 or shape[2] != self.input_size:
            raise ValueError(f"{self._name()}: input of shape {shape}; need {want} with input_size={self.input_size}"
                             + (" (one sequence: add a batch axis, x[None])" if len(shape) == 2 else ""))
        if 0 in shape[:2]:
            raise ValueError(f"{self._name()}: input of shape {shape} holds no step or no sequence")
        return x if self.batch_first else ag.swapaxes(x, 0, 1)

    def _state(self, hx, batch, what, dtype):
        """One initial state (``h0`` or ``c0``): zeros, or ``hx`` checked to be (num_layers, batch, hidden)."""
        shape = (self.num_layers, batch, self.hidden_size)
        if hx is None:
            return [np.zeros(shape[1:], dtype)] * self.num_layers
        got = tuple(np.shape(hx))
        if got != shape:
            raise ValueError(f"{self._name()}: {what} of shape {got}; need (num_layers, batch, hidden_size) = {shape}")
        if not isinstance(hx, ag.Tensor):
            hx = np.asarray(hx, dtype=dtype)
        return [hx[layer] for layer in range(self.num_layers)]

    def _name(self):
        return f"{type(self).__name__}({self.input_size}, {self.hidden_size})"

    def _run(self, x, h0, c0):
        """Every layer over every step: ``(output (N, T, H), [h_n per layer], [c_n per layer])``."""
        hs, cs = [], []
        for layer in range(self.num_layers):
            w_ih, w_hh, b_ih, b_hh = self._weights(layer)
            xw = ag.matmul(x, w_ih.T)  # every step's input part at once: one product instead of T
            if b_ih is not None:
                xw = xw + b_ih
            w_hh_t = w_hh.T
            h, c, outs = h0[layer], c0[layer] if c0 is not None else None, []
            for t in range(np.shape(x)[1]):
                h, c = self._cell(xw[:, t], h, c, w_hh_t, b_hh)
                outs.append(h)
            hs.append(h)
            cs.append(c)
            x = ag.stack(outs, axis=1)
            if self.drop is not None and layer < self.num_layers - 1:
                x = self.drop(x)
        return x, hs, cs

    def _recurrent(self, h, w_hh_t, b_hh):
        hw = ag.matmul(h, w_hh_t)
        return hw if b_hh is None else hw + b_hh

    def forward(self, x, hx=None):
        """``(output, h_n)`` (LSTM: ``(output, (h_n, c_n))``) for input ``x`` and initial state ``hx``
        (None: zeros; LSTM: a pair ``(h_0, c_0)``), as PyTorch's."""
        x = self._input(x)
        batch, dtype = np.shape(x)[0], self.weight_ih_l0.dtype
        if self.has_cell:
            if hx is not None and not (isinstance(hx, (tuple, list)) and len(hx) == 2):
                raise TypeError(f"{self._name()}: hx must be None or a pair (h_0, c_0), got {type(hx).__name__}")
            h0, c0 = (None, None) if hx is None else hx
            h0, c0 = self._state(h0, batch, "h_0", dtype), self._state(c0, batch, "c_0", dtype)
        else:
            if isinstance(hx, (tuple, list)):
                raise TypeError(f"{self._name()}: hx must be None or one array (num_layers, batch, hidden_size), "
                                f"got a {type(hx).__name__} (an LSTM's (h, c) pair?)")
            h0, c0 = self._state(hx, batch, "h_0", dtype), None
        out, hs, cs = self._run(x, h0, c0)
        out = out if self.batch_first else ag.swapaxes(out, 0, 1)
        h_n = ag.stack(hs, axis=0)
        return (out, (h_n, ag.stack(cs, axis=0))) if self.has_cell else (out, h_n)

    # --- display and checkpoints ----------------------------------------------------------------
    def extra_repr(self):
        parts = [f"{self.input_size}, {self.hidden_size}"]
        parts += [f"{k}={getattr(self, k)}" for k, default in self._optional_defaults() if getattr(self, k) != default]
        return ", ".join(parts)

    def _optional_defaults(self):
        return [("num_layers", 1), ("bias", True), ("batch_first", True), ("dropout", 0.0)]

    def config(self):
        return {"type": type(self).__name__, "input_size": self.input_size, "hidden_size": self.hidden_size,
                **{k: getattr(self, k) for k, _ in self._optional_defaults()}}


@config_schema(required=_CONFIG["required"],
               optional={**_CONFIG["optional"], "nonlinearity": lambda v, f: _fields.text(v, f, ("tanh", "relu"))},
               size=lambda c: _layer_sizes(c, 1))
class RNN(_Recurrent):
    """Elman RNN: ``h' = tanh(W_ih x + b_ih + W_hh h + b_hh)`` (``nonlinearity="relu"``: relu).

    ``RNN(input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=True,
    dropout=0.0, rng=None, dtype=np.float32)``; ``rnn(x, h_0=None)`` returns ``(output, h_n)``.
    See the module's docstring for shapes, names and PyTorch's conventions."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=True,
                 dropout=0.0, rng=None, dtype=np.float32):
        self.nonlinearity = _v.choice(nonlinearity, "nonlinearity", "RNN", ("tanh", "relu"))
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, rng, dtype)

    def _cell(self, xw, h, c, w_hh_t, b_hh):
        pre = xw + self._recurrent(h, w_hh_t, b_hh)
        return (ag.tanh(pre) if self.nonlinearity == "tanh" else ag.relu(pre)), None

    def _optional_defaults(self):
        return [("num_layers", 1), ("nonlinearity", "tanh"), *super()._optional_defaults()[1:]]


@config_schema(**_CONFIG, size=lambda c: _layer_sizes(c, 4))
class LSTM(_Recurrent):
    """Long short-term memory, PyTorch's gate layout (i, f, g, o).

    ``LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=True, dropout=0.0,
    rng=None, dtype=np.float32)``; ``lstm(x, (h_0, c_0)=None)`` returns ``(output, (h_n, c_n))``.
    See the module's docstring for shapes, names and PyTorch's conventions."""

    gates, has_cell = 4, True

    def _cell(self, xw, h, c, w_hh_t, b_hh):
        pre = xw + self._recurrent(h, w_hh_t, b_hh)
        n = self.hidden_size
        act = ag.sigmoid(pre)  # one node for i, f and o (g's quarter unused)
        i, f, o = act[:, :n], act[:, n:2 * n], act[:, 3 * n:]
        c = f * c + i * ag.tanh(pre[:, 2 * n:3 * n])
        return o * ag.tanh(c), c


@config_schema(**_CONFIG, size=lambda c: _layer_sizes(c, 3))
class GRU(_Recurrent):
    """Gated recurrent unit, PyTorch's gate layout (r, z, n) and equations (``b_hn`` inside ``r * (...)``).

    ``GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=True, dropout=0.0,
    rng=None, dtype=np.float32)``; ``gru(x, h_0=None)`` returns ``(output, h_n)``.
    See the module's docstring for shapes, names and PyTorch's conventions."""

    gates = 3

    def _cell(self, xw, h, c, w_hh_t, b_hh):
        hw = self._recurrent(h, w_hh_t, b_hh)
        n = self.hidden_size
        rz = ag.sigmoid(xw[:, :2 * n] + hw[:, :2 * n])
        r, z = rz[:, :n], rz[:, n:]
        cand = ag.tanh(xw[:, 2 * n:] + r * hw[:, 2 * n:])
        return cand + z * (h - cand), None  # (1 - z) * n + z * h, one node fewer
