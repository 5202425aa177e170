"""python -m nets on inputs a user can type: every bad one is one line on stderr and a
non-zero exit, found before any training, never a traceback.

Runs as root in CI: permission tests use places root cannot write either (``/sys/kernel``,
``/proc``, a path under a file), plus a read-only folder when not root."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nets
from nets.cli import main
from .ckpt_craft import model_members, npy_bytes, write_zip

ROOT = Path(__file__).resolve().parents[2]
INF, NAN = "inf", "nan"
HUGE = "9" * 5000


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code, out, err, message=""):
    assert code != 0, (out, err)
    assert "Traceback" not in err and err.count("\n") == 1 and err.startswith("nets: error: "), err
    assert message in err, err
    assert "epoch 1/" not in out, "trained before failing"


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    """Run each test in its own folder, so default outputs (runs/digits, graph.svg) land there."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file").write_text("a file")
    (tmp_path / "folder").mkdir()


def numeric_cases():
    train = ["train", "--layers", "64,4,10", "--epochs", "1"]
    flags = {  # flag: (command prefix, values that must be refused, message)
        "--lr": (train, ["", "0", "-0", "-1", "-1e-9", INF, "-inf", NAN, "1e999", "abc", "0x10", HUGE],
                 "argument --lr"),
        "--epochs": (["train"], ["", "0", "-1", "1.5", "1e3", INF, NAN, "abc", "10000001", HUGE, "٣"],
                     "argument --epochs"),
        "--batch-size": (train, ["", "0", "-5", "2.0", INF, NAN, "x", "1000000001", HUGE], "argument --batch-size"),
        "--seed": (train, ["", "-1", "-0.5", "1.5", "4294967296", "18446744073709551616", INF, NAN, "abc", HUGE],
                   "argument --seed"),
        "--weight-decay": (train, ["", "-1", "-1e-300", INF, "-inf", NAN, "1e999", "x"], "argument --weight-decay"),
        "--dropout": (train, ["", "-0.1", "1", "1.0", "2", INF, NAN, "x"], "argument --dropout"),
        "--tol": (["gradcheck"], ["", "0", "-1", INF, NAN, "1e400", "x"], "argument --tol"),
        "--batch": (["gradcheck"], ["", "0", "-1", "2.5", INF, NAN, HUGE], "argument --batch"),
        "--max-elements": (["gradcheck"], ["", "0", "-3", "1e3", NAN], "argument --max-elements"),
    }
    for flag, (prefix, values, message) in flags.items():
        for value in values:
            yield pytest.param(prefix + [flag, value], message, id=f"{prefix[0]} {flag} {value[:12]!r}")
    for value in ["", "0", "-1", INF, "1e9", "1000000000000"]:
        yield pytest.param(["graph", "--batch", value], "--batch", id=f"graph --batch {value!r}")
    yield pytest.param(["graph", "--batch", "100000000"], "need about", id="graph --batch 1e8 (memory)")


@pytest.mark.parametrize("argv,message", list(numeric_cases()))
def test_numeric_flags(argv, message, capsys):
    one_line_error(*run(argv, capsys), message)


@pytest.mark.parametrize("value,message", [
    ("", "--layers is empty"), (" ", "--layers is empty"), (",", "has an empty size (item 1)"),
    ("64,,10", "'64,,10' has an empty size (item 2)"), ("64,10,", "has an empty size (item 3)"),
    (",64,10", "has an empty size (item 1)"), ("64, ,10", "has an empty size"),
    ("64", "needs at least two positive sizes"), ("64,0,10", "needs at least two positive sizes"),
    ("64,-5,10", "must be comma-separated integers"), ("64,1e3,10", "must be comma-separated integers"),
    ("64;10", "must be comma-separated integers"), ("64,x,10", "must be comma-separated integers"),
    ("٣,10", "must be comma-separated integers"), ("64,1_0", "must be comma-separated integers"),
    ("64,0x10,10", "must be comma-separated integers"), ("1" * 13 + ",10", "must be comma-separated integers"),
    (",".join(["8"] * 2000), "2000 sizes, more than 1000"),
    ("784,100000000,10", "--layers 784,100000000,10: 79,500,000,010 parameters"),
    ("64,4294967296,10", "parameters"), ("64,100000,100000,10", "parameters"),
])
@pytest.mark.parametrize("command", ["train", "gradcheck", "graph"])
def test_layers(command, value, message, capsys):
    one_line_error(*run([command, "--layers", value], capsys), message)


