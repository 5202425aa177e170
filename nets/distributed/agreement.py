"""What the ranks of a distributed fit must agree on, as named fields of plain values.

``nets.distributed`` gathers these from every rank and compares them
(``World.agree``) before anything is trained, and after every epoch:

* ``data_fields``: shape, dtype and a hash of ALL of every array (train, val,
  test; hashed in place, or in bounded pieces when not contiguous);
* ``model_fields``: the class (with a digest of its code), the config, every
  parameter's and buffer's name, shape and dtype, every sub-module's class and
  settings (Dropout's p, BatchNorm's eps, ...), the criterion;
* ``run_fields``: the optimizer's class and every attribute (lr, betas,
  weight decay, step count, ...), its state (layout and values) and which
  tensors it steps, the callbacks (class, and every setting of those that
  run on every rank), the metrics, fit's own arguments and the versions of
  Python and NumPy;
* ``state_fields``: after an epoch, a digest of every weight and optimizer
  state, and the optimizer's scalar settings (all the same when the ranks
  stepped together).

Values are described by ``describe``: numbers and strings as they are,
arrays by shape, dtype and a digest (small ones by value), functions by
their name, a digest of their code and their default arguments (not the
variables they read), other objects by class and attributes.
"""
from __future__ import annotations

import hashlib
import json
import sys
import types
from pathlib import PurePath

import numpy as np

import autograd_np as ag

from ..layers.module import Module

__all__ = ["describe", "array_digest", "data_fields", "model_fields", "run_fields", "state_fields", "digest", "show",
           "message", "locate"]

_CHUNK = 1 << 24  # bytes hashed at a time from an array that is not contiguous (a bounded copy)
_SMALL = 8        # arrays of at most this many elements are described by their values
_DEPTH = 6        # how deep objects are described (then by class only)
_LIBRARIES = ("builtins", "numpy", "autograd_np", "nets", "math", "functools", "collections")
_LEAVES = (type(None), bool, int, float, str)
_SKIPPED_CALLBACK_ATTRS = frozenset({"run", "verbose", "rank_local"})  # (verbose: printing, rank 0's alone)


