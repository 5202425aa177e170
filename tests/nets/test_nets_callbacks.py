"""fit's callbacks (Keras's hooks): early stopping with the best weights, learning-rate
schedules, gradient clipping, CSV/JSON logs; their order; exact resume with all of them."""
import csv
import json
import math

import numpy as np
import pytest

import autograd_np as ag
import nets
from nets.callbacks import FitRun


def data(digits, n=300):
    (x, t), (xt, tt) = digits
    return (x[:n], t[:n]), (xt[:120], tt[:120]), (xt[120:240], tt[120:240])


def weights(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


def same_weights(a, b):
    return all(np.array_equal(a[k], b[k]) for k in a) and set(a) == set(b)


class Recorder(nets.Callback):
    """Every hook call, in order."""

    def __init__(self):
        self.calls = []

    def on_train_begin(self, logs=None): self.calls.append("train_begin")
    def on_train_end(self, logs=None): self.calls.append("train_end")
    def on_epoch_begin(self, epoch, logs=None): self.calls.append(f"epoch_begin {epoch}")
    def on_epoch_end(self, epoch, logs=None): self.calls.append(f"epoch_end {epoch} {sorted(logs)}")
    def on_batch_begin(self, batch, logs=None): self.calls.append(f"batch_begin {batch}")
    def on_batch_end(self, batch, logs=None): self.calls.append(f"batch_end {batch} {sorted(logs)}")

    def on_before_optimizer_step(self, batch, logs=None):
        assert all(p.grad is not None for p in self.optimizer.params)  # backward has run, the step has not
        self.calls.append(f"before_step {batch}")


def test_hooks_are_called_in_keras_order_with_the_logs(digits):
    train, val, _ = data(digits, 100)
    rec = Recorder()
    model = nets.MultiLayerNet([64, 8, 10], rng=0)
    nets.fit(model, nets.optim.SGD(model, lr=0.1), train, val=val, epochs=2, batch_size=50, callbacks=[rec],
             verbose=False)
    epoch_logs = "['lr', 'seconds', 'train_acc', 'train_loss', 'val_acc', 'val_loss']"
    batch = ["batch_begin {b}", "before_step {b}", "batch_end {b} ['loss', 'size']"]
    one_epoch = lambda e: [f"epoch_begin {e}", *[s.format(b=b) for b in (0, 1) for s in batch],
                           f"epoch_end {e} {epoch_logs}"]
    assert rec.calls == ["train_begin", *one_epoch(0), *one_epoch(1), "train_end"]
    assert rec.run.model is model and rec.run.epochs == 2 and rec.run.steps == 2


def test_a_callback_stops_the_run(digits):
    train, _, _ = data(digits, 100)
    stop = nets.LambdaCallback(on_epoch_end=lambda epoch, logs: setattr(stop.run, "stop_training", epoch == 1))
    model = nets.MultiLayerNet([64, 8, 10], rng=0)
    h = nets.fit(model, nets.optim.SGD(model, lr=0.1), train, epochs=10, callbacks=[stop], verbose=False)
    assert len(h) == 2


def test_callbacks_must_be_callbacks(digits):
    train, _, _ = data(digits, 100)
    model = nets.MultiLayerNet([64, 8, 10], rng=0)
    with pytest.raises(TypeError, match=r"callbacks\[0\] is a function, not a nets.Callback"):
        nets.fit(model, nets.optim.SGD(model), train, callbacks=[lambda: None], verbose=False)
    with pytest.raises(TypeError, match="unknown hook 'on_step'"):
        nets.LambdaCallback(on_step=print)


# --- early stopping ------------------------------------------------------------------------------

def fake_run(model=None, monitor_default="val_loss"):
    model = model or nets.MultiLayerNet([4, 3, 2], rng=0)
    return FitRun(model, nets.optim.SGD(model), epochs=20, steps=1, history=nets.History(),
                  monitor_default=monitor_default, verbose=False)


def drive(cb, values, key="val_loss", run=None):
    """Feed ``values`` as the monitored log of successive epochs; returns the epochs run."""
    run = run or fake_run()
    cb.set_run(run)
    cb.on_train_begin({})
    for epoch, v in enumerate(values):
        if run.stop_training:
            break
        run.model.fc1.b.data = np.full(3, float(epoch), dtype=np.float32)  # weights that name their epoch
        run.history.record({"train_loss": 1.0})
        cb.on_epoch_end(epoch, {key: v, "train_loss": 1.0})
    cb.on_train_end({})
    return run


def test_early_stopping_waits_patience_epochs_then_restores_the_best_weights():
    stop = nets.EarlyStopping(patience=2, verbose=False)
    run = drive(stop, [1.0, 0.8, 0.9, 0.85, 0.7])
    assert run.stop_training and len(run.history) == 4
    assert (stop.best, stop.best_epoch, stop.stopped_epoch) == (0.8, 2, 4)
    np.testing.assert_array_equal(run.model.fc1.b.data, 1.0)  # epoch 2's weights (index 1)


def test_early_stopping_modes_min_delta_and_nan():
    acc = nets.EarlyStopping(monitor="val_acc", patience=1, verbose=False)
    drive(acc, [0.5, 0.6, 0.55], key="val_acc")
    assert acc.best == 0.6 and acc.stopped_epoch == 3  # auto mode: accuracy is better when higher
    delta = nets.EarlyStopping(patience=1, min_delta=0.1, verbose=False)
    drive(delta, [1.0, 0.95])
    assert delta.best == 1.0 and delta.stopped_epoch == 2  # 0.05 better is no improvement
    nan = nets.EarlyStopping(patience=2, verbose=False)
    drive(nan, [1.0, math.nan, math.nan])
    assert nan.best == 1.0 and nan.stopped_epoch == 3


def test_early_stopping_restores_the_best_weights_also_without_stopping():
    stop = nets.EarlyStopping(patience=5, verbose=False)
    run = drive(stop, [1.0, 0.5, 0.7])
    assert not run.stop_training and stop.best_epoch == 2
    np.testing.assert_array_equal(run.model.fc1.b.data, 1.0)
    keep = nets.EarlyStopping(patience=5, restore_best_weights=False, verbose=False)
    run = drive(keep, [1.0, 0.5, 0.7])
    np.testing.assert_array_equal(run.model.fc1.b.data, 2.0)


def test_early_stopping_names_a_monitor_that_is_not_logged():
    with pytest.raises(ValueError, match=r"monitor 'val_loss' is not among this run's logs \(train_loss\); pass val="):
        drive(nets.EarlyStopping(), [1.0], key="train_loss")
    with pytest.raises(ValueError, match="patience must be a positive integer"):
        nets.EarlyStopping(patience=0)


def test_early_stopping_in_fit_monitors_val_and_prints_why(digits, capsys):
    train, val, test = data(digits)
    model = nets.MultiLayerNet([64, 32, 10], rng=0)
    stop = nets.EarlyStopping(patience=1, min_delta=10.0)  # nothing ever improves by 10
    h = nets.fit(model, nets.optim.Adam(model, lr=1e-2), train, test, val=val, epochs=10, callbacks=[stop], seed=0)
    out = capsys.readouterr().out
    assert len(h) == 2 and stop.monitor == "val_loss" and stop.best_epoch == 1
    assert "early stopping after epoch 2: val_loss has not improved for 1 epoch (best" in out
    assert "restored the weights of epoch 1 (val_loss" in out
    assert nets.evaluate(model, val)[0] == pytest.approx(h.val_loss[0], rel=1e-6)  # the model is epoch 1's


# --- learning-rate schedules ------------------------------------------------------------------

def lrs(schedule, epochs=6, steps=1, lr=1.0, logs=None):
    """The learning rate of each epoch (and batch) under ``schedule``."""
    model = nets.MultiLayerNet([4, 3, 2], rng=0)
    opt = nets.optim.SGD(model, lr=lr)
    run = FitRun(model, opt, epochs=epochs, steps=steps, history=nets.History(), verbose=False)
    schedule.set_run(run)
    schedule.on_train_begin({})
    seen = []
    for epoch in range(epochs):
        run.epoch = epoch
        schedule.on_epoch_begin(epoch, {})
        for b in range(steps):
            schedule.on_batch_begin(b, {})
            seen.append(opt.lr)
        schedule.on_epoch_end(epoch, {"train_loss": (logs or [1.0] * epochs)[epoch]})
    return seen


def test_step_and_cosine_schedules():
    assert lrs(nets.StepLR(step_size=2, gamma=0.5)) == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    cos = lrs(nets.CosineAnnealing(), epochs=4)
    assert cos == pytest.approx([1.0, (1 + math.cos(math.pi / 4)) / 2, 0.5, (1 + math.cos(3 * math.pi / 4)) / 2])
    warm = lrs(nets.CosineAnnealing(epochs=4, warmup=2, min_lr=0.1), epochs=4)
    assert warm == pytest.approx([1 / 3, 2 / 3, 1.0, 0.1 + 0.9 * 0.5])
    per_batch = lrs(nets.CosineAnnealing(per_batch=True), epochs=2, steps=2)
    assert per_batch == pytest.approx([1.0, (1 + math.cos(math.pi / 4)) / 2, 0.5, (1 + math.cos(3 * math.pi / 4)) / 2])


def test_keras_style_scheduler_and_plateau():
    assert lrs(nets.LearningRateScheduler(lambda epoch, lr: lr * 0.5 if epoch else lr), epochs=3) == [1.0, 0.5, 0.25]
    plateau = nets.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=2, verbose=False)
    assert lrs(plateau, epochs=7, logs=[1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9]) == [1, 1, 1, 1, 0.5, 0.5, 0.25]
    cool = nets.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, cooldown=2, min_lr=0.2, verbose=False)
    # reduced after epochs 2, 4 and 6 (each cooldown lasts 2 epochs, and then 1 epoch of patience), not below min_lr
    assert lrs(cool, epochs=7, logs=[1.0] * 7) == [1, 1, 0.5, 0.5, 0.25, 0.25, 0.2]
    with pytest.raises(ValueError, match="factor must be in"):
        nets.ReduceLROnPlateau(factor=2)


