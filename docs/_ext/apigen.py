"""Sphinx extension: the API reference, generated from the packages' ``__all__`` at every build.

For every namespace of ``NAMESPACES`` (in that order) it writes docs/api/generated/<namespace>.rst, a
page listing the namespace's public names in tables (autosummary: signature and summary line), grouped
by the subpackage that defines them; and for every public name a page of its own,
docs/api/generated/<namespace>.<name>.rst (autodoc, docstrings rendered by numpydoc).  A name exported
by several namespaces (``nets.Affine`` is ``nets.layers.Affine``) gets one page, under the first
namespace that exports it; the others' tables link to it.  So a new public name shows up in the
reference without editing the docs; git ignores the generated folder (docs/api/.gitignore).

Constants take their text from their comments (attrdocs.py).  The event handlers and directives are in
apihooks.py; the op table's directive in optable.py.  This module needs no Sphinx but in ``setup``:
tests/docs/test_site.py uses ``plan``, ``pages`` and ``write``.
"""
from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, field
from pathlib import Path

from attrdocs import TOPS, data_doc

NAMESPACES = [
    "autograd_np", "autograd_np.func", "autograd_np.viz", "autograd_np.testing",
    "nets", "nets.optim", "nets.callbacks", "nets.metrics", "nets.datasets", "nets.text", "nets.init",
    "nets.distributed", "nets.layers", "nets.models", "nets.io", "nets.training", "nets.debug", "nets.cli",
]

# The tables of a namespace page: a name goes into the group of the longest prefix of the module that
# defines it (its __module__); a name no prefix matches goes into "Other names".
GROUPS = {
    "autograd_np.core": "Tensors, graphs and gradients",
    "autograd_np.transforms": "Function transforms",
    "autograd_np.debug": "Gradient checking and debugging",
    "autograd_np.compiler": "Compiled steps",
    "autograd_np.viz": "Pictures of graphs",
    "autograd_np.testing": "Testing helpers",
    "autograd_np.ops": "Ops",
    "nets.layers": "Layers and modules",
    "nets.models": "Models",
    "nets.debug": "Gradient checks",
    "nets.io": "Files: checkpoints and data sets",
    "nets.distributed": "Data-parallel training",
    "nets.training": "Training",
    "nets.training.optim": "Optimizers",
    "nets.training.callbacks": "Callbacks",
    "nets.training.metrics": "Metrics",
    "nets.cli": "The command line",
}
OTHER = "Other names"
SUBMODULES = "Submodules"
CONSTANTS = "Constants"


@dataclass
class Entry:
    """One public name of a namespace: ``page`` is the full name of the page documenting it (this
    namespace's, or the first namespace's that exports the same object)."""
    namespace: str
    name: str
    obj: object = field(repr=False)
    kind: str  # module, class, exception, function or data
    page: str
    file: str = ""  # the page's file name, without .rst (see ``file_names``)

    @property
    def full(self) -> str:
        return f"{self.namespace}.{self.name}"

    @property
    def own(self) -> bool:
        return self.kind != "module" and self.page == self.full


def resolve(dotted: str):
    """The object at ``dotted``: attributes from the top package down (``nets.optim`` is an attribute
    of ``nets``), else an import (``nets.cli`` is imported by no one)."""
    parts = dotted.split(".")
    obj = importlib.import_module(parts[0])
    for i, part in enumerate(parts[1:], 1):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            obj = importlib.import_module(".".join(parts[:i + 1]))
    return obj


def kind_of(obj) -> str:
    if inspect.ismodule(obj):
        return "module"
    if inspect.isclass(obj):
        return "exception" if issubclass(obj, BaseException) else "class"
    return "function" if callable(obj) else "data"


def _shareable(obj) -> bool:
    """Whether two names holding ``obj`` are one thing (a class, a function, a registry), not an equal
    small value that Python happens to share (an interned string, a small int)."""
    return not isinstance(obj, (str, bytes, int, float, complex, bool, tuple, frozenset, type(None)))


def plan(namespaces=NAMESPACES) -> dict[str, list[Entry]]:
    """Every namespace's entries, in its ``__all__`` order, each with the page that documents it."""
    modules = {id(resolve(ns)): ns for ns in reversed(namespaces)}  # a module's page: its first namespace
    pages, out = {}, {}
    for ns in namespaces:
        module = resolve(ns)
        names = getattr(module, "__all__", None)
        if names is None:
            raise RuntimeError(f"apigen: namespace {ns} has no __all__: the reference documents __all__")
        out[ns] = []
        for name in names:
            obj = getattr(module, name)
            kind = kind_of(obj)
            if kind == "module":
                page = modules.get(id(obj), "")  # "": a module no namespace documents
            elif _shareable(obj):
                page = pages.setdefault(id(obj), f"{ns}.{name}")
            else:
                page = f"{ns}.{name}"
            out[ns].append(Entry(ns, name, obj, kind, page))
    files = file_names([*out, *(e.page for entries in out.values() for e in entries if e.own)])
    for entries in out.values():
        for e in entries:
            e.file = files.get(e.page, e.page)
    return out


def file_names(pages: list[str]) -> dict[str, str]:
    """``{page: file name}``: the page's name, but a name that differs from another only by case
    (``autograd_np.Tensor``, ``autograd_np.tensor``) gets a suffix, since some file systems do not tell
    them apart (the suffix goes on the one with capitals)."""
    lower = [p.lower() for p in pages]
    return {p: p + "-uppercase" if p != p.lower() and lower.count(p.lower()) > 1 else p for p in pages}


