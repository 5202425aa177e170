"""Properties of the engine beyond single-op gradients: graph recording,
accumulation, no_grad, retain_graph, higher order, deep graphs, errors, dtypes."""
import gc
import threading
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, strategies as st

import autograd_np as ag
from autograd_np.testing import arrays, shapes


def leaf(a, name=None):
    return ag.Tensor(np.asarray(a, dtype=np.float64), requires_grad=True, name=name)


# --- recording and accumulation ------------------------------------------------

def test_a_tensor_used_twice_gets_both_gradients():
    x = leaf([1.0, -2.0, 3.0])
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, 2 * x.data)
    y = leaf([0.5, 1.5])
    (y + y + y).sum().backward()
    np.testing.assert_allclose(y.grad, [3.0, 3.0])


def test_backward_accumulates_across_calls_and_zero_grad_resets():
    x = leaf([1.0, 2.0])
    ag.sum(x * 3).backward()
    ag.sum(x * 3).backward()
    np.testing.assert_allclose(x.grad, [6.0, 6.0])
    x.zero_grad()
    assert x.grad is None


def test_gradients_of_distinct_leaves_do_not_alias():
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    ag.sum(x + y).backward()
    ag.sum(x * 2).backward()  # a second accumulation into x must not leak into y
    np.testing.assert_allclose(x.grad, [3.0, 3.0])
    np.testing.assert_allclose(y.grad, [1.0, 1.0])


@given(shape=shapes(min_dims=1), data=st.data())
def test_backward_is_linear_in_the_cotangent(shape, data):
    x0 = data.draw(arrays(shape))
    u, v = data.draw(arrays(shape)), data.draw(arrays(shape))
    a, b = data.draw(st.floats(-2, 2)), data.draw(st.floats(-2, 2))

    def vjp(cot):
        x = leaf(x0)
        ag.tanh(x * x0 + 1).backward(cot)
        return x.grad

    np.testing.assert_allclose(vjp(a * u + b * v), a * vjp(u) + b * vjp(v), atol=1e-12)


UNARY = [ag.tanh, ag.sigmoid, lambda t: t * 0.5, ag.neg, lambda t: ag.exp(t * 0.1)]
BINARY = [ag.add, ag.sub, ag.mul]

# A program is a list of steps (op index, operand picks); operands may be any
# earlier node, so gradients meet at shared nodes in every order.
programs = st.lists(st.tuples(st.booleans(), st.integers(0, 4), st.integers(0, 99), st.integers(0, 99)),
                    min_size=1, max_size=12)


def _run_program(program, x, y):
    pool = [x, y]
    for is_unary, op, i, j in program:
        a, b = pool[i % len(pool)], pool[j % len(pool)]
        pool.append(UNARY[op](a) if is_unary else BINARY[op % 3](a, b))
    return ag.sum(pool[-1] * pool[program[0][2] % len(pool)])


@given(program=programs, data=st.data())
def test_random_graphs_with_shared_nodes_gradcheck(program, data):
    xs = [data.draw(arrays((3,), domain="unit")), data.draw(arrays((2, 3), domain="unit"))]
    assert ag.gradcheck(lambda x, y: _run_program(program, x, y), xs)


def test_intermediate_gradients_are_released_during_backward():
    x = leaf(np.ones(4))
    h = ag.tanh(x)
    y = ag.sum(h * 2)
    y.backward()
    assert h.grad is None  # only leaves keep .grad


def _deep(x, W, layers=5):
    h = x
    for _ in range(layers):
        h = ag.tanh(h @ W)
    return ag.sum(h)


def test_dropping_the_loss_frees_the_whole_graph_at_once():
    # no reference cycles: before backward, the activations go with the last reference to the
    # loss, without the cyclic GC
    rng = np.random.default_rng(0)
    W = leaf(rng.standard_normal((200, 200)) * 0.1)
    x = rng.standard_normal((200, 200))  # each activation: 320 KB
    gc.disable()
    tracemalloc.start()
    try:
        loss = _deep(x, W)
        held = tracemalloc.get_traced_memory()[0]
        del loss
        dropped = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
        gc.enable()
    assert held - dropped > 9 * 320_000  # 10 activations


