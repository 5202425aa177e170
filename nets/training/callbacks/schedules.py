"""Learning-rate callbacks: ``StepLR``, ``CosineAnnealing``, ``LearningRateScheduler`` (all
``LRSchedule``s, per epoch or per batch) and ``ReduceLROnPlateau``."""
from __future__ import annotations

import math
import numbers

import numpy as np

from ...util import validate as _v
from .base import (Callback, _better, _check_monitor, _count, _epochs, _monitor_args, _monitored,
                   _mode_for, _note_no_improvement, _number_or_none, _value)

__all__ = ["LRSchedule", "StepLR", "CosineAnnealing", "LearningRateScheduler", "ReduceLROnPlateau"]


class LRSchedule(Callback):
    """Base of the schedules that set ``optimizer.lr`` from the epoch: ``lr_at(epoch)``.

    The base learning rate is the optimizer's ``lr`` when training begins
    (saved in checkpoints, so a resumed run continues the same curve).
    ``per_batch=True`` sets it before every batch, at the fractional epoch
    ``epoch + batch / batches``; by default once per epoch.  Outside ``fit``:
    ``opt.lr = schedule.lr_at(epoch, base_lr)``."""

    sets_lr = True

    def __init__(self, per_batch: bool = False):
        self.per_batch = _v.flag(per_batch, "per_batch", type(self).__name__)
        self.base_lr = None
        self._loaded = False

    def lr_at(self, epoch: float, base_lr: float) -> float:
        raise NotImplementedError

    def _source(self) -> str:
        """What computed the learning rate, for an error message."""
        return "lr_at"

    def on_train_begin(self, logs=None):
        if not self._loaded or self.base_lr is None:
            self.base_lr = float(self.optimizer.lr)
        self._loaded = False

    def _set(self, epoch):
        lr = self.lr_at(epoch, self.base_lr)
        if isinstance(lr, np.ndarray) and lr.ndim == 0:
            lr = lr.item()
        ok = isinstance(lr, numbers.Real) and not isinstance(lr, (bool, np.bool_))
        if not (ok and math.isfinite(lr) and lr > 0):
            shown = int(epoch) if float(epoch).is_integer() else round(epoch, 4)
            error = ValueError if ok or lr is None else TypeError
            raise error(f"{type(self).__name__}: {self._source()} returned {lr!r:.60} at epoch {shown} (counted "
                        "from 0); it must return a finite learning rate > 0")
        self.optimizer.lr = float(lr)

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
        self.step_size = _v.integer(step_size, "step_size", "StepLR", wanted="a positive integer")
        self.gamma = _v.number(gamma, "gamma", "StepLR", low=0.0, low_open=True)

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
        who = "CosineAnnealing"
        if epochs is not None:
            epochs = _v.integer(epochs, "epochs", who, wanted="None or a positive integer")
        self.epochs_arg, self.min_lr = epochs, _v.number(min_lr, "min_lr", who, low=0.0)
        self.warmup = _v.integer(warmup, "warmup", who, low=0)
        self.total = epochs

    def on_train_begin(self, logs=None):
        loaded = self._loaded
        super().on_train_begin(logs)
        if self.min_lr > self.base_lr:  # the "annealing" would raise the rate to min_lr
            raise ValueError(f"CosineAnnealing: min_lr={self.min_lr:g} is above the optimizer's learning rate "
                             f"{self.base_lr:g}; give a min_lr below it")
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
            raise TypeError(f"LearningRateScheduler: schedule must be a function (epoch, lr) -> lr, got "
                            f"{schedule!r:.80}")
        self.schedule = schedule

    def _source(self):
        name = getattr(self.schedule, "__qualname__", None) or type(self.schedule).__name__
        return f"the schedule {name}"

    def lr_at(self, epoch, base_lr):
        return self.schedule(int(epoch), float(self.optimizer.lr))


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` has not improved for ``patience`` epochs.

    ``ReduceLROnPlateau(monitor=None, factor=0.1, patience=3, min_delta=1e-4, cooldown=0,
    min_lr=0.0, mode="auto", verbose=True)``, as Keras's (``cooldown``: epochs to wait after a
    reduction before counting again).  The reduced rate lives in the optimizer, which
    checkpoints save; the counters are this callback's state."""

    sets_lr = True

    def __init__(self, monitor=None, factor: float = 0.1, patience: int = 3, min_delta: float = 1e-4,
                 cooldown: int = 0, min_lr: float = 0.0, mode: str = "auto", verbose: bool = True):
        who = "ReduceLROnPlateau"
        self.monitor_arg, self.patience, self.min_delta, self.mode_arg, self.verbose = _monitor_args(
            who, monitor, patience, min_delta, mode, verbose)
        self.factor = _v.number(factor, "factor", who, low=0.0, high=1.0, low_open=True, high_open=True,
                                wanted="in (0, 1)")
        self.cooldown = _v.integer(cooldown, "cooldown", who, low=0)
        self.min_lr = _v.number(min_lr, "min_lr", who, low=0.0)
        self.best, self.wait, self.cooldown_left, self._loaded = None, 0, 0, False

    def on_train_begin(self, logs=None):
        if self.run.log_names:  # known before training: an unknown monitor is refused now
            _check_monitor(_monitored(self.monitor_arg, self.run), self.run.log_names, "ReduceLROnPlateau")
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
        _note_no_improvement(self, name, value, epoch)
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
