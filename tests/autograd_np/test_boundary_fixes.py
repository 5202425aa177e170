"""The boundary bugs of issue 20, one test each (each failed before its fix):
power at 0, max pooling over -inf, det of a singular matrix, conv2d with no
output channels or a huge pad, softmax cross-entropy at float32's extremes,
batch norm of one value per channel.  The sweep over every op is
test_boundary_sweep.py; gradcheck's scaling is test_gradcheck_scaling.py."""
import itertools

import numpy as np
import pytest

import autograd_np as ag
from autograd_np.core.errors import ShapeError


def _leaf(v):
    return ag.Tensor(np.array(v, dtype=np.float64), requires_grad=True)


# --- power ------------------------------------------------------------------------

def test_power_with_exponent_zero_has_derivative_zero_at_base_zero():
    x = _leaf(0.0)
    g, = ag.grad(ag.power(x, 0.0), [x])
    assert g.data == 0.0  # x ** 0 is 1 everywhere: PyTorch and HIPS autograd give 0


def test_power_of_zero_has_exponent_derivative_zero_for_positive_exponents():
    y = _leaf(0.5)
    g, = ag.grad(ag.power(0.0, y), [y])
    assert g.data == 0.0  # 0 ** y is 0 for every y > 0


def test_power_of_a_zero_base_tensor_for_both_arguments():
    a, b = _leaf([0.0, 0.0, 0.0, 2.0]), _leaf([0.0, 0.5, 2.0, 0.0])
    ga, gb = ag.grad(ag.sum(ag.power(a, b)), [a, b])
    # d/da a**b = b a**(b-1): 0 (b = 0, constant 1), inf (b = 0.5), 0 (b = 2), 0 (a = 2, b = 0)
    np.testing.assert_array_equal(ga.data, [0.0, np.inf, 0.0, 0.0])
    # d/db a**b = a**b log a: 0 at a = 0 for b > 0 (PyTorch's convention at b = 0 too), log 2 at (2, 0)
    np.testing.assert_allclose(gb.data, [0.0, 0.0, 0.0, np.log(2.0)])


def test_power_second_derivative_at_zero_exponent_is_finite_away_from_zero_base():
    a, b = _leaf(3.0), _leaf(0.0)
    ga, = ag.grad(ag.power(a, b), [a], create_graph=True)
    gab, = ag.grad(ga, [b])  # d/db (b a**(b-1)) at b = 0: a**-1
    np.testing.assert_allclose(gab.data, 1 / 3.0)


# --- max pooling over -inf ------------------------------------------------------------

def _first_real_maximum_gradient(x, kernel, stride, pad):
    """PyTorch's kernel, as a loop: each window starts at its first own cell and moves to
    a later cell that is larger or NaN, so the padding never wins, even against -inf."""
    g = np.zeros_like(x)
    h, w = x.shape[2:]
    oh, ow = (h + 2 * pad - kernel) // stride + 1, (w + 2 * pad - kernel) // stride + 1
    for n, c, i, j in itertools.product(range(x.shape[0]), range(x.shape[1]), range(oh), range(ow)):
        cells = [(r, s) for r in range(i * stride - pad, i * stride - pad + kernel)
                 for s in range(j * stride - pad, j * stride - pad + kernel) if 0 <= r < h and 0 <= s < w]
        best, top = cells[0], -np.inf
        for r, s in cells:
            if x[n, c, r, s] > top or np.isnan(x[n, c, r, s]):
                best, top = (r, s), x[n, c, r, s]
        g[(n, c) + best] += 1
    return g