def test_after_backward_the_graph_keeps_its_tensors_and_its_picture():
    rng = np.random.default_rng(1)
    W = leaf(rng.standard_normal((100, 100)) * 0.1, name="W")
    h = ag.tanh(rng.standard_normal((100, 100)) @ W)
    h.name = "h"
    kept = h.data.copy()
    loss = ag.sum(ag.sigmoid(h @ W))
    before = ag.viz.to_dot(loss)
    loss.backward()
    assert loss.node.inputs[0].inputs[0].inputs[0] is h.node
    np.testing.assert_array_equal(h.data, kept)
    assert ag.viz.to_dot(loss) == before


# --- no_grad ------------------------------------------------------------------

def test_no_grad_records_nothing_and_nests():
    x = leaf([1.0, 2.0])
    with ag.no_grad():
        y = x * 2
        with ag.no_grad():
            z = y + 1
        w = ag.sigmoid(z)
        with ag.enable_grad():
            recorded = x * 2
    assert not y.requires_grad and y.node is None
    assert not z.requires_grad and not w.requires_grad
    assert recorded.requires_grad and recorded.op_name == "mul"
    assert (x * 2).requires_grad  # restored after the block


def test_no_grad_as_a_decorator():
    @ag.no_grad()
    def infer(t):
        return t * 3

    assert not infer(leaf([1.0])).requires_grad


def test_no_grad_is_per_thread():
    x = leaf([1.0])
    seen = {}
    inside, done = threading.Event(), threading.Event()

    def other_thread():
        inside.wait()
        seen["other"] = (x * 2).requires_grad
        done.set()

    t = threading.Thread(target=other_thread)
    t.start()
    with ag.no_grad():
        inside.set()
        done.wait()
        seen["here"] = (x * 2).requires_grad
    t.join()
    assert seen == {"other": True, "here": False}


# --- retain_graph ---------------------------------------------------------------

