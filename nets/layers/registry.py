"""What the code above the layers finds here instead of importing it (or being imported).

* ``REGISTRY``: the architectures ``nets.load`` can rebuild, class name -> class.  Every
  ``Module`` subclass defined in nets registers itself as it is defined
  (``Module.__init_subclass__``); a user's class opts in with ``@nets.register`` (and a
  ``config()`` method).  ``from_config`` builds a module from its config.
* ``SCHEMAS``: class -> ``ConfigSchema``, the arguments of its config with their checks and
  how many numbers the architecture holds, so that a checkpoint's config is checked before
  anything is built (``nets.io.checkpoint_schema.config_size`` reads them).  The layers and
  models of nets declare theirs with ``@config_schema(...)`` next to their ``config()``; a
  class without one (a user's) is checked for structure only.
* ``model_writer``: what ``Module.save`` writes with, set by ``nets.io.checkpoint``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

__all__ = ["REGISTRY", "register", "from_config", "SCHEMAS", "ConfigSchema", "config_schema", "set_model_writer",
           "write_model"]

#: The layer classes by their config ``type`` (``register`` adds one): what ``from_config`` builds.
REGISTRY: dict[str, type] = {}


def register(cls):
    """Class decorator: let ``nets.load`` rebuild ``cls`` from its ``config()``.

    ``cls.config()`` must return JSON-able keyword arguments of ``cls(...)``
    plus ``"type": cls.__name__``."""
    REGISTRY[cls.__name__] = cls
    return cls


def from_config(config: dict):
    """Build a module from ``config`` (a dict made by ``Module.config()``)."""
    config = dict(config)
    kind = config.pop("type", None)
    cls = REGISTRY.get(kind)
    if cls is None:
        raise ValueError(f"unknown architecture type {kind!r}; known: {', '.join(sorted(REGISTRY))} "
                         "(register a custom Module with @nets.register)")
    return cls.from_config(config)


@dataclass(frozen=True)
class ConfigSchema:
    """The config of one architecture: ``required`` and ``optional`` arguments, each
    ``name -> check(value, field)`` (``nets.util.fields``: returns the value or raises
    ``Bad``), and ``size(args)``: the numbers its parameters and buffers hold.  A container
    names instead the argument listing its ``children``' configs (their sizes add up)."""

    required: dict = field(default_factory=dict)
    optional: dict = field(default_factory=dict)
    size: Callable | None = None
    children: str | None = None


SCHEMAS: dict[type, ConfigSchema] = {}


def config_schema(required=None, optional=None, size=None, children=None):
    """Class decorator: declare the class's ``ConfigSchema`` (for that exact class, not its
    subclasses: a subclass may take other arguments)."""
    if (size is None) == (children is None):
        raise TypeError("config_schema: give size (a function of the arguments) or children (an argument's name)")

    def declare(cls):
        SCHEMAS[cls] = ConfigSchema(dict(required or {}), dict(optional or {}), size, children)
        return cls
    return declare


_WRITER = []  # [write(model, path)]: nets.io.checkpoint's save_model, once it is imported


def set_model_writer(write):
    """Make ``write(model, path)`` the function ``Module.save`` calls (``nets.io.checkpoint`` does)."""
    _WRITER[:] = [write]


def write_model(model, path):
    if not _WRITER:  # (importing any part of nets imports nets.io: only a broken install gets here)
        raise RuntimeError(f"{type(model).__name__}.save: no checkpoint writer; import nets.io.checkpoint")
    _WRITER[0](model, path)
