"""How a picture of a graph looks: the Graphviz styles, the colour scale of
gradient norms, and the labels of tensors and collapsed modules (``viz``
draws with these; ``viz_layout`` decides where each box goes)."""
from __future__ import annotations

import html
import math
import re
import textwrap
from pathlib import Path, PureWindowsPath

import numpy as np

from ..core import Node, Tensor

__all__ = ["grad_color", "html_label", "describe", "l2_norm", "nonfinite", "values_of", "caption", "fill",
           "tensor_label", "module_label", "is_dark", "grad_legend", "shown_paths", "caption_lines"]

#: Graphviz attributes of a parameter's box (a leaf that requires grad).
PARAM_STYLE = {"shape": "box", "style": "rounded,filled", "fillcolor": "#cfe2ff", "color": "#1c5aa6"}
#: Graphviz attributes of a data box (a leaf that does not require grad: an input).
DATA_STYLE = {"shape": "box", "style": "filled", "fillcolor": "#e9e9e9", "color": "#808080"}
#: Graphviz attributes of an intermediate tensor's box.
TENSOR_STYLE = {"shape": "box", "style": "rounded", "color": "#606060"}
#: Graphviz attributes of an output's box (a tensor given to draw).
OUTPUT_STYLE = {"shape": "box", "style": "rounded,filled,bold", "fillcolor": "#ffd8a8", "color": "#d9480f",
                "penwidth": "2"}
#: Graphviz attributes of an op's ellipse.
OP_STYLE = {"shape": "ellipse", "style": "filled", "fillcolor": "#fff3bf", "color": "#a08000", "fontsize": "10"}
# With show_grads the ops step back (white) so that the colours belong to the tensors.
OP_GRADS_STYLE = {"shape": "ellipse", "style": "filled", "fillcolor": "#ffffff", "color": "#909090",
                  "fontsize": "10"}
#: Graphviz attributes of a constant input's dashed box (an array or a number given to an op).
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
MAX_LISTED = 8  # a collapsed module with more parameters says how many instead of listing them
INSTALL_HINT = "apt-get install graphviz / brew install graphviz / conda install graphviz"
# A caption line longer than this is wrapped, and each line's cell reserves CHAR_EM of
# its font size per character: Graphviz sizes a label from its own Helvetica metrics
# (about 0.48 em a character), and a viewer without Helvetica or Liberation Sans draws
# it in its sans-serif (DejaVu Sans, Verdana: up to about 0.58 em), so one long line (an
# anomaly's source line) ran past the picture's right edge.
CAPTION_WIDTH = 72
CAPTION_POINTS = 10
CHAR_EM = 0.58
# An absolute path in a message (POSIX /a/b..., Windows C:\a\b...), not preceded by a
# word character (so "x/y" and "1 / (2 x)" are left alone); it ends at white space, a
# quote, a bracket or the ":line" that follows a file name.
_ABSOLUTE_PATH = re.compile(r"(?<![\w.~/\\])(?:/[^\s:/\\'\"()<>,]+){2,}"
                            r"|(?<![\w.])[A-Za-z]:\\(?:[^\s:\\'\"()<>,]+\\)*[^\s:\\'\"()<>,]+")


def values_of(el):
    """The element's array when it is still held (None for a released node or a constant)."""
    if type(el) is Node:
        return el.out
    if type(el) is Tensor:
        return el.data
    return el if isinstance(el, np.ndarray) else None


def html_label(bold, *small_lines):
    """An HTML-like label. Every piece is escaped, so a name with quotes or < > stays plain text."""
    lines = [f"<B>{html.escape(str(bold), quote=False)}</B>"] if bold else []
    lines += [f'<FONT POINT-SIZE="9">{html.escape(s, quote=False)}</FONT>' for s in small_lines]
    return f"<{'<BR/>'.join(lines)}>" if lines else ""


def describe(el):
    """``(100, 784) float32`` (``scalar float64`` for 0-d) for an element or an array."""
    shape = tuple(el.shape)
    return f"{'scalar' if not shape else shape} {el.dtype}"


def l2_norm(array):
    with np.errstate(all="ignore"):
        return float(np.linalg.norm(np.asarray(array)))


def nonfinite(array):
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


