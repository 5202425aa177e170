"""Callbacks for ``fit``, in Keras's convention: an object with hook methods.

    stop = nets.EarlyStopping(patience=3)                      # monitors val_loss (or test_loss)
    history = nets.fit(model, opt, (x, t), val=(xv, tv), epochs=30,
                       callbacks=[stop, nets.CosineAnnealing(), nets.GradientClipping(max_norm=5.0),
                                  nets.CSVLogger("runs/log.csv")])

Why Keras's hooks: ``fit`` is Keras's ``fit`` (model, data, epochs, batch
size, a returned ``History``) and a ``nets`` model is a plain module, not a
Lightning module with training-step methods of its own.  So a callback is an
object with ``on_train_begin / on_epoch_begin / on_batch_begin / on_batch_end
/ on_epoch_end / on_train_end``, each given the epoch or batch index (from 0)
and a ``logs`` dict, and stops the run with ``self.run.stop_training = True``.
One hook is borrowed from Lightning, ``on_before_optimizer_step``: the
gradients exist there and the update has not happened, which is where
gradient clipping belongs (Keras does it inside its optimizers instead).

The epoch's ``logs`` (and ``fit``'s ``History``) use these names:
``train_loss``, ``train_<metric>`` (``train_acc``, ``train_mse``...),
``val_loss`` and ``val_<metric>`` when ``fit`` has a ``val`` set,
``test_loss`` and ``test_<metric>`` for its ``test`` set, ``lr`` (the
optimizer's learning rate during the epoch) and ``seconds``.  ``monitor``
arguments take those names; ``"loss"`` means ``train_loss``, and with
``monitor=None`` a callback watches ``val_loss``, else ``test_loss``, else
``train_loss``.  A test set is for reporting: select on a ``val`` split.

``self.run`` (a ``FitRun``) holds the model, optimizer, epochs, batches per
epoch, the history so far and ``stop_training``.  A callback with state that
a resumed run needs (early stopping's best value and weights, a schedule's
base learning rate, a plateau's counters) returns it from ``state_dict()``
(JSON values and NumPy arrays) and takes it back in ``load_state_dict``;
``fit(checkpoint=...)`` saves it after every epoch and ``resume=True``
restores it, so 2 + 2 epochs with any of these callbacks give the weights of
4.  Resuming with other stateful callbacks than were saved is refused.
"""
from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["Callback", "FitRun", "CallbackList", "EarlyStopping", "LRSchedule", "StepLR", "CosineAnnealing",
           "LearningRateScheduler", "ReduceLROnPlateau", "GradientClipping", "clip_grad_norm", "clip_grad_value",
           "CSVLogger", "JSONLogger", "LambdaCallback"]


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
        return any(isinstance(cb, (LRSchedule, ReduceLROnPlateau)) for cb in self.callbacks)

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


def _mode_for(name, mode):
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode != "auto":
        return mode
    from .metrics import METRICS
    metric = name.split("_", 1)[1] if "_" in name else name
    higher = METRICS[metric].higher_is_better if metric in METRICS else metric.endswith("acc")
    return "max" if higher else "min"


def _value(logs, name, who):
    if name not in logs:
        raise ValueError(f"{who}: monitor {name!r} is not among this run's logs ({', '.join(sorted(logs))}); "
                         "pass val= (for val_*) or test= (for test_*) to fit, or monitor another one")
    return float(logs[name])


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
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
            raise ValueError(f"EarlyStopping: patience must be a positive integer, got {patience!r}")
        if not min_delta >= 0:
            raise ValueError(f"EarlyStopping: min_delta must be >= 0, got {min_delta!r}")
        _mode_for("x", mode)
        self.monitor_arg, self.patience, self.min_delta, self.mode_arg = monitor, patience, float(min_delta), mode
        self.restore_best_weights, self.verbose = bool(restore_best_weights), bool(verbose)
        self._reset()

    def _reset(self):
        self.best, self.best_epoch, self.wait, self.stopped_epoch = None, 0, 0, 0
        self.best_weights = None
        self._loaded = False

    @property
    def monitor(self):
        return _monitored(self.monitor_arg, self.run) if self.run is not None else self.monitor_arg

    def on_train_begin(self, logs=None):
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
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch + 1
            self.run.stop_training = True
            if self.verbose and self.run.verbose:
                self.run.print(f"early stopping after epoch {epoch + 1}: {name} has not improved for "
                               f"{_epochs(self.wait)} (best {self.best:.4f} at epoch {self.best_epoch})")

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


# --- learning rates --------------------------------------------------------------------------

