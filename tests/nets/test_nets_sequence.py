"""Sequence layers (issue 24): RNN, LSTM, GRU, MultiheadAttention, TransformerEncoderLayer,
Embedding and LayerNorm.

* against PyTorch (when installed), float64, with the weights copied through ``state_dict``
  (the parameter names must be PyTorch's): outputs, final states, attention weights, and the
  gradients of the input, the initial state and every parameter, over every option;
* against central differences with the engine's own tools (``ag.gradcheck``,
  ``nets.gradient_check``), always;
* every mistake the layers refuse, with a message naming the layer, the argument and the values;
* the configs: ``nets.load`` rebuilds each layer equal, and each config schema counts exactly
  the numbers the layer holds.
"""
import itertools
import sys

import numpy as np
import pytest

import autograd_np as ag
import nets
from nets.io.checkpoint_schema import config_size

RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _torch_default_dtype_restored():
    """The cross-checks run PyTorch in float64 (_torch sets its default dtype); later test files
    must find PyTorch's own default again, whatever a test here did."""
    torch = sys.modules.get("torch")
    before = torch.get_default_dtype() if torch is not None else None
    yield
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_default_dtype(before if before is not None else torch.float32)


def _torch():
    torch = pytest.importorskip("torch")
    torch.set_default_dtype(torch.float64)
    return torch


def _copy_weights(ours, theirs, torch):
    """Load our weights into the PyTorch module: the same names, the same shapes."""
    state = ours.state_dict()
    assert sorted(state) == sorted(theirs.state_dict()), "parameter names differ from PyTorch's"
    theirs.load_state_dict({k: torch.tensor(v) for k, v in state.items()})


def _close(a, b, what, tol=1e-10):
    a = a.data if isinstance(a, ag.Tensor) else np.asarray(a)
    b = b.detach().numpy() if hasattr(b, "detach") else np.asarray(b)
    assert a.shape == b.shape, f"{what}: shapes {a.shape} and {b.shape}"
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol, err_msg=what)


def _grads_close(ours, theirs, what):
    mine = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        _close(mine[name].grad, p.grad, f"{what}: grad of {name}")


# --- recurrent layers -------------------------------------------------------------------------

RECURRENT = [("RNN", "tanh"), ("RNN", "relu"), ("LSTM", None), ("GRU", None)]


@pytest.mark.parametrize("kind,nonlinearity", RECURRENT)
@pytest.mark.parametrize("layers,batch_first,bias,given_state",
                         list(itertools.product([1, 2], [True, False], [True, False], [False, True])))
def test_recurrent_layers_match_pytorch(kind, nonlinearity, layers, batch_first, bias, given_state):
    torch = _torch()
    extra = {"nonlinearity": nonlinearity} if nonlinearity else {}
    ours = getattr(nets, kind)(3, 4, num_layers=layers, bias=bias, batch_first=batch_first, rng=1, dtype=np.float64,
                               **extra)
    theirs = getattr(torch.nn, kind)(3, 4, num_layers=layers, bias=bias, batch_first=batch_first, **extra)
    _copy_weights(ours, theirs, torch)
    x = RNG.standard_normal((2, 5, 3) if batch_first else (5, 2, 3))
    states = [RNG.standard_normal((layers, 2, 4)) for _ in range(2 if kind == "LSTM" else 1)]
    xs, txs = ag.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    hs = [ag.Tensor(s, requires_grad=True) for s in states]
    ths = [torch.tensor(s, requires_grad=True) for s in states]
    arg = (tuple(hs) if kind == "LSTM" else hs[0]) if given_state else None
    targ = (tuple(ths) if kind == "LSTM" else ths[0]) if given_state else None
    out, state = ours(xs, arg)
    tout, tstate = theirs(txs, targ)
    finals, tfinals = (state, tstate) if kind == "LSTM" else ((state,), (tstate,))
    _close(out, tout, "output")
    for a, b in zip(finals, tfinals):
        _close(a, b, "final state")
    g = [RNG.standard_normal(o.shape) for o in (out, *finals)]
    total = sum(ag.sum(o * gi) for o, gi in zip((out, *finals), g))
    ttotal = sum((o * torch.tensor(gi)).sum() for o, gi in zip((tout, *tfinals), g))
    total.backward()
    ttotal.backward()
    _close(xs.grad, txs.grad, "grad of the input")
    if given_state:
        for h, th in zip(hs, ths):
            _close(h.grad, th.grad, "grad of the initial state")
    _grads_close(ours, theirs, kind)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_a_pytorch_state_dict_loads_into_the_same_layer(kind):
    """The other way: PyTorch's own initialization, read by ours, computes PyTorch's output."""
    torch = _torch()
    theirs = getattr(torch.nn, kind)(3, 5, num_layers=2, batch_first=True)
    ours = getattr(nets, kind)(3, 5, num_layers=2, dtype=np.float64)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = RNG.standard_normal((2, 4, 3))
    _close(ours(x)[0], theirs(torch.tensor(x))[0], "output")


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_recurrent_gradients_against_central_differences(kind):
    layer = getattr(nets, kind)(2, 3, num_layers=2, rng=0, dtype=np.float64)
    names = [n for n, _ in layer.named_parameters()]
    x, h = RNG.standard_normal((2, 4, 2)), RNG.standard_normal((2, 2, 3))

    def f(x, h, *params):
        for name, p in zip(names, params):
            setattr(layer, name, p)
        out, state = layer(x, (h, h * 0.5) if kind == "LSTM" else h)
        return ag.concatenate([ag.reshape(out, (-1,)), ag.reshape(state[0] if kind == "LSTM" else state, (-1,))])

    assert ag.gradcheck(f, [x, h] + [p.data for p in layer.parameters()])


