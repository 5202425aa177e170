"""``model.summary(input_shape)``: every layer with its output shape and parameter count.

One forward pass on an input of that shape (eval mode, no graph recorded; each
module's mode is restored afterwards) tells each module's output shape, as Keras's
``model.summary()`` and torchinfo's ``summary(model, input_size)`` show them.
Rows follow the modules as ``print(model)`` lists them, indented by depth; a
module called several times (a weight-shared layer, a cell over time) shows its
first output and how many calls; one the forward never called shows ``--``.  The
parameters of a row are the module's own (a shared tensor counted once), so the
rows add up to the total.  A ``Summary`` prints as a text table and renders as an
HTML table in a notebook::

    >>> print(nets.MultiLayerNet([64, 32, 10], rng=0).summary((1, 64)))  # doctest: +SKIP
    MultiLayerNet summary: input (1, 64) float32
    Layer (type)            Output shape    Param #
    ...
"""
from __future__ import annotations

import html
import numbers
from dataclasses import dataclass

import numpy as np

import autograd_np as ag

from ..util import validate as _v
from . import calling as _calling

__all__ = ["Summary", "SummaryRow", "summarize"]


@dataclass(frozen=True)
class SummaryRow:
    """One module of a ``Summary``: its path (``""`` for the model), class, depth, output
    shape as text (``"--"`` when not called), own parameter count and number of calls."""

    name: str
    kind: str
    depth: int
    output_shape: str
    params: int
    calls: int
    short: str = ""  # the name below the enclosing module's row ("layers.0" under the model)

    @property
    def label(self):
        return self.kind if not self.name else f"{self.short or self.name} ({self.kind})"


class Summary:
    """What ``Module.summary`` returns: ``rows`` (``SummaryRow``), ``input_shapes``,
    ``output_shape`` (text), ``total_params``, ``buffer_elements`` (not trained, e.g.
    BatchNorm's statistics) and ``nbytes`` (parameters and buffers)."""

    def __init__(self, kind, rows, input_shapes, dtype, output_shape, buffer_elements, nbytes):
        self.kind, self.rows, self.input_shapes, self.dtype = kind, rows, input_shapes, dtype
        self.output_shape, self.buffer_elements, self.nbytes = output_shape, buffer_elements, nbytes
        self.total_params = sum(r.params for r in rows)

    def _cells(self):
        head = ("Layer (type)", "Output shape", "Param #")
        body = [("  " * r.depth + r.label, r.output_shape + (f" x{r.calls} calls" if r.calls > 1 else ""),
                 f"{r.params:,}") for r in self.rows]
        return head, body

    def _footer(self):
        return [f"Total params: {self.total_params:,}", f"Buffers (not trained): {self.buffer_elements:,}",
                f"Size: {_size(self.nbytes)}"]

    def _title(self):
        shapes = ", ".join(str(s) for s in self.input_shapes)
        return f"{self.kind} summary: input{'s' if len(self.input_shapes) > 1 else ''} {shapes} {self.dtype}"

    def __str__(self):
        head, body = self._cells()
        widths = [max(len(row[i]) for row in [head, *body]) for i in range(3)]

        def line(cells):
            return (f"{cells[0]:<{widths[0]}}  {cells[1]:<{widths[1]}}  {cells[2]:>{widths[2]}}").rstrip()
        rule = "=" * (sum(widths) + 4)
        return "\n".join([self._title(), line(head), rule, *map(line, body), rule, *self._footer()])

    __repr__ = __str__

    def _repr_html_(self):
        head, body = self._cells()
        cell = "<td style='text-align:{}'>{}</td>".format
        rows = "".join("<tr>" + cell("left", "&nbsp;" * 2 * r.depth + html.escape(c[0])) + cell("left", html.escape(c[1]))
                       + cell("right", c[2]) + "</tr>" for r, c in zip(self.rows, body))
        return (f"<p><b>{html.escape(self._title())}</b></p><table class='nets-summary'><thead><tr>"
                + "".join(f"<th>{html.escape(h)}</th>" for h in head) + f"</tr></thead><tbody>{rows}</tbody></table>"
                + "<p>" + "<br>".join(html.escape(f) for f in self._footer()) + "</p>")


