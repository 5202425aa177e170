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
  and dtype (``show_shapes``). After ``backward`` it also shows the L2 norm of
  its ``.grad`` (``show_grads``).
* An op argument that is not a tensor appears only when it is an array with
  at least one dimension: it becomes a small dashed "const" box. Everything
  else is left out so the picture stays about data flow: numbers, 0-d arrays,
  shapes, axes, indices and keyword parameters.

Node ids come from a fixed walk (inputs first), never from ``id()``. So the
same graph always gives the same DOT text. The walk uses an explicit stack,
so very deep chains do not hit Python's recursion limit.
"""
from __future__ import annotations

import html
import shutil
import warnings
from pathlib import Path

import graphviz
import numpy as np

from .engine import Tensor

__all__ = ["draw", "to_dot", "render"]

PARAM_STYLE = {"shape": "box", "style": "rounded,filled", "fillcolor": "#cfe2ff", "color": "#1c5aa6"}
DATA_STYLE = {"shape": "box", "style": "filled", "fillcolor": "#e9e9e9", "color": "#808080"}
TENSOR_STYLE = {"shape": "box", "style": "rounded", "color": "#606060"}
OUTPUT_STYLE = {"shape": "box", "style": "rounded,filled,bold", "fillcolor": "#ffd8a8", "color": "#d9480f",
                "penwidth": "2"}
OP_STYLE = {"shape": "ellipse", "style": "filled", "fillcolor": "#fff3bf", "color": "#a08000", "fontsize": "10"}
CONST_STYLE = {"shape": "box", "style": "dashed", "color": "#909090", "fontsize": "9"}
# nslimit caps the x-positioning passes: a tensor reused along a deep chain (an RNN weight)
# otherwise takes dot minutes even at 200 nodes; ordinary graphs lay out identically.
GRAPH_ATTR = {"rankdir": "TB", "ranksep": "0.3", "nodesep": "0.3", "nslimit": "1"}
NODE_ATTR = {"fontname": "Helvetica", "fontsize": "11", "height": "0.3"}
EDGE_ATTR = {"arrowsize": "0.6", "color": "#505050"}
INSTALL_HINT = "apt-get install graphviz / brew install graphviz / conda install graphviz"


def _walk(outputs):
    """Every tensor reachable from ``outputs``, once each, inputs before the tensors made from them.

    This is an iterative post-order depth-first search that visits parents in
    argument order. The order depends only on the graph's structure, and no
    recursion is involved."""
    order, visited = [], set()
    stack = [(t, False) for t in reversed(outputs)]
    while stack:
        tensor, finished = stack.pop()
        if finished:
            order.append(tensor)
        elif id(tensor) not in visited:
            # Mark a tensor visited when it is expanded, not when it is pushed.
            # A tensor pushed early by one consumer must still be placed before
            # every other consumer that reaches it first.
            visited.add(id(tensor))
            stack.append((tensor, True))
            stack.extend((p, False) for p in reversed(tensor.parents) if id(p) not in visited)
    return order


def _html_label(bold, *small_lines):
    """An HTML-like label. Every piece is escaped, so a name with quotes or < > stays plain text."""
    lines = [f"<B>{html.escape(str(bold), quote=False)}</B>"] if bold else []
    lines += [f'<FONT POINT-SIZE="9">{html.escape(s, quote=False)}</FONT>' for s in small_lines]
    return f"<{'<BR/>'.join(lines)}>" if lines else ""


def _describe(array):
    return f"{'scalar' if np.ndim(array) == 0 else np.shape(array)} {np.result_type(array)}"


def _grad_norm(t):
    return float(np.linalg.norm(np.asarray(t.grad)))


def draw(*tensors, show_shapes=True, show_grads=False, graph_attr=None):
    """The graph that computed ``tensors``, as a ``graphviz.Digraph``.

    ``show_shapes`` adds each tensor's shape and dtype to its label.
    ``show_grads`` adds the L2 norm of each ``.grad``; use it after ``backward``.
    ``graph_attr`` overrides the Graphviz graph attributes, for example
    ``{"rankdir": "LR"}`` to draw left to right. Call ``.render()`` on the
    result, or ``.source`` for the DOT text. A notebook displays it inline::

        >>> import numpy as np, autograd_np as ag
        >>> w = ag.Tensor(np.ones(3), requires_grad=True, name="w")
        >>> ag.viz.draw(ag.sum(w * w))  # doctest: +ELLIPSIS
        <graphviz.graphs.Digraph object at ...>
    """
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"draw: expected Tensors, got {type(t).__name__}")
    dot = graphviz.Digraph("autograd", graph_attr={**GRAPH_ATTR, **(graph_attr or {})},
                           node_attr=NODE_ATTR, edge_attr=EDGE_ATTR)
    outputs = {id(t) for t in tensors}
    node_of, const_of = {}, {}  # id(tensor), id(constant array) -> node id (all kept alive by the graph)
    for number, t in enumerate(_walk(tensors)):
        node = node_of[id(t)] = f"t{number}"
        lines = [_describe(t.data)] if show_shapes else []
        if show_grads and t.grad is not None:
            lines.append(f"|grad| = {_grad_norm(t):.4g}")
        style = (OUTPUT_STYLE if id(t) in outputs else TENSOR_STYLE if t._op is not None
                 else PARAM_STYLE if t.requires_grad else DATA_STYLE)
        dot.node(node, _html_label(t.name, *lines), **style)
        if t._op is None:
            continue
        op = f"op{number}"
        dot.node(op, graphviz.escape(t._op.name), **OP_STYLE)
        for arg in t._parents:  # one edge per use: x * x gives two edges from x
            if isinstance(arg, Tensor):
                dot.edge(node_of[id(arg)], op)
            elif isinstance(arg, np.ndarray) and arg.ndim:
                if id(arg) not in const_of:
                    const_of[id(arg)] = f"c{len(const_of)}"
                    dot.node(const_of[id(arg)], _html_label("const", *([_describe(arg)] if show_shapes else [])),
                             **CONST_STYLE)
                dot.edge(const_of[id(arg)], op)
        dot.edge(op, node)
    return dot


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


def render(*tensors, path, format="svg", **options):
    """Draw ``tensors`` into the file ``path`` and return that file's path.

    ``.{format}`` is added to ``path`` unless it already ends with it. The DOT
    text is always written next to the picture, as ``<name>.dot``. If
    Graphviz's ``dot`` program is missing, one warning line says how to install
    it and the ``.dot`` path is returned instead; nothing is raised.
    ``options`` are those of ``draw``::

        >>> ag.viz.render(loss, path="runs/net.png", format="png")  # doctest: +SKIP
        PosixPath('runs/net.png')
    """
    out = Path(path)
    if out.suffix != f".{format}":
        out = out.with_name(f"{out.name}.{format}")
    dot_path = out.with_suffix(".dot")
    dot_path.parent.mkdir(parents=True, exist_ok=True)
    dot_path.write_text(to_dot(*tensors, **options), encoding="utf-8")
    if out == dot_path:  # format="dot": the text is the result
        return dot_path
    try:
        if shutil.which("dot") is None:  # check first, so a missing dot never reaches subprocess
            raise graphviz.ExecutableNotFound(["dot"])
        graphviz.render("dot", format, dot_path, outfile=out)  # runs dot as an argument list, no shell
    except graphviz.ExecutableNotFound:
        warnings.warn(f"Graphviz's `dot` program was not found, so only the DOT text was written "
                      f"({dot_path}); to render pictures install it: {INSTALL_HINT}", RuntimeWarning, stacklevel=2)
        return dot_path
    return out
