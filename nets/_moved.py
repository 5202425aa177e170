"""The modules that moved into subpackages (issue 21's layout), under their old names.

``import nets.checkpoint``, ``from nets.conv_layers import Conv2d`` and pickles that name
``nets.module.Module`` keep working: the old name is the new module itself (one module
object, so ``isinstance`` and monkeypatching see the same classes and globals).  Old paths
of internal modules warn (``DeprecationWarning`` naming the new place); the public ones
(``nets.optim``, ``nets.datasets``, ``nets.metrics``, ``nets.init``, ``nets.callbacks``)
do not.  A submodule of an old package follows it (``nets.callbacks.base``)."""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

__all__ = ["MOVED", "PUBLIC", "install", "new_name"]

MOVED = {
    "module": "layers", "conv_layers": "layers.conv", "init": "layers.init",
    "gradient_check": "debug.gradients",
    "checkpoint": "io.checkpoint", "checkpoint_atomic": "io.checkpoint_atomic",
    "checkpoint_format": "io.checkpoint_format", "checkpoint_schema": "io.checkpoint_schema",
    "datasets": "io.datasets",
    "optim": "training.optim", "metrics": "training.metrics", "callbacks": "training.callbacks",
    "data": "training.data", "history": "training.history", "compiled": "training.compiled",
    "agreement": "distributed.agreement", "rendezvous": "distributed.rendezvous",
    "cli_args": "cli.args", "cli_models": "cli.architectures",
    "_validate": "util.validate", "_memory": "util.memory",
}
PUBLIC = frozenset({"optim", "datasets", "metrics", "init", "callbacks"})  # nets.<name> attributes: no warning


def new_name(fullname: str) -> str | None:
    """``nets.callbacks.base`` -> ``nets.training.callbacks.base``; None for a name that did not move."""
    parts = fullname.split(".")
    if len(parts) < 2 or parts[0] != "nets" or parts[1] not in MOVED:
        return None
    return ".".join(["nets", MOVED[parts[1]], *parts[2:]])


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Hands out the new module for an old name (first on ``sys.meta_path``: the old
    package's folder is the new one, where the path finder would load a second copy)."""

    def find_spec(self, fullname, path=None, target=None):
        if new_name(fullname) is None:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        new = new_name(spec.name)
        if spec.name.split(".")[1] not in PUBLIC:
            warnings.warn(f"{spec.name} moved to {new}; import it from there (or use the names on nets itself)",
                          DeprecationWarning, stacklevel=2)
        module = importlib.import_module(new)
        spec.loader_state = module.__spec__  # the import system sets the old name's spec on the module:
        return module                        # exec_module puts the module's own back

    def exec_module(self, module):
        module.__spec__ = module.__spec__.loader_state


def install():
    """Put the finder first on ``sys.meta_path`` (once), and ``nets.gradient_check`` in
    ``sys.modules``: that old module's name is also the function ``nets.gradient_check``, which
    an import through the finder would replace on the package by the module."""
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
    sys.modules.setdefault("nets.gradient_check", importlib.import_module("nets.debug.gradients"))
