"""The training loop's silent failures, one test each: a NaN metric in a callback, plateau and
schedule arguments, fit's arguments, layer sizes, non-finite data, and batch norm on a batch
of one sample.  (The sweep over every argument is test_nets_argument_sweep.py.)"""
import math

import numpy as np
import pytest

import autograd_np as ag
import nets
from nets import cli
from nets.callbacks import FitRun


def tiny(n=40, seed=0, classes=3, features=4):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, features)).astype(np.float32), rng.integers(0, classes, n)


def weights(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


def unchanged(model, before):
    return all(np.array_equal(before[k], v) for k, v in model.state_dict().items())


class NanInEval(nets.Module):
    """A classifier whose loss is NaN in eval mode: every val_loss is NaN, training is fine."""

    def __init__(self):
        super().__init__()
        self.fc = nets.Affine(4, 3, rng=0)

    def forward(self, x):
        return self.fc(x)

    def criterion(self, y, t):
        loss = ag.softmax_cross_entropy(y, t)
        return loss if self.training else loss * math.nan


def run_of(model, lines):
    return FitRun(model, nets.optim.SGD(model), epochs=5, steps=1, history=nets.History(),
                  monitor_default="val_loss", print=lines.append, verbose=True)


# --- a NaN metric in a callback -------------------------------------------------------------------

def test_early_stopping_on_a_nan_val_loss_in_fit_neither_crashes_nor_improves():
    lines = []
    stop = nets.EarlyStopping(monitor="val_loss", patience=2)
    model = NanInEval()
    h = nets.fit(model, nets.optim.SGD(model, lr=0.1), tiny(), val=tiny(20, seed=1), epochs=5, batch_size=10,
                 callbacks=[stop], log=lines.append, progress=False)
    assert len(h) == 2 and all(math.isnan(v) for v in h.val_loss)
    assert stop.best is None and stop.best_epoch == 0 and stop.stopped_epoch == 2
    text = "\n".join(lines)
    assert "val_loss is nan at epoch 1: not an improvement" in text
    assert "early stopping after epoch 2: val_loss has not improved for 2 epochs (no finite value yet)" in text


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_plateau_and_early_stopping_count_a_non_finite_value_as_no_improvement(bad):
    for cb in (nets.EarlyStopping(patience=2), nets.ReduceLROnPlateau(patience=2, factor=0.5)):
        lines = []
        model = nets.MultiLayerNet([4, 3, 2], rng=0)
        run = run_of(model, lines)
        cb.set_run(run)
        cb.on_train_begin({})
        for epoch, v in enumerate([1.0, bad, bad]):
            run.history.record({"train_loss": 1.0})
            cb.on_epoch_end(epoch, {"val_loss": v, "train_loss": 1.0})
        cb.on_train_end({})
        assert cb.best == 1.0, type(cb).__name__
        assert any(f"val_loss is {bad} at epoch 2: not an improvement" in line for line in lines), lines
        if isinstance(cb, nets.ReduceLROnPlateau):
            assert run.optimizer.lr == 0.005  # reduced once, after two epochs without a finite improvement


# --- ReduceLROnPlateau's arguments ------------------------------------------------------------------

@pytest.mark.parametrize("kwargs,name", [({"min_delta": math.nan}, "min_delta"), ({"min_delta": -1}, "min_delta"),
                                         ({"min_delta": math.inf}, "min_delta"), ({"cooldown": 2.5}, "cooldown"),
                                         ({"cooldown": -1}, "cooldown"), ({"min_lr": math.nan}, "min_lr"),
                                         ({"min_lr": -0.1}, "min_lr"), ({"factor": math.nan}, "factor"),
                                         ({"verbose": "no"}, "verbose"), ({"monitor": 3}, "monitor")])
def test_plateau_refuses_bad_arguments_by_name(kwargs, name):
    with pytest.raises((ValueError, TypeError), match=rf"ReduceLROnPlateau: {name} must be .*got "):
        nets.ReduceLROnPlateau(**kwargs)


def test_plateau_keeps_the_learning_rate_while_the_loss_improves():
    model = nets.MultiLayerNet([4, 3, 2], rng=0)
    opt = nets.optim.SGD(model, lr=1.0)
    cb = nets.ReduceLROnPlateau(monitor="loss", patience=1, verbose=False)
    cb.set_run(FitRun(model, opt, epochs=5, steps=1, history=nets.History(), verbose=False))
    cb.on_train_begin({})
    for epoch, v in enumerate([1.0, 0.9, 0.8, 0.7, 0.6]):
        cb.on_epoch_end(epoch, {"train_loss": v})
    assert opt.lr == 1.0


# --- a scheduler function's result ------------------------------------------------------------------

def halve_late(epoch, lr):
    return None if epoch == 2 else lr


@pytest.mark.parametrize("returned,shown", [(None, "None"), (math.nan, "nan"), (-0.1, "-0.1"), (0.0, "0.0"),
                                            (math.inf, "inf"), ("0.1", "'0.1'"), ([0.1], r"\[0.1\]")])
def test_a_scheduler_function_returning_a_bad_rate_is_named(returned, shown):
    model = nets.MultiLayerNet([4, 3, 2], rng=0)
    opt = nets.optim.SGD(model, lr=0.5)

    def schedule(epoch, lr):
        return returned if epoch == 2 else lr

    cb = nets.LearningRateScheduler(schedule)
    cb.set_run(FitRun(model, opt, epochs=5, steps=1, history=nets.History(), verbose=False))
    cb.on_train_begin({})
    cb.on_epoch_begin(0, {})
    cb.on_epoch_begin(1, {})
    with pytest.raises((ValueError, TypeError), match=rf"LearningRateScheduler: the schedule "
                       rf"test_a_scheduler_function_returning_a_bad_rate_is_named.<locals>.schedule returned {shown} "
                       rf"at epoch 2 \(counted from 0\); it must return a finite learning rate > 0"):
        cb.on_epoch_begin(2, {})
    assert opt.lr == 0.5


def test_a_scheduler_returning_none_in_fit_stops_before_that_epoch():
    model = nets.MultiLayerNet([4, 3, 3], rng=0)
    with pytest.raises(ValueError, match="the schedule halve_late returned None at epoch 2"):
        nets.fit(model, nets.optim.SGD(model, lr=0.1), tiny(), epochs=4, batch_size=10,
                 callbacks=[nets.LearningRateScheduler(halve_late)], verbose=False, progress=False)


# --- fit's arguments ----------------------------------------------------------------------------------

@pytest.mark.parametrize("epochs", [-1, 0, 1.5, 2.0, True, None, "3", math.nan])
def test_fit_refuses_bad_epochs_before_training(epochs):
    model = nets.MultiLayerNet([4, 3, 3], rng=0)
    before = weights(model)
    calls = []
    spy = nets.LambdaCallback(on_train_begin=lambda logs: calls.append("begin"))
    with pytest.raises((ValueError, TypeError), match=r"fit: epochs must be an integer >= 1, got "):
        nets.fit(model, nets.optim.SGD(model, lr=0.1), tiny(), epochs=epochs, callbacks=[spy], verbose=False)
    assert unchanged(model, before) and calls == []


# --- layer sizes ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("sizes", [[64.5, 10], [64.0, 10], [True, 10], [64, 0], [-3, 10], [math.nan, 10],
                                   [10], "64,10", [64, "10"], [10 ** 12, 10]])
