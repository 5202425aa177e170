"""The data an explorer page embeds (``ag.viz.explore``): per graph element its
op, name, shape, dtype, module, creation line, derivative rule, statistics and
histograms of its values and gradient, the marks of ``check_graph`` or
``detect_anomaly``, and the steps of the backward pass in the engine's order
(``ag.explain``'s).  Everything is plain JSON: numbers are rounded, NaN and inf
are strings, and arrays are never embedded whole (a histogram and the first
few values stand for them).  ``script_json`` writes it safely into a
``<script>`` element.
"""
from __future__ import annotations

import json
import math

import numpy as np

from ..core import Constant, Node, Tensor
from ..debug.explain import backward_steps
from .gradients import gradients
from .style import NONFINITE_FILL, grad_color, values_of

__all__ = ["summary", "number", "script_json", "element_records", "step_records", "rules", "BINS", "FIRST"]

BINS = 20   # histogram bins of a tensor's values (and of its gradient)
FIRST = 5   # values embedded as they are (the first ones, flattened)
DIGITS = 5  # significant digits of every embedded number


def number(x):
    """``x`` as a JSON value: a float rounded to ``DIGITS`` significant digits, or
    the string "NaN", "inf" or "-inf" (JSON has no such numbers)."""
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return float(f"{x:.{DIGITS}g}")


def _histogram(finite, lo, hi, bins):
    if lo == hi:  # one value (or all equal): one bin holds them all
        return {"lo": number(lo), "hi": number(hi), "counts": [int(finite.size)]}
    if np.isfinite(hi - lo) and (hi - lo) / bins > np.finfo(np.float64).tiny:
        counts, _ = np.histogram(finite, bins=bins, range=(lo, hi))
    else:  # a range that overflows (-1e308 to 1e308) or bins below the smallest normal number: scaled to [-1, 1]
        scale = max(abs(lo), abs(hi))
        counts, _ = np.histogram(finite / scale, bins=bins, range=(lo / scale, hi / scale))
    return {"lo": number(lo), "hi": number(hi), "counts": [int(c) for c in counts]}


def summary(array, bins=BINS, first=FIRST, detail=True):
    """Statistics of an array as embedded: ``size``, ``nan`` and ``inf`` counts (left out
    when zero), and
    over its finite values ``min``, ``max``, ``mean``, ``std`` (population, as
    ``np.std``), a histogram of ``bins`` equal bins from min to max, and the first
    ``first`` values (both only with ``detail``).  Complex arrays are summarised by their magnitudes
    (``"of": "|values|"``, left out for real ones); None for what has no numbers (None, a non-numeric array)."""
    if array is None:
        return None
    a = np.asarray(array)
    of = "values"
    if a.dtype.kind == "c":
        a, of = np.abs(a), "|values|"
    if a.dtype.kind not in "biuf":
        return None
    a = a.astype(np.float64, copy=False).ravel()
    with np.errstate(all="ignore"):
        finite_mask = np.isfinite(a)
        finite = a if finite_mask.all() else a[finite_mask]
        out = {"size": int(a.size)}
        if detail:
            out["first"] = [number(v) for v in a[:first]]
        if of != "values":
            out["of"] = of
        if finite.size < a.size:  # the counts are left out when zero
            out.update(nan=int(np.isnan(a).sum()), inf=int(np.isinf(a).sum()))
        if finite.size:
            lo, hi = float(finite.min()), float(finite.max())
            out.update(min=number(lo), max=number(hi), mean=number(finite.mean()), std=number(finite.std()))
            if detail:
                out["hist"] = _histogram(finite, lo, hi, bins)
    return out


