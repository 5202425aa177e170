"""Each layer's forward values, modes, initializers, and its gradient (gradient_check, float64)."""
import numpy as np
import pytest

import autograd_np as ag
import nets

RNG = np.random.default_rng(1234)
X = RNG.standard_normal((5, 6))
LABELS = np.array([0, 2, 1, 2, 0])


def check(model, x=X, t=LABELS, **kw):
    report = nets.gradient_check(model, x, t, verbose=False, **kw)
    assert report.ok, str(report)
    assert all(r.mean_abs_diff <= 1e-7 for r in report)
    assert len(report) == len(model.parameters())
    return report


# --- Affine and init ---------------------------------------------------------

def test_affine_computes_x_W_plus_b_in_float32():
    layer = nets.Affine(6, 3, rng=0)
    assert layer.W.shape == (6, 3) and layer.b.shape == (3,)
    assert layer.W.dtype == np.float32 and layer.W.requires_grad
    y = layer(X.astype(np.float32))
    np.testing.assert_allclose(y.data, X.astype(np.float32) @ layer.W.data + layer.b.data, rtol=1e-6)
    assert y.op_name == "affine"  # the engine's fused op, one node


@pytest.mark.parametrize("init,std", [("he", np.sqrt(2 / 400)), ("xavier", np.sqrt(1 / 400)), (0.01, 0.01)])
def test_affine_init_standard_deviation(init, std):
    W = nets.Affine(400, 300, init=init, rng=0).W.data
    assert abs(W.std() / std - 1) < 0.02
    assert abs(W.mean()) < 0.05 * std


def test_init_is_seeded_and_typed():
    a = nets.init.he((30, 20), np.random.default_rng(3))
    b = nets.init.he((30, 20), np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    assert a.dtype == np.float32
    assert nets.init.xavier((3, 2), 0, dtype=np.float64).dtype == np.float64
    assert not np.array_equal(nets.init.he((30, 20), 1), a)
    assert nets.init.std_for("relu", 8) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="unknown init 'glorot'"):
        nets.init.std_for("glorot", 3)


def test_affine_gradient_check():
    check(nets.Affine(6, 3, rng=0))


# --- activations ---------------------------------------------------------------

