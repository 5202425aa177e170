"""``ag.compile``: trace a training step once, replay it as flat generated code.

    step = ag.compile(lambda x, t: model.loss(x, t))
    loss = step(x_batch, t_batch)    # as `loss = model.loss(...); loss.backward()`
    opt.step(); opt.zero_grad()

What a call does.  ``compiled(*args)`` computes ``fn(*args)``, backpropagates
its first (scalar) result into the ``.grad`` of every leaf tensor that requires
grad, exactly as ``loss.backward()`` would (accumulating), and returns fn's
results as tensors cut from any graph (copies: nothing returned is ever
overwritten by a later call).

How.  For each signature (see Guards) the first call runs ``fn`` eagerly.  The
second runs it eagerly again while recording, compares the two traces, and
lowers the second into a schedule: straight-line Python code calling the ops'
forward functions and VJPs on raw arrays, with every argument resolved to a
local variable, and the broadcasting reductions, dtype casts, gradient
accumulations and ``needs`` decided from the known shapes.  Later calls run
that code: no Tensor, Node, heap or dict per op.  ``program(*args)`` shows it.

Guards: what is checked before replaying, and what is not.
* Checked on every call: the shapes and dtypes of the array and tensor
  arguments (and which tensor arguments require grad), the values of the other
  arguments (numbers, strings...: they are part of the signature, so they must
  be hashable), ``guard()`` if given (nets passes its layers' train/eval
  modes), and the shapes, dtypes and ``requires_grad`` of the tensors ``fn``
  uses without receiving them (parameters).  A change re-traces.
* Checked once, by comparing the first two traces: the sequence of ops, their
  parameters and how they connect; that every array ``fn`` passes to an op
  without receiving it is the same object with the same values both times (an
  array computed in Python from the arguments, a dropout mask drawn in Python,
  would not be); and that ``fn`` read no tensor's values in Python
  (``float(t)``, ``t.data``, ``if t > 0``...).  Any difference, any such read,
  a backward inside ``fn`` or a graph made before the call: the signature
  runs eagerly from then on (``compiled.eager_reasons`` says why).
* Not checked: Python state ``fn`` reads that is not an argument or ``guard()``
  (a global flag, a counter) and that changes after the second call.  fn is
  traced: put what it depends on in its arguments or in ``guard``.
  ``check=True`` runs eager and compiled side by side on every call and raises
  ``CompileError`` on any difference.

Falls back to eager (documented, never replayed): under ``detect_anomaly``,
under ``no_grad`` (fn's result then has no graph), for unhashable arguments.
``create_graph`` is not compiled: use ``ag.grad`` eagerly for it.
"""
from __future__ import annotations

import threading

import numpy as np

from . import engine, hooks, modes
from .engine import Tensor
from .graph import clock, graph_nodes
from .lowering import CompileError, Program, describe, detached, eager_step, lower_and_run, split_result

__all__ = ["compile", "Compiled", "CompileError"]


def compile(fn=None, *, check=False, guard=None):  # noqa: A001  (ag.compile, like torch.compile)
    """``ag.compile(fn)`` or ``@ag.compile(check=True, guard=...)``: see the module docstring."""
    if fn is None:
        return lambda f: Compiled(f, check=check, guard=guard)
    return Compiled(fn, check=check, guard=guard)


_EAGER = "eager"


