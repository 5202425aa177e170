"""The ``op-table`` directive: the table of every op, from the registry, at build time.

Its rows are those of ``autograd_np.testing.ops_markdown()`` (every op and composite with its derivative,
its forward-mode rule and the inputs the tests draw), one section per family module, the op's name linked
to its API page when it is a public function of ``autograd_np``.  Nothing of it is written by hand.
"""
from __future__ import annotations

import re

from docutils import nodes
from sphinx import addnodes
from sphinx.util.docutils import SphinxDirective

HEADER = ("op", "derivative (VJP)", "forward mode (JVP)", "inputs drawn by the tests")


def split_row(line: str, width: int = 0) -> list[str]:
    """The cells of one Markdown table row; a ``|`` inside a code span belongs to the cell, and so
    does any ``|`` in the last of ``width`` cells (plain text: "divisor |b| >= 0.25")."""
    cells, current, in_code = [], [], False
    line = line.replace("\\|", "\0")  # an escaped pipe (markdown_cell) is the cell's own character
    for char in line.strip().strip("|"):
        if char == "`":
            in_code = not in_code
        if char == "|" and not in_code and len(cells) != width - 1:
            cells.append("".join(current).strip().replace("\0", "|"))
            current = []
        else:
            current.append(char)
    cells.append("".join(current).strip().replace("\0", "|"))
    return cells


def rows(markdown: str) -> list[list[str]]:
    """The body rows of the op table (``op, module, VJP, JVP, inputs``)."""
    lines = [line for line in markdown.splitlines() if line.startswith("|")]
    header, rule, *body = lines
    width = len(split_row(header))
    found = [split_row(line, width) for line in body]
    bad = [r for r in found if len(r) != width or not r[0]]
    if bad or not set(rule) <= set("|-: "):
        raise ValueError(f"op-table: rows of ops_markdown() that do not parse: {bad[:3]}")
    return found


def inline(text: str) -> list[nodes.Node]:
    """``text`` with its Markdown code spans as literals."""
    parts = re.split(r"(`[^`]*`)", text)
    return [nodes.literal(p[1:-1], p[1:-1]) if p.startswith("`") and p.endswith("`") and len(p) > 1
            else nodes.Text(p) for p in parts if p]


def _name_cell(cell: str, public: set[str]) -> list[nodes.Node]:
    name = cell.strip("`")
    if name not in public:
        return inline(cell)
    ref = addnodes.pending_xref("", refdomain="py", reftype="func", reftarget=f"autograd_np.{name}",
                                refexplicit=False, refwarn=True)
    ref += nodes.literal(name, name, classes=["xref", "py", "py-func"])
    return [ref]


def table(body: list[list[str]], public: set[str]) -> nodes.table:
    tgroup = nodes.tgroup(cols=len(HEADER))
    for width in (14, 30, 30, 26):
        tgroup += nodes.colspec(colwidth=width)
    head, tbody = nodes.thead(), nodes.tbody()
    head += nodes.row("", *(nodes.entry("", nodes.paragraph("", h)) for h in HEADER))
    for name, _module, vjp, jvp, inputs in body:
        cells = [_name_cell(name, public), inline(vjp), inline(jvp), inline(inputs)]
        tbody += nodes.row("", *(nodes.entry("", nodes.paragraph("", "", *c)) for c in cells))
    tgroup += head
    tgroup += tbody
    return nodes.table("", tgroup, classes=["op-table"])


class OpTable(SphinxDirective):
    """``.. op-table::``: a section per family module, each with its table."""

    has_content = False

    def run(self):
        import autograd_np
        from autograd_np.testing import ops_markdown

        self.env.note_dependency(autograd_np.testing.__file__)
        families: dict[str, list[list[str]]] = {}
        for row in rows(ops_markdown()):
            families.setdefault(row[1], []).append(row)
        public = set(autograd_np.__all__)
        out = []
        for family, body in families.items():
            section = nodes.section(ids=[f"ops-{nodes.make_id(family)}"], names=[f"ops: {family}"])
            section += nodes.title("", family)
            section += nodes.paragraph("", f"{len(body)} entries, from autograd_np.ops.{family}.")
            section += table(body, public)
            out.append(section)
        return out
