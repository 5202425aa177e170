"""python -m nets: train / eval / gradcheck in-process, once through a subprocess, and bad arguments."""
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import autograd_np as ag
import nets
from nets.cli import main
from .nets_testutil import make_mnist

ROOT = Path(__file__).resolve().parents[2]


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_train_writes_model_history_curves_and_graph(tmp_path, capsys):
    out_dir = tmp_path / "run"
    code, out, err = run(["train", "--dataset", "digits", "--layers", "64,32,10", "--epochs", "3",
                          "--batch-size", "32", "--lr", "0.003", "--seed", "1", "--out", str(out_dir),
                          "--no-progress"], capsys)
    assert code == 0, err
    assert "epoch 3/3" in out and "test accuracy" in out
    history = nets.History.from_json(out_dir / "history.json")
    assert len(history) == 3 and history.test_acc[-1] > 0.85
    assert (out_dir / "curves.png").read_bytes()[:4] == b"\x89PNG"
    graph = out_dir / "graph.svg"
    assert graph.exists() or (out_dir / "graph.dot").exists()
    if graph.exists():
        assert "<svg" in graph.read_text() and "fc1.W" in graph.read_text()
    model = nets.load(out_dir / "model.npz")
    assert model.sizes == [64, 32, 10]
    (_, _), (xt, tt) = nets.datasets.load_digits()
    assert nets.evaluate(model, xt, tt)[1] == pytest.approx(history.test_acc[-1])

    code, out, err = run(["eval", "--model", str(out_dir / "model.npz"), "--dataset", "digits"], capsys)
    assert code == 0, err
    assert f"accuracy {history.test_acc[-1]:.4f}" in out and "360 samples" in out

    # --resume continues from the checkpoint to the new epoch count
    code, out, err = run(["train", "--dataset", "digits", "--layers", "64,32,10", "--epochs", "4", "--batch-size",
                          "32", "--lr", "0.003", "--seed", "1", "--out", str(out_dir), "--no-progress", "--resume"],
                         capsys)
    assert code == 0, err
    assert "resumed" in out and "epoch 4/4" in out and "epoch 3/4" not in out
    assert len(json.loads((out_dir / "history.json").read_text())["train_loss"]) == 4


def test_train_on_mnist_format_files(tmp_path, capsys):
    make_mnist(tmp_path / "data", n_train=40, n_test=10, gz=True)
    code, out, err = run(["train", "--dataset", "mnist", "--data-dir", str(tmp_path / "data"), "--layers",
                          "784,8,10", "--epochs", "1", "--optimizer", "momentum", "--out", str(tmp_path / "r"),
                          "--quiet", "--no-progress"], capsys)
    assert code == 0, err
    assert (tmp_path / "r" / "model.npz").exists()
    code, out, err = run(["eval", "--model", str(tmp_path / "r" / "model.npz"), "--dataset", "digits"], capsys)
    assert code == 2 and err.count("\n") == 1 and "expects 784 features" in err and "digits has 64" in err


def test_gradcheck_passes_and_fails(capsys, monkeypatch):
    code, out, err = run(["gradcheck", "--layers", "64,6,10", "--batchnorm", "--dropout", "0.3",
                          "--activation", "tanh"], capsys)
    assert code == 0, err
    assert "all gradients agree" in out and "bn1.gamma" in out
    monkeypatch.setattr(ag.OPS["tanh"], "vjp", lambda F, gy, y, x: gy * (1 + y * y))  # a wrong derivative
    code, out, err = run(["gradcheck", "--layers", "64,6,10", "--activation", "tanh"], capsys)
    assert code == 1
    assert "MISMATCH" in out