def test_absurd_layers_are_refused_before_loading_data(capsys, monkeypatch):
    def no_loading(*args, **kwargs):
        raise AssertionError("the data was loaded")
    monkeypatch.setattr(nets.datasets, "load", no_loading)
    one_line_error(*run(["train", "--layers", "784,100000000,10"], capsys), "parameters")
    assert not Path("runs").exists()


def test_layers_that_do_not_fit_the_memory(capsys, monkeypatch):
    monkeypatch.setattr(nets.cli.args, "available_memory", lambda: 100 << 20)
    one_line_error(*run(["graph", "--layers", "784,10000,10"], capsys),
                   "need about 123.9 MiB of memory, but only 100.0 MiB is available")


@pytest.mark.parametrize("argv,message", [
    (["train", "--dataset", ""], "unknown dataset ''"), (["train", "--dataset", "cifar"], "unknown dataset 'cifar'"),
    (["train", "--data-dir", ""], "expected a path, got an empty string"),
    (["train", "--dataset", "mnist", "--data-dir", "none"], "--data-dir none: no such folder"),
    (["train", "--dataset", "mnist", "--data-dir", "file"], "--data-dir file: not a folder"),
    (["train", "--dataset", "mnist", "--data-dir", "file/x"], "no such folder"),
    (["train", "--dataset", "mnist", "--data-dir", "folder"], "train-images-idx3-ubyte[.gz]: file not found"),
    (["eval", "--model", "m.npz", "--dataset", "fashion", "--data-dir", "folder"], "file not found"),
    (["train", "--data-dir", "folder"], "--data-dir is not used with --dataset digits"),
    (["train", "--activation", "gelu"], "argument --activation: invalid choice: 'gelu'"),
    (["train", "--optimizer", ""], "argument --optimizer: invalid choice: ''"),
    (["train", "--nope"], "unrecognized arguments: --nope"), (["train", "extra"], "unrecognized arguments: extra"),
    (["train", "--lr"], "expected one argument"), (["--layers", "4,2"], "invalid choice: '4,2'"),
    (["eval"], "the following arguments are required: --model"), ([], "choose a command"),
])
def test_other_arguments(argv, message, capsys):
    nets.MultiLayerNet([64, 4, 10]).save("m.npz")
    one_line_error(*run(argv, capsys), message)


# --- output paths ------------------------------------------------------------------------------

TRAIN = ["train", "--layers", "64,4,10", "--epochs", "1", "--quiet", "--no-progress"]


@pytest.mark.parametrize("out,message", [
    ("", "expected a path, got an empty string"), ("a\0b", "NUL"),
    ("file", "--out file: exists and is not a folder"),
    ("file/run", "--out file/run: cannot create the folder: Not a directory"),
    ("/etc/passwd/run", "cannot create the folder: Not a directory"),
    ("/proc/nope", "cannot create the folder"), ("/proc", "--out /proc: cannot write in /proc"),
    ("/sys/kernel", "--out /sys/kernel: cannot write in /sys/kernel: Permission denied"),
    ("/sys/kernel/run", "--out /sys/kernel/run: cannot create the folder"),
    ("x" * 300, "File name too long"),
])
def test_train_out_that_cannot_be_written(out, message, capsys):
    one_line_error(*run(TRAIN + ["--out", out], capsys), message)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders; /sys/kernel covers it above")
def test_train_out_that_is_read_only(tmp_path, capsys):
    (tmp_path / "ro").mkdir(mode=0o555)
    one_line_error(*run(TRAIN + ["--out", "ro"], capsys), "cannot write in ro: Permission denied")


