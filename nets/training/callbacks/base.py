"""The callback machinery: ``FitRun``, ``Callback``, ``LambdaCallback``, ``CallbackList``,
the monitoring helpers the callbacks share, and ``EarlyStopping``."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ...util import validate as _v
from ..metrics import METRICS

__all__ = ["FitRun", "Callback", "LambdaCallback", "CallbackList", "EarlyStopping"]


@dataclass
class FitRun:
    """What ``fit`` shares with its callbacks (``callback.run``).

    ``epoch`` is the current epoch (from 0), ``start_epoch`` the first one
    of this call (more than 0 after a resume), ``steps`` the batches per
    epoch; set ``stop_training = True`` to end the run after this epoch.
    ``rank`` and ``world_size``: this process's place in a distributed fit
    (0 and 1 otherwise)."""

    model: object
    optimizer: object
    epochs: int
    steps: int
    history: object
    start_epoch: int = 0
    epoch: int = 0
    stop_training: bool = False
    monitor_default: str = "train_loss"
    print: object = print
    verbose: bool = True
    log_names: list = field(default_factory=list)
    rank: int = 0
    world_size: int = 1


class Callback:
    """Base class: every hook does nothing.  ``self.run`` is set by ``fit``.

    Hooks (epoch and batch indices from 0):

    * ``on_train_begin(logs)`` / ``on_train_end(logs)``;
    * ``on_epoch_begin(epoch, logs)`` / ``on_epoch_end(epoch, logs)``, where
      the end's ``logs`` hold the epoch's metrics (see the module docstring);
    * ``on_batch_begin(batch, logs)`` / ``on_batch_end(batch, logs)``; the
      end's ``logs`` hold ``loss`` (the batch's) and ``size`` (its samples);
    * ``on_before_optimizer_step(batch, logs)``: after backward, before
      ``optimizer.step()`` (the parameters' ``.grad`` are there to change).

    ``state_dict()`` returns None (nothing to save) or a dict of JSON values
    and NumPy arrays that ``load_state_dict`` takes back.

    In a distributed fit every rank calls every hook with the same logs,
    except for callbacks whose ``root_only`` is True (those that write
    files, such as the loggers): rank 0 alone calls them."""

    run: FitRun | None = None
    root_only: bool = False
    sets_lr: bool = False  # it changes the optimizer's learning rate (fit then prints and logs lr)

    def set_run(self, run: FitRun):
        self.run = run

    @property
    def model(self):
        return None if self.run is None else self.run.model

    @property
    def optimizer(self):
        return None if self.run is None else self.run.optimizer

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass
    def on_before_optimizer_step(self, batch, logs=None): pass

    def state_dict(self):
        return None

    def load_state_dict(self, state):
        if state:
            raise ValueError(f"{type(self).__name__} keeps no state, but the checkpoint has some")

    def __repr__(self):
        return f"{type(self).__name__}()"


class LambdaCallback(Callback):
    """A callback from functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: print(logs))``.

    Keyword arguments are the hook names; each function takes the hook's arguments."""

    HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_batch_begin", "on_batch_end",
             "on_before_optimizer_step")

    def __init__(self, **hooks):
        for name, fn in hooks.items():
            if name not in self.HOOKS:
                raise TypeError(f"LambdaCallback: unknown hook {name!r} (use {', '.join(self.HOOKS)})")
            if not callable(fn):
                raise TypeError(f"LambdaCallback: {name} must be a function")
            setattr(self, name, fn)