def test_fit_logs_and_prints_the_learning_rate_under_a_schedule(digits, capsys):
    train, _, _ = data(digits, 100)
    model = nets.MultiLayerNet([64, 8, 10], rng=0)
    h = nets.fit(model, nets.optim.SGD(model, lr=0.4), train, epochs=3, callbacks=[nets.StepLR(1, gamma=0.5)])
    assert h.lr == [0.4, 0.2, 0.1]
    assert "| lr 0.1 (" in capsys.readouterr().out
    h = nets.fit(model, nets.optim.SGD(model, lr=0.4), train, epochs=1)
    assert h.lr == [0.4] and "lr" not in capsys.readouterr().out  # no schedule: not printed


# --- gradient clipping ---------------------------------------------------------------------------

def test_clip_grad_norm_and_value():
    a = ag.Tensor(np.zeros(2), requires_grad=True)
    b = ag.Tensor(np.zeros((1, 1), dtype=np.float32), requires_grad=True)
    a.grad, b.grad = np.array([3.0, 0.0]), np.array([[4.0]], dtype=np.float32)
    g_before = a.grad
    assert nets.clip_grad_norm([a, b], 1.0) == 5.0
    np.testing.assert_allclose(a.grad, [0.6, 0.0], rtol=1e-5)
    assert b.grad.dtype == np.float32 and b.grad[0, 0] == pytest.approx(0.8, rel=1e-5)
    assert list(g_before) == [3.0, 0.0]  # replaced, never changed in place
    assert nets.clip_grad_norm([a, b], 10.0) == pytest.approx(1.0, rel=1e-5)  # under the limit: unchanged
    nets.clip_grad_value([a, b], 0.7)
    np.testing.assert_allclose(a.grad, [0.6, 0.0], rtol=1e-5)
    assert b.grad[0, 0] == pytest.approx(0.7)
    with pytest.raises(ValueError, match="max_norm must be > 0"):
        nets.clip_grad_norm([a], 0)


