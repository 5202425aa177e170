"""Sphinx extension: the API reference, generated from the packages' ``__all__`` at every build.

For every namespace of ``NAMESPACES`` (in that order) it writes docs/api/generated/<namespace>.rst, a
page listing the namespace's public names in tables (autosummary: signature and summary line), grouped
by the subpackage that defines them; and for every public name a page of its own,
docs/api/generated/<namespace>.<name>.rst (autodoc, docstrings rendered by numpydoc).  A name exported
by several namespaces (``nets.Affine`` is ``nets.layers.Affine``) gets one page, under the first
namespace that exports it; the others' tables link to it.  So a new public name shows up in the
reference without editing the docs; git ignores the generated folder (docs/api/.gitignore).

Constants have no ``__doc__``: their text is the ``#:`` comment before (or after) their assignment,
or the string literal right after it, in the module that assigns them (Sphinx's convention).

References Sphinx cannot find (a type annotation naming ``autograd_np.core.tensor.Tensor``, a base
class ``nets.layers.module.Module``) resolve to the public page of the same object.

The planning part (``plan``, ``pages``, ``write``) needs no Sphinx: tests/docs/test_site.py uses it.
"""
from __future__ import annotations

import ast
import importlib
import inspect
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

NAMESPACES = [
    "autograd_np", "autograd_np.func", "autograd_np.viz", "autograd_np.testing",
    "nets", "nets.optim", "nets.callbacks", "nets.metrics", "nets.datasets", "nets.text", "nets.init",
    "nets.distributed", "nets.layers", "nets.models", "nets.io", "nets.training", "nets.debug", "nets.cli",
]
TOPS = ("autograd_np", "nets")

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
    return out


def canonical_names(planned) -> dict[int, str]:
    """``id(object) -> the full name of its page`` for every documented class, function and module."""
    found = {id(resolve(ns)): ns for ns in reversed(list(planned))}
    for entries in planned.values():
        for e in entries:
            if e.own and _shareable(e.obj):
                found[id(e.obj)] = e.page
    return found


# --- the text of constants ---------------------------------------------------------------------------

def attribute_docs(source: str) -> dict[str, str]:
    """``{name: text}`` for the module-level assignments of ``source`` that carry a text: a string
    literal as the next statement, else ``#:`` comment lines right before it (Sphinx's conventions),
    else a comment at the end of its first line, else plain comment lines right before it."""
    lines, tree, docs = source.splitlines(), ast.parse(source), {}
    for i, node in enumerate(tree.body):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] \
            if isinstance(node, ast.AnnAssign) else []
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        after = tree.body[i + 1] if i + 1 < len(tree.body) else None
        if not names:
            continue
        if isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant) and isinstance(after.value.value, str):
            text = inspect.cleandoc(after.value.value)
        else:
            text = _comment_doc(lines, node.lineno - 1)
        docs.update({name: text for name in names if text})
    return docs


def _comment_doc(lines: list[str], first: int) -> str:
    """The comment text of the assignment starting at line index ``first`` (see ``attribute_docs``)."""
    above, j = [], first - 1
    while j >= 0 and lines[j].lstrip().startswith("#"):
        above.insert(0, lines[j].strip())
        j -= 1
    marked = [line[2:].strip() for line in above if line.startswith("#:")]
    trailing = re.search(r"#(:?)\s*(.*)$", lines[first][_code_end(lines[first]):])
    if marked:
        return " ".join(marked)
    if trailing:
        text = trailing.group(2).strip()
        return text if trailing.group(1) else _escaped(text)
    return _escaped(" ".join(line.lstrip("#").strip() for line in above))


def _escaped(text: str) -> str:
    """A plain comment as reST that shows it as written (``|grad|`` is no substitution)."""
    return re.sub(r"([\\|*`_])", r"\\\1", text)


def _code_end(line: str) -> int:
    """Where the comment of ``line`` starts (a ``#`` outside any string), or its length."""
    quote = None
    for k, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "#":
            return k
    return len(line)


def data_doc(obj, name: str) -> str:
    """The text of the constant ``name`` holding ``obj``: from the first module of our packages that
    assigns it with a doc comment (see ``attribute_docs``); "" when none does."""
    for modname in sorted(sys.modules):
        module = sys.modules[modname]
        if modname.split(".")[0] not in TOPS or module is None or vars(module).get(name, _MISSING) is not obj:
            continue
        path = getattr(module, "__file__", None)
        if path and path.endswith(".py"):
            text = attribute_docs(Path(path).read_text(encoding="utf-8")).get(name)
            if text:
                return text
    return ""


_MISSING = object()


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
        lines += [".. toctree::", "   :hidden:", ""] + [f"   {page_file(p)}" for p in own] + [""]
    return "\n".join(lines)


def _same_name(entry: Entry) -> bool:
    """Whether an entry documented elsewhere has the same name there, in another namespace (a table
    row shows the page's last name; autosummary refuses its own namespace's names in full)."""
    namespace, _, name = entry.page.rpartition(".")
    return name == entry.name and namespace != entry.namespace


