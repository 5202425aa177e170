"""gradcheck is a user feature: it must catch real derivative bugs and say where."""
import numpy as np
import pytest

import autograd_np as ag


@pytest.fixture
def broken(monkeypatch):
    """Swap an op's VJP for a wrong one for the duration of a test."""
    def swap(name, vjp, needs=False):
        op = ag.OPS[name]
        monkeypatch.setattr(op, "vjp", vjp)
        monkeypatch.setattr(op, "wants_needs", needs)
    return swap


def test_numerical_gradient_matches_a_known_derivative():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    g = ag.numerical_gradient(lambda v: np.sum(v ** 3), x.copy(), eps=1e-5)
    np.testing.assert_allclose(g, 3 * x ** 2, rtol=1e-8)


def test_numerical_gradient_restores_its_input():
    x = np.array([1.0, 2.0])
    ag.numerical_gradient(lambda v: np.sum(np.sin(v)), x)
    np.testing.assert_array_equal(x, [1.0, 2.0])


def test_matmul_missing_a_transpose_on_a_square_input_is_caught(broken):
    def matmul_vjp_without_transpose(F, gy, y, a, b, needs):
        return F.matmul(gy, b), F.matmul(F.transpose(a), gy)   # bug: gy @ b, not gy @ b.T

    a, b = np.random.default_rng(1).standard_normal((2, 3, 3))
    assert ag.gradcheck(lambda p, q: p @ q, [a, b])  # the real op passes
    broken("matmul", matmul_vjp_without_transpose, needs=True)
    with pytest.raises(ag.GradcheckError) as info:
        ag.gradcheck(lambda p, q: p @ q, [a, b])
    assert info.value.input_index == 0


def test_a_bug_that_an_all_ones_cotangent_cannot_see_is_caught(broken):
    """A VJP that averages its upstream gradient is right whenever the upstream
    gradient is constant, as with an all-ones cotangent on sum(f(x))."""
    def neg_vjp_averaging(F, gy, y, x):
        return -np.full_like(gy, np.mean(gy))

    x = np.array([0.3, -1.2, 2.0])
    broken("neg", neg_vjp_averaging)
    all_ones = ag.grad(ag.sum(-ag.Tensor(x, requires_grad=True)), [ag.Tensor(x)], allow_unused=True)
    xt = ag.Tensor(x, requires_grad=True)
    (g_ones,) = ag.grad(-xt, [xt], grad_outputs=[np.ones(3)])
    np.testing.assert_allclose(g_ones.data, [-1.0, -1.0, -1.0])  # looks right with all ones
    assert all_ones[0] is None
    with pytest.raises(ag.GradcheckError):
        ag.gradcheck(lambda v: -v, [x])


def test_the_error_message_names_input_index_values_and_error(broken):
    def mul_vjp_wrong_b(F, gy, y, a, b, needs):
        return gy * b, gy * a * 2.0   # bug: factor 2 on b's gradient

    broken("mul", mul_vjp_wrong_b, needs=True)
    a, b = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0.5, -0.5])
    with pytest.raises(ag.GradcheckError) as info:
        ag.gradcheck(lambda p, q: p * q, [a, ag.Tensor(b, name="scale")])
    message = str(info.value)
    err = info.value
    assert err.input_index == 1 and "input 1 ('scale')" in message and "shape (2,)" in message
    assert f"index {err.index}" in message
    assert "analytic" in message and "numeric" in message and "abs error" in message
    assert err.analytic == pytest.approx(2 * err.numeric, rel=1e-4)


def test_float32_functions_are_checked_in_float64():
    seen = []

    def f(x):
        seen.append(x.dtype)
        return ag.sum(ag.tanh(x))

    assert ag.gradcheck(f, [np.ones(3, dtype=np.float32)])
    assert set(seen) == {np.dtype(np.float64)}


def test_gradcheck_rejects_integer_inputs_clearly():
    with pytest.raises(TypeError, match="input 0 has dtype int64"):
        ag.gradcheck(lambda x: x * 2, [np.arange(3)])


def test_gradgradcheck_catches_a_wrong_second_derivative(broken):
    x = np.array([0.3, -0.7])
    assert ag.gradgradcheck(lambda v: ag.tanh(v), [x])

    def tanh_vjp_first_order_only(F, gy, y, x):
        # right values, but computed from constants: the second derivative is lost
        yv = y.data if isinstance(y, ag.Tensor) else y
        return gy * (1 - yv * yv)

    broken("tanh", tanh_vjp_first_order_only)
    assert ag.gradcheck(lambda v: ag.tanh(v), [x])
    with pytest.raises(ag.GradcheckError):
        ag.gradgradcheck(lambda v: ag.tanh(v), [x])