def test_gradient_clipping_in_fit_bounds_every_step(digits):
    train, _, _ = data(digits, 100)
    norms = []

    class Check(nets.Callback):
        def on_before_optimizer_step(self, batch, logs=None):
            norms.append(math.sqrt(sum(float(np.sum(p.grad.astype(np.float64) ** 2)) for p in self.optimizer.params)))

    model = nets.MultiLayerNet([64, 8, 10], rng=0)
    clip = nets.GradientClipping(max_norm=0.05)
    nets.fit(model, nets.optim.SGD(model, lr=0.1), train, epochs=2, batch_size=10, callbacks=[clip, Check()],
             verbose=False)
    assert len(norms) == 20 and max(norms) <= 0.05 * (1 + 1e-5)
    assert clip.clipped == 10 and clip.last_max_norm > 0.05  # every step of the last epoch was clipped
    with pytest.raises(ValueError, match="give max_norm, max_value or both"):
        nets.GradientClipping()


def test_compiled_fit_with_callbacks_gives_the_eager_weights(digits):
    train, val, _ = data(digits)

    def run(compile):
        model = nets.MultiLayerNet([64, 16, 10], rng=0, dropout=0.1, batchnorm=True)
        nets.fit(model, nets.optim.Adam(model, lr=1e-2), train, val=val, epochs=4, batch_size=50, seed=0,
                 compile=compile, verbose=False,
                 callbacks=[nets.EarlyStopping(patience=1, verbose=False), nets.CosineAnnealing(per_batch=True),
                            nets.GradientClipping(max_norm=0.5, max_value=0.1)])
        return weights(model)

    assert same_weights(run(False), run(True))


