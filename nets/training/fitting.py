"""Training: ``fit`` and ``evaluate`` (``History`` lives in ``nets.training.history``).

    model = nets.MultiLayerNet([64, 128, 64, 10])
    opt = nets.optim.Adam(model.parameters(), lr=1e-3)
    history = nets.fit(model, opt, (x_train, t_train), (x_test, t_test), epochs=30, batch_size=32, seed=0,
                       val=(x_val, t_val), callbacks=[nets.EarlyStopping(patience=3), nets.CosineAnnealing()])
    history.test_acc[-1]                  # accuracy after the last epoch
    loss, acc = nets.evaluate(model, (x_test, t_test))
    history.to_json("history.json"); history.plot()   # a matplotlib figure

Callbacks (``nets.callbacks``) follow Keras's hooks; metrics
(``nets.metrics``) are chosen with ``metrics=[...]`` (accuracy for class
targets by default, none for regression targets).

With ``checkpoint="run/ckpt.npz"`` fit saves model, optimizer state, epoch,
random generator states, history and the callbacks' states after every
epoch; with ``resume=True`` it continues from that file, and the result is
identical to an uninterrupted run (same seed, same final epoch count).  A
checkpoint saved after more epochs than asked, or one that does not fit the
model, optimizer, generators or callbacks, is a ``CheckpointError`` before
anything is trained.

Under ``mpirun -n K`` fit is data-parallel (``nets.distributed``): the same
global batches as one process, split over the ranks, the gradients averaged
in one allreduce per step; rank 0 prints and writes the checkpoints.
"""
from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np

import autograd_np as ag

from .. import distributed as _distributed
from ..io.checkpoint import CheckpointError, checkpoint_bytes, load_checkpoint, save_checkpoint
from ..layers.module import Module, StateDictError
from ..util import validate as _validate
from . import arguments as _arguments, metrics as _metrics
from .callbacks import CallbackList, FitRun
from .compiled import compile_step
from .data import DataLoader
from .history import History, _in_notebook, plot_history

__all__ = ["History", "fit", "evaluate", "plot_history"]

_FILE_ERRORS = (CheckpointError, OSError)  # raised on every rank when rank 0 meets them reading or writing


def _as_xy(data, name):
    if isinstance(data, DataLoader):
        return data.x, data.t
    if isinstance(data, (tuple, list)) and len(data) == 2:
        x, t = (np.asarray(v.data if isinstance(v, ag.Tensor) else v) for v in data)
        if x.ndim == 0 or t.ndim == 0:
            raise ValueError(f"{name} must be a pair (x, t) of arrays with a row per sample, got arrays of shapes "
                             f"{x.shape} and {t.shape}")
        if len(x) != len(t):
            raise ValueError(f"{name}: x has {len(x)} rows but t has {len(t)}")
        return x, t
    raise TypeError(f"{name} must be a pair (x, t) of arrays or a DataLoader, got {type(data).__name__}")


def _eval_scores(model, x, t, metric_list, batch_size, world=None):
    """``{"loss": ..., <metric>: ...}`` of ``model`` on ``(x, t)``, in eval mode under no_grad.
    With a ``world`` of several ranks each evaluates its slice and the sums are added up."""
    n = len(x)
    lo, hi = (0, n) if world is None else world.shard_range(n)
    was_training = model.training
    model.eval()
    sums = {"loss": 0.0, **{m.name: 0.0 for m in metric_list}}
    try:
        with ag.no_grad():
            for b in range(lo, hi, batch_size):
                xb, tb = x[b:min(b + batch_size, hi)], t[b:min(b + batch_size, hi)]
                y = model(xb)
                sums["loss"] += float(model.criterion(y, tb).item()) * len(xb)
                for m in metric_list:
                    sums[m.name] += m(y, tb) * len(xb)
    finally:
        model.train(was_training)
    if world is not None and world.size > 1:
        sums = dict(zip(sums, world.sum(list(sums.values()))))
    return {k: v / max(n, 1) for k, v in sums.items()}


