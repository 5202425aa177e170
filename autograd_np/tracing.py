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
  values is a value read as for any tensor (``engine.Tensor.data`` etc.);
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

from . import modes
from .engine import Tensor, owned_gradient
from .errors import label

__all__ = ["Tracer", "TracedArray", "stand_ins", "unwrap"]

_new = object.__new__
_HERE = (__file__.rsplit("/", 1)[0],)  # autograd_np's own frames are not "where fn read it"


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


# --- ndarray arguments --------------------------------------------------------------

class TracedArray(np.ndarray):
    """An ndarray argument (or an array computed from one) while fn is traced.

    The same memory and NumPy behaviour; what NumPy computes from it is traced
    too, and turning it into Python values reports a value read to the tracer.
    Ops unwrap it (``recording``): an argument reaches the graph as itself."""

    _tracer = None
    _what = "an array"  # "argument 0", or "an array computed from argument 0"
    _value_shaped = False  # its shape depends on values (np.unique, x[x > 0]): reading the shape is a read

    def __array_finalize__(self, obj):  # views and results: traced, by the same tracer
        self._tracer = getattr(obj, "_tracer", None)
        self._what = _derived(getattr(obj, "_what", None))
        self._value_shaped = getattr(obj, "_value_shaped", False)

    @property
    def shape(self):
        if self._value_shaped:
            self._read(".shape (it depends on the values)")
        return np.ndarray.shape.__get__(self)

    @shape.setter
    def shape(self, value):
        np.ndarray.shape.__set__(self, value)

    @property
    def size(self):
        if self._value_shaped:
            self._read(".size (it depends on the values)")
        return np.ndarray.size.__get__(self)

    def __len__(self):
        if self._value_shaped:
            self._read("len() (it depends on the values)")
        return np.ndarray.__len__(self)

    def _read(self, how):
        tracer = self._tracer
        if tracer is not None and tracer.active and tracer.thread == threading.get_ident():
            tracer.value_read(self, how)

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        if any(type(v) is Tensor for v in inputs + (out or ())):
            return NotImplemented  # Tensor's own __array_ufunc__ records it
        plain_out = None if out is None else tuple(_plain(o) for o in out)
        kwargs.update(() if out is None else [("out", plain_out)])
        result = getattr(ufunc, method)(*[_plain(v) for v in inputs], **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        shaped = any(getattr(v, "_value_shaped", False) for v in inputs)
        return _traced(result, self._tracer, self, f"numpy.{ufunc.__name__}", shaped)

    def __array_function__(self, func, types, args, kwargs):
        if Tensor in types:
            return NotImplemented
        result = func(*_plain(args), **_plain(kwargs))
        if func in _SHAPE_ONLY:
            if self._value_shaped or any(getattr(a, "_value_shaped", False) for a in args):
                self._read(f"numpy.{func.__name__} (the shape depends on the values)")
            return result
        return _traced(result, self._tracer, self, f"numpy.{func.__name__}",
                       func in _VALUE_SHAPED or self._value_shaped)

    def __getitem__(self, index):
        masked = any(isinstance(i, np.ndarray) and i.dtype == bool and type(i) is TracedArray
                     for i in (index if type(index) is tuple else (index,)))
        return _traced(super().__getitem__(_plain(index)), self._tracer, self, "indexing",
                       masked or self._value_shaped)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __contains__(self, value):
        self._read("`in`")
        return super().__contains__(value)


def _reader(name):
    def read(self, *args, **kwargs):
        self._read(f"{name}()" if not name.startswith("__") else name.strip("_") + "()")
        return getattr(np.ndarray, name)(self.view(np.ndarray), *args, **kwargs)
    read.__name__ = name
    return read


def _through(name):
    """An ndarray method whose result is computed from the values: traced too."""
    def method(self, *args, **kwargs):
        return _traced(getattr(np.ndarray, name)(self.view(np.ndarray), *_plain(args), **_plain(kwargs)),
                       self._tracer, self, f".{name}()", name in ("nonzero", "compress") or self._value_shaped)
    method.__name__ = name
    return method


for _name in ("__bool__", "__float__", "__int__", "__index__", "__complex__", "__repr__", "__str__", "__format__",
              "__reduce__", "__reduce_ex__", "__bytes__", "item", "tolist", "tobytes", "tofile", "dump", "dumps"):
    setattr(TracedArray, _name, _reader(_name))
for _name in ("argmax", "argmin", "argsort", "nonzero", "searchsorted", "all", "any", "max", "min", "sum", "mean",
              "std", "var", "prod", "cumsum", "cumprod", "ptp", "round", "dot", "trace", "diagonal", "copy",
              "astype", "compress", "choose", "repeat", "take", "clip", "conj", "flatten", "ravel"):
    if hasattr(np.ndarray, _name):
        setattr(TracedArray, _name, _through(_name))

_SHAPE_ONLY = {np.shape, np.ndim, np.size, np.result_type, np.broadcast_shapes, np.iterable, np.isscalar}
# functions whose results' shapes depend on the values of their arguments
_VALUE_SHAPED = {np.unique, np.nonzero, np.flatnonzero, np.argwhere, np.extract, np.compress, np.trim_zeros,
                 np.setdiff1d, np.intersect1d, np.union1d, np.setxor1d, np.bincount, np.where, np.histogram,
                 np.unique_values, np.unique_counts, np.unique_inverse, np.unique_all}


def _plain(value):
    """``value`` with traced arrays (also in tuples, lists and dicts) as plain views."""
    kind = type(value)
    if kind is TracedArray:
        return value.view(np.ndarray)
    if kind is tuple or kind is list:
        return kind(_plain(v) for v in value)
    if kind is dict:
        return {k: _plain(v) for k, v in value.items()}
    return value


def _derived(what):
    if what is None or what.startswith("an array computed"):
        return what or "an array"
    return f"an array computed from {what}"


def _traced(result, tracer, origin, how, value_shaped=False):
    """A NumPy result computed from a traced array: arrays and NumPy scalars stay
    traced (a scalar as a 0-d array); a Python value is a value read.
    ``value_shaped``: the result's shape depends on the values."""
    if isinstance(result, np.ndarray):
        out = result.view(TracedArray)
        out._tracer, out._what, out._value_shaped = tracer, _derived(origin._what), value_shaped
        return out
    if isinstance(result, np.generic):
        return _traced(np.asarray(result), tracer, origin, how, value_shaped)
    if type(result) in (tuple, list) or hasattr(result, "_fields"):  # (namedtuples: np.unique_counts)
        items = [_traced(r, tracer, origin, how, value_shaped) for r in result]
        return type(result)(*items) if hasattr(result, "_fields") else type(result)(items)
    if result is not None and not callable(result):  # a bool, number, string made from the values
        origin._read(how)
    return result


# --- the arguments fn receives while traced ---------------------------------------------

def _twin(t):
    """A tensor sharing ``t``'s array, flags and graph position; a write to its
    ``.data`` counts as a write to ``t`` (``_shares``)."""
    twin = _new(Tensor)
    twin._data, twin.grad, twin._requires_grad, twin._node = t._data, None, t._requires_grad, t._node
    twin._name, twin._version, twin._constant, twin._shares = t._name, t._version, None, t
    return twin


def stand_ins(args, tracer):
    """(what fn receives, {id(stand-in): "argument i"}): a traced view for each
    ndarray argument, a twin for each tensor; the same stand-in where the same
    object is passed twice; other arguments as they are."""
    made, out, names = {}, [], tracer.names
    for i, a in enumerate(args):
        kind = type(a)
        if kind is np.ndarray or kind is Tensor:
            s = made.get(id(a))
            if s is None:
                if kind is Tensor:
                    s = _twin(a)
                else:
                    s = a.view(TracedArray)
                    s._tracer, s._what = tracer, f"argument {i}"
                made[id(a)] = s
                names[id(s)] = f"argument {i}"
            out.append(s)
        else:
            out.append(a)
    return tuple(out)


def unwrap(value, args, ins):
    """A result of fn as handed back: a traced array as a plain one (an argument's
    stand-in as the argument itself), also inside tuples, lists and dicts."""
    kind = type(value)
    if kind is TracedArray or kind is Tensor:
        for a, s in zip(args, ins):
            if value is s:
                return a
        return value.view(np.ndarray) if kind is TracedArray else value
    if kind is tuple or kind is list:
        return kind(unwrap(v, args, ins) for v in value)
    if kind is dict:
        return {k: unwrap(v, args, ins) for k, v in value.items()}
    return value


def snapshot(args):
    """Copies of the arrays of the array and tensor arguments, to see writes by fn."""
    return [np.array(a._data if type(a) is Tensor else a, copy=True) if type(a) in (np.ndarray, Tensor) else None
            for a in args]


def _same_bytes(a, b):
    return a.shape == b.shape and a.dtype == b.dtype and \
        np.array_equal(np.ascontiguousarray(a).reshape(-1).view(np.uint8), b.reshape(-1).view(np.uint8))


def settle(args, ins, before, changed_by_ops=()):
    """After fn returned: put what fn changed on a twin back on its tensor (as if fn
    had changed the tensor itself), and say why the call cannot be replayed if fn
    changed an argument (None if it did not).  ``changed_by_ops``: ids of arrays
    that ops change in place (running statistics), which a replay changes too."""
    reason = None
    for i, (a, s, copy) in enumerate(zip(args, ins, before)):
        if copy is None:
            continue
        if type(a) is Tensor:
            if s._data is not a._data:
                a.data = s._data
                reason = reason or f"fn assigned argument {i}'s .data"
            if s._requires_grad != a._requires_grad:
                a.requires_grad = s._requires_grad
                reason = reason or f"fn changed argument {i}'s requires_grad"
            if s._name != a._name:
                a._name = s._name
            data = a._data
        else:
            data = a
        if id(data) not in changed_by_ops and not _same_bytes(data, copy):
            reason = reason or f"fn wrote into argument {i} in place"
    return reason


def deliver_twin_gradients(args, ins, handed):
    """The gradients backward left on the twins, accumulated into the tensors'
    ``.grad`` as backward would have (a new array, never in place)."""
    seen = set()
    for a, s in zip(args, ins):
        if type(a) is Tensor and s is not a and id(s) not in seen:
            seen.add(id(s))
            g, s.grad = s.grad, None
            if g is not None:
                a.grad = owned_gradient(g if a.grad is None else a.grad + g, handed, a)
