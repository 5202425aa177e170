"""``History``: the per-epoch logs ``fit`` returns, and ``plot_history`` of them.

    history.test_acc[-1]; history["val_loss"]; len(history)     # epochs
    history.to_json("history.json"); History.from_json("history.json")
    history.plot("curves.png")                                   # or a Figure in a notebook
"""
from __future__ import annotations

import html
import json
import math
import numbers
import sys
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..io.checkpoint_schema import HISTORY_NAME

__all__ = ["History", "plot_history"]

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
        if logs is not None and not isinstance(logs, Mapping):
            raise TypeError(f"History: logs must be None or a dict log name -> list of numbers, got {logs!r:.80}")
        for name, values in (logs or {}).items():
            self.logs[_log_name(name, "logs")] = _numbers(f"logs[{name!r}]", values)
        for name, values in lists.items():
            self.logs[_log_name(name)] = _numbers(name, values)

    def __getattr__(self, name):
        logs = self.__dict__.get("logs")
        if logs is not None and name in logs:
            return logs[name]
        raise AttributeError(f"History has no {name!r} (it holds {', '.join(logs or ())})")

    def __setattr__(self, name, value):
        if name in self.__dict__.get("logs", {}) or _LOG_NAME.match(name):
            self.logs[name] = _numbers(name, value)
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


def _log_name(name, where=None):
    if not isinstance(name, str) or not _LOG_NAME.match(name):
        raise ValueError(f"History: {where + ' key ' if where else ''}{name!r} is not a log name: train_<name>, "
                         "val_<name> or test_<name> (lower-case letters, digits and _), lr or seconds")
    return name


def _numbers(name, values):
    """A log's values as floats (NaN allowed: an epoch where it was not measured)."""
    if isinstance(values, np.ndarray):
        values = values.tolist()
    if not isinstance(values, (list, tuple)) or not all(
            isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) for v in values):
        raise TypeError(f"History: {name} must be a list of numbers (one per epoch), got {values!r:.80}")
    return [float(v) for v in values]


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


def _need_matplotlib():
    """matplotlib is an optional dependency (the ``nets`` extra): without it, say what to install."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ModuleNotFoundError("History.plot / nets.plot_history draws with matplotlib, which is not installed: "
                                  "pip install matplotlib (or pip install -e '.[nets]'); the numbers are in the "
                                  "History itself (history.to_json(path), history.train_loss...)",
                                  name="matplotlib") from None


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
    _need_matplotlib()
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