def script_json(data):
    """``data`` as JSON text safe inside ``<script type="application/json">``: every
    ``<``, ``>`` and ``&`` is a JSON escape, so a name holding ``</script>`` or
    ``<!--`` cannot end or change the element; U+2028 and U+2029 too."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                         ("\u2029", "\\u2029")):
        text = text.replace(char, escape)
    return text


def _kind(el, outputs):
    if id(el) in outputs:
        return "output"
    if type(el) is Node:
        return "node"
    if type(el) is Constant:
        return "data"
    return "param" if el.requires_grad else "data"


def _chain_index(el, layout, chains):
    """The index in ``chains`` (the page's list of module chains) of the element's chain."""
    chain = tuple((str(path), kind) for path, kind in layout.chain_of.get(id(el), ()))
    if chain not in chains:
        chains[chain] = len(chains)
    return chains[chain]


def _where(el):
    if type(el) is Node:
        return el.where or None
    return None


def element_record(number_, el, layout, grads, chains, bins=BINS, first=FIRST, detail=True):
    """The embedded record of one graph element (its box ``t<number>`` in the picture).
    Fields without a value (no name, no op, no gradient...) are left out; without
    ``detail``, so are the histograms and first values."""
    values = values_of(el)
    if values is None:
        values = layout.outputs.get(id(el))
    node = type(el) is Node
    g = grads.get(id(el))
    record = {"id": f"t{number_}", "name": el.name or None, "op": el.op.name if node else None,
              "kind": _kind(el, layout.outputs), "shape": list(el.shape), "dtype": str(el.dtype),
              "chain": _chain_index(el, layout, chains), "where": _where(el),
              "values": summary(values, bins, first, detail), "grad": summary(g, bins, first, detail),
              "marks": list(layout.marks.get(id(el), [])) or None}
    record = {k: v for k, v in record.items() if v is not None}
    if g is not None:
        with np.errstate(all="ignore"):
            norm = float(np.linalg.norm(np.asarray(g, dtype=np.float64)))
        record["gradNorm"] = number(norm)
        record["gradColor"] = grad_color(norm) if math.isfinite(norm) else NONFINITE_FILL
    group = layout.group_of.get(id(el))
    if group is not None:  # drawn inside a collapsed module's node
        record["group"] = layout.module_node[group]
    if node:
        record["inputs"] = [layout.index_of.get(id(p)) for p in el.inputs if id(p) in layout.index_of]
    return record


def _detailed(layout, budget):
    """The ids of the elements whose histograms are embedded: at most ``budget``, those
    drawn in the main picture first (a collapsed module's inside after), in walk order."""
    drawn = [id(el) for el in layout.order if id(el) not in layout.hidden]
    inside = [id(el) for el in layout.order if id(el) in layout.hidden]
    return set((drawn + inside)[:budget])


def element_records(layout, tensors, bins=BINS, first=FIRST, max_histograms=None):
    """One record per element of ``layout.order`` (the picture's walk), the module
    chains they refer to (a list of ``[[path, kind], ...]``, outermost first), the
    gradient note, and the engine's backward trace (None when no backward could be run).
    Histograms and first values go into ``max_histograms`` records at most (None: all)."""
    grads, note, trace = gradients(tensors, layout.order)
    layout.index_of = {id(el): f"t{i}" for i, el in enumerate(layout.order)}
    chains = {(): 0}
    detailed = _detailed(layout, len(layout.order) if max_histograms is None else max_histograms)
    records = [element_record(i, el, layout, grads, chains, bins, first, id(el) in detailed)
               for i, el in enumerate(layout.order)]
    return records, [[list(link) for link in chain] for chain in chains], note, trace


def rules(layout):
    """{op name: its derivative rule} for the ops of the graph (each rule once, not per node)."""
    return {el.op.name: el.op.rule for el in layout.order if type(el) is Node and el.op.rule}


def step_records(trace, layout):
    """The backward steps in the engine's order (``backward_steps``, as ``ag.explain``
    lists them), each with the element it ran for (``id``), the norm of the gradient
    arriving there, the norm sent to each input element, and the elements whose
    gradient is complete after it (a node when its step runs, a leaf after the
    last step sending to it)."""
    if trace is None:
        return []
    steps = backward_steps(trace)
    last_send = {}
    for k, step in enumerate(steps):
        for target in step.targets:
            if type(target) is Tensor and id(target) in layout.index_of:
                last_send[id(target)] = k
    done = [[layout.index_of[id(step.node)]] for step in steps]
    for key, k in last_send.items():
        done[k].append(layout.index_of[key])
    return [{"id": layout.index_of[id(step.node)], "norm": number(step.upstream_norm),
             "sent": [[layout.index_of[id(target)], number(norm)] for target, (_, _, norm) in zip(step.targets, step.sent)],
             "done": done[k]} for k, step in enumerate(steps)]

