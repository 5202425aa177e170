"""The practitioner's and learner's conveniences of nets: metrics chosen by the user (no accuracy
for a regression), evaluate taking fit's data, History in a notebook (short repr, HTML table,
a figure), predict for inference, the seeds' calls (load_mnist without a path, the book's
optimizer.update(params, grads)), compare_grads."""
import math
import sys

import numpy as np
import pytest

import autograd_np as ag
import nets
from .nets_testutil import make_mnist


class Regressor(nets.Module):
    """y = f(x) for one output, trained on the seeds' mean squared error."""

    def __init__(self):
        super().__init__()
        self.fc1 = nets.Affine(3, 16, rng=0)
        self.fc2 = nets.Affine(16, 1, init="xavier", rng=1)

    def forward(self, x):
        return self.fc2(ag.tanh(self.fc1(x)))

    def criterion(self, y, t):
        return ag.mean_squared_error(y, t)


def regression_data(n=200, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, 3)).astype(np.float32)
    y = (np.sin(2 * x[:, :1]) + 0.5 * x[:, 1:2] * x[:, 2:3]).astype(np.float32)
    return x, y


# --- metrics ---------------------------------------------------------------------------------

def test_a_regression_prints_its_metrics_and_no_accuracy(capsys):
    x, y = regression_data()
    model = Regressor()
    h = nets.fit(model, nets.optim.Adam(model, lr=1e-2), (x[:150], y[:150]), (x[150:], y[150:]), epochs=3,
                 batch_size=25, metrics=["mse", "mae"], seed=0)
    out = capsys.readouterr().out
    assert "acc" not in out and " mse " in out and " mae " in out
    assert h.train_acc == [] and h.test_acc == [] and len(h.test_mse) == 3 and len(h.train_mae) == 3
    loss, mse, mae = nets.evaluate(model, (x[150:], y[150:]), metrics=["mse", "mae"])
    assert mse == pytest.approx(h.test_mse[-1]) and loss == pytest.approx(mse / 2, rel=1e-5)  # the seeds' 0.5 * MSE
    assert mae == pytest.approx(float(np.mean(np.abs(model.predict(x[150:]).data - y[150:]))), rel=1e-5)


def test_by_default_a_regression_reports_the_loss_only(capsys):
    x, y = regression_data()
    model = Regressor()
    h = nets.fit(model, nets.optim.Adam(model, lr=1e-2), (x, y), epochs=1)
    assert "acc" not in capsys.readouterr().out and h.train_acc == []
    assert nets.evaluate(model, (x, y)) == (pytest.approx(h.train_loss[0], rel=0.5),)


def test_default_metrics_follow_the_targets():
    from nets.metrics import default_for
    assert [m.name for m in default_for(np.array([1, 2, 3]))] == ["acc"]
    assert [m.name for m in default_for(np.eye(3, dtype=np.float32))] == ["acc"]  # one-hot rows
    assert default_for(np.random.rand(5, 1)) == [] and default_for(np.random.rand(5, 3)) == []


def test_custom_metrics_and_bad_names(digits):
    (x, t), (xt, tt) = digits
    top2 = nets.metrics.Metric("top2", lambda y, t: float(np.mean(
        np.any(np.argsort(y.data, axis=1)[:, -2:] == np.asarray(t)[:, None], axis=1))), higher_is_better=True)
    model = nets.MultiLayerNet([64, 16, 10], rng=0)
    h = nets.fit(model, nets.optim.Adam(model, lr=1e-2), (x[:300], t[:300]), val=(xt, tt), epochs=2,
                 metrics=["accuracy", top2], verbose=False)
    assert len(h.val_top2) == 2 and all(a <= b for a, b in zip(h.val_acc, h.val_top2))
    with pytest.raises(ValueError, match="unknown metric 'f1'"):
        nets.fit(model, nets.optim.SGD(model), (x, t), metrics=["f1"], verbose=False)
    with pytest.raises(ValueError, match="metric 'acc' is asked for twice"):
        nets.fit(model, nets.optim.SGD(model), (x, t), metrics=["acc", "accuracy"], verbose=False)
    with pytest.raises(ValueError, match="outputs of shape .* and targets of shape .* differ"):
        nets.metrics.mean_squared_error(np.zeros((4, 1)), np.zeros(4))


def test_evaluate_takes_what_fit_takes(digits):
    (x, t), (xt, tt) = digits
    model = nets.MultiLayerNet([64, 16, 10], rng=0)
    pair = nets.evaluate(model, (xt, tt))
    assert pair == nets.evaluate(model, xt, tt) == nets.evaluate(model, nets.DataLoader(xt, tt))
    loss, acc = pair
    assert nets.evaluate(model, (xt, tt), return_dict=True) == {"loss": loss, "acc": acc}
    with pytest.raises(TypeError, match=r"evaluate: data must be a pair \(x, t\) of arrays or a DataLoader"):
        nets.evaluate(model, xt[:2])


