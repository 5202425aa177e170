"""fit, History, evaluate, checkpoints (atomic saves, exact resume), nets.load."""
import json
import os

import numpy as np
import pytest

import autograd_np as ag
import nets
from nets.io import checkpoint as ckpt


def small_run(digits, epochs, checkpoint=None, resume=False, seed=3, model_seed=None, **model_kw):
    (x, t), (xt, tt) = digits
    model = nets.MultiLayerNet([64, 24, 10], rng=seed if model_seed is None else model_seed, **model_kw)
    opt = nets.optim.Adam(model.parameters(), lr=2e-3)
    hist = nets.fit(model, opt, (x[:400], t[:400]), (xt[:100], tt[:100]), epochs=epochs, batch_size=50, seed=seed,
                    progress=False, verbose=False, checkpoint=checkpoint, resume=resume)
    return model, opt, hist


def test_fit_learns_the_digits_quickly(digits):
    (x, t), (xt, tt) = digits
    model = nets.MultiLayerNet([64, 64, 10], rng=0)
    opt = nets.optim.Adam(model.parameters(), lr=3e-3)
    hist = nets.fit(model, opt, (x, t), (xt, tt), epochs=8, batch_size=32, seed=0, progress=False, verbose=False)
    assert len(hist) == 8 == len(hist.test_acc) == len(hist.seconds)
    assert hist.test_acc[-1] >= 0.93
    assert hist.train_loss[-1] < hist.train_loss[0] / 4
    assert nets.evaluate(model, xt, tt)[1] == pytest.approx(hist.test_acc[-1])
    assert model.accuracy(xt, tt) == pytest.approx(hist.test_acc[-1])


def test_fit_prints_one_line_per_epoch_without_a_bar(digits, capsys):
    lines = []
    (x, t), (xt, tt) = digits
    model = nets.MultiLayerNet([64, 8, 10], rng=0)
    nets.fit(model, nets.optim.SGD(model, lr=0.1), (x[:100], t[:100]), (xt[:50], tt[:50]), epochs=2,
             batch_size=50, progress=False, log=lines.append)
    assert len(lines) == 2
    assert lines[0].startswith("epoch 1/2: loss ") and "test loss" in lines[0]
    assert capsys.readouterr().out == ""


def test_fit_progress_bar_shows_loss_and_accuracy(digits, capsys):
    (x, t), _ = digits
    model = nets.MultiLayerNet([64, 8, 10], rng=0)
    nets.fit(model, nets.optim.SGD(model, lr=0.1), (x[:100], t[:100]), epochs=1, batch_size=20, progress=True)
    err = capsys.readouterr().err
    assert "epoch 1/1" in err and "loss=" in err and "acc=" in err and "5/5" in err


def test_fit_is_reproducible_with_a_seed(digits):
    m1, _, h1 = small_run(digits, 2, dropout=0.3)
    m2, _, h2 = small_run(digits, 2, dropout=0.3)
    for a, b in zip(m1.parameters(), m2.parameters()):
        np.testing.assert_array_equal(a.data, b.data)
    assert h1.train_loss == h2.train_loss and h1.test_acc == h2.test_acc
    m3, _, _ = small_run(digits, 2, dropout=0.3, seed=4)
    assert not np.array_equal(m3.fc1.W.data, m1.fc1.W.data)


def test_resume_from_checkpoint_is_exact(digits, tmp_path):
    """4 epochs straight == 2 epochs, a new process-like start, then resume to 4."""
    straight, opt_s, h_straight = small_run(digits, 4, dropout=0.2, batchnorm=True)
    path = tmp_path / "ckpt.npz"
    small_run(digits, 2, checkpoint=path, dropout=0.2, batchnorm=True)
    assert nets.load_checkpoint(path)["epoch"] == 2
    # a fresh model and optimizer with other initial weights: everything must come from the file
    resumed, opt_r, h_resumed = small_run(digits, 4, checkpoint=path, resume=True, model_seed=99, dropout=0.2,
                                          batchnorm=True)
    for (name, a), (_, b) in zip(straight.named_parameters(), resumed.named_parameters()):
        np.testing.assert_array_equal(a.data, b.data, err_msg=name)
    np.testing.assert_array_equal(straight.bn1.running_mean, resumed.bn1.running_mean)
    assert opt_s.t == opt_r.t
    assert h_straight.train_loss == h_resumed.train_loss and h_straight.test_acc == h_resumed.test_acc
    assert nets.load_checkpoint(path)["epoch"] == 4


def test_resume_without_a_checkpoint_starts_fresh(digits, tmp_path):
    path = tmp_path / "none.npz"
    _, _, h = small_run(digits, 1, checkpoint=path, resume=True)
    assert len(h) == 1 and path.exists()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_fit_stops_on_divergence(digits):
    (x, t), _ = digits
    model = nets.MultiLayerNet([64, 8, 10], rng=0)
    model.fc1.W.data[0, 0] = np.inf
    with pytest.raises(FloatingPointError, match="training loss became"):
        nets.fit(model, nets.optim.SGD(model, lr=0.1), (x[:50], t[:50]), epochs=1, progress=False, verbose=False)