@pytest.mark.parametrize("kernel,stride,pad", [(2, 2, 1), (3, 1, 1), (2, 1, 1), (3, 2, 1), (2, 1, 0)])
@pytest.mark.parametrize("fill", ["all -inf", "some -inf", "-inf and NaN"])
def test_max_pool_gradient_never_goes_to_the_padding(kernel, stride, pad, fill):
    x = np.full((1, 1, 3, 3), -np.inf)
    if fill != "all -inf":
        x[0, 0, 1, 1] = 2.0
    if fill == "-inf and NaN":
        x[0, 0, 2, 0] = x[0, 0, 2, 2] = np.nan
    t = _leaf(x)
    ag.sum(ag.max_pool2d(t, kernel, stride, pad)).backward()
    want = _first_real_maximum_gradient(x, kernel, stride, pad)
    np.testing.assert_array_equal(t.grad, want)
    assert t.grad.sum() == ag.max_pool2d(x, kernel, stride, pad).size  # every window's gradient arrives


def test_max_pool_all_minus_inf_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.full((1, 1, 2, 2), -np.inf)
    xt = torch.tensor(x, requires_grad=True)
    torch.nn.functional.max_pool2d(xt, 3, 1, 1).sum().backward()
    t = _leaf(x)
    ag.sum(ag.max_pool2d(t, 3, 1, 1)).backward()
    np.testing.assert_array_equal(t.grad, xt.grad.numpy())


# --- det of a singular matrix ------------------------------------------------------------

def _adjugate_transpose(a):
    """The cofactor matrix (the derivative of det), from minors: the definition."""
    n = a.shape[0]
    c = np.empty_like(a)
    for i, j in itertools.product(range(n), range(n)):
        minor = np.delete(np.delete(a, i, 0), j, 1)
        c[i, j] = (-1) ** (i + j) * (np.linalg.det(minor) if n > 1 else 1.0)
    return c


SINGULAR = [np.array([[1.0, 2.0], [2.0, 4.0]]), np.zeros((3, 3)), np.array([[1.0, 2, 3], [4, 5, 6], [7, 8, 9]]),
            np.array([[0.0]]), np.diag([2.0, 0.0, 3.0]), np.outer([1.0, -2, 0.5, 1], [3.0, 1, -1, 2])]


@pytest.mark.parametrize("a", SINGULAR, ids=lambda a: f"{a.shape[0]}x{a.shape[0]}-rank{np.linalg.matrix_rank(a)}")
def test_det_of_a_singular_matrix_has_the_cofactor_gradient(a):
    t = _leaf(a)
    g, = ag.grad(ag.det(t), [t])
    np.testing.assert_allclose(g.data, _adjugate_transpose(a), atol=1e-12)
    assert ag.gradcheck(ag.det, [a])  # det is a polynomial: central differences are exact up to rounding


def test_det_of_a_singular_stack_and_a_regular_one_together():
    a = np.stack([SINGULAR[0], np.array([[2.0, 1.0], [1.0, 3.0]])])
    t = _leaf(a)
    ag.sum(ag.det(t)).backward()
    np.testing.assert_allclose(t.grad, np.stack([_adjugate_transpose(m) for m in a]), atol=1e-12)


def test_det_second_derivative_at_a_singular_matrix():
    assert ag.gradgradcheck(ag.det, [SINGULAR[2]], eps=1e-5, atol=1e-6)


# --- conv2d: no output channels, huge sizes --------------------------------------------------

@pytest.mark.parametrize("x_shape,w_shape", [((1, 2, 3, 3), (0, 2, 2, 2)), ((0, 2, 3, 3), (4, 2, 2, 2)),
                                             ((2, 0, 3, 3), (3, 0, 2, 2))])
def test_conv2d_with_an_empty_axis_gives_an_empty_or_bias_result(x_shape, w_shape):
    x, w = _leaf(np.ones(x_shape)), _leaf(np.ones(w_shape))
    b = _leaf(np.arange(w_shape[0], dtype=float))
    y = ag.conv2d(x, w, b)
    assert y.shape == (x_shape[0], w_shape[0], 2, 2)
    np.testing.assert_array_equal(y.data, np.broadcast_to(b.data[:, None, None], y.shape))  # no channel: bias
    ag.sum(y).backward()
    assert x.grad.shape == x_shape and w.grad.shape == w_shape and not np.any(x.grad)


