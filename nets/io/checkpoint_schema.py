"""The schema of a checkpoint's JSON metadata, checked field by field before anything is built.

``parse_json`` reads a JSON member with its nesting depth bounded (so no
``RecursionError``) and duplicate keys refused.  ``check_meta`` and
``check_training`` validate ``__nets__`` and ``__training__`` (history
lists named ``train_*``, ``val_*``, ``test_*``, ``lr`` or ``seconds``, all
as long as ``train_loss``; callback states as JSON with array
placeholders); each problem is
a ``CheckpointError`` naming the file and the field, e.g.

    runs/x/checkpoint.npz: field 'dtype': 'int8' is not a floating dtype (float16, float32, float64)

``config_size(config)`` checks an architecture against the schemas the ``nets``
layers and models declare for themselves (``nets.layers.registry``: type, range
and type of every argument; this module imports no layer or model) and returns how many numbers
its parameters and buffers hold, so that ``nets.load`` can refuse a config
that declares more than the file's arrays hold before allocating anything.
Architectures registered by the user (``@nets.register``) are checked for
structure only; their constructors get the values as they are.
"""
from __future__ import annotations

import json
import math
import re

import numpy as np

from ..layers.registry import REGISTRY, SCHEMAS
from ..util.fields import (MAX_LAYERS, MAX_NAME, Bad, array_of, integer, is_int, is_number, mapping, number,
                           shown as _shown, text)
from .checkpoint_format import CheckpointError

__all__ = ["parse_json", "check_meta", "check_training", "config_size", "fail", "Bad", "FLOAT_DTYPES",
           "MAX_JSON_DEPTH", "MAX_EPOCHS", "HISTORY_NAME"]

FORMAT = 1
FLOAT_DTYPES = ("float16", "float32", "float64")
MAX_JSON_DEPTH = 64
MAX_EPOCHS = 10 ** 7          # an epoch count or a history's length
PCG_NAMES = ("PCG64", "PCG64DXSM")
_HISTORY_FIELDS = ("train_loss", "train_acc", "test_loss", "test_acc", "seconds")  # always there; fit adds more
HISTORY_NAME = re.compile(r"(?:train|val|test)_[a-z][a-z0-9_]{0,63}\Z|lr\Z|seconds\Z")
MAX_HISTORY_FIELDS = 256
MAX_CALLBACK_FIELDS = 100_000
_STRUCTURE = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def fail(path, bad: Bad):
    raise CheckpointError(f"{path}: field '{bad.field}': {bad.problem}") from None


def _no_duplicates(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"key {k!r} appears twice")
        out[k] = v
    return out


def parse_json(path, member, array):
    """The JSON value held by the 0-d string array ``array`` (member ``member`` of ``path``)."""
    try:
        text = str(array[()])
    except (ValueError, UnicodeError, OverflowError) as exc:
        raise CheckpointError(f"{path}: member '{member}': not valid text ({exc})") from None
    depth = deepest = 0
    for token in _STRUCTURE.findall(text):  # strings are skipped whole, brackets counted
        if token in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif token in "]}":
            depth -= 1
    if deepest > MAX_JSON_DEPTH:
        raise CheckpointError(f"{path}: member '{member}': JSON nested {deepest} levels deep, more than "
                              f"{MAX_JSON_DEPTH}")
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, too many digits, a duplicate key
        raise CheckpointError(f"{path}: corrupt metadata in '{member}': {exc}") from None


# --- __nets__ ------------------------------------------------------------------------------

def check_meta(meta):
    """``__nets__``: format, kind, class, config (None or an architecture), dtype."""
    mapping(meta, "", required=("format", "kind", "class", "config", "dtype"))
    if not is_int(meta["format"]) or meta["format"] != FORMAT:
        raise Bad("format", f"{_shown(meta['format'])} is not a format this version reads ({FORMAT})")
    text(meta["kind"], "kind", choices=("model", "training"))
    text(meta["class"], "class")
    dtype = meta["dtype"]
    if not isinstance(dtype, str) or dtype not in FLOAT_DTYPES:
        raise Bad("dtype", f"{_shown(dtype)} is not a floating dtype ({', '.join(FLOAT_DTYPES)})")
    if meta["config"] is not None:
        config_size(meta["config"], "config")