def test_multilayer_net_refuses_bad_sizes_by_name(sizes):
    with pytest.raises((ValueError, TypeError), match=r"MultiLayerNet: sizes"):
        nets.MultiLayerNet(sizes)


def test_affine_refuses_a_huge_size_before_allocating():
    with pytest.raises(ValueError, match=r"Affine: in_size=1000000000000 and out_size=10 .* memory"):
        nets.Affine(10 ** 12, 10)


# --- non-finite data ---------------------------------------------------------------------------------

@pytest.mark.parametrize("where,bad", [("x", math.nan), ("x", math.inf), ("t", math.nan)])
def test_non_finite_training_data_is_named_not_blamed_on_the_learning_rate(where, bad):
    x, _ = tiny()
    t = (x @ np.ones((4, 1), np.float32)).astype(np.float32)
    (x if where == "x" else t)[[7, 31]] = bad

    class Linear(nets.Module):
        def __init__(self):
            super().__init__()
            self.fc = nets.Affine(4, 1, rng=0)

        def forward(self, v):
            return self.fc(v)

        def criterion(self, y, target):
            return ag.mean_squared_error(y, target)

    model = Linear()
    before = weights(model)
    with pytest.raises(ValueError, match=rf"fit: train's {where} holds NaN or infinite values in 2 rows "
                                         r"\(7, 31\)") as err:
        nets.fit(model, nets.optim.SGD(model, lr=0.01), (x, t), epochs=1, batch_size=10, verbose=False)
    assert "lower the learning rate" not in str(err.value) and unchanged(model, before)


