"""Optimizers: hand-computed first steps, convergence on a quadratic, weight decay,
no in-place writes to gradients, zero_grad, exact state_dict resume."""
import numpy as np
import pytest

import autograd_np as ag
import nets
from nets import optim

P0 = np.array([1.0, 2.0, -3.0])
G = np.array([0.5, -1.0, 2.0])


def param(values=P0, dtype=np.float64):
    return ag.Tensor(np.array(values, dtype=dtype), requires_grad=True, name="p")


def one_step(opt_cls, grad=G, **kw):
    p = param()
    opt = opt_cls([p], **kw)
    p.grad = np.array(grad)
    opt.step()
    return p.data, opt, p


def test_sgd_first_step():
    data, _, _ = one_step(optim.SGD, lr=0.1)
    np.testing.assert_allclose(data, P0 - 0.1 * G, rtol=1e-15)


def test_momentum_first_two_steps():
    data, opt, p = one_step(optim.Momentum, lr=0.1, momentum=0.9)
    data = data.copy()  # p.data itself is updated in place by the next step
    v1 = -0.1 * G
    np.testing.assert_allclose(data, P0 + v1, rtol=1e-15)
    g2 = np.array([1.0, 1.0, 1.0])
    p.grad = g2
    opt.step()
    np.testing.assert_allclose(p.data, P0 + v1 + (0.9 * v1 - 0.1 * g2), rtol=1e-15)


def test_adagrad_first_step():
    data, _, _ = one_step(optim.AdaGrad, lr=0.1, eps=1e-7)
    np.testing.assert_allclose(data, P0 - 0.1 * G / (np.sqrt(G * G) + 1e-7), rtol=1e-15)


def test_rmsprop_first_step():
    data, _, _ = one_step(optim.RMSprop, lr=0.01, decay_rate=0.99, eps=1e-7)
    h = 0.01 * G * G
    np.testing.assert_allclose(data, P0 - 0.01 * G / (np.sqrt(h) + 1e-7), rtol=1e-14)


def test_adam_first_two_steps():
    data, opt, p = one_step(optim.Adam, lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8)
    data = data.copy()
    np.testing.assert_allclose(data, P0 - 0.1 * G / (np.abs(G) + 1e-8), rtol=1e-14)  # bias-corrected
    g2 = np.array([-1.0, 0.5, 0.25])
    p.grad = g2
    opt.step()
    m = 0.9 * (0.1 * G) + 0.1 * g2
    v = 0.999 * (0.001 * G * G) + 0.001 * g2 * g2
    expected = data - 0.1 * (m / (1 - 0.9 ** 2)) / (np.sqrt(v / (1 - 0.999 ** 2)) + 1e-8)
    np.testing.assert_allclose(p.data, expected, rtol=1e-13)


@pytest.mark.parametrize("opt_cls", [optim.SGD, optim.Momentum, optim.AdaGrad, optim.RMSprop, optim.Adam])
def test_weight_decay_adds_lambda_p_to_the_gradient(opt_cls):
    with_wd, _, _ = one_step(opt_cls, lr=0.01, weight_decay=0.1)
    plain, _, _ = one_step(opt_cls, grad=G + 0.1 * P0, lr=0.01)
    np.testing.assert_allclose(with_wd, plain, rtol=1e-14)


OPTIMIZERS = [(optim.SGD, 0.05), (optim.Momentum, 0.02), (optim.AdaGrad, 0.5), (optim.RMSprop, 0.05),
              (optim.Adam, 0.1)]


@pytest.mark.parametrize("opt_cls,lr", OPTIMIZERS)
def test_each_optimizer_minimizes_a_quadratic(opt_cls, lr):
    scale = np.array([1.0, 4.0, 0.5], dtype=np.float32)
    target = np.array([3.0, -1.0, 2.0], dtype=np.float32)
    p = ag.Tensor(np.zeros(3, dtype=np.float32), requires_grad=True)
    opt = opt_cls([p], lr=lr)

    def f():
        d = p - target
        return ag.sum(d * d * scale)

    start = f().item()
    for _ in range(300):
        opt.zero_grad()
        f().backward()
        opt.step()
    assert f().item() < 1e-3 * start
    assert p.dtype == np.float32  # updates keep the parameter's dtype
    np.testing.assert_allclose(p.data, target, atol=0.05)


@pytest.mark.parametrize("opt_cls,lr", OPTIMIZERS)
def test_step_never_writes_into_gradients_even_when_they_alias(opt_cls, lr):
    a, b = param(), param([0.5, 0.5, 0.5])
    shared = np.array(G)  # both gradients are the same array, as after y = a + b
    a.grad = b.grad = shared
    opt = opt_cls([a, b], lr=lr, weight_decay=0.01)
    opt.step()
    opt.step()
    np.testing.assert_array_equal(shared, G)
    assert a.grad is shared and b.grad is shared


def test_aliasing_gradients_from_the_engine_update_both_parameters():
    a, b = param(), param([0.5, 0.5, 0.5])
    ag.sum(a + b).backward()
    opt = optim.SGD([a, b], lr=0.5)
    opt.step()
    np.testing.assert_allclose(a.data, P0 - 0.5)
    np.testing.assert_allclose(b.data, 0.0)


def test_zero_grad_and_skip_parameters_without_grad():
    a, b = param(), param()
    opt = optim.SGD([a, b], lr=0.1)
    a.grad = np.ones(3)
    opt.step()  # b has no grad: unchanged
    np.testing.assert_array_equal(b.data, P0)
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_optimizer_accepts_a_module_and_validates_arguments():
    model = nets.MultiLayerNet([4, 3, 2], rng=0)
    opt = optim.Adam(model, lr=1e-3)
    assert len(opt.params) == 4
    with pytest.raises(ValueError, match="lr must be > 0"):
        optim.SGD(model.parameters(), lr=0)
    with pytest.raises(TypeError, match="requires_grad"):
        optim.SGD([ag.Tensor(np.ones(2))], lr=0.1)
    with pytest.raises(ValueError, match="unknown optimizer 'lbfgs'"):
        optim.create("lbfgs", model.parameters())
    assert isinstance(optim.create("ADAM", model.parameters()), optim.Adam)


@pytest.mark.parametrize("opt_cls,lr", OPTIMIZERS)
def test_state_dict_resume_is_exact(opt_cls, lr):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(3) for _ in range(6)]

    def run(steps, p, opt):
        for g in steps:
            p.grad = g
            opt.step()

    p1 = param()
    o1 = opt_cls([p1], lr=lr)
    run(grads, p1, o1)

    p2 = param()
    o2 = opt_cls([p2], lr=lr)
    run(grads[:3], p2, o2)
    sd = o2.state_dict()
    p3 = ag.Tensor(p2.data.copy(), requires_grad=True)
    o3 = opt_cls([p3], lr=lr * 7)  # the saved hyper-parameters win
    o3.load_state_dict(sd)
    run(grads[3:], p3, o3)
    np.testing.assert_array_equal(p3.data, p1.data)
    assert o3.t == 6


def test_load_state_dict_errors():
    a = param()
    opt = optim.Adam([a])
    a.grad = G
    opt.step()
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="from a Adam optimizer"):
        optim.SGD([a]).load_state_dict(sd)
    with pytest.raises(ValueError, match="for 1 parameters"):
        optim.Adam([a, param()]).load_state_dict(sd)
    sd["state"]["0.m"] = np.zeros(5)
    with pytest.raises(ValueError, match=r"'0.m' has shape \(5,\)"):
        optim.Adam([a]).load_state_dict(sd)