class LRSchedule(Callback):
    """Base of the schedules that set ``optimizer.lr`` from the epoch: ``lr_at(epoch)``.

    The base learning rate is the optimizer's ``lr`` when training begins
    (saved in checkpoints, so a resumed run continues the same curve).
    ``per_batch=True`` sets it before every batch, at the fractional epoch
    ``epoch + batch / batches``; by default once per epoch.  Outside ``fit``:
    ``opt.lr = schedule.lr_at(epoch, base_lr)``."""

    def __init__(self, per_batch: bool = False):
        self.per_batch = bool(per_batch)
        self.base_lr = None
        self._loaded = False

    def lr_at(self, epoch: float, base_lr: float) -> float:
        raise NotImplementedError

    def on_train_begin(self, logs=None):
        if not self._loaded or self.base_lr is None:
            self.base_lr = float(self.optimizer.lr)
        self._loaded = False

    def _set(self, epoch):
        lr = float(self.lr_at(epoch, self.base_lr))
        if not (math.isfinite(lr) and lr > 0):
            raise ValueError(f"{type(self).__name__}: learning rate {lr} at epoch {epoch} (must be > 0)")
        self.optimizer.lr = lr

    def on_epoch_begin(self, epoch, logs=None):
        self._set(float(epoch))

    def on_batch_begin(self, batch, logs=None):
        if self.per_batch:
            self._set(self.run.epoch + batch / max(self.run.steps, 1))

    def state_dict(self):
        return {"base_lr": self.base_lr}

    def load_state_dict(self, state):
        base = _number_or_none(state["base_lr"], "base_lr")
        if base is not None and base <= 0:
            raise ValueError(f"base_lr must be > 0, got {base}")
        self.base_lr, self._loaded = base, True