def test_recurrent_dropout_acts_between_layers_in_training_only():
    lstm = nets.LSTM(3, 4, num_layers=2, dropout=0.5, rng=0, dtype=np.float64)
    x = RNG.standard_normal((2, 5, 3))
    eval_out = lstm.eval()(x)[0].data
    assert np.array_equal(eval_out, lstm(x)[0].data)           # eval: deterministic
    assert not np.allclose(eval_out, lstm.train()(x)[0].data)  # training: the masks change the output
    one = nets.LSTM(3, 4, num_layers=1, dropout=0.5, rng=0)
    assert one.drop is None  # nothing between layers when there is one (PyTorch warns; nothing changes)


RECURRENT_ERRORS = [
    (lambda: nets.LSTM(3, 4)(np.ones((2, 3))), ValueError, r"LSTM\(3, 4\): input of shape \(2, 3\).*x\[None\]"),
    (lambda: nets.GRU(3, 4)(np.ones((2, 5, 2))), ValueError, r"GRU\(3, 4\): input of shape \(2, 5, 2\)"),
    (lambda: nets.RNN(3, 4)(np.ones((2, 0, 3))), ValueError, "holds no step"),
    (lambda: nets.LSTM(3, 4)(np.ones((2, 5, 3)), np.zeros((1, 2, 4))), TypeError, r"pair \(h_0, c_0\)"),
    (lambda: nets.GRU(3, 4)(np.ones((2, 5, 3)), (np.zeros((1, 2, 4)),) * 2), TypeError, "LSTM's"),
    (lambda: nets.RNN(3, 4, num_layers=2)(np.ones((2, 5, 3)), np.zeros((1, 2, 4))), ValueError,
     r"h_0 of shape \(1, 2, 4\); need .* \(2, 2, 4\)"),
    (lambda: nets.LSTM(3, 4)(np.ones((2, 5, 3)), (np.zeros((1, 2, 4)), np.zeros((1, 3, 4)))), ValueError,
     r"c_0 of shape \(1, 3, 4\)"),
]


@pytest.mark.parametrize("make,kind,message", RECURRENT_ERRORS)
def test_recurrent_mistakes_are_named(make, kind, message):
    with pytest.raises(kind, match=message):
        make()


# --- attention --------------------------------------------------------------------------------

def _masks(n, heads, length, source):
    bool_mask = RNG.random((length, source)) < 0.4
    bool_mask[:, 0] = False  # every query keeps one key
    padding = np.zeros((n, source), bool)
    padding[1, -1] = True
    per_head = np.where(RNG.random((n * heads, length, source)) < 0.3, -np.inf, RNG.standard_normal())
    per_head[..., 0] = 0.0
    return {"none": {}, "bool": {"attn_mask": bool_mask}, "float": {"attn_mask": RNG.standard_normal((length, source))},
            "3d": {"attn_mask": per_head},
            "padding": {"key_padding_mask": padding}, "both": {"attn_mask": bool_mask, "key_padding_mask": padding}}


