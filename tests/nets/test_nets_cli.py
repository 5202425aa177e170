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
    assert nets.cli._sizes(args, x) == [64, *nets.cli.DEFAULTS["digits"]["hidden"], 10]


def test_write_graph_with_autograd_np_viz(tmp_path):
    model = nets.MultiLayerNet([64, 8, 10], rng=0)
    written = nets.cli.write_graph(model, np.zeros((2, 64), dtype=np.float32), np.array([1, 2]),
                                   tmp_path / "graph.svg")
    assert written.exists() and written.suffix in (".svg", ".dot")  # .dot only when Graphviz is missing
    text = written.read_text()
    assert "fc2.W" in text and "softmax_cross_entropy" in text
    assert re.search(r">x<|\bx \(2, 64\)", text)  # the input is labelled
