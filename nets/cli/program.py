"""``python -m nets``: train, evaluate and gradient-check networks from the shell.

    python -m nets train --dataset digits                       # the demo: ~97-98 % in seconds
    python -m nets train --dataset fashion-mnist --layers 784,256,128,10 --epochs 10 --out runs/fashion
    python -m nets train --dataset fashion-mnist --val 5000 --schedule cosine --early-stopping 4 --clip-norm 5
    python -m nets eval --model runs/digits/model.npz --dataset digits
    python -m nets gradcheck --layers 64,32,10 --batchnorm --explain
    python -m nets graph --layers 784,128,64,10 --collapse --show-grads --out graph.svg

``train`` writes into ``--out`` (default ``runs/<dataset>``): ``model.npz``,
``checkpoint.npz`` (after every epoch; ``--resume`` continues from it),
``history.json``, ``log.csv`` (one row per epoch), ``curves.png`` (loss and
accuracy) and ``graph.svg`` (the graph of one forward pass and loss;
``graph.dot`` text when Graphviz's ``dot`` is missing).  ``--val N`` holds the
last N training images out as a validation set, which ``--early-stopping
PATIENCE`` (restoring the best epoch's weights) and ``--schedule plateau``
watch; ``--schedule step|cosine|plateau`` sets the learning rate per epoch and
``--clip-norm X`` clips the gradients' global norm (``nets.callbacks``).  ``gradcheck`` exits with 1 when a gradient disagrees (``--explain``
also prints the backward pass step by step, ``ag.explain``, on 2 samples).
``graph`` draws a model's graph (one forward pass and loss on a random batch,
no data set needed) with ``autograd_np.viz``: a box per layer, or one node per
layer with ``--collapse``, gradient norms with ``--show-grads``; the picture's
format follows ``--out``'s suffix (.svg, .png, .pdf or .dot).

Under ``mpirun -n K`` ``train`` is data-parallel (``nets.distributed``): rank
0 prints and writes the files, and a failure on any rank ends the job.

Every argument is checked before any training (``nets.cli.args``): numbers
must be finite and in range (``--seed`` from 0 to 2**32 - 1, numpy's legacy
seed range), ``--layers`` has no empty items and a size that fits the memory,
output folders are created and probed with a test file, and output files
that are folders are refused.  Bad arguments, data sets and checkpoints print
one line ``nets: error: ...`` on stderr and exit with status 2; a diverging
run, a file that cannot be written or memory running out, one line and
status 1.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import autograd_np as ag

from .. import distributed as _distributed
from ..debug.gradients import gradient_check
from ..io import datasets as _datasets
from ..io.checkpoint import CheckpointError, load as _load_model
from ..io.datasets import DatasetError
from ..layers.basic import ACTIVATIONS
from ..layers.module import StateDictError
from ..models.networks import MultiLayerNet
from ..training import callbacks as cb, optim as _optim
from ..training.arguments import one_sample_batches
from ..training.fitting import evaluate, fit, random_modules
from . import architectures as _models
from .args import (UsageError, check_model_size, integer, layers as _layers, output_file, output_folder,
                       path_text, real, seed as _seed)

__all__ = ["main", "build_parser", "UsageError"]

DEFAULTS = {  # per dataset: epochs, batch size, hidden sizes
    "digits": {"epochs": 30, "batch_size": 32, "hidden": [256, 128]},
    "mnist": {"epochs": 10, "batch_size": 100, "hidden": [128, 64]},
    "fashion-mnist": {"epochs": 10, "batch_size": 100, "hidden": [256, 128]},
}
TRAIN_FILES = ("model.npz", "checkpoint.npz", "history.json", "log.csv", "curves.png", "graph.svg", "graph.dot")
SCHEDULES = ("constant", "step", "cosine", "plateau")
EVAL_BATCH = 1000  # fit's and evaluate's batch for the test set


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage block
        raise UsageError(message)


def _dataset(text: str) -> str:
    key = text.strip().lower().replace("_", "-")
    if key not in _datasets.DATASETS and key != "fashion":
        raise argparse.ArgumentTypeError(f"unknown dataset {text!r}: use one of {', '.join(_datasets.DATASETS)}")
    return key


_positive_int = integer(1, 10 ** 9, "a positive integer")
_count = integer(0, 10 ** 9, "a non-negative integer")
_epochs = integer(1, 10 ** 6, "a positive integer (at most 1000000)")
_many = integer(1, 2 ** 62, "a positive integer")
_fraction = real(lambda v: 0.0 <= v < 1.0, "a number in [0, 1)")
_nonneg_float = real(lambda v: v >= 0, "a finite number >= 0")
_positive_float = real(lambda v: v > 0, "a finite number > 0")


def _add_data_args(p, required=False):
    p.add_argument("--dataset", default=None if required else "digits", required=required, type=_dataset,
                   help="digits (scikit-learn's 8x8, built in), mnist or fashion-mnist (IDX files)")
    p.add_argument("--data-dir", default=None, type=path_text,
                   help="folder of the IDX files (default for fashion-mnist: /usr/share/datasets/fashion-mnist)")


def _add_model_args(p, layers_default=None):
    p.add_argument("--layers", type=_layers, default=layers_default,
                   help="layer sizes, input to classes, e.g. 64,128,64,10 (default: " + (
                       ",".join(map(str, layers_default)) if layers_default else
                       "features,256,128,10 for digits and fashion-mnist, features,128,64,10 for mnist") + ")")
    p.add_argument("--activation", default="relu", choices=sorted(ACTIVATIONS), help="hidden activation")
    p.add_argument("--weight-decay", type=_nonneg_float, default=0.0, help="L2 penalty 0.5*lambda*sum(W**2)")
    p.add_argument("--dropout", type=_fraction, default=0.0, help="dropout probability after each hidden layer")
    p.add_argument("--batchnorm", action="store_true", help="batch normalization before each activation")
    p.add_argument("--seed", type=_seed, default=0,
                   help="seed for initialization, shuffling and dropout (0 to 4294967295)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m nets", description="Train and check fully connected networks (autograd_np).")
    sub = parser.add_subparsers(dest="command", metavar="{train,eval,gradcheck,graph}")

    tr = sub.add_parser("train", help="train a MultiLayerNet (or the book's SimpleConvNet) and write model, history, "
                                      "curves and graph")
    _add_data_args(tr)
    _add_model_args(tr)
    tr.add_argument("--model", choices=_models.ARCHITECTURES, default="mlp",
                    help="mlp: MultiLayerNet of --layers (default); cnn: the book's SimpleConvNet on the images")
    tr.add_argument("--optimizer", default="adam", choices=sorted(_optim.OPTIMIZERS))
    tr.add_argument("--lr", type=_positive_float, default=None,
                    help="learning rate (default per optimizer; adam 0.001)")
    tr.add_argument("--epochs", type=_epochs, default=None, help="default: 30 for digits, 10 otherwise")
    tr.add_argument("--batch-size", type=_positive_int, default=None, help="default: 32 for digits, 100 otherwise")
    tr.add_argument("--val", type=_count, default=0, metavar="N",
                    help="hold the last N training images out as a validation set (default 0: none)")
    tr.add_argument("--early-stopping", type=_positive_int, default=None, metavar="PATIENCE",
                    help="stop after PATIENCE epochs without a better validation loss (the test loss without "
                         "--val) and keep the best epoch's weights")
    tr.add_argument("--schedule", choices=SCHEDULES, default="constant",
                    help="learning rate per epoch: constant, step (x0.1 at 1/2 and 3/4 of the epochs), cosine "
                         "(down to 0 at the last epoch) or plateau (x0.1 after 2 epochs without improvement)")
    tr.add_argument("--clip-norm", type=_positive_float, default=None, metavar="X",
                    help="clip the gradients' global L2 norm to X before every step")
    tr.add_argument("--out", default=None, type=path_text, help="output folder (default runs/<dataset>)")
    tr.add_argument("--resume", action="store_true", help="continue from <out>/checkpoint.npz")
    tr.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                    help="tqdm progress bars (default: when stderr is a terminal)")
    tr.add_argument("--quiet", action="store_true", help="no per-epoch lines")

    ev = sub.add_parser("eval", help="print loss and accuracy of a saved model")
    ev.add_argument("--model", required=True, type=path_text, help="a model.npz (or checkpoint.npz) written by train")
    _add_data_args(ev)
    ev.add_argument("--split", choices=("test", "train"), default="test")

    gc = sub.add_parser("gradcheck", help="compare backprop with numerical gradients (float64)")
    _add_data_args(gc)
    _add_model_args(gc)
    gc.add_argument("--batch", type=_positive_int, default=4, help="samples in the checked batch")
    gc.add_argument("--max-elements", type=_many, default=None,
                    help="check at most this many elements per parameter (default all)")
    gc.add_argument("--tol", type=_positive_float, default=1e-7, help="allowed mean |difference| per parameter")
    gc.add_argument("--explain", action="store_true",
                    help="also print the backward pass step by step (ag.explain) on 2 samples")

    gr = sub.add_parser("graph", help="draw a model's graph (one forward pass and loss on a random batch)")
    _add_model_args(gr, layers_default=[784, 128, 64, 10])
    gr.add_argument("--batch", type=_positive_int, default=100, help="rows of the random input batch")
    gr.add_argument("--collapse", action="store_true", help="draw each layer as one node")
    gr.add_argument("--show-grads", action="store_true", help="gradient norms of every tensor, coloured")
    gr.add_argument("--out", default="graph.svg", type=path_text,
                    help="picture file; its suffix picks the format: .svg (default), .png, .pdf or .dot")
    return parser


def _check_data_args(args):
    """The data set arguments, checked before anything is loaded."""
    if args.data_dir is not None:
        d = Path(args.data_dir)
        if not d.is_dir():
            raise UsageError(f"--data-dir {args.data_dir}: " + ("not a folder" if d.exists() else "no such folder"))
    if args.dataset == "digits" and args.data_dir is not None:
        raise UsageError("--data-dir is not used with --dataset digits (the digits ship inside scikit-learn)")
    if args.dataset == "mnist" and args.data_dir is None and _datasets.find_mnist() is None:
        looked = ", ".join(str(f) for f in _datasets.mnist_folders())
        raise UsageError(f"--dataset mnist needs --data-dir (the folder of the MNIST IDX files; none in {looked}; "
                         f"or set {_datasets.MNIST_ENV})")


def _load_data(args, one_hot=False, images=False):
    """The data set: rows (N, features), or images (N, C, H, W) with ``images``."""
    _check_data_args(args)
    return _datasets.load(args.dataset, args.data_dir, one_hot_label=one_hot, flatten=not images)


def _check_sizes(sizes, x, t):
    features, classes = int(np.prod(x.shape[1:])), 10  # every supported data set has 10 classes
    if sizes[0] != features:
        raise UsageError(f"--layers starts with {sizes[0]} but the data has {features} features per sample "
                         f"(use {features},...)")
    if sizes[-1] != classes:
        raise UsageError(f"--layers ends with {sizes[-1]} but the data has {classes} classes (use ...,{classes})")


def _sizes(args, x):
    if args.layers is not None:
        return args.layers
    hidden = DEFAULTS.get(args.dataset, DEFAULTS["mnist"])["hidden"]
    return [int(np.prod(x.shape[1:])), *hidden, 10]


def _need_module(name, why):
    """A missing optional dependency is one line, said before training rather than after."""
    try:
        found = importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise UsageError(f"{why} needs {name}, which is not installed: pip install {name} "
                         "(or pip install -e '.[nets]')")


def write_graph(model, x, t, path):
    """Draw the graph of one forward pass and loss into ``path`` (.svg) with
    ``autograd_np.viz``; returns the file written (``.dot`` text, and one line
    of advice, if Graphviz's ``dot`` program is missing).  The model is left as
    it was: the forward pass runs in training mode (so the picture shows its
    dropout and batch statistics), and the running statistics it updates and
    the random draws it makes are put back afterwards."""
    state = model.state_dict()
    rngs = [(m, m.rng.bit_generator.state) for m in random_modules(model).values()]
    try:
        loss = model.loss(ag.Tensor(x, name="x"), t)
    finally:
        model.load_state_dict(state)
        for module, rng_state in rngs:
            module.rng.bit_generator.state = rng_state
    return Path(ag.viz.render(loss, path=Path(path), format="svg"))


def cmd_train(args) -> int:
    d = DEFAULTS.get(args.dataset, DEFAULTS["mnist"])
    epochs = args.epochs or d["epochs"]
    batch_size = args.batch_size or d["batch_size"]
    _check_data_args(args)
    _models.check_cnn_args(args)
    if args.layers is not None:  # absurd sizes go before anything is loaded
        check_model_size(args.layers, batch=min(batch_size, EVAL_BATCH))
    _need_module("matplotlib", "train (it draws curves.png)")
    if args.progress:
        _need_module("tqdm", "--progress")
    (x, t), (xt, tt) = _load_data(args, images=args.model == "cnn")
    val = None
    if args.val:
        if args.val >= len(x):
            raise UsageError(f"--val {args.val}: the training set has only {len(x)} images; hold out fewer")
        (x, t), val = (x[:-args.val], t[:-args.val]), (x[-args.val:], t[-args.val:])
    sizes = _sizes(args, x)
    _check_sizes(sizes, x, t)
    check_model_size(sizes, batch=max(min(batch_size, len(x)), min(EVAL_BATCH, len(xt))))
    try:  # several ranks under mpirun; rank 0 alone prints and writes
        world = _distributed.world()
    except (ValueError, ImportError) as exc:  # a bad NETS_MPI_TIMEOUT, or mpirun without mpi4py
        raise UsageError(str(exc)) from None
    model = _models.build(args, x, sizes)
    if one_sample_batches(model, len(x), batch_size, False, world.size):  # fit would refuse it
        raise UsageError(f"--batch-size {batch_size} with --batchnorm leaves a batch of 1 sample of the {len(x)} "
                         f"training images{f' on a rank of {world.size}' if world.size > 1 else ''}, where batch "
                         "norm is undefined; choose another --batch-size")
    out = Path(args.out or f"runs/{args.dataset}")
    if world.is_root:
        out = output_folder(out, "--out", files=TRAIN_FILES)  # before any training
    opt = _optim.create(args.optimizer, model.parameters(), lr=args.lr)
    callbacks, stop = _callbacks(args, epochs, out)
    extras = "".join([f", {len(val[0])} validation" if val else "", f", {args.schedule} schedule"
                      if args.schedule != "constant" else "",
                      f", early stopping after {args.early_stopping}" if args.early_stopping else "",
                      f", gradients clipped to norm {args.clip_norm:g}" if args.clip_norm else ""])
    if world.size > 1:
        extras += f", data-parallel on {world.size} ranks"
    run = dict(val=val, epochs=epochs, batch_size=batch_size, seed=args.seed, checkpoint=out / "checkpoint.npz",
               resume=args.resume, callbacks=callbacks, distributed=world)
    if not world.is_root:  # the other ranks train in step with rank 0, silently, and write nothing
        fit(model, opt, (x, t), (xt, tt), progress=False, verbose=False, **run)
        return 0
    print(f"training {_models.describe(model)} on {args.dataset} ({len(x)} train / "
          f"{len(xt)} test{extras}) with {args.optimizer} lr={opt.lr:g}, {epochs} epochs of batch {batch_size}, "
          f"seed {args.seed}", flush=True)
    t0 = time.perf_counter()
    history = fit(model, opt, (x, t), (xt, tt), progress=args.progress, verbose=not args.quiet, **run)
    seconds = time.perf_counter() - t0
    model.save(out / "model.npz")
    history.to_json(out / "history.json")
    history.plot(out / "curves.png")
    graph = write_graph(model, x[:4], t[:4], out / "graph.svg")
    written = ", ".join(p.name for p in (out / "model.npz", out / "history.json", out / "log.csv", out / "curves.png",
                                         graph))
    if len(history) and stop is not None and stop.best_epoch and stop.best_epoch != len(history):
        test_loss, test_acc = evaluate(model, (xt, tt))  # the restored weights
        print(f"test accuracy {test_acc:.4f} (loss {test_loss:.4f}) with the weights of epoch {stop.best_epoch} of "
              f"{len(history)}, in {seconds:.1f}s; wrote {out}/: {written}")
    elif len(history):
        print(f"test accuracy {history.test_acc[-1]:.4f} (loss {history.test_loss[-1]:.4f}) after {len(history)} "
              f"epochs in {seconds:.1f}s; wrote {out}/: {written}")
    else:  # resumed from a checkpoint saved before any epoch: nothing to report
        print(f"no epochs trained; wrote {out}/: {written}")
    return 0


def _callbacks(args, epochs, out):
    """The callbacks ``train``'s options ask for, and the EarlyStopping among them (or None)."""
    chosen, stop = [], None
    if args.schedule == "step":
        drops = {e for e in (epochs // 2, (3 * epochs) // 4) if e > 0}
        chosen.append(cb.LearningRateScheduler(lambda epoch, lr: lr * 0.1 if epoch in drops else lr))
    elif args.schedule == "cosine":
        chosen.append(cb.CosineAnnealing(epochs=epochs))
    elif args.schedule == "plateau":
        chosen.append(cb.ReduceLROnPlateau(factor=0.1, patience=2))
    if args.clip_norm:
        chosen.append(cb.GradientClipping(max_norm=args.clip_norm))
    if args.early_stopping:
        stop = cb.EarlyStopping(patience=args.early_stopping)
        chosen.append(stop)
    chosen.append(cb.CSVLogger(out / "log.csv"))
    return chosen, stop


def _check_model_fits(model, path, dataset, x, classes=10):
    """The saved model takes this data's features and gives one score per class."""
    features = int(np.prod(x.shape[1:]))
    need = _models.input_features(model)
    if need is not None and need != features:
        raise UsageError(f"{path} expects {need} features per sample but {dataset} has {features}")
    was_training = model.training
    model.eval()
    try:
        with ag.no_grad():
            y = model(_models.shaped_input(model, x[:1]))
    except (ValueError, TypeError, IndexError) as exc:
        raise UsageError(f"{path} cannot take {dataset}'s samples ({features} features): {exc}") from None
    finally:
        model.train(was_training)
    shape = np.shape(y.data if isinstance(y, ag.Tensor) else y)
    if shape != (1, classes):
        raise UsageError(f"{path} gives outputs of shape {shape[1:]} per sample but {dataset} has {classes} classes")


def cmd_eval(args) -> int:
    _check_data_args(args)
    model = _load_model(args.model)
    (x, t), (xt, tt) = _load_data(args)
    if args.split == "train":
        xt, tt = x, t
    _check_model_fits(model, args.model, args.dataset, xt)
    loss, acc = evaluate(model, _models.shaped_input(model, xt), tt)
    print(f"{args.dataset} {args.split}: loss {loss:.4f} accuracy {acc:.4f} ({len(xt)} samples)")
    return 0


def cmd_gradcheck(args) -> int:
    _check_data_args(args)
    if args.layers is not None:  # absurd sizes go before anything is loaded
        check_model_size(args.layers, batch=1, itemsize=8)
    (x, t), _ = _load_data(args)
    sizes = args.layers or [int(np.prod(x.shape[1:])), 16, 10]
    _check_sizes(sizes, x, t)
    check_model_size(sizes, batch=min(args.batch, len(x)), itemsize=8)
    model = MultiLayerNet(sizes, activation=args.activation, weight_decay=args.weight_decay, dropout=args.dropout,
                          batchnorm=args.batchnorm, rng=args.seed, dtype=np.float64)
    idx = np.random.default_rng(args.seed).choice(len(x), size=min(args.batch, len(x)), replace=False)
    print(f"gradient check of {'-'.join(map(str, sizes))} {args.activation} on {len(idx)} {args.dataset} samples "
          "(float64)")
    report = gradient_check(model, x[idx], t[idx], tol=args.tol, max_elements=args.max_elements, seed=args.seed)
    if args.explain:
        few = idx[:2]
        print(f"\nbackward, step by step (ag.explain) on {len(few)} samples:")
        ag.explain(model.loss(ag.Tensor(x[few].reshape(len(few), -1).astype(np.float64), name="x"), t[few]))
    return 0 if report.ok else 1


GRAPH_FORMATS = ("svg", "png", "pdf", "dot")


def cmd_graph(args) -> int:
    out = Path(args.out)
    if args.out.endswith(("/", os.sep)) or out.name in ("", ".", "..") or out.is_dir():
        raise UsageError(f"--out {args.out}: a folder; give a picture file such as {out / 'graph.svg'}")
    fmt = out.suffix.lstrip(".").lower() or "svg"
    if fmt not in GRAPH_FORMATS:
        raise UsageError(f"--out {args.out}: unknown picture format {out.suffix!r} "
                         f"(use {', '.join('.' + f for f in GRAPH_FORMATS)})")
    if out.suffix:
        out = out.with_suffix(f".{fmt}")  # graph.SVG -> graph.svg
    written = out if out.suffix == f".{fmt}" else out.with_name(f"{out.name}.{fmt}")  # as ag.viz.render names it
    sizes = args.layers
    check_model_size(sizes, batch=args.batch, copies=3)
    output_file(written, "--out", also=[written.with_suffix(".dot")])
    model = MultiLayerNet(sizes, activation=args.activation, weight_decay=args.weight_decay, dropout=args.dropout,
                          batchnorm=args.batchnorm, rng=args.seed)
    rng = np.random.default_rng(args.seed)
    x = ag.Tensor(rng.random((args.batch, sizes[0]), dtype=np.float32), name="x")
    loss = model.loss(x, rng.integers(0, sizes[-1], args.batch))
    loss.name = "loss"
    written = Path(ag.viz.render(loss, path=out, format=fmt, collapse=args.collapse, show_grads=args.show_grads))
    print(f"wrote {written}: the graph of {'-'.join(map(str, sizes))} {args.activation}"
          f"{' with batchnorm' if args.batchnorm else ''}{f' and dropout {args.dropout:g}' if args.dropout else ''}"
          f", one forward pass and loss on a random batch of {args.batch}")
    return 0


COMMANDS = {"train": cmd_train, "eval": cmd_eval, "gradcheck": cmd_gradcheck, "graph": cmd_graph}


def _one_line(text) -> str:
    return " ".join(str(text).split()) or "(no message)"


def _os_message(exc: OSError) -> str:
    """``path: reason`` for an OSError (permissions, a full disk, a path that cannot be)."""
    where = " -> ".join(str(f) for f in (exc.filename, exc.filename2) if f is not None)
    reason = exc.strerror or str(exc) or type(exc).__name__
    return f"{where}: {reason}" if where else reason


def _say(message):
    world = _distributed.active()
    where = f"rank {world.rank} of {world.size}: " if world is not None and world.size > 1 else ""
    print(f"nets: error: {where}{_one_line(message)}", file=sys.stderr)


def _lenient_output():
    """Paths that are not valid UTF-8 (undecodable bytes from the shell) print escaped, not as a traceback."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError, OSError):
            pass


def main(argv=None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit status.

    Expected failures print one line ``nets: error: ...`` on stderr: bad arguments, data
    sets and checkpoints (status 2); a diverging run, files that cannot be written, memory
    (status 1).  Ctrl-C gives status 130.  Anything else is a bug and shows its traceback.
    Under mpirun a failure on any rank ends every rank (MPI_Abort), so none waits forever."""
    if argv is None:
        _lenient_output()
    status = _run(argv)
    world = _distributed.active()
    if status != 0 and world is not None and world.size > 1:
        world.abort(f"python -m nets ended with status {status}", status)
    return status


def _run(argv) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            raise UsageError("choose a command: train, eval, gradcheck or graph (see python -m nets --help)")
        # NumPy's overflow warnings would add lines to stderr; a diverging fit says so itself
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return COMMANDS[args.command](args)
    except (UsageError, DatasetError, CheckpointError, StateDictError, _distributed.RanksDisagree) as exc:
        _say(exc)
        return 2
    except (FloatingPointError, _distributed.RankFailed) as exc:  # (another rank failed: it says why)
        _say(exc)
        return 1
    except MemoryError as exc:
        _say(f"out of memory{': ' + str(exc) if str(exc) else ''}")
        return 1
    except BrokenPipeError:  # stdout closed early (python -m nets ... | head): nothing more to say
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 1
    except OSError as exc:
        _say(_os_message(exc))
        return 1
    except subprocess.CalledProcessError as exc:  # Graphviz's dot failed
        detail = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        _say(f"{exc.cmd[0] if exc.cmd else 'a program'} failed with status {exc.returncode}: {detail}")
        return 1
    except KeyboardInterrupt:
        print("nets: interrupted", file=sys.stderr)
        return 130