@pytest.mark.parametrize("name", ["model.npz", "checkpoint.npz", "history.json", "curves.png", "graph.svg"])
def test_train_outputs_that_are_folders_fail_before_training(name, capsys):
    Path("run", name).mkdir(parents=True)
    one_line_error(*run(TRAIN + ["--out", "run"], capsys), f"run/{name} is a folder, so it cannot be written")


def test_train_output_that_is_a_broken_link(capsys):
    Path("run").mkdir()
    os.symlink("/nonexistent/dir/x", "run/history.json")
    one_line_error(*run(TRAIN + ["--out", "run"], capsys), "run/history.json is a broken symbolic link")


@pytest.mark.parametrize("out,message", [
    ("", "expected a path, got an empty string"), ("/", "--out /: a folder"), (".", "--out .: a folder"),
    ("..", "a folder"), ("folder", "--out folder: a folder"), ("folder/", "a folder"), ("new/", "a folder"),
    ("file/g.svg", "cannot create the folder file"), ("/proc/g.svg", "cannot write in /proc"),
    ("/sys/kernel/g.svg", "cannot write in /sys/kernel: Permission denied"),
    ("g.gif", "unknown picture format '.gif'"), ("g.txt", "unknown picture format '.txt'"),
    ("x" * 300 + ".svg", "File name too long"),
])
def test_graph_out_that_cannot_be_written(out, message, capsys):
    one_line_error(*run(["graph", "--layers", "4,3,2", "--out", out], capsys), message)
    assert not any(p.suffix in (".svg", ".dot") for p in Path(".").iterdir())


def test_graph_out_whose_dot_text_has_no_room(capsys):
    Path("g.dot").mkdir()
    one_line_error(*run(["graph", "--layers", "4,3,2", "--out", "g.svg"], capsys), "g.dot is a folder")


# --- models and checkpoints ----------------------------------------------------------------------

@pytest.mark.parametrize("setup,model,message", [
    (None, "", "expected a path, got an empty string"),
    (None, "none.npz", "none.npz: checkpoint file not found"),
    (None, "folder", "folder: is a folder, not a checkpoint file"),
    (None, "file", "file: unreadable checkpoint: not a zip archive"),
    (None, "file/m.npz", "not found"), (None, "/dev/zero", "not a regular file"),
    (lambda: Path("empty.npz").write_bytes(b""), "empty.npz", "empty file"),
    (lambda: write_zip("int8.npz", model_members(meta_changes={"dtype": "int8"})), "int8.npz",
     "int8.npz: field 'dtype': 'int8' is not a floating dtype"),
    (lambda: write_zip("big.npz", model_members(meta_changes={"config": {"type": "MultiLayerNet",
                                                                          "sizes": [64, 10 ** 8, 10]}})),
     "big.npz", "big.npz: field 'config': the architecture needs"),
    (lambda: write_zip("raw.npz", model_members(extra=[("model/x.npy", b"raw")])), "raw.npz", "not an .npy array"),
    (lambda: nets.MultiLayerNet([64, 4, 5]).save("five.npz"), "five.npz",
     "five.npz gives outputs of shape (5,) per sample but digits has 10 classes"),
    (lambda: nets.MultiLayerNet([32, 4, 10]).save("m32.npz"), "m32.npz", "m32.npz expects 32 features"),
    (lambda: nets.Sequential(nets.ReLU()).save("relu.npz"), "relu.npz", "gives outputs of shape (64,)"),
])
def test_eval_models_that_cannot_be_used(setup, model, message, capsys):
    if setup:
        setup()
    one_line_error(*run(["eval", "--model", model], capsys), message)


