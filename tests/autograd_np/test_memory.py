"""After backward the graph keeps metadata, not activations; pictures and errors
stay as they were.  The cyclic GC is off in the memory tests, so that a
reference cycle would count as a leak."""
import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import autograd_np as ag
from autograd_np import core as engine

SIZES = (784, 128, 64, 10)


def mlp(seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    layers = [(ag.Tensor((rng.standard_normal((a, b)) * np.sqrt(2 / a)).astype(dtype), requires_grad=True,
                         name=f"W{i}"),
               ag.Tensor(np.zeros(b, dtype), requires_grad=True, name=f"b{i}"))
              for i, (a, b) in enumerate(zip(SIZES[:-1], SIZES[1:]), 1)]
    x = rng.random((100, SIZES[0]), dtype=np.float32).astype(dtype)
    t = rng.integers(0, SIZES[-1], 100)
    return layers, x, t


def forward(layers, x, t):
    h = x
    for i, (W, b) in enumerate(layers):
        h = ag.affine(h, W, b)
        if i < len(layers) - 1:
            h = ag.relu(h)
    return ag.softmax_cross_entropy(h, t)


@pytest.fixture
def no_cyclic_gc():
    gc.collect()
    gc.disable()
    yield
    gc.enable()


def test_a_loss_held_after_backward_keeps_under_5_percent_of_the_activations(no_cyclic_gc):
    layers, x, t = mlp()
    forward(layers, x, t).backward()  # NumPy's and the engine's one-time caches are not the graph's
    for W, b in layers:
        W.grad = b.grad = None
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        loss = forward(layers, x, t)
        recorded = tracemalloc.get_traced_memory()[0] - start  # activations and the graph
        loss.backward()
        for W, b in layers:
            W.grad = b.grad = None
        held = tracemalloc.get_traced_memory()[0] - start
    finally:
        tracemalloc.stop()
    activations = 100 * (128 + 128 + 64 + 64 + 10) * 4  # affine and relu outputs, float32
    assert recorded > activations
    assert held <= 0.05 * activations, f"{held} bytes held by the loss after backward"
    assert float(loss) > 0


def test_every_activation_nobody_holds_is_gone_after_backward(no_cyclic_gc):
    layers, x, t = mlp()
    loss = forward(layers, x, t)
    nodes = engine.graph_nodes([loss])
    arrays = [weakref.ref(n.out) for n in nodes if n is not loss.node]
    kept = [n for n in nodes if n is not loss.node][0]  # held through its node only: no tensor
    assert all(a() is not None for a in arrays)
    loss.backward()
    assert all(a() is None for a in arrays), "an activation outlived backward"
    assert kept.freed and kept.shape == (100, 10) and kept.dtype == np.float32
    # the data the user passed is let go of too (the graph keeps its shape and dtype)
    x_ref = weakref.ref(x)
    del x
    assert x_ref() is None


def test_a_tensor_the_user_holds_keeps_its_data_and_stays_one_node():
    layers, x, t = mlp()
    W, b = layers[0]
    h = ag.relu(ag.affine(x, W, b))
    h.name = "h"
    kept = h.data.copy()
    loss = ag.sum(h * 2.0)
    before = ag.viz.to_dot(loss, h)
    loss.backward()
    np.testing.assert_array_equal(h.data, kept)
    assert loss.node.inputs[0].inputs[0] is h.node and h.node.name == "h"
    assert ag.viz.to_dot(loss, h) == before


def _mlp_model(**kw):
    import nets
    return nets.MultiLayerNet([8, 6, 5, 3], rng=0, **kw)


PICTURES = [
    ("plain", lambda loss: ag.viz.to_dot(loss)),
    ("no shapes", lambda loss: ag.viz.to_dot(loss, show_shapes=False)),
    ("modules", lambda loss: ag.viz.to_dot(loss, modules=True)),
    ("collapse", lambda loss: ag.viz.to_dot(loss, collapse=True)),
    ("left to right", lambda loss: ag.viz.to_dot(loss, graph_attr={"rankdir": "LR"})),
]


@pytest.mark.parametrize("name, draw", PICTURES, ids=[n for n, _ in PICTURES])
@pytest.mark.parametrize("model_kw", [{}, {"batchnorm": True}, {"dropout": 0.3, "weight_decay": 0.1}],
                         ids=["mlp", "batchnorm", "dropout+decay"])
def test_pictures_after_backward_equal_those_before(name, draw, model_kw):
    model = _mlp_model(**model_kw)
    x = ag.Tensor(np.random.default_rng(1).standard_normal((4, 8)), name="x")
    loss = model.loss(x, np.array([0, 1, 2, 0]))
    before = draw(loss)
    loss.backward()
    assert draw(loss) == before


def test_pictures_of_shared_tensors_and_array_constants_survive_backward():
    w = ag.Tensor(np.ones(3), requires_grad=True, name="w")
    mask = np.array([1.0, 0.0, 1.0])
    data = ag.Tensor(np.full(3, 2.0), name="data")
    steps = [w]
    for _ in range(20):  # w used by more than max_fanout ops: dashed copies
        steps.append(ag.tanh(steps[-1] * mask + w * data))
    loss = ag.sum(steps[-1])
    before = ag.viz.to_dot(loss)
    loss.backward()
    assert ag.viz.to_dot(loss) == before
    assert "const" in before and "data" in before


def test_the_gradient_picture_after_backward_shows_the_leaves_grads():
    layers, x, t = mlp()
    loss = forward(layers, x, t)
    loss.backward()
    dot = ag.viz.to_dot(loss, show_grads=True)
    assert "leaves' .grad only" in dot
    assert dot.count("|grad| =") == 6  # the six parameters


def test_a_freed_graph_refuses_a_second_backward_and_check_graph():
    layers, x, t = mlp()
    loss = forward(layers, x, t)
    loss.backward()
    with pytest.raises(RuntimeError, match="already freed by an earlier backward"):
        loss.backward()
    with pytest.raises(RuntimeError, match="check_graph: .*already freed"):
        ag.check_graph(loss)


def test_retain_graph_keeps_what_a_second_backward_and_check_graph_need():
    layers, x, t = mlp(dtype=np.float64)
    loss = forward(layers, x, t)
    loss.backward(retain_graph=True)
    first = [W.grad.copy() for W, _ in layers]
    assert ag.check_graph(loss).ok
    for W, b in layers:
        W.grad = b.grad = None
    loss.backward()
    for (W, _), g in zip(layers, first):
        np.testing.assert_allclose(W.grad, g)


def test_held_losses_of_the_seeds_loop_cost_bytes_not_activations(no_cyclic_gc):
    import nets
    rng = np.random.default_rng(0)
    x_train, t_train = rng.random((500, 784), dtype=np.float32), rng.integers(0, 10, 500)
    for pattern in ("backward", "seeds"):
        net = nets.TwoLayerNet(784, 50, 10, rng=0)
        losses = []
        tracemalloc.start()
        try:
            for i in range(60):
                if i == 10:
                    start = tracemalloc.get_traced_memory()[0]
                idx = rng.choice(500, 100)
                xb, tb = x_train[idx], t_train[idx]
                if pattern == "backward":  # loss kept, backpropagated, parameters updated
                    loss = net.loss(xb, tb)
                    losses.append(loss)
                    net.zero_grad()
                    loss.backward()
                    for p in net.tensors.values():
                        p.data -= 0.1 * p.grad
                else:  # the seeds: gradient(), update, then a loss for the plot only
                    grad = net.gradient(xb, tb)
                    for key in ("W1", "b1", "W2", "b2"):
                        net.params[key] -= 0.1 * grad[key]
                    losses.append(net.loss(xb, tb))
            per_step = (tracemalloc.get_traced_memory()[0] - start) / 50
        finally:
            tracemalloc.stop()
        assert per_step < 8 * 1024, f"{pattern}: {per_step:.0f} bytes held per step"  # one step's activations: 359 KiB
        values = np.array(losses)
        assert values.dtype == np.float32 and values.shape == (60,) and np.all(np.isfinite(values))
        assert [float(v) for v in losses] == values.tolist()


def test_a_stale_graph_says_why_it_cannot_be_backpropagated():
    import nets
    net = nets.TwoLayerNet(4, 3, 2, rng=0)
    x, t = np.ones((2, 4)), np.array([0, 1])
    old = net.loss(x, t)
    net.params["W1"] -= 0.1  # the graph of `old` can no longer be differentiated
    net.loss(x, t)           # ... and is released now
    assert old.node.freed
    with pytest.raises(RuntimeError, match=r"released because 'W1' \(4, 3\) float32 was changed"):
        old.backward()
    fresh = net.loss(x, t)   # an untouched graph is not released
    net.loss(x, t)
    assert not fresh.node.freed
    fresh.backward()


def test_graph_recording_stays_cycle_free_and_dropping_a_loss_frees_it(no_cyclic_gc):
    layers, x, t = mlp()
    loss = forward(layers, x, t)
    ref = weakref.ref(loss.node)
    del loss
    assert ref() is None
