"""``ag.compile``: trace a training step once, replay it as flat generated code.

    step = ag.compile(lambda x, t: model.loss(x, t))
    loss = step(x_batch, t_batch)    # as `loss = model.loss(...); loss.backward()`
    opt.step(); opt.zero_grad()

What a call does.  ``compiled(*args)`` computes ``fn(*args)``, backpropagates
its first (scalar) result into the ``.grad`` of every leaf tensor that requires
grad, exactly as ``loss.backward()`` would (accumulating), and returns fn's
results as tensors cut from any graph (copies: nothing returned is ever
overwritten by a later call).

How.  Each call has a *signature* (``guards.py``: the arguments' shapes and
dtypes, the other arguments' exact values, which positions hold the same
object, fn's free variables and globals, the state of the ``nets`` modules it
reads, ``guard()``).  For a new signature the first call runs ``fn`` eagerly
while tracing it; the second traces it again and, when the two traces agree and
fn did nothing a replay would skip, lowers the second into a schedule
(``lowering.py``).  Later calls run that code: no Tensor, Node, heap or dict
per op.  While tracing, fn receives stand-ins for its arguments (``tracing.py``)
so that Python reading their values, or writing into them, is seen.

What runs eagerly instead, and why (``eager_reasons``; ``strict=True`` makes
each of these an error): fn read values in Python, wrote into an argument,
called backward itself, used a graph made before the call, registered a hook;
the two traces differ; an argument is unhashable; the call is made under
``no_grad`` or ``detect_anomaly``, from inside fn itself, or while a hook is
registered on an argument; more than ``recompile_limit`` signatures were
traced (a warning says what kept changing).
"""
from __future__ import annotations

import collections
import functools
import threading
import warnings

import numpy as np

from ..core import Tensor, hooks, label, modes
from ..core.graph import clock, graph_nodes
from ..core.recording import restore, snapshot as snapshot_state, states_equal
from . import effects
from .guards import SourceGuards, UnhashableArgument, argument_keys, key
from .lowering import (CompileError, Program, _freeze, argument_names, describe, detached, lower_and_run,
                       split_result, state_objects)
from .reasons import HOOK_REASON, computed_in_python, difference, untraceable, what_changed
from .tracing import (Arguments, Tracer, before_backward, deliver_twin_gradients, restore_leaks, settle, snapshot,
                      unwrap)

__all__ = ["compile", "Compiled", "CompileError", "CompileWarning"]


class CompileWarning(UserWarning):
    """``ag.compile`` stopped compiling new signatures (past its recompile limit)."""


def compile(fn=None, *, check=False, guard=None, guard_modules=(), strict=False, cache_size=8,  # noqa: A001
            recompile_limit=None):
    """Compile a training step: ``ag.compile(fn)``, or ``@ag.compile(strict=True, ...)``.

    Parameters
    ----------
    fn : callable
        The step: returns a scalar loss tensor (or a tuple starting with one).
    check : bool
        Run eager and compiled side by side on every call; raise ``CompileError``
        on any difference (results, gradients, generator and running statistics).
    guard : callable, optional
        ``guard()`` returns a hashable value that is part of every signature
        (Python state fn reads that is not an argument, a free variable or a global).
    guard_modules : sequence
        Objects whose ``__compile_guard__()`` state is part of every signature
        (``nets`` modules that fn reads without naming them in its own code).
    strict : bool
        Raise ``CompileError`` with the reason instead of running eagerly.
    cache_size : int
        Programs kept (least recently used dropped first), default 8.
    recompile_limit : int, optional
        Signatures traced before new ones run eagerly (a ``CompileWarning`` says
        what kept changing); default ``cache_size``.

    Examples
    --------
    >>> W = Tensor(np.ones(3), requires_grad=True)
    >>> step = compile(lambda x: ag.sum(W * x))         # doctest: +SKIP
    >>> for _ in range(3): loss = step(np.arange(3.0))   # doctest: +SKIP
    """
    options = dict(check=check, guard=guard, guard_modules=guard_modules, strict=strict, cache_size=cache_size,
                   recompile_limit=recompile_limit)
    if fn is None:
        return lambda f: Compiled(f, **options)
    return Compiled(fn, **options)


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"ag.compile: {name} must be a positive integer, got {value!r}")
    return int(value)