@pytest.mark.parametrize("call,argument", [
    (lambda: ag.conv2d(np.ones((1, 2, 3, 3)), np.ones((1, 2, 2, 2)), pad=10 ** 6), "pad"),
    (lambda: ag.conv2d(np.ones((1, 2, 3, 3)), np.ones((1, 2, 2, 2)), pad=(0, 10 ** 12)), "pad"),
    (lambda: ag.im2col(np.ones((1, 1, 2, 2)), 1, 1, 10 ** 6), "pad"),
    (lambda: ag.col2im(np.ones((1, 1)), (1, 1, 10 ** 7, 10 ** 7), 10 ** 7), "shape"),
    (lambda: ag.max_pool2d(np.ones((1, 1, 1, 1)), 2 * 10 ** 6 + 1, 1, 10 ** 6), "kernel"),
    (lambda: ag.avg_pool2d(np.ones((1, 1, 1, 1)), 2 * 10 ** 6 + 1, 1, 10 ** 6), "kernel"),
])
def test_sizes_are_checked_before_allocating(call, argument):
    with pytest.raises(ShapeError) as info:
        call()
    text = str(info.value)
    assert argument in text and "would" in text and "B" in text, text  # the op, the argument, the size
    assert isinstance(info.value, MemoryError)  # code catching MemoryError still catches it


# --- softmax cross-entropy at float32's extremes ------------------------------------------------

@pytest.mark.parametrize("target", [[1, 0], [1.0, 0.0], 0])
def test_softmax_cross_entropy_of_extreme_float32_logits_is_finite_and_exact(target):
    x = ag.Tensor(np.array([3e38, -3e38], dtype=np.float32), requires_grad=True)
    t = np.array(target, dtype=np.float32 if isinstance(target, list) and isinstance(target[0], float) else None)
    loss = ag.softmax_cross_entropy(x, t)
    loss.backward()
    assert loss.data == 0.0 and loss.dtype == np.float32  # probability 1 on the target class: no loss
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])


def test_softmax_cross_entropy_zero_target_entries_contribute_nothing_where_log_p_is_minus_inf():
    x = ag.Tensor(np.array([[0.0, -np.inf, 1.0]]), requires_grad=True)
    t = ag.Tensor(np.array([[0.25, 0.0, 0.75]]), requires_grad=True)
    loss = ag.softmax_cross_entropy(x, t)
    loss.backward()
    logp = np.array([0.0, -np.inf, 1.0]) - np.log(1 + np.e)
    assert np.isfinite(loss.data)
    np.testing.assert_allclose(loss.data, -(0.25 * logp[0] + 0.75 * logp[2]))
    np.testing.assert_allclose(x.grad, [[np.exp(logp[0]) - 0.25, 0.0, np.exp(logp[2]) - 0.75]])
    assert t.grad[0, 1] == np.inf  # d loss / d t_j = -log p_j: +inf where p_j = 0 (true)


# --- batch norm of one value per channel ------------------------------------------------------------

@pytest.mark.parametrize("shape", [(1, 3), (1, 3, 1, 1), (1, 1)])
def test_batch_norm_training_on_one_value_per_channel_raises_like_pytorch(shape):
    c = shape[1]
    rm, rv = np.zeros(c), np.ones(c)
    with pytest.raises(ValueError, match=r"batch_norm: Expected more than 1 value per channel when training, "
                                         rf"got input size \({shape[0]}, {c}"):
        ag.batch_norm(np.ones(shape), np.ones(c), np.zeros(c), running_mean=rm, running_var=rv)
    np.testing.assert_array_equal(rv, np.ones(c))  # the running statistics are untouched


@pytest.mark.parametrize("shape,training", [((1, 3, 2, 1), True), ((2, 3), True), ((1, 3), False)])
def test_batch_norm_with_more_than_one_value_per_channel_or_in_eval_works(shape, training):
    c = shape[1]
    y = ag.batch_norm(np.arange(np.prod(shape), dtype=float).reshape(shape), np.ones(c), np.zeros(c),
                      running_mean=np.zeros(c), running_var=np.ones(c), training=training)
    assert y.shape == shape and np.all(np.isfinite(y.data))