def test_non_finite_validation_data_is_named():
    x, t = tiny()
    xv, tv = tiny(12, seed=1)
    xv[3, 1] = math.nan
    model = nets.MultiLayerNet([4, 3, 3], rng=0)
    with pytest.raises(ValueError, match=r"fit: val's x holds NaN or infinite values in 1 row \(3\)"):
        nets.fit(model, nets.optim.SGD(model, lr=0.1), (x, t), val=(xv, tv), epochs=1, verbose=False)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_divergence_with_finite_data_still_blames_the_learning_rate_and_names_the_batch():
    x, t = tiny()
    model = nets.MultiLayerNet([4, 3, 3], rng=0)
    model.fc1.W.data[0, 0] = np.inf
    with pytest.raises(FloatingPointError, match=r"fit: the training loss became nan at batch 1 of epoch 1; "
                                                 r"lower the learning rate"):
        nets.fit(model, nets.optim.SGD(model, lr=0.1), (x, t), epochs=1, batch_size=10, verbose=False)


# --- batch norm on a batch of one ------------------------------------------------------------------

def bn_model():
    return nets.MultiLayerNet([4, 5, 3], batchnorm=True, rng=0)


@pytest.mark.parametrize("n,batch_size", [(41, 10), (40, 1), (21, 20)])
def test_fit_refuses_a_one_sample_training_batch_for_batch_norm(n, batch_size):
    model = bn_model()
    before = weights(model)
    with pytest.raises(ValueError, match=r"fit: the model has batch normalization \(bn1\).*1 sample.*"
                                         r"(drop_last=True|a batch_size of 2 or more)"):
        nets.fit(model, nets.optim.SGD(model, lr=0.1), tiny(n), epochs=1, batch_size=batch_size, verbose=False)
    assert unchanged(model, before)


def test_a_dataloader_with_a_one_sample_last_batch_is_refused_too():
    model = bn_model()
    loader = nets.DataLoader(*tiny(41), batch_size=10, rng=0)
    with pytest.raises(ValueError, match=r"the last batch of each epoch would hold 1 sample \(41 samples, "
                                         r"batch_size=10\)"):
        nets.fit(model, nets.optim.SGD(model, lr=0.1), loader, epochs=1, verbose=False)


def test_drop_last_or_a_model_without_batch_norm_trains():
    model = bn_model()
    h = nets.fit(model, nets.optim.SGD(model, lr=0.1), tiny(41), epochs=1, batch_size=10, drop_last=True,
                 verbose=False)
    assert len(h) == 1
    plain = nets.MultiLayerNet([4, 5, 3], rng=0)
    assert len(nets.fit(plain, nets.optim.SGD(plain, lr=0.1), tiny(41), epochs=1, batch_size=10,
                        verbose=False)) == 1


