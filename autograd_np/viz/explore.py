"""Graphs to explore: one self-contained HTML page per graph (``ag.viz.explore``).

    >>> page = ag.viz.explore(loss, path="graph.html")   # doctest: +SKIP
    >>> page                                              # doctest: +SKIP
    (in a notebook: the page itself, inline)

The page shows the Graphviz picture of ``draw`` (pan with the mouse, zoom with
the wheel, search by name, op or module, fold and unfold module boxes) and, for
the node you click, its op, name, shape, dtype, module, creation line, the op's
derivative rule, statistics and a histogram of its values and of its gradient.
A slider steps through the backward pass in the order the engine runs it (the
order of ``ag.explain``), colouring each tensor as its gradient is complete and
plotting the gradient norm per step.  ``check_graph`` failures and
``detect_anomaly`` findings (``highlight=``) are marked as in ``draw`` and
listed with their messages.

The page needs nothing but a browser: the picture, the script, the style and
the data are inline, and its Content-Security-Policy lets only its own script
run and forbids every request.  Names are data: they are escaped for each place
they go (HTML text, JSON inside a script element) and the script writes them as
text only.  Big graphs stay small pages: arrays are summarised (statistics,
a histogram of ``bins`` bins, the first values), a graph over ``max_nodes``
elements is drawn with its modules collapsed (each module's inside drawn as its
own picture while the drawn elements stay within ``max_drawn``).
"""
from __future__ import annotations

import base64
import gzip
import hashlib
import html
import json
import time
import warnings
from importlib import resources
from pathlib import Path

from ..core import Node, Tensor
from .explore_data import BINS, element_records, rules, script_json, step_records
from .explore_views import have_dot, main_view, module_views
from .layout import Layout, elements, walk
from .style import INSTALL_HINT

__all__ = ["explore", "Explorer"]

MAX_NODES = 400    # more elements than this: modules start collapsed
MAX_DRAWN = 1000   # elements drawn inside collapsed modules, at most, or without modules at all
MAX_HISTOGRAMS = 2000  # elements whose histograms (and first values) are embedded; the others get statistics


def _asset(name):
    return resources.files(__package__).joinpath("assets", name).read_text(encoding="utf-8")


class Explorer:
    """An explorer page: ``html`` (the page's text), ``path`` (where it was written, or
    None), ``seconds`` (time taken to build it); ``save(path)`` writes it, and a notebook
    shows it inline (an ``<iframe srcdoc>``: no server, no file)."""

    def __init__(self, page, seconds, path=None):
        self.html, self.seconds, self.path = page, seconds, path

    def save(self, path):
        """Write the page to ``path`` (``.html`` added when it has no suffix); returns the path."""
        out = Path(path)
        if not out.suffix:
            out = out.with_suffix(".html")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(self.html, encoding="utf-8")
        self.path = out
        return out

    def iframe(self, height=640):
        """The page in an ``<iframe srcdoc>`` (sandboxed: scripts run, nothing else)."""
        return (f'<iframe srcdoc="{html.escape(self.html, quote=True)}" sandbox="allow-scripts" '
                f'style="width:100%;height:{int(height)}px;border:1px solid #ccc"></iframe>')

    def _repr_html_(self):
        return self.iframe()

    def __repr__(self):
        where = f" at {self.path}" if self.path else ""
        return f"<Explorer page of {len(self.html.encode('utf-8'))} bytes{where}>"


def _check(tensors, collapse, modules, max_nodes, max_drawn, max_histograms, bins, compress):
    if not tensors:
        raise TypeError("explore: give the tensors whose graph to show, e.g. explore(loss)")
    for t in tensors:
        if not isinstance(t, (Tensor, Node)):
            raise TypeError(f"explore: expected Tensors (or graph Nodes), got {type(t).__name__}")
    for name, value in (("collapse", collapse), ("compress", compress)):
        if not (value is None or value is True or value is False):
            raise ValueError(f"explore: {name} must be None (by size), True or False, got {value!r}")
    if collapse and modules is False:
        raise ValueError("explore: collapse draws modules as nodes; it cannot be combined with modules=False")
    for name, value, low in (("max_nodes", max_nodes, 1), ("max_drawn", max_drawn, 0),
                             ("max_histograms", max_histograms, 0), ("bins", bins, 1)):
        if type(value) is not int or not low <= value <= 10 ** 7:
            raise ValueError(f"explore: {name} must be an integer from {low} to 10**7, got {value!r}")


def _layout(tensors, highlight, collapse, modules, max_nodes):
    roots = elements(tensors)
    order = walk(roots)
    tagged = any(type(t) is Node and t.module is not None for t in order) and modules is not False
    depth = 1 if tagged and (collapse or (collapse is None and len(order) > max_nodes)) else 0
    return Layout(tensors, roots, order, show_shapes=True, show_grads=False, modules=modules, depth=depth,
                  highlight=highlight, max_fanout=16)


def _modules(layout, views):
    return [{"id": node_id, "path": str(group[-1][0]), "kind": group[-1][1],
             "members": [layout.index_of[id(t)] for t in layout.members[group]], "view": node_id in views}
            for group, node_id in layout.module_node.items()]


