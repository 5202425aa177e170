"""``python -m nets eval``, ``gradcheck`` and ``graph``: score a saved model, check a network's
gradients, draw its graph."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

import autograd_np as ag

from ..debug import gradient_check
from ..io.checkpoint import load as _load_model
from ..models import MultiLayerNet
from ..training import evaluate
from . import architectures as _models
from .args import UsageError, check_model_size, output_file
from .data import check_data_args, check_sizes, load_data

__all__ = ["cmd_eval", "cmd_gradcheck", "cmd_graph", "GRAPH_FORMATS"]


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
    """``python -m nets eval``: a saved model's loss and accuracy on a data set's split; returns the
    exit status."""
    check_data_args(args)
    model = _load_model(args.model)
    (x, t), (xt, tt) = load_data(args)
    if args.split == "train":
        xt, tt = x, t
    _check_model_fits(model, args.model, args.dataset, xt)
    loss, acc = evaluate(model, _models.shaped_input(model, xt), tt)
    print(f"{args.dataset} {args.split}: loss {loss:.4f} accuracy {acc:.4f} ({len(xt)} samples)")
    return 0


def cmd_gradcheck(args) -> int:
    """``python -m nets gradcheck``: the engine's gradients of a network against numerical ones, on
    a few samples of a data set; returns the exit status."""
    check_data_args(args)
    if args.layers is not None:  # absurd sizes go before anything is loaded
        check_model_size(args.layers, batch=1, itemsize=8)
    (x, t), _ = load_data(args)
    sizes = args.layers or [int(np.prod(x.shape[1:])), 16, 10]
    check_sizes(sizes, x, t)
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


GRAPH_FORMATS = ("svg", "png", "pdf", "dot")  # pictures; and .html, the explorer page


def _graph_file(args):
    """(file to write, format) from ``--out`` and ``--html``: the suffix picks the format
    (``.html``: the explorer page), ``--html`` asks for the page."""
    text = args.out or ("graph.html" if args.html else "graph.svg")
    out = Path(text)
    if text.endswith(("/", os.sep)) or out.name in ("", ".", "..") or out.is_dir():
        raise UsageError(f"--out {text}: a folder; give a picture file such as {out / 'graph.svg'}")
    fmt = out.suffix.lstrip(".").lower() or ("html" if args.html else "svg")
    if fmt not in GRAPH_FORMATS and fmt != "html":
        raise UsageError(f"--out {text}: unknown picture format {out.suffix!r} "
                         f"(use {', '.join('.' + f for f in GRAPH_FORMATS)}), or .html for the explorer page")
    if args.html and fmt != "html":
        raise UsageError(f"--out {text}: --html writes an HTML page, not a .{fmt} picture; drop --html or name "
                         f"an .html file")
    if out.suffix:
        out = out.with_suffix(f".{fmt}")  # graph.SVG -> graph.svg
    return (out if out.suffix == f".{fmt}" else out.with_name(f"{out.name}.{fmt}")), fmt  # as ag.viz.render names it


def cmd_graph(args) -> int:
    """``python -m nets graph``: draw the graph of one forward pass and loss of a network (SVG, or
    an interactive page with ``--explore``); returns the exit status."""
    written, fmt = _graph_file(args)
    sizes = args.layers
    check_model_size(sizes, batch=args.batch, copies=3)
    output_file(written, "--out", also=[] if fmt == "html" else [written.with_suffix(".dot")])
    model = MultiLayerNet(sizes, activation=args.activation, weight_decay=args.weight_decay, dropout=args.dropout,
                          batchnorm=args.batchnorm, rng=args.seed)
    rng = np.random.default_rng(args.seed)
    x = ag.Tensor(rng.random((args.batch, sizes[0]), dtype=np.float32), name="x")
    loss = model.loss(x, rng.integers(0, sizes[-1], args.batch))
    loss.name = "loss"
    if fmt == "html":
        ag.viz.explore(loss, path=written, collapse=True if args.collapse else None)
    else:
        written = Path(ag.viz.render(loss, path=written, format=fmt, collapse=args.collapse,
                                     show_grads=args.show_grads))
    print(f"wrote {written}: the graph of {'-'.join(map(str, sizes))} {args.activation}"
          f"{' with batchnorm' if args.batchnorm else ''}{f' and dropout {args.dropout:g}' if args.dropout else ''}"
          f", one forward pass and loss on a random batch of {args.batch}")
    return 0
