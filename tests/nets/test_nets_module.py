"""Module discovery, naming, modes, state dicts, dtype conversion, Sequential."""
import numpy as np
import pytest

import autograd_np as ag
import nets


class Net(nets.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nets.Affine(4, 5, rng=0)
        self.fc2 = nets.Affine(5, 3, rng=1)

    def forward(self, x):
        return self.fc2(ag.relu(self.fc1(x)))


class Deep(nets.Module):
    """Sub-modules in a list and a dict, a nested user module, a direct tensor."""

    def __init__(self):  # no super().__init__(): discovery must not depend on it
        self.blocks = [nets.Affine(3, 3, rng=i) for i in range(2)]
        self.heads = {"a": nets.Affine(3, 2, rng=5)}
        self.inner = Net()
        self.scale = ag.Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
        self.constant = ag.Tensor(np.ones(3, dtype=np.float32))  # no grad: not a parameter

    def forward(self, x):
        for b in self.blocks:
            x = ag.tanh(b(x))
        return self.heads["a"](x * self.scale)


def test_user_module_discovers_parameters_and_names_them():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["fc1.W", "fc1.b", "fc2.W", "fc2.b"]
    for name, p in net.named_parameters():
        assert isinstance(p, ag.Tensor) and p.requires_grad and p.name == name
        assert p.dtype == np.float32
    assert net.num_parameters() == 4 * 5 + 5 + 5 * 3 + 3


def test_user_module_call_runs_forward_and_backward_reaches_every_parameter():
    net = Net()
    x = np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32)
    y = net(x)
    assert y.shape == (6, 3)
    net.loss(x, np.array([0, 1, 2, 0, 1, 2])).backward()
    for name, p in net.named_parameters():
        assert p.grad is not None and p.grad.shape == p.shape, name
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_lists_dicts_and_nested_modules_are_discovered():
    d = Deep()
    names = [n for n, _ in d.named_parameters()]
    assert names == ["scale", "blocks.0.W", "blocks.0.b", "blocks.1.W", "blocks.1.b", "heads.a.W", "heads.a.b",
                     "inner.fc1.W", "inner.fc1.b", "inner.fc2.W", "inner.fc2.b"]
    assert [n for n, _ in d.named_modules()][:3] == ["", "blocks.0", "blocks.1"]
    out = d(np.ones((2, 3), dtype=np.float32))
    ag.sum(out).backward()
    assert d.scale.grad is not None and d.constant.grad is None


def test_shared_module_counted_once():
    class Shared(nets.Module):
        def __init__(self):
            super().__init__()
            self.a = nets.Affine(2, 2, rng=0)
            self.b = self.a

        def forward(self, x):
            return self.b(self.a(x))

    assert [n for n, _ in Shared().named_parameters()] == ["a.W", "a.b"]


def test_train_eval_reach_every_submodule():
    d = Deep()
    assert all(m.training for m in d.modules())
    assert d.eval() is d
    assert not any(m.training for m in d.modules())
    d.train()
    assert all(m.training for m in d.modules())


def test_state_dict_round_trip_restores_outputs():
    a, b = Net(), Net()
    for p in b.parameters():
        p.data = p.data + 1
    x = np.ones((2, 4), dtype=np.float32)
    assert not np.allclose(a(x).data, b(x).data)
    sd = a.state_dict()
    assert list(sd) == ["fc1.W", "fc1.b", "fc2.W", "fc2.b"]
    b.load_state_dict(sd)
    np.testing.assert_array_equal(a(x).data, b(x).data)
    sd["fc1.W"][:] = 99  # a copy: the model is not affected
    assert not np.any(a.fc1.W.data == 99)


def test_state_dict_includes_batchnorm_buffers():
    model = nets.MultiLayerNet([4, 3, 2], batchnorm=True, rng=0)
    sd = model.state_dict()
    assert "bn1.running_mean" in sd and "bn1.running_var" in sd
    model(np.random.default_rng(0).standard_normal((8, 4)))
    other = nets.MultiLayerNet([4, 3, 2], batchnorm=True, rng=0)
    other.load_state_dict(model.state_dict())
    np.testing.assert_array_equal(other.bn1.running_mean, model.bn1.running_mean)
    assert not np.all(model.bn1.running_mean == 0)


def test_load_state_dict_shape_mismatch_names_key_and_shapes():
    net = Net()
    sd = net.state_dict()
    sd["fc2.W"] = np.zeros((5, 4), dtype=np.float32)
    before = net.fc1.W.data.copy()
    sd["fc1.W"] = before + 1
    with pytest.raises(nets.StateDictError) as exc:
        net.load_state_dict(sd)
    msg = str(exc.value)
    assert "'fc2.W'" in msg and "(5, 4)" in msg and "(5, 3)" in msg
    np.testing.assert_array_equal(net.fc1.W.data, before)  # nothing changed