class CallbackList:
    """The callbacks of one ``fit`` call, each hook called on all of them in order."""

    def __init__(self, callbacks, run: FitRun):
        if callbacks is None:
            callbacks = []
        elif isinstance(callbacks, Callback):
            callbacks = [callbacks]
        self.callbacks = list(callbacks)
        for i, cb in enumerate(self.callbacks):
            if not isinstance(cb, Callback):
                raise TypeError(f"fit: callbacks[{i}] is a {type(cb).__name__}, not a nets.Callback")
        self.run = run
        for cb in self.callbacks:
            cb.set_run(run)
        # NOTE: on ranks other than 0 the root-only ones (file writers) are never called
        self._called = [cb for cb in self.callbacks if run.rank == 0 or not cb.root_only]

    def __iter__(self):
        return iter(self.callbacks)

    def call(self, hook, *args):
        for cb in self._called:
            getattr(cb, hook)(*args)

    def changes_lr(self) -> bool:
        return any(cb.sets_lr for cb in self.callbacks)

    def needs_before_step(self) -> bool:
        return any(type(cb).on_before_optimizer_step is not Callback.on_before_optimizer_step
                   or "on_before_optimizer_step" in vars(cb) for cb in self.callbacks)

    # --- checkpoints ----------------------------------------------------------------------
    def states(self) -> list:
        """``[(type name, state), ...]`` of the callbacks that keep state, in order."""
        out = []
        for cb in self.callbacks:
            state = cb.state_dict()
            if state is not None:
                out.append((type(cb).__name__, state))
        return out

    def stateful(self) -> list:
        return [cb for cb in self.callbacks if cb.state_dict() is not None]

    def load_states(self, saved: list, where: str):
        """Give each stateful callback its saved state; raises ValueError when they do not match."""
        mine = self.stateful()
        if not saved:
            return  # saved without callback state: these start afresh
        have = [type(cb).__name__ for cb in mine]
        want = [kind for kind, _ in saved]
        if have != want:
            raise ValueError(f"{where} was saved with the callbacks {want or 'none'} (those that keep state), "
                             f"but this run has {have or 'none'}; resume with the same callbacks")
        for cb, (kind, state) in zip(mine, saved):
            try:
                cb.load_state_dict(state)
            except (ValueError, TypeError, KeyError) as exc:
                raise ValueError(f"{kind}'s saved state does not fit: {exc}") from None


# --- monitoring ------------------------------------------------------------------------------

_ALIASES = {"loss": "train_loss", "acc": "train_acc", "accuracy": "train_acc"}


def _monitored(name, run):
    if name is None:
        return run.monitor_default
    name = _ALIASES.get(name, name)
    if name.startswith("val_accuracy") or name.endswith("_accuracy"):
        name = name[: -len("accuracy")] + "acc"
    return name


def _mode_for(name, mode, who="mode"):
    _v.choice(mode, "mode", who, ("auto", "min", "max"))
    if mode != "auto":
        return mode
    metric = name.split("_", 1)[1] if "_" in name else name
    higher = METRICS[metric].higher_is_better if metric in METRICS else metric.endswith("acc")
    return "max" if higher else "min"


def _check_monitor(name, names, who):
    """``name`` must be one of the logs' ``names``."""
    if name not in names:
        raise ValueError(f"{who}: monitor {name!r} is not among this run's logs ({', '.join(sorted(names))}); "
                         "pass val= (for val_*) or test= (for test_*) to fit, or monitor another one")


def _value(logs, name, who):
    _check_monitor(name, logs, who)
    return float(logs[name])


def _monitor_args(who, monitor, patience, min_delta, mode, verbose):
    """The arguments EarlyStopping and ReduceLROnPlateau share, checked."""
    _v.text(monitor, "monitor", who, allow_none=True)
    patience = _v.integer(patience, "patience", who, wanted="a positive integer")
    min_delta = _v.number(min_delta, "min_delta", who, low=0.0)
    _mode_for("x", mode, who)
    return monitor, patience, min_delta, mode, _v.flag(verbose, "verbose", who)


def _note_no_improvement(cb, name, value, epoch):
    """Say in the log that a NaN or infinite value was not counted as an improvement."""
    if not math.isfinite(value) and cb.verbose and cb.run.verbose:
        cb.run.print(f"{type(cb).__name__}: {name} is {value} at epoch {epoch + 1}: not an improvement")


def _best_text(best, epoch):
    return "no finite value yet" if best is None else f"best {best:.4f} at epoch {epoch}"


def _better(value, best, mode, min_delta):
    if not math.isfinite(value):
        return False
    if best is None:
        return True
    return value < best - min_delta if mode == "min" else value > best + min_delta


def _epochs(n):
    return f"{n} epoch" if n == 1 else f"{n} epochs"


def _number_or_none(v, name):
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number or null, got {v!r}")
    return float(v)


