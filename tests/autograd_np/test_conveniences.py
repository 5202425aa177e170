"""PyTorch habits that work here: bare @no_grad, generators under no_grad,
requires_grad_(), retain_grad(), register_hook, defop(replace=True),
explain(values=True)."""
import gc
import weakref

import numpy as np
import pytest

import autograd_np as ag
from autograd_np import core as engine


def leaf(values):
    return ag.Tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def test_no_grad_and_enable_grad_decorate_bare_or_called():
    w = leaf([1.0, 2.0])

    @ag.no_grad
    def bare(x):
        return x * 2

    @ag.no_grad()
    def called(x):
        return x * 2

    assert not bare(w).requires_grad and not called(w).requires_grad and bare.__name__ == "bare"
    with ag.no_grad():
        assert ag.enable_grad(lambda: w * 2)().requires_grad
    assert (w * 2).requires_grad
    with pytest.raises(TypeError, match="takes a function"):
        ag.no_grad(3)


def test_a_decorated_generator_runs_every_step_in_the_mode():
    w = leaf([1.0, 2.0])

    @ag.no_grad
    def steps(n):
        for i in range(n):
            received = yield w * i
            if received is not None:
                yield received * w

    gen = steps(3)
    first = next(gen)
    assert not first.requires_grad and (w * 2).requires_grad  # recording is back on between steps
    assert not gen.send(2.0).requires_grad
    assert [t.requires_grad for t in gen] == [False, False]


def test_requires_grad_underscore_returns_the_tensor():
    x = ag.Tensor(np.ones(2)).requires_grad_()
    assert x.requires_grad and x.requires_grad_(False) is x and not x.requires_grad
    with pytest.raises(TypeError, match="cannot require grad"):
        ag.Tensor(np.arange(2)).requires_grad_()


def test_retain_grad_keeps_an_intermediate_gradient_and_accumulates():
    w = leaf([0.5, -1.0])
    h = ag.tanh(w * 2.0)
    h.retain_grad()
    y = ag.sum(h * h)
    y.backward(retain_graph=True)
    np.testing.assert_allclose(h.grad, 2 * h.data)
    y.backward()
    np.testing.assert_allclose(h.grad, 4 * h.data)
    assert w.grad is not None


def test_hooks_see_the_gradient_and_may_replace_it():
    w = leaf([1.0, 2.0, 3.0])
    h = w * 3.0
    seen = []
    handle = h.register_hook(lambda g: seen.append(g.copy()))
    w.register_hook(lambda g: g * 0.5)  # halves what reaches w.grad
    ag.sum(h * h).backward()
    np.testing.assert_allclose(seen[0], 2 * h.data)
    np.testing.assert_allclose(w.grad, 0.5 * 18 * w.data)
    with pytest.raises(ValueError):  # the gradient a hook sees is read-only: it may be shared
        h2 = w * 1.0
        h2.register_hook(lambda g: g.__setitem__(0, 0.0))
        ag.sum(h2).backward()
    handle.remove()
    ag.sum(w * 3.0).backward()
    assert len(seen) == 1
    with pytest.raises(ag.ShapeError, match="the hook returned shape"):
        h3 = w * 1.0
        h3.register_hook(lambda g: np.ones(5))
        ag.sum(h3).backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        ag.Tensor(np.ones(2)).register_hook(print)


@pytest.mark.parametrize("value", [np.array(2.0), np.array([2.0, 1.0])])
def test_a_hook_returning_a_tensor_sends_on_an_array_in_a_plain_backward(value):
    """Also for 0-d values, whose gradients reach hooks as NumPy scalars: what the next
    VJP and the next hook get is never a Tensor."""
    x = ag.Tensor(value, requires_grad=True)
    h = x * 3.0
    h.register_hook(lambda g: ag.Tensor(np.full(np.shape(g), 5.0)))
    seen = []
    x.register_hook(lambda g: seen.append(type(g)))
    ag.sum(ag.exp(h)).backward()
    assert seen and ag.Tensor not in seen
    assert type(x.grad) is np.ndarray and np.all(x.grad == 15.0)


def test_hooks_do_not_keep_their_tensors_alive():
    w = leaf([1.0])
    h = w * 2.0
    h.retain_grad()
    ref = weakref.ref(h)
    gc.disable()
    try:
        del h
        assert ref() is None
    finally:
        gc.enable()


def test_a_compiled_step_with_hooks_runs_eagerly():
    w = leaf([1.0, 2.0])
    w.register_hook(lambda g: g * 2.0)
    step = ag.compile(lambda x: ag.sum(w * x))
    for _ in range(3):
        w.grad = None
        step(np.ones(2))
    np.testing.assert_array_equal(w.grad, [2.0, 2.0])
    assert step.program(np.ones(2)) is None and "hook" in str(step.eager_reasons)


def test_defop_replace_registers_an_op_again():
    name = "test_twice"
    try:
        for factor in (2.0, 3.0):
            op = ag.defop(name, "y = k x;  gx = gy * k", replace=factor == 3.0)(lambda x, k=factor: x * k)
            op.defvjp(lambda F, gy, y, x, k=factor: gy * k)
        x = leaf([1.0])
        ag.sum(op(x)).backward()
        assert x.grad.tolist() == [3.0] and engine.OPS[name].forward(np.ones(1)).tolist() == [3.0]
        with pytest.raises(ValueError, match="replace=True"):
            ag.defop(name, "y = x;  gx = gy")(lambda x: x)
    finally:
        engine.OPS.pop(name, None)
        for table in (engine.RAW_OPS, engine.GRAPH_OPS):
            if hasattr(table, name):
                delattr(table, name)


def test_explain_with_values_shows_the_arrays_of_every_step():
    x = ag.Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True, name="x")
    steps = ag.explain(ag.softmax_cross_entropy(x, np.array([0, 1])), print_steps=False, values=True)
    (step,) = steps
    p = np.exp(x.data) / np.exp(x.data).sum(1, keepdims=True)
    np.testing.assert_allclose(step.sent_values[0], (p - np.eye(2)) / 2)
    assert step.upstream == 1.0 and "= [[" in str(step)
    assert ag.explain(ag.sum(x * 2.0), print_steps=False)[0].sent_values is None
