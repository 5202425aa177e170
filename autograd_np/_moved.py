"""The modules that moved into subpackages (issue 21's layout), under their old
names: ``import autograd_np.engine`` and ``autograd_np.graph`` still work,
with a ``DeprecationWarning`` naming the new place."""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

__all__ = ["MOVED", "install", "module_for"]

MOVED = {
    "engine": "core", "graph": "core.graph", "registry": "core.registry", "modes": "core.modes",
    "errors": "core.errors", "hooks": "core.hooks", "tensor_methods": "core.tensor_methods",
    "recording": "core.recording", "_display": "core.display",
    "numpy_api": "interop.dispatch", "numpy_adapters": "interop.adapters",
    "lowering": "compiler.lowering", "inline": "compiler.inline", "guards": "compiler.guards",
    "tracing": "compiler.tracing", "reach": "compiler.reach", "effects": "compiler.effects",
    "gradcheck": "debug.gradcheck", "graphcheck": "debug.graphcheck", "anomaly": "debug.anomaly",
    "explain": "debug.explain", "viz_layout": "viz.layout", "viz_style": "viz.style",
    "functional": "transforms.functional",
}


_ALSO_FUNCTIONS = {"gradcheck", "explain"}  # old module names that are also public functions of autograd_np


def module_for(old):
    """The module that ``autograd_np.<old>`` became, imported, after a warning."""
    new = f"autograd_np.{MOVED[old]}"
    warnings.warn(f"autograd_np.{old} moved to {new}; import it from there (or use the names on "
                  "autograd_np itself)", DeprecationWarning, stacklevel=3)
    return importlib.import_module(new)


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``autograd_np.<old>`` and hands out the module it became."""

    def find_spec(self, fullname, path=None, target=None):
        package, _, old = fullname.rpartition(".")
        if package == "autograd_np" and old in MOVED:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        old = spec.name.rpartition(".")[2]
        if old in _ALSO_FUNCTIONS:  # the import would replace the function ag.<old> by the module
            raise ImportError(f"autograd_np.{old} moved to autograd_np.{MOVED[old]}; import it from there "
                              f"(autograd_np.{old} itself is the function)", name=spec.name)
        return module_for(old)

    def exec_module(self, module):
        pass


def install():
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.append(_Finder())
