"""check_graph finds the broken op; explain shows backward step by step;
fused ops agree with the same math composed from primitives."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import autograd_np as ag
from autograd_np.testing import arrays


def _twenty_op_graph(square, x, W):
    h = ag.tanh(x @ W)              # matmul, tanh
    h = h * 0.5 + 0.1               # mul, add
    h = ag.sigmoid(h) - h           # sigmoid, sub
    h = square(h)                   # the culprit
    h = ag.exp(h * 0.1)             # mul, exp
    h = h / (1 + ag.abs(h))         # abs, add, div
    h = ag.log(h + 1)               # add, log
    h = ag.relu(h - 0.2)            # sub, relu
    h = h.T.reshape(-1)             # transpose, reshape
    return ag.mean(h ** 2) + ag.max(h)  # power, mean, max, add


def test_check_graph_names_exactly_the_wrong_node(wrong_square_op):
    rng = np.random.default_rng(0)
    x = ag.Tensor(rng.standard_normal((4, 3)))
    W = ag.Tensor(rng.standard_normal((3, 5)), requires_grad=True, name="W")
    loss = _twenty_op_graph(wrong_square_op, x, W)
    with pytest.raises(ag.GradcheckError):   # end to end: something is wrong somewhere
        ag.gradcheck(lambda w: _twenty_op_graph(wrong_square_op, x, w), [W])
    report = ag.check_graph(loss)
    assert len(report) >= 20
    assert [row.op for row in report.failures] == ["test_wrong_square"]
    assert report[0].op == "test_wrong_square" and report[0].upstream == ["W"]
    with pytest.raises(ag.GraphCheckError, match="op 'test_wrong_square'.*parameters upstream: W"):
        ag.check_graph(loss, raise_on_failure=True)


def test_check_graph_passes_a_correct_two_layer_net_and_subsamples():
    rng = np.random.default_rng(1)
    x = ag.Tensor(rng.random((100, 784)).astype(np.float32))
    W1 = ag.Tensor(0.01 * rng.standard_normal((784, 50)), requires_grad=True, name="W1")
    b1 = ag.Tensor(np.zeros(50), requires_grad=True, name="b1")
    W2 = ag.Tensor(0.01 * rng.standard_normal((50, 10)), requires_grad=True, name="W2")
    b2 = ag.Tensor(np.zeros(10), requires_grad=True, name="b2")
    loss = ag.softmax_cross_entropy(ag.sigmoid(x @ W1 + b1) @ W2 + b2, rng.integers(0, 10, 100))
    report = ag.check_graph(loss)
    assert report.ok and len(report) == 6
    assert "6 nodes, 0 failing" in str(report)


def test_check_graph_refuses_a_freed_graph():
    x = ag.Tensor(np.ones(3), requires_grad=True)
    y = ag.sum(ag.tanh(x))
    y.backward()
    with pytest.raises(RuntimeError, match="check_graph: .*already freed by an earlier backward.*retain_graph=True"):
        ag.check_graph(y)


SEED_W = np.array([[0.47355232, 0.9977393, 0.84668094], [0.85557411, 0.03563661, 0.69422093]])


def test_explain_shows_the_y_minus_t_step_of_softmax_with_loss(capsys):
    W = ag.Tensor(SEED_W, requires_grad=True, name="W")
    loss = ag.softmax_cross_entropy(np.array([0.6, 0.9]) @ W, np.array([0, 0, 1]))
    steps = ag.explain(loss)
    printed = capsys.readouterr().out
    assert [s.op for s in steps] == ["softmax_cross_entropy", "matmul"]
    assert "(y - t) / N" in steps[0].rule and "(y - t) / N" in printed
    z = np.array([0.6, 0.9]) @ SEED_W
    y = np.exp(z) / np.exp(z).sum()
    label, shape, norm = steps[0].sent[0]
    assert shape == (3,) and norm == pytest.approx(np.linalg.norm(y - [0, 0, 1]))
    assert steps[1].sent[0][0] == "W" and steps[1].sent[0][1] == (2, 3)
    assert W.grad is None  # explain leaves .grad alone
    loss.backward()        # and keeps the graph
    assert W.grad.shape == (2, 3)


# --- fused ops against the same math composed from primitives --------------------

def _composed_cross_entropy(x, t_onehot):
    n = x.shape[0] if x.ndim == 2 else 1
    m = ag.Tensor(np.max(x.data, axis=-1, keepdims=True))      # a constant shift, as in the fused op
    z = x - m
    log_y = z - ag.log(ag.sum(ag.exp(z), axis=-1, keepdims=True))
    return -ag.sum(t_onehot * log_y) / n


@given(st.integers(1, 5), st.integers(2, 6), st.data())
def test_fused_softmax_cross_entropy_equals_composed(n, c, data):
    x0 = data.draw(arrays((n, c)))
    labels = np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    fused_x, composed_x = ag.Tensor(x0, requires_grad=True), ag.Tensor(x0, requires_grad=True)
    fused = ag.softmax_cross_entropy(fused_x, labels)
    composed = _composed_cross_entropy(composed_x, np.eye(c)[labels])
    np.testing.assert_allclose(fused.data, composed.data, rtol=1e-12, atol=1e-12)
    fused.backward()
    composed.backward()
    np.testing.assert_allclose(fused_x.grad, composed_x.grad, rtol=1e-10, atol=1e-12)


@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.data())
def test_fused_affine_equals_matmul_plus_bias(n, k, m, data):
    x0, W0, b0 = data.draw(arrays((n, k))), data.draw(arrays((k, m))), data.draw(arrays((m,)))
    fused_in = [ag.Tensor(v, requires_grad=True) for v in (x0, W0, b0)]
    composed_in = [ag.Tensor(v, requires_grad=True) for v in (x0, W0, b0)]
    fused = ag.affine(*fused_in)
    x, W, b = composed_in
    composed = x @ W + b
    np.testing.assert_allclose(fused.data, composed.data, rtol=1e-12, atol=1e-12)
    cot = data.draw(arrays((n, m)))
    fused.backward(cot)
    composed.backward(cot)
    for a, b_ in zip(fused_in, composed_in):
        np.testing.assert_allclose(a.grad, b_.grad, rtol=1e-12, atol=1e-12)


@given(st.data())
def test_fused_activations_equal_their_textbook_forms(data):
    x0 = data.draw(arrays((3, 4)))
    pairs = [(ag.sigmoid, lambda x: 1 / (1 + ag.exp(-x))),
             (ag.softmax, lambda x: ag.exp(x) / ag.sum(ag.exp(x), axis=-1, keepdims=True)),
             (ag.log_softmax, lambda x: x - ag.log(ag.sum(ag.exp(x), axis=-1, keepdims=True))),
             (ag.relu, lambda x: ag.where(x.data > 0, x, 0.0))]
    cot = data.draw(arrays((3, 4)))
    for fused_fn, composed_fn in pairs:
        a, b = ag.Tensor(x0, requires_grad=True), ag.Tensor(x0, requires_grad=True)
        fa, fb = fused_fn(a), composed_fn(b)
        np.testing.assert_allclose(fa.data, fb.data, rtol=1e-12, atol=1e-12)
        fa.backward(cot)
        fb.backward(cot)
        np.testing.assert_allclose(a.grad, b.grad, rtol=1e-10, atol=1e-12)
