"""Pictures of recorded graphs, drawn with Graphviz.

Each tensor is a box and each op an ellipse. Arrows follow the data: from an
op's inputs into the op, and from the op to the tensor it made::

    >>> import numpy as np, autograd_np as ag
    >>> x = ag.Tensor(np.ones((2, 3)), name="x")
    >>> W = ag.Tensor(np.ones((3, 4)), requires_grad=True, name="W")
    >>> loss = ag.sum(ag.tanh(x @ W))
    >>> picture = ag.viz.draw(loss)   # a graphviz.Digraph: a notebook shows it inline
    >>> ag.viz.render(loss, path="graph.svg")  # doctest: +SKIP
    PosixPath('graph.svg')

What the picture shows:

* Parameters (leaves that require grad) are blue rounded boxes. Data (leaves
  that do not) are grey boxes. Intermediate tensors are plain rounded boxes.
  The tensors passed to ``draw`` are orange with a thick outline.
* A tensor's label shows its name in bold (when it has one), then its shape
  and dtype (``show_shapes``). A tensor whose values contain NaN or inf is
  filled red and says so.
* An op argument that is not a tensor appears only when it is an array with
  at least one dimension: it becomes a small dashed "const" box. Everything
  else is left out so the picture stays about data flow: numbers, 0-d arrays,
  shapes, axes, indices and keyword parameters.

Three diagnostics can be laid over the picture (see ``draw``):

* ``modules``: nodes created inside a ``nets`` module are boxed per module
  ("fc1: Affine", "act1: ReLU"...), and ``collapse=True`` draws each module as
  one node.
* ``show_grads``: every tensor's gradient norm, coloured from blue (vanishing)
  through white and yellow to red-orange (exploding).
* ``highlight``: the failing nodes of a ``check_graph`` report, or the node of
  an ``AnomalyError``, in red with the error written next to them.

Node ids come from a fixed walk (inputs first), never from ``id()``. So the
same graph always gives the same DOT text. The walk uses an explicit stack,
so very deep chains do not hit Python's recursion limit.
"""
from __future__ import annotations

import html
import math
import re
import shutil
import textwrap
import warnings
from pathlib import Path

import graphviz
import numpy as np

from . import engine, modes
from .anomaly import AnomalyError
from .engine import Constant, Node, Tensor
from .graphcheck import GraphReport

__all__ = ["draw", "to_dot", "render", "grad_color", "draw_program"]

PARAM_STYLE = {"shape": "box", "style": "rounded,filled", "fillcolor": "#cfe2ff", "color": "#1c5aa6"}
DATA_STYLE = {"shape": "box", "style": "filled", "fillcolor": "#e9e9e9", "color": "#808080"}
TENSOR_STYLE = {"shape": "box", "style": "rounded", "color": "#606060"}
OUTPUT_STYLE = {"shape": "box", "style": "rounded,filled,bold", "fillcolor": "#ffd8a8", "color": "#d9480f",
                "penwidth": "2"}
OP_STYLE = {"shape": "ellipse", "style": "filled", "fillcolor": "#fff3bf", "color": "#a08000", "fontsize": "10"}
# With show_grads the ops step back (white) so that the colours belong to the tensors.
OP_GRADS_STYLE = {"shape": "ellipse", "style": "filled", "fillcolor": "#ffffff", "color": "#909090",
                  "fontsize": "10"}
CONST_STYLE = {"shape": "box", "style": "dashed", "color": "#909090", "fontsize": "9"}
# A module drawn as one node (collapse=True); its fill is the module kind's cluster tint.
MODULE_STYLE = {"shape": "box", "style": "rounded,filled,bold", "color": "#495057", "penwidth": "1.5"}
CLUSTER_STYLE = {"style": "rounded,filled", "color": "#adb5bd", "fontsize": "10", "labeljust": "l",
                 "fontname": "Helvetica"}
# Cluster tints, handed to module kinds (Affine, ReLU, ...) in order of first appearance.
CLUSTER_FILLS = ("#f1f3f5", "#ebfbee", "#f3f0ff", "#fff4e6", "#e3fafc", "#fff0f6", "#f8f0fc", "#fcfce8")
NONFINITE_FILL = "#ff3030"  # NaN or inf in a tensor's values or gradient
MARK_COLOR = "#c00000"      # highlight: failing / anomalous nodes
MARK_OP_STYLE = {"shape": "ellipse", "style": "filled,bold", "fillcolor": "#ffc9c9", "color": MARK_COLOR,
                 "penwidth": "3", "fontsize": "10"}
