"""What ``fn`` receives while ``ag.compile`` traces it: stand-ins for its array
and tensor arguments, as JAX's tracers are, and the ``Tracer`` they report to.

A replay runs none of fn's Python, so fn may only reach its results through
ops.  Python that looks at values (``if x.sum() > 0``, ``int(t)``,
``x.tolist()``) would not run again on replay; nor would an in-place write to
an argument.  While tracing:

* an ndarray argument is passed as a ``TracedArray``: a view of the same memory
  (an ``np.ndarray`` subclass, so fn's NumPy code runs as before) whose
  results stay traced (``x * 2``, ``x.sum()``, ``x[0]``), and turning one into
  Python values (``bool``, ``float``, ``int``, ``item``, ``tolist``, ``repr``,
  iteration, NumPy functions that return Python values) is a *value read*;
* a tensor argument is passed as a new tensor sharing its array and flags (a
  *twin*), so that the graph tells "fn used its argument" apart from "fn used a
  tensor it holds itself", even when both are the same object; reading its
  values is a value read as for any tensor (``Tensor.data`` etc.);
* after fn returns, every argument's memory is compared with a copy taken
  before: a write (through any path) makes the signature run eagerly.

Not seen: reads through a plain array made from an argument (``np.asarray(x)``
and ``np.array(x)`` return plain arrays), or of arrays fn does not receive
(globals); ``compile(check=True)`` catches what those change.
"""
from __future__ import annotations

import sys
import threading

import numpy as np

from ..core import Tensor, modes, owned_gradient
from ..core.errors import label
from .traced_array import TracedArray

__all__ = ["Tracer", "TracedArray", "Arguments", "unwrap", "snapshot", "settle", "before_backward",
           "deliver_twin_gradients"]

_new = object.__new__
_HERE = (__file__.rsplit("/", 2)[0],)  # autograd_np's own frames (all its subpackages) are not "where fn read it"


class Tracer:
    """Watches one traced call of fn in one thread: the first value read or
    backward, as a reason the call cannot be replayed.  ``strict``: raise
    ``error_type`` at the read itself, naming fn's line."""

    def __init__(self, names, strict=False, error_type=RuntimeError):
        self.thread = threading.get_ident()
        self.names = names          # id(stand-in) -> "argument 0", for messages
        self.strict, self.error_type = strict, error_type
        self.reason = None
        self.active = False
        self.backpropagated = set()  # graph keys fn called backward() on itself
        self.cleared = {}            # id -> tensor whose .grad fn set to None (zero_grad): a replay does too

    def __enter__(self):
        self.active = True
        modes.tracers.append(self)
        return self

    def __exit__(self, *exc):
        self.active = False
        modes.tracers.remove(self)

    def _found(self, reason):
        if self.strict:
            raise self.error_type(f"ag.compile(strict=True): {reason}{_user_line()}")
        if self.reason is None:
            self.reason = reason

    def value_read(self, value, how=None):
        what = self.names.get(id(value)) or (label(value) if type(value) is Tensor else value._what)
        self._found(f"fn read the values of {what} in Python ({how or 'its values'}); the Python that uses "
                    "them would not run on replay")

    def grad_used(self, tensor, value, write):
        if write and value is None:  # zero_grad() inside fn: the program clears it too
            self.cleared[id(tensor)] = tensor
        elif write:
            self._found(f"fn assigned {label(tensor)}.grad, which a replay would not do again")
        else:
            self._found(f"fn read {label(tensor)}.grad in Python; the Python that uses it would not run on replay")

    def nested_call(self, name):
        self._found(f"fn calls the compiled step {name!r}, whose backward a replay of this one would skip")

    def backward_called(self, outputs, into_grad):
        if into_grad:
            self.backpropagated.update(t._node or t for t in outputs)
        self._found("fn calls backward() or grad() itself; compile calls backward on its result")


