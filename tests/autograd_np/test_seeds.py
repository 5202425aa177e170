"""Worked examples from the seed notes (../shared/seeds/) must come out."""
import numpy as np
import pytest

import autograd_np as ag

# The seed's simpleNet (file 002): fixed W, x = [0.6, 0.9], t = [0, 0, 1].
W_SEED = np.array([[0.47355232, 0.9977393, 0.84668094],
                   [0.85557411, 0.03563661, 0.69422093]])
X_SEED = np.array([0.6, 0.9])
T_SEED = np.array([0, 0, 1])


def test_simple_net_prediction_loss_and_gradient():
    W = ag.Tensor(W_SEED, requires_grad=True, name="W")
    z = X_SEED @ W
    np.testing.assert_allclose(z.data, [1.05414809, 0.63071653, 1.1328074], atol=1e-8)
    loss = ag.softmax_cross_entropy(z, T_SEED)
    # The seed prints 0.9280682857864075, which includes its 1e-7 guard inside log.
    assert loss.item() == pytest.approx(0.928068538748, abs=1e-11)
    loss.backward()
    np.testing.assert_allclose(W.grad, [[0.21924763, 0.14356247, -0.36281009],
                                        [0.32887144, 0.2153437, -0.54421514]], atol=1e-6)


def test_simple_net_gradient_matches_the_seeds_numerical_gradient():
    def f(w):
        return ag.softmax_cross_entropy(X_SEED @ ag.Tensor(w), T_SEED).item()

    W = ag.Tensor(W_SEED, requires_grad=True)
    ag.softmax_cross_entropy(X_SEED @ W, T_SEED).backward()
    np.testing.assert_allclose(W.grad, ag.numerical_gradient(f, W_SEED.copy()), atol=1e-7)


def test_softmax_survives_the_seeds_overflow_example():
    # The seed shows np.exp(a) / sum(np.exp(a)) turning into nan for a = [1010, 1000, 990].
    y = ag.softmax(ag.Tensor(np.array([1010.0, 1000.0, 990.0])))
    np.testing.assert_allclose(y.data, [9.99954600e-01, 4.53978686e-05, 2.06106005e-09], rtol=1e-6)
    loss = ag.softmax_cross_entropy(ag.Tensor(np.array([[1010.0, 1000.0, 990.0]])), np.array([2]))
    assert np.isfinite(loss.item()) and loss.item() == pytest.approx(20.0000454, rel=1e-6)


def test_mean_squared_error_is_the_seeds_definition():
    # Seed example: t one-hot at 2, y = [0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0] -> 0.0975
    t = np.zeros(10)
    t[2] = 1
    y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
    assert ag.mean_squared_error(ag.Tensor(y), t).item() == pytest.approx(0.0975)
    # averaged over the batch for 2-D input
    assert ag.mean_squared_error(ag.Tensor(np.stack([y, y])), np.stack([t, t])).item() == pytest.approx(0.0975)
