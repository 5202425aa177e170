"""Where the boxes of a picture go: the walk over a graph's elements, the
module chain of each, the gradients and marks to show, and the ``Layout``
that turns them into Graphviz statements (the work of ``viz.draw``).

A picture's boxes are graph elements: nodes (a tensor computed by an op: box and
op ellipse), leaf tensors, and the Constant records a released graph keeps for
its data tensors.  Array arguments (live, or released to Constant records)
become dashed "const" boxes.
"""
from __future__ import annotations

import html
import textwrap

import graphviz
import numpy as np

from .. import core as engine
from ..debug.anomaly import AnomalyError
from ..core import Constant, Node, Tensor
from ..debug.graphcheck import GraphReport
from .gradients import gradients
from .style import CLUSTER_FILLS, CLUSTER_STYLE, CONST_STYLE, MARK_OP_STYLE, NONFINITE_FILL, OP_GRADS_STYLE, OP_STYLE, describe, html_label, module_label, nonfinite, tensor_label, values_of

__all__ = ["Layout", "elements", "walk", "marks"]


def _is_element(link):
    return type(link) is Node or type(link) is Tensor or (type(link) is Constant and link.tensor)


def _is_const_array(link):
    if type(link) is Constant:
        return not link.tensor and len(link.shape) > 0
    return isinstance(link, np.ndarray) and link.ndim > 0


def _inputs(el):
    return el.inputs if type(el) is Node else ()


def elements(tensors):
    """The graph elements the picture starts from: a tensor's node, a leaf itself,
    or, for a data tensor that a released graph knows only by its ``Constant``
    record, that record (so that it stays one box)."""
    roots = [engine.graph_key(t) if type(t) is Tensor else t for t in tensors]
    records = {id(getattr(t, "_constant", None)): i for i, t in enumerate(roots)
               if type(t) is Tensor and not t.requires_grad and getattr(t, "_constant", None) is not None}
    if records:
        seen = {id(el) for el in walk([r for i, r in enumerate(roots) if i not in records.values()])}
        for key, i in records.items():
            if key in seen and id(roots[i]) not in seen:
                roots[i] = roots[i]._constant
    return roots


def walk(outputs):
    """Every element reachable from ``outputs``, once each, inputs before the elements made from them.

    This is an iterative post-order depth-first search that visits inputs in
    argument order. The order depends only on the graph's structure, and no
    recursion is involved."""
    order, visited = [], set()
    stack = [(t, False) for t in reversed(outputs)]
    while stack:
        el, finished = stack.pop()
        if finished:
            order.append(el)
        elif id(el) not in visited:
            # Mark an element visited when it is expanded, not when it is pushed.
            # One pushed early by one consumer must still be placed before
            # every other consumer that reaches it first.
            visited.add(id(el))
            stack.append((el, True))
            stack.extend((p, False) for p in reversed(_inputs(el)) if _is_element(p) and id(p) not in visited)
    return order


def _chain(tag):
    """A module tag as ((path, kind), ...), outermost first: ``tag.chain`` when the tag has one
    (``nets.ModulePath``), else one link with no kind (a plain string)."""
    chain = getattr(tag, "chain", None)
    return tuple(chain) if chain else ((str(tag), None),)


def _owner(name, chains):
    """The chain of the module owning a parameter called ``name`` ("fc1.W" -> fc1's), or ()."""
    if not name:
        return ()
    cut = name.rfind(".")
    while cut > 0:  # the longest module path followed by a dot (a lookup per dot, not a scan of every module)
        chain = chains.get(name[:cut])
        if chain is not None:
            return chain
        cut = name.rfind(".", 0, cut)
    return ()