@pytest.mark.parametrize("layer,fn", [(nets.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
                                      (nets.ReLU(), lambda x: np.maximum(x, 0)),
                                      (nets.Tanh(), np.tanh)])
def test_activation_values(layer, fn):
    np.testing.assert_allclose(layer(ag.Tensor(X)).data, fn(X), rtol=1e-12)


@pytest.mark.parametrize("act", [nets.Sigmoid, nets.ReLU, nets.Tanh])
def test_activation_gradient_check(act):
    check(nets.Sequential(nets.Affine(6, 4, rng=0), act(), nets.Affine(4, 3, rng=1)))


# --- SoftmaxWithLoss ---------------------------------------------------------

def test_softmax_with_loss_matches_the_seeds_formula_for_labels_and_one_hot():
    layer = nets.SoftmaxWithLoss()
    logits = X[:, :3]
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    expected = -np.mean(np.log(p[np.arange(5), LABELS]))
    assert layer(ag.Tensor(logits), LABELS).item() == pytest.approx(expected, rel=1e-12)
    assert layer(ag.Tensor(logits), np.eye(3)[LABELS]).item() == pytest.approx(expected, rel=1e-12)


def test_softmax_with_loss_gradient_is_y_minus_t_over_n():
    logits = ag.Tensor(X[:, :3], requires_grad=True)
    nets.SoftmaxWithLoss()(logits, LABELS).backward()
    p = np.exp(X[:, :3]) / np.exp(X[:, :3]).sum(1, keepdims=True)
    np.testing.assert_allclose(logits.grad, (p - np.eye(3)[LABELS]) / 5, atol=1e-12)


def test_softmax_with_loss_one_hot_gradient_check():
    model = nets.Sequential(nets.Affine(6, 3, rng=0), nets.SoftmaxWithLoss())
    check(model, t=np.eye(3)[LABELS])


# --- Dropout -----------------------------------------------------------------

def test_dropout_train_is_inverted_and_eval_is_identity():
    layer = nets.Dropout(0.25, rng=0)
    x = np.ones((200, 50))
    y = layer(ag.Tensor(x)).data
    kept = y != 0
    assert abs(kept.mean() - 0.75) < 0.02
    np.testing.assert_allclose(y[kept], 1 / 0.75)  # survivors scaled up: expectation unchanged
    np.testing.assert_array_equal(kept, layer.last_mask)
    layer.eval()
    out = layer(ag.Tensor(x))
    np.testing.assert_array_equal(out.data, x)


def test_dropout_is_reproducible_with_a_seed_and_accepts_a_fixed_mask():
    a = nets.Dropout(0.5, rng=7)(np.ones((4, 6)))
    b = nets.Dropout(0.5, rng=7)(np.ones((4, 6)))
    np.testing.assert_array_equal(a.data, b.data)
    mask = np.array([[True, False, True]])
    layer = nets.Dropout(0.5, mask=mask)
    np.testing.assert_array_equal(layer(np.full((1, 3), 3.0)).data, [[6.0, 0.0, 6.0]])
    with pytest.raises(ValueError, match="mask of shape"):
        layer(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        nets.Dropout(1.0)


def test_dropout_gradient_check_with_fixed_mask():
    mask = np.random.default_rng(5).random((5, 4)) >= 0.5
    model = nets.Sequential(nets.Affine(6, 4, rng=0), nets.Tanh(), nets.Dropout(0.5, mask=mask),
                            nets.Affine(4, 3, rng=1))
    check(model)
    # the gradient really flows only through kept units
    model.zero_grad()
    model.loss(X.astype(np.float32), LABELS).backward()
    dropped_everywhere = ~mask.any(axis=0)
    assert np.all(model[3].W.grad[dropped_everywhere] == 0)


def test_dropout_random_mask_is_frozen_by_gradient_check():
    model = nets.Sequential(nets.Affine(6, 4, rng=0), nets.ReLU(), nets.Dropout(0.4, rng=3), nets.Affine(4, 3, rng=1))
    check(model)
    assert model[2].mask is None  # the check worked on a copy


# --- BatchNorm -----------------------------------------------------------------

def test_batchnorm_normalizes_in_training_and_updates_running_stats():
    bn = nets.BatchNorm(6, momentum=0.9)
    x = (X * 3 + 2).astype(np.float32)
    y = bn(x).data
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(y.var(0), 1, atol=1e-3)
    np.testing.assert_allclose(bn.running_mean, 0.1 * x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(bn.running_var, 0.9 + 0.1 * x.var(0), rtol=1e-5)
    assert bn.running_mean.dtype == np.float32


def test_batchnorm_eval_uses_running_statistics():
    bn = nets.BatchNorm(6)
    bn.running_mean = np.full(6, 2.0, dtype=np.float32)
    bn.running_var = np.full(6, 4.0, dtype=np.float32)
    bn.gamma.data[:] = 3
    bn.beta.data[:] = 1
    bn.eval()
    x = X.astype(np.float32)
    np.testing.assert_allclose(bn(x).data, 3 * (x - 2) / np.sqrt(4 + bn.eps) + 1, rtol=1e-5)
    before = bn.running_mean.copy()
    bn(x)
    np.testing.assert_array_equal(bn.running_mean, before)  # eval never updates


def test_batchnorm_gradient_check_train_and_eval():
    model = nets.Sequential(nets.Affine(6, 4, rng=0), nets.BatchNorm(4), nets.ReLU(), nets.Affine(4, 3, rng=1))
    for p in model.parameters():  # move gamma/beta off their initial values
        p.data = p.data + np.random.default_rng(0).standard_normal(p.shape).astype(np.float32) * 0.1
    check(model)
    model[1].running_var = np.full(4, 2.0, dtype=np.float32)
    check(model.eval())


# --- the checker catches broken gradients ------------------------------------------

def test_gradient_check_reports_a_wrong_gradient(monkeypatch):
    wrong = lambda F, gy, y, x: gy * y  # noqa: E731  (forgot the (1 - y) factor)
    monkeypatch.setattr(ag.OPS["sigmoid"], "vjp", wrong)
    model = nets.Sequential(nets.Affine(6, 4, rng=0), nets.Sigmoid(), nets.Affine(4, 3, rng=1))
    report = nets.gradient_check(model, X, LABELS, verbose=False)
    assert not report.ok
    bad = {r.name for r in report if not r.ok}
    assert bad == {"0.W", "0.b"}
    assert "MISMATCH" in str(report)


def test_gradient_check_prints_a_table_and_can_sample_elements(capsys):
    model = nets.Sequential(nets.Affine(6, 40, rng=0), nets.ReLU(), nets.Affine(40, 3, rng=1))
    report = nets.gradient_check(model, X, LABELS, max_elements=25)
    out = capsys.readouterr().out
    assert "parameter" in out and "mean |diff|" in out and "0.W" in out and "all gradients agree" in out
    assert [r.checked for r in report] == [25, 25, 25, 3]
    assert report.ok
    assert model[0].W.dtype == np.float32  # the model itself is untouched