def is_dark(color):
    r, g, b = (int(color[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.299 * r + 0.587 * g + 0.114 * b < 0.5


def grad_legend():
    ticks = [(-8, "1e-8"), (-6, "1e-6"), (-4, "1e-4"), (-2, "0.01"), (0, "1"), (2, "100"), (4, "1e4")]
    cells = "".join(f'<TD BGCOLOR="{grad_color(10.0 ** x)}"><FONT POINT-SIZE="9" COLOR="'
                    f'{"white" if is_dark(grad_color(10.0 ** x)) else "black"}">{text}</FONT></TD>'
                    for x, text in ticks)
    cells += f'<TD BGCOLOR="{NONFINITE_FILL}"><FONT POINT-SIZE="9">NaN/inf</FONT></TD>'
    return ('<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3"><TR>'
            '<TD BORDER="0"><FONT POINT-SIZE="9">gradient L2 norm:</FONT></TD>' + cells + "</TR></TABLE>")


def _shown_path(path, cwd):
    """``path`` relative to ``cwd`` when it lies inside it (not the file system's root),
    else its file name alone."""
    windows = not path.startswith("/")
    p = PureWindowsPath(path) if windows else Path(path)
    if not windows and cwd.parent != cwd:
        try:
            return p.relative_to(cwd).as_posix()
        except ValueError:
            pass
    return p.name


def shown_paths(text, cwd=None):
    """``text`` with each absolute path shortened for a picture: relative to ``cwd``
    (default: the current directory) when inside it, else the file name alone.  A
    picture is shared (a page, a report, the docs), so it says which file and line
    without the machine's folders (a user's name, a temporary folder)."""
    cwd = Path.cwd() if cwd is None else Path(cwd)
    return _ABSOLUTE_PATH.sub(lambda m: _shown_path(m.group(0), cwd), text)


def caption_lines(note, width=CAPTION_WIDTH):
    """One note of a caption as lines of at most ``width`` characters: paths shortened
    (``shown_paths``), long lines wrapped at spaces, continuations indented under the
    note's own indentation."""
    note = shown_paths(note)
    if len(note) <= width:
        return [note]
    indent = note[:len(note) - len(note.lstrip())]
    return textwrap.wrap(note, width, subsequent_indent=indent + "    ", break_on_hyphens=False) or [note]


def caption(notes, legend):
    lines = [line for n in notes for line in caption_lines(n)]
    width = math.ceil(max(map(len, lines), default=0) * CAPTION_POINTS * CHAR_EM)
    rows = [f'<TR><TD ALIGN="LEFT" WIDTH="{width}"><FONT POINT-SIZE="{CAPTION_POINTS}">'
            f'{html.escape(line, quote=False)}</FONT></TD></TR>' for line in lines]
    if legend:
        rows.append(f'<TR><TD ALIGN="LEFT">{grad_legend()}</TD></TR>')
    return f'<<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="1">{"".join(rows)}</TABLE>>'


def fill(style, color):
    if "filled" not in style["style"]:
        style["style"] += ",filled"
    style["fillcolor"] = color
    if is_dark(color):
        style["fontcolor"] = "white"
    else:
        style.pop("fontcolor", None)


def tensor_label(t, outputs, show_shapes, grads, marks, note=()):
    """(label, attributes) of an element's box; ``note``: extra lines for the label."""
    lines = ([describe(t)] if show_shapes else []) + list(note)
    style = dict(OUTPUT_STYLE if id(t) in outputs else TENSOR_STYLE if type(t) is Node
                 else PARAM_STYLE if t.requires_grad else DATA_STYLE)
    values = values_of(t)
    bad = nonfinite(values if values is not None else outputs.get(id(t)))
    if bad:
        lines.append(f"contains {bad}")
    g = grads.get(id(t))
    if g is not None:
        norm = l2_norm(g)
        lines.append(f"|grad| = {norm:.4g}")
        gbad = nonfinite(g)
        if gbad:
            lines.append(f"grad contains {gbad}")
        bad = bad or gbad
        fill(style, grad_color(norm))
    if bad:
        fill(style, NONFINITE_FILL)
    if id(t) in marks:
        if type(t) is not Node:  # a leaf has no op ellipse to carry the message
            lines += marks[id(t)]
        style.update(color=MARK_COLOR, penwidth="3")
    return html_label(t.name, *lines), style


def module_label(group, members, group_of, consumers, outputs, grads, marks, show_shapes, kind_fill):
    """(label, attributes) of a module drawn as one node: path and class, what leaves it, its parameters."""
    path, kind = group[-1]
    title = f"{path}: {kind}" if kind else path
    lines, norms, bad, marked = [], [], False, []
    params = sum(type(t) is not Node for t in members)
    for t in members:
        bad = bad or nonfinite(values_of(t))
        if id(t) in marks:  # say which op inside the module is marked
            what = t.op.name if type(t) is Node else (t.name or "tensor")
            marked += [f"{what}: {line}" if i == 0 else line for i, line in enumerate(marks[id(t)] or [""])]
        g = grads.get(id(t))
        if g is not None and nonfinite(g):
            bad = True
        leaves_module = type(t) is Node and (id(t) in outputs or any(group_of.get(id(c)) != group
                                                                       for c in consumers.get(id(t), ())))
        if type(t) is not Node and params > MAX_LISTED:
            continue  # summed up in one line below
        if leaves_module or type(t) is not Node:
            if leaves_module:
                text = "out"
            else:
                text = t.name[len(path) + 1:] if t.name and t.name.startswith(path + ".") else (t.name or "param")
            parts = [f"{text} {describe(t)}" if show_shapes else text]
            if g is not None:
                parts.append(f"|grad| = {l2_norm(g):.4g}")
                if leaves_module:
                    norms.append(l2_norm(g))
            if show_shapes or g is not None or type(t) is not Node:
                lines.append(", ".join(parts))
    if params > MAX_LISTED:
        size = sum(int(np.prod(t.shape)) for t in members if type(t) is not Node)
        lines.append(f"{params} parameters ({size:,} values), {len(members) - params} ops")
    if bad:
        lines.append("contains NaN/inf")
    style = {**MODULE_STYLE, "fillcolor": kind_fill(kind, path)}
    if norms:
        fill(style, grad_color(max(norms)))
    if bad:
        fill(style, NONFINITE_FILL)
    if marked:
        lines += [line.rstrip(": ") for line in marked]
        if not norms and not bad:
            style["fillcolor"] = MARK_OP_STYLE["fillcolor"]
        style.update(color=MARK_COLOR, penwidth="3")
    return html_label(title, *lines), style