def _pictures(layout, max_drawn):
    """The page's pictures {view id: SVG} and a note when some are left out."""
    if not have_dot():
        warnings.warn(f"explore: Graphviz's `dot` program was not found, so the page lists the nodes without a "
                      f"picture; to draw it install Graphviz: {INSTALL_HINT}", RuntimeWarning, stacklevel=3)
        return {}, [f"no picture: Graphviz's dot is missing ({INSTALL_HINT})"]
    drawn = len(layout.order) - len(layout.hidden)
    if drawn > max_drawn:
        return {}, [f"no picture: {drawn} elements to draw is over max_drawn={max_drawn} (group the graph in "
                    "nets modules to collapse it, or raise max_drawn)"]
    views = {"main": main_view(layout)}
    if not layout.depth:
        return views, []
    inside, left_out = module_views(layout, max_drawn)
    views.update(inside)
    notes = [f"{len(left_out)} module(s) not drawn inside (over max_drawn={max_drawn} elements): their "
             "elements are listed in the panel"] if left_out else []
    return views, notes


SCRIPTS = ("explore_base.js", "explore_view.js", "explore_panel.js", "explore_main.js")
COMPRESS_OVER = 1_000_000  # bytes of data and pictures from which a page is gzipped (compress=None)


def _script():
    """The page's one script: the parts, in order, inside one async function."""
    body = "\n".join(_asset(name) for name in SCRIPTS)
    return ("(async function () {\n\"use strict\";\n" + body + 'document.body.dataset.ready = "1";\n'
            '})().catch((err) => { document.body.dataset.ready = "error"; '
            'document.getElementById("panel").textContent = "could not open the graph: " + err; throw err; });\n')


def _payload(data, views, compress):
    """The data's script element and the pictures' HTML: inline as they are, or (``compress``)
    both gzipped into one base64 text that the page's script opens."""
    if not compress:
        pictures = "".join(f'<div class="view" data-view="{html.escape(key, quote=True)}" hidden>{svg}</div>'
                           for key, svg in views.items())
        return f'<script type="application/json" id="graph-data">{script_json(data)}</script>', pictures
    packed = gzip.compress(json.dumps({"data": data, "svgs": views}, allow_nan=False).encode("utf-8"), 6, mtime=0)
    return (f'<script type="application/gzip+base64" id="graph-data">{base64.b64encode(packed).decode("ascii")}'
            "</script>"), ""


def _page(title, data, views, compress):
    script, style = _script(), _asset("explore.css")
    if "</script" in script.lower() or "</style" in style.lower():
        raise RuntimeError("explore: the page's own script or style would end its element")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    policy = (f"default-src 'none'; script-src 'sha256-{digest}'; style-src 'unsafe-inline'; "
              "base-uri 'none'; form-action 'none'")
    if compress is None:
        compress = sum(len(svg) for svg in views.values()) + len(script_json(data)) > COMPRESS_OVER
    payload, pictures = _payload(data, views, compress)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title, quote=False)}</title><style>{style}</style></head>\n<body>"
            f"{_asset('explore.html')}<div id=\"views\">{pictures}</div>{payload}\n"
            f"<script>{script}</script></body></html>\n")


def explore(*tensors, path=None, title=None, highlight=None, collapse=None, modules=None, max_nodes=MAX_NODES,
            max_drawn=MAX_DRAWN, max_histograms=MAX_HISTOGRAMS, bins=BINS, compress=None):
    """An explorer page of the graph that computed ``tensors``: an ``Explorer``,
    written to ``path`` too when given (``.html`` added without a suffix).

    ``highlight``: a ``check_graph`` report (or ``GraphCheckError``), an
    ``AnomalyError`` or tensors, marked as ``draw`` marks them and listed with
    their messages.  ``collapse``: draw each top-level ``nets`` module as one
    node (True), never (False) or when the graph has more than ``max_nodes``
    elements (None); a collapsed module's inside is drawn as a picture of its
    own while the elements drawn that way stay within ``max_drawn``.  ``modules``
    as in ``draw``.  ``bins``: histogram bins per array; histograms (and first
    values) are embedded for ``max_histograms`` elements at most, those drawn
    first, the others get their statistics only.  ``compress``: gzip the data and
    pictures into the page (opened by its script, which needs a browser with
    ``DecompressionStream``: any current one): True, False, or None for pages
    whose data and pictures exceed ``COMPRESS_OVER`` bytes.  The gradients are
    those ``draw(show_grads=True)`` shows (one extra backward from scalar
    outputs on an intact graph; ``.grad`` is not touched), and the backward
    steps are ``ag.explain``'s::

        >>> import numpy as np, autograd_np as ag
        >>> w = ag.Tensor(np.arange(3.0), requires_grad=True, name="w")
        >>> page = ag.viz.explore(ag.sum(w * w))
        >>> page.html.startswith("<!DOCTYPE html>") and "w" in page.html
        True
    """
    _check(tensors, collapse, modules, max_nodes, max_drawn, max_histograms, bins, compress)
    start = time.perf_counter()
    layout = _layout(tensors, highlight, collapse, modules, max_nodes)
    records, chains, grad_note, trace = element_records(layout, tensors, bins, max_histograms=max_histograms)
    views, notes = _pictures(layout, max_drawn)
    names = ", ".join(t.name or "output" for t in tensors)
    title = f"graph of {names}" if title is None else str(title)
    data = {"title": title, "elements": records, "chains": chains, "rules": rules(layout),
            "steps": step_records(trace, layout),
            "modules": _modules(layout, views), "collapsed": bool(layout.depth),
            "notes": layout.notes + notes, "gradNote": grad_note}
    page = Explorer(_page(title, data, views, compress), 0.0)
    page.seconds = time.perf_counter() - start
    if path is not None:
        page.save(path)
    return page