def config_size(config, field="config"):
    """Check ``config`` (an architecture made by ``Module.config()``) and return the number of
    parameter and buffer elements it builds; None when it contains a user-registered type
    (whose arguments cannot be checked here).  The types and their schemas are the layers' and
    models' own (``nets.layers.registry``: ``REGISTRY`` and ``SCHEMAS``).  Raises ``Bad``."""
    if not isinstance(config, dict):
        raise Bad(field, f"{_shown(config)} is not an object")
    if "type" not in config:
        raise Bad(f"{field}.type", "missing")
    kind = text(config["type"], f"{field}.type")
    cls = None if kind.startswith("_") else REGISTRY.get(kind)  # _Activation and the like are not models
    if cls is None:
        known = ", ".join(sorted(k for k in REGISTRY if not k.startswith("_")))
        raise Bad(f"{field}.type", f"unknown architecture type {_shown(kind)} (known: {known}; "
                                   "register a custom Module with @nets.register)")
    schema = SCHEMAS.get(cls)
    if schema is None:  # registered by the user: structure only
        return None
    args = {k: v for k, v in config.items() if k != "type"}
    mapping(args, field, required=tuple(schema.required), optional=tuple(schema.optional))
    for name, check in {**schema.required, **schema.optional}.items():
        if name in args:
            check(args[name], f"{field}.{name}")
    if schema.children is not None:  # a container (Sequential): what its children hold
        total = 0
        for i, child in enumerate(args[schema.children]):
            n = config_size(child, f"{field}.{schema.children}[{i}]")
            total = None if n is None or total is None else total + n
        return total
    try:
        return schema.size(args)
    except Bad as bad:
        raise Bad(f"{field}.{bad.field}", bad.problem) from None


# --- __training__ --------------------------------------------------------------------------

def _pcg_state(v, field):
    """A PCG64 bit generator state, exactly as numpy writes it."""
    mapping(v, field, required=("bit_generator", "state", "has_uint32", "uinteger"))
    text(v["bit_generator"], f"{field}.bit_generator", choices=PCG_NAMES)
    inner = mapping(v["state"], f"{field}.state", required=("state", "inc"))
    integer(inner["state"], f"{field}.state.state", 0, 2 ** 128 - 1)
    integer(inner["inc"], f"{field}.state.inc", 0, 2 ** 128 - 1)
    if inner["inc"] % 2 == 0:
        raise Bad(f"{field}.state.inc", "must be odd (numpy's PCG64 increments always are)")
    integer(v["has_uint32"], f"{field}.has_uint32", 0, 1)
    integer(v["uinteger"], f"{field}.uinteger", 0, 2 ** 32 - 1)
    try:  # numpy has the last word
        getattr(np.random, v["bit_generator"])().state = v
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        raise Bad(field, f"numpy refuses this generator state: {exc}") from None
    return v


def _history_value(v, field):
    if not is_number(v) or math.isinf(v):
        raise Bad(field, f"{_shown(v)} is not a finite number (or NaN)")
    return v


def _optimizer(v, field):
    mapping(v, field, required=("type", "hyper", "t", "n_params"))
    text(v["type"], f"{field}.type")
    integer(v["t"], f"{field}.t", 0, 2 ** 62)
    integer(v["n_params"], f"{field}.n_params", 0, 10 ** 8)
    hyper = v["hyper"]
    if not isinstance(hyper, dict):
        raise Bad(f"{field}.hyper", f"{_shown(hyper)} is not an object")
    if len(hyper) > 64:
        raise Bad(f"{field}.hyper", f"{len(hyper)} hyper-parameters, more than 64")
    ranges = {"lr": dict(lo=0.0, lo_open=True), "weight_decay": dict(lo=0.0), "eps": dict(lo=0.0),
              "beta1": dict(lo=0.0, hi=1.0, hi_open=True), "beta2": dict(lo=0.0, hi=1.0, hi_open=True),
              "decay_rate": dict(lo=0.0, hi=1.0), "momentum": dict(lo=0.0, hi=1.0)}
    for name, value in hyper.items():
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,63}", name):
            raise Bad(f"{field}.hyper", f"{_shown(name)} is not a hyper-parameter name")
        number(value, f"{field}.hyper.{name}", **ranges.get(name, {}))
    return v