def _count(v, name):
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {v!r}")
    return v


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved for ``patience`` epochs; keep the best weights.

    ``EarlyStopping(monitor=None, patience=3, min_delta=0.0, mode="auto",
    restore_best_weights=True, verbose=True)``.  ``monitor=None`` watches
    ``val_loss`` (or ``test_loss``, else ``train_loss``); ``mode`` "auto" is
    "max" for accuracies, "min" otherwise; an improvement must beat the best
    by more than ``min_delta``.  With ``restore_best_weights`` the model gets
    the weights of its best epoch back when training ends, whether it stopped
    early or ran out of epochs (Keras's default is False; a practitioner
    wants the best model).  After the run: ``best``, ``best_epoch`` (from 1,
    as printed) and ``stopped_epoch`` (0 when it did not stop)."""

    def __init__(self, monitor=None, patience: int = 3, min_delta: float = 0.0, mode: str = "auto",
                 restore_best_weights: bool = True, verbose: bool = True):
        self.monitor_arg, self.patience, self.min_delta, self.mode_arg, self.verbose = _monitor_args(
            "EarlyStopping", monitor, patience, min_delta, mode, verbose)
        self.restore_best_weights = _v.flag(restore_best_weights, "restore_best_weights", "EarlyStopping")
        self._reset()

    def _reset(self):
        self.best, self.best_epoch, self.wait, self.stopped_epoch = None, 0, 0, 0
        self.best_weights = None
        self._loaded = False

    @property
    def monitor(self):
        return _monitored(self.monitor_arg, self.run) if self.run is not None else self.monitor_arg

    def on_train_begin(self, logs=None):
        if self.run.log_names:  # known before training: an unknown monitor is refused now
            _check_monitor(self.monitor, self.run.log_names, "EarlyStopping")
        if not self._loaded:
            self._reset()
        self._loaded = False
        if self.stopped_epoch:  # resumed after it had stopped: nothing more to train
            self.run.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        name = self.monitor
        value = _value(logs or {}, name, "EarlyStopping")
        if _better(value, self.best, _mode_for(name, self.mode_arg), self.min_delta):
            self.best, self.best_epoch, self.wait = value, epoch + 1, 0
            if self.restore_best_weights:
                self.best_weights = self.model.state_dict()
            return
        _note_no_improvement(self, name, value, epoch)
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch + 1
            self.run.stop_training = True
            if self.verbose and self.run.verbose:
                self.run.print(f"early stopping after epoch {epoch + 1}: {name} has not improved for "
                               f"{_epochs(self.wait)} ({_best_text(self.best, self.best_epoch)})")

    def on_train_end(self, logs=None):
        last = len(self.run.history)
        if self.restore_best_weights and self.best_weights is not None and self.best_epoch != last:
            self.model.load_state_dict(self.best_weights)
            if self.verbose and self.run.verbose:
                self.run.print(f"restored the weights of epoch {self.best_epoch} ({self.monitor} {self.best:.4f})")

    def state_dict(self):
        return {"monitor": self.monitor if self.run is not None else self.monitor_arg, "best": self.best,
                "best_epoch": self.best_epoch, "wait": self.wait, "stopped_epoch": self.stopped_epoch,
                "best_weights": self.best_weights}

    def load_state_dict(self, state):
        best = _number_or_none(state["best"], "best")
        best_epoch, wait = _count(state["best_epoch"], "best_epoch"), _count(state["wait"], "wait")
        stopped = _count(state["stopped_epoch"], "stopped_epoch")
        weights = state.get("best_weights")
        if weights is not None:
            if not isinstance(weights, dict):
                raise ValueError("best_weights must be an object of arrays")
            if self.model is not None:
                current = self.model.state_dict()
                if set(weights) != set(current):
                    raise ValueError(f"best_weights holds {sorted(weights)} but the model has {sorted(current)}")
                for k, v in weights.items():
                    if np.shape(v) != current[k].shape:
                        raise ValueError(f"best_weights[{k!r}] has shape {np.shape(v)}, the model's "
                                         f"{current[k].shape}")
            weights = {k: np.array(v, copy=True) for k, v in weights.items()}
        self.best, self.best_epoch, self.wait, self.stopped_epoch = best, best_epoch, wait, stopped
        self.best_weights = weights
        self._loaded = True

    def __repr__(self):
        return f"EarlyStopping(monitor={self.monitor_arg!r}, patience={self.patience})"
