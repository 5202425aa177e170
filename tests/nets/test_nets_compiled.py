"""nets on ag.compile: fit(compile=True) trains to the same weights as eager,
with dropout masks and batch-norm statistics as eager draws and updates them."""
import numpy as np
import pytest

import autograd_np as ag
import nets


def _data(n=96, features=12, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features)).astype(np.float32)
    return x, rng.integers(0, classes, n)


@pytest.mark.parametrize("kw", [{}, {"dropout": 0.3}, {"batchnorm": True}, {"batchnorm": True, "dropout": 0.2,
                                                                              "weight_decay": 0.01}],
                         ids=["plain", "dropout", "batchnorm", "all"])
def test_fit_compiled_gives_the_weights_and_history_of_eager(kw):
    x, t = _data()
    runs = []
    for compile_ in (False, True):
        model = nets.MultiLayerNet([12, 16, 8, 3], rng=0, **kw)
        opt = nets.optim.Adam(model.parameters(), lr=1e-2)
        history = nets.fit(model, opt, (x, t), (x[:32], t[:32]), epochs=3, batch_size=20, seed=0, verbose=False,
                           progress=False, compile=compile_)  # 96 / 20: a last, smaller batch every epoch
        runs.append((model.state_dict(), history))
    (eager, h_eager), (compiled, h_compiled) = runs
    assert eager.keys() == compiled.keys()
    for k in eager:  # bitwise: the same kernels in the same order (running statistics included)
        np.testing.assert_array_equal(eager[k], compiled[k], err_msg=k)
    assert h_eager.train_loss == h_compiled.train_loss and h_eager.test_acc == h_compiled.test_acc


def test_a_compiled_step_by_hand_retraces_on_mode_and_replaced_state():
    x, t = _data(40)
    model = nets.MultiLayerNet([12, 8, 3], batchnorm=True, dropout=0.5, rng=1)
    twin = nets.MultiLayerNet([12, 8, 3], batchnorm=True, dropout=0.5, rng=1)
    step = nets.compile_step(model, check=True)  # every call also runs eagerly and compares
    opt = nets.optim.SGD(model.parameters(), lr=0.1)
    for i in range(8):
        if i == 5:
            model.eval()
        opt.zero_grad()
        loss, y = step(x, t)
        opt.step()
        assert y.shape == (40, 3) and not y.requires_grad and np.isfinite(float(loss))
    model.train()
    model.load_state_dict(twin.state_dict())  # new running-statistics arrays: a new trace, not a stale one
    for _ in range(3):
        step(x, t)
    assert len(step._cache) >= 3 and not step.eager_reasons
