"""Saving and loading models and training checkpoints as ``.npz`` files.

    model.save("runs/digits/model.npz")
    model = nets.load("runs/digits/model.npz")     # rebuilt from the stored architecture

A file holds plain arrays only, and is never unpickled:

* ``__nets__``: a JSON string: format version, kind ("model" or
  "training"), class name, the architecture ``config`` (see
  ``Module.config``), dtype;
* ``model/<name>``: every parameter and buffer (``state_dict``);
* training checkpoints add ``optim/<i>.<slot>`` arrays and a JSON
  ``__training__`` (epoch, optimizer type and hyper-parameters, random
  generator states, history, the callbacks' states), and
  ``callback/<i>.<j>`` for the arrays of callback ``i``'s state (early
  stopping's best weights).

Loading trusts nothing in the file (``nets.io.checkpoint_format`` reads the
archive, ``nets.io.checkpoint_schema`` checks the metadata): every member must be
a real ``.npy`` array of numbers whose header fits its size, every metadata
field is checked for type and range (the dtype must be float16, float32 or
float64), and an architecture may not declare more numbers than the file's
arrays hold, so no allocation is larger than the file justifies.  Every
problem is a ``CheckpointError`` naming the file (and the field or member).

Every write is atomic (``nets.io.checkpoint_atomic``): the data goes to a new
file in the same folder (with no name until it is complete, on Linux), is
flushed and fsync'ed, then ``os.replace``s the target, so a crash mid-save
never leaves a broken file where a good one was.  A temporary left behind by
a killed process is removed by the next save or load in that folder
(``remove_stale_temporaries``).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from .checkpoint_atomic import STALE_AFTER, atomic_write, remove_stale_temporaries
from .checkpoint_format import CheckpointError, open_regular, read_archive
from .checkpoint_schema import Bad, check_meta, check_training, config_size, fail, parse_json
from ..layers import Module, from_config
from ..layers.registry import set_model_writer

__all__ = ["CheckpointError", "atomic_write", "remove_stale_temporaries", "save_model", "load", "load_state",
           "save_checkpoint", "load_checkpoint", "FORMAT", "STALE_AFTER"]

FORMAT = 1
_OPTIM_KEY = re.compile(r"(0|[1-9][0-9]{0,8})\.([A-Za-z_][A-Za-z0-9_]{0,63})\Z")
_CALLBACK_KEY = re.compile(r"(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})\Z")
_BUILD_ERRORS = (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError, RecursionError,
                 MemoryError)


# --- writing ---------------------------------------------------------------------------------

def _json_array(obj):
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
    """Write ``model``'s architecture and weights to ``path`` (atomically).

    The metadata is checked as ``load`` checks it, so a file that load would
    refuse is never written (e.g. a float128 model: CheckpointError)."""
    meta, arrays = _model_arrays(model)
    meta["kind"] = "model"
    _check(path, check_meta, meta)
    arrays["__nets__"] = _json_array(meta)
    _write_npz(path, arrays)
    return path


set_model_writer(save_model)  # Module.save writes with it (the layers do not import this module)


def _split_arrays(value, arrays, prefix):
    """``value`` with every NumPy array replaced by ``{"__array__": j}``; the arrays go into
    ``arrays`` as ``<prefix>.<j>`` (j counting from 0)."""
    if isinstance(value, np.ndarray):
        j = sum(1 for k in arrays if k.startswith(prefix + "."))
        arrays[f"{prefix}.{j}"] = value
        return {"__array__": j}
    if isinstance(value, dict):
        return {str(k): _split_arrays(v, arrays, prefix) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_split_arrays(v, arrays, prefix) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _join_arrays(value, arrays, path, where):
    """The inverse of ``_split_arrays``: placeholders replaced by the members they name."""
    if isinstance(value, dict):
        if set(value) == {"__array__"}:
            j = value["__array__"]
            key = f"{where}.{j}"
            if key not in arrays:
                raise CheckpointError(f"{path}: field '{where}': names the array {j}, but the file has no "
                                      f"member {key + '.npy'!r}")
            return arrays.pop(key)
        return {k: _join_arrays(v, arrays, path, where) for k, v in value.items()}
    if isinstance(value, list):
        return [_join_arrays(v, arrays, path, where) for v in value]
    return value


def save_checkpoint(path, model: Module, optimizer=None, epoch: int = 0, rng_states=None, history=None,
                    callbacks=None):
    """Write a training checkpoint (model, optimizer state, epoch, generator
    states, history, callback states) to ``path`` atomically.  ``nets.load``
    reads its model.  ``callbacks`` is ``[(type name, state), ...]`` (see
    ``nets.callbacks``): JSON values, with NumPy arrays stored as members
    ``callback/<i>.<j>``."""
    meta, arrays = _model_arrays(model)
    meta["kind"] = "training"
    training = {"epoch": epoch, "rng": rng_states or {}, "history": None if history is None else history.to_dict()}
    if optimizer is not None:
        sd = optimizer.state_dict()
        training["optimizer"] = {k: v for k, v in sd.items() if k != "state"}
        arrays.update({f"optim/{k}": v for k, v in sd["state"].items()})
    if callbacks:
        training["callbacks"] = [{"type": kind, "state": _split_arrays(state, arrays, f"callback/{i}")}
                                 for i, (kind, state) in enumerate(callbacks)]
    _check(path, check_meta, meta)
    _check(path, check_training, training)
    arrays["__nets__"] = _json_array(meta)
    arrays["__training__"] = _json_array(training)
    _write_npz(path, arrays)
    return path


def _check(path, check, value):
    try:
        check(value)
    except Bad as bad:
        fail(path, bad)


# --- reading ---------------------------------------------------------------------------------

def _open(path, data: bytes | None = None) -> dict:
    """The checked contents of ``path`` (or of its bytes ``data``, read elsewhere):
    ``{"meta", "training" (or None), "model", "optim"}``."""
    path = Path(path)
    if data is None:
        remove_stale_temporaries(path)
    members = read_archive(path, data)
    if "__nets__" not in members:
        raise CheckpointError(f"{path}: not a nets checkpoint (no __nets__ entry)")
    meta = parse_json(path, "__nets__", members.pop("__nets__"))
    _check(path, check_meta, meta)
    training = None
    if "__training__" in members:
        training = parse_json(path, "__training__", members.pop("__training__"))
        _check(path, check_training, training)
    if (meta["kind"] == "training") != (training is not None):
        raise CheckpointError(f"{path}: field 'kind': {meta['kind']!r}, but the file "
                              f"{'has no' if training is None else 'has a'} __training__ member")
    model_state, optim_state, callback_arrays = {}, {}, {}
    optimizer = (training or {}).get("optimizer")
    saved_callbacks = (training or {}).get("callbacks") or []
    for name, array in members.items():
        if name.startswith("model/") and len(name) > len("model/"):
            model_state[name[len("model/"):]] = array
            continue
        c = _CALLBACK_KEY.match(name[len("callback/"):]) if name.startswith("callback/") else None
        if c is not None:
            if int(c[1]) >= len(saved_callbacks):
                raise CheckpointError(f"{path}: member {name + '.npy'!r}: callback index {c[1]} but field "
                                      f"'callbacks' lists {len(saved_callbacks)}")
            callback_arrays[name] = array
            continue
        m = _OPTIM_KEY.match(name[len("optim/"):]) if name.startswith("optim/") else None
        if m is None:
            raise CheckpointError(f"{path}: member {name + '.npy'!r}: unexpected (neither model/<name>, "
                                  "optim/<index>.<slot> nor metadata)")
        if optimizer is None:
            raise CheckpointError(f"{path}: member {name + '.npy'!r}: optimizer state without an 'optimizer' field")
        if int(m[1]) >= optimizer["n_params"]:
            raise CheckpointError(f"{path}: member {name + '.npy'!r}: parameter index {m[1]} but field "
                                  f"'optimizer.n_params' is {optimizer['n_params']}")
        if array.dtype.kind != "f":
            raise CheckpointError(f"{path}: member {name + '.npy'!r}: optimizer state of dtype {array.dtype} "
                                  "(expected floating)")
        optim_state[name[len("optim/"):]] = array
    callbacks = []
    for i, entry in enumerate(saved_callbacks):
        callbacks.append((entry["type"], _join_arrays(entry["state"], callback_arrays, path, f"callback/{i}")))
    if callback_arrays:
        extra = sorted(callback_arrays)[0]
        raise CheckpointError(f"{path}: member {extra + '.npy'!r}: no callback state names it")
    return {"meta": meta, "training": training, "model": model_state, "optim": optim_state, "callbacks": callbacks}


def checkpoint_bytes(path) -> bytes:
    """The bytes of the checkpoint file at ``path`` (a regular, non-empty file), to parse
    with ``load_checkpoint(path, data)`` here or on another rank."""
    path = Path(path)
    remove_stale_temporaries(path)
    f, _ = open_regular(path)
    with f:
        return f.read()


def load_state(path) -> dict:
    """The model arrays (``state_dict``) stored in ``path``, by name, without
    rebuilding a model: ``my_net.load_state_dict(nets.load_state(path))``."""
    return _open(path)["model"]


def load(path) -> Module:
    """Rebuild the model saved in ``path`` (by ``model.save`` or ``fit``'s
    checkpoints): architecture, dtype and weights."""
    contents = _open(path)
    meta, state = contents["meta"], contents["model"]
    config = meta["config"]
    if config is None:
        raise CheckpointError(f"{path}: holds no architecture (saved from {meta['class']}, which defines no "
                              "config()); build that model and call model.load_state_dict(nets.load_state(path))")
    need, held = config_size(config), sum(int(a.size) for a in state.values())
    if need is not None and need > held:  # checked before anything is allocated
        raise CheckpointError(f"{path}: field 'config': the architecture needs {need} numbers but the file's "
                              f"model arrays hold {held}")
    try:
        model = from_config(config)
    except _BUILD_ERRORS as exc:
        raise CheckpointError(f"{path}: cannot rebuild the model: {exc}") from None
    model.astype(meta["dtype"])
    try:
        model.load_state_dict(state)
    except (KeyError, ValueError, TypeError) as exc:
        raise CheckpointError(f"{path}: {exc}") from None
    return model


def load_checkpoint(path, data: bytes | None = None) -> dict:
    """Read a training checkpoint: ``{"model_state", "optimizer_state" (or None),
    "epoch", "rng", "history" (a dict or None), "callbacks" (``[(type, state)]``),
    "config"}``, every field checked.  ``data``: the file's bytes, when they were
    read elsewhere (fit's rank 0 reads them for every rank); ``path`` names them."""
    contents = _open(path, data)
    training = contents["training"]
    if training is None:
        raise CheckpointError(f"{path}: a model file, not a training checkpoint (no optimizer state or epoch)")
    opt = training.get("optimizer")
    if opt is not None:
        opt = dict(opt, state=contents["optim"])
    return {"model_state": contents["model"], "optimizer_state": opt, "epoch": training["epoch"],
            "rng": training["rng"], "history": training["history"], "callbacks": contents["callbacks"],
            "config": contents["meta"]["config"]}
