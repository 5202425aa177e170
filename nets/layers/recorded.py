"""The default ``config()`` of a module: its constructor's arguments, recorded as it was made.

``Recorded.__new__`` (a base of ``Module``) records the arguments a module without a
``config()`` of its own is made with as JSON (``record``: a snapshot, so a list
changed afterwards does not change it; ``__new__`` sees the constructor's arguments
whatever ``__init__`` is, a dataclass's too, and a copy or unpickling, which calls it
without them, then restores the original's record with its other attributes), ``recorded_config``
gives them as the ``config`` a checkpoint stores, and ``rebuild`` makes an equal
module from it, so that any ``Module`` subclass saves and loads without a
``config()`` of its own::

    class Net(nets.Module):
        def __init__(self, hidden=32, activation="relu"):
            ...
    Net(hidden=64).save("net.npz")        # config {"type": "Net", "hidden": 64}
    nets.load("net.npz")                  # Net(hidden=64), then the saved weights

What is recorded: the arguments given (defaults are left to the constructor),
numbers, strings, booleans, None, lists, tuples (as lists) and dicts of them,
dtypes (by name, ``"float32"``), modules (by their own config: ``Wrapper(nets.Affine(3,
2))`` works) and ``*args``.  A ``numpy.random.Generator`` is recorded as None: the
weights come from the file, not from the draw.  Anything else (an array, a function,
an open file) cannot be written as JSON: ``config()`` raises ``ConfigError`` saying
which argument and what to do, so ``model.save`` fails at once rather than
``nets.load`` later.  The class is found again by its name (``nets.layers.registry``):
a class named like one of nets's own, or like another class defined after it, is
refused at save time too.  What ``forward`` does with attributes changed after
construction is not recorded: the constructor is called again with the same
arguments, and the weights loaded into what it builds.
"""
from __future__ import annotations

import inspect
import numbers
import weakref

import numpy as np

from .registry import REGISTRY, from_config

__all__ = ["ConfigError", "Recorded", "record", "recorded_config", "rebuild", "MODULE_KEY", "ARGS_KEY"]

MODULE_KEY = "__module_config__"  # {MODULE_KEY: config}: a module given as an argument
ARGS_KEY = "*args"                # the values of a ``*args`` parameter, in order


class ConfigError(NotImplementedError):
    """``config()`` cannot describe this module as JSON (so ``nets.load`` could not rebuild it)."""


class Recorded:
    """The base of ``Module`` that records the constructor's arguments (after ``Module`` in the
    method order, so that ``inspect.signature`` of a module class still shows its ``__init__``).
    ``module`` is ``Module`` itself, set by ``nets.layers.module`` (which imports this file)."""

    module = None

    def __new__(cls, *args, **kwargs):
        self = super().__new__(cls)
        base = Recorded.module
        if base is not None and cls.config is base.config:  # the default config(): the recorded one
            object.__setattr__(self, "_init_args", record(cls, args, kwargs, base))
        return self


_ADVICE = ("give it JSON-able arguments (numbers, strings, lists, dicts, dtypes, modules), or define config() "
           "returning {'type': ClassName, **arguments} (and from_config(config) when the arguments are not "
           "the constructor's); its weights alone save with model.state_dict()")


def _class_check(cls):
    """The class must be the one ``nets.load`` finds under its name."""
    found = REGISTRY.get(cls.__name__)
    if found is cls:
        return
    if found is not None and found.__module__.split(".")[0] == "nets":
        raise ConfigError(f"{cls.__name__}: nets.load finds a model's class by its name, and {cls.__name__!r} is "
                          f"nets's own {found.__module__}.{found.__name__}: rename your class")
    if found is None:
        raise ConfigError(f"nets.load would not find the class {cls.__name__!r}: subclass nets.Module")
    other = f"{found.__module__}.{found.__qualname__}"
    raise ConfigError(f"{cls.__name__}: nets.load finds a model's class by its name, and {cls.__name__!r} now names "
                      f"{other} (a class of that name defined after this one): rename one of them, or "
                      "register this one again with @nets.register")