# --- loggers -------------------------------------------------------------------------------------

def test_csv_and_json_loggers_write_one_record_per_epoch(digits, tmp_path):
    train, val, _ = data(digits, 100)
    model = nets.MultiLayerNet([64, 8, 10], rng=0)
    h = nets.fit(model, nets.optim.SGD(model, lr=0.1), train, val=val, epochs=3, verbose=False,
                 callbacks=[nets.CSVLogger(tmp_path / "log.csv"), nets.JSONLogger(tmp_path / "logs" / "log.jsonl")])
    rows = list(csv.DictReader((tmp_path / "log.csv").open()))
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]
    assert [float(r["val_acc"]) for r in rows] == h.val_acc and [float(r["lr"]) for r in rows] == h.lr
    records = [json.loads(line) for line in (tmp_path / "logs" / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1, 2, 3] and [r["train_loss"] for r in records] == h.train_loss


# --- checkpoints and exact resume ------------------------------------------------------------------

def callbacks_for(tmp_path):
    return [nets.EarlyStopping(patience=3, verbose=False), nets.CosineAnnealing(epochs=6, per_batch=True),
            nets.ReduceLROnPlateau(patience=1, factor=0.5, verbose=False), nets.GradientClipping(max_norm=1.0),
            nets.CSVLogger(tmp_path / "log.csv")]


def run_with(digits, tmp_path, epochs, checkpoint=None, resume=False, model_seed=0, callbacks=None):
    train, val, test = data(digits)
    model = nets.MultiLayerNet([64, 16, 10], rng=model_seed, dropout=0.2, batchnorm=True)
    opt = nets.optim.Adam(model, lr=5e-3)
    callbacks = callbacks_for(tmp_path) if callbacks is None else callbacks
    h = nets.fit(model, opt, train, test, val=val, epochs=epochs, batch_size=50, seed=1, checkpoint=checkpoint,
                 resume=resume, callbacks=callbacks, verbose=False)
    return model, opt, h, callbacks


def test_resume_with_every_callback_is_exact(digits, tmp_path):
    straight, opt_s, h_s, cbs_s = run_with(digits, tmp_path / "a", 6)
    ck = tmp_path / "b" / "ck.npz"
    ck.parent.mkdir()
    run_with(digits, tmp_path / "b", 3, checkpoint=ck)
    saved = nets.load_checkpoint(ck)
    assert [kind for kind, _ in saved["callbacks"]] == ["EarlyStopping", "CosineAnnealing", "ReduceLROnPlateau"]
    assert set(saved["callbacks"][0][1]["best_weights"]) == set(straight.state_dict())
    resumed, opt_r, h_r, cbs_r = run_with(digits, tmp_path / "b", 6, checkpoint=ck, resume=True, model_seed=7)
    assert same_weights(weights(straight), weights(resumed))
    assert opt_s.lr == opt_r.lr and opt_s.t == opt_r.t
    for name in ("train_loss", "val_loss", "test_acc", "lr"):
        assert h_s[name] == h_r[name], name
    assert (cbs_s[0].best, cbs_s[0].best_epoch, cbs_s[0].wait) == (cbs_r[0].best, cbs_r[0].best_epoch, cbs_r[0].wait)
    a = (tmp_path / "a" / "log.csv").read_text().splitlines()
    b = (tmp_path / "b" / "log.csv").read_text().splitlines()
    assert len(a) == len(b) == 7 and [r.split(",")[:3] for r in a] == [r.split(",")[:3] for r in b]


def test_resume_after_early_stopping_trains_no_more(digits, tmp_path):
    ck = tmp_path / "ck.npz"
    stop = [nets.EarlyStopping(patience=1, min_delta=10.0, verbose=False)]
    model, _, h, _ = run_with(digits, tmp_path, 8, checkpoint=ck, callbacks=stop)
    assert len(h) == 2 and nets.load_checkpoint(ck)["epoch"] == 2
    again = [nets.EarlyStopping(patience=1, min_delta=10.0, verbose=False)]
    resumed, _, h2, _ = run_with(digits, tmp_path, 8, checkpoint=ck, resume=True, model_seed=5, callbacks=again)
    assert len(h2) == 2 and again[0].stopped_epoch == 2
    assert same_weights(weights(model), weights(resumed))  # the best (epoch 1) weights, restored again


def test_resume_with_other_callbacks_is_refused(digits, tmp_path):
    ck = tmp_path / "ck.npz"
    run_with(digits, tmp_path, 1, checkpoint=ck, callbacks=[nets.StepLR(2)])
    with pytest.raises(nets.CheckpointError, match=r"was saved with the callbacks \['StepLR'\] .* but this run has "
                                                   r"\['CosineAnnealing'\]; resume with the same callbacks"):
        run_with(digits, tmp_path, 2, checkpoint=ck, resume=True, callbacks=[nets.CosineAnnealing()])
    run_with(digits, tmp_path, 2, checkpoint=ck, resume=True, callbacks=[nets.StepLR(2), nets.GradientClipping(1.0)])
    plain = tmp_path / "plain.npz"
    run_with(digits, tmp_path, 1, checkpoint=plain, callbacks=[])  # saved with none: callbacks start afresh
    run_with(digits, tmp_path, 2, checkpoint=plain, resume=True, callbacks=[nets.EarlyStopping(verbose=False)])


def test_a_callback_state_that_does_not_fit_the_model_is_refused(digits, tmp_path):
    ck = tmp_path / "ck.npz"
    run_with(digits, tmp_path, 1, checkpoint=ck, callbacks=[nets.EarlyStopping(verbose=False)])
    train, _, _ = data(digits)
    other = nets.MultiLayerNet([64, 9, 10], rng=0, dropout=0.2, batchnorm=True)
    with pytest.raises(nets.CheckpointError, match=r"EarlyStopping's saved state does not fit: "
                                                   r"best_weights\['fc1.W'\] has shape \(64, 16\)"):
        nets.fit(other, nets.optim.Adam(other), train, val=train, epochs=2, checkpoint=ck, resume=True,
                 callbacks=[nets.EarlyStopping(verbose=False)], verbose=False)


# --- the command line ----------------------------------------------------------------------------

def test_train_command_with_validation_schedule_early_stopping_and_clipping(tmp_path, capsys):
    from nets.cli import main
    code = main(["train", "--dataset", "digits", "--epochs", "5", "--val", "300", "--schedule", "cosine",
                 "--early-stopping", "1", "--clip-norm", "5", "--out", str(tmp_path), "--layers", "64,16,10",
                 "--lr", "0.03"])
    out = capsys.readouterr().out
    assert code == 0
    assert "(1137 train / 360 test, 300 validation, cosine schedule, early stopping after 1, gradients clipped" in out
    assert "| val loss " in out and "| lr " in out
    rows = list(csv.DictReader((tmp_path / "log.csv").open()))
    assert rows and float(rows[0]["lr"]) == 0.03 and "val_loss" in rows[0]
    history = nets.History.from_json(tmp_path / "history.json")
    assert len(history) == len(rows) and history.val_loss


@pytest.mark.parametrize("schedule,lrs", [("step", [0.1, 0.1, 0.01, 0.001]), ("plateau", None),
                                          ("constant", [0.1] * 4)])
def test_train_command_schedules(tmp_path, capsys, schedule, lrs):
    from nets.cli import main
    assert main(["train", "--dataset", "digits", "--epochs", "4", "--schedule", schedule, "--out", str(tmp_path),
                 "--layers", "64,8,10", "--optimizer", "sgd", "--lr", "0.1", "--quiet"]) == 0
    history = nets.History.from_json(tmp_path / "history.json")
    if lrs is not None:
        assert history.lr == pytest.approx(lrs)
    capsys.readouterr()


def test_train_command_refuses_a_validation_set_as_large_as_the_data(tmp_path, capsys):
    from nets.cli import main
    assert main(["train", "--dataset", "digits", "--val", "5000", "--out", str(tmp_path)]) == 2
    assert "--val 5000: the training set has only 1437 images" in capsys.readouterr().err
