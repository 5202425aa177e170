"""The pictures an explorer page embeds (``ag.viz.explore``): the graph drawn by
Graphviz as SVG, cleaned to go inline in HTML, and, for a graph drawn with its
modules collapsed, one picture of the inside of each module (within a budget of
drawn elements, so that the page stays small).

A picture's nodes keep the names ``draw`` gives them (``t<i>`` for the i-th
element of the walk, ``op<i>`` for its op, ``m<k>`` for a collapsed module,
``c<k>`` for a constant); the page finds them by the ``<title>`` Graphviz
writes in each node's group.
"""
from __future__ import annotations

import re
import shutil
from xml.etree import ElementTree

import graphviz

from ..core import Node
from .draw import Drawing, drawing_of
from .layout import _Picture, _is_const_array, _is_element, _inputs
from .style import CONST_STYLE, EDGE_ATTR, GRAPH_ATTR, MARK_OP_STYLE, NODE_ATTR, OP_STYLE, describe, html_label, \
    tensor_label

__all__ = ["svg_of", "clean_svg", "main_view", "module_views", "have_dot"]

_COMMENT = re.compile(r"<!--.*?-->", re.S)
_FONT = re.compile(r' font-family="Helvetica,sans-Serif"')
_GROUP_ID = re.compile(r'(?<=<g) id="[^"]*"')
# what Graphviz draws a graph with; anything else (a script, a link, an image) is refused
_TAGS = {"svg", "g", "title", "polygon", "polyline", "path", "ellipse", "text", "circle", "rect", "line"}


def have_dot():
    return shutil.which("dot") is not None


def clean_svg(svg):
    """Graphviz's SVG as it goes inline in a page: from ``<svg`` on (no XML prolog,
    doctype or comments), without the groups' ids (several pictures share the page)
    nor the font of every text (the page's style sets it).  It holds only what Graphviz draws from our statements, every label
    escaped; anything that could run or load (a script, an event attribute, a link)
    means a bug here and raises rather than being embedded."""
    svg = _COMMENT.sub("", svg)
    svg = svg[svg.index("<svg"):]
    for element in ElementTree.fromstring(svg).iter():
        tag = element.tag.rsplit("}", 1)[-1]
        bad = [a for a in element.attrib if a.rsplit("}", 1)[-1].lower().startswith("on") or "href" in a.lower()]
        if tag not in _TAGS or bad:
            raise RuntimeError(f"explore: Graphviz's SVG holds <{tag}> {bad or ''}; refusing to embed it")
    svg = _FONT.sub("", svg)  # the page's style sets the font once
    return _GROUP_ID.sub("", svg)  # "node1", "clust1": the same in every picture, and not needed


def svg_of(dot):
    """The cleaned SVG of a Graphviz graph (needs Graphviz's ``dot``)."""
    return clean_svg(graphviz.pipe("dot", "svg", dot.source.encode("utf-8")).decode("utf-8"))


def main_view(layout):
    """The SVG of the whole graph, as ``draw`` lays it out."""
    return svg_of(drawing_of(layout))


def _stub_label(el, layout):
    label, style = tensor_label(el, layout.outputs, True, {}, {})
    return label, {**style, "style": style.get("style", "") + ",dashed"}


def _module_picture(layout, group):
    """The statements of one collapsed module's inside: its elements as ``draw`` draws
    them (boxed by sub-module), each input from outside as a dashed box."""
    picture, stubs, depth = _Picture(), {}, len(group)
    members = layout.members[group]
    inside = {id(t) for t in members}
    for t in members:
        number = layout.index_of[id(t)][1:]
        chain = layout.chain_of.get(id(t), ())[depth:]
        picture.node(chain, f"t{number}", *tensor_label(t, layout.outputs, True, {}, layout.marks))
        if type(t) is not Node:
            continue
        marked = id(t) in layout.marks
        label = html_label(t.op.name, *layout.marks[id(t)]) if marked else graphviz.escape(t.op.name)
        picture.node(chain, f"op{number}", label, {**(MARK_OP_STYLE if marked else OP_STYLE), "ordering": "in"})
        for arg in _inputs(t):
            if _is_element(arg) and id(arg) in inside:
                picture.edge(f"t{layout.index_of[id(arg)][1:]}", f"op{number}")
                continue
            if not (_is_element(arg) or _is_const_array(arg)):
                continue
            if id(arg) not in stubs:
                known = layout.index_of.get(id(arg))
                stubs[id(arg)] = f"{known}x" if known else f"c{len(stubs)}x"  # "t5x": element t5, from outside
                label, style = _stub_label(arg, layout) if _is_element(arg) else \
                    (html_label("const", describe(arg)), CONST_STYLE)
                picture.node((), stubs[id(arg)], label, style)
            picture.edge(stubs[id(arg)], f"op{number}")
        picture.edge(f"op{number}", f"t{number}")
    return picture


def module_views(layout, budget):
    """{module node id: SVG of its inside} for the collapsed modules, in walk order,
    while their elements add up to at most ``budget``; and the ids of those left out."""
    views, left_out, spent = {}, [], 0
    for group, node_id in layout.module_node.items():
        size = len(layout.members[group])
        if spent + size > budget:
            left_out.append(node_id)
            continue
        spent += size
        dot = Drawing("module", graph_attr=GRAPH_ATTR, node_attr=NODE_ATTR, edge_attr=EDGE_ATTR)
        _module_picture(layout, group).emit(dot, True, layout.kind_fill)
        views[node_id] = svg_of(dot)
    return views, left_out
