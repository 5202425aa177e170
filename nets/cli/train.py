"""``python -m nets train``: train a MultiLayerNet (or the book's SimpleConvNet) on a data set and
write the model, checkpoint, history, log, curves and graph into ``--out``."""
from __future__ import annotations

import time
from pathlib import Path

import autograd_np as ag

from .. import distributed as _distributed
from ..training import callbacks as cb, evaluate, fit, optim as _optim, random_modules
from ..training.arguments import one_sample_batches
from . import architectures as _models
from .args import UsageError, check_model_size, output_folder
from .data import DEFAULTS, check_data_args, check_sizes, layer_sizes, load_data, need_module

__all__ = ["cmd_train", "write_graph", "TRAIN_FILES", "EVAL_BATCH"]

TRAIN_FILES = ("model.npz", "checkpoint.npz", "history.json", "log.csv", "curves.png", "graph.svg", "graph.dot",
               "graph.html")
EVAL_BATCH = 1000  # fit's and evaluate's batch for the test set


def write_graph(model, x, t, path, page=None):
    """Draw the graph of one forward pass and loss into ``path`` (.svg) with
    ``autograd_np.viz``; returns the file written (``.dot`` text, and one line
    of advice, if Graphviz's ``dot`` program is missing).  ``page``: a file to
    write the explorer page of the same graph into (``ag.viz.explore``).  The model is left as
    it was: the forward pass runs in training mode (so the picture shows its
    dropout and batch statistics), and the running statistics it updates and
    the random draws it makes are put back afterwards."""
    state = model.state_dict()
    rngs = [(m, m.rng.bit_generator.state) for m in random_modules(model).values()]
    try:
        loss = model.loss(ag.Tensor(x, name="x"), t)
        loss.name = "loss"
    finally:
        model.load_state_dict(state)
        for module, rng_state in rngs:
            module.rng.bit_generator.state = rng_state
    if page is not None:
        ag.viz.explore(loss, path=Path(page), title=f"{_models.describe(model)}: one forward pass and loss")
    return Path(ag.viz.render(loss, path=Path(path), format="svg"))


def cmd_train(args) -> int:
    """``python -m nets train``: train a model on a data set and write the model, its history and its
    curves into ``--out``; returns the exit status."""
    d = DEFAULTS.get(args.dataset, DEFAULTS["mnist"])
    epochs = args.epochs or d["epochs"]
    batch_size = args.batch_size or d["batch_size"]
    check_data_args(args)
    _models.check_cnn_args(args)
    if args.layers is not None:  # absurd sizes go before anything is loaded
        check_model_size(args.layers, batch=min(batch_size, EVAL_BATCH))
    need_module("matplotlib", "train (it draws curves.png)")
    if args.progress:
        need_module("tqdm", "--progress")
    (x, t), (xt, tt) = load_data(args, images=args.model == "cnn")
    val = None
    if args.val:
        if args.val >= len(x):
            raise UsageError(f"--val {args.val}: the training set has only {len(x)} images; hold out fewer")
        (x, t), val = (x[:-args.val], t[:-args.val]), (x[-args.val:], t[-args.val:])
    sizes = layer_sizes(args, x)
    check_sizes(sizes, x, t)
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
    graph = write_graph(model, x[:4], t[:4], out / "graph.svg", page=out / "graph.html")
    written = ", ".join(p.name for p in (out / "model.npz", out / "checkpoint.npz", out / "history.json",
                                         out / "log.csv", out / "curves.png", graph, out / "graph.html") if p.exists())
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