class _Eager:
    """A signature that runs eagerly, and why; ``hooks_seen``: retried when the
    hooks change (the reason was a hook)."""

    __slots__ = ("reason", "hooks_seen")

    def __init__(self, reason, hooks_seen=None):
        self.reason, self.hooks_seen = reason, hooks_seen


class _FirstTrace:
    __slots__ = ("description",)

    def __init__(self, description):
        self.description = description


class Compiled:
    """A compiled step: call it like ``fn``; ``program(*args)`` is the schedule for
    those arguments' signature (None before it is built, or when it runs eagerly)."""

    def __init__(self, fn, check=False, guard=None, guard_modules=(), strict=False, cache_size=8,
                 recompile_limit=None):
        if not callable(fn):
            raise TypeError(f"ag.compile: fn must be callable, got {type(fn).__name__}")
        if guard is not None and not callable(guard):
            raise TypeError(f"ag.compile: guard must be a function returning a hashable value, got "
                            f"{type(guard).__name__}")
        if not isinstance(guard_modules, (list, tuple)):
            raise TypeError(f"ag.compile: guard_modules must be a list of modules, got {type(guard_modules).__name__}")
        self.guard_modules = list(guard_modules)
        for m in self.guard_modules:
            if isinstance(m, type) or not hasattr(m, "__compile_guard__"):
                raise TypeError(f"ag.compile: guard_modules holds {m!r}, which is not an object with a "
                                "__compile_guard__() method (a nets module instance)")
        for name, value in (("check", check), ("strict", strict)):
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"ag.compile: {name} must be True or False, got {value!r}")
        self.fn, self.check, self.guard, self.strict = fn, bool(check), guard, bool(strict)
        self.cache_size = _positive_int("cache_size", cache_size)
        self.recompile_limit = self.cache_size if recompile_limit is None else \
            _positive_int("recompile_limit", recompile_limit)
        self._cache = collections.OrderedDict()  # signature -> _FirstTrace, Program or _Eager (LRU order)
        self._sources = None                      # SourceGuards, made at the first call
        self._traced = 0                          # signatures traced so far
        self._changes = collections.Counter()     # what differed from the previous signature traced
        self._last_signature = None
        self._limit_reason = None
        self._captured_ids = set()                # tensors some program reads without receiving them
        self._lock = threading.Lock()             # a program's buffers serve one call at a time
        self._owner = None                        # the thread inside a call (a call from fn runs eagerly)
        self.__name__ = getattr(fn, "__name__", "compiled")
        self.__doc__ = getattr(fn, "__doc__", None)

    # --- calling ---------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        if modes.tracers:  # inside a step another ag.compile traces: that one cannot replay this call
            modes.nested_call(self.__name__)
        if modes.anomaly_blocks and modes.ANOMALY.get() is not None:
            return self._fallback(args, kwargs, "detect_anomaly() is on (it checks every op as it runs)")
        if not modes.GRAD_ENABLED.get():
            return self._fallback(args, kwargs, "called under no_grad(): fn's result has no graph to backpropagate")
        if self._owner == threading.get_ident():
            return self._fallback(args, kwargs, "called from inside fn itself (a recursive call)")
        with self._lock:
            self._owner = threading.get_ident()
            try:
                return self._call(args, kwargs)
            finally:
                self._owner = None

    def __get__(self, instance, owner=None):
        """``@ag.compile`` on a method: called on an instance, the instance is the first
        argument (its attributes are part of the signature, as any argument's)."""
        return self if instance is None else functools.partial(self, instance)

    def _call(self, args, kwargs):
        try:
            signature = self._signature(args, kwargs)
        except UnhashableArgument as exc:
            return self._fallback(args, kwargs, f"{exc.args[0]}; an argument that is not an array or a tensor is "
                                  "part of the signature, so it must be hashable")
        why = self._transient(args, kwargs)
        if why is not None:
            return self._fallback(args, kwargs, why)
        entry = self._cache.get(signature)
        if entry is not None:
            self._cache.move_to_end(signature)
        if type(entry) is Program:
            if entry.still_valid():
                return self._checked_run(entry, args, kwargs) if self.check else entry.run(args, kwargs)
            entry = None  # a tensor it reads changed shape, dtype or flags, or got a hook: trace again
        elif type(entry) is _Eager:
            if entry.hooks_seen is None or entry.hooks_seen == hooks.generation:
                return self._fallback(args, kwargs, entry.reason)
            entry = None
        if entry is None:
            if signature not in self._cache:
                if self._traced >= self.recompile_limit:
                    return self._fallback(args, kwargs, self._past_limit(signature))
                self._note_change(signature)
            result, trace = self._trace(args, kwargs, lower=False)
            self._store(signature, _FirstTrace(trace.description) if trace.reason is None else trace.eager)
            return self._strict_check(result, trace.reason)
        result, trace = self._trace(args, kwargs, lower=True)
        why = trace.reason or difference(entry.description, trace.description)
        if why is None:
            self._captured_ids.update(trace.program.captured_ids)
            self._store(signature, trace.program)
        else:
            self._store(signature, trace.eager if trace.reason else _Eager(why))
        return self._strict_check(result, why)

    def _store(self, signature, entry):
        self._cache[signature] = entry
        self._cache.move_to_end(signature)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    def _fallback(self, args, kwargs, reason):
        if self.strict:
            raise CompileError(f"ag.compile(strict=True): {self.__name__} would run eagerly: {reason}")
        return eager_step(self.fn, args, kwargs)

    def _strict_check(self, result, reason):
        if reason is not None and self.strict:
            raise CompileError(f"ag.compile(strict=True): {self.__name__} ran eagerly (its gradients were "
                               f"written, as backward() would) and would from now on: {reason}")
        return result

    def _transient(self, args, kwargs=None):
        """Why this call, not its signature, must run eagerly (None when it need not)."""
        for i, a in _tensors(args, kwargs):
            if hooks.active and hooks.registered(a):
                return f"a gradient hook is registered on argument {i} (compiled code calls no hooks)"
            if id(a) in self._captured_ids:
                return (f"argument {i} ({label(a)}) is also a tensor fn reads without receiving it; "
                        "the compiled code keeps the two uses apart")
        return None

    def _signature(self, args, kwargs=None):
        if self._sources is None:
            self._sources = SourceGuards(self.fn, self.guard_modules)
        parts = (argument_keys(args, kwargs), self._sources.values())
        if self.guard is not None:
            value = self.guard()
            try:
                hash(value)
                value = key(value)  # (0.0 and -0.0, 1 and True differ, as for arguments)
            except (TypeError, UnhashableArgument):
                raise TypeError(f"ag.compile: guard() of {self.__name__} returned a {type(value).__name__}, which "
                                "is not hashable; return a tuple of numbers, strings or booleans") from None
            parts += (value,)
        return parts

    # --- the recompile limit ----------------------------------------------------------
    def _note_change(self, signature):
        self._traced += 1
        previous, self._last_signature = self._last_signature, signature
        if previous is not None:
            self._changes.update(what_changed(previous, signature, self._sources))

    def _past_limit(self, signature):
        if self._limit_reason is None:
            changes = ", ".join(f"{what} {n} time{'s' if n > 1 else ''}" for what, n in self._changes.most_common(3))
            self._limit_reason = (f"{self._traced} signatures traced, the recompile limit ({self.recompile_limit}); "
                                  f"what changed: {changes or 'nothing recorded'}. New signatures run eagerly "
                                  "(raise recompile_limit, or pass a number that changes every call as an "
                                  "array: np.asarray(x))")
            if not self.strict:
                warnings.warn(f"ag.compile({self.__name__}): {self._limit_reason}", CompileWarning, stacklevel=4)
        return self._limit_reason

    # --- tracing ------------------------------------------------------------------------
    def _trace(self, args, kwargs, lower):
        """Run fn on stand-ins with a tracer watching; backpropagate (through the
        lowering when ``lower``); return (result, _Trace)."""
        tracer = Tracer({}, strict=self.strict, error_type=CompileError)
        arguments = Arguments(args, kwargs, tracer)
        before, world = snapshot(arguments), effects.Watch(self._sources)
        start = clock()
        with tracer:
            result = self.fn(*arguments.ins, **arguments.kwins)
        restore_leaks(world.plan, arguments)
        loss, extras = split_result(result)
        nodes = graph_nodes([loss, *[e for e in extras if type(e) is Tensor]])
        state = state_objects(nodes)
        reason = settle(arguments, before, [o for o in state if isinstance(o, np.ndarray)]) or world.changed(state)
        names = argument_names(arguments.leaves)
        reason = tracer.reason or reason or untraceable(loss, nodes, start) or computed_in_python(nodes, names)
        returned = _returned(result, arguments)
        cleared = list(tracer.cleared.values())
        before_backward(arguments, tracer.cleared)
        if reason is not None or not lower:
            description = _described(loss, extras, names, cleared) if reason is None else None
            if (loss._node or loss) not in tracer.backpropagated:
                loss.backward()
            deliver_twin_gradients(arguments)
            hooked = reason is not None and reason.startswith(HOOK_REASON)
            return returned, _Trace(description, reason, hooks_seen=hooks.generation if hooked else None)
        description = _described(loss, extras, names, cleared)
        program = lower_and_run(loss, extras, names, isinstance(result, tuple), cleared)
        deliver_twin_gradients(arguments)
        return returned, _Trace(description, program=program)

    def _checked_run(self, program, args, kwargs):
        """check=True: the compiled call, then eager from the same state; raise on any difference."""
        leaves = [t for t in program.captured if t._requires_grad] + \
            [a for _, a in _tensors(args, kwargs) if a._requires_grad]
        before, state_before = [t.grad for t in leaves], snapshot_state(program.state)
        compiled = program.run(args, kwargs)
        after_compiled, state_compiled = [t.grad for t in leaves], snapshot_state(program.state)
        for t, g in zip(leaves, before):
            t.grad = g
        restore(program.state, state_before)  # eager draws and updates from where the compiled call started
        eager = eager_step(self.fn, args, kwargs)
        for i, (c, e) in enumerate(zip(state_compiled, snapshot_state(program.state))):
            if not states_equal(c, e):
                raise CompileError(f"compile(check=True): the state {i} the step changes (a generator, running "
                                   "statistics) differs from eager's")
        pairs = zip(compiled if isinstance(compiled, tuple) else [compiled],
                    eager if isinstance(eager, tuple) else [eager])
        for i, (c, e) in enumerate(pairs):
            if type(c) is Tensor and not np.array_equal(c._data, e._data, equal_nan=True):
                raise CompileError(f"compile(check=True): result {i} differs: compiled {c._data}, eager {e._data}")
        for t, g in zip(leaves, after_compiled):
            same = (g is None) == (t.grad is None) and (g is None or np.array_equal(g, t.grad, equal_nan=True))
            if not same:
                raise CompileError(f"compile(check=True): the gradient of {label(t)} differs from eager's")
        return eager

    # --- inspection ---------------------------------------------------------------------
    @property
    def eager_reasons(self):
        """{signature: why it runs eagerly} for the signatures in the cache; the
        recompile limit's reason under the key ``"recompile_limit"`` once reached."""
        out = {sig: e.reason for sig, e in self._cache.items() if type(e) is _Eager}
        if self._limit_reason is not None:
            out["recompile_limit"] = self._limit_reason
        return out

    def program(self, *args, **kwargs):
        """The schedule built for these arguments' signature, or None (not built yet, or eager)."""
        try:
            entry = self._cache.get(self._signature(args, kwargs))
        except UnhashableArgument:
            return None
        return entry if type(entry) is Program else None


