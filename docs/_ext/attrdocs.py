"""The text of a module-level constant, which has no ``__doc__``: Sphinx's conventions (a string
literal after the assignment, ``#:`` comments before it or at the end of its line), and this project's
plain comments (at the end of its first line, or right above it), escaped so that they show as written.
Needs no Sphinx (tests/docs/test_site.py uses it).
"""
from __future__ import annotations

import ast
import inspect
import re
import sys
from pathlib import Path

TOPS = ("autograd_np", "nets")


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