def summary(obj) -> str:
    """The first paragraph of ``obj``'s docstring, on one line."""
    return " ".join(inspect.cleandoc(obj.__doc__ or "").split("\n\n")[0].split())


def page_file(page: str) -> str:
    """The file name (without .rst) of the page ``page``: the name itself, but a name that differs from
    another only by case (``autograd_np.Tensor``, ``autograd_np.tensor``) gets a suffix, since some file
    systems do not tell them apart."""
    return page + "-uppercase" if page != page.lower() and page.lower() in _ALL_PAGES else page


_ALL_PAGES: set[str] = set()


def pages(planned) -> dict[str, str]:
    """``{file name: reST}`` of every generated page."""
    _ALL_PAGES.clear()
    _ALL_PAGES.update(e.page for entries in planned.values() for e in entries if e.own)
    _ALL_PAGES.update(planned)
    out = {ns: namespace_page(ns, entries) for ns, entries in planned.items()}
    for entries in planned.values():
        out.update({page_file(e.page): name_page(e) for e in entries if e.own})
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


# --- Sphinx -------------------------------------------------------------------------------------------

_STATE: dict = {}


def _builder_inited(app):
    from sphinx.util import logging
    planned = plan()
    write(Path(app.srcdir) / "api" / "generated", planned)
    _STATE["canonical"] = canonical_names(planned)
    _STATE["data"] = {e.full: docstring(e) for entries in planned.values() for e in entries if e.kind == "data"}
    log = logging.getLogger(__name__)
    for entries in planned.values():
        for e in entries:
            if e.kind == "module" and not e.page:
                log.warning(f"apigen: {e.full} is a module no namespace documents: add it to NAMESPACES")


def _data_docstring(app, what, name, obj, options, lines):
    """A constant's text is its doc comment, never the docstring of its type (``dict``'s)."""
    if what in ("data", "attribute") and name in _STATE.get("data", {}):
        lines[:] = _STATE["data"][name].splitlines()
    keep_literal_block(lines)


def keep_literal_block(lines: list[str]) -> None:
    """numpydoc dedents the text between the summary and the first section as a whole: when that text
    is one indented literal block (``Summary::`` then the block), the block would lose its indentation.
    An empty comment (``..``, invisible) after the block keeps it."""
    if "" not in lines:
        return
    start = lines.index("")
    end = next((i for i in range(start + 1, len(lines) - 1)
                if lines[i].strip() and set(lines[i + 1].strip()) == {"-"}), len(lines))
    text = [i for i in range(start + 1, end) if lines[i].strip()]
    if text and all(lines[i][:1].isspace() for i in text):
        lines[text[-1] + 1:text[-1] + 1] = ["", ".."]


def source_defaults(func) -> dict[str, str]:
    """``{parameter: its default as written}`` of the function ``func`` (``np.float32``, not its repr)."""
    try:
        source = inspect.cleandoc("\n" + inspect.getsource(func))
        node = ast.parse(source).body[0]
    except (OSError, TypeError, SyntaxError, IndexError):
        return {}
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return {}
    args = node.args
    positional = args.posonlyargs + args.args
    pairs = list(zip(positional[len(positional) - len(args.defaults):], args.defaults))
    pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None]
    return {a.arg: ast.get_source_segment(source, d) for a, d in pairs}


def _class_signature(app, what, name, obj, options, signature, return_annotation):
    """A class's signature is its ``__init__``'s when autodoc found only a pass-through ``__new__``
    (``nets.layers.recorded.Recorded.__new__(cls, *args, **kwargs)`` records a module's arguments)."""
    if what not in ("class", "exception") or signature != "(*args, **kwargs)" or "__init__" not in dir(obj):
        return None
    from sphinx.util.inspect import DefaultValue, signature as signature_of, stringify_signature
    try:
        sig = signature_of(obj.__init__, bound_method=True)
    except (TypeError, ValueError):
        return None
    written = source_defaults(obj.__init__)
    params = [p.replace(default=DefaultValue(written[p.name])) if p.name in written else p
              for p in sig.parameters.values()]
    return stringify_signature(sig.replace(parameters=params), show_return_annotation=False), return_annotation


def _lookup(target: str):
    if target.split(".")[0] not in TOPS:
        return None
    try:
        return resolve(target)
    except (ImportError, AttributeError):
        return None


def _missing_reference(app, env, node, contnode):
    """A reference to a private path of a documented object resolves to its public page."""
    if node.get("refdomain") != "py":
        return None
    obj = _lookup(node["reftarget"])
    page = _STATE.get("canonical", {}).get(id(obj)) if obj is not None else None
    if not page or page == node["reftarget"]:
        return None
    domain = env.get_domain("py")
    kind = "mod" if inspect.ismodule(obj) else "obj"
    return domain.resolve_xref(env, node["refdoc"], app.builder, kind, page, node, contnode)


def setup(app):
    app.connect("builder-inited", _builder_inited)
    app.connect("autodoc-process-docstring", _data_docstring, priority=100)  # before numpydoc reads it
    app.connect("missing-reference", _missing_reference)
    app.connect("autodoc-process-signature", _class_signature)
    from optable import OpTable
    app.add_directive("op-table", OpTable)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