def _json(value, where, base):
    """``value`` as JSON (see the module's docstring), or a ConfigError naming ``where``;
    ``base`` is the class of modules (``Module``: it imports this file)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_json(v, f"{where}[{i}]", base) for i, v in enumerate(value)]
    if isinstance(value, dict):
        bad = [k for k in value if not isinstance(k, str)]
        if bad or MODULE_KEY in value:
            raise ConfigError(f"{where} is a dict with the key {(bad or [MODULE_KEY])[0]!r}: JSON keys are strings "
                              f"(and {MODULE_KEY!r} is reserved)")
        return {k: _json(v, f"{where}[{k!r}]", base) for k, v in value.items()}
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return np.dtype(value).name
    if isinstance(value, np.random.Generator):
        return None  # the weights are in the file; a fresh generator draws the rest
    if isinstance(value, base):
        try:
            return {MODULE_KEY: value.config()}
        except ConfigError as exc:
            raise ConfigError(f"{where} is a module that cannot be described: {exc}") from None
    raise ConfigError(f"{where} is a {type(value).__module__}.{type(value).__qualname__}, which a checkpoint "
                      f"cannot hold as JSON")


_SIGNATURES = weakref.WeakKeyDictionary()  # the constructor's parameters (without self), by __init__ function


def _parameters(cls):
    init = cls.__init__
    params = _SIGNATURES.get(init)
    if params is None:
        params = _SIGNATURES[init] = list(inspect.signature(init).parameters.values())[1:]
    return params


def record(cls, args, kwargs, base):
    """The arguments a ``cls`` is being made with, as JSON (``{name: value}``, ``*args`` under
    ``"*args"``), or the ``ConfigError`` saying why they cannot be: kept until ``config()``
    is called (``base``: the class of modules)."""
    try:
        params = _parameters(cls)
        bound = inspect.Signature(params).bind(*args, **kwargs)
    except (TypeError, ValueError):  # arguments the constructor refuses: it says so itself
        return None
    try:
        named = _named(params, bound, base)
        if "type" in named:
            raise ConfigError("an argument named 'type' cannot be recorded (a config's 'type' is the class name)")
    except ConfigError as exc:
        return exc
    return named


def _named(params, bound, base):
    """The bound arguments as ``{name: JSON}``; when ``*args`` got values, every positional one
    goes under ``"*args"`` (the parameters before it can only be given by position then)."""
    var = next((p.name for p in params if p.kind is inspect.Parameter.VAR_POSITIONAL), None)
    if var is not None and bound.arguments.get(var):
        names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        where = [f"argument {n!r}" for n in names] + [f"argument *{var}[{i}]" for i in range(len(bound.args))]
        named = {ARGS_KEY: [_json(v, w, base) for v, w in zip(bound.args, where)]}
        keywords = bound.kwargs
    else:
        named, keywords = {}, {}
        for name, value in bound.arguments.items():
            if name in {p.name for p in params if p.kind is p.VAR_KEYWORD}:
                keywords.update(value)
            else:
                keywords[name] = value
    named.update({k: _json(v, f"argument {k!r}", base) for k, v in keywords.items()})
    return named


def recorded_config(module) -> dict:
    """``{"type": class name, **arguments given to the constructor}``, as JSON; ConfigError if it
    cannot be (the message says which argument and what to do)."""
    cls = type(module)
    named = vars(module).get("_init_args")
    try:
        _class_check(cls)
        if isinstance(named, ConfigError):
            raise named
        if not isinstance(named, dict):
            if cls.__module__.split(".")[0] == "nets":  # nets's own classes write their config()
                raise ConfigError(f"{cls.__module__}.{cls.__name__} defines no config()")
            raise ConfigError("its constructor's arguments were not recorded (made by unpickling an object "
                              "saved before nets recorded them?)")
    except ConfigError as exc:
        raise ConfigError(f"{cls.__name__}.config(): nets.load could not rebuild it: {exc}; {_ADVICE}") from None
    return {"type": cls.__name__, **named}


def _decoded(value):
    if isinstance(value, dict):
        if set(value) == {MODULE_KEY}:
            return from_config(value[MODULE_KEY])
        return {k: _decoded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decoded(v) for v in value]
    return value


def rebuild(cls, config: dict):
    """``cls(*config["*args"], **rest)``, with the modules given as arguments rebuilt first."""
    config = {k: _decoded(v) for k, v in config.items()}
    args = config.pop(ARGS_KEY, [])
    return cls(*args, **config)