def marks(highlight, order):
    """id(tensor) -> lines of text for the marked nodes, and notes for the picture's label."""
    if highlight is None:
        return {}, []
    ids = {id(t) for t in order}
    marks, notes = {}, []
    report = getattr(highlight, "report", None)  # a GraphCheckError carries its report
    if report is not None:
        highlight = report
    if isinstance(highlight, AnomalyError):
        node = highlight.node
        if node is None and highlight.tensor is not None:  # an unrecorded output: the tensor is the element
            node = highlight.tensor
        first = str(highlight).splitlines()[0] if str(highlight) else ""
        what = first.split("): ", 1)[-1]  # the message without its "op (phase): " prefix
        if node is not None and id(node) in ids:
            marks[id(node)] = [f"AnomalyError in {highlight.phase}", *textwrap.wrap(what, 40)]
        else:
            why = "no node: the error came before its output existed" if node is None else "its node is not drawn"
            notes.append(f"({why})")
        notes[:0] = [f"AnomalyError: {line}" if i == 0 else line
                     for i, line in enumerate(str(highlight).splitlines())]
        return marks, notes
    if isinstance(highlight, (Tensor, Node)):
        highlight = [highlight]
    items = list(highlight)
    if not isinstance(highlight, GraphReport) and all(isinstance(t, (Tensor, Node)) for t in items):
        for t in items:
            el = engine.graph_key(t) if type(t) is Tensor else t
            if id(el) not in ids and id(getattr(el, "_constant", None)) in ids:  # a data tensor, released
                el = el._constant
            marks.setdefault(id(el), [])
        return marks, notes
    if not all(hasattr(row, "node") and hasattr(row, "passed") for row in items):
        raise TypeError("draw: highlight takes a check_graph report (or GraphCheckError), an AnomalyError, "
                        f"or tensors; got {type(highlight).__name__}")
    failures = [row for row in items if not row.passed]
    missing = 0
    for row in failures:
        if id(row.node) in ids:
            err = getattr(row, "max_abs_error", float("nan"))
            marks.setdefault(id(row.node), []).extend(["check_graph: FAIL", f"derivative error {err:.2e}"])
        else:
            missing += 1
    note = f"check_graph: {len(items)} nodes checked, {len(failures)} failing"
    if failures:
        note += ": " + ", ".join(dict.fromkeys(row.op for row in failures))
    if missing:
        note += f" ({missing} not in this picture)"
    notes.append(note)
    return marks, notes


class _Picture:
    """Node and edge statements, each node with the module chain (cluster) it belongs in."""

    def __init__(self):
        self.statements = []  # ("node", chain, name, label, attrs) or ("edge", tail, head)

    def node(self, chain, name, label, attrs):
        self.statements.append(("node", chain, name, label, attrs))

    def edge(self, tail, head):
        self.statements.append(("edge", tail, head))

    def emit(self, dot, clustered, kind_fill):
        if not clustered:  # the plain picture: statements in walk order
            for s in self.statements:
                if s[0] == "node":
                    dot.node(*s[2:4], **s[4])
                else:
                    dot.edge(*s[1:])
            return
        tree = {"items": [], "children": {}}
        for s in self.statements:
            if s[0] != "node":
                continue
            branch = tree
            for link in s[1]:
                if link not in branch["children"]:
                    branch["children"][link] = {"items": [], "children": {}}
                    branch["items"].append(("cluster", link))
                branch = branch["children"][link]
            branch["items"].append(("node", s))
        self._emit_branch(dot, tree, kind_fill)
        for s in self.statements:  # edges after every node, so each node is declared in its cluster first
            if s[0] == "edge":
                dot.edge(*s[1:])

    def _emit_branch(self, graph, branch, kind_fill):
        for what, item in branch["items"]:
            if what == "node":
                graph.node(*item[2:4], **item[4])
                continue
            path, kind = item
            with graph.subgraph(name=f"cluster_{path}") as sub:
                label = f"<<B>{html.escape(path, quote=False)}</B>"
                label += f"  {html.escape(kind, quote=False)}>" if kind else ">"
                sub.attr(label=label, fillcolor=kind_fill(kind, path), **CLUSTER_STYLE)
                self._emit_branch(sub, branch["children"][item], kind_fill)