def test_load_state_dict_missing_and_unexpected_keys():
    net = Net()
    sd = net.state_dict()
    del sd["fc1.b"]
    sd["fc9.W"] = np.zeros(1)
    with pytest.raises(nets.StateDictError, match=r"missing key\(s\) 'fc1.b'.*unexpected key\(s\) 'fc9.W'"):
        net.load_state_dict(sd)
    del sd["fc9.W"]
    net.load_state_dict(sd, strict=False)  # partial loads are allowed when asked


def test_astype_converts_parameters_buffers_and_keeps_tensors():
    model = nets.MultiLayerNet([4, 3, 2], batchnorm=True, rng=0)
    tensors = model.parameters()
    assert model.dtype == np.float32
    assert model.astype(np.float64) is model
    assert model.dtype == np.float64
    assert all(p.dtype == np.float64 for p in model.parameters())
    assert [id(p) for p in model.parameters()] == [id(p) for p in tensors]
    assert model.bn1.running_var.dtype == np.float64
    out = model(np.ones((3, 4)))
    assert out.dtype == np.float64


def test_float32_model_is_not_promoted_by_float64_input():
    net = Net()
    out = net(np.ones((2, 4), dtype=np.float64))
    assert out.dtype == np.float32


def test_sequential_names_forward_and_trailing_loss_layer():
    seq = nets.Sequential(nets.Affine(4, 3, rng=0), nets.ReLU(), nets.Affine(3, 2, rng=1), nets.SoftmaxWithLoss())
    assert [n for n, _ in seq.named_parameters()] == ["0.W", "0.b", "2.W", "2.b"]
    x = np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32)
    y = seq(x)
    expected = seq[2](seq[1](seq[0](x)))
    np.testing.assert_array_equal(y.data, expected.data)
    t = np.array([0, 1, 1, 0, 1])
    assert seq.loss(x, t).item() == pytest.approx(ag.softmax_cross_entropy(expected, t).item())
    assert len(seq) == 4
    with pytest.raises(TypeError, match=r"layers\[1\]"):
        nets.Sequential(nets.ReLU(), "relu")


def test_repr_shows_the_tree():
    text = repr(nets.Sequential(nets.Affine(4, 3), nets.ReLU()))
    assert "Sequential(" in text and "(0): Affine(4, 3)" in text and "(1): ReLU()" in text


def test_default_accuracy_and_predict():
    net = Net()
    x = np.random.default_rng(2).standard_normal((10, 4)).astype(np.float32)
    pred = np.argmax(net.predict(x).data, axis=1)
    assert net.accuracy(x, pred) == 1.0
    assert net.accuracy(x, np.eye(3)[pred]) == 1.0  # one-hot targets
    assert net.accuracy(x, (pred + 1) % 3) == 0.0


def test_parameters_are_named_as_soon_as_they_are_attached():
    net = Net()
    assert net.fc1.W.name == "fc1.W" and net.fc2.b.name == "fc2.b"

    class Outer(nets.Module):
        def __init__(self):
            super().__init__()
            self.body = Net()
            self.extra = [nets.Affine(3, 3)]

    outer = Outer()
    assert outer.body.fc1.W.name == "body.fc1.W" and outer.extra[0].W.name == "extra.0.W"
    seq = nets.Sequential(nets.Affine(2, 2))
    seq.append(nets.Affine(2, 2))
    assert seq[0].W.name == "0.W" and seq[1].b.name == "1.b"
    outer.extra.append(nets.Affine(3, 1))  # mutated in place: named on the next named_parameters()
    assert dict(outer.named_parameters())["extra.1.W"] is outer.extra[1].W
    assert outer.extra[1].W.name == "extra.1.W"


def test_accuracy_runs_in_eval_mode_and_restores_the_mode():
    model = nets.MultiLayerNet([4, 16, 3], dropout=0.5, batchnorm=True, rng=0)
    x = np.random.default_rng(0).standard_normal((20, 4)).astype(np.float32)
    t = np.arange(20) % 3
    before = model.bn1.running_mean.copy()
    accs = {model.accuracy(x, t) for _ in range(5)}
    assert len(accs) == 1  # no dropout noise
    np.testing.assert_array_equal(model.bn1.running_mean, before)  # no statistics update
    assert model.training


# --- module tags on graph nodes (what ag.viz.draw boxes by) ----------------------------------

from autograd_np import core as engine


def tags(output):
    """(op name, node.module or None) for every node behind ``output``, in creation order."""
    return [(n.op.name, n.module) for n in reversed(engine.graph_nodes([output]))]


