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

import re
import shutil
import warnings
from pathlib import Path

import graphviz

from ..core import Node, Tensor
from .layout import Layout, elements, walk
from .style import EDGE_ATTR, GRAPH_ATTR, INSTALL_HINT, NODE_ATTR, caption, grad_color, html_label

__all__ = ["draw", "to_dot", "render", "grad_color", "draw_program"]


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
    roots = elements(tensors)
    layout = Layout(tensors, roots, walk(roots), show_shapes=show_shapes, show_grads=show_grads, modules=modules,
                    depth=depth, highlight=highlight, max_fanout=max_fanout)
    return drawing_of(layout, graph_attr)


def drawing_of(layout, graph_attr=None):
    """The ``Drawing`` of a ``Layout``: its statements, and a caption with its notes
    (and the colour legend when it shows gradients)."""
    dot = Drawing("autograd", graph_attr={**GRAPH_ATTR, **(graph_attr or {})},
                  node_attr=NODE_ATTR, edge_attr=EDGE_ATTR)
    layout.emit(dot)
    notes = layout.notes + ([layout.grad_note] if layout.grad_note else [])
    if notes or layout.show_grads:
        dot.attr(label=caption(notes, legend=layout.show_grads), labelloc="b", labeljust="l", fontname="Helvetica")
    return dot


def to_dot(*tensors, **options):
    """The DOT source of ``draw(*tensors, **options)``. The text is deterministic, so it can be snapshot-tested:

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
        dot.node(node, html_label(call, note) if note else graphviz.escape(call), **style)
        for name in dict.fromkeys(_LOCAL.findall(m.group("args"))):
            if name in made_by:
                dot.edge(made_by[name], node)
        for name in _LOCAL.findall(m.group("out")):
            made_by[name] = node
    return dot
