"""vmap's levels: how one call of ``f`` computes a whole batch.

``vmap(f)(xs)`` runs ``f`` once.  Each batched argument reaches ``f`` as a
*stand-in*: a tensor of one example's shape and dtype whose values are not
there (they are a ``BatchedValue``) and which knows its *shadow*, the whole
batch, batch axis first, a value of the level below.  While ``f`` runs, its
``Level`` applies every op (``core.recording`` hands it each call): an op
touching a stand-in runs its batching rule on the shadows at the level below,
and ``f`` gets a stand-in of the result; an op on plain tensors runs as usual.
Levels nest (vmap inside vmap); the bottom (None) is ordinary computation,
recorded for differentiation as always.

Python that reads a batched tensor's values (``float(t)``, ``t > 0``, NumPy
computing with ``t.data``) cannot be batched: it raises ``VmapError``, saying
so, rather than computing with one example's numbers.
"""
from __future__ import annotations

import contextlib
import math
import threading

import numpy as np

from ..core import Tensor, modes, recording
from ..core.recording import INTERPRETER, _inputs_by_position, _required_inputs
from ..core.registry import GRAPH_OPS

__all__ = ["VmapError", "BatchedValue", "Level", "at", "current", "batched_level", "open_level", "RULES"]

RULES = {}  # op name -> batching rule (filled by transforms.batching)
_new = object.__new__
_lock = threading.Lock()
_REQUIRED = {}  # op -> the names of its inputs (passed by keyword, they become positional)


class VmapError(RuntimeError):
    """What ``vmap`` cannot do: an op without a batching rule, Python reading batched
    values, ``in_axes`` that do not fit the arguments."""


class BatchedValue:
    """What a stand-in holds instead of values: its shape and dtype (one example's),
    its level and its shadow.  Reading values from it raises ``VmapError``."""

    __slots__ = ("shape", "dtype", "level", "shadow")

    def __init__(self, shape, dtype, level, shadow):
        self.shape, self.dtype, self.level, self.shadow = tuple(shape), np.dtype(dtype), level, shadow

    ndim = property(lambda self: len(self.shape))
    size = property(lambda self: math.prod(self.shape))

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d batched tensor")
        return self.shape[0]

    def _refuse(self, how):
        alive = "" if self.level.open else " (this tensor escaped the vmap call that made it)"
        raise VmapError(f"vmap: {how} needs the values of a batched tensor (one example's shape {self.shape}, "
                        f"{self.dtype}){alive}; vmap runs f once for the whole batch, so Python or NumPy code that "
                        "computes with values cannot be batched: use ag ops on the tensor (ag.where, ag.sort's "
                        "ops...), or loop over the batch")

    def __array__(self, dtype=None, copy=None):
        self._refuse("NumPy (np.asarray)")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        self._refuse(f"np.{ufunc.__name__}")

    def __array_function__(self, func, types, args, kwargs):
        meta = _METADATA.get(func)
        if meta is None:
            self._refuse(f"np.{func.__name__}")
        return meta(*args, **kwargs)

    def __getattr__(self, name):
        if name.startswith("__"):  # protocols probed by Python and NumPy: absent
            raise AttributeError(name)
        self._refuse(f".{name}")

    def __repr__(self):
        return f"<batched values (vmap): one example's shape {self.shape}, {self.dtype}>"

    __hash__ = object.__hash__


def _refusing(how):
    def method(self, *args):
        self._refuse(how)
    return method


for _name, _how in [("__bool__", "bool()"), ("__float__", "float()"), ("__int__", "int()"), ("__index__", "an index"),
                    ("__iter__", "iteration"), ("__getitem__", "indexing its values"), ("__eq__", "=="),
                    ("__ne__", "!="), ("__lt__", "<"), ("__le__", "<="), ("__gt__", ">"), ("__ge__", ">=")]:
    setattr(BatchedValue, _name, _refusing(_how))


def _dtype_of(x):
    return x.dtype if type(x) is BatchedValue else x


# NumPy functions that only look at shapes and dtypes: allowed on BatchedValue
_METADATA = {
    np.shape: lambda a: a.shape,
    np.ndim: lambda a: a.ndim,
    np.size: lambda a, axis=None: a.size if axis is None else a.shape[axis],
    np.result_type: lambda *xs: np.result_type(*map(_dtype_of, xs)),
    np.iscomplexobj: lambda a: a.dtype.kind == "c",
    np.isrealobj: lambda a: a.dtype.kind != "c",
}


