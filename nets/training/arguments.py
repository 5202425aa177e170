"""``fit``'s own argument checks, made before anything is trained: the model and optimizer,
every keyword argument (``fit_arguments``), the data (``finite_data``), and batches that
would give a batch norm layer one sample (``one_sample_batches``, which the command line
asks too).  The shared checks (``nets.util.validate``) know nothing of modules or ranks."""
from __future__ import annotations

import numpy as np

from ..distributed import World
from ..layers.basic import BatchNorm
from ..layers.module import Module
from ..util.validate import fail, flag, function, instance, integer, optional_flag, path

__all__ = ["model_argument", "fit_arguments", "finite_data", "one_sample_batches"]


def model_argument(value, name, who):
    """``value`` when it is a ``nets.Module``, else a TypeError naming ``who`` and ``name``."""
    return instance(value, Module, name, who, "a nets.Module")


def fit_arguments(model, optimizer, a: dict):
    """Check ``fit``'s arguments (``a``: its keyword arguments by name) before anything is done."""
    who = "fit"
    model_argument(model, "model", who)
    if not (callable(getattr(optimizer, "step", None)) and callable(getattr(optimizer, "zero_grad", None))):
        fail(TypeError, who, "optimizer", "an optimizer with step() and zero_grad(), e.g. nets.optim.Adam(model)",
             optimizer)
    stepped = getattr(optimizer, "params", None)
    mine = {id(p) for p in model.parameters()}
    if isinstance(stepped, list) and not any(id(p) in mine for p in stepped):
        raise ValueError(f"{who}: optimizer steps {len(stepped)} tensors, none of them the model's: make it with "
                         "this model's parameters, e.g. nets.optim.Adam(model)" if stepped else
                         f"{who}: optimizer has no parameters (it was made for update(params, grads)); make it "
                         "with the model's, e.g. nets.optim.Adam(model)")
    for name in ("epochs", "batch_size", "eval_batch_size"):
        integer(a[name], name, who)
    if a["seed"] is not None:
        integer(a["seed"], "seed", who, low=0, wanted="None or an integer >= 0")
    for name in ("shuffle", "drop_last", "verbose", "resume", "compile"):
        flag(a[name], name, who)
    optional_flag(a["progress"], "progress", who)
    callbacks = a["callbacks"]
    if callbacks is not None and not hasattr(callbacks, "on_epoch_end") and (
            isinstance(callbacks, (str, bytes)) or not hasattr(callbacks, "__iter__")):
        fail(TypeError, who, "callbacks", "None, a nets.Callback or a list of them", callbacks)
    path(a["checkpoint"], "checkpoint", who, allow_none=True, folder_ok=True)
    if a["resume"] and a["checkpoint"] is None:
        raise ValueError(f"{who}: resume=True needs checkpoint=<path>, the file to resume from")
    function(a["log"], "log", who, allow_none=True)
    if a["distributed"] is not None and not isinstance(a["distributed"], World):
        flag(a["distributed"], "distributed", who)  # (1 would pass for True in distributed's own check)


def finite_data(who, part, x, t):
    """Refuse NaN or infinite values in a data set's ``x`` or ``t``, naming the rows: one sum
    per array when every value is finite (the exact check runs only when the sum is not)."""
    for name, arr in (("x", x), ("t", t)):
        if arr.dtype.kind not in "fc" or arr.size == 0:
            continue
        with np.errstate(all="ignore"):
            if np.isfinite(np.add.reduce(arr, axis=None)):
                continue
        rows = np.flatnonzero(~np.isfinite(arr.reshape(len(arr), -1)).all(axis=1))
        if len(rows):
            shown = ", ".join(map(str, rows[:10])) + (", ..." if len(rows) > 10 else "")
            raise ValueError(f"{who}: {part}'s {name} holds NaN or infinite values in {len(rows)} "
                             f"row{'s' if len(rows) > 1 else ''} ({shown}); remove or replace them (the loss of "
                             "such a row is NaN, whatever the learning rate)")


def _shard_sizes(n, ranks):
    """The sizes of the ranks' slices of a batch of ``n`` (as ``World.shard_range`` cuts it)."""
    return {(r + 1) * n // ranks - r * n // ranks for r in range(ranks)}


def one_sample_batches(model, n, batch_size, drop_last, ranks=1, loader=False):
    """Why training ``model`` on ``n`` samples in batches of ``batch_size`` would give a batch
    norm layer one sample (a message), or None.  On several ranks a rank's slice of a batch counts."""
    names = [name or "<root>" for name, m in model.named_modules() if isinstance(m, BatchNorm)]
    if not names:
        return None
    last = n % batch_size if not drop_last else 0
    sizes = ({batch_size} if n >= batch_size else set()) | ({last} if last else set())
    if not any(1 in _shard_sizes(size, ranks) for size in sizes):
        return None
    what = ("every batch" if batch_size == 1 else "the last batch of each epoch" if last == 1 and ranks == 1
            else f"a rank's share of a batch on {ranks} ranks")
    fix = ("drop_last=True or another batch_size" if batch_size > 1 else "a batch_size of 2 or more")
    return (f"the model has batch normalization ({', '.join(names)}), and {what} would hold 1 sample ({n} samples, "
            f"batch_size={batch_size}): the statistics of one sample are undefined in training (PyTorch raises "
            f"'Expected more than 1 value per channel when training'); "
            f"{'make the DataLoader with ' if loader else 'pass '}{fix}")