@pytest.mark.parametrize("mask", ["none", "bool", "float", "3d", "padding", "both", "causal"])
@pytest.mark.parametrize("batch_first,bias,average", [(True, True, True), (False, True, False), (True, False, True)])
def test_multihead_attention_matches_pytorch(mask, batch_first, bias, average):
    torch = _torch()
    ours = nets.MultiheadAttention(6, 2, bias=bias, batch_first=batch_first, rng=2, dtype=np.float64)
    theirs = torch.nn.MultiheadAttention(6, 2, bias=bias, batch_first=batch_first)
    _copy_weights(ours, theirs, torch)
    n, length = 3, 4
    source = length if mask == "causal" else 5
    kwargs = ({"is_causal": True} if mask == "causal" else _masks(n, 2, length, source)[mask])
    tkwargs = ({"attn_mask": torch.tensor(nets.layers.causal_mask(length)), "is_causal": True}
               if mask == "causal" else {k: torch.tensor(v) for k, v in kwargs.items()})
    shape = (lambda L: (n, L, 6)) if batch_first else (lambda L: (L, n, 6))
    q, kv = RNG.standard_normal(shape(length)), RNG.standard_normal(shape(source))
    if mask == "causal":
        kv = q
    tq, tkv = torch.tensor(q, requires_grad=True), torch.tensor(kv, requires_grad=True)
    aq, akv = ag.Tensor(q, requires_grad=True), ag.Tensor(kv, requires_grad=True)
    out, w = ours(aq, akv, akv, average_attn_weights=average, **kwargs)
    tout, tw = theirs(tq, tkv, tkv, average_attn_weights=average, **tkwargs)
    _close(out, tout, "output")
    _close(w, tw, "attention weights")
    g = RNG.standard_normal(out.shape)
    (ag.sum(out * g) + ag.sum(w)).backward()
    ((tout * torch.tensor(g)).sum() + tw.sum()).backward()
    _close(aq.grad, tq.grad, "grad of the query")
    _close(akv.grad, tkv.grad, "grad of key and value")
    _grads_close(ours, theirs, "MultiheadAttention")


@pytest.mark.parametrize("norm_first,activation,bias", list(itertools.product([False, True], ["relu", "gelu"],
                                                                              [True, False])))
def test_transformer_encoder_layer_matches_pytorch(norm_first, activation, bias):
    torch = _torch()
    ours = nets.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation=activation, norm_first=norm_first,
                                        bias=bias, rng=3, dtype=np.float64)
    theirs = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation=activation, batch_first=True,
                                              norm_first=norm_first, bias=bias)
    _copy_weights(ours, theirs, torch)
    x = RNG.standard_normal((2, 5, 8))
    padding = np.zeros((2, 5), bool)
    padding[0, 3:] = True
    ax, tx = ag.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y = ours(ax, src_mask=nets.layers.causal_mask(5), src_key_padding_mask=padding)
    ty = theirs(tx, src_mask=torch.tensor(nets.layers.causal_mask(5)), src_key_padding_mask=torch.tensor(padding))
    _close(y, ty, "output")
    g = RNG.standard_normal(y.shape)
    ag.sum(y * g).backward()
    (ty * torch.tensor(g)).sum().backward()
    _close(ax.grad, tx.grad, "grad of the input")
    _grads_close(ours, theirs, "TransformerEncoderLayer")


def test_a_causal_block_never_looks_ahead():
    """Changing a later position changes no earlier output (and is_causal equals the explicit mask)."""
    block = nets.TransformerEncoderLayer(8, 2, 16, dropout=0.0, rng=0, dtype=np.float64)
    x = RNG.standard_normal((1, 6, 8))
    later = x.copy()
    later[0, 4:] += 1.0
    y, y2 = block(x, is_causal=True).data, block(later, is_causal=True).data
    np.testing.assert_array_equal(y[0, :4], y2[0, :4])
    assert not np.allclose(y[0, 4:], y2[0, 4:])
    np.testing.assert_array_equal(y, block(x, src_mask=nets.layers.causal_mask(6)).data)


def test_attention_gradients_against_central_differences():
    block = nets.TransformerEncoderLayer(4, 2, 6, dropout=0.0, norm_first=True, activation="gelu", rng=0,
                                         dtype=np.float64)
    names = [n for n, _ in block.named_parameters()]

    def f(x, *params):
        for name, p in zip(names, params):
            owner, attr = block, name.split(".")
            for part in attr[:-1]:
                owner = getattr(owner, part)
            setattr(owner, attr[-1], p)
        return block(x, is_causal=True)

    assert ag.gradcheck(f, [RNG.standard_normal((2, 3, 4))] + [p.data for p in block.parameters()])