def evaluate(model: Module, data, t=None, *, batch_size: int = 1000, metrics=None, return_dict: bool = False):
    """The loss and metrics of ``model`` on a data set, in eval mode under no_grad, in batches.

    ``data`` is what ``fit`` takes: an ``(x, t)`` pair or a ``DataLoader``
    (``evaluate(model, x, t)`` works too).  ``metrics`` as for ``fit``
    (default: accuracy for class targets, none otherwise).  Returns the tuple
    ``(loss, *metrics)``, so a classifier gives ``loss, acc = evaluate(...)``,
    or a dict ``{"loss": ..., "acc": ...}`` with ``return_dict=True``.  The
    model's previous mode is restored."""
    _arguments.model_argument(model, "model", "evaluate")
    x, t = _as_xy(data if t is None else (data, t), "evaluate: data")
    _validate.integer(batch_size, "batch_size", "evaluate")
    _validate.flag(return_dict, "return_dict", "evaluate")
    metric_list = _metrics.resolve(metrics, t, "evaluate")
    scores = _eval_scores(model, x, t, metric_list, batch_size)
    return scores if return_dict else tuple(scores.values())


def random_modules(model):
    """Sub-modules owning a numpy Generator ``rng`` (e.g. Dropout), by name."""
    return {name or "<root>": m for name, m in model.named_modules()
            if isinstance(getattr(m, "rng", None), np.random.Generator)}


def _widgets_available() -> bool:
    import importlib.util
    try:
        return importlib.util.find_spec("ipywidgets") is not None
    except (ImportError, ValueError):
        return False


def _progress_enabled(progress):
    if progress is not None:
        return bool(progress)
    if _in_notebook():  # a widget bar when ipywidgets is there; printed lines otherwise (no \r bars)
        return _widgets_available()
    return sys.stderr.isatty()


def _resume(checkpoint, data, model, optimizer, loader, randoms, epochs, callbacks):
    """Restore model, optimizer, generators, callbacks and history from ``checkpoint`` (the
    file's bytes ``data``, read by rank 0); returns
    ``(history, epochs done)``.  Everything is checked before the model, optimizer or
    generators change: a checkpoint after more epochs than asked, a history that does not
    match its epoch count, generator states another kind of generator cannot take, callbacks
    other than those saved, or weights and optimizer state of another architecture are a
    ``CheckpointError`` naming the file."""
    ck = load_checkpoint(checkpoint, data)
    start = ck["epoch"]
    if start > epochs:
        raise CheckpointError(f"{checkpoint}: saved after epoch {start}, but this run asks for {epochs} epochs in "
                              f"all; ask for at least {start} epochs, or start afresh elsewhere")
    history = History() if ck["history"] is None else History.from_dict(ck["history"])
    if ck["history"] is not None and len(history) != start:
        raise CheckpointError(f"{checkpoint}: field 'history': holds {len(history)} epochs but the checkpoint is "
                              f"after epoch {start}")
    states = [(loader.rng, "loader", ck["rng"].get("loader"))]
    states += [(randoms[name].rng, f"modules.{name}", state)
               for name, state in ck["rng"].get("modules", {}).items() if name in randoms]
    for gen, name, state in states:  # try each on a copy of the generator first
        if state is None:
            continue
        try:
            type(gen.bit_generator)().state = state
        except (ValueError, TypeError, KeyError, OverflowError) as exc:
            raise CheckpointError(f"{checkpoint}: field 'rng.{name}': does not fit this run's "
                                  f"{type(gen.bit_generator).__name__} generator: {exc}") from None
    try:  # callbacks only keep their state: nothing of the model changes here
        callbacks.load_states(ck.get("callbacks", []), str(checkpoint))
    except ValueError as exc:
        message = str(exc)
        if not message.startswith(str(checkpoint)):
            message = f"{checkpoint}: field 'callbacks': {message}"
        raise CheckpointError(message) from None
    try:  # another architecture or optimizer: say which file, not just which state
        model.load_state_dict(ck["model_state"])
        if ck["optimizer_state"] is not None:
            optimizer.load_state_dict(ck["optimizer_state"])
    except (ValueError, TypeError, StateDictError) as exc:
        raise CheckpointError(f"{checkpoint}: cannot resume from it: {exc}; resume with the same "
                              "layers and optimizer, or start afresh elsewhere") from None
    for gen, _, state in states:
        if state is not None:
            gen.bit_generator.state = state
    return history, start


