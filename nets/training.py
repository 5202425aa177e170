"""Training: ``fit``, ``evaluate`` and the per-epoch ``History``.

    model = nets.MultiLayerNet([64, 128, 64, 10])
    opt = nets.optim.Adam(model.parameters(), lr=1e-3)
    history = nets.fit(model, opt, (x_train, t_train), (x_test, t_test), epochs=30, batch_size=32, seed=0)
    history.test_acc[-1]                  # accuracy after the last epoch
    history.to_json("history.json")

With ``checkpoint="run/ckpt.npz"`` fit saves model, optimizer state, epoch,
random generator states and history after every epoch; with ``resume=True``
it continues from that file, and the result is identical to an
uninterrupted run (same seed, same final epoch count).  A checkpoint saved
after more epochs than asked, or one that does not fit the model, optimizer
or generators, is a ``CheckpointError`` before anything is trained.
"""
from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

import autograd_np as ag

from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .compiled import compile_step
from .data import DataLoader
from .module import Module, StateDictError, accuracy as _accuracy

__all__ = ["History", "fit", "evaluate", "plot_history"]


@dataclass
class History:
    """Per-epoch metrics: ``train_loss``, ``train_acc``, ``test_loss``,
    ``test_acc`` (empty lists when there is no test set) and ``seconds``."""

    train_loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    test_loss: list = field(default_factory=list)
    test_acc: list = field(default_factory=list)
    seconds: list = field(default_factory=list)

    def __len__(self):
        return len(self.train_loss)

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    def append(self, train_loss, train_acc, test_loss=None, test_acc=None, seconds=None):
        self.train_loss.append(float(train_loss))
        self.train_acc.append(float(train_acc))
        if test_loss is not None:
            self.test_loss.append(float(test_loss))
            self.test_acc.append(float(test_acc))
        if seconds is not None:
            self.seconds.append(float(seconds))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "History":
        known = {k: [float(v) for v in d.get(k, [])] for k in cls.__dataclass_fields__}
        return cls(**known)

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

    def plot(self, path):
        """Save loss and accuracy curves to ``path`` (e.g. curves.png)."""
        return plot_history(self, path)


def plot_history(history: History, path):
    """Loss (left) and accuracy (right) per epoch, train and test, saved to ``path``."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    epochs = np.arange(1, len(history) + 1)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.plot(epochs, history.train_loss, "o-", label="train")
    ax2.plot(epochs, history.train_acc, "o-", label="train")
    if history.test_loss:
        ax1.plot(epochs[:len(history.test_loss)], history.test_loss, "s-", label="test")
        ax2.plot(epochs[:len(history.test_acc)], history.test_acc, "s-", label="test")
    ax1.set(xlabel="epoch", ylabel="loss", title="loss")
    ax2.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _as_xy(data, name):
    if isinstance(data, DataLoader):
        return data.x, data.t
    try:
        x, t = data
    except (TypeError, ValueError):
        raise TypeError(f"fit: {name} must be a pair (x, t) of arrays or a DataLoader") from None
    return np.asarray(x), np.asarray(t)


def evaluate(model: Module, x, t, batch_size: int = 1000) -> tuple[float, float]:
    """``(loss, accuracy)`` of ``model`` on ``(x, t)`` in eval mode, under no_grad,
    in batches.  The model's previous mode is restored."""
    was_training = model.training
    model.eval()
    total_loss, correct, n = 0.0, 0.0, len(x)
    try:
        with ag.no_grad():
            for lo in range(0, n, batch_size):
                xb, tb = x[lo:lo + batch_size], t[lo:lo + batch_size]
                y = model(xb)
                total_loss += float(model.criterion(y, tb).item()) * len(xb)
                correct += _accuracy(y, tb) * len(xb)
    finally:
        model.train(was_training)
    return total_loss / max(n, 1), correct / max(n, 1)


def _random_modules(model):
    """Sub-modules owning a numpy Generator ``rng`` (e.g. Dropout), by name."""
    return {name or "<root>": m for name, m in model.named_modules()
            if isinstance(getattr(m, "rng", None), np.random.Generator)}


def _progress_enabled(progress):
    if progress is not None:
        return bool(progress)
    return sys.stderr.isatty()


def _resume(checkpoint, model, optimizer, loader, randoms, epochs):
    """Restore model, optimizer, generators and history from ``checkpoint``; returns
    ``(history, epochs done)``.  Everything is checked before anything changes: a checkpoint
    after more epochs than asked, a history that does not match its epoch count, generator
    states another kind of generator cannot take, or weights and optimizer state of another
    architecture are a ``CheckpointError`` naming the file."""
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