def array_digest(a) -> str:
    """A hash of every element of ``a`` in C order, whatever its memory layout (SHA-256, 32 hex digits).

    A C-contiguous array is hashed in place; another in row blocks of about
    16 MB, so memory stays bounded.  Object arrays are hashed by their values' repr."""
    a = np.asarray(a)
    h = hashlib.sha256()  # (hardware-accelerated on most CPUs: 1.4 GB/s measured, blake2b 0.74)
    h.update(f"{a.dtype.str}{a.shape}".encode())
    if a.dtype.hasobject:
        h.update(repr(a.tolist()).encode())
    elif a.flags.c_contiguous:
        h.update(a.reshape(-1).view(np.uint8))  # in place (hashlib drops the GIL on large buffers)
    else:
        rows = max(1, _CHUNK // max(1, a[:1].nbytes))
        for lo in range(0, len(a), rows):
            h.update(np.ascontiguousarray(a[lo:lo + rows]).tobytes())
    return h.hexdigest()[:32]


def _array(a):
    a = np.asarray(a)
    if a.size <= _SMALL and not a.dtype.hasobject:
        return {"array": list(a.shape), "dtype": str(a.dtype), "values": describe(a.tolist())}
    return {"array": list(a.shape), "dtype": str(a.dtype), "hash": array_digest(a)}


def _const(c) -> str:
    """A code constant as text, the same in every process (a frozenset's order follows the string hash seed)."""
    if isinstance(c, types.CodeType):
        return _code_digest(c)
    if isinstance(c, tuple):
        return "(" + ",".join(map(_const, c)) + ")"
    if isinstance(c, frozenset):
        return "frozenset(" + ",".join(sorted(map(_const, c))) + ")"
    return repr(c)


def _code_digest(code) -> str:
    h = hashlib.blake2b(digest_size=8)
    h.update(code.co_code)
    h.update(repr((code.co_names, code.co_varnames, code.co_freevars, code.co_argcount)).encode())
    h.update(_const(code.co_consts).encode())
    return h.hexdigest()


def _name(obj) -> str:
    return f"{getattr(obj, '__module__', None) or '?'}.{getattr(obj, '__qualname__', type(obj).__qualname__)}"


def _class(cls) -> dict:
    """A class by name, with a digest of the code of every function it and its bases define."""
    h = hashlib.blake2b(digest_size=8)
    for klass in cls.__mro__:
        if klass.__module__ == "builtins":
            continue
        for attr, value in sorted(vars(klass).items()):
            fn = getattr(value, "__func__", None) or getattr(value, "fget", None) or value
            if isinstance(fn, types.FunctionType):
                h.update(f"{klass.__qualname__}.{attr}:{_code_digest(fn.__code__)};".encode())
    return {"class": _name(cls), "code": h.hexdigest()}


def _function(fn, depth, seen) -> dict:
    return {"function": _name(fn), "code": _code_digest(fn.__code__),
            "defaults": describe(fn.__defaults__, depth + 1, seen),
            "kwdefaults": describe(fn.__kwdefaults__, depth + 1, seen)}


def _object(obj, depth, seen) -> dict:
    attrs = getattr(obj, "__dict__", None)
    if not isinstance(attrs, dict):
        return {"object": _name(type(obj))}
    return {"object": _name(type(obj)), "attrs": describe(attrs, depth + 1, seen)}


def describe(obj, depth: int = 0, seen: frozenset = frozenset()):
    """``obj`` as JSON values, equal on two ranks exactly when the two objects train alike (see the module)."""
    if isinstance(obj, _LEAVES):
        return obj
    if id(obj) in seen:
        return {"cycle": _name(type(obj))}
    if depth > _DEPTH:
        return {"deep": _name(type(obj))}
    seen = seen | {id(obj)}
    try:
        return _describe(obj, depth, seen)
    except Exception as exc:  # noqa: BLE001  (an object that cannot be looked at is named, never a crash)
        return {"undescribable": _name(type(obj)), "error": type(exc).__name__}


def _describe(obj, depth, seen):
    if isinstance(obj, np.generic):
        return {"numpy": str(obj.dtype), "value": describe(obj.item())}
    if isinstance(obj, np.ndarray):
        return _array(obj)
    if isinstance(obj, ag.Tensor):
        return {"tensor": _array(obj.data), "requires_grad": bool(obj.requires_grad)}
    if isinstance(obj, (list, tuple)):
        return [describe(v, depth + 1, seen) for v in obj]
    if isinstance(obj, dict):
        return {str(k): describe(v, depth + 1, seen) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (set, frozenset)):
        return sorted((describe(v, depth + 1, seen) for v in obj), key=json.dumps)
    if isinstance(obj, PurePath):
        return str(obj)
    if isinstance(obj, (bytes, bytearray)):
        return {"bytes": len(obj), "hash": hashlib.blake2b(obj, digest_size=16).hexdigest()}
    if isinstance(obj, type):
        return _class(obj)
    if isinstance(obj, types.FunctionType):
        return _function(obj, depth, seen)
    if isinstance(obj, types.MethodType):
        return {"method": _function(obj.__func__, depth, seen) if isinstance(obj.__func__, types.FunctionType)
                else _name(obj.__func__), "of": _name(type(obj.__self__))}
    if isinstance(obj, np.random.Generator):
        return {"generator": type(obj.bit_generator).__name__}  # (states: broadcast or derived from rank 0's)
    if isinstance(obj, Module):
        return {"module": _name(type(obj))}  # (its structure: model_fields)
    if isinstance(obj, (types.BuiltinFunctionType, np.ufunc)) or type(obj).__module__ == "builtins":
        return {"builtin": _name(obj) if callable(obj) else type(obj).__name__}
    return _object(obj, depth, seen)


def digest(value) -> str:
    """The hash of a description (what the ranks compare)."""
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def show(value, limit: int = 100) -> str:
    """A description, short enough for an error message."""
    if isinstance(value, dict) and "hash" in value and "array" in value:
        return f"{value['dtype']} array {tuple(value['array'])} with hash {value['hash'][:12]}"
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _same(a, b) -> bool:
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def locate(a, b, steps=()):
    """Where two descriptions first differ: ``(keys and indices leading there, a's part, b's part)``."""
    if isinstance(a, dict) and isinstance(b, dict) and not ("hash" in a and "hash" in b):
        for key in sorted(set(a) | set(b)):
            if not _same(a.get(key, "<none>"), b.get(key, "<none>")):
                return locate(a.get(key, "<none>"), b.get(key, "<none>"), (*steps, key))
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            if not _same(x, y):
                return locate(x, y, (*steps, i))
    return steps, a, b


def _at(value, steps):
    for step in steps:
        if isinstance(value, dict):
            value = value.get(step, "<none>")
        elif isinstance(value, list) and isinstance(step, int) and step < len(value):
            value = value[step]
        else:
            return "<none>"
    return value


def message(fields, values, digests, when, hint) -> str:
    """A RanksDisagree's message: the ``fields`` that differ, and where each rank's value of
    the first (``values``, by rank) differs from rank 0's (ranks grouped by their ``digests``)."""
    first = fields[0]
    groups = {}
    for rank, d in enumerate(digests):
        groups.setdefault(d.get(first), []).append(rank)
    reps = [ranks[0] for ranks in groups.values()]
    steps = locate(values[reps[0]], values[reps[1]])[0] if len(reps) > 1 else ()
    parts = []
    for ranks in list(groups.values())[:4]:
        who = f"rank {ranks[0]}" if len(ranks) == 1 else "ranks " + ", ".join(map(str, ranks[:6])) + \
            (", ..." if len(ranks) > 6 else "")
        parts.append(f"{who} {'has' if len(ranks) == 1 else 'have'} {show(_at(values[ranks[0]], steps))}")
    where = "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in steps).lstrip(".")
    more = f" (also: {', '.join(fields[1:6])}{', ...' if len(fields) > 6 else ''})" if len(fields) > 1 else ""
    where = f" ({where})" if where else ""
    when = f" {when}" if when else ""
    return (f"distributed fit: the ranks disagree on {first}{where}{when}: {'; '.join(parts)}{more}; "
            + (hint or "every rank must train the same model with the same settings on the same data"))


# --- the fields ----------------------------------------------------------------------------------

def data_fields(**sets) -> dict:
    """``{"data.<set>.x": ..., "data.<set>.t": ...}`` for each ``(x, t)`` pair given (None: absent)."""
    fields = {}
    for name, xy in sets.items():
        fields[f"data.{name}"] = "absent" if xy is None else "given"
        for part, a in zip("xt", xy or ()):
            a = np.asarray(a)
            fields[f"data.{name}.{part}"] = {"array": list(a.shape), "dtype": str(a.dtype), "hash": array_digest(a)}
    return fields


def _layout(pairs) -> list:
    return [[name, list(np.shape(a)), str(np.asarray(a).dtype)] for name, a in pairs]


def _module_settings(module) -> dict:
    """A module's own attributes, less what is compared elsewhere (sub-modules, parameters, buffers)."""
    skip = set(vars(module).get("_buffer_names", ())) | set(getattr(module, "_unguarded", ())) | \
        {"_buffer_names", "_path", "training", "criterion"}  # (_unguarded: outputs of the latest call, e.g.
    # dropout's mask; a criterion set on the model is its own field)
    out = {}
    for key, value in vars(module).items():
        if key in skip or isinstance(value, Module):
            continue
        if isinstance(value, ag.Tensor) and value.requires_grad:
            continue  # a parameter: rank 0's is broadcast
        items = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else ()
        if any(isinstance(v, Module) for v in items):
            continue
        out[key] = describe(value)
    return out


def model_fields(model) -> dict:
    """The architecture: class, config, parameters and buffers (names, shapes, dtypes), every
    sub-module's class and settings, and the criterion (weights are broadcast, not compared)."""
    try:
        config = model.config()
    except Exception as exc:  # noqa: BLE001  (NotImplementedError for a custom module: described below)
        config = {"no config": type(exc).__name__}
    fields = {"model.class": _class(type(model)), "model.config": describe(config),
              "model.parameters": _layout((n, p.data) for n, p in model.named_parameters()),
              "model.buffers": _layout(model.named_buffers())}
    for name, module in model.named_modules():
        fields[f"model.modules[{name or '<root>'}]"] = {"class": _class(type(module)),
                                                        "settings": _module_settings(module)}
    fields["model.criterion"] = describe(model.criterion)
    return fields


def _optimizer_fields(optimizer, model) -> dict:
    names = {id(p): n for n, p in model.named_parameters()}
    fields = {"optimizer.class": _class(type(optimizer))}
    for key, value in sorted(vars(optimizer).items()):
        if key not in ("params", "state"):
            fields[f"optimizer.{key}"] = describe(value)
    params = list(getattr(optimizer, "params", None) or ())
    fields["optimizer.params"] = [[names.get(id(p), f"<not in the model: #{i}>"), list(np.shape(p.data)),
                                   str(np.asarray(p.data).dtype)] for i, p in enumerate(params)]
    # a tensor the optimizer steps outside the model is not broadcast: its values must agree
    fields["optimizer.params outside the model"] = [describe(p) for p in params if id(p) not in names]
    fields["optimizer.state"] = describe(getattr(optimizer, "state", None))
    return fields


def _callback_fields(callbacks) -> dict:
    callbacks = list(callbacks)
    fields = {"callbacks": [[_class(type(cb)), bool(cb.root_only)] for cb in callbacks]}
    for i, cb in enumerate(callbacks):
        if cb.root_only:  # rank 0 alone runs it: its settings are rank 0's business
            continue
        skip = _SKIPPED_CALLBACK_ATTRS | set(getattr(cb, "rank_local", ()))
        for key, value in sorted(vars(cb).items()):
            if key not in skip:
                fields[f"callbacks[{i}].{type(cb).__name__}.{key}"] = describe(value)
    return fields


def run_fields(model, optimizer, callbacks, metrics, loader, **fit_args) -> dict:
    """Everything else that decides the trajectory: optimizer, callbacks, metrics, batching,
    fit's arguments (by name) and the Python and NumPy versions."""
    fields = _optimizer_fields(optimizer, model)
    fields.update(_callback_fields(callbacks))
    fields["fit.metrics"] = [describe(m) for m in metrics]
    fields["fit.loader"] = {k: describe(v) for k, v in sorted(vars(loader).items()) if k not in ("x", "t", "rng")}
    fields.update({f"fit.{k}": describe(v) for k, v in fit_args.items()})
    fields["environment"] = {"python": sys.version, "numpy": np.__version__}
    return fields


def state_fields(model, optimizer) -> dict:
    """After an epoch: the optimizer's scalar settings (lr, ...), then a digest of every weight,
    buffer and optimizer state (on ranks that stepped together, all equal bit for bit)."""
    fields = {f"optimizer.{k}": v for k, v in sorted(vars(optimizer).items()) if isinstance(v, _LEAVES)}
    fields.update({f"model.{n}": array_digest(p.data) for n, p in model.named_parameters()})
    fields.update({f"model.{n}": array_digest(b) for n, b in model.named_buffers()})
    names = {id(p) for _, p in model.named_parameters()}
    fields["optimizer.params outside the model"] = [array_digest(p.data) for p in getattr(optimizer, "params", ())
                                                    if id(p) not in names]
    fields["optimizer.state"] = digest(describe(getattr(optimizer, "state", None)))
    return fields