class Layout:
    """Where each element of a picture goes and how it is drawn (the work of ``viz.draw``).

    Built from the walk (``order``), it knows each element's module chain
    (``chain_of``), the module node swallowing it when collapsed
    (``group_of``), the gradients and marks to show; ``emit(dot)`` adds the
    statements, in walk order, to a Digraph."""

    def __init__(self, tensors, roots, order, *, show_shapes, show_grads, modules, depth, highlight, max_fanout):
        self.order, self.show_shapes, self.show_grads = order, show_shapes, show_grads
        tags = {id(t): _chain(t.module) for t in order if type(t) is Node and t.module is not None}
        self.clustered = bool(tags) and (modules is None or bool(modules))
        self.depth = depth if self.clustered else 0
        self.grads, self.grad_note, _ = gradients(tensors, order) if show_grads else ({}, None, None)
        self.marks, self.notes = marks(highlight, order)
        # id(element) -> the values the caller holds (a released node has none of its own)
        self.outputs = {id(r): t.data if type(t) is Tensor else values_of(r) for r, t in zip(roots, tensors)}
        self.chains = {}  # module path -> chain, for every module seen in a tag
        for chain in tags.values():
            for i in range(len(chain)):
                self.chains.setdefault(chain[i][0], chain[:i + 1])
        self.consumers = {}  # id(element) -> the nodes using it
        for t in order:
            for arg in _inputs(t):
                if _is_element(arg):
                    self.consumers.setdefault(id(arg), []).append(t)
        self.chain_of = dict(tags)
        if self.clustered:
            for t in order:
                if type(t) is Tensor and t.requires_grad:
                    owner = _owner(t.name, self.chains)
                    if owner:
                        self.chain_of[id(t)] = owner
        self.group_of = self._groups() if self.depth else {}  # id(tensor) -> its module node's chain (collapse)
        self.hidden = {k for k in self.group_of if k not in self.outputs}
        self.kinds = {}
        for t in order:  # tints follow the walk, so every picture of a graph uses the same ones
            for path, kind in self.chain_of.get(id(t), ()):
                self.kind_fill(kind, path)
        self.module_node, self.members = {}, {}  # group -> node id, and the tensors it stands for
        for t in order:
            g = self.group_of.get(id(t))
            if g is not None:
                self.module_node.setdefault(g, f"m{len(self.module_node)}")
                self.members.setdefault(g, []).append(t)
        self.module_inputs = {g: [] for g in self.module_node}
        self.picture = _Picture()
        self.node_of, self.const_of = {}, {}  # id(element), id(constant array) -> node id
        self.widely_used = set() if max_fanout is None else \
            {k for k, users in self.consumers.items() if len(users) > max_fanout and k not in self.hidden}
        self.copies = []

    # --- collapse ---------------------------------------------------------------------------
    def _group(self, chain, parents):
        """The module node a chain collapses into: at ``depth``, or a shallower leaf module."""
        if len(chain) >= self.depth:
            return chain[:self.depth]
        return chain if chain and chain not in parents else None

    def _groups(self):
        parents = {chain[:-1] for chain in self.chains.values()}  # modules with sub-modules in this graph
        group_of = {}
        for t in self.order:
            g = self._group(self.chain_of.get(id(t), ()), parents)
            if g is not None and type(t) is not Node:  # a parameter also used outside its module stays a node
                if any(self._group(self.chain_of.get(id(c), ()), parents) != g
                       for c in self.consumers.get(id(t), ())):
                    g = None
            if g is not None:
                group_of[id(t)] = g
        return group_of

    def kind_fill(self, kind, path):
        """The cluster tint of a module kind (or of a path without a kind), handed out in order."""
        key = kind or path
        if key not in self.kinds:
            self.kinds[key] = CLUSTER_FILLS[len(self.kinds) % len(CLUSTER_FILLS)]
        return self.kinds[key]

    def _place(self, chain):
        """The cluster a node is drawn in (a module node goes in its parent's: group[:-1])."""
        return chain[:self.depth - 1] if self.depth else chain

    # --- nodes --------------------------------------------------------------------------------
    def _rep(self, arg):
        """The node an edge from a tensor starts at."""
        return self.module_node[self.group_of[id(arg)]] if id(arg) in self.hidden else self.node_of[id(arg)]

    def _const_node(self, arg):
        """A constant's dashed box, outside every cluster (it may be the model's input as well as a mask)."""
        if id(arg) not in self.const_of:
            self.const_of[id(arg)] = f"c{len(self.const_of)}"
            lines = [describe(arg)] if self.show_shapes else []
            style = CONST_STYLE
            bad = nonfinite(values_of(arg))
            if bad:
                lines.append(f"contains {bad}")
                style = {**CONST_STYLE, "style": "dashed,filled", "fillcolor": NONFINITE_FILL}
            self.picture.node((), self.const_of[id(arg)], html_label("const", *lines), style)
        return self.const_of[id(arg)]

    def _use_of(self, arg, chain):
        """A dashed copy of a widely used tensor, next to the op using it."""
        label, style = tensor_label(arg, self.outputs, self.show_shapes, self.grads, self.marks)
        self.copies.append(f"{self.node_of[id(arg)]}u{len(self.copies)}")
        self.picture.node(chain, self.copies[-1], label, {**style, "style": style["style"] + ",dashed"})
        return self.copies[-1]

    def _source(self, arg):
        """The node an edge from ``arg`` starts at, or None for an argument that is not drawn."""
        if _is_element(arg):
            return self._rep(arg)
        return self._const_node(arg) if _is_const_array(arg) else None

    def _add_member(self, number, t, g):
        """``t`` drawn as part of its module node ``g`` (collapse); a drawn output is shown after it."""
        m = self.module_node[g]
        if self.members[g][0] is t:
            self.picture.node(g[:-1], m, *module_label(g, self.members[g], self.group_of, self.consumers,
                                                       self.outputs, self.grads, self.marks, self.show_shapes,
                                                       self.kind_fill))
        for arg in _inputs(t):
            src = self._source(arg)
            if src is not None and src != m and src not in self.module_inputs[g]:  # one edge per distinct input
                self.module_inputs[g].append(src)
                self.picture.edge(src, m)
        if id(t) not in self.outputs:
            return
        node = self.node_of[id(t)] = f"t{number}"
        self.picture.node(g[:-1], node, *tensor_label(t, self.outputs, self.show_shapes, self.grads, self.marks))
        if type(t) is Node:
            self.picture.edge(m, node)

    def _add_element(self, number, t):
        """``t``'s box and, for a node, its op ellipse with an edge per input."""
        node = self.node_of[id(t)] = f"t{number}"
        chain = self._place(self.chain_of.get(id(t), ()))
        note = [f"used by {len(self.consumers[id(t)])} ops: dashed copies"] if id(t) in self.widely_used else []
        self.picture.node(chain, node, *tensor_label(t, self.outputs, self.show_shapes, self.grads, self.marks,
                                                     note))
        if type(t) is not Node:
            return
        op = f"op{number}"
        style = MARK_OP_STYLE if id(t) in self.marks else OP_GRADS_STYLE if self.show_grads else OP_STYLE
        if self.clustered:  # inputs left to right in argument order (x, W, b), which boxes otherwise shuffle
            style = {**style, "ordering": "in"}
        label = html_label(t.op.name, *self.marks[id(t)]) if id(t) in self.marks else graphviz.escape(t.op.name)
        self.picture.node(chain, op, label, style)
        for arg in t.inputs:  # one edge per use: x * x gives two edges from x
            if _is_element(arg):
                self.picture.edge(self._use_of(arg, chain) if id(arg) in self.widely_used else self._rep(arg), op)
            elif _is_const_array(arg):
                self.picture.edge(self._const_node(arg), op)
        self.picture.edge(op, node)

    def emit(self, dot):
        """Add every node, cluster and edge to ``dot``."""
        for number, t in enumerate(self.order):
            g = self.group_of.get(id(t))
            if g is not None:
                self._add_member(number, t, g)
            else:
                self._add_element(number, t)
        self.picture.emit(dot, self.clustered, self.kind_fill)