def test_resume_checkpoints_that_cannot_be_used(capsys):
    code, out, err = run(TRAIN[:3] + ["--epochs", "2", "--out", "run", "--quiet", "--no-progress"], capsys)
    assert code == 0, err
    saved = Path("run/checkpoint.npz").read_bytes()
    one_line_error(*run(TRAIN + ["--out", "run", "--resume"], capsys),
                   "checkpoint.npz: saved after epoch 2, but this run asks for 1 epochs in all; ask for at least 2")
    assert Path("run/checkpoint.npz").read_bytes() == saved
    with np.load("run/checkpoint.npz") as z:
        arrays = {k: z[k] for k in z.files}
    training = json.loads(str(arrays["__training__"]))
    for field, value, message in [("epoch", -1, "field 'epoch': -1 is out of range"),
                                  ("epoch", True, "field 'epoch': true is not an integer")]:
        bad = dict(training, **{field: value})
        members = [(f"{k}.npy", npy_bytes(v)) for k, v in arrays.items() if k != "__training__"]
        write_zip("run/checkpoint.npz", members + [("__training__.npy", npy_bytes(np.array(json.dumps(bad))))])
        one_line_error(*run(TRAIN[:3] + ["--epochs", "5", "--out", "run", "--resume"], capsys), message)
    Path("run/checkpoint.npz").write_bytes(saved[:100])
    one_line_error(*run(TRAIN + ["--out", "run", "--resume"], capsys), "unreadable checkpoint")


def test_a_diverging_run_is_one_line(capsys):
    code, out, err = run(["train", "--layers", "64,4,10", "--epochs", "2", "--lr", "1e30", "--optimizer", "sgd",
                          "--quiet", "--no-progress", "--out", "run"], capsys)
    assert code == 1 and "Traceback" not in err and err.strip().splitlines()[-1].startswith("nets: error: fit:")


def test_failures_while_writing_results_are_one_line(capsys, monkeypatch):
    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device", "run/history.json")
    monkeypatch.setattr(nets.History, "to_json", full_disk)
    code, out, err = run(TRAIN + ["--out", "run"], capsys)
    assert code == 1 and err == "nets: error: run/history.json: No space left on device\n"


def test_memory_errors_are_one_line(capsys, monkeypatch):
    def no_memory(*args, **kwargs):
        raise MemoryError("Unable to allocate 7.3 GiB for an array")
    monkeypatch.setattr(nets.cli.commands, "MultiLayerNet", no_memory)
    code, out, err = run(["graph", "--layers", "4,3,2"], capsys)
    assert code == 1 and err == "nets: error: out of memory: Unable to allocate 7.3 GiB for an array\n"


# --- through a real shell command line -----------------------------------------------------------

@pytest.mark.parametrize("argv,message", [
    (["train", "--seed", "-1"], "argument --seed: expected a seed from 0 to 4294967295, got '-1'"),
    (["train", "--lr", "inf"], "argument --lr: expected a finite number > 0, got 'inf'"),
    (["gradcheck", "--tol", "inf"], "argument --tol: expected a finite number > 0, got 'inf'"),
    (["train", "--layers", "64,,10"], "has an empty size (item 2)"),
    (["train", "--out", os.fsdecode(b"bad\xff/x\xfe")], "--out"),
    (["eval", "--model", os.fsdecode(b"\xff.npz")], "checkpoint file not found"),
])
def test_in_a_subprocess(argv, message, tmp_path):
    if "--out" in argv:
        Path(os.fsdecode(b"bad\xff")).write_text("a file")  # so that --out cannot be created
        message = "cannot create the folder"
    proc = subprocess.run([sys.executable, "-m", "nets", *argv], capture_output=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 2, err
    assert err.count("\n") == 1 and err.startswith("nets: error: ") and "Traceback" not in err
    assert message in err and proc.stdout == b""


@pytest.mark.parametrize("n,text", [(0, "0 bytes"), (1023, "1023 bytes"), (1024, "1.0 KiB"), (1536, "1.5 KiB"),
                                    (2 ** 20 - 1, "1024.0 KiB"), (2 ** 30 * 3.2, "3.2 GiB"), (2 ** 40, "1.0 TiB"),
                                    (2 ** 51, "2.0 PiB"), (2 ** 60, "1024.0 PiB")])
def test_sizes_in_messages_are_written_by_one_helper(n, text):
    """The CLI's and the layers' memory refusals word a size the same way (nets.util.memory.size_text)."""
    from nets.util.memory import size_text
    assert size_text(n) == text
