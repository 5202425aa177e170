"""Training: ``fit`` (``evaluate`` lives in ``nets.training.evaluation``, ``History`` in ``nets.training.history``).

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

import importlib.util
import sys

import numpy as np

from .. import distributed as _distributed
from ..layers import Module
from . import arguments as _arguments, bptt as _bptt, metrics as _metrics, resume as _resume
from .callbacks import CallbackList, FitRun
from .compiled import compile_step
from .data import DataLoader
from .epochs import Epochs
from .evaluation import as_xy
from .history import History, _in_notebook

__all__ = ["fit", "random_modules"]


def random_modules(model):
    """Sub-modules owning a numpy Generator ``rng`` (e.g. Dropout), by name."""
    return {name or "<root>": m for name, m in model.named_modules()
            if isinstance(getattr(m, "rng", None), np.random.Generator)}


def _widgets_available() -> bool:
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


def _silent(line):
    pass


def _prepare_model(model, train, loader, n, seed, world):
    """Refuse batches that would give a batch norm layer one sample, derive the Dropout generators
    from ``seed``, start every rank from rank 0's weights; returns the modules with generators."""
    problem = _arguments.one_sample_batches(model, n, loader.batch_size, loader.drop_last, world.size,
                                           loader=isinstance(train, DataLoader))
    if problem:
        raise ValueError(f"fit: {problem}")
    randoms = random_modules(model)
    if seed is not None:  # derive every Dropout generator from the seed too
        seq = np.random.SeedSequence(seed).spawn(len(randoms) + 1)[1:]
        for ss, m in zip(seq, randoms.values()):
            m.rng = np.random.default_rng(ss)
    world.broadcast_model(model)  # every rank starts from rank 0's weights
    return randoms


def _start(model, optimizer, loader, metric_list, sets, world, *, epochs, callbacks, log, verbose, resume, checkpoint,
           compile):  # noqa: A002
    """The run's ``FitRun`` (what callbacks see) and ``CallbackList``.  On several ranks the
    ranks agree first on what would make one of them wait forever for the others (all of it is
    compared in full by ``check_run`` later): a difference is an error on every rank."""
    names = [m.name for m in metric_list]
    log = (log or (lambda line: print(line, flush=True))) if world.is_root else _silent
    run = FitRun(model, optimizer, epochs, len(loader), History(), print=log, verbose=verbose,
                 monitor_default=f"{sets[0]}_loss" if sets else "train_loss", rank=world.rank, world_size=world.size,
                 log_names=[f"{part}_{m}" for part in ("train", *sets) for m in ("loss", *names)] + ["lr", "seconds"])
    cbs = CallbackList(callbacks, run)
    if world.size > 1:
        world.abort_on_exception()
        world.agree({"fit.epochs": epochs, "fit.resume": bool(resume), "fit.checkpoint": checkpoint is not None,
                     "fit.metrics": names, "callbacks": [type(cb).__name__ for cb in cbs],
                     "fit.compile": bool(compile)})
    return run, cbs


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

    A ``SequenceLoader`` as ``train`` (a token stream in chunks) with a model
    whose forward takes ``state`` and ``return_state`` is truncated
    backpropagation through time: the state is carried from batch to batch,
    detached (``nets.training.bptt``).

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
    x_train, t_train = as_xy(train, "fit: train")
    sets = {part: as_xy(xy, f"fit: {part}") for part, xy in (("val", val), ("test", test)) if xy is not None}
    if len(x_train) == 0:
        raise ValueError("fit: the training set is empty")
    metric_list = _metrics.resolve(metrics, t_train, "fit")
    world = _distributed.world(distributed)
    loader = _loader(train, x_train, t_train, (sets.get("val"), sets.get("test")), batch_size, shuffle, drop_last,
                     seed, world)
    randoms = _prepare_model(model, train, loader, len(x_train), seed, world)
    run, cbs = _start(model, optimizer, loader, metric_list, list(sets), world, epochs=epochs, callbacks=callbacks,
                      log=log, verbose=verbose, resume=resume, checkpoint=checkpoint, compile=compile)
    start = _resume.prepare(checkpoint, resume, run, cbs, loader, randoms, world)
    _distributed.check_run(world, model, optimizer, cbs, metric_list, loader, epochs=epochs, batch_size=batch_size,
                           seed=seed, shuffle=shuffle, drop_last=drop_last, resume=bool(resume), start_epoch=start,
                           checkpoint=checkpoint is not None, compile=bool(compile), eval_batch_size=eval_batch_size)
    step = _bptt.step_for(model, train, {"val": val, "test": test}, world, compile) or (  # truncated BPTT
        compile_step(model) if compile else _eager_step(model))
    loop = Epochs(run, loader, step, metric_list, cbs, world, randoms,
                  show_bar=world.is_root and _progress_enabled(progress))
    return loop.fit(start, sets, eval_batch_size, checkpoint)