class Level:
    """One open vmap: the batch ``size`` and the level below (``parent``, None for
    the bottom).  ``count`` counts the ops it batched (transforms check whether a
    function touched batched values)."""

    def __init__(self, size, parent):
        self.size, self.parent, self.count, self.open = size, parent, 0, True

    def stand_in(self, shadow):
        """A tensor of this level whose batch (axis 0) is ``shadow``, a tensor of the level below."""
        if not isinstance(shadow, Tensor):
            shadow = Tensor(np.asarray(shadow))
        t = _new(Tensor)
        t._data = BatchedValue(shadow.shape[1:], shadow.dtype, self, shadow)
        t._grad = t._node = t._constant = t._shares = None
        t._requires_grad, t._version, t._name = False, 0, "batched (vmap)"
        return t

    def owns(self, x):
        return type(x) is Tensor and type(x._data) is BatchedValue and x._data.level is self

    def materialize(self, x, dtype=None):
        """``x`` (a value of this level) as a value of the level below with the batch
        axis first: a stand-in's shadow, or anything else repeated along a new axis."""
        if self.owns(x):
            return x._data.shadow
        value = x if isinstance(x, Tensor) else np.asarray(x, dtype=dtype)
        with at(self.parent):
            return GRAPH_OPS.broadcast_to(value, shape=(self.size,) + tuple(value.shape))

    def run_op(self, op, args, params):
        """Apply ``op`` at this level (``core.recording`` calls this inside vmap)."""
        if params:
            args, params = _keyword_inputs(op, args, params)
        flags = [self.owns(a) for a in args]
        _refuse_hidden(self, op, args, params)
        with at(self.parent):
            if not any(flags):
                return op.apply(*args, **params)
            rule = RULES.get(op.name)
            if rule is None:
                raise VmapError(f"vmap: op {op.name!r} has no batching rule (register one in "
                                "autograd_np.transforms.batching.RULES), so it cannot be applied to a batched "
                                "tensor; call it outside vmap or loop over the batch")
            values = [a._data.shadow if f else a for a, f in zip(args, flags)]
            out = rule(values, flags, params, self.size)
        if not isinstance(out, Tensor) or out.ndim < 1 or out.shape[0] != self.size:
            raise VmapError(f"vmap: the batching rule of op {op.name!r} returned "
                            f"{getattr(out, 'shape', type(out).__name__)}, not a batch of {self.size}")
        self.count += 1
        return self.stand_in(out)


def _keyword_inputs(op, args, params):
    """Inputs passed by keyword (``ag.mul(x, b=2.0)``) as positional arguments."""
    required = _REQUIRED.get(op)
    if required is None:
        required = _REQUIRED[op] = _required_inputs(op.forward)
    if len(args) < len(required) and any(k in params for k in required):
        return _inputs_by_position(op.name, required, args, params)
    return args, params


def _refuse_hidden(level, op, args, params):
    """A batched tensor inside a tuple or list argument (an index) or a parameter
    would be read as values: refused, naming where."""
    for where, value in [(f"argument {i}", a) for i, a in enumerate(args)] + \
            [(f"parameter {k!r}", v) for k, v in params.items()]:
        inside = value if type(value) in (tuple, list) else (value,) if where.startswith("param") else ()
        for item in inside:
            if level.owns(item) or (type(item) in (tuple, list) and any(level.owns(v) for v in item)):
                raise VmapError(f"vmap: op {op.name!r} got a batched tensor in its {where} (an index, a "
                                "parameter), which it reads as values; vmap batches tensors passed as an "
                                "op's inputs only (for an index: ag.take_along_axis, ag.embedding of a "
                                "batched weight...)")


@contextlib.contextmanager
def at(level):
    """Run the body at ``level`` (None: the bottom, ordinary computation)."""
    token = INTERPRETER.set(level)
    try:
        yield
    finally:
        INTERPRETER.reset(token)


def current():
    """The innermost open level of this thread (None at the bottom)."""
    return INTERPRETER.get() if recording.interpreting else None


def batched_level(x):
    """The level of a stand-in (None for anything else)."""
    return x._data.level if type(x) is Tensor and type(x._data) is BatchedValue else None


class _ReadGuard:
    """Told (as ``ag.compile``'s tracers are) of Python reading tensor values: a
    batched tensor's values do not exist, so say so clearly.  ``.data`` itself is
    allowed (shapes and dtypes are there); computing with it raises."""

    def __init__(self):
        self.thread = threading.get_ident()

    def value_read(self, tensor, how=None):
        if how not in (".data", ".numpy()") and type(tensor._data) is BatchedValue:
            tensor._data._refuse(how or "reading its values")

    def backward_called(self, outputs, into_grad):
        for out in outputs:
            if type(out._data) is BatchedValue:
                raise VmapError("vmap: backward() or ag.grad on a batched tensor inside vmap; differentiate "
                                "inside vmap with the function transforms (ag.func.grad, vjp, jvp), which batch, "
                                "and ag.explain / ag.check_graph outside vmap")

    def grad_used(self, tensor, value, write):
        pass

    def nested_call(self, name):
        pass


@contextlib.contextmanager
def open_level(size):
    """A new level below the current one, current while the body runs."""
    level = Level(size, current())
    guard = _ReadGuard()
    with _lock:
        recording.interpreting += 1
    modes.count_block(1)
    modes.tracers.append(guard)
    try:
        with at(level):
            yield level
    finally:
        level.open = False
        modes.tracers.remove(guard)
        modes.count_block(-1)
        with _lock:
            recording.interpreting -= 1
