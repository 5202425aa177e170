"""The Sphinx side of the API reference (apigen.py plans and writes the pages): event handlers that
give constants their text, keep literal blocks, show a layer's real signature and resolve references to
private paths; the ``api-namespaces`` directive (the reference's index, with each namespace's summary)."""
from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.util import logging
from docutils.statemachine import StringList
from sphinx.directives.other import TocTree

from apigen import NAMESPACES, TOPS, canonical_names, docstring, plan, resolve, summary, write

_STATE: dict = {}


def builder_inited(app):
    planned = plan()
    write(Path(app.srcdir) / "api" / "generated", planned)
    _STATE["canonical"] = canonical_names(planned)
    _STATE["data"] = {e.full: docstring(e) for entries in planned.values() for e in entries if e.kind == "data"}
    log = logging.getLogger(__name__)
    for entries in planned.values():
        for e in entries:
            if e.kind == "module" and not e.page:
                log.warning(f"apigen: {e.full} is a module no namespace documents: add it to NAMESPACES")


def data_docstring(app, what, name, obj, options, lines):
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


def class_signature(app, what, name, obj, options, signature, return_annotation):
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


def missing_reference(app, env, node, contnode):
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


def _inline(text: str) -> list[nodes.Node]:
    """``text`` with its ``double-backquoted`` spans as literals (a docstring's summary line)."""
    parts = re.split(r"(``[^`]+``)", text)
    return [nodes.literal(p[2:-2], p[2:-2]) if p.startswith("``") else nodes.Text(p) for p in parts if p]


class Namespaces(TocTree):
    """``api-namespaces``, its content namespaces' names: a list linking each one's page with the
    summary line of its docstring, and the (hidden) toctree of those pages."""

    def run(self):
        listed = [line.strip() for line in self.content if line.strip()]
        unknown = [ns for ns in listed if ns not in NAMESPACES]
        if unknown:
            raise self.error(f"api-namespaces: not in apigen.NAMESPACES: {unknown}")
        items = nodes.bullet_list()
        for ns in listed:
            ref = addnodes.pending_xref("", refdomain="std", reftype="doc", reftarget=f"/api/generated/{ns}",
                                        refexplicit=True, refwarn=True)
            ref += nodes.literal(ns, ns)
            items += nodes.list_item("", nodes.paragraph("", "", ref, nodes.Text(": "),
                                                         *_inline(summary(resolve(ns)))))
        self.content = StringList([f"generated/{ns}" for ns in listed], self.content.source(0))
        self.options["hidden"] = True
        return [items, *super().run()]
