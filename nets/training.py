"""Training: ``fit``, ``evaluate`` and the per-epoch ``History``.

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
"""
from __future__ import annotations

import html
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

import autograd_np as ag

from . import metrics as _metrics
from .callbacks import CallbackList, FitRun
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .checkpoint_schema import HISTORY_NAME
from .compiled import compile_step
from .data import DataLoader
from .module import Module, StateDictError

__all__ = ["History", "fit", "evaluate", "plot_history"]

_LOG_NAME = HISTORY_NAME  # train_*, val_*, test_*, lr, seconds: what checkpoints accept


class History:
    """Per-epoch logs of ``fit``, a list of numbers per name.

    ``train_loss``, ``train_acc``, ``test_loss``, ``test_acc`` and
    ``seconds`` are always there (empty when not measured: a regression run
    has no accuracy, a run without a test set no ``test_*``); ``fit`` adds
    ``lr``, ``val_*`` with a validation set and ``<set>_<metric>`` for the
    metrics asked for (``train_mse``...).  Read them as attributes
    (``history.test_acc``) or items (``history["val_loss"]``); ``len`` is the
    number of epochs.  In a notebook a ``History`` shows as a table, and
    ``history.plot()`` returns a matplotlib figure of every curve."""

    CORE = ("train_loss", "train_acc", "test_loss", "test_acc", "seconds")

    def __init__(self, logs=None, **lists):
        object.__setattr__(self, "logs", {name: [] for name in self.CORE})
        for name, values in {**(logs or {}), **lists}.items():
            self.logs[_log_name(name)] = [float(v) for v in values]

    def __getattr__(self, name):
        logs = self.__dict__.get("logs")
        if logs is not None and name in logs:
            return logs[name]
        raise AttributeError(f"History has no {name!r} (it holds {', '.join(logs or ())})")

    def __setattr__(self, name, value):
        if name in self.__dict__.get("logs", {}) or _LOG_NAME.match(name):
            self.logs[name] = [float(v) for v in value]
        else:
            object.__setattr__(self, name, value)

    def __getitem__(self, name):
        try:
            return self.logs[name]
        except KeyError:
            raise KeyError(f"History has no {name!r} (it holds {', '.join(self.logs)})") from None

    def __contains__(self, name):
        return name in self.logs

    def keys(self):
        return self.logs.keys()

    def __len__(self):
        return len(self.logs["train_loss"])

    @property
    def epochs(self) -> int:
        return len(self)

    def __eq__(self, other):
        if not isinstance(other, History):
            return NotImplemented
        mine = {k: v for k, v in self.logs.items() if v}
        theirs = {k: v for k, v in other.logs.items() if v}
        return mine.keys() == theirs.keys() and all(
            len(v) == len(theirs[k]) and np.array_equal(v, theirs[k], equal_nan=True) for k, v in mine.items())

    __hash__ = None

    def append(self, train_loss, train_acc=None, test_loss=None, test_acc=None, seconds=None):
        """Add one epoch (the original five numbers; ``record`` takes any logs)."""
        logs = {"train_loss": train_loss}
        for name, value in (("train_acc", train_acc), ("test_loss", test_loss), ("test_acc", test_acc),
                            ("seconds", seconds)):
            if value is not None:
                logs[name] = value
        self.record(logs)

    def record(self, logs: dict):
        """Add one epoch's ``logs`` (name -> number).  A name first seen after some epochs
        gets NaN for those, so every list is as long as the epochs it covers."""
        before = len(self)
        for name, value in logs.items():
            values = self.logs.setdefault(_log_name(name), [])
            if name != "train_loss" and len(values) < before:
                values.extend([math.nan] * (before - len(values)))
            values.append(float(value))

    def last(self) -> dict:
        """The latest value of every log: ``{"train_loss": ..., ...}``."""
        return {k: v[-1] for k, v in self.logs.items() if v}

    def to_dict(self) -> dict:
        return {k: list(v) for k, v in self.logs.items()}

    @classmethod
    def from_dict(cls, d: dict) -> "History":
        return cls(logs={k: v for k, v in d.items()})

    def to_json(self, path=None) -> str:
        """The history as JSON text; also written to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=2)
        if path is not None:
            Path(path).write_text(text + "\n")
        return text

    @classmethod
    def from_json(cls, source) -> "History":
        """From JSON text or from a file path."""
        text = str(source)
        if not text.lstrip().startswith("{"):
            text = Path(source).read_text()
        return cls.from_dict(json.loads(text))

    def plot(self, path=None):
        """The curves: loss, then each metric, then the learning rate when it changed.

        With ``path`` the figure is saved there (e.g. curves.png) and the path is
        returned; without, the matplotlib ``Figure`` is returned (a notebook shows it)."""
        return plot_history(self, path)

    # --- display -------------------------------------------------------------------------------
    def _columns(self):
        """The non-empty logs: train_*, val_*, test_*, then lr and seconds."""
        names = [k for k, v in self.logs.items() if v]
        order = {"train": 0, "val": 1, "test": 2}
        return sorted(names, key=lambda k: (order.get(k.split("_", 1)[0], 3), k == "seconds",
                                            k.split("_", 1)[-1] != "loss"))

    def __repr__(self):
        if not len(self):
            return "History(0 epochs)"
        last = ", ".join(f"{k} {_num(self.logs[k][-1])}" for k in self._columns() if k != "seconds")
        return f"History({len(self)} epochs; last: {last})"

    def _repr_html_(self):
        cols = self._columns()
        rows = range(len(self))
        shown = list(rows) if len(self) <= 30 else [*range(10), None, *range(len(self) - 10, len(self))]
        head = "".join(f"<th>{html.escape(c)}</th>" for c in ["epoch", *cols])
        body = []
        for i in shown:
            if i is None:
                body.append(f"<tr><td colspan='{len(cols) + 1}'>... {len(self) - 20} more epochs ...</td></tr>")
                continue
            cells = "".join(f"<td>{_num(self.logs[c][i]) if i < len(self.logs[c]) else ''}</td>" for c in cols)
            body.append(f"<tr><td>{i + 1}</td>{cells}</tr>")
        return (f"<table class='nets-history'><caption>History: {len(self)} epochs</caption>"
                f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")


def _log_name(name):
    if not isinstance(name, str) or not _LOG_NAME.match(name):
        raise ValueError(f"History: {name!r} is not a log name: train_<name>, val_<name> or test_<name> "
                         "(lower-case letters, digits and _), lr or seconds")
    return name


def _num(v):
    if v != v:
        return "nan"
    return f"{v:.4g}" if abs(v) < 1e-3 and v != 0 else f"{v:.4f}"


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        ip = shell.get_ipython()
    except AttributeError:
        return False
    return ip is not None and type(ip).__name__ == "ZMQInteractiveShell"


def plot_history(history: History, path=None):
    """Loss, each metric and the learning rate (when it changed) per epoch; train, val and test.

    Saved to ``path`` (then the path is returned) without touching pyplot's backend;
    with no path a ``matplotlib.figure.Figure`` is returned."""
    names = [k for k in history.keys() if history[k]]
    metrics = []
    for k in names:
        for prefix in ("train_", "val_", "test_"):
            if k.startswith(prefix) and k[len(prefix):] != "loss" and k[len(prefix):] not in metrics:
                metrics.append(k[len(prefix):])
    lr = history["lr"] if "lr" in history else []
    show_lr = len(set(v for v in lr if v == v)) > 1
    panels = ["loss", *metrics] + (["lr"] if show_lr else [])
    if path is None:
        import matplotlib.pyplot as plt
        fig = plt.figure(figsize=(5 * len(panels), 4))
    else:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        fig = Figure(figsize=(5 * len(panels), 4))
        FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    epochs = np.arange(1, len(history) + 1)
    styles = {"train": "o-", "val": "^-", "test": "s-"}
    for ax, panel in zip(axes, panels):
        if panel == "lr":
            ax.plot(epochs[:len(lr)], lr, "o-")
            ax.set(xlabel="epoch", ylabel="learning rate", title="learning rate")
            ax.set_yscale("log")
        else:
            for part, style in styles.items():
                values = history[f"{part}_{panel}"] if f"{part}_{panel}" in history else []
                if values:
                    ax.plot(epochs[:len(values)], values, style, label=part)
            label = {"acc": "accuracy"}.get(panel, panel)
            ax.set(xlabel="epoch", ylabel=label, title=label)
            ax.legend()
        ax.grid(alpha=0.3)
    fig.tight_layout()
    if path is None:
        if _in_notebook():  # shown once, as the cell's value, not again by the inline backend
            import matplotlib.pyplot as plt
            plt.close(fig)
        return fig
    fig.savefig(path, dpi=100)
    return path


def _as_xy(data, name):
    if isinstance(data, DataLoader):
        return data.x, data.t
    if isinstance(data, (tuple, list)) and len(data) == 2:
        x, t = data
        return np.asarray(x.data if isinstance(x, ag.Tensor) else x), np.asarray(t.data if isinstance(t, ag.Tensor)
                                                                                 else t)
    raise TypeError(f"{name} must be a pair (x, t) of arrays or a DataLoader, got {type(data).__name__}")


def _eval_scores(model, x, t, metric_list, batch_size):
    """``{"loss": ..., <metric>: ...}`` of ``model`` on ``(x, t)``, in eval mode under no_grad."""
    batch_size = int(batch_size)
    if batch_size <= 0:
        raise ValueError(f"evaluate: batch_size must be positive, got {batch_size}")
    was_training = model.training
    model.eval()
    n = len(x)
    sums = {"loss": 0.0, **{m.name: 0.0 for m in metric_list}}
    try:
        with ag.no_grad():
            for lo in range(0, n, batch_size):
                xb, tb = x[lo:lo + batch_size], t[lo:lo + batch_size]
                y = model(xb)
                sums["loss"] += float(model.criterion(y, tb).item()) * len(xb)
                for m in metric_list:
                    sums[m.name] += m(y, tb) * len(xb)
    finally:
        model.train(was_training)
    return {k: v / max(n, 1) for k, v in sums.items()}


def evaluate(model: Module, data, t=None, *, batch_size: int = 1000, metrics=None, return_dict: bool = False):
    """The loss and metrics of ``model`` on a data set, in eval mode under no_grad, in batches.

    ``data`` is what ``fit`` takes: an ``(x, t)`` pair or a ``DataLoader``
    (``evaluate(model, x, t)`` works too).  ``metrics`` as for ``fit``
    (default: accuracy for class targets, none otherwise).  Returns the tuple
    ``(loss, *metrics)``, so a classifier gives ``loss, acc = evaluate(...)``,
    or a dict ``{"loss": ..., "acc": ...}`` with ``return_dict=True``.  The
    model's previous mode is restored."""
    if t is None:
        x, t = _as_xy(data, "evaluate: data")
    else:
        x = np.asarray(data.data if isinstance(data, ag.Tensor) else data)
        t = np.asarray(t.data if isinstance(t, ag.Tensor) else t)
    if len(x) != len(t):
        raise ValueError(f"evaluate: {len(x)} samples but {len(t)} targets")
    metric_list = _metrics.resolve(metrics, t)
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