def _eager_step(model):
    def step(x, t):
        y = model(x)
        loss = model.criterion(y, t)
        loss.backward()
        return loss, y
    return step


def _loader(train, x, t, others, batch_size, shuffle, drop_last, seed, world):
    """The DataLoader of ``train``; on several ranks, checked to be the same everywhere and
    given rank 0's generator state, so every rank draws the same global batches."""
    if world.size > 1:
        _distributed.check_data(world, (x, t), *others)  # shapes, dtypes and a hash of all of the data
    if isinstance(train, DataLoader):  # used as it is: its batch size, shuffling and generator
        loader = train
    else:
        loader = DataLoader(x, t, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, rng=seed)
    if len(loader) == 0:
        raise ValueError(f"fit: no batch: {len(x)} samples, batch_size={loader.batch_size}, drop_last=True")
    for part, xy in (("train", (x, t)), ("val", others[0]), ("test", others[1])):
        if xy is not None:  # (after the ranks compared the data: they all raise, or none does)
            _arguments.finite_data("fit", part, *xy)
            if xy[0].shape[1:] != x.shape[1:]:  # found now, not after an epoch of training
                raise ValueError(f"fit: {part}'s x has rows of shape {xy[0].shape[1:]} but train's have {x.shape[1:]}")
    if world.size > 1:
        world.agree({"fit.batch_size": loader.batch_size, "fit.shuffle": loader.shuffle,
                     "fit.drop_last": loader.drop_last, "fit.batches per epoch": len(loader)})
        loader.rng.bit_generator.state = world.bcast(loader.rng.bit_generator.state if world.is_root else None)
    return loader


def _save(checkpoint, model, optimizer, epochs_done, loader, randoms, history, cbs):
    rng_states = {"loader": loader.rng.bit_generator.state,
                  "modules": {name: m.rng.bit_generator.state for name, m in randoms.items()}}
    save_checkpoint(checkpoint, model, optimizer, epochs_done, rng_states, history, callbacks=cbs.states())


def _refuse_folder(checkpoint):
    if Path(checkpoint).is_dir():
        raise CheckpointError(f"{checkpoint}: is a folder, not a checkpoint file")


def _existing_checkpoint(checkpoint):
    """The checkpoint file's bytes, or None when there is none yet (read by rank 0 only)."""
    path = Path(checkpoint)
    return checkpoint_bytes(path) if path.exists() or path.is_symlink() else None


