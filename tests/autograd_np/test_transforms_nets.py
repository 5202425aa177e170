"""Per-example gradients of nets models: ``vmap(grad(loss), in_axes=(None, 0, 0))(params,
x, t)`` equals a Python loop over the batch of ordinary backward passes, for every
model and for a Sequential holding every layer kind (in eval mode: dropout off,
batch norm on its running statistics); batch norm in training mode is refused.
``functional_call`` runs a model (or its loss) with given parameters and leaves
the model as it was."""
import numpy as np
import pytest

import autograd_np as ag
import nets
from autograd_np import func


def _models():
    rng = 0
    yield "MultiLayerNet relu", nets.MultiLayerNet((6, 8, 5, 3), activation="relu", rng=rng), (6,)
    yield "MultiLayerNet sigmoid, decay, dropout, batchnorm", nets.MultiLayerNet(
        (6, 7, 3), activation="sigmoid", weight_decay=0.1, dropout=0.3, batchnorm=True, rng=rng), (6,)
    yield "TwoLayerNet", nets.TwoLayerNet(6, 5, 3), (6,)
    yield "SimpleConvNet", nets.SimpleConvNet((1, 6, 6), {"filter_num": 2, "filter_size": 3, "pad": 1, "stride": 1},
                                              hidden_size=5, output_size=3), (1, 6, 6)
    layers = nets.Sequential(nets.Conv2d(2, 3, 3, pad=1, rng=rng), nets.BatchNorm2d(3), nets.ReLU(),
                             nets.MaxPool2d(2), nets.Conv2d(3, 2, 1, rng=rng), nets.AvgPool2d(2), nets.Flatten(),
                             nets.Affine(2, 4, rng=rng), nets.BatchNorm(4), nets.Tanh(), nets.Dropout(0.5),
                             nets.Affine(4, 4, rng=rng), nets.Sigmoid(), nets.Identity(), nets.Affine(4, 3, rng=rng))
    yield "Sequential of every layer", layers, (2, 4, 4)


MODELS = list(_models())


def _params(model):
    return {name: p.data.astype(np.float64) for name, p in model.named_parameters()}


def _loop(model, params, x, t):
    """Per-example gradients the ordinary way: one backward per example, into .grad."""
    tensors = dict(model.named_parameters())
    saved = {k: p.data for k, p in tensors.items()}
    out = {k: [] for k in params}
    try:
        for k, p in tensors.items():
            p.data = params[k]
        for i in range(len(x)):
            for p in tensors.values():
                p.grad = None
            model.loss(x[i:i + 1], t[i:i + 1]).backward()
            for k in params:
                out[k].append(tensors[k].grad)
    finally:
        for k, p in tensors.items():
            p.data = saved[k]
    return {k: np.stack(v) for k, v in out.items()}


@pytest.mark.parametrize("name,model,shape", MODELS, ids=[m[0] for m in MODELS])
def test_per_example_gradients_equal_a_loop(name, model, shape):
    model.eval()
    rng = np.random.default_rng(3)
    x, t = rng.standard_normal((5,) + shape), rng.integers(0, 3, 5)
    params = _params(model)
    before = {k: p.data.copy() for k, p in model.named_parameters()}

    def loss(p, xi, ti):
        return func.functional_call(model.loss, p, xi[None], ti[None])

    per_example = ag.vmap(func.grad(loss), in_axes=(None, 0, 0))(params, x, t)
    want = _loop(model, params, x, t)
    for k in params:
        assert type(per_example[k]) is np.ndarray and per_example[k].shape == (5,) + params[k].shape, k
        np.testing.assert_allclose(per_example[k], want[k], rtol=1e-9, atol=1e-12, err_msg=f"{name}: {k}")
    for k, p in model.named_parameters():  # the model is as it was
        np.testing.assert_array_equal(p.data, before[k])


def test_batch_norm_in_training_mode_is_refused_clearly():
    model = nets.MultiLayerNet((4, 5, 2), batchnorm=True, rng=0)
    model.train()
    params = _params(model)
    x, t = np.ones((3, 4)), np.zeros(3, dtype=int)
    with pytest.raises(ag.VmapError, match="batch_norm in training mode"):
        ag.vmap(func.grad(lambda p, xi, ti: func.functional_call(model.loss, p, xi[None], ti[None])),
                in_axes=(None, 0, 0))(params, x, t)


def test_functional_call_checks_its_arguments_and_restores_the_model():
    model = nets.TwoLayerNet(3, 2, 2)
    w1 = model.W1 if hasattr(model, "W1") else dict(model.named_parameters())["W1"]
    with pytest.raises(KeyError, match="no parameter 'nope'"):
        func.functional_call(model, {"nope": np.zeros(1)}, np.ones((1, 3)))
    with pytest.raises(TypeError, match="params must be a dict"):
        func.functional_call(model, [np.zeros(1)], np.ones((1, 3)))
    with pytest.raises(TypeError, match="named_parameters"):
        func.functional_call(lambda v: v, {}, 1.0)
    with pytest.raises(Exception):
        func.functional_call(model, {"W1": np.zeros((5, 5))}, np.ones((1, 3)))  # a shape error inside the call
    assert dict(model.named_parameters())["W1"] is w1  # restored after the error
    y = func.functional_call(model, {"W1": np.zeros((3, 2)), "b1": np.zeros(2)}, np.ones((1, 3)))
    assert np.allclose(y.data, func.functional_call(model, {"W1": np.zeros((3, 2)), "b1": np.zeros(2)},
                                                    np.zeros((1, 3))).data)
