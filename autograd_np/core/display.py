"""Small HTML tables for the reports' ``_repr_html_`` (how a notebook shows them).

Every cell is escaped; failing rows are tinted red.  No styling beyond that,
so the tables read well in Jupyter, VS Code and nbconvert's HTML alike.
"""
from __future__ import annotations

import html

import numpy as np

__all__ = ["table", "short_array", "array_html"]

_BAD = " style='background:#ffd9d9'"


def table(headers, rows, caption=None, bad=(), cls="ag-report"):
    """An HTML table: ``headers`` (strings), ``rows`` (sequences of cell texts), row indices in
    ``bad`` tinted red.  Cells are escaped unless wrapped in ``Raw``."""
    bad = set(bad)
    head = "".join(f"<th style='text-align:left'>{_cell(h)}</th>" for h in headers)
    body = "".join(f"<tr{_BAD if i in bad else ''}>" + "".join(f"<td style='text-align:left'>{_cell(c)}</td>"
                                                              for c in row) + "</tr>"
                   for i, row in enumerate(rows))
    cap = f"<caption style='text-align:left'>{_cell(caption)}</caption>" if caption else ""
    return f"<table class='{cls}'>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class Raw(str):
    """Cell text that is already HTML."""


def _cell(c):
    return c if isinstance(c, Raw) else html.escape(str(c))


def short_array(a, precision=4, threshold=24, edgeitems=3) -> str:
    """``np.array2string`` of ``a`` with few digits and at most ``threshold`` numbers shown."""
    return np.array2string(np.asarray(a), precision=precision, threshold=threshold, edgeitems=edgeitems,
                           suppress_small=False)


def array_html(a, **kwargs) -> Raw:
    """``short_array`` in a ``<pre>`` block, for a table cell."""
    return Raw(f"<pre style='margin:0; white-space:pre; overflow-wrap:normal'>"
               f"{html.escape(short_array(a, **kwargs))}</pre>")