@pytest.mark.parametrize("argv,message", [
    (["train", "--dataset", "cifar"], "unknown dataset 'cifar'"),
    (["train", "--dataset", "fashion-mnist", "--data-dir", "/no/such/dir"], "--data-dir /no/such/dir: no such folder"),
    (["train", "--dataset", "digits", "--layers", "784,10"], "--layers starts with 784 but the data has 64 features"),
    (["train", "--dataset", "digits", "--layers", "64,32,5"], "--layers ends with 5 but the data has 10 classes"),
    (["train", "--layers", "64,x,10"], "argument --layers: --layers must be comma-separated integers"),
    (["train", "--epochs", "0"], "argument --epochs: expected a positive integer"),
    (["train", "--optimizer", "lbfgs"], "argument --optimizer: invalid choice: 'lbfgs'"),
    (["train", "--dropout", "1.5"], "argument --dropout: expected a number in [0, 1)"),
    (["eval", "--model", "/no/model.npz"], "/no/model.npz: checkpoint file not found"),
    (["eval"], "the following arguments are required: --model"),
    (["gradcheck", "--layers", "64,8,3"], "--layers ends with 3"),
    (["graph", "--out", "graph.gif"], "--out graph.gif: unknown picture format '.gif' (use .svg, .png, .pdf, .dot)"),
    (["graph", "--layers", "784"], "argument --layers: --layers needs at least two positive sizes"),
    (["graph", "--batch", "0"], "argument --batch: expected a positive integer, got '0'"),
    (["graph", "--dropout", "2"], "argument --dropout: expected a number in [0, 1)"),
    (["graph", "--collapse", "yes"], "unrecognized arguments: yes"),
    (["fly"], "invalid choice: 'fly'"),
    ([], "choose a command"),
])
def test_bad_arguments_give_one_line_and_a_nonzero_exit(argv, message, capsys):
    code, out, err = run(argv, capsys)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("nets: error: ")
    assert message in err
    assert "Traceback" not in err


