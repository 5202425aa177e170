"""Calling a module: what tags the graph with the module that made it, and the loss's bookkeeping.

Every sub-module knows its path from the root model (``ModulePath``: ``"fc1"``,
``"blocks.0"``, ``"inner.fc2"``).  When a sub-module is called while gradients are
recorded, the graph nodes its forward creates are tagged with that path
(``node.module``), innermost module first, so ``ag.viz.draw`` can box them per layer
(``tagged_call``).  The losses a model made are remembered weakly, so the graphs of
those that can no longer be backpropagated are released (``track_loss``,
``release_stale_losses``).  Also ``accuracy`` and the targets' dtype rule the criterion uses.
"""
from __future__ import annotations

import weakref

import numpy as np

import autograd_np as ag

from autograd_np import core as _engine
from autograd_np.core import graph as _graph

_Tensor, _Node = ag.Tensor, ag.Node

__all__ = ["ModulePath", "tagged_call", "name_error", "WATCHERS", "release_stale_losses", "track_loss", "child_path",
           "targets_like", "accuracy"]


class ModulePath(str):
    """A sub-module's path from the root model, e.g. ``"fc1"`` or ``"block2.bn"``: a ``str``.

    The tag ``nets`` puts on graph nodes (``node.module``).  It also carries
    ``kind`` (the module's class name, ``"Affine"``) and ``parent`` (the
    enclosing module's ``ModulePath``, or ``""`` under the root); ``chain`` is
    ``((path, kind), ...)`` from the outermost attached module down to this one,
    which ``ag.viz.draw`` uses to nest its boxes and label them "fc1: Affine"."""

    def __new__(cls, path, kind, parent=""):
        self = super().__new__(cls, path)
        self.kind, self.parent = kind, parent
        return self

    @property
    def chain(self):
        links, tag = [], self
        while isinstance(tag, ModulePath):
            links.append((str(tag), tag.kind))
            tag = tag.parent
        return tuple(reversed(links))

    def __reduce__(self):  # copy / deepcopy / pickle keep the extra fields
        return type(self), (str(self), self.kind, self.parent)


_tag_calls = 0  # module calls that tagged nodes so far (any thread); see tagged_call


def _tag_nodes(out, path, start, inner=True):
    """Set ``node.module = path`` on the untagged graph nodes behind ``out`` (tensors or a
    node) created at or after clock reading ``start`` (by the forward that just returned).
    Tagged nodes of inner modules are walked through but keep their tag: the innermost
    module wins.  ``inner=False`` says no module call tagged anything meanwhile, so every
    node found is this module's."""
    outs = out if isinstance(out, (tuple, list)) else (out,)
    stack = [n for n in (o.node if type(o) is _Tensor else o for o in outs) if type(n) is _Node and n.seq >= start]
    seen = set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if not inner or node.module is None:
            node.module = path
        for p in node.inputs:
            if type(p) is _Node and p.seq >= start:
                stack.append(p)



def tagged_call(module, path, inputs, kwargs):
    """``module.forward(*inputs, **kwargs)``, its new graph nodes tagged with ``path`` (not empty)."""
    global _tag_calls
    start = _engine.clock()  # nodes made by this forward get numbers >= start
    calls = _tag_calls
    try:
        out = module.forward(*inputs, **kwargs)
    except Exception as exc:  # an AnomalyError's node is tagged too, so its picture shows the module
        node = getattr(exc, "node", None)
        if type(node) is _Node:
            _tag_nodes(node, path, start)
            _tag_calls += 1
        name_error(exc, module, path, inputs)
        raise
    _tag_nodes(out, path, start, _tag_calls != calls)
    _tag_calls += 1
    if WATCHERS:
        WATCHERS[-1](module, out)
    return out


WATCHERS = []  # functions (module, output) told of every module call (Module.summary watches a forward)


def name_error(exc, module, path, inputs):
    """Put the layer's path, class and input shapes in front of an error its forward raised:
    ``fc1 (Affine): input (5, 784): affine: x (5, 784), W (64, 32) ...``.  The innermost
    module names it (its path runs from the root); the modules around it leave it alone.  An
    exception whose text does not come from its arguments gets the words as a note."""
    if getattr(exc, "_nets_layer", None) is not None:
        return
    where = f"{path} ({type(module).__name__})"
    try:
        exc._nets_layer = where
    except AttributeError:  # (an exception without a __dict__)
        return
    shapes = [_shape_text(x) for x in inputs]
    got = f"input {shapes[0]}" if len(shapes) == 1 else f"inputs {', '.join(shapes)}" if shapes else "no input"
    if type(exc).__str__ is BaseException.__str__ and exc.args and isinstance(exc.args[0], str):
        exc.args = (f"{where}: {got}: {exc.args[0]}",) + exc.args[1:]
    else:
        exc.add_note(f"(raised in {where}, {got})")


def _shape_text(x):
    shape = getattr(x, "shape", None)
    if isinstance(shape, tuple):
        return str(shape)
    return type(x).__name__


def release_stale_losses(model):
    """Release the graphs of ``model``'s earlier losses that can no longer be
    backpropagated (a parameter changed since); forget those that are gone.
    Nothing to look at when no tensor was written since the last look."""
    refs = vars(model).get("_loss_graphs")
    if not refs or _graph.last_write() <= vars(model).get("_loss_graphs_checked", 0):
        return
    keep = []
    for ref in refs:
        node = ref()
        if node is not None and not node.freed and not _engine.release_stale(node):
            keep.append(ref)
    refs[:] = keep
    object.__setattr__(model, "_loss_graphs_checked", _graph.clock())


def track_loss(model, out):
    if type(out) is _Tensor and out.node is not None:
        refs = vars(model).get("_loss_graphs")
        if refs is None:
            refs = []
            object.__setattr__(model, "_loss_graphs", refs)  # plain state: no parameter naming
        refs.append(weakref.ref(out.node))


def child_path(parent, key, child):
    """The ``ModulePath`` of ``child``, attribute ``key`` of a module at path ``parent``:
    the child's current one when nothing changed (so tags stay identical), else a new one."""
    full = f"{parent}.{key}" if parent else key
    old = vars(child).get("_path")
    if (isinstance(old, ModulePath) and old == full and old.kind == type(child).__name__
            and (old.parent is parent or not (old.parent or parent))):
        return old
    return ModulePath(full, type(child).__name__, parent)


def targets_like(t, y):
    """One-hot float targets in the logits' dtype; labels unchanged."""
    if isinstance(t, ag.Tensor):  # (its dtype only: no value read, and vmap can batch the cast)
        return ag.astype(t, dtype=y.dtype) if t.dtype.kind == "f" and t.dtype != y.dtype else t
    tv = np.asanyarray(t)
    if tv.dtype.kind == "f" and tv.dtype != y.dtype:
        return tv.astype(y.dtype)
    return t


def accuracy(y, t) -> float:
    """Fraction of rows where ``argmax(y)`` equals the label (``t`` labels or one-hot)."""
    yv = y.data if isinstance(y, ag.Tensor) else np.asarray(y)
    tv = t.data if isinstance(t, ag.Tensor) else np.asarray(t)
    if tv.ndim == yv.ndim and tv.ndim > 1:
        tv = np.argmax(tv, axis=-1)
    pred = np.argmax(yv, axis=-1)
    return float(np.mean(pred == tv)) if pred.size else 0.0