class _Epochs:
    """The batches of one ``fit`` call: every step, and the training part of each epoch's logs."""

    def __init__(self, model, optimizer, loader, step, metric_list, cbs, world, randoms, show_bar):
        self.model, self.optimizer, self.loader, self.step = model, optimizer, loader, step
        self.metric_list, self.cbs, self.world, self.randoms = metric_list, cbs, world, randoms
        self.show_bar = show_bar
        self.before_step = cbs.needs_before_step()
        # what the optimizer steps (a tensor of its own outside the model too), then the model's others
        stepped = list(getattr(optimizer, "params", None) or ())
        known = {id(p) for p in stepped}
        self.params = stepped + [p for p in model.parameters() if id(p) not in known]

    def _step(self, xb, tb):
        """Forward, criterion and backward on a global batch: ``(its loss, this rank's outputs
        (None for an empty shard) and targets)``; on several ranks the gradients are averaged."""
        self.optimizer.zero_grad()
        if self.world.size == 1:
            loss, y = self.step(xb, tb)
            return float(loss.item()), y, tb
        xs, ts = self.world.shard(xb, tb)
        value, y = 0.0, None
        if len(xs):
            loss, y = self.step(xs, ts)
            value = float(loss.item())
            del loss
        return self.world.allreduce_grads(self.params, len(xs), len(xb), value), y, ts

    def _bar(self, epoch, epochs):
        if not self.show_bar:
            return None
        from tqdm.auto import tqdm
        return tqdm(total=len(self.loader), desc=f"epoch {epoch + 1}/{epochs}", leave=True, unit="batch",
                    dynamic_ncols=True, file=sys.stderr)

    def _diverged(self, bar, epoch, batch, value):
        if bar is not None:
            bar.close()
        raise FloatingPointError(f"fit: the training loss became {value} at batch {batch + 1} of epoch {epoch + 1}; "
                                 "lower the learning rate" + (" or clip the gradients (nets.GradientClipping)"
                                                              if not self.before_step else ""))

    def train(self, epoch, epochs):
        """One pass over the loader: ``(train logs, the epoch's learning rate, progress bar or None)``."""
        self.model.train()
        self.world.spread_generators(self.randoms)
        self.cbs.call("on_epoch_begin", epoch, {})
        lr = float(self.optimizer.lr) if hasattr(self.optimizer, "lr") else math.nan  # as the schedule set it
        names = [m.name for m in self.metric_list]
        total_loss, seen = 0.0, 0
        sums = dict.fromkeys(names, 0.0)
        bar = self._bar(epoch, epochs)
        for b, (xb, tb) in enumerate(self.loader):
            self.cbs.call("on_batch_begin", b, {})
            value, y, tl = self._step(xb, tb)  # forward, criterion, backward (and the allreduce)
            if not math.isfinite(value):  # (the data is finite: fit checked it)
                self._diverged(bar, epoch, b, value)
            if self.before_step:
                self.cbs.call("on_before_optimizer_step", b, {"loss": value})
            self.optimizer.step()
            total_loss += value * len(xb)
            seen += len(xb)
            if y is not None:
                for m in self.metric_list:
                    sums[m.name] += m(y, tl) * len(tl)
            del y  # the graph holds this step's activations: drop it before the next forward
            self.cbs.call("on_batch_end", b, {"loss": value, "size": len(xb)})
            if bar is not None:
                bar.update(1)
                if bar.n % 10 == 0 or bar.n == len(self.loader):  # (on several ranks the metrics come at the end)
                    post = {} if self.world.size > 1 else {k: f"{v / seen:.4f}" for k, v in sums.items()}
                    bar.set_postfix({"loss": f"{total_loss / seen:.4f}", **post}, refresh=False)
        if self.world.size > 1:
            sums = dict(zip(names, self.world.sum(list(sums.values()))))
            self.world.end_epoch(self.model, self.optimizer, epoch)  # buffers averaged; weights checked equal
        return {"train_loss": total_loss / seen, **{f"train_{k}": v / seen for k, v in sums.items()}}, lr, bar


def _summary(epoch, epochs, logs, sets, metric_names, show_lr):
    parts = [f"epoch {epoch + 1}/{epochs}: loss {logs['train_loss']:.4f}"]
    parts[0] += "".join(f" {m} {logs[f'train_{m}']:.4f}" for m in metric_names)
    for part in sets:
        parts.append(f"{part} loss {logs[f'{part}_loss']:.4f}" +
                     "".join(f" {m} {logs[f'{part}_{m}']:.4f}" for m in metric_names))
    text = " | ".join(parts)
    if show_lr:
        text += f" | lr {logs['lr']:.3g}"
    return text + f" ({logs['seconds']:.1f}s)"


def _silent(line):
    pass