class StepLR(LRSchedule):
    """``lr = base_lr * gamma ** (epoch // step_size)``: divide by 10 every ``step_size`` epochs (gamma 0.1)."""

    def __init__(self, step_size: int, gamma: float = 0.1, per_batch: bool = False):
        super().__init__(per_batch)
        if isinstance(step_size, bool) or not isinstance(step_size, int) or step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive integer, got {step_size!r}")
        if not 0 < gamma:
            raise ValueError(f"StepLR: gamma must be > 0, got {gamma!r}")
        self.step_size, self.gamma = step_size, float(gamma)

    def lr_at(self, epoch, base_lr):
        return base_lr * self.gamma ** (int(epoch) // self.step_size)

    def __repr__(self):
        return f"StepLR(step_size={self.step_size}, gamma={self.gamma})"


class CosineAnnealing(LRSchedule):
    """Cosine decay from ``base_lr`` to ``min_lr`` over ``epochs`` (default: the run's epochs),
    after ``warmup`` epochs of linear warm-up from ``base_lr / (warmup + 1)``::

        lr = min_lr + (base_lr - min_lr) * (1 + cos(pi * (epoch - warmup) / (epochs - warmup))) / 2
    """

    def __init__(self, epochs: int | None = None, min_lr: float = 0.0, warmup: int = 0, per_batch: bool = False):
        super().__init__(per_batch)
        if epochs is not None and (isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1):
            raise ValueError(f"CosineAnnealing: epochs must be a positive integer, got {epochs!r}")
        if not min_lr >= 0:
            raise ValueError(f"CosineAnnealing: min_lr must be >= 0, got {min_lr!r}")
        if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
            raise ValueError(f"CosineAnnealing: warmup must be a non-negative integer, got {warmup!r}")
        self.epochs_arg, self.min_lr, self.warmup = epochs, float(min_lr), warmup
        self.total = epochs

    def on_train_begin(self, logs=None):
        loaded = self._loaded
        super().on_train_begin(logs)
        if not loaded or self.total is None:
            self.total = self.epochs_arg or self.run.epochs

    def lr_at(self, epoch, base_lr):
        total = self.total or self.epochs_arg
        if epoch < self.warmup:
            return base_lr * (epoch + 1) / (self.warmup + 1)
        span = max(total - self.warmup, 1)
        progress = min(max((epoch - self.warmup) / span, 0.0), 1.0)
        lr = self.min_lr + (base_lr - self.min_lr) * (1 + math.cos(math.pi * progress)) / 2
        return max(lr, self.min_lr, 1e-12)

    def state_dict(self):
        return {"base_lr": self.base_lr, "epochs": self.total}

    def load_state_dict(self, state):
        super().load_state_dict(state)
        total = state["epochs"]
        if total is not None:
            total = _count(total, "epochs")
        self.total = total

    def __repr__(self):
        return f"CosineAnnealing(epochs={self.epochs_arg}, min_lr={self.min_lr}, warmup={self.warmup})"


class LearningRateScheduler(LRSchedule):
    """Keras's ``LearningRateScheduler``: ``schedule(epoch, lr) -> new lr`` before every epoch
    (``epoch`` from 0, ``lr`` the optimizer's current one)."""

    def __init__(self, schedule):
        super().__init__(per_batch=False)
        if not callable(schedule):
            raise TypeError("LearningRateScheduler: schedule must be a function (epoch, lr) -> lr")
        self.schedule = schedule

    def lr_at(self, epoch, base_lr):
        return self.schedule(int(epoch), float(self.optimizer.lr))


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` has not improved for ``patience`` epochs.

    ``ReduceLROnPlateau(monitor=None, factor=0.1, patience=3, min_delta=1e-4, cooldown=0,
    min_lr=0.0, mode="auto", verbose=True)``, as Keras's (``cooldown``: epochs to wait after a
    reduction before counting again).  The reduced rate lives in the optimizer, which
    checkpoints save; the counters are this callback's state."""

    def __init__(self, monitor=None, factor: float = 0.1, patience: int = 3, min_delta: float = 1e-4,
                 cooldown: int = 0, min_lr: float = 0.0, mode: str = "auto", verbose: bool = True):
        if not 0 < factor < 1:
            raise ValueError(f"ReduceLROnPlateau: factor must be in (0, 1), got {factor!r}")
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
            raise ValueError(f"ReduceLROnPlateau: patience must be a positive integer, got {patience!r}")
        _mode_for("x", mode)
        self.monitor_arg, self.factor, self.patience = monitor, float(factor), patience
        self.min_delta, self.cooldown, self.min_lr, self.mode_arg = float(min_delta), int(cooldown), float(min_lr), mode
        self.verbose = bool(verbose)
        self.best, self.wait, self.cooldown_left, self._loaded = None, 0, 0, False

    def on_train_begin(self, logs=None):
        if not self._loaded:
            self.best, self.wait, self.cooldown_left = None, 0, 0
        self._loaded = False

    def on_epoch_end(self, epoch, logs=None):
        name = _monitored(self.monitor_arg, self.run)
        value = _value(logs or {}, name, "ReduceLROnPlateau")
        if self.cooldown_left > 0:
            self.cooldown_left -= 1
            self.wait = 0
        if _better(value, self.best, _mode_for(name, self.mode_arg), self.min_delta):
            self.best, self.wait = value, 0
            return
        if self.cooldown_left > 0:
            return
        self.wait += 1
        if self.wait >= self.patience:
            old = float(self.optimizer.lr)
            new = max(old * self.factor, self.min_lr)
            if new < old and new > 0:
                self.optimizer.lr = new
                if self.verbose and self.run.verbose:
                    self.run.print(f"epoch {epoch + 1}: {name} has not improved for {_epochs(self.wait)}; "
                                   f"learning rate {old:.3g} -> {new:.3g}")
            self.wait, self.cooldown_left = 0, self.cooldown

    def state_dict(self):
        return {"best": self.best, "wait": self.wait, "cooldown_left": self.cooldown_left}

    def load_state_dict(self, state):
        self.best = _number_or_none(state["best"], "best")
        self.wait, self.cooldown_left = _count(state["wait"], "wait"), _count(state["cooldown_left"], "cooldown_left")
        self._loaded = True


# --- gradient clipping -----------------------------------------------------------------------

def _params_of(params):
    if hasattr(params, "parameters") and callable(params.parameters):
        params = params.parameters()
    return list(params)


def clip_grad_norm(params, max_norm: float) -> float:
    """Scale the gradients of ``params`` (tensors, or a Module) so that their global L2 norm
    is at most ``max_norm``; returns the norm before clipping (as PyTorch's ``clip_grad_norm_``).

    The norm is computed in float64 over every ``.grad``; a gradient is replaced by a
    scaled copy, never changed in place.  A non-finite norm leaves the gradients alone."""
    if not max_norm > 0:
        raise ValueError(f"clip_grad_norm: max_norm must be > 0, got {max_norm!r}")
    ps = [p for p in _params_of(params) if p.grad is not None]
    total = math.sqrt(sum(float(np.sum(np.square(np.asarray(p.grad, dtype=np.float64)))) for p in ps))
    if math.isfinite(total) and total > max_norm:
        scale = max_norm / (total + 1e-6)
        for p in ps:
            g = np.asarray(p.grad)
            p.grad = g * g.dtype.type(scale)
    return total


def clip_grad_value(params, clip_value: float) -> None:
    """Clip every gradient element of ``params`` into ``[-clip_value, clip_value]`` (a new array)."""
    if not clip_value > 0:
        raise ValueError(f"clip_grad_value: clip_value must be > 0, got {clip_value!r}")
    for p in _params_of(params):
        if p.grad is not None:
            g = np.asarray(p.grad)
            p.grad = np.clip(g, -g.dtype.type(clip_value), g.dtype.type(clip_value))


class GradientClipping(Callback):
    """Clip the gradients before every optimizer step: by global norm (``max_norm``), by value
    (``max_value``), or both (value first).  ``norms`` holds the epoch's pre-clip norms'
    largest value after each epoch (``last_max_norm``), to see how often clipping bites:
    ``clipped`` counts the steps whose norm was above ``max_norm`` in the last epoch."""

    def __init__(self, max_norm: float | None = None, max_value: float | None = None):
        if max_norm is None and max_value is None:
            raise ValueError("GradientClipping: give max_norm, max_value or both")
        for name, v in (("max_norm", max_norm), ("max_value", max_value)):
            if v is not None and not (isinstance(v, (int, float)) and not isinstance(v, bool) and
                                      math.isfinite(v) and v > 0):
                raise ValueError(f"GradientClipping: {name} must be a finite number > 0, got {v!r}")
        self.max_norm, self.max_value = max_norm, max_value
        self.clipped, self.last_max_norm = 0, 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self.clipped, self.last_max_norm = 0, 0.0

    def on_before_optimizer_step(self, batch, logs=None):
        params = self.optimizer.params
        if self.max_value is not None:
            clip_grad_value(params, self.max_value)
        if self.max_norm is not None:
            norm = clip_grad_norm(params, self.max_norm)
            self.last_max_norm = max(self.last_max_norm, norm)
            self.clipped += norm > self.max_norm

    def __repr__(self):
        return f"GradientClipping(max_norm={self.max_norm}, max_value={self.max_value})"


# --- logging ---------------------------------------------------------------------------------

class _FileLogger(Callback):
    """One record per epoch into ``path``; a resumed run keeps the records up to its epoch and
    appends (so the file matches the history), a new run starts the file afresh."""

    root_only = True  # one file, written by rank 0 of a distributed fit

    def __init__(self, path):
        self.path = Path(path)

    def _kept_lines(self, start):
        raise NotImplementedError

    def on_train_begin(self, logs=None):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        start = self.run.start_epoch
        kept = self._kept_lines(start) if start > 0 and self.path.is_file() else []
        self._file = open(self.path, "w", encoding="utf-8", newline="")
        self._file.writelines(kept)
        self._file.flush()
        self._started(kept)

    def _started(self, kept):
        pass

    def on_train_end(self, logs=None):
        f = getattr(self, "_file", None)
        if f is not None:
            f.close()
            self._file = None

    def _write(self, text):
        self._file.write(text)
        self._file.flush()


class CSVLogger(_FileLogger):
    """Write each epoch's logs as a CSV row: ``epoch,train_loss,train_acc,...`` (epochs from 1)."""

    def _kept_lines(self, start):
        lines = self.path.read_text(encoding="utf-8").splitlines(keepends=True)
        if not lines:
            return []
        kept = [lines[0]]
        for line in lines[1:]:
            first = line.split(",", 1)[0]
            if first.isdigit() and int(first) <= start:
                kept.append(line)
        return kept

    def _started(self, kept):
        self._columns = next(csv.reader([kept[0]])) if kept else None

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        if self._columns is None:
            self._columns = ["epoch", *logs]
            self._write(",".join(self._columns) + "\n")
        row = io.StringIO()
        csv.writer(row, lineterminator="\n").writerow(
            [epoch + 1] + [_fmt(logs.get(c, "")) for c in self._columns[1:]])
        self._write(row.getvalue())


def _fmt(v):
    return repr(float(v)) if isinstance(v, (float, np.floating)) else v


class JSONLogger(_FileLogger):
    """Write each epoch's logs as one JSON object per line (JSON Lines): ``{"epoch": 1, "train_loss": ...}``."""

    def _kept_lines(self, start):
        kept = []
        for line in self.path.read_text(encoding="utf-8").splitlines(keepends=True):
            try:
                if int(json.loads(line).get("epoch", 0)) <= start:
                    kept.append(line)
            except (ValueError, AttributeError, TypeError):
                continue
        return kept

    def on_epoch_end(self, epoch, logs=None):
        record = {"epoch": epoch + 1, **{k: float(v) for k, v in (logs or {}).items()}}
        self._write(json.dumps(record) + "\n")