def test_multilayernet_forward_tags_every_node_with_its_layer():
    model = nets.MultiLayerNet([6, 5, 4, 3], batchnorm=True, dropout=0.2, weight_decay=0.1, rng=0)
    x = np.random.default_rng(0).standard_normal((8, 6)).astype(np.float32)
    loss = model.loss(x, np.arange(8) % 3)
    expected = []
    for i in (1, 2):
        expected += [("affine", f"fc{i}"), ("batch_norm", f"bn{i}")]
        expected += [("relu", f"act{i}"), ("dropout_mask", f"drop{i}"), ("mul", f"drop{i}")]
    expected += [("affine", "fc3"), ("softmax_cross_entropy", None)]
    expected += [("mul", None), ("sum", None)] * 2 + [("add", None), ("mul", None), ("sum", None), ("add", None)]
    expected += [("mul", None), ("add", None)]  # 0.5 * lambda * (...), then loss + penalty
    assert tags(loss) == expected  # the loss and the weight-decay term are the root's: untagged
    for node in engine.graph_nodes([loss]):
        tag = node.module
        if tag is not None:
            assert isinstance(tag, nets.layers.ModulePath)
            assert tag.chain == ((str(tag), type(getattr(model, tag)).__name__),)


def test_a_user_module_tags_its_layers_and_leaves_its_own_ops_untagged():
    out = Net()(np.ones((2, 4), dtype=np.float32))  # fc2(relu(fc1(x)))
    assert tags(out) == [("affine", "fc1"), ("relu", None), ("affine", "fc2")]  # the root tags nothing

    d = Deep()  # nested: the inner Net is a sub-module here, so its own relu belongs to "inner"
    d.inner.fc1 = nets.Affine(3, 5, rng=0)
    out = d.inner(d(np.ones((2, 3), dtype=np.float32))[:, :1] * np.ones((1, 3), np.float32))
    assert tags(out) == [("affine", "blocks.0"), ("tanh", None), ("affine", "blocks.1"), ("tanh", None),
                         ("mul", None), ("affine", "heads.a"), ("getitem", None), ("mul", None),
                         ("affine", "inner.fc1"), ("relu", "inner"), ("affine", "inner.fc2")]
    inner_fc1 = [n for n in engine.graph_nodes([out]) if n.module == "inner.fc1"][0]
    assert inner_fc1.module.chain == (("inner", "Net"), ("inner.fc1", "Affine"))


def test_the_innermost_module_wins_and_sequential_paths_are_positions():
    model = nets.Sequential(nets.Sequential(nets.Affine(3, 4, rng=0), nets.Tanh()), nets.Affine(4, 2, rng=1))
    out = model(np.ones((2, 3), dtype=np.float32))
    assert tags(out) == [("affine", "0.0"), ("tanh", "0.1"), ("affine", "1")]
    assert [m._path for m in model.modules()] == ["", "0", "0.0", "0.1", "1"]
    model.append(nets.ReLU())  # appended later: named by named_parameters(), as parameters are
    assert model[2]._path == "2"
    assert tags(model(np.ones((2, 3), dtype=np.float32)))[-1] == ("relu", "2")


def test_module_paths_follow_attachment_and_survive_copies():
    import copy
    inner = Net()
    assert inner.fc1._path == "fc1" and inner._path == ""
    outer = nets.Sequential(inner)
    assert inner._path == "0" and inner.fc1._path == "0.fc1" and inner.fc1._path.chain == (("0", "Net"),
                                                                                           ("0.fc1", "Affine"))
    clone = copy.deepcopy(outer)
    assert clone[0].fc1._path == "0.fc1" and clone[0].fc1._path.kind == "Affine"
    assert clone[0].fc1._path.parent is clone[0]._path
    same = [m._path for m in outer.modules()]
    list(outer.named_parameters())  # refreshing keeps unchanged paths as the same objects
    assert all(a is b for a, b in zip(same, [m._path for m in outer.modules()]))


def test_nothing_is_tagged_without_recording_and_tuple_outputs_are_tagged():
    model = nets.MultiLayerNet([4, 3, 2], rng=0)
    with ag.no_grad():
        out = model(np.ones((2, 4), dtype=np.float32))
    assert out.node is None

    class Two(nets.Module):
        def forward(self, x):
            return ag.tanh(x), ag.exp(x)

    class Holder(nets.Module):
        def __init__(self):
            super().__init__()
            self.two = Two()

        def forward(self, x):
            return self.two(x)

    a, b = Holder()(ag.Tensor(np.ones(2), requires_grad=True))
    assert a.node.module == b.node.module == "two"


def test_an_anomaly_inside_a_layer_is_tagged_with_the_layer():
    model = nets.MultiLayerNet([4, 3, 2], rng=0)
    x = np.ones((2, 4), dtype=np.float32)
    x[0, 0] = np.nan
    with pytest.raises(ag.AnomalyError) as caught:
        with ag.detect_anomaly():
            model(x)
    assert caught.value.op == "affine" and caught.value.node.module == "fc1"