@_distributed.guard_fit  # a rank leaving a distributed fit by an exception: the others raise at once
def fit(model: Module, optimizer, train, test=None, *, val=None, epochs: int = 10, batch_size: int = 100, seed=None,
        shuffle: bool = True, drop_last: bool = False, callbacks=None, metrics=None, progress=None,
        verbose: bool = True, checkpoint=None, resume: bool = False, eval_batch_size: int = 1000, log=None,
        compile: bool = False, distributed=None) -> History:  # noqa: A002  (the name fit(compile=True) is asked with)
    """Train ``model`` with ``optimizer`` for ``epochs`` epochs and return the ``History``.

    ``train`` is an ``(x, t)`` pair of arrays (batched with ``batch_size``,
    ``shuffle``, ``drop_last``) or a ``DataLoader`` (used as it is); ``val``
    and ``test`` are pairs (or DataLoaders, whose arrays are used), evaluated
    after every epoch in eval mode under no_grad: ``val`` is the one
    callbacks monitor by default (select on it), ``test`` is reported.  Each
    epoch: mini-batches shuffled by a generator seeded with ``seed`` (Dropout
    generators are seeded from it too, so a seed makes the run
    reproducible), forward + ``model.criterion`` + backward + step.  The
    reported losses include the model's ``regularization()`` (e.g. weight
    decay).

    ``callbacks``: ``nets.Callback`` objects (``EarlyStopping``,
    ``CosineAnnealing``, ``StepLR``, ``ReduceLROnPlateau``,
    ``GradientClipping``, ``CSVLogger``, ``JSONLogger``, your own), called
    in Keras's order.  ``metrics``: names or ``nets.metrics.Metric`` objects
    reported for every set (default: ``["acc"]`` for class labels or one-hot
    targets, none otherwise, so a regression prints no accuracy).

    ``progress``: a tqdm bar per epoch (``tqdm.auto``: a widget in Jupyter
    when ipywidgets is installed; default: in a terminal, or in a notebook
    that has ipywidgets).  ``verbose``: print one summary line per epoch (to
    ``log``, default stdout) when there is no bar.  ``checkpoint``: a path
    written (atomically) after every epoch; ``resume=True`` continues from it
    when it exists, up to ``epochs`` epochs in total.  ``compile=True``: each
    training step runs compiled (``nets.compile_step``, ``ag.compile``): the
    same numbers as eager, faster once traced (from the third batch of a shape).

    ``distributed``: data parallelism over MPI (``nets.distributed``).  The
    default ``None`` is distributed when launched by ``mpirun -n K`` with K > 1
    and a plain run otherwise; ``True`` needs mpi4py, ``False`` makes every
    rank an independent run.  Every rank gets rank 0's weights and the same
    global batches, trains on its slice of each, and steps with the global
    batch's averaged gradient; the logs, history and callbacks' decisions
    are the same on every rank, and rank 0 alone prints, shows the bar and
    writes the checkpoint (``resume`` works across rank counts).
    """
    _arguments.fit_arguments(model, optimizer, locals())
    x_train, t_train = _as_xy(train, "fit: train")
    val_xy = None if val is None else _as_xy(val, "fit: val")
    test_xy = None if test is None else _as_xy(test, "fit: test")
    if len(x_train) == 0:
        raise ValueError("fit: the training set is empty")
    metric_list = _metrics.resolve(metrics, t_train, "fit")
    metric_names = [m.name for m in metric_list]
    world = _distributed.world(distributed)
    loader = _loader(train, x_train, t_train, (val_xy, test_xy), batch_size, shuffle, drop_last, seed, world)
    problem = _arguments.one_sample_batches(model, len(x_train), loader.batch_size, loader.drop_last, world.size,
                                           loader=isinstance(train, DataLoader))
    if problem:
        raise ValueError(f"fit: {problem}")
    randoms = random_modules(model)
    if seed is not None:  # derive every Dropout generator from the seed too
        seq = np.random.SeedSequence(seed).spawn(len(randoms) + 1)[1:]
        for ss, m in zip(seq, randoms.values()):
            m.rng = np.random.default_rng(ss)
    world.broadcast_model(model)  # every rank starts from rank 0's weights
    history, start = History(), 0
    log = (log or (lambda line: print(line, flush=True))) if world.is_root else _silent
    sets = [name for name, xy in (("val", val_xy), ("test", test_xy)) if xy is not None]
    run = FitRun(model, optimizer, epochs, len(loader), history, print=log, verbose=verbose,
                 monitor_default=f"{sets[0]}_loss" if sets else "train_loss", rank=world.rank, world_size=world.size,
                 log_names=[f"{part}_{m}" for part in ("train", *sets) for m in ("loss", *metric_names)] +
                 ["lr", "seconds"])
    cbs = CallbackList(callbacks, run)
    if world.size > 1:  # what would make one rank wait forever for the others is an error on every rank
        world.abort_on_exception()
        world.agree({"fit.epochs": epochs, "fit.resume": bool(resume), "fit.checkpoint": checkpoint is not None,
                     "fit.metrics": metric_names, "callbacks": [type(cb).__name__ for cb in cbs],
                     "fit.compile": bool(compile)})  # (all compared in full by check_run below)

    if checkpoint is not None:  # found now, not after the first epoch (rank 0 writes it)
        world.on_root(lambda: _refuse_folder(checkpoint), _FILE_ERRORS)
    if resume and checkpoint is not None:
        data = world.bcast_bytes(world.on_root(lambda: _existing_checkpoint(checkpoint), _FILE_ERRORS))
        if data is not None:
            history, start = _resume(checkpoint, data, model, optimizer, loader, randoms, epochs, cbs)
            run.history, run.start_epoch, run.epoch = history, start, start
            if verbose:
                log(f"resumed from {checkpoint} after epoch {start}" +
                    (f" (on {world.size} ranks)" if world.size > 1 else ""))

    _distributed.check_run(world, model, optimizer, cbs, metric_list, loader, epochs=epochs, batch_size=batch_size,
                           seed=seed, shuffle=shuffle, drop_last=drop_last, resume=bool(resume), start_epoch=start,
                           checkpoint=checkpoint is not None, compile=bool(compile), eval_batch_size=eval_batch_size)
    show_lr = cbs.changes_lr()
    step = compile_step(model) if compile else _eager_step(model)
    loop = _Epochs(model, optimizer, loader, step, metric_list, cbs, world, randoms,
                   show_bar=world.is_root and _progress_enabled(progress))
    with world.exit_aborts():  # sys.exit or Ctrl-C on one rank: every rank ends
        cbs.call("on_train_begin", {})
        for epoch in range(start, epochs):
            if run.stop_training:
                break
            run.epoch = epoch
            t0 = time.perf_counter()
            logs, lr, bar = loop.train(epoch, epochs)
            for part, xy in (("val", val_xy), ("test", test_xy)):
                if xy is not None:
                    scores = _eval_scores(model, *xy, metric_list, eval_batch_size, world)
                    logs.update({f"{part}_{k}": v for k, v in scores.items()})
            logs["lr"] = lr
            logs["seconds"] = world.bcast(time.perf_counter() - t0)  # rank 0's, so the histories agree
            history.record(logs)
            if bar is not None:
                bar.set_postfix({k.replace("train_", ""): f"{v:.4f}" for k, v in logs.items()
                                 if k not in ("lr", "seconds")})
                bar.close()
            elif verbose:
                log(_summary(epoch, epochs, logs, sets, metric_names, show_lr))
            cbs.call("on_epoch_end", epoch, logs)
            if world.size > 1:  # a root-only callback may ask to stop: every rank stops
                run.stop_training = world.any(run.stop_training)
            if checkpoint is not None:
                world.on_root(lambda: _save(checkpoint, model, optimizer, epoch + 1, loader, randoms, history, cbs),
                              _FILE_ERRORS)
        cbs.call("on_train_end", {})
        world.broadcast_model(model)  # (a root-only callback may have restored other weights)
    model.train()
    return history