def _user_line():
    """`` (at file:line)`` of the innermost frame outside autograd_np and NumPy."""
    frame = sys._getframe(2)
    while frame is not None:
        path = frame.f_code.co_filename
        if not path.startswith(_HERE) and "/numpy/" not in path:
            return f" (at {path}:{frame.f_lineno})"
        frame = frame.f_back
    return ""


# --- the arguments fn receives while traced ---------------------------------------------

def _twin(t):
    """A tensor sharing ``t``'s array, gradient, flags and graph position; a write to
    its ``.data`` counts as a write to ``t`` (``_shares``)."""
    twin = _new(Tensor)
    twin._data, twin._grad, twin._requires_grad, twin._node = t._data, t._grad, t._requires_grad, t._node
    twin._name = getattr(t, "_name", None)  # (a graph tensor reads its name from its node)
    twin._version, twin._constant, twin._shares = getattr(t, "_version", 0), None, t._node or t
    return twin


class Arguments:
    """The arguments of one call, and what fn receives for them while traced.

    Arrays and tensors may sit at the top level or inside tuples, lists and dicts
    (string or integer keys), as positional or keyword arguments: each such *leaf*
    gets a stand-in (a traced view for an ndarray, a twin for a tensor; one per
    object, so an object passed twice is one stand-in), and its *path*, the Python
    expression that finds it (``args[0]``, ``args[1]['x']``, ``kwargs['t']``).
    The containers fn receives are new ones holding the stand-ins."""

    def __init__(self, args, kwargs, tracer):
        self.args, self.kwargs, self.tracer = args, kwargs, tracer
        self.leaves = []  # (path, original, stand-in)
        self._made = {}
        self.ins = tuple(self._stand_in(a, f"args[{i}]") for i, a in enumerate(args))
        self.kwins = {k: self._stand_in(v, f"kwargs[{k!r}]") for k, v in kwargs.items()}

    def _stand_in(self, value, path):
        kind = type(value)
        if kind is tuple or kind is list:
            return kind(self._stand_in(v, f"{path}[{i}]") for i, v in enumerate(value))
        if kind is dict:
            return {k: self._stand_in(v, f"{path}[{k!r}]") for k, v in value.items()}
        if kind is not np.ndarray and kind is not Tensor:
            return value
        s = self._made.get(id(value))
        if s is None:
            what = _said(path)
            if kind is Tensor:
                s = _twin(value)
            else:
                s = value.view(TracedArray)
                s._tracer, s._what, s._arg = self.tracer, what, value
            self._made[id(value)] = s
            self.tracer.names[id(s)] = what
        self.leaves.append((path, value, s))
        return s

    def paths(self):
        """{id(stand-in): path}, the first path of each (an object passed twice has two)."""
        out = {}
        for path, _, s in self.leaves:
            out.setdefault(id(s), path)
        return out

    def originals(self):
        return {id(s): a for _, a, s in self.leaves}

    def containers_changed(self):
        """Why fn changed a list or dict it received (None if it did not); the change
        is made on the caller's container too, as it would have been."""
        for value, received, path in _containers(self.args, self.ins, "args") + \
                _containers(self.kwargs, self.kwins, "kwargs"):
            back = unwrap(received, self.originals())
            if type(value) is list and (len(back) != len(value) or any(x is not y for x, y in zip(back, value))):
                value[:] = back
                return f"fn changed the list {_said(path)} in place"
            if type(value) is dict and (list(back) != list(value) or any(back[k] is not value[k] for k in back)):
                value.clear()
                value.update(back)
                return f"fn changed the dict {_said(path)} in place"
        return None


def _said(path):
    """``args[0][1]`` as "argument 0[1]", ``kwargs['t']`` as "keyword argument 't'"."""
    if path.startswith("args["):
        return "argument " + path[len("args["):].replace("]", "", 1)
    return "keyword argument " + path[len("kwargs["):-1]