# --- History ---------------------------------------------------------------------------------

def history():
    h = nets.History()
    for e in range(3):
        h.record({"train_loss": 1.0 / (e + 1), "train_acc": 0.5 + 0.1 * e, "val_loss": 1.1 / (e + 1),
                  "val_acc": 0.45 + 0.1 * e, "lr": 0.1 / 2 ** e, "seconds": 0.25})
    return h


def test_history_reads_as_attributes_and_items_and_pads_late_logs():
    h = history()
    assert h.val_acc == h["val_acc"] and len(h) == 3 and "lr" in h
    h.record({"train_loss": 0.2, "test_loss": 0.3})  # first seen in epoch 4
    assert len(h.test_loss) == 4 and all(math.isnan(v) for v in h.test_loss[:3]) and h.test_loss[3] == 0.3
    with pytest.raises(AttributeError, match="History has no 'val_mse'"):
        h.val_mse
    with pytest.raises(ValueError, match="'Loss' is not a log name"):
        h.record({"Loss": 1.0})
    assert nets.History.from_json(h.to_json()) == h


def test_history_in_a_notebook_is_a_short_line_and_a_table():
    h = history()
    text = repr(h)
    assert text.startswith("History(3 epochs; last: train_loss 0.3333, train_acc 0.7000, val_loss 0.3667")
    assert "[" not in text and len(text) < 200
    page = h._repr_html_()
    assert page.startswith("<table") and page.count("<tr>") == 4 and "<th>val_acc</th>" in page
    assert repr(nets.History()) == "History(0 epochs)"


def test_history_plot_returns_a_figure_without_a_path(tmp_path):
    import matplotlib
    from matplotlib.figure import Figure
    backend = matplotlib.get_backend()
    fig = history().plot()
    assert isinstance(fig, Figure)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["loss", "accuracy", "learning rate"]
    assert [line.get_label() for line in fig.axes[0].lines] == ["train", "val"]
    path = history().plot(tmp_path / "c.png")
    assert path == tmp_path / "c.png" and path.read_bytes()[:4] == b"\x89PNG"
    assert matplotlib.get_backend() == backend  # saving a file never switches pyplot's backend


# --- progress ----------------------------------------------------------------------------------

def test_fit_uses_tqdm_auto_when_asked(digits, monkeypatch):
    import tqdm.auto
    made = []

    class Bar:
        def __init__(self, **kw):
            made.append(kw)
            self.n = 0

        def update(self, n):
            self.n += n

        def set_postfix(self, *a, **kw):
            pass

        def close(self):
            pass

    monkeypatch.setattr(tqdm.auto, "tqdm", Bar)
    (x, t), _ = digits
    model = nets.MultiLayerNet([64, 8, 10], rng=0)
    nets.fit(model, nets.optim.SGD(model), (x[:100], t[:100]), epochs=2, progress=True)
    assert [kw["desc"] for kw in made] == ["epoch 1/2", "epoch 2/2"]


def test_in_a_notebook_without_widgets_fit_prints_lines(monkeypatch):
    from nets.training import fitting as training
    monkeypatch.setattr(training, "_in_notebook", lambda: True)
    monkeypatch.setattr(training, "_widgets_available", lambda: False)
    assert training._progress_enabled(None) is False
    monkeypatch.setattr(training, "_widgets_available", lambda: True)
    assert training._progress_enabled(None) is True
    assert training._progress_enabled(False) is False


# --- predict -----------------------------------------------------------------------------------

def test_predict_is_inference_eval_mode_and_no_graph():
    model = nets.MultiLayerNet([4, 8, 3], dropout=0.5, batchnorm=True, rng=0)
    x = np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32)
    y = model.predict(x)
    assert y.node is None and not y.requires_grad and model.training  # no graph; the mode is restored
    model.eval()
    with ag.no_grad():
        np.testing.assert_array_equal(y.data, model(x).data)
    model.train()
    assert model.predict(x, grad=True).node is not None
    running = model.bn1.running_mean.copy()
    model.predict(x, training=True)  # asked for: BatchNorm in training mode updates its statistics
    assert not np.array_equal(running, model.bn1.running_mean) and model.training
    model.eval()
    model.predict(x, training=None)
    assert not model.training


# --- the seeds' calls --------------------------------------------------------------------------