def _callback_state(v, field):
    """A callback's state: JSON values; ``{"__array__": j}`` stands for the member ``callback/<i>.<j>``."""
    if isinstance(v, dict):
        if "__array__" in v:
            if set(v) != {"__array__"}:
                raise Bad(field, "an array placeholder has other fields")
            integer(v["__array__"], f"{field}.__array__", 0, 10 ** 8)
            return v
        if len(v) > MAX_CALLBACK_FIELDS:
            raise Bad(field, f"{len(v)} fields, more than {MAX_CALLBACK_FIELDS}")
        for key, item in v.items():
            text(key, field, maxlen=MAX_NAME)
            _callback_state(item, f"{field}.{key}")
        return v
    if isinstance(v, list):
        if len(v) > MAX_CALLBACK_FIELDS:
            raise Bad(field, f"a list of {len(v)} items, more than {MAX_CALLBACK_FIELDS}")
        for i, item in enumerate(v):
            _callback_state(item, f"{field}[{i}]")
        return v
    if isinstance(v, str):
        return text(v, field, maxlen=4096)
    if v is None or isinstance(v, bool) or is_int(v):
        return v
    if isinstance(v, float):
        return v  # inf and nan included: a callback's "best so far" may be either
    raise Bad(field, f"{_shown(v)} is not a JSON value")


def _callbacks(v, field):
    def entry(item, f):
        mapping(item, f, required=("type", "state"))
        text(item["type"], f"{f}.type", maxlen=MAX_NAME)
        if not isinstance(item["state"], dict):
            raise Bad(f"{f}.state", f"{_shown(item['state'])} is not an object")
        _callback_state(item["state"], f"{f}.state")
        return item
    return array_of(v, field, entry, MAX_LAYERS)


def check_training(training):
    """``__training__``: epoch, rng (loader and module generator states), history, optimizer, callbacks."""
    mapping(training, "", required=("epoch", "rng", "history"), optional=("optimizer", "callbacks"))
    integer(training["epoch"], "epoch", 0, MAX_EPOCHS)
    rng = mapping(training["rng"], "rng", optional=("loader", "modules"))
    if "loader" in rng:
        _pcg_state(rng["loader"], "rng.loader")
    if "modules" in rng:
        modules = rng["modules"]
        if not isinstance(modules, dict):
            raise Bad("rng.modules", f"{_shown(modules)} is not an object")
        if len(modules) > MAX_LAYERS:
            raise Bad("rng.modules", f"{len(modules)} generators, more than {MAX_LAYERS}")
        for name, state in modules.items():
            text(name, "rng.modules", maxlen=MAX_NAME)
            _pcg_state(state, f"rng.modules.{name}")
    history = training["history"]
    if history is not None:
        if not isinstance(history, dict):
            raise Bad("history", f"{_shown(history)} is not an object")
        if len(history) > MAX_HISTORY_FIELDS:
            raise Bad("history", f"{len(history)} fields, more than {MAX_HISTORY_FIELDS}")
        for key in history:
            if not isinstance(key, str) or not HISTORY_NAME.match(key):
                raise Bad(f"history.{key}", "unexpected field (a log name is lower-case letters, digits and _, "
                                            "such as train_loss or val_acc)")
            array_of(history[key], f"history.{key}", _history_value, MAX_EPOCHS)
        epochs = len(history.get("train_loss", []))
        lengths = {k: len(v) for k, v in history.items()}
        if any(n not in (0, epochs) for n in lengths.values()):
            raise Bad("history", "its lists have different lengths: " +
                      ", ".join(f"{k} {n}" for k, n in lengths.items()))
    if training.get("optimizer") is not None:
        _optimizer(training["optimizer"], "optimizer")
    if training.get("callbacks") is not None:
        _callbacks(training["callbacks"], "callbacks")