def canonical_names(planned) -> dict[int, str]:
    """``id(object) -> the full name of its page`` for every documented class, function and module."""
    found = {id(resolve(ns)): ns for ns in reversed(list(planned))}
    for entries in planned.values():
        for e in entries:
            if e.own and _shareable(e.obj):
                found[id(e.obj)] = e.page
    return found


def docstring(entry: Entry) -> str:
    """The entry's own documentation: a class's docstring of its own (not its base's), a function's or
    module's ``__doc__``, a constant's doc comment; "" when it has none."""
    obj = entry.obj
    if entry.kind == "data":
        return data_doc(obj, entry.name)
    doc = obj.__dict__.get("__doc__") if inspect.isclass(obj) else getattr(obj, "__doc__", None)
    return inspect.cleandoc(doc) if isinstance(doc, str) else ""


# --- the pages ---------------------------------------------------------------------------------------

def _title(text: str, underline: str = "=") -> list[str]:
    return [text, underline * len(text), ""]


def group_of(entry: Entry) -> str:
    """The table an entry goes into on its namespace's page (see ``GROUPS``); the ops of autograd_np by
    the module that defines them (``Ops: reductions``)."""
    if entry.kind in ("module", "data"):
        return SUBMODULES if entry.kind == "module" else CONSTANTS
    module = getattr(entry.obj, "__module__", None) or ""
    if module.startswith("autograd_np.ops."):
        return f"Ops: {module.split('.')[2].lstrip('_')}"
    matches = [p for p in GROUPS if module == p or module.startswith(p + ".")]
    return GROUPS[max(matches, key=len)] if matches else OTHER


def name_page(entry: Entry) -> str:
    """The reST of the page of one name (an own entry)."""
    lines = _title(entry.full) + [f".. currentmodule:: {entry.namespace}", ""]
    if entry.kind in ("class", "exception"):
        lines += [f".. auto{entry.kind}:: {entry.name}", "   :members:", "   :show-inheritance:"]
    elif entry.kind == "function":
        lines += [f".. autofunction:: {entry.name}"]
    else:
        simple = isinstance(entry.obj, (str, int, float, bool)) and len(repr(entry.obj)) < 80
        lines += [f".. autodata:: {entry.name}"] + ([] if simple else ["   :no-value:"])
    return "\n".join(lines) + "\n"


def namespace_page(ns: str, entries: list[Entry]) -> str:
    """The reST of a namespace's page: its docstring, then its names in tables by group."""
    module = resolve(ns)
    lines = _title(ns) + [f".. py:module:: {ns}", "", inspect.cleandoc(module.__doc__ or ""), ""]
    groups: dict[str, list[Entry]] = {}  # in the order of their first name in __all__; submodules first,
    for e in sorted(entries, key=lambda e: (e.kind != "module", e.kind == "data")):  # constants last
        groups.setdefault(group_of(e), []).append(e)
    for group in groups:
        if len(groups) > 1 or group == SUBMODULES:
            lines += _title(group, "-")
        if group == SUBMODULES:
            lines += [f"* :doc:`{e.page}`: {summary(e.obj)}" if e.page else f"* ``{e.full}`` (not documented)"
                      for e in groups[group]] + [""]
            continue
        listed = [e for e in groups[group] if e.own or _same_name(e)]
        if listed:
            lines += [".. autosummary::", ""] + [f"   {e.name}" if e.own else f"   ~{e.page}" for e in listed] + [""]
        renamed = [e for e in groups[group] if e not in listed]
        if renamed:
            lines += ["Other names of the same objects: " + ", ".join(
                f"``{e.name}`` (:py:obj:`{e.page}`)" for e in renamed) + ".", ""]
    own = [e.page for e in entries if e.own]
    if own:
        lines += [".. toctree::", "   :hidden:", ""] + [f"   {e.file}" for e in entries if e.own] + [""]
    return "\n".join(lines)


def _same_name(entry: Entry) -> bool:
    """Whether an entry documented elsewhere has the same name there, in another namespace (a table
    row shows the page's last name; autosummary refuses its own namespace's names in full)."""
    namespace, _, name = entry.page.rpartition(".")
    return name == entry.name and namespace != entry.namespace


def summary(obj) -> str:
    """The first paragraph of ``obj``'s docstring, on one line."""
    text = " ".join(inspect.cleandoc(obj.__doc__ or "").split("\n\n")[0].split())
    return text[:-3] if text.endswith(" ::") else text[:-1] if text.endswith("::") else text  # no literal block


def pages(planned) -> dict[str, str]:
    """``{file name: reST}`` of every generated page."""
    out = {ns: namespace_page(ns, entries) for ns, entries in planned.items()}
    for entries in planned.values():
        out.update({e.file: name_page(e) for e in entries if e.own})
    return out


def write(folder: Path, planned=None) -> dict[str, str]:
    """Write the pages into ``folder`` (only those whose text changed; stale pages removed)."""
    generated = pages(plan() if planned is None else planned)
    folder.mkdir(parents=True, exist_ok=True)
    for stem, text in generated.items():
        path = folder / f"{stem}.rst"
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    for path in folder.glob("*.rst"):
        if path.stem not in generated:
            path.unlink()
    return generated


# --- Sphinx (the event handlers: apihooks.py) -------------------------------------------------------------

def setup(app):
    import apihooks
    from optable import OpTable

    app.connect("builder-inited", apihooks.builder_inited)
    app.connect("autodoc-process-docstring", apihooks.data_docstring, priority=100)  # before numpydoc reads it
    app.connect("autodoc-process-signature", apihooks.class_signature)
    app.connect("missing-reference", apihooks.missing_reference)
    app.add_directive("op-table", OpTable)
    app.add_directive("api-namespaces", apihooks.Namespaces)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