def _resume(checkpoint, model, optimizer, loader, randoms, epochs, callbacks):
    """Restore model, optimizer, generators, callbacks and history from ``checkpoint``; returns
    ``(history, epochs done)``.  Everything is checked before the model, optimizer or
    generators change: a checkpoint after more epochs than asked, a history that does not
    match its epoch count, generator states another kind of generator cannot take, callbacks
    other than those saved, or weights and optimizer state of another architecture are a
    ``CheckpointError`` naming the file."""
    ck = load_checkpoint(checkpoint)
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


def fit(model: Module, optimizer, train, test=None, *, val=None, epochs: int = 10, batch_size: int = 100, seed=None,
        shuffle: bool = True, drop_last: bool = False, callbacks=None, metrics=None, progress=None,
        verbose: bool = True, checkpoint=None, resume: bool = False, eval_batch_size: int = 1000, log=None,
        compile: bool = False) -> History:  # noqa: A002  (the name fit(compile=True) is asked with)
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
    """
    x_train, t_train = _as_xy(train, "fit: train")
    val_xy = None if val is None else _as_xy(val, "fit: val")
    test_xy = None if test is None else _as_xy(test, "fit: test")
    if len(x_train) == 0:
        raise ValueError("fit: the training set is empty")
    metric_list = _metrics.resolve(metrics, t_train)
    metric_names = [m.name for m in metric_list]
    if isinstance(train, DataLoader):  # used as it is: its batch size, shuffling and generator
        loader = train
    else:
        loader = DataLoader(x_train, t_train, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, rng=seed)
    if len(loader) == 0:
        raise ValueError(f"fit: no batch: {len(x_train)} samples, batch_size={batch_size}, drop_last=True")
    randoms = random_modules(model)
    if seed is not None:  # derive every Dropout generator from the seed too
        seq = np.random.SeedSequence(seed).spawn(len(randoms) + 1)[1:]
        for ss, m in zip(seq, randoms.values()):
            m.rng = np.random.default_rng(ss)
    history, start = History(), 0
    log = log or (lambda line: print(line, flush=True))
    sets = [name for name, xy in (("val", val_xy), ("test", test_xy)) if xy is not None]
    run = FitRun(model, optimizer, epochs, len(loader), history, print=log, verbose=verbose,
                 monitor_default=f"{sets[0]}_loss" if sets else "train_loss")
    cbs = CallbackList(callbacks, run)

    if checkpoint is not None and Path(checkpoint).is_dir():  # found now, not after the first epoch
        raise CheckpointError(f"{checkpoint}: is a folder, not a checkpoint file")
    if resume and checkpoint is not None and (Path(checkpoint).exists() or Path(checkpoint).is_symlink()):
        history, start = _resume(checkpoint, model, optimizer, loader, randoms, epochs, cbs)
        run.history, run.start_epoch, run.epoch = history, start, start
        if verbose:
            log(f"resumed from {checkpoint} after epoch {start}")

    show_bar = _progress_enabled(progress)
    show_lr = cbs.changes_lr()
    before_step = cbs.needs_before_step()
    step = compile_step(model) if compile else _eager_step(model)
    cbs.call("on_train_begin", {})
    for epoch in range(start, epochs):
        if run.stop_training:
            break
        run.epoch = epoch
        t0 = time.perf_counter()
        model.train()
        cbs.call("on_epoch_begin", epoch, {})
        lr = float(optimizer.lr) if hasattr(optimizer, "lr") else math.nan
        total_loss, seen = 0.0, 0
        sums = dict.fromkeys(metric_names, 0.0)
        bar = None
        if show_bar:
            from tqdm.auto import tqdm
            bar = tqdm(total=len(loader), desc=f"epoch {epoch + 1}/{epochs}", leave=True, unit="batch",
                       dynamic_ncols=True, file=sys.stderr)
        for b, (xb, tb) in enumerate(loader):
            cbs.call("on_batch_begin", b, {})
            optimizer.zero_grad()
            loss, y = step(xb, tb)  # forward, criterion, backward
            value = float(loss.item())
            if before_step:
                cbs.call("on_before_optimizer_step", b, {"loss": value})
            optimizer.step()
            nb = len(xb)
            total_loss += value * nb
            for m in metric_list:
                sums[m.name] += m(y, tb) * nb
            seen += nb
            del y, loss  # the graph holds this step's activations: drop it before the next forward
            cbs.call("on_batch_end", b, {"loss": value, "size": nb})
            if bar is not None:
                bar.update(1)
                if bar.n % 10 == 0 or bar.n == len(loader):
                    post = {"loss": f"{total_loss / seen:.4f}", **{k: f"{v / seen:.4f}" for k, v in sums.items()}}
                    bar.set_postfix(post, refresh=False)
        if not np.isfinite(total_loss):
            if bar is not None:
                bar.close()
            raise FloatingPointError(f"fit: the training loss became {total_loss / seen} in epoch {epoch + 1}; "
                                     "lower the learning rate" + (" or clip the gradients (nets.GradientClipping)"
                                                                  if not before_step else ""))
        logs = {"train_loss": total_loss / seen, **{f"train_{k}": v / seen for k, v in sums.items()}}
        for part, xy in (("val", val_xy), ("test", test_xy)):
            if xy is not None:
                scores = _eval_scores(model, *xy, metric_list, eval_batch_size)
                logs.update({f"{part}_{k}": v for k, v in scores.items()})
        logs["lr"] = lr
        logs["seconds"] = time.perf_counter() - t0
        history.record(logs)
        if bar is not None:
            bar.set_postfix({k.replace("train_", ""): f"{v:.4f}" for k, v in logs.items()
                             if k not in ("lr", "seconds")})
            bar.close()
        elif verbose:
            log(_summary(epoch, epochs, logs, sets, metric_names, show_lr))
        cbs.call("on_epoch_end", epoch, logs)
        if checkpoint is not None:
            rng_states = {"loader": loader.rng.bit_generator.state,
                          "modules": {name: m.rng.bit_generator.state for name, m in randoms.items()}}
            save_checkpoint(checkpoint, model, optimizer, epoch + 1, rng_states, history, callbacks=cbs.states())
    cbs.call("on_train_end", {})
    model.train()
    return history