def test_mnist_without_data_dir(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(nets.datasets, "MNIST_DIR", str(tmp_path / "absent"))
    code, out, err = run(["train", "--dataset", "mnist"], capsys)
    assert code == 2 and "--dataset mnist needs --data-dir" in err and err.count("\n") == 1


def test_corrupt_data_is_one_line(tmp_path, capsys):
    make_mnist(tmp_path)
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03garbage")
    code, out, err = run(["train", "--dataset", "mnist", "--data-dir", str(tmp_path)], capsys)
    assert code == 2 and err.count("\n") == 1 and "t10k-images-idx3-ubyte: truncated" in err


def test_subprocess_train_and_bad_argument(tmp_path):
    out_dir = tmp_path / "sub"
    proc = subprocess.run([sys.executable, "-m", "nets", "train", "--dataset", "digits", "--layers", "64,16,10",
                           "--epochs", "2", "--out", str(out_dir)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "epoch 2/2" in proc.stdout  # not a terminal: one line per epoch, no bar
    assert {"model.npz", "history.json", "curves.png"} <= {p.name for p in out_dir.iterdir()}
    proc = subprocess.run([sys.executable, "-m", "nets", "train", "--dataset", "digits", "--layers", "10,10"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("nets: error: --layers starts with 10")


def test_defaults_match_the_demo():
    args = nets.cli.build_parser().parse_args(["train"])
    assert args.dataset == "digits" and args.optimizer == "adam" and args.activation == "relu"
    x = np.zeros((2, 64))
    assert nets.cli.data.layer_sizes(args, x) == [64, *nets.cli.DEFAULTS["digits"]["hidden"], 10]


def test_write_graph_with_autograd_np_viz(tmp_path):
    model = nets.MultiLayerNet([64, 8, 10], rng=0)
    written = nets.cli.write_graph(model, np.zeros((2, 64), dtype=np.float32), np.array([1, 2]),
                                   tmp_path / "graph.svg")
    assert written.exists() and written.suffix in (".svg", ".dot")  # .dot only when Graphviz is missing
    text = written.read_text()
    assert "fc2.W" in text and "softmax_cross_entropy" in text
    assert re.search(r">x<|\bx \(2, 64\)", text)  # the input is labelled


def test_write_graph_leaves_the_model_as_it_was(tmp_path):
    """The picture's forward pass runs in training mode; the batch statistics it updates and the dropout
    draws it makes must not change the model that train then evaluates (they once did, after a restore)."""
    model = nets.MultiLayerNet([64, 8, 10], batchnorm=True, dropout=0.5, rng=0)
    x = np.random.default_rng(1).random((4, 64)).astype(np.float32)
    before, draws = model.state_dict(), model.drop1.rng.bit_generator.state
    nets.cli.write_graph(model, x, np.array([1, 2, 3, 4]), tmp_path / "graph.svg")
    after = model.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)
    assert model.drop1.rng.bit_generator.state == draws and model.training


def test_graph_draws_a_model_without_data(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["graph"], capsys)  # default: 784-128-64-10 into graph.svg
    assert code == 0, err
    assert out.count("\n") == 1 and "wrote graph.svg" in out and "784-128-64-10 relu" in out
    svg = (tmp_path / "graph.svg").read_text()
    for text in ["fc1", "act2", "fc3.W", "(100, 784) float32", "loss", "softmax_cross_entropy"]:
        assert f">{text}</text>" in svg, text
    assert svg.count("&#160;Affine</text>") == 3 and svg.count("&#160;ReLU</text>") == 2  # a box per layer
    assert "|grad|" not in svg

    code, out, err = run(["graph", "--layers", "64,16,10", "--activation", "tanh", "--batchnorm", "--dropout", "0.5",
                          "--collapse", "--show-grads", "--batch", "8", "--out", str(tmp_path / "c.svg")], capsys)
    assert code == 0, err
    svg = (tmp_path / "c.svg").read_text()
    for text in ["fc1: Affine", "bn1: BatchNorm", "act1: Tanh", "drop1: Dropout", "fc2: Affine", "gradient L2 norm:"]:
        assert f">{text}</text>" in svg, text
    assert "|grad| = " in svg and ">affine</text>" not in svg  # collapsed: no op ellipses inside layers

    code, out, err = run(["graph", "--layers", "4,3,2", "--out", str(tmp_path / "g.png")], capsys)
    assert code == 0 and (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"
    code, out, err = run(["graph", "--layers", "4,3,2", "--out", str(tmp_path / "g.dot")], capsys)
    assert code == 0 and (tmp_path / "g.dot").read_text().startswith("digraph autograd {")
    assert "subgraph cluster_fc1" in (tmp_path / "g.dot").read_text()


def test_graph_without_graphviz_writes_dot_text(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.warns(RuntimeWarning, match="apt-get install graphviz"):
        code, out, err = run(["graph", "--layers", "4,3,2", "--out", str(tmp_path / "g.svg")], capsys)
    assert code == 0 and "wrote " + str(tmp_path / "g.dot") in out
    assert not (tmp_path / "g.svg").exists() and "cluster_fc1" in (tmp_path / "g.dot").read_text()


def test_gradcheck_explain_prints_the_backward_steps(capsys):
    code, out, err = run(["gradcheck", "--layers", "64,6,10", "--explain"], capsys)
    assert code == 0, err
    report, steps = out.split("backward, step by step (ag.explain) on 2 samples:")
    assert "all gradients agree" in report and "rule:" not in report
    rules = [line.strip() for line in steps.splitlines() if line.strip().startswith("rule:")]
    assert len(rules) == 4  # softmax_cross_entropy, affine (fc2), relu, affine (fc1)
    assert rules[0].startswith("rule: L = -sum(t * log(y)) / N") and rules[2] == "rule: " + ag.OPS["relu"].rule
    assert steps.strip().splitlines()[0].startswith("softmax_cross_entropy  out ()")
    assert "upstream grad (2, 10)" in steps  # a batch of 2 samples
    for name in ["fc1.W", "fc1.b", "fc2.W", "fc2.b"]:
        assert f"-> {name}" in steps
    code, out, err = run(["gradcheck", "--layers", "64,6,10"], capsys)
    assert code == 0 and "ag.explain" not in out and "rule:" not in out


def test_train_out_that_is_a_file_is_one_line(tmp_path, capsys):
    taken = tmp_path / "taken"
    taken.write_text("not a folder")
    code, out, err = run(["train", "--dataset", "digits", "--epochs", "1", "--out", str(taken)], capsys)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"nets: error: --out {taken}: ") and "not a folder" in err
    assert taken.read_text() == "not a folder"


@pytest.mark.parametrize("where", ["/proc/nope", "under-a-file"])
def test_train_out_that_cannot_be_created_is_one_line(where, tmp_path, capsys):
    (tmp_path / "file").write_text("")
    path = "/proc/nope" if where == "/proc/nope" else str(tmp_path / "file" / "run")
    code, out, err = run(["train", "--dataset", "digits", "--epochs", "1", "--out", path], capsys)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"nets: error: --out {path}: cannot create the folder")


def test_resume_with_another_optimizer_is_one_line(tmp_path, capsys):
    out_dir = tmp_path / "run"
    common = ["train", "--dataset", "digits", "--layers", "64,8,10", "--out", str(out_dir), "--quiet",
              "--no-progress"]
    code, out, err = run(common + ["--epochs", "1", "--optimizer", "adam"], capsys)
    assert code == 0, err
    saved = (out_dir / "checkpoint.npz").read_bytes()
    code, out, err = run(common + ["--epochs", "2", "--optimizer", "sgd", "--resume"], capsys)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert str(out_dir / "checkpoint.npz") in err
    assert "cannot resume" in err and "from a Adam optimizer" in err
    assert (out_dir / "checkpoint.npz").read_bytes() == saved  # nothing was trained or overwritten
    code, out, err = run(common + ["--epochs", "2", "--optimizer", "adam", "--resume"], capsys)
    assert code == 0 and "resumed" not in out  # --quiet; the same optimizer still resumes
    assert len(nets.History.from_json(out_dir / "history.json")) == 2