def _attn():
    return nets.MultiheadAttention(4, 2, rng=0)


ATTENTION_ERRORS = [
    (lambda: nets.MultiheadAttention(6, 4), ValueError, "embed_dim=6 must be divisible by num_heads=4"),
    (lambda: nets.TransformerEncoderLayer(6, 4), ValueError, "d_model=6 must be divisible by nhead=4"),
    (lambda: _attn()(np.ones((2, 3)), np.ones((2, 3)), np.ones((2, 3))), ValueError, r"query of shape \(2, 3\)"),
    (lambda: _attn()(np.ones((2, 3, 4)), np.ones((2, 5, 4)), np.ones((2, 4, 4))), ValueError,
     "key and value must have the same shape"),
    (lambda: _attn()(np.ones((2, 3, 4)), np.ones((1, 5, 4)), np.ones((1, 5, 4))), ValueError, "same batch size"),
    (lambda: _attn()(*[np.ones((2, 3, 4))] * 3, attn_mask=np.ones((3, 4), bool)), ValueError,
     r"attn_mask of shape \(3, 4\); need \(L, S\) = \(3, 3\)"),
    (lambda: _attn()(*[np.ones((2, 3, 4))] * 3, attn_mask=np.ones((3, 3), bool)), ValueError,
     "no key to attend to"),
    (lambda: _attn()(*[np.ones((2, 3, 4))] * 3, key_padding_mask=np.ones((2, 3), bool)), ValueError,
     "no key to attend to"),
    (lambda: _attn()(*[np.ones((2, 3, 4))] * 3, key_padding_mask=np.zeros((3, 2), bool)), ValueError,
     r"key_padding_mask of shape \(3, 2\); need \(N, S\) = \(2, 3\)"),
    (lambda: _attn()(*[np.ones((2, 3, 4))] * 3, attn_mask=np.zeros((3, 3), int)), TypeError, "boolean or float"),
    (lambda: _attn()(*[np.ones((2, 3, 4))] * 3, attn_mask=np.full((3, 3), np.nan)), ValueError, "NaN"),
    (lambda: _attn()(np.ones((2, 3, 4)), np.ones((2, 5, 4)), np.ones((2, 5, 4)), is_causal=True), ValueError,
     "as many queries as keys"),
    (lambda: _attn()(*[np.ones((2, 3, 4))] * 3, is_causal=1), TypeError, "is_causal must be True or False"),
    (lambda: nets.TransformerEncoderLayer(4, 2, 8)(np.ones((3, 4))), ValueError, r"src of shape \(3, 4\)"),
]


@pytest.mark.parametrize("make,kind,message", ATTENTION_ERRORS)
def test_attention_mistakes_are_named(make, kind, message):
    with pytest.raises(kind, match=message):
        make()


# --- Embedding and LayerNorm ------------------------------------------------------------------

@pytest.mark.parametrize("padding_idx", [None, 0, 2, -1])
def test_embedding_matches_pytorch(padding_idx):
    torch = _torch()
    ours = nets.Embedding(5, 3, padding_idx=padding_idx, rng=0, dtype=np.float64)
    theirs = torch.nn.Embedding(5, 3, padding_idx=padding_idx)
    _copy_weights(ours, theirs, torch)
    ids = np.array([[0, 2, 2, 4], [1, 4, 0, 3]])
    y, ty = ours(ids), theirs(torch.tensor(ids))
    _close(y, ty, "output")
    g = RNG.standard_normal(y.shape)
    ag.sum(y * g).backward()
    (ty * torch.tensor(g)).sum().backward()
    _grads_close(ours, theirs, "Embedding")
    if padding_idx is not None:
        assert not ours.weight.grad[padding_idx].any() and not ours.weight.data[padding_idx].any()


@pytest.mark.parametrize("shape,affine,bias", [((4,), True, True), ((3, 4), True, True), ((4,), False, True),
                                               ((4,), True, False)])