def test_evaluate_uses_eval_mode_and_restores_it(digits):
    (x, t), _ = digits
    model = nets.MultiLayerNet([64, 16, 10], dropout=0.5, rng=0)
    assert nets.evaluate(model, x[:64], t[:64]) == nets.evaluate(model, x[:64], t[:64])  # no dropout noise
    assert model.training
    model.eval()
    nets.evaluate(model, x[:64], t[:64])
    assert not model.training


# --- History ------------------------------------------------------------------------

def test_history_json_round_trip(tmp_path):
    h = nets.History()
    h.append(1.0, 0.5, 1.2, 0.4, 0.1)
    h.append(0.5, 0.75, 0.9, 0.6, 0.1)
    text = h.to_json(tmp_path / "h.json")
    assert json.loads(text)["test_acc"] == [0.4, 0.6]
    assert nets.History.from_json(tmp_path / "h.json") == h
    assert nets.History.from_json(text) == h
    assert len(h) == 2
    h.plot(tmp_path / "curves.png")
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --- save / load ---------------------------------------------------------------------

def roundtrip(model, tmp_path, x):
    path = model.save(tmp_path / "model.npz")
    loaded = nets.load(path)
    assert type(loaded) is type(model) and loaded.config() == model.config()
    for (n1, a), (n2, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert n1 == n2 and a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    model.eval(), loaded.eval()
    np.testing.assert_array_equal(model(x).data, loaded(x).data)
    return loaded


@pytest.mark.parametrize("make", [
    lambda: nets.MultiLayerNet([64, 16, 10], batchnorm=True, dropout=0.2, weight_decay=0.1, activation="tanh"),
    lambda: nets.TwoLayerNet(64, 7, 10, weight_init_std=0.3),
    lambda: nets.Sequential(nets.Affine(64, 9, init="xavier"), nets.BatchNorm(9), nets.Sigmoid(), nets.Dropout(0.1),
                            nets.Affine(9, 10, init=0.05), nets.SoftmaxWithLoss()),
    lambda: nets.MultiLayerNet([64, 5, 10]).astype(np.float64),
])
def test_save_and_load_rebuild_the_model(make, tmp_path, digits):
    (x, t), _ = digits
    model = make()
    model(x[:32])  # batchnorm statistics move away from their initial values
    roundtrip(model, tmp_path, x[:5])


def test_saved_file_is_plain_arrays(tmp_path):
    model = nets.MultiLayerNet([4, 3, 2])
    model.save(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as z:
        meta = json.loads(str(z["__nets__"]))
        assert meta["config"]["type"] == "MultiLayerNet" and meta["dtype"] == "float32"
        assert sorted(z.files) == ["__nets__", "model/fc1.W", "model/fc1.b", "model/fc2.W", "model/fc2.b"]


class Custom(nets.Module):
    def __init__(self):
        super().__init__()
        self.fc = nets.Affine(3, 2, rng=0)

    def forward(self, x):
        return self.fc(x)


def test_custom_module_weights_load_with_load_state(tmp_path):
    model = Custom()
    model.save(tmp_path / "c.npz")
    loaded = nets.load(tmp_path / "c.npz")  # its constructor's arguments were recorded: it rebuilds
    assert type(loaded) is Custom
    np.testing.assert_array_equal(loaded.fc.W.data, model.fc.W.data)
    other = Custom()
    other.fc.W.data[:] = 0
    other.load_state_dict(nets.load_state(tmp_path / "c.npz"))
    np.testing.assert_array_equal(other.fc.W.data, model.fc.W.data)


def test_register_lets_load_rebuild_a_custom_module(tmp_path):
    @nets.register
    class Scaled(nets.Module):
        def __init__(self, size):
            super().__init__()
            self.size = size
            self.fc = nets.Affine(size, 2, rng=0)

        def forward(self, x):
            return self.fc(x)

        def config(self):
            return {"type": "Scaled", "size": self.size}

    m = Scaled(4)
    m.save(tmp_path / "s.npz")
    loaded = nets.load(tmp_path / "s.npz")
    assert isinstance(loaded, Scaled) and loaded.size == 4
    np.testing.assert_array_equal(loaded.fc.W.data, m.fc.W.data)


def test_load_errors_name_the_file(tmp_path):
    with pytest.raises(nets.CheckpointError, match="missing.npz: checkpoint file not found"):
        nets.load(tmp_path / "missing.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(nets.CheckpointError, match="bad.npz: unreadable checkpoint"):
        nets.load(bad)
    np.save(tmp_path / "array.npy", np.ones(2))
    with pytest.raises(nets.CheckpointError, match=r"array.npy: not a nets checkpoint \(not an .npz archive\)"):
        nets.load(tmp_path / "array.npy")
    np.savez(tmp_path / "pickled.npz", __nets__=np.array([{"config": None}], dtype=object))
    with pytest.raises(nets.CheckpointError, match=r"pickled.npz: member '__nets__.npy': holds Python objects "
                                                   r"\(object dtype\): never loaded"):
        nets.load(tmp_path / "pickled.npz")  # never unpickles
    np.savez(tmp_path / "other.npz", a=np.ones(2))
    with pytest.raises(nets.CheckpointError, match="other.npz: not a nets checkpoint"):
        nets.load(tmp_path / "other.npz")
    with pytest.raises(nets.CheckpointError, match="a model file, not a training checkpoint"):
        nets.MultiLayerNet([4, 2]).save(tmp_path / "m.npz")
        nets.load_checkpoint(tmp_path / "m.npz")


def test_loading_into_the_wrong_architecture_names_key_and_shapes(tmp_path):
    nets.MultiLayerNet([4, 3, 2]).save(tmp_path / "m.npz")
    with pytest.raises(nets.StateDictError, match=r"'fc1.W' has shape \(4, 3\) .* \(4, 5\)"):
        nets.MultiLayerNet([4, 5, 2]).load_state_dict(nets.load_state(tmp_path / "m.npz"))


# --- atomic writes -----------------------------------------------------------------

def test_crash_mid_save_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    good = nets.MultiLayerNet([4, 3, 2], rng=0)
    good.save(path)
    before = path.read_bytes()
    real_savez = np.savez

    def crashing_savez(f, **arrays):
        real_savez(f, **arrays)
        f.truncate(len(before) // 3)  # half-written file...
        raise OSError("disk full")  # ...and the process dies

    monkeypatch.setattr(np, "savez", crashing_savez)
    changed = nets.MultiLayerNet([4, 3, 2], rng=1)
    with pytest.raises(OSError, match="disk full"):
        changed.save(path)
    assert path.read_bytes() == before
    np.testing.assert_array_equal(nets.load(path).fc1.W.data, good.fc1.W.data)
    assert os.listdir(tmp_path) == ["model.npz"]  # the temporary file is gone


def test_crash_before_rename_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    nets.MultiLayerNet([4, 3, 2], rng=0).save(path)
    before = path.read_bytes()

    def no_replace(src, dst):
        raise KeyboardInterrupt  # killed right before the rename

    monkeypatch.setattr(os, "replace", no_replace)
    with pytest.raises(KeyboardInterrupt):
        nets.MultiLayerNet([4, 3, 2], rng=1).save(path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["model.npz"]


def test_atomic_write_replaces_and_fsyncs(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    target = tmp_path / "x.bin"
    target.write_bytes(b"old")
    ckpt.atomic_write(target, lambda f: f.write(b"new"))
    assert target.read_bytes() == b"new" and synced
    assert oct(target.stat().st_mode & 0o777) == "0o644"


def test_training_checkpoint_contents(digits, tmp_path):
    path = tmp_path / "c.npz"
    model, opt, hist = small_run(digits, 2, checkpoint=path, dropout=0.1)
    ck = nets.load_checkpoint(path)
    assert ck["epoch"] == 2 and ck["optimizer_state"]["type"] == "Adam" and ck["optimizer_state"]["t"] == opt.t
    assert set(ck["rng"]) == {"loader", "modules"} and "drop1" in ck["rng"]["modules"]
    assert nets.History.from_dict(ck["history"]).train_loss == hist.train_loss
    loaded = nets.load(path)  # a training checkpoint is also a model file
    np.testing.assert_array_equal(loaded.fc2.W.data, model.fc2.W.data)
    with ag.no_grad():
        assert loaded.eval()(np.zeros((1, 64))).shape == (1, 10)


def test_fit_uses_a_given_dataloader_as_it_is(digits):
    (x, t), _ = digits
    model = nets.MultiLayerNet([64, 8, 10], rng=0)
    opt = nets.optim.SGD(model, lr=0.1)
    loader = nets.DataLoader(x[:90], t[:90], batch_size=30, shuffle=False)
    nets.fit(model, opt, loader, epochs=2, batch_size=7, progress=False, verbose=False)
    assert opt.t == 6  # 3 batches of 30 per epoch, not batches of 7


def test_resuming_into_another_architecture_names_the_checkpoint(digits, tmp_path):
    (x, t), _ = digits
    ck = tmp_path / "ck.npz"
    model = nets.MultiLayerNet([64, 8, 10], rng=0)
    nets.fit(model, nets.optim.SGD(model.parameters(), lr=0.1), (x, t), epochs=1, batch_size=50,
             checkpoint=ck, verbose=False, progress=False)
    other = nets.MultiLayerNet([64, 16, 10], rng=0)
    with pytest.raises(nets.CheckpointError, match=f"{ck}: cannot resume from it"):
        nets.fit(other, nets.optim.SGD(other.parameters(), lr=0.1), (x, t), epochs=2, batch_size=50,
                 checkpoint=ck, resume=True, verbose=False, progress=False)
