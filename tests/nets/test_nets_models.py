"""TwoLayerNet (the seeds' interface) and MultiLayerNet."""
import numpy as np
import pytest

import autograd_np as ag
import nets


@pytest.fixture
def batch(digits):
    (x, t), _ = digits
    return x[:8], t[:8]


def test_two_layer_net_params_are_the_parameter_arrays(batch):
    net = nets.TwoLayerNet(64, 10, 10, rng=0)
    assert list(net.params) == ["W1", "b1", "W2", "b2"]
    assert net.params["W1"].shape == (64, 10) and isinstance(net.params["W1"], np.ndarray)
    assert net.params["W1"] is net.W1.data
    assert abs(net.params["W1"].std() - 0.01) < 0.002  # weight_init_std
    assert np.all(net.params["b1"] == 0)
    net.params["b2"] = np.ones(10)
    assert net.b2.data.dtype == np.float32 and np.all(net.b2.data == 1)
    with pytest.raises(ValueError, match="shape"):
        net.params["b2"] = np.ones(3)


def test_two_layer_net_seed_style_training_loop_learns(digits):
    (x, t), (xt, tt) = digits
    net = nets.TwoLayerNet(64, 50, 10, weight_init_std=0.1, rng=0)
    rng = np.random.default_rng(0)
    before = net.accuracy(xt, tt)
    for _ in range(300):
        idx = rng.choice(len(x), 100)
        grad = net.gradient(x[idx], t[idx])
        for key in ("W1", "b1", "W2", "b2"):
            net.params[key] -= 0.5 * grad[key]  # the seeds' update, unchanged
    after = net.accuracy(xt, tt)
    assert before < 0.3 and after > 0.85


def test_two_layer_net_backprop_matches_numerical_gradient(batch):
    x, t = batch
    net = nets.TwoLayerNet(64, 6, 10, weight_init_std=0.5, rng=1, dtype=np.float64)
    grads = net.gradient(x, t)
    num = net.numerical_gradient(x, t, eps=1e-5)
    for key in ("W1", "b1", "W2", "b2"):
        assert grads[key].shape == net.params[key].shape
        assert np.mean(np.abs(grads[key] - num[key])) < 1e-8, key
    # gradient() returns copies of the grads, computed through the graph
    assert grads["W1"] is not net.W1.grad


def test_two_layer_net_numerical_gradient_of_a_float32_net_is_computed_in_float64():
    rng = np.random.default_rng(0)
    net = nets.TwoLayerNet(20, 10, 3, rng=0)  # float32, weight_init_std 0.01: gradients ~1e-3
    x, t = rng.random((5, 20), dtype=np.float32), np.array([0, 1, 2, 1, 0])
    before = {k: v.copy() for k, v in net.params.items()}
    grads = net.gradient(x, t)
    num = net.numerical_gradient(x, t)
    for key in ("W1", "b1", "W2", "b2"):
        assert num[key].dtype == np.float32 and num[key].shape == net.params[key].shape, key
        assert np.mean(np.abs(grads[key] - num[key])) < 1e-6, key
        np.testing.assert_array_equal(net.params[key], before[key])  # the net itself is not perturbed
        assert net.params[key].dtype == np.float32
    assert np.abs(grads["W2"]).mean() > 1e-4  # the tolerance is well below the gradients' size


def test_two_layer_net_loss_predict_accuracy_with_one_hot(batch):
    x, t = batch
    net = nets.TwoLayerNet(64, 6, 10, rng=1)
    one_hot = np.eye(10, dtype=np.float32)[t]
    assert net.loss(x, t).item() == pytest.approx(net.loss(x, one_hot).item(), rel=1e-6)
    assert net.loss(x, t).item() == pytest.approx(np.log(10), rel=0.01)  # tiny weights: uniform guess
    assert net.predict(x).shape == (8, 10)
    assert net.accuracy(x, t) == net.accuracy(x, one_hot)


