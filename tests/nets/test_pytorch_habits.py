"""PyTorch habits that work in nets (issue 24): the newcomer's script of the PyTorch guide
(docs/guides/pytorch-habits.md) runs as written, and its model class runs unchanged under
PyTorch too, giving the same outputs and gradients from the same weights; ``Linear``, the
activation and loss layers and ``AdamW`` are compared with PyTorch's in float64 (those
comparisons need torch); an optimizer with nothing to update refuses to step."""
import re
from pathlib import Path

import numpy as np
import pytest

import autograd_np as ag
import nets
from nets import optim

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guides" / "pytorch-habits.md"
MARK = "# a newcomer's PyTorch-style script"


def newcomer_script():
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(encoding="utf-8"), flags=re.S)
    found = [b for b in blocks if b.startswith(MARK)]
    assert len(found) == 1, f"{GUIDE.name} holds the newcomer's script once"
    return found[0]


def test_the_newcomers_script_runs_as_written(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "newcomer"}
    exec(compile(newcomer_script(), "pytorch-habits.md newcomer script", "exec"), namespace)
    out = capsys.readouterr().out
    assert "Net summary: input (1, 1, 8, 8) float32" in out and "fc1 (Linear)" in out
    accuracy = float(re.search(r"test accuracy ([0-9.]+)", out).group(1))
    assert accuracy > 0.9, out
    assert type(namespace["restored"]).__name__ == "Net" and (tmp_path / "net.npz").exists()
    lines = [line for line in newcomer_script().splitlines() if line.strip()]
    assert len(lines) <= 40, "about 30 lines"


def _class_source():
    """The script's model class, from ``class Net`` to the end of its ``forward``."""
    text = newcomer_script()
    return text[text.index("class Net"):text.index("\n\n\n", text.index("class Net"))]


def test_the_model_class_runs_unchanged_under_pytorch_with_the_same_results():
    torch = pytest.importorskip("torch")
    ours, theirs = {"nn": nets}, {"nn": torch.nn, "torch": torch}
    exec(_class_source(), ours)
    exec(_class_source(), theirs)
    torch.manual_seed(0)
    t_net = theirs["Net"]().double()
    n_net = ours["Net"]().astype(np.float64)
    state = {k: v.detach().numpy().copy() for k, v in t_net.state_dict().items()}
    state["conv.W"], state["conv.b"] = state.pop("conv.weight"), state.pop("conv.bias")  # nets's conv names
    n_net.load_state_dict(state)
    x = np.random.default_rng(0).standard_normal((5, 1, 8, 8))
    labels = np.array([0, 3, 9, 2, 2])
    t_loss = torch.nn.functional.cross_entropy(t_net(torch.tensor(x)), torch.tensor(labels))
    t_loss.backward()
    n_loss = nets.CrossEntropyLoss()(n_net(x), labels)
    n_loss.backward()
    np.testing.assert_allclose(n_loss.item(), t_loss.item(), rtol=1e-12)
    grads = {name: p.grad for name, p in t_net.named_parameters()}
    for name, p in n_net.named_parameters():
        theirs_name = {"conv.W": "conv.weight", "conv.b": "conv.bias"}.get(name, name)
        np.testing.assert_allclose(p.grad, grads[theirs_name].numpy(), rtol=1e-10, atol=1e-12, err_msg=name)


# --- Linear ------------------------------------------------------------------------------------