# Gradient-norm colour scale: (log10 |grad|, colour); piecewise linear, clamped at both ends.
GRAD_SCALE = ((-8.0, "#2f5fb0"), (-5.0, "#7fa8e6"), (-3.0, "#cfe0f7"), (-2.0, "#ffffff"), (0.0, "#fff3a6"),
              (2.0, "#ffa94d"), (4.0, "#f0522a"))
# nslimit caps the x-positioning passes: a tensor reused along a deep chain (an RNN weight)
# otherwise takes dot minutes even at 200 nodes; ordinary graphs lay out identically.
GRAPH_ATTR = {"rankdir": "TB", "ranksep": "0.3", "nodesep": "0.3", "nslimit": "1"}
NODE_ATTR = {"fontname": "Helvetica", "fontsize": "11", "height": "0.3"}
EDGE_ATTR = {"arrowsize": "0.6", "color": "#505050"}
INSTALL_HINT = "apt-get install graphviz / brew install graphviz / conda install graphviz"


# --- graph elements ------------------------------------------------------------
# A picture's boxes are graph elements: nodes (a tensor computed by an op: box and
# op ellipse), leaf tensors, and the Constant records a released graph keeps for
# its data tensors.  Array arguments (live, or released to Constant records)
# become dashed "const" boxes.

def _is_element(link):
    return type(link) is Node or type(link) is Tensor or (type(link) is Constant and link.tensor)


def _is_const_array(link):
    if type(link) is Constant:
        return not link.tensor and len(link.shape) > 0
    return isinstance(link, np.ndarray) and link.ndim > 0


def _values(el):
    """The element's array when it is still held (None for a released node or a constant)."""
    if type(el) is Node:
        return el.out
    if type(el) is Tensor:
        return el.data
    return el if isinstance(el, np.ndarray) else None


def _inputs(el):
    return el.inputs if type(el) is Node else ()


def _elements(tensors):
    """The graph elements the picture starts from: a tensor's node, a leaf itself,
    or, for a data tensor that a released graph knows only by its ``Constant``
    record, that record (so that it stays one box)."""
    roots = [engine._key(t) if type(t) is Tensor else t for t in tensors]
    records = {id(getattr(t, "_constant", None)): i for i, t in enumerate(roots)
               if type(t) is Tensor and not t.requires_grad and getattr(t, "_constant", None) is not None}
    if records:
        seen = {id(el) for el in _walk([r for i, r in enumerate(roots) if i not in records.values()])}
        for key, i in records.items():
            if key in seen and id(roots[i]) not in seen:
                roots[i] = roots[i]._constant
    return roots


def _walk(outputs):
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


def _html_label(bold, *small_lines):
    """An HTML-like label. Every piece is escaped, so a name with quotes or < > stays plain text."""
    lines = [f"<B>{html.escape(str(bold), quote=False)}</B>"] if bold else []
    lines += [f'<FONT POINT-SIZE="9">{html.escape(s, quote=False)}</FONT>' for s in small_lines]
    return f"<{'<BR/>'.join(lines)}>" if lines else ""


def _describe(el):
    """``(100, 784) float32`` (``scalar float64`` for 0-d) for an element or an array."""
    shape = tuple(el.shape)
    return f"{'scalar' if not shape else shape} {el.dtype}"


def _norm(array):
    with np.errstate(all="ignore"):
        return float(np.linalg.norm(np.asarray(array)))


def _nonfinite(array):
    """"NaN" or "inf" when a floating array holds one, else None (also for None: no values kept)."""
    if array is None:
        return None
    array = np.asarray(array)
    if array.dtype.kind not in "fc":
        return None
    with np.errstate(all="ignore"):
        if np.isfinite(array).all():
            return None
        return "NaN" if np.isnan(array).any() else "inf"