def _containers(given, received, path):
    """(the caller's container, the one fn received, path) for the lists and dicts in
    an argument tree (tuples are walked but cannot change)."""
    out = []
    items = given.items() if type(given) is dict else enumerate(given)
    for key, value in items:
        here = f"{path}[{key!r}]"
        got = received[key] if type(received) is dict else received[key]
        if type(value) in (list, dict):
            out.append((value, got, here))
        if type(value) in (list, tuple, dict) and type(got) is type(value) and len(got) == len(value):
            out += _containers(value, got, here)
    return out


def unwrap(value, originals):
    """A result of fn as handed back: a stand-in as the argument itself, a traced
    array as a plain one, also inside tuples, lists and dicts."""
    kind = type(value)
    if kind is TracedArray or kind is Tensor:
        original = originals.get(id(value))
        if original is not None:
            return original
        return np.ndarray.view(value, np.ndarray) if kind is TracedArray else value
    if kind is tuple or kind is list:
        return kind(unwrap(v, originals) for v in value)
    if kind is dict:
        return {k: unwrap(v, originals) for k, v in value.items()}
    return value


def snapshot(arguments):
    """Copies of the arrays of the array and tensor arguments, to see writes by fn."""
    return [np.array(a._data if type(a) is Tensor else a, copy=True) for _, a, _ in arguments.leaves]


def _same_bytes(a, b):
    return a.shape == b.shape and a.dtype == b.dtype and \
        np.array_equal(np.ascontiguousarray(a).reshape(-1).view(np.uint8), b.reshape(-1).view(np.uint8))


def settle(arguments, before, changed_by_ops=()):
    """After fn returned: put what fn changed on a twin back on its tensor (as if fn
    had changed the tensor itself), and say why the call cannot be replayed if fn
    changed an argument (None if it did not).  ``changed_by_ops``: arrays that ops
    change in place (running statistics), which a replay changes too."""
    reason = arguments.containers_changed()
    for (_, a, s), copy in zip(arguments.leaves, before):
        path = arguments.tracer.names[id(s)]
        if type(a) is Tensor:
            if s._data is not a._data:
                a.data = s._data
                reason = reason or f"fn assigned {path}'s .data"
            if s._requires_grad != a._requires_grad:
                a.requires_grad = s._requires_grad
                reason = reason or f"fn changed {path}'s requires_grad"
            if a._node is None and s._name != a._name:
                a._name = s._name
            data = a._data
        else:
            data = a
        if not any(np.may_share_memory(data, o) for o in changed_by_ops) and not _same_bytes(data, copy):
            reason = reason or f"fn wrote into {path} in place"
    return reason


def before_backward(arguments, cleared):
    """After fn returned, before its backward: a tensor whose gradient fn cleared
    (through its twin or itself) is cleared; the twins start from nothing, so that
    what backward leaves on a twin is the arguments' own contribution."""
    for _, a, s in arguments.leaves:
        if type(a) is Tensor:
            if id(s) in cleared or id(a) in cleared:
                a._grad = None
            s._grad = None


def deliver_twin_gradients(arguments):
    """Each twin's gradient (what backward sent to the argument) accumulated into its
    tensor's ``.grad`` as backward would have: a new array, never in place."""
    seen, handed = set(), set()
    for _, a, s in arguments.leaves:
        if type(a) is Tensor and id(s) not in seen:
            seen.add(id(s))
            g, s._grad = s._grad, None
            if g is not None:
                old = a._grad
                a._grad = owned_gradient(g if old is None else old + g, handed, a)


def restore_leaks(plan, arguments):
    """Put the arguments themselves back where fn stored a stand-in in state it can
    reach (``box["last"] = x``): a list item, a dict value, an attribute of a plain
    object (``plan``: ``reach.flatten``'s), as if fn had stored the argument."""
    originals = arguments.originals()
    if not originals:
        return
    for holder, _ in plan:
        if type(holder) is list:
            for i, v in enumerate(holder):
                if id(v) in originals:
                    holder[i] = originals[id(v)]
        else:
            space = holder if type(holder) is dict else getattr(holder, "__dict__", None)
            if type(space) is dict:
                for k, v in list(space.items()):
                    if id(v) in originals:
                        space[k] = originals[id(v)]