def test_batch_norm_2d_may_train_on_one_image_of_many_pixels():
    x = np.random.default_rng(0).standard_normal((5, 1, 4, 4)).astype(np.float32)
    t = np.arange(5) % 2
    model = nets.Sequential(nets.Conv2d(1, 2, 3, rng=0), nets.BatchNorm2d(2), nets.Flatten(), nets.Affine(8, 2, rng=0),
                            nets.SoftmaxWithLoss())
    assert len(nets.fit(model, nets.optim.SGD(model, lr=0.1), (x, t), epochs=1, batch_size=2, verbose=False)) == 1


def test_the_command_line_refuses_batch_norm_with_a_one_sample_batch_in_one_line(tmp_path, capsys):
    out = tmp_path / "run"
    status = cli.main(["train", "--dataset", "digits", "--layers", "64,8,10", "--batchnorm", "--batch-size", "2",
                            "--epochs", "1", "--out", str(out)])
    err = capsys.readouterr().err
    assert status == 2 and err.startswith("nets: error: --batch-size 2 with --batchnorm leaves a batch of 1 sample "
                                          "of the 1437 training images") and err.count("\n") == 1
    assert not out.exists()


def test_cosine_annealing_refuses_a_min_lr_above_the_learning_rate_before_training():
    model = nets.MultiLayerNet([4, 3, 3], rng=0)
    before = weights(model)
    with pytest.raises(ValueError, match=r"CosineAnnealing: min_lr=0.5 is above the optimizer's learning rate 0.1"):
        nets.fit(model, nets.optim.SGD(model, lr=0.1), tiny(), epochs=3, batch_size=10,
                 callbacks=[nets.CosineAnnealing(min_lr=0.5)], verbose=False)
    assert unchanged(model, before)


@pytest.mark.parametrize("make,named", [(lambda: nets.Affine(3, 2, init=1e300), "Affine: init"),
                                        (lambda: nets.TwoLayerNet(3, 2, 2, weight_init_std=1e39), "weight_init_std"),
                                        (lambda: nets.init.normal((2, 2), 1e300), "std")])
def test_a_standard_deviation_that_overflows_the_dtype_is_refused(make, named):
    with pytest.raises(ValueError, match=rf"{named} must be a number in \[0, .*\] for float32"):
        make()


def test_fit_refuses_an_optimizer_of_another_model_and_resume_without_a_checkpoint():
    model, other = nets.MultiLayerNet([4, 3, 3], rng=0), nets.MultiLayerNet([4, 3, 3], rng=1)
    with pytest.raises(ValueError, match="fit: optimizer steps 4 tensors, none of them the model's"):
        nets.fit(model, nets.optim.SGD(other, lr=0.1), tiny(), epochs=1, verbose=False)
    with pytest.raises(ValueError, match=r"fit: optimizer has no parameters \(it was made for update"):
        nets.fit(model, nets.optim.SGD(lr=0.1), tiny(), epochs=1, verbose=False)
    with pytest.raises(ValueError, match=r"fit: resume=True needs checkpoint=<path>"):
        nets.fit(model, nets.optim.SGD(model, lr=0.1), tiny(), epochs=1, resume=True, verbose=False)


def test_a_validation_set_of_other_rows_is_refused_before_training():
    model = nets.MultiLayerNet([4, 3, 3], rng=0)
    before = weights(model)
    with pytest.raises(ValueError, match=r"fit: val's x has rows of shape \(5,\) but train's have \(4,\)"):
        nets.fit(model, nets.optim.SGD(model, lr=0.1), tiny(), val=tiny(8, features=5), epochs=1, verbose=False)
    assert unchanged(model, before)


def test_callbacks_and_metrics_may_be_any_iterable():
    model = nets.MultiLayerNet([4, 3, 3], rng=0)
    h = nets.fit(model, nets.optim.SGD(model, lr=0.1), tiny(), epochs=1, verbose=False,
                 callbacks=(cb for cb in [nets.EarlyStopping(patience=1)]), metrics=(m for m in ["acc"]))
    assert len(h) == 1 and len(h.train_acc) == 1