class _Trace:
    """What one traced call recorded: the comparable description, and the program."""

    def __init__(self, description=None, reason=None, program=None, hooks_seen=None):
        self.description, self.reason, self.program = description, reason, program
        self.eager = _Eager(reason, hooks_seen) if reason is not None else None


def _described(loss, extras, names, cleared):
    """The trace's description, and which tensors' gradients fn cleared."""
    return describe(loss, extras, names) + [("cleared",) + tuple(_freeze(t, names) for t in cleared)]


def _returned(result, arguments):
    """fn's results as handed back: tensors detached (copies), stand-ins as the arguments."""
    result = unwrap(result, arguments.originals())
    return tuple(map(detached, result)) if isinstance(result, tuple) else detached(result)


def _tensors(args, kwargs):
    """(position, tensor) for the tensors among the arguments (also inside containers)."""
    out = []
    for where, value in [*enumerate(args), *(kwargs or {}).items()]:
        kind = type(value)
        if kind is Tensor:
            out.append((where, value))
        elif kind is tuple or kind is list or kind is dict:
            out += [(where, t) for _, t in _tensors(value.values() if kind is dict else value, None)]
    return out


def eager_step(fn, args, kwargs=None):
    """``fn(*args, **kwargs)``, backward on its loss (unless fn did it itself), the
    results detached: what a compiled call means, run eagerly."""
    watcher = Tracer({})
    with watcher:
        result = fn(*args, **(kwargs or {}))
    loss, _ = split_result(result)
    if (loss._node or loss) not in watcher.backpropagated:
        loss.backward()
    return tuple(map(detached, result)) if isinstance(result, tuple) else detached(result)