def test_layer_norm_matches_pytorch(shape, affine, bias):
    torch = _torch()
    ours = nets.LayerNorm(shape, eps=1e-4, elementwise_affine=affine, bias=bias, dtype=np.float64)
    theirs = torch.nn.LayerNorm(shape, eps=1e-4, elementwise_affine=affine, bias=bias)
    if affine:
        ours.weight.data = RNG.standard_normal(shape)
    _copy_weights(ours, theirs, torch)
    x = RNG.standard_normal((2, 3) + shape)
    ax, tx = ag.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = ours(ax), theirs(tx)
    _close(y, ty, "output")
    g = RNG.standard_normal(y.shape)
    ag.sum(y * g).backward()
    (ty * torch.tensor(g)).sum().backward()
    _close(ax.grad, tx.grad, "grad of the input")
    _grads_close(ours, theirs, "LayerNorm")


def test_embedding_and_layer_norm_gradients_against_central_differences():
    ids = np.array([[0, 2, 2], [1, 0, 3]])
    emb, norm = nets.Embedding(4, 3, rng=0, dtype=np.float64), nets.LayerNorm(3, dtype=np.float64)

    def f(w, gamma, beta):
        emb.weight, norm.weight, norm.bias = w, gamma, beta
        return norm(emb(ids))

    assert ag.gradcheck(f, [emb.weight.data, RNG.standard_normal(3), RNG.standard_normal(3)])


EMBEDDING_ERRORS = [
    (np.array([0, 5]), IndexError, r"index 5 at \(1,\) is out of range for num_embeddings=5"),
    (np.array([[0, -1]]), IndexError, r"index -1 at \(0, 1\) is out of range"),
    (np.array([0.0, 1.5]), TypeError, r"indices must be integers, got floats such as \[1.5\]"),
    (np.array([0.0, np.nan]), TypeError, "indices must be integers"),
    (np.array([True, False]), TypeError, "indices must be an array of integers, got dtype bool"),
    (np.array(["a"]), TypeError, "indices must be an array of integers"),
]


@pytest.mark.parametrize("ids,kind,message", EMBEDDING_ERRORS)
def test_embedding_refuses_bad_indices(ids, kind, message):
    with pytest.raises(kind, match="Embedding: " + message):
        nets.Embedding(5, 2, rng=0)(ids)


def test_embedding_takes_whole_floats_as_gradient_check_makes_them():
    emb = nets.Embedding(5, 2, rng=0)
    np.testing.assert_array_equal(emb(np.array([1.0, 4.0])).data, emb(np.array([1, 4])).data)


def test_layer_norm_refuses_a_mismatched_input():
    with pytest.raises(ValueError, match=r"LayerNorm\(3, 4\): input of shape \(2, 4, 3\): its last 2 axes"):
        nets.LayerNorm((3, 4))(np.ones((2, 4, 3)))
    with pytest.raises(ValueError, match=r"input of shape \(3,\)"):
        nets.LayerNorm((2, 3))(np.ones(3))


# --- configs ---------------------------------------------------------------------------------

LAYERS = [lambda: nets.RNN(3, 4, num_layers=2, nonlinearity="relu", bias=False, rng=0),
          lambda: nets.LSTM(3, 4, num_layers=3, dropout=0.25, batch_first=False, rng=0),
          lambda: nets.GRU(2, 5, rng=0), lambda: nets.Embedding(7, 3, padding_idx=2, rng=0),
          lambda: nets.LayerNorm((2, 3), eps=1e-3, bias=False), lambda: nets.LayerNorm(4, elementwise_affine=False),
          lambda: nets.MultiheadAttention(6, 3, dropout=0.1, bias=False, rng=0),
          lambda: nets.TransformerEncoderLayer(4, 2, 8, 0.2, "gelu", 1e-4, False, True, False, rng=0),
          lambda: nets.models.CharLSTM(9, 3, 5, 2, 0.1, rng=0),
          lambda: nets.models.CharTransformer(9, 6, 8, 2, 2, 12, 0.1, rng=0)]


@pytest.mark.parametrize("make", LAYERS, ids=lambda m: repr(m()).split("(")[0])
def test_save_and_load_rebuild_the_same_layer(make, tmp_path):
    layer = make()
    # the schema counts exactly what the layer holds (a checkpoint is checked against it before building)
    assert config_size(layer.config()) == sum(a.size for a in layer.state_dict().values())
    path = layer.save(tmp_path / "layer.npz")
    again = nets.load(path)
    assert type(again) is type(layer) and again.config() == layer.config() and repr(again) == repr(layer)
    for (k, a), (k2, b) in zip(layer.state_dict().items(), again.state_dict().items()):
        assert k == k2 and np.array_equal(a, b)
