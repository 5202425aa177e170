"""Saving and loading models and training checkpoints as ``.npz`` files.

    model.save("runs/digits/model.npz")
    model = nets.load("runs/digits/model.npz")     # rebuilt from the stored architecture

A file holds plain arrays only (``np.load(..., allow_pickle=False)``):

* ``__nets__``: a JSON string: format version, kind ("model" or
  "training"), the architecture ``config`` (see ``Module.config``), dtype;
* ``model/<name>``: every parameter and buffer (``state_dict``);
* training checkpoints add ``optim/<i>.<slot>`` arrays and a JSON
  ``__training__`` (epoch, optimizer type and hyper-parameters, random
  generator states, history).

Every write is atomic: the data goes to a temporary file in the same folder,
is flushed and fsync'ed, then ``os.replace``s the target, so a crash
mid-save never leaves a broken file where a good one was.
"""
from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .module import Module, from_config

__all__ = ["CheckpointError", "atomic_write", "save_model", "load", "load_state", "save_checkpoint",
           "load_checkpoint", "FORMAT"]

FORMAT = 1


class CheckpointError(ValueError):
    """A checkpoint file is missing, unreadable or does not fit; the message names the file."""


def atomic_write(path, write):
    """Call ``write(f)`` on a temporary binary file next to ``path``, fsync it,
    then atomically replace ``path``.  On any error the temporary file is
    removed and ``path`` is left as it was."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:  # make the rename itself durable
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass
    return path


def _json_array(obj) -> np.ndarray:
    return np.array(json.dumps(obj))


def _model_arrays(model: Module) -> tuple[dict, dict]:
    try:
        config = model.config()
    except NotImplementedError:
        config = None
    meta = {"format": FORMAT, "class": type(model).__name__, "config": config, "dtype": str(model.dtype)}
    arrays = {f"model/{k}": v for k, v in model.state_dict().items()}
    return meta, arrays


def _write_npz(path, arrays):
    atomic_write(path, lambda f: np.savez(f, **arrays))


def save_model(model: Module, path):
    """Write ``model``'s architecture and weights to ``path`` (atomically)."""
    meta, arrays = _model_arrays(model)
    meta["kind"] = "model"
    arrays["__nets__"] = _json_array(meta)
    _write_npz(path, arrays)
    return path


def _open(path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint file not found")
    try:
        z = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise CheckpointError(f"{path}: unreadable checkpoint: {exc}") from None
    if not hasattr(z, "files"):  # a bare .npy array
        raise CheckpointError(f"{path}: not a nets checkpoint (not an .npz archive)")
    try:
        with z:
            data = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise CheckpointError(f"{path}: unreadable checkpoint: {exc}") from None
    if "__nets__" not in data:
        raise CheckpointError(f"{path}: not a nets checkpoint (no __nets__ entry)")
    try:
        data["__nets__"] = json.loads(str(data["__nets__"]))
        if "__training__" in data:
            data["__training__"] = json.loads(str(data["__training__"]))
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{path}: corrupt metadata: {exc}") from None
    return data


def load_state(path) -> dict:
    """The model arrays (``state_dict``) stored in ``path``, by name, without
    rebuilding a model: ``my_net.load_state_dict(nets.load_state(path))``."""
    data = _open(path)
    return {k[len("model/"):]: v for k, v in data.items() if k.startswith("model/")}


def load(path) -> Module:
    """Rebuild the model saved in ``path`` (by ``model.save`` or ``fit``'s
    checkpoints): architecture, dtype and weights."""
    data = _open(path)
    meta = data["__nets__"]
    config = meta.get("config")
    if config is None:
        raise CheckpointError(f"{path}: holds no architecture (saved from {meta.get('class')}, which defines no "
                              "config()); build that model and call model.load_state_dict(nets.load_state(path))")
    try:
        model = from_config(config)
    except (ValueError, TypeError) as exc:
        raise CheckpointError(f"{path}: cannot rebuild the model: {exc}") from None
    model.astype(meta.get("dtype", "float32"))
    state = {k[len("model/"):]: v for k, v in data.items() if k.startswith("model/")}
    try:
        model.load_state_dict(state)
    except KeyError as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    return model


def save_checkpoint(path, model: Module, optimizer=None, epoch: int = 0, rng_states=None, history=None):
    """Write a training checkpoint (model, optimizer state, epoch, generator
    states, history) to ``path`` atomically.  ``nets.load`` reads its model."""
    meta, arrays = _model_arrays(model)
    meta["kind"] = "training"
    training = {"epoch": int(epoch), "rng": rng_states or {}, "history": None if history is None else history.to_dict()}
    if optimizer is not None:
        sd = optimizer.state_dict()
        training["optimizer"] = {k: v for k, v in sd.items() if k != "state"}
        arrays.update({f"optim/{k}": v for k, v in sd["state"].items()})
    arrays["__nets__"] = _json_array(meta)
    arrays["__training__"] = _json_array(training)
    _write_npz(path, arrays)
    return path


def load_checkpoint(path) -> dict:
    """Read a training checkpoint: ``{"model_state", "optimizer_state" (or None),
    "epoch", "rng", "history" (a dict or None), "config"}``."""
    data = _open(path)
    training = data.get("__training__")
    if training is None:
        raise CheckpointError(f"{path}: a model file, not a training checkpoint (no optimizer state or epoch)")
    opt = training.get("optimizer")
    if opt is not None:
        opt = dict(opt, state={k[len("optim/"):]: v for k, v in data.items() if k.startswith("optim/")})
    return {"model_state": {k[len("model/"):]: v for k, v in data.items() if k.startswith("model/")},
            "optimizer_state": opt, "epoch": int(training["epoch"]), "rng": training.get("rng", {}),
            "history": training.get("history"), "config": data["__nets__"].get("config")}