@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(4, 5), (5,), (2, 3, 5), (0, 5)])
def test_linear_matches_pytorch(bias, shape):
    torch = pytest.importorskip("torch")
    layer = nets.Linear(5, 3, bias=bias, rng=0, dtype=np.float64)
    ref = torch.nn.Linear(5, 3, bias=bias, dtype=torch.float64)
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(layer.weight.data))
        if bias:
            ref.bias.copy_(torch.tensor(layer.bias.data))
    x = np.random.default_rng(1).standard_normal(shape)
    xt = torch.tensor(x, requires_grad=True)
    xa = ag.Tensor(x, requires_grad=True)
    y, yt = layer(xa), ref(xt)
    np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-12, atol=1e-14)
    weights = np.random.default_rng(2).standard_normal(y.shape)
    (y * weights).sum().backward()
    (yt * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(xa.grad, xt.grad.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(layer.weight.grad, ref.weight.grad.numpy(), rtol=1e-12, atol=1e-14)
    if bias:
        np.testing.assert_allclose(layer.bias.grad, ref.bias.grad.numpy(), rtol=1e-12, atol=1e-14)
    assert [n for n, _ in layer.named_parameters()] == [n for n, _ in ref.named_parameters()]


def test_linear_gradients_by_central_differences():
    layer = nets.Linear(4, 3, rng=0, dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((2, 4))
    ag.gradcheck(lambda w, b: ag.sum(ag.tanh(ag.matmul(x, ag.transpose(w)) + b)), [layer.weight.data, layer.bias.data])
    report = nets.gradient_check(nets.Sequential(layer, nets.Tanh(), nets.Linear(3, 2, rng=1, dtype=np.float64)),
                                 x, np.array([0, 1]), verbose=False)
    assert report.ok, report


def test_linear_draws_pytorchs_initialization():
    layer = nets.Linear(400, 300, rng=0)
    k = 1 / np.sqrt(400)
    for p in (layer.weight.data, layer.bias.data):
        assert p.min() >= -k and p.max() <= k and p.dtype == np.float32
    w = layer.weight.data.astype(np.float64)
    assert abs(w.std() - k / np.sqrt(3)) < 0.01 * k and abs(w.mean()) < 0.01 * k  # uniform on [-k, k]
    assert layer.weight.shape == (300, 400) and nets.Linear(3, 2, bias=False).bias is None
    np.testing.assert_array_equal(nets.Linear(5, 2, rng=3).weight.data, nets.Linear(5, 2, rng=3).weight.data)
    assert repr(layer) == "Linear(in_features=400, out_features=300, bias=True)"


def test_a_pytorch_state_dict_loads_into_the_same_architecture():
    torch = pytest.importorskip("torch")
    ref = torch.nn.Sequential(torch.nn.Linear(6, 4, dtype=torch.float32), torch.nn.GELU(),
                              torch.nn.Linear(4, 2, bias=False, dtype=torch.float32))
    model = nets.Sequential(nets.Linear(6, 4), nets.GELU(), nets.Linear(4, 2, bias=False))
    model.load_state_dict({k: v.detach().numpy() for k, v in ref.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((3, 6)).astype(np.float32)
    np.testing.assert_allclose(model(x).data, ref(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_linear_saves_loads_and_refuses_a_wrong_input(tmp_path):
    model = nets.Sequential(nets.Linear(3, 2, bias=False, rng=0))
    model.save(tmp_path / "m.npz")
    back = nets.load(tmp_path / "m.npz")
    assert back.config() == model.config() and back[0].bias is None
    np.testing.assert_array_equal(back[0].weight.data, model[0].weight.data)
    with pytest.raises(ValueError, match=r"0 \(Linear\): input \(2, 4\)"):
        model(np.ones((2, 4)))


# --- activations and losses against PyTorch --------------------------------------------------------

X = np.concatenate([np.linspace(-30, 30, 61), [-1e-3, 1e-3, 7.5, 19.99, 20.01, 40.0, -40.0]])


def _torch_layer(torch, layer):
    kind = type(layer).__name__
    args = {"LeakyReLU": lambda: (layer.negative_slope,), "GELU": lambda: (layer.approximate,),
            "Softplus": lambda: (layer.beta, layer.threshold), "Softmax": lambda: (layer.dim,),
            "LogSoftmax": lambda: (layer.dim,)}.get(kind, lambda: ())()
    return getattr(torch.nn, kind)(*args)


@pytest.mark.parametrize("layer", [
    nets.LeakyReLU(), nets.LeakyReLU(0.2), nets.LeakyReLU(-0.5), nets.LeakyReLU(0.0), nets.LeakyReLU(1.5),
    nets.GELU(), nets.GELU("tanh"), nets.SiLU(), nets.Softplus(), nets.Softplus(beta=2.0), nets.Softplus(0.5, 5.0),
    nets.Softplus(beta=3.0, threshold=1.0), nets.Softmax(), nets.Softmax(dim=0), nets.LogSoftmax(),
    nets.LogSoftmax(dim=0), nets.Sigmoid(), nets.ReLU(), nets.Tanh(),
], ids=repr)
def test_activation_layers_match_pytorch_values_and_gradients(layer):
    torch = pytest.importorskip("torch")
    x = np.stack([X, X[::-1] * 0.3])
    xa, xt = ag.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, yt = layer(xa), _torch_layer(torch, layer)(xt)
    np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-12, atol=1e-14)
    weights = np.random.default_rng(0).standard_normal(x.shape)
    (y * weights).sum().backward()
    (yt * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(xa.grad, xt.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("layer", [nets.LeakyReLU(0.3), nets.GELU(), nets.GELU("tanh"), nets.SiLU(),
                                   nets.Softplus(beta=2.0, threshold=3.0), nets.Softmax(dim=0), nets.LogSoftmax()],
                         ids=repr)
def test_activation_layers_by_central_differences(layer):
    x = np.random.default_rng(0).standard_normal((3, 4)) * 2 + 0.05  # away from the kinks
    ag.gradcheck(lambda a: ag.sum(layer(a) * np.arange(12.0).reshape(3, 4)), [x])


def test_softplus_keeps_infinities_and_nan():
    y = nets.Softplus(beta=2.0)(np.array([np.inf, -np.inf, np.nan, 0.0]))
    np.testing.assert_array_equal(y.data[:2], [np.inf, 0.0])
    assert np.isnan(y.data[2]) and y.data[3] == np.log(2.0) / 2


@pytest.mark.parametrize("shape", [(4, 3), (5,), (2, 3, 4)])
def test_mse_loss_matches_pytorch(shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    y, t = rng.standard_normal(shape), rng.standard_normal(shape)
    ya, yt = ag.Tensor(y, requires_grad=True), torch.tensor(y, requires_grad=True)
    loss, ref = nets.MSELoss()(ya, t), torch.nn.MSELoss()(yt, torch.tensor(t))
    np.testing.assert_allclose(loss.item(), ref.item(), rtol=1e-12)
    loss.backward()
    ref.backward()
    np.testing.assert_allclose(ya.grad, yt.grad.numpy(), rtol=1e-12)


def test_mse_loss_refuses_a_broadcast_and_ends_a_sequential():
    with pytest.raises(ValueError, match=r"MSELoss: predictions of shape \(4, 1\) and targets of shape \(4,\)"):
        nets.MSELoss()(ag.Tensor(np.ones((4, 1))), np.ones(4))
    model = nets.Sequential(nets.Linear(3, 1, rng=0), nets.MSELoss())
    x, t = np.ones((4, 3), np.float32), np.zeros((4, 1), np.float32)
    assert model(x).shape == (4, 1)
    np.testing.assert_allclose(model.loss(x, t).item(), np.mean(model(x).data ** 2), rtol=1e-6)


def test_cross_entropy_loss_matches_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    logits, labels = rng.standard_normal((6, 4)) * 3, rng.integers(0, 4, 6)
    la, lt = ag.Tensor(logits, requires_grad=True), torch.tensor(logits, requires_grad=True)
    loss, ref = nets.CrossEntropyLoss()(la, labels), torch.nn.CrossEntropyLoss()(lt, torch.tensor(labels))
    np.testing.assert_allclose(loss.item(), ref.item(), rtol=1e-12)
    loss.backward()
    ref.backward()
    np.testing.assert_allclose(la.grad, lt.grad.numpy(), rtol=1e-10, atol=1e-14)
    assert nets.CrossEntropyLoss is nets.SoftmaxWithLoss


# --- AdamW and the optimizers' PyTorch names --------------------------------------------------------

def _steps(torch, ours, theirs, params, torch_params, grads, lrs):
    for k, gs in enumerate(grads):
        for p, pt, g in zip(params, torch_params, gs):
            p.grad, pt.grad = (None, None) if g is None else (g.copy(), torch.tensor(g))
        ours.lr = lrs[k]
        for group in theirs.param_groups:
            group["lr"] = lrs[k]
        ours.step()
        theirs.step()
        for p, pt in zip(params, torch_params):
            np.testing.assert_allclose(p.data, pt.detach().numpy(), rtol=1e-12, atol=1e-14, err_msg=f"step {k + 1}")


@pytest.mark.parametrize("kind,kwargs", [
    ("AdamW", {}), ("AdamW", {"weight_decay": 0.1, "lr": 0.01}), ("AdamW", {"weight_decay": 0.0}),
    ("AdamW", {"betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.5}), ("Adam", {"weight_decay": 0.1}),
    ("Adam", {"betas": (0.5, 0.9)}), ("Adam", {}),
])
def test_adam_and_adamw_match_pytorch(kind, kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    values = [rng.standard_normal((3, 4)), rng.standard_normal(4)]
    params = [ag.Tensor(v.copy(), requires_grad=True) for v in values]
    torch_params = [torch.tensor(v.copy(), requires_grad=True) for v in values]
    ours = getattr(optim, kind)(params, **kwargs)
    theirs = getattr(torch.optim, kind)(torch_params, **kwargs)
    grads = [[rng.standard_normal(v.shape) for v in values] for _ in range(6)]
    _steps(torch, ours, theirs, params, torch_params, grads, lrs=[1e-3, 1e-3, 1e-2, 1e-2, 3e-3, 3e-3])
    before = params[1].data.copy()
    params[0].grad, params[1].grad = grads[0][0], None
    ours.step()  # a parameter without a gradient is left alone, decay included (PyTorch skips it too)
    np.testing.assert_array_equal(params[1].data, before)


def test_adamw_resumes_from_its_state_dict():
    rng = np.random.default_rng(0)
    start = rng.standard_normal(5)
    grads = [rng.standard_normal(5) for _ in range(6)]

    def run(steps, opt=None, p=None):
        p = p if p is not None else ag.Tensor(start.copy(), requires_grad=True)
        opt = opt or optim.AdamW([p], lr=0.05, weight_decay=0.2)
        for g in steps:
            p.grad = g
            opt.step()
        return p, opt
    whole, _ = run(grads)
    half, opt = run(grads[:3])
    p2 = ag.Tensor(half.data.copy(), requires_grad=True)
    again = optim.AdamW([p2], lr=0.05, weight_decay=0.2).load_state_dict(opt.state_dict())
    run(grads[3:], again, p2)
    np.testing.assert_array_equal(p2.data, whole.data)
    assert type(optim.create("adamw", [p2])) is optim.AdamW and "adamw" in optim.OPTIMIZERS


def test_adamw_decays_the_weights_not_the_gradient():
    p = ag.Tensor(np.full(3, 2.0), requires_grad=True)
    opt = optim.AdamW([p], lr=0.1, weight_decay=0.5)
    p.grad = np.zeros(3)
    opt.step()  # a zero gradient: Adam's step is 0, only the decay moves p
    np.testing.assert_allclose(p.data, 2.0 * (1 - 0.1 * 0.5))
    assert optim.AdamW([ag.Tensor(np.ones(1), requires_grad=True)]).weight_decay == 0.01  # PyTorch's default


@pytest.mark.parametrize("kwargs,error,words", [
    ({"betas": 0.9}, TypeError, "betas must be a pair"), ({"betas": (0.9,)}, TypeError, "betas must be a pair"),
    ({"betas": "ab"}, TypeError, "betas must be a pair"), ({"betas": (0.9, 1.0)}, ValueError, "betas\\[1\\]"),
    ({"betas": (-0.1, 0.9)}, ValueError, "betas\\[0\\]"), ({"betas": (np.nan, 0.9)}, ValueError, "betas\\[0\\]"),
    ({"betas": (True, 0.9)}, TypeError, "betas\\[0\\]"), ({"betas": (0.8, 0.9), "beta1": 0.5}, TypeError, "one or"),
])
@pytest.mark.parametrize("kind", ["Adam", "AdamW"])
def test_betas_are_checked(kind, kwargs, error, words):
    with pytest.raises(error, match=f"{kind}: .*{words}|{kind}: {words}"):
        getattr(optim, kind)(nets.Linear(2, 2), **kwargs)


@pytest.mark.parametrize("kind", ["SGD", "Momentum", "AdaGrad", "RMSprop", "Adam", "AdamW"])
def test_an_optimizer_without_parameters_refuses_to_step(kind):
    opt = getattr(optim, kind)(lr=1e-3)
    for call in (opt.step, opt.zero_grad):
        with pytest.raises(RuntimeError, match=rf"{kind}\.{call.__name__}\(\): this optimizer has no parameters.*"
                                               rf"{kind}\(model.parameters\(\), lr=0.001\)"):
            call()
    params = {"w": np.ones(2)}
    opt.update(params, {"w": np.ones(2)})  # the book's form works, and step() says to keep using it
    with pytest.raises(RuntimeError, match=r"keep calling update\(params, grads\)"):
        opt.step()