def test_load_mnist_without_a_path_reads_the_environment_variable(tmp_path, monkeypatch):
    make_mnist(tmp_path / "m", gz=True)
    monkeypatch.setenv("NETS_MNIST_DIR", str(tmp_path / "m"))
    (x, t), (xt, tt) = nets.datasets.load_mnist(normalize=True, one_hot_label=True)
    assert x.shape == (6, 784) and t.shape == (6, 10) and xt.shape == (4, 784)
    monkeypatch.setenv("NETS_MNIST_DIR", str(tmp_path / "gone"))
    with pytest.raises(nets.DatasetError, match=r"gone: data folder not found \(named by \$NETS_MNIST_DIR\)"):
        nets.datasets.load_mnist()


def test_load_mnist_without_a_path_finds_the_books_folder_and_the_default_one(tmp_path, monkeypatch):
    monkeypatch.delenv("NETS_MNIST_DIR", raising=False)
    monkeypatch.setattr(nets.datasets, "DATA_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(nets.datasets, "MNIST_DIR", str(tmp_path / "system"))
    monkeypatch.chdir(tmp_path)
    make_mnist(tmp_path / "home" / "mnist", seed=1)
    assert nets.datasets.find_mnist() == tmp_path / "home" / "mnist"
    make_mnist(tmp_path / "dataset", seed=2)  # the book's dataset/ folder next to the script comes first
    assert nets.datasets.find_mnist().resolve() == (tmp_path / "dataset").resolve()
    assert nets.datasets.load("mnist")[0][0].shape == (6, 784)


def test_load_mnist_says_where_it_looked_and_how_to_get_the_files(tmp_path, monkeypatch):
    monkeypatch.delenv("NETS_MNIST_DIR", raising=False)
    monkeypatch.setattr(nets.datasets, "DATA_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(nets.datasets, "MNIST_DIR", str(tmp_path / "system"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(nets.DatasetError) as err:
        nets.datasets.load_mnist(normalize=True, one_hot_label=True)
    message = str(err.value)
    for part in ["MNIST not found", "$NETS_MNIST_DIR (not set)", "./dataset (the book's folder)",
                 f"{tmp_path / 'home' / 'mnist'} (the default folder)", "train-images-idx3-ubyte.gz",
                 "t10k-labels-idx1-ubyte.gz", "set NETS_MNIST_DIR", "apt-get install dataset-fashion-mnist",
                 "load_digits()"]:
        assert part in message, part
    monkeypatch.setattr(nets.datasets, "FASHION_MNIST_DIR", str(tmp_path / "none"))
    with pytest.raises(nets.DatasetError, match="Fashion-MNIST not found: .* apt-get install dataset-fashion-mnist"):
        nets.datasets.load_fashion_mnist()


@pytest.mark.parametrize("make", [lambda: nets.optim.SGD(lr=0.1), lambda: nets.optim.Momentum(lr=0.05),
                                  lambda: nets.optim.AdaGrad(lr=0.1), lambda: nets.optim.RMSprop(lr=0.01),
                                  lambda: nets.optim.Adam(lr=0.01, weight_decay=0.01)])
def test_the_books_update_params_grads_matches_step(make, digits):
    (x, t), _ = digits
    book = nets.TwoLayerNet(64, 10, 10, rng=0)
    ours = nets.TwoLayerNet(64, 10, 10, rng=0)
    opt_book, opt_ours = make(), make()
    opt_ours.params = ours.parameters()
    opt_ours.state = [{} for _ in opt_ours.params]
    plain = {k: v.copy() for k, v in book.params.items()}  # a dict of plain arrays, as in the book
    opt_plain = make()
    for i in range(5):
        xb, tb = x[i * 20:(i + 1) * 20], t[i * 20:(i + 1) * 20]
        grads = book.gradient(xb, tb)
        opt_book.update(book.params, grads)  # the seeds' call
        opt_plain.update(plain, grads)
        ours.zero_grad()
        ours.loss(xb, tb).backward()
        opt_ours.step()
    for key in ("W1", "b1", "W2", "b2"):
        np.testing.assert_array_equal(book.params[key], ours.params[key], err_msg=key)
    assert opt_book.state_dict()["t"] == 5


def test_the_books_update_takes_plain_floats_as_the_book_does():
    params = {"x": -7.0, "y": 2.0}  # the book's optimizer comparison
    opt = nets.optim.Momentum(lr=0.1)
    for _ in range(2):
        opt.update(params, {"x": params["x"] / 10.0, "y": 2.0 * params["y"]})
    assert type(params["x"]) is float and params["x"] == pytest.approx(-7.0 + 0.07 + (0.9 * 0.07 + 0.0693))
    with pytest.raises(TypeError, match=r"params\['n'\] must be a floating-point NumPy array, a float or a tensor"):
        nets.optim.SGD(lr=0.1).update({"n": 3}, {"n": 1})


def test_the_books_update_writes_into_the_callers_arrays():
    params = {"x": np.array([-7.0]), "y": np.array([2.0])}
    x_array = params["x"]
    opt = nets.optim.SGD(lr=0.95)
    for _ in range(3):
        opt.update(params, {"x": params["x"] / 10.0, "y": 2.0 * params["y"]})
    assert params["x"] is x_array and params["x"][0] == pytest.approx(-7.0 * 0.905 ** 3)
    with pytest.raises(KeyError, match="first used with"):
        opt.update({"x": params["x"]}, {"x": params["x"]})
    with pytest.raises(ValueError, match=r"grads\['y'\] has shape \(2,\) but params\['y'\] has shape \(1,\)"):
        opt.update(params, {"x": params["x"], "y": np.zeros(2)})
    with pytest.raises(TypeError, match="update.params, grads. takes two dicts"):
        opt.update([1], [2])
    with pytest.raises(TypeError, match=r"give the learning rate by name: SGD\(lr=0.1\)"):
        nets.optim.SGD(0.1)


# --- compare_grads -----------------------------------------------------------------------------

def hand_written_gradient(net, x, t):
    """The seeds' TwoLayerNet.gradient, written out (sigmoid hidden layer, softmax-with-loss)."""
    W1, b1, W2, b2 = (net.params[k] for k in ("W1", "b1", "W2", "b2"))
    a1 = x @ W1 + b1
    z1 = 1 / (1 + np.exp(-a1))
    a2 = z1 @ W2 + b2
    y = np.exp(a2 - a2.max(axis=1, keepdims=True))
    y /= y.sum(axis=1, keepdims=True)
    dy = (y - np.eye(10)[t]) / len(x)
    da1 = dy @ W2.T * z1 * (1 - z1)
    return {"W1": x.T @ da1, "b1": da1.sum(axis=0), "W2": z1.T @ dy, "b2": dy.sum(axis=0)}


def test_compare_grads_agrees_with_the_seeds_backward(digits):
    (x, t), _ = digits
    net = nets.TwoLayerNet(64, 10, 10, rng=0, dtype=np.float64)
    x = x[:8].astype(np.float64)
    report = nets.compare_grads(hand_written_gradient(net, x, t[:8]), net.gradient(x, t[:8]))
    assert report.ok and [r.name for r in report] == ["W1", "b1", "W2", "b2"]
    assert max(r.max_abs_error for r in report) < 1e-15
    net.zero_grad()
    net.loss(x, t[:8]).backward()
    assert nets.compare_grads(hand_written_gradient(net, x, t[:8]), net).ok  # the model's .grad


def test_compare_grads_names_the_wrong_gradient_and_where():
    engine = {"W": np.array([[1.0, 2.0], [3.0, 4.0]]), "b": np.array([0.5, 0.25]), "c": np.ones(3)}
    mine = {"W": np.array([[1.0, 2.0], [3.0, 4.4]]), "b": np.array([0.5, 0.25]), "c": np.ones((3, 1))}
    report = nets.compare_grads(mine, engine, labels=("hand-written", "engine"))
    assert not report.ok and [r.name for r in report.failures] == ["W", "c"]
    w = report["W"]
    assert w.worst_index == (1, 1) and (w.mine, w.engine) == (4.4, 4.0)
    assert w.max_abs_error == pytest.approx(0.4) and w.max_rel_error == pytest.approx(0.4 / 4.4)
    assert report["c"].problem == "shapes differ: hand-written (3, 1), engine (3,)"
    text = str(report)
    assert "hand-written" in text and "(1, 1)" in text and "2 of 3 disagree" in text
    assert repr(report) == "<GradComparison: 3 gradients, disagree: W, c>"
    page = report._repr_html_()
    assert page.count("background:#ffd9d9") == 2 and "shapes differ" in page
    missing = nets.compare_grads({"W": engine["W"]}, engine)
    assert missing["b"].problem == "no gradient in mine"


def test_gradient_check_report_shows_short_and_as_a_table(digits):
    (x, t), _ = digits
    report = nets.gradient_check(nets.MultiLayerNet([64, 4, 10], rng=0), x[:2], t[:2], verbose=False)
    assert repr(report).startswith("<GradientCheckReport: 4 parameters, all agree; worst ")
    assert report._repr_html_().startswith("<table") and "all gradients agree" in report._repr_html_()