def fit(model: Module, optimizer, train, test=None, *, epochs: int = 10, batch_size: int = 100, seed=None,
        shuffle: bool = True, drop_last: bool = False, progress=None, verbose: bool = True,
        checkpoint=None, resume: bool = False, eval_batch_size: int = 1000, log=None,
        compile: bool = False) -> History:  # noqa: A002  (the name fit(compile=True) is asked with)
    """Train ``model`` with ``optimizer`` for ``epochs`` epochs and return the ``History``.

    ``train`` is an ``(x, t)`` pair of arrays (batched with ``batch_size``,
    ``shuffle``, ``drop_last``) or a ``DataLoader`` (used as it is); ``test``
    is a pair (or a DataLoader, whose arrays are used).  Each epoch:
    mini-batches shuffled by a generator seeded with ``seed`` (Dropout
    generators are seeded from it too, so a seed makes the run reproducible),
    forward + ``model.criterion`` + backward + step, then evaluation on
    ``test`` in eval mode under no_grad.  The reported losses include the
    model's ``regularization()`` (e.g. weight decay).

    ``progress``: a tqdm bar per epoch showing loss and accuracy (default: only
    when stderr is a terminal).  ``verbose``: print one summary line per epoch
    (to ``log``, default stdout) when there is no bar.  ``checkpoint``: a path
    written (atomically) after every epoch; ``resume=True`` continues from it
    when it exists, up to ``epochs`` epochs in total.  ``compile=True``: each
    training step runs compiled (``nets.compile_step``, ``ag.compile``): the
    same numbers as eager, faster once traced (from the third batch of a shape).
    """
    x_train, t_train = _as_xy(train, "train")
    test_xy = None if test is None else _as_xy(test, "test")
    if len(x_train) == 0:
        raise ValueError("fit: the training set is empty")
    if isinstance(train, DataLoader):  # used as it is: its batch size, shuffling and generator
        loader = train
    else:
        loader = DataLoader(x_train, t_train, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, rng=seed)
    if len(loader) == 0:
        raise ValueError(f"fit: no batch: {len(x_train)} samples, batch_size={batch_size}, drop_last=True")
    randoms = _random_modules(model)
    if seed is not None:  # derive every Dropout generator from the seed too
        seq = np.random.SeedSequence(seed).spawn(len(randoms) + 1)[1:]
        for ss, m in zip(seq, randoms.values()):
            m.rng = np.random.default_rng(ss)
    history, start = History(), 0
    log = log or (lambda line: print(line, flush=True))

    if checkpoint is not None and Path(checkpoint).is_dir():  # found now, not after the first epoch
        raise CheckpointError(f"{checkpoint}: is a folder, not a checkpoint file")
    if resume and checkpoint is not None and (Path(checkpoint).exists() or Path(checkpoint).is_symlink()):
        history, start = _resume(checkpoint, model, optimizer, loader, randoms, epochs)
        if verbose:
            log(f"resumed from {checkpoint} after epoch {start}")

    show_bar = _progress_enabled(progress)
    step = compile_step(model) if compile else _eager_step(model)
    for epoch in range(start, epochs):
        t0 = time.perf_counter()
        model.train()
        total_loss = total_correct = 0.0
        seen = 0
        bar = None
        if show_bar:
            from tqdm import tqdm
            bar = tqdm(total=len(loader), desc=f"epoch {epoch + 1}/{epochs}", leave=True, unit="batch",
                       dynamic_ncols=True, file=sys.stderr)
        for xb, tb in loader:
            optimizer.zero_grad()
            loss, y = step(xb, tb)  # forward, criterion, backward
            optimizer.step()
            nb = len(xb)
            total_loss += float(loss.item()) * nb
            total_correct += _accuracy(y, tb) * nb
            seen += nb
            del y, loss  # the graph holds this step's activations: drop it before the next forward
            if bar is not None:
                bar.update(1)
                if bar.n % 10 == 0 or bar.n == len(loader):
                    bar.set_postfix(loss=f"{total_loss / seen:.4f}", acc=f"{total_correct / seen:.4f}", refresh=False)
        if not np.isfinite(total_loss):
            if bar is not None:
                bar.close()
            raise FloatingPointError(f"fit: the training loss became {total_loss / seen} in epoch {epoch + 1}; "
                                     "lower the learning rate")
        train_loss, train_acc = total_loss / seen, total_correct / seen
        test_loss = test_acc = None
        if test_xy is not None:
            test_loss, test_acc = evaluate(model, *test_xy, batch_size=eval_batch_size)
        history.append(train_loss, train_acc, test_loss, test_acc, time.perf_counter() - t0)
        summary = f"epoch {epoch + 1}/{epochs}: loss {train_loss:.4f} acc {train_acc:.4f}"
        if test_xy is not None:
            summary += f" | test loss {test_loss:.4f} acc {test_acc:.4f}"
        summary += f" ({history.seconds[-1]:.1f}s)"
        if bar is not None:
            post = {"loss": f"{train_loss:.4f}", "acc": f"{train_acc:.4f}"}
            if test_xy is not None:
                post.update(test_loss=f"{test_loss:.4f}", test_acc=f"{test_acc:.4f}")
            bar.set_postfix(post)
            bar.close()
        elif verbose:
            log(summary)
        if checkpoint is not None:
            rng_states = {"loader": loader.rng.bit_generator.state,
                          "modules": {name: m.rng.bit_generator.state for name, m in randoms.items()}}
            save_checkpoint(checkpoint, model, optimizer, epoch + 1, rng_states, history)
    model.train()
    return history