def test_multilayer_net_structure_and_names():
    model = nets.MultiLayerNet([64, 32, 16, 10], batchnorm=True, dropout=0.2, rng=0)
    assert model.layer_names == ("fc1", "bn1", "act1", "drop1", "fc2", "bn2", "act2", "drop2", "fc3")
    assert [n for n, _ in model.named_parameters()] == [
        "fc1.W", "fc1.b", "bn1.gamma", "bn1.beta", "fc2.W", "fc2.b", "bn2.gamma", "bn2.beta", "fc3.W", "fc3.b"]
    assert model(np.zeros((3, 64))).shape == (3, 10)
    plain = nets.MultiLayerNet([64, 32, 10], activation="sigmoid", rng=0)
    assert plain.layer_names == ("fc1", "act1", "fc2") and isinstance(plain.act1, nets.Sigmoid)
    assert plain.init == "xavier" and model.init == "he"
    with pytest.raises(ValueError, match="unknown activation"):
        nets.MultiLayerNet([4, 2], activation="swish")


def test_multilayer_net_weight_decay_adds_the_seeds_l2_term(batch):
    x, t = batch
    plain = nets.MultiLayerNet([64, 16, 10], rng=3)
    decayed = nets.MultiLayerNet([64, 16, 10], weight_decay=0.1, rng=3)
    w2 = sum(float(np.sum(getattr(plain, f"fc{i}").W.data.astype(np.float64) ** 2)) for i in (1, 2))
    assert decayed.loss(x, t).item() == pytest.approx(plain.loss(x, t).item() + 0.5 * 0.1 * w2, rel=1e-5)
    decayed.loss(x, t).backward()
    plain.loss(x, t).backward()
    np.testing.assert_allclose(decayed.fc1.W.grad, plain.fc1.W.grad + 0.1 * plain.fc1.W.data, rtol=1e-4, atol=1e-7)
    np.testing.assert_array_equal(decayed.fc1.b.grad, plain.fc1.b.grad)  # biases are not decayed


@pytest.mark.parametrize("kwargs", [dict(activation="sigmoid", weight_decay=0.05),
                                    dict(activation="tanh", batchnorm=True, dropout=0.3, weight_decay=0.01),
                                    dict(activation="relu", batchnorm=True)])
def test_multilayer_net_gradient_check(batch, kwargs):
    x, t = batch
    model = nets.MultiLayerNet([64, 12, 8, 10], rng=0, **kwargs)
    report = nets.gradient_check(model, x, t, verbose=False)
    assert report.ok, str(report)


def test_multilayer_net_gradient_check_in_eval_mode_with_trained_statistics(batch):
    x, t = batch
    model = nets.MultiLayerNet([64, 12, 10], batchnorm=True, dropout=0.5, rng=0)
    model(x)  # update the running statistics once
    report = nets.gradient_check(model.eval(), x, t, verbose=False)
    assert report.ok


def test_config_rebuilds_the_same_architecture():
    model = nets.MultiLayerNet([64, 12, 10], activation="tanh", weight_decay=0.1, dropout=0.2, batchnorm=True)
    clone = nets.from_config(model.config())
    assert clone.config() == model.config()
    assert [n for n, _ in clone.named_parameters()] == [n for n, _ in model.named_parameters()]
    two = nets.TwoLayerNet(5, 4, 3, weight_init_std=0.2)
    assert nets.from_config(two.config()).config() == two.config()
    with pytest.raises(ValueError, match="unknown architecture type 'Nope'"):
        nets.from_config({"type": "Nope"})


def test_loss_gradients_come_from_the_graph(batch):
    x, t = batch
    model = nets.MultiLayerNet([64, 12, 10], rng=0)
    loss = model.loss(x, t)
    assert loss.op_name == "softmax_cross_entropy"
    assert loss.node.inputs[0].op.name == "affine"
    grads = ag.grad(loss, model.parameters())
    assert [g.shape for g in grads] == [p.shape for p in model.parameters()]