def test_second_backward_through_a_freed_graph_raises():
    x = leaf([1.0, 2.0])
    y = ag.sum(ag.tanh(x))
    y.backward()
    with pytest.raises(RuntimeError, match="already freed.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = leaf([1.0, 2.0])
    y = ag.sum(ag.tanh(x))
    y.backward(retain_graph=True)
    first = x.grad.copy()
    y.backward()
    np.testing.assert_allclose(x.grad, 2 * first)


def test_non_scalar_backward_needs_a_gradient():
    x = leaf(np.ones((2, 3)))
    with pytest.raises(RuntimeError, match=r"shape \(2, 3\).*explicit grad"):
        (x * 2).backward()
    with pytest.raises(ValueError, match=r"grad of shape \(3,\) does not match output of shape \(2, 3\)"):
        (x * 2).backward(np.ones(3))


def test_backward_of_a_tensor_that_needs_no_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        ag.sum(ag.Tensor(np.ones(3)) * 2).backward()


# --- higher order and the functional API --------------------------------------------

def test_second_derivative_of_tanh_matches_closed_form():
    xv = np.linspace(-2, 2, 9)
    x = leaf(xv)
    (dx,) = ag.grad(ag.sum(ag.tanh(x)), [x], create_graph=True)
    np.testing.assert_allclose(dx.data, 1 - np.tanh(xv) ** 2)
    (d2x,) = ag.grad(ag.sum(dx), [x])
    np.testing.assert_allclose(d2x.data, -2 * np.tanh(xv) * (1 - np.tanh(xv) ** 2), atol=1e-12)


def test_third_derivative_of_a_cubic():
    x = leaf(2.0)
    (g1,) = ag.grad(x ** 3, [x], create_graph=True)
    (g2,) = ag.grad(g1, [x], create_graph=True)
    (g3,) = ag.grad(g2, [x])
    assert (g1.item(), g2.item(), g3.item()) == pytest.approx((12.0, 12.0, 6.0))


def test_grad_does_not_touch_dot_grad_and_reports_unused_inputs():
    x, unused = leaf([1.0, 2.0]), leaf([5.0])
    (g,) = ag.grad(ag.sum(x * x), [x])
    assert x.grad is None
    np.testing.assert_allclose(g.data, [2.0, 4.0])
    with pytest.raises(RuntimeError, match="input 1 .* is not used"):
        ag.grad(ag.sum(x * 2), [x, unused])
    assert ag.grad(ag.sum(x * 2), [x, unused], allow_unused=True)[1] is None


def test_grad_with_respect_to_an_intermediate():
    x = leaf([1.0, 2.0])
    h = x * 3
    (gh,) = ag.grad(ag.sum(h * h), [h])
    np.testing.assert_allclose(gh.data, 2 * h.data)


def test_value_and_grad():
    f = ag.value_and_grad(lambda a, b: ag.sum(a * b), argnums=(0, 1))
    value, (ga, gb) = f(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    assert value == 11.0
    np.testing.assert_allclose(ga, [3.0, 4.0])
    np.testing.assert_allclose(gb, [1.0, 2.0])
    value, g = ag.value_and_grad(lambda a: ag.sum(ag.exp(a)))(np.zeros(2))
    np.testing.assert_allclose(g, [1.0, 1.0])


# --- deep graphs ---------------------------------------------------------------

def test_a_chain_of_100000_ops_does_not_recurse():
    x = leaf([1.0, 2.0])
    y = x
    for _ in range(100_000):
        y = y * 1.0
    ag.sum(y).backward()
    np.testing.assert_allclose(x.grad, [1.0, 1.0])


# --- operators, dtypes, errors ----------------------------------------------------

def test_numbers_and_arrays_mix_on_either_side():
    W = leaf(np.arange(6.0).reshape(2, 3))
    arr = np.ones((4, 2))
    out = arr @ W
    assert isinstance(out, ag.Tensor) and out.shape == (4, 3)
    loss = ag.sum(2 * W - arr[0] @ W + 1 / (W + 1) - W ** 2 + 2 ** W * 0.0)
    loss.backward()
    assert W.grad.shape == (2, 3)
    # arr[0] @ W has shape (3,) and is broadcast over W's 2 rows: each W[i, j] enters twice
    expected = 2 - 2 - 1 / (W.data + 1) ** 2 - 2 * W.data
    np.testing.assert_allclose(W.grad, expected)


def test_bias_gradient_is_reduced_to_the_bias_shape():
    x, b = leaf(np.random.default_rng(0).standard_normal((100, 10))), leaf(np.zeros(10))
    ag.sum(x + b).backward()
    assert b.grad.shape == (10,)
    np.testing.assert_allclose(b.grad, np.full(10, 100.0))


def test_float32_is_kept_with_python_and_numpy_scalars():
    x = ag.Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    y = ag.sum(ag.sigmoid(x * 2.5 + np.float64(1.0)) / np.float64(3))
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32


def test_mixed_precision_gradients_come_back_in_each_inputs_dtype():
    a = ag.Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    b = ag.Tensor(np.ones(3), requires_grad=True)
    ag.sum(a * b).backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="int64 cannot require grad"):
        ag.Tensor(np.arange(3), requires_grad=True)
    labels = ag.Tensor(np.arange(3))  # fine without grad
    assert labels.dtype == np.int64


def test_comparisons_return_plain_arrays():
    x = leaf([1.0, -1.0])
    for result in (x > 0, x >= 0, x < 0, x <= 0, x == 1.0, x != 1.0):
        assert type(result) is np.ndarray and result.dtype == bool


def test_indexing_with_tensor_labels():
    logits = leaf(np.arange(6.0).reshape(3, 2))
    picked = logits[np.arange(3), ag.Tensor(np.array([1, 0, 1]))]
    np.testing.assert_allclose(picked.data, [1.0, 2.0, 5.0])
    ag.sum(picked).backward()
    np.testing.assert_allclose(logits.grad, [[0, 1], [1, 0], [0, 1]])


@pytest.mark.parametrize("make, message", [
    (lambda: leaf(np.ones((100, 784))) @ leaf(np.ones((50, 10))),
     r"matmul: shapes \(100, 784\) and \(50, 10\) do not align \(784 != 50\)"),
    (lambda: leaf(np.ones((2, 3))) + leaf(np.ones((4,))), r"add: cannot apply to inputs \(2, 3\) float64 and \(4,\)"),
    (lambda: ag.affine(leaf(np.ones((2, 3))), leaf(np.ones((4, 5))), leaf(np.ones(5))),
     r"affine: x \(2, 3\), W \(4, 5\), b \(5,\) do not fit"),
    (lambda: ag.softmax_cross_entropy(leaf(np.ones((2, 3))), np.array([0, 3])),
     "softmax_cross_entropy: label 3 is out of range for 3 classes"),
    (lambda: ag.softmax_cross_entropy(leaf(np.ones((2, 3))), np.array([0, 1, 2])),
     r"targets of shape \(3,\) \(int64\) do not fit logits of shape \(2, 3\)"),
    (lambda: ag.reshape(leaf(np.ones(6)), (4, 2)), r"reshape: cannot apply to inputs \(6,\) float64"),
])
def test_errors_name_the_op_and_the_shapes(make, message):
    with pytest.raises(ag.ShapeError, match=message):
        make()


def test_repr_names_the_op():
    y = ag.tanh(leaf([1.0], name="x"))
    assert "op=tanh" in repr(y) and "name='x'" in repr(y.node.inputs[0])


def test_a_node_reached_directly_and_through_another_node():
    # regression: an early topological sort visited c before b had sent c its gradient
    x = leaf(1.0)
    c = x * 2
    b = c * 3
    (c + b).backward()
    assert x.grad == 8.0


def test_several_outputs_where_one_feeds_another():
    x = leaf(1.0)
    c = x * 2
    b = c * 3
    ag.backward([b, c, c])  # c's own seed twice, plus what b sends it: (3 + 1 + 1) * 2
    assert x.grad == 10.0


def test_one_no_grad_instance_can_be_entered_twice():
    off = ag.no_grad()
    with off:
        with off:
            assert not ag.is_grad_enabled()
        assert not ag.is_grad_enabled()
    assert ag.is_grad_enabled()
    assert ag.tanh(leaf([1.0])).requires_grad


def test_iterating_a_tensor_gives_its_rows_and_stops():
    x = leaf(np.arange(6.0).reshape(3, 2))
    rows = list(x)
    assert len(rows) == 3 and all(r.shape == (2,) for r in rows)
    ag.sum(rows[0] * 1.0 + rows[2] * 2.0).backward()
    np.testing.assert_array_equal(x.grad, [[1, 1], [0, 0], [2, 2]])


def test_gradients_handed_out_are_writeable_ndarrays_even_for_0d_leaves():
    s = leaf(2.0)
    (s * s).backward()
    (s * s).backward()  # accumulated: still an array
    assert type(s.grad) is np.ndarray and s.grad.shape == () and s.grad == 8.0
    x = leaf(np.ones((2, 3)))
    g = ag.grad(ag.sum(x), x)  # sum's VJP broadcasts: a read-only view inside the engine
    assert g.data.flags.writeable and type(g.data) is np.ndarray
    g.data[0, 0] = 5.0  # the user's own array: writing to it changes nothing else
    assert ag.grad(ag.sum(x), x).data[0, 0] == 1.0


def test_an_explicit_seed_is_cast_to_the_output_dtype_and_never_written_to():
    x = ag.Tensor(np.ones(3, np.float32), requires_grad=True)
    seed = ag.Tensor(np.array([1.0, 2.0, 3.0]))  # float64, as a tensor
    (x * 2.0).backward(seed)
    assert x.grad.dtype == np.float32 and list(x.grad) == [2.0, 4.0, 6.0]
    assert list(seed.data) == [1.0, 2.0, 3.0]
    s = ag.sum(x)
    s.backward()
    s2 = ag.sum(x * 1.0)
    s2.backward()  # the shared scalar seed is read-only: a VJP writing to gy would fail loudly
    assert list(x.grad) == [4.0, 6.0, 8.0]


def test_create_graph_gradients_are_the_callers_own_arrays():
    x = leaf(2.0)
    for out in (x + 0.0, x):  # a VJP passing the seed straight through; the output is the input
        g, = ag.grad(out, [x], create_graph=True)
        assert g.data.flags.writeable
        g.data[...] = 7.0  # the caller's own: the next call is not affected
    assert ag.grad(x + 0.0, [x], create_graph=True)[0].item() == 1.0


def test_grad_with_an_array_among_the_inputs_gives_none_for_it():
    x = leaf(np.ones(3))
    gx, garr = ag.grad(ag.sum(x * x), [x, np.ones(3)], allow_unused=True)
    np.testing.assert_array_equal(gx.data, [2.0, 2.0, 2.0])
    assert garr is None


def test_tensor_cannot_be_subclassed():
    with pytest.raises(TypeError, match="cannot be subclassed"):
        class Parameter(ag.Tensor):  # noqa: F841
            pass