def grad_color(norm):
    """The fill colour of a gradient of L2 norm ``norm``: ``"#rrggbb"`` on ``GRAD_SCALE``
    by log10 of the norm (blue below 1e-5, white at 1e-2, yellow at 1, red-orange from 1e4);
    NaN and inf give ``NONFINITE_FILL``."""
    if not math.isfinite(norm):
        return NONFINITE_FILL
    x = math.log10(norm) if norm > 0 else -math.inf
    (x0, c0) = GRAD_SCALE[0]
    if x <= x0:
        return c0
    for x1, c1 in GRAD_SCALE[1:]:
        if x <= x1:
            f = (x - x0) / (x1 - x0)
            rgb = [round(int(c0[i:i + 2], 16) * (1 - f) + int(c1[i:i + 2], 16) * f) for i in (1, 3, 5)]
            return "#" + "".join(f"{v:02x}" for v in rgb)
        x0, c0 = x1, c1
    return c0


def _dark(color):
    r, g, b = (int(color[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.299 * r + 0.587 * g + 0.114 * b < 0.5


def _chain(tag):
    """A module tag as ((path, kind), ...), outermost first: ``tag.chain`` when the tag has one
    (``nets.ModulePath``), else one link with no kind (a plain string)."""
    chain = getattr(tag, "chain", None)
    return tuple(chain) if chain else ((str(tag), None),)


def _owner(name, chains):
    """The chain of the module owning a parameter called ``name`` ("fc1.W" -> fc1's), or ()."""
    if not name:
        return ()
    best = ()
    for path, chain in chains.items():
        if name.startswith(path + ".") and len(path) > len(best[-1][0] if best else ""):
            best = chain
    return best


# --- gradients and highlights --------------------------------------------------

def _gradients(outputs, order):
    """id(tensor) -> gradient for the picture, and a note saying where they came from.

    On an intact graph with scalar outputs the gradients of every tensor are
    computed here by one extra backward (``retain_graph=True``; ``.grad`` is not
    touched). A freed graph (after a plain ``backward()``) only has the leaves'
    ``.grad`` left."""
    roots = [t for t in outputs if type(t) is Tensor and t.requires_grad]
    nodes = [t for t in order if type(t) is Node]
    reason = None
    if not roots:
        reason = "no output requires grad (or an output is a node, not a tensor)"
    elif any(t.data.size != 1 for t in roots):
        reason = "the outputs are not scalars"
    elif any(t.freed for t in nodes):
        freed = next(t for t in nodes if t.freed)
        reason = ("backward() freed the graph; draw before backward() or after "
                  "backward(retain_graph=True) to see every gradient") if freed.saved is None else \
            f"the graph was released ({engine.freed_message(freed, 'draw').split(': ', 1)[1].split('. ')[0]})"
    if reason is None:
        trace = []
        token = modes.ANOMALY.set(None)  # the picture must not raise on the NaN it is meant to show
        try:
            with np.errstate(all="ignore"):
                found, _ = engine._run(roots, None, retain_graph=True, create_graph=False, trace=trace)
        except Exception as exc:  # noqa: BLE001  (a picture with a note beats no picture)
            reason = f"computing the gradients failed ({type(exc).__name__}: {exc})"
        finally:
            modes.ANOMALY.reset(token)
    if reason is not None:
        grads = {id(t): t.grad for t in order if type(t) is Tensor and t.grad is not None}
        return grads, f"gradient norms: leaves' .grad only ({reason})"
    grads = {}
    for node, upstream, _, _ in trace:  # the upstream gradient of a node is that node's own gradient
        grads.setdefault(id(node), upstream)
    for t in order:
        if type(t) is Tensor and t in found:
            grads[id(t)] = found[t]
    for t in roots:
        grads.setdefault(id(engine._key(t)), np.ones_like(t.data))
    names = ", ".join(t.name or "output" for t in roots)
    return grads, f"gradient norms of d({names})/d(tensor), computed for this picture"


def _marks(highlight, order):
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
            el = engine._key(t) if type(t) is Tensor else t
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


# --- the picture ------------------------------------------------------------------

def _legend():
    ticks = [(-8, "1e-8"), (-6, "1e-6"), (-4, "1e-4"), (-2, "0.01"), (0, "1"), (2, "100"), (4, "1e4")]
    cells = "".join(f'<TD BGCOLOR="{grad_color(10.0 ** x)}"><FONT POINT-SIZE="9" COLOR="'
                    f'{"white" if _dark(grad_color(10.0 ** x)) else "black"}">{text}</FONT></TD>'
                    for x, text in ticks)
    cells += f'<TD BGCOLOR="{NONFINITE_FILL}"><FONT POINT-SIZE="9">NaN/inf</FONT></TD>'
    return ('<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3"><TR>'
            '<TD BORDER="0"><FONT POINT-SIZE="9">gradient L2 norm:</FONT></TD>' + cells + "</TR></TABLE>")


def _graph_label(notes, legend):
    rows = [f'<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="10">{html.escape(n, quote=False)}</FONT></TD></TR>'
            for n in notes]
    if legend:
        rows.append(f'<TR><TD ALIGN="LEFT">{_legend()}</TD></TR>')
    return f'<<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="1">{"".join(rows)}</TABLE>>'


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


def _warn_no_dot(dot_path):
    """One line of advice, reported at the user's call of ``render`` (two frames up)."""
    warnings.warn(f"Graphviz's `dot` program was not found, so only the DOT text was written "
                  f"({dot_path}); to render pictures install it: {INSTALL_HINT}", RuntimeWarning, stacklevel=3)


class Drawing(graphviz.Digraph):
    """What ``draw`` returns: a ``graphviz.Digraph`` that still works where
    Graphviz's ``dot`` program is missing.  Then ``render`` writes the DOT text,
    warns once with the install command and returns the text file's path, and
    a notebook shows the DOT text instead of the picture."""

    def render(self, *args, **kwargs):
        try:
            return super().render(*args, **kwargs)
        except graphviz.ExecutableNotFound:  # the DOT source is already saved by then
            _warn_no_dot(self.filepath)
            return self.filepath

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        try:
            return super()._repr_mimebundle_(include, exclude, **kwargs)
        except graphviz.ExecutableNotFound:
            return {"text/plain": f"{self.source}\n(Graphviz's dot is missing: {INSTALL_HINT})"}


def draw(*tensors, show_shapes=True, show_grads=False, graph_attr=None, modules=None, collapse=False,
         highlight=None, max_fanout=16):
    """The graph that computed ``tensors``, as a ``graphviz.Digraph``.

    ``show_shapes`` adds each tensor's shape and dtype to its label.
    ``graph_attr`` overrides the Graphviz graph attributes, for example
    ``{"rankdir": "LR"}`` to draw left to right. Call ``.render()`` on the
    result, or ``.source`` for the DOT text. A notebook displays it inline.
    Without Graphviz's ``dot`` program, ``.render()`` writes the DOT text and
    says how to install Graphviz (see ``Drawing``)::

        >>> import graphviz, numpy as np, autograd_np as ag
        >>> w = ag.Tensor(np.ones(3), requires_grad=True, name="w")
        >>> isinstance(ag.viz.draw(ag.sum(w * w)), graphviz.Digraph)
        True

    ``modules`` boxes the nodes by the ``nets`` module that created them: a
    node's ``_module`` tag (a ``nets.ModulePath`` such as ``"fc1"``; a plain
    string works too). Nested modules give nested boxes (``block2`` around
    ``block2.bn``), each labelled with its full path and class
    ("fc1  Affine"). A parameter sits in the box of the module that owns it
    (its name starts with the module's path: ``fc1.W``). Array constants stay
    outside the boxes (one may be the model's input), and so do nodes made
    outside any sub-module (the root model's own ops, the loss).
    The default ``None`` means True when some node carries a tag.

    ``collapse=True`` draws each top-level module as one node ("fc1: Affine",
    its output's shape, its parameters' shapes) with edges between modules and
    the remaining tensors; ``collapse=2`` collapses one level deeper (and
    leaf modules above it) and boxes the first level. A parameter also used
    outside its module (weight decay) stays a node of its own.

    ``show_grads`` writes the L2 norm of every tensor's gradient in its label
    and fills the box with ``grad_color(norm)``: blue for vanishing (1e-8 to
    1e-5), white around 0.01, yellow around 1, red-orange for exploding
    (1e4 and up). The gradients are d(outputs)/d(tensor), computed by one extra
    backward pass while the graph is intact (before ``backward()``, or after
    ``backward(retain_graph=True)``); ``.grad`` is not touched. After a plain
    ``backward()`` the graph is freed: only the leaves' ``.grad`` is shown and
    the picture's caption says so. A tensor holding NaN or inf (values or
    gradient) is filled red whatever the options.

    ``highlight`` marks nodes in red with a thick border and writes the
    error next to them: a ``check_graph`` report (or ``GraphCheckError``)
    marks every failing node (its op ellipse gets the message); an
    ``AnomalyError`` marks its ``.node`` (draw ``err.node`` itself for a
    forward anomaly) and puts the message in the caption; when ``.node`` is
    None (the error came before the output existed) only the caption is added.
    A tensor or a list of tensors is marked without a message.

    ``max_fanout``: a tensor used by more ops than this (a weight shared by
    every step of an unrolled loop) is drawn once where it is made, labelled
    with its number of uses, and again as a small dashed copy beside each op
    that uses it. One node with hundreds of long edges makes Graphviz's layout
    time grow with their square (minutes for 300 uses; a second with copies).
    ``None`` always draws one node and every edge.
    """
    for t in tensors:
        if not isinstance(t, (Tensor, Node)):
            raise TypeError(f"draw: expected Tensors (or graph Nodes), got {type(t).__name__}")
    if collapse and modules is False:
        raise ValueError("draw: collapse draws modules as nodes; it cannot be combined with modules=False")
    depth = int(collapse)
    if depth < 0:
        raise ValueError(f"draw: collapse must be True, False or a depth >= 1, got {collapse!r}")
    roots = _elements(tensors)
    order = _walk(roots)
    tags = {id(t): _chain(t.module) for t in order if type(t) is Node and t.module is not None}
    clustered = bool(tags) and (modules is None or bool(modules))
    if not clustered:
        depth = 0
    grads, grad_note = _gradients(tensors, order) if show_grads else ({}, None)
    marks, notes = _marks(highlight, order)
    dot = Drawing("autograd", graph_attr={**GRAPH_ATTR, **(graph_attr or {})},
                  node_attr=NODE_ATTR, edge_attr=EDGE_ATTR)

    # --- where each node goes: its module chain, and (collapse) the module node that swallows it
    chains = {}  # module path -> chain, for every module seen in a tag
    for chain in tags.values():
        for i in range(len(chain)):
            chains.setdefault(chain[i][0], chain[:i + 1])
    consumers = {}  # id(element) -> the nodes using it
    for t in order:
        for arg in _inputs(t):
            if _is_element(arg):
                consumers.setdefault(id(arg), []).append(t)
    chain_of = dict(tags)
    if clustered:
        for t in order:
            if type(t) is Tensor and t.requires_grad:
                owner = _owner(t.name, chains)
                if owner:
                    chain_of[id(t)] = owner
    # id(element) -> the values the caller holds (a released node has none of its own)
    outputs = {id(r): t.data if type(t) is Tensor else _values(r) for r, t in zip(roots, tensors)}
    group_of = {}  # id(tensor) -> the chain of the module node (collapse) it belongs to
    if depth:
        parents = {chain[:-1] for chain in chains.values()}  # modules with sub-modules in this graph

        def group(chain):  # the module node a chain collapses into: at ``depth``, or a shallower leaf module
            if len(chain) >= depth:
                return chain[:depth]
            return chain if chain and chain not in parents else None
        for t in order:
            g = group(chain_of.get(id(t), ()))
            if g is not None and type(t) is not Node:  # a parameter also used outside its module stays a node
                if any(group(chain_of.get(id(c), ())) != g for c in consumers.get(id(t), ())):
                    g = None
            if g is not None:
                group_of[id(t)] = g
    hidden = {k for k in group_of if k not in outputs}

    kinds = {}

    def kind_fill(kind, path):
        key = kind or path
        if key not in kinds:
            kinds[key] = CLUSTER_FILLS[len(kinds) % len(CLUSTER_FILLS)]
        return kinds[key]

    for t in order:  # tints follow the walk, so every picture of a graph uses the same ones
        for path, kind in chain_of.get(id(t), ()):
            kind_fill(kind, path)

    def place(chain):  # the cluster a node is drawn in (a module node goes in its parent's: group[:-1])
        return chain[:depth - 1] if depth else chain

    module_node, members = {}, {}  # group -> node id, and the tensors it stands for
    for t in order:
        g = group_of.get(id(t))
        if g is not None:
            module_node.setdefault(g, f"m{len(module_node)}")
            members.setdefault(g, []).append(t)
    module_inputs = {g: [] for g in module_node}

    picture = _Picture()
    node_of, const_of = {}, {}  # id(element), id(constant array) -> node id (all kept alive by the graph)

    def rep(arg):  # the node an edge from a tensor starts at
        return module_node[group_of[id(arg)]] if id(arg) in hidden else node_of[id(arg)]

    def const_node(arg):  # outside every box: a constant may be the model's input as well as a layer's mask
        if id(arg) not in const_of:
            const_of[id(arg)] = f"c{len(const_of)}"
            lines = [_describe(arg)] if show_shapes else []
            style = CONST_STYLE
            bad = _nonfinite(_values(arg))
            if bad:
                lines.append(f"contains {bad}")
                style = {**CONST_STYLE, "style": "dashed,filled", "fillcolor": NONFINITE_FILL}
            picture.node((), const_of[id(arg)], _html_label("const", *lines), style)
        return const_of[id(arg)]

    widely_used = set() if max_fanout is None else \
        {k for k, users in consumers.items() if len(users) > max_fanout and k not in hidden}
    copies = []

    def use_of(arg, chain):  # a dashed copy of a widely used tensor, next to the op using it
        label, style = _tensor_label(arg, outputs, show_shapes, grads, marks)
        copies.append(f"{node_of[id(arg)]}u{len(copies)}")
        picture.node(chain, copies[-1], label, {**style, "style": style["style"] + ",dashed"})
        return copies[-1]

    for number, t in enumerate(order):
        g = group_of.get(id(t))
        if g is not None:  # collapse: part of a module node
            m = module_node[g]
            if members[g][0] is t:
                picture.node(g[:-1], m, *_module_label(g, members[g], group_of, consumers, outputs, grads,
                                                         marks, show_shapes, kind_fill))
            for arg in _inputs(t):
                if _is_element(arg):
                    src = rep(arg)
                elif _is_const_array(arg):
                    src = const_node(arg)
                else:
                    continue
                if src != m and src not in module_inputs[g]:  # one edge per distinct input
                    module_inputs[g].append(src)
                    picture.edge(src, m)
            if id(t) not in outputs:
                continue
            node = node_of[id(t)] = f"t{number}"  # a drawn output made inside the module: shown after it
            picture.node(g[:-1], node, *_tensor_label(t, outputs, show_shapes, grads, marks))
            if type(t) is Node:
                picture.edge(m, node)
            continue
        node = node_of[id(t)] = f"t{number}"
        chain = place(chain_of.get(id(t), ()))
        note = [f"used by {len(consumers[id(t)])} ops: dashed copies"] if id(t) in widely_used else []
        picture.node(chain, node, *_tensor_label(t, outputs, show_shapes, grads, marks, note))
        if type(t) is not Node:
            continue
        op = f"op{number}"
        style = MARK_OP_STYLE if id(t) in marks else OP_GRADS_STYLE if show_grads else OP_STYLE
        if clustered:  # inputs left to right in argument order (x, W, b), which boxes otherwise shuffle
            style = {**style, "ordering": "in"}
        label = _html_label(t.op.name, *marks[id(t)]) if id(t) in marks else graphviz.escape(t.op.name)
        picture.node(chain, op, label, style)
        for arg in t.inputs:  # one edge per use: x * x gives two edges from x
            if _is_element(arg):
                picture.edge(use_of(arg, chain) if id(arg) in widely_used else rep(arg), op)
            elif _is_const_array(arg):
                picture.edge(const_node(arg), op)
        picture.edge(op, node)

    picture.emit(dot, clustered, kind_fill)
    if grad_note:
        notes.append(grad_note)
    if notes or show_grads:
        dot.attr(label=_graph_label(notes, legend=show_grads), labelloc="b", labeljust="l", fontname="Helvetica")
    return dot


def _tensor_label(t, outputs, show_shapes, grads, marks, note=()):
    """(label, attributes) of an element's box; ``note``: extra lines for the label."""
    lines = ([_describe(t)] if show_shapes else []) + list(note)
    style = dict(OUTPUT_STYLE if id(t) in outputs else TENSOR_STYLE if type(t) is Node
                 else PARAM_STYLE if t.requires_grad else DATA_STYLE)
    values = _values(t)
    bad = _nonfinite(values if values is not None else outputs.get(id(t)))
    if bad:
        lines.append(f"contains {bad}")
    g = grads.get(id(t))
    if g is not None:
        norm = _norm(g)
        lines.append(f"|grad| = {norm:.4g}")
        gbad = _nonfinite(g)
        if gbad:
            lines.append(f"grad contains {gbad}")
        bad = bad or gbad
        _fill(style, grad_color(norm))
    if bad:
        _fill(style, NONFINITE_FILL)
    if id(t) in marks:
        if type(t) is not Node:  # a leaf has no op ellipse to carry the message
            lines += marks[id(t)]
        style.update(color=MARK_COLOR, penwidth="3")
    return _html_label(t.name, *lines), style


def _fill(style, color):
    if "filled" not in style["style"]:
        style["style"] += ",filled"
    style["fillcolor"] = color
    if _dark(color):
        style["fontcolor"] = "white"
    else:
        style.pop("fontcolor", None)


def _module_label(group, members, group_of, consumers, outputs, grads, marks, show_shapes, kind_fill):
    """(label, attributes) of a module drawn as one node: path and class, what leaves it, its parameters."""
    path, kind = group[-1]
    title = f"{path}: {kind}" if kind else path
    lines, norms, bad, marked = [], [], False, []
    for t in members:
        bad = bad or _nonfinite(_values(t))
        if id(t) in marks:  # say which op inside the module is marked
            what = t.op.name if type(t) is Node else (t.name or "tensor")
            marked += [f"{what}: {line}" if i == 0 else line for i, line in enumerate(marks[id(t)] or [""])]
        g = grads.get(id(t))
        if g is not None and _nonfinite(g):
            bad = True
        leaves_module = type(t) is Node and (id(t) in outputs or any(group_of.get(id(c)) != group
                                                                       for c in consumers.get(id(t), ())))
        if leaves_module or type(t) is not Node:
            if leaves_module:
                text = "out"
            else:
                text = t.name[len(path) + 1:] if t.name and t.name.startswith(path + ".") else (t.name or "param")
            parts = [f"{text} {_describe(t)}" if show_shapes else text]
            if g is not None:
                parts.append(f"|grad| = {_norm(g):.4g}")
                if leaves_module:
                    norms.append(_norm(g))
            if show_shapes or g is not None or type(t) is not Node:
                lines.append(", ".join(parts))
    if bad:
        lines.append("contains NaN/inf")
    style = {**MODULE_STYLE, "fillcolor": kind_fill(kind, path)}
    if norms:
        _fill(style, grad_color(max(norms)))
    if bad:
        _fill(style, NONFINITE_FILL)
    if marked:
        lines += [line.rstrip(": ") for line in marked]
        if not norms and not bad:
            style["fillcolor"] = MARK_OP_STYLE["fillcolor"]
        style.update(color=MARK_COLOR, penwidth="3")
    return _html_label(title, *lines), style


def to_dot(*tensors, **options):
    """The DOT source of ``draw(*tensors, **options)``. The text is deterministic, so it can be snapshot-tested::

        >>> import numpy as np, autograd_np as ag
        >>> x = ag.Tensor(np.ones(2), requires_grad=True, name="x")
        >>> dot = ag.viz.to_dot(x * x, show_shapes=False)
        >>> [line.strip() for line in dot.splitlines() if "->" in line]  # one x node, two edges into mul
        ['t0 -> op1', 't0 -> op1', 'op1 -> t1']
        >>> dot == ag.viz.to_dot(x * x, show_shapes=False)
        True
    """
    return draw(*tensors, **options).source


def render(*tensors, path, format=None, keep_dot=False, **options):
    """Draw ``tensors`` into the file ``path`` and return that file's path.

    The format follows ``path``'s suffix, as ``python -m nets graph --out`` does:
    ``net.png`` is a PNG, ``net.pdf`` a PDF, ``net.dot`` the DOT text itself;
    a path without a suffix gets ``.svg`` (or ``.{format}``).  ``format``
    names it instead (``path="net", format="png"`` writes ``net.png``); a
    suffix that is another known format than ``format`` is an error.  The DOT
    text is written next to the picture (``<name>.dot``) only with
    ``keep_dot=True``, or when Graphviz's ``dot`` program is missing: then
    one warning line says how to install it and the ``.dot`` path is
    returned; nothing is raised.  ``options`` are those of ``draw``::

        >>> ag.viz.render(loss, path="runs/net.png")  # doctest: +SKIP
        PosixPath('runs/net.png')
    """
    out = Path(path)
    suffix = out.suffix.lstrip(".").lower()
    known = suffix in graphviz.FORMATS or suffix == "dot"
    if format is None:
        if suffix and not known:
            raise ValueError(f"render: unknown picture format {out.suffix!r} in {str(out)!r} (use .svg, .png, .pdf "
                             "or .dot, or pass format=)")
        format = suffix or "svg"
    format = str(format).lower()
    if format != "dot" and format not in graphviz.FORMATS:
        raise ValueError(f"render: unknown format {format!r} (use svg, png, pdf or dot)")
    if suffix == format:
        out = out.with_suffix(f".{format}")  # net.PNG -> net.png
    elif known:
        raise ValueError(f"render: {str(out)!r} ends with .{suffix} but format={format!r}; drop one of them")
    else:
        out = out.with_name(f"{out.name}.{format}")
    dot_path = out.with_suffix(".dot")
    out.parent.mkdir(parents=True, exist_ok=True)
    source = to_dot(*tensors, **options)
    if format == "dot":  # the text is the result
        dot_path.write_text(source, encoding="utf-8")
        return dot_path
    if keep_dot:
        dot_path.write_text(source, encoding="utf-8")
    try:
        if shutil.which("dot") is None:  # check first, so a missing dot never reaches subprocess
            raise graphviz.ExecutableNotFound(["dot"])
        data = graphviz.pipe("dot", format, source.encode("utf-8"))  # runs dot as an argument list, no shell
    except graphviz.ExecutableNotFound:
        if not keep_dot:
            dot_path.write_text(source, encoding="utf-8")
        _warn_no_dot(dot_path)
        return dot_path
    out.write_bytes(data)
    return out


_STEP_LINE = re.compile(r"^\s+(?P<out>[^=]+?)\s*=\s*(?P<call>[A-Za-z_][\w.]*)\((?P<args>.*)\)(?:\s*#\s*(?P<note>.*))?$")
_LOCAL = re.compile(r"\b(?:[avgtcGe]\d+(?:_\d+)?)\b")
_ALIAS_LINE = re.compile(r"^\s+(?P<name>[avgtcGe]\d+(?:_\d+)?)\s*=\s*(?P<source>[avgtcGe]\d+(?:_\d+)?)\s*$")


def draw_program(program):
    """A compiled step (``compiled.program(*args)``) as a picture: one box per
    kernel call of its code (the op and what it computes), an arrow from the call
    that computes a value to every call that uses it.  Forward calls are
    yellow, backward calls (VJPs) blue; gradient accumulations are small boxes."""
    dot = Drawing("program", graph_attr={**GRAPH_ATTR}, node_attr=NODE_ATTR, edge_attr=EDGE_ATTR)
    made_by = {}
    for number, line in enumerate(program.source.splitlines()[1:]):
        alias = _ALIAS_LINE.match(line)
        if alias and alias.group("source") in made_by:  # g4 = t5_0: the same value, another name
            made_by[alias.group("name")] = made_by[alias.group("source")]
            continue
        m = _STEP_LINE.match(line)
        if not m or m.group("call") in ("leaf_gradient", "Tensor", "set"):
            continue
        node = f"k{number}"
        call, note = m.group("call"), m.group("note") or ""
        backward = call.endswith("_vjp") or note.startswith("d ")
        style = {"shape": "box", "style": "rounded,filled", "fontsize": "10",
                 "fillcolor": "#dbe8ff" if backward else "#fff3bf"}
        dot.node(node, _html_label(call, note) if note else graphviz.escape(call), **style)
        for name in dict.fromkeys(_LOCAL.findall(m.group("args"))):
            if name in made_by:
                dot.edge(made_by[name], node)
        for name in _LOCAL.findall(m.group("out")):
            made_by[name] = node
    return dot