def _size(nbytes):
    for unit in ("B", "KB", "MB", "GB"):
        if nbytes < 1024 or unit == "GB":
            return f"{nbytes:.0f} {unit}" if unit == "B" else f"{nbytes:.1f} {unit}"
        nbytes /= 1024


def _shape_text(out):
    """An output's shape as text: a tensor's shape, a tuple of them for a tuple of outputs."""
    if isinstance(out, (ag.Tensor, np.ndarray)):
        return str(tuple(out.shape))
    if isinstance(out, (tuple, list)):
        return "(" + ", ".join(_shape_text(o) for o in out) + ("," if len(out) == 1 else "") + ")"
    if out is None:
        return "None"
    return "()" if isinstance(out, numbers.Number) else type(out).__name__


def _input_shapes(input_shape):
    """One shape (a tuple of sizes, the batch axis first) or a list of them, checked."""
    def one(shape, name):
        if isinstance(shape, (numbers.Integral, np.integer)) and not isinstance(shape, (bool, np.bool_)):
            shape = (shape,)
        return tuple(_v.int_list(shape, name, "summary", min_len=1, low=0))
    if isinstance(input_shape, (list, tuple)) and input_shape and all(isinstance(s, (list, tuple)) for s in input_shape):
        return [one(s, f"input_shape[{i}]") for i, s in enumerate(input_shape)]
    return [one(input_shape, "input_shape")]


def _inputs(shapes, dtype):
    """Inputs of those shapes: normal draws (seed 0) for floats, zeros for integers (token ids)."""
    rng = np.random.default_rng(0)
    out = []
    for shape in shapes:
        _v.allocation("summary", f"input_shape={shape}", int(np.prod(shape, dtype=object)), 2 * dtype.itemsize)
        out.append(rng.standard_normal(shape).astype(dtype) if dtype.kind == "f" else np.zeros(shape, dtype))
    return out


def _dtype(dtype, model):
    if dtype is None:
        return np.dtype(model.dtype)
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt.kind not in "biuf":
        raise TypeError(f"summary: dtype must be a real number dtype (np.float32, np.int64...), got {dtype!r:.60}")
    return dt


def summarize(model, input_shape, dtype=None) -> Summary:
    """The ``Summary`` of ``model`` on inputs of ``input_shape`` (see ``Module.summary``)."""
    shapes, dt = _input_shapes(input_shape), _dtype(dtype, model)
    inputs = _inputs(shapes, dt)
    modules = list(model.named_modules())  # (also refreshes every module's path)
    seen = {}

    def watch(module, out):
        first, calls = seen.get(id(module), (out, 0))
        seen[id(module)] = (first, calls + 1)
    modes = [(m, m.training) for _, m in modules]
    model.eval()
    _calling.WATCHERS.append(watch)
    try:
        with ag.no_grad(), np.errstate(all="ignore"):
            out = model(*inputs)
    finally:
        _calling.WATCHERS.remove(watch)
        for m, mode in modes:
            m.training = mode
    return Summary(type(model).__name__, _rows(modules, seen), shapes, dt, _shape_text(out),
                   sum(int(np.size(b)) for _, b in model.named_buffers()),
                   sum(p.data.nbytes for p in model.parameters()) + sum(np.asarray(b).nbytes
                                                                         for _, b in model.named_buffers()))


def _rows(modules, seen):
    counted, rows, depths = set(), [], {"": 0}
    for name, module in modules:
        own = 0
        for _, p in module._own_parameters():
            if id(p) not in counted:
                counted.add(id(p))
                own += p.size
        first, calls = seen.get(id(module), (None, 0))
        parent = _enclosing(name, depths)
        depths[name] = depths[parent] + 1 if name else 0
        rows.append(SummaryRow(name, type(module).__name__, depths[name], _shape_text(first) if calls else "--",
                               int(own), calls, name[len(parent) + 1:] if parent else name))
    return rows


def _enclosing(name, rows):
    """The longest prefix of ``name`` (cut at dots) that is a row: the module holding it, through
    a list or a dict attribute ("layers.0" is under the model, not under a row "layers")."""
    parts = name.split(".")
    for k in range(len(parts) - 1, 0, -1):
        prefix = ".".join(parts[:k])
        if prefix in rows:
            return prefix
    return ""