class Compiled:
    """A compiled step: call it like ``fn``; ``program(*args)`` is the schedule for
    those arguments' signature (None before it is built)."""

    def __init__(self, fn, check=False, guard=None):
        self.fn, self.check, self.guard = fn, check, guard
        self._cache = {}          # signature -> first trace (tuple), Program, or _EAGER
        self.eager_reasons = {}   # signature -> why it runs eagerly
        self._lock = threading.Lock()  # a program's buffers serve one call at a time
        self.__name__ = getattr(fn, "__name__", "compiled")
        self.__doc__ = getattr(fn, "__doc__", None)

    def __call__(self, *args):
        if modes.anomaly_blocks and modes.ANOMALY.get() is not None or not modes.GRAD_ENABLED.get():
            return eager_step(self.fn, args)
        key = self._signature(args)
        if key is None:
            return eager_step(self.fn, args)
        with self._lock:
            entry = self._cache.get(key)
            if type(entry) is Program:
                if entry.still_valid():
                    return entry.check_against_eager(self.fn, args) if self.check else entry.run(args)
                entry = None  # a parameter changed shape or dtype: trace again
            if entry is None:
                result, trace = _traced_step(self.fn, args)
                self._cache[key] = trace if trace.reason is None else self._eager(key, trace.reason)
                return result
            if entry is _EAGER:
                return eager_step(self.fn, args)
            result, trace = _traced_step(self.fn, args, lower=True)
            why = trace.reason or _difference(entry, trace)
            self._cache[key] = trace.program if why is None else self._eager(key, why)
            return result

    def _eager(self, key, why):
        self.eager_reasons[key] = why
        return _EAGER

    def _signature(self, args):
        parts = []
        for a in args:
            kind = type(a)
            if kind is np.ndarray:
                parts.append((a.shape, a.dtype))
            elif kind is Tensor:
                parts.append(("tensor", a._data.shape, a._data.dtype, a._requires_grad))
            else:
                try:
                    hash(a)
                except TypeError:
                    return None
                parts.append((kind, a))
        if self.guard is not None:
            parts.append(self.guard())
        return tuple(parts)

    def program(self, *args):
        """The schedule built for these arguments' signature, or None (not built yet, or eager)."""
        entry = self._cache.get(self._signature(args))
        return entry if type(entry) is Program else None


# --- running fn eagerly, and tracing it ---------------------------------------------

class _Tracer:
    """Watches a traced call: tensor values read in Python, backward calls inside it."""

    def __init__(self):
        self.reason = None
        self.thread = threading.get_ident()

    def value_read(self, tensor, how=None):
        if self.reason is None:
            self.reason = (f"fn read the values of a tensor in Python ({engine.label(tensor)}); the Python "
                           "that uses them would not run on replay")

    def backward_called(self, outputs=(), into_grad=True):
        if self.reason is None:
            self.reason = "fn calls backward() or grad() itself; compile calls backward on its result"


class _Trace:
    """What one traced call recorded: the comparable description, and the program."""

    def __init__(self, description=None, reason=None, program=None):
        self.description, self.reason, self.program = description, reason, program


def _traced_step(fn, args, lower=False):
    """Run fn eagerly with a tracer watching; backpropagate (through the lowering
    when ``lower``); return (result, _Trace)."""
    tracer = _Tracer()
    start = clock()
    modes.tracers.append(tracer)
    try:
        result = fn(*args)
    finally:
        modes.tracers.remove(tracer)
    loss, extras = split_result(result)
    returned = tuple(map(detached, result)) if isinstance(result, tuple) else detached(result)
    reason = tracer.reason or _untraceable(loss, extras, start)
    if reason is not None:
        loss.backward()
        return returned, _Trace(reason=reason)
    description = describe(loss, extras, args)
    if not lower:
        loss.backward()
        return returned, _Trace(description)
    program = lower_and_run(loss, extras, args, isinstance(result, tuple))
    return returned, _Trace(description, program=program)


def _untraceable(loss, extras, start):
    if loss.node is None or loss._data.size != 1:
        return "fn's first result is not a scalar computed from tensors that require grad"
    for node in graph_nodes([loss, *[e for e in extras if type(e) is Tensor]]):
        if hooks.registered(node) or any(type(p) is Tensor and hooks.registered(p) for p in node.inputs):
            return f"a gradient hook (register_hook, retain_grad) is registered in the graph (op {node.op.name!r})"
        if node.seq < start:
            return f"the result depends on a graph made before the call (op {node.op.name!r})"
        if node.freed:
            return f"op {node.op.name!r}'s graph was released inside fn"
    return None


def _difference(first, second):
    """Why two traces of one signature differ (None when they agree)."""
    a, b = first.description, second.description
    if len(a) != len(b):
        return f"the second call recorded {len(b)} ops where the first recorded {len(a)} (control flow in fn)"
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"the two calls differ at op {i} ({x[0]} vs {y[0]}): control flow or values computed in fn"
    return None


