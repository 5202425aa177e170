"""What a recorded graph is made of: ``Node`` (one op application), the
``Constant`` records a released graph keeps of its data, and the clock that
orders node creations and writes.  Every other module (the engine, viz,
check_graph, explain, anomaly mode, nets) reads a graph through these."""
from __future__ import annotations

import itertools

__all__ = ["Node", "Constant", "WRITTEN", "STALE", "clock", "last_write", "graph_nodes"]

_clock = itertools.count(1)  # numbers node creations and writes to tensors: one order for both
_last_write = 0  # the clock reading of the latest write to a leaf tensor's .data (Tensor's setter sets it)


class Node:
    """One recorded op application: everything the graph keeps.

    This is the one place that says what a node is; viz, check_graph,
    explain, anomaly mode and nets read these attributes and nothing else.

    * ``op``: the ``Op``; ``params``: its keyword parameters (``axis=1``).
    * ``inputs``: one link per op argument, in order:
      a ``Node`` (the argument was computed by a recorded op),
      a ``Tensor`` (a leaf: a parameter, or a data tensor),
      or the argument itself (a number, an array).  After a plain
      ``backward()``, data tensors and arrays are replaced by ``Constant``
      records (shape, dtype, name), so that holding the graph holds no data.
    * ``seq``: creation number.  A node is created after its inputs, so newest
      first is a topological order.
    * ``shape``, ``dtype``: of the output.  ``name`` (the output tensor's),
      ``module`` (the ``nets`` module that made it), ``where`` (the user's line
      that created it, recorded in ``detect_anomaly``): labels for pictures
      and errors.
    * ``out``, ``saved``, ``extra``: what the VJP needs: the output array, the
      input arrays as the forward saw them (a list), what ``defsave`` kept.
      Backward releases them: then ``saved`` is None.  ``saved`` is
      ``WRITTEN`` after a write to the output through its tensor's ``.data``
      (the VJP's numbers no longer hold), ``STALE`` after ``release_stale``
      (a leaf the graph used was written since).  ``freed`` is true in all
      three cases, and backward through the node raises, saying which.

    ``extra`` is set only for ops with ``defsave`` (every store costs the hot path).
    """

    __slots__ = ("op", "inputs", "params", "seq", "shape", "dtype", "out", "saved", "extra",
                 "name", "module", "where", "__weakref__")

    @property
    def freed(self):
        return type(self.saved) is not list

    @property
    def parents(self):
        """The inputs that are graph elements: nodes and leaf tensors."""
        return tuple(p for p in self.inputs if type(p) is Node or getattr(p, "is_leaf", False))

    def __repr__(self):
        state = "" if type(self.saved) is list else f", freed ({self.saved or 'backward'})"
        return f"<Node {self.op.name} {self.shape} {self.dtype}{f' {self.name!r}' if self.name else ''}{state}>"


class _Released:
    """A value of ``Node.saved`` once its arrays were let go for a reason other than
    backward: ``why`` is "written" or "stale"; ``changed``, for a stale node, the
    leaf tensors written after the node used them."""

    def __init__(self, why, changed=()):
        self.why, self.changed = why, tuple(changed)

    def because(self, changed):
        return _Released(self.why, changed)

    def __repr__(self):
        return self.why


WRITTEN = _Released("written")  # the output was written to through its tensor
STALE = _Released("stale")      # released by release_stale: a leaf the graph used was written since


class Constant:
    """What a released graph keeps of a constant input (a data tensor or an
    array): its shape, dtype and name, for pictures.  ``tensor`` says which
    (a data tensor is a grey box, an array a dashed "const" one)."""

    __slots__ = ("shape", "dtype", "name", "tensor")
    requires_grad = False

    def __init__(self, array, name, tensor):
        self.shape, self.dtype, self.name, self.tensor = array.shape, array.dtype, name, tensor

    def __repr__(self):
        return f"<Constant {self.shape} {self.dtype}{f' {self.name!r}' if self.name else ''}>"


def clock() -> int:
    """A reading of the creation clock: every node created after the call has a
    larger ``seq`` (nets uses it to find the nodes one module call made)."""
    return next(_clock)


def last_write() -> int:
    """The clock reading of the latest write to any leaf tensor's ``.data`` (0 for
    none): a graph made after it used no value that has changed since."""
    return _last_write


def graph_nodes(outputs):
    """Every node that ``outputs`` (tensors or nodes) depend on, newest first: a
    topological order (each node is created after its inputs).  An explicit
    stack, so deep chains never hit the recursion limit."""
    nodes = [n for n in (o if type(o) is Node else o.node for o in outputs) if type(n) is Node]
    seen = set(nodes)
    stack = list(nodes)
    while stack:
        for p in stack.pop().inputs:
            if type(p) is Node and p not in seen:
                seen.add(p)
                nodes.append(p)
                stack.append(p)
    nodes.sort(key=lambda n: n.seq, reverse=True)
    return nodes
