"""What fn receives, while ``ag.compile`` traces it, for an ndarray argument: a
``TracedArray``, a view of the same memory (an ``np.ndarray`` subclass, so fn's
NumPy code runs as before) whose results stay traced (``x * 2``, ``x.sum()``,
``x[1:]``); turning one into Python values (``bool``, ``float``, ``int``,
``item``, ``tolist``, ``repr``, iteration, ``.flat``, a scalar by indexing, NumPy
functions that return Python values, a shape that depends on the values) tells
the tracer (``tracing.Tracer``) that Python read them."""
from __future__ import annotations

import threading

import numpy as np

from ..core import Tensor

__all__ = ["TracedArray"]


class TracedArray(np.ndarray):
    """An ndarray argument (or an array computed from one) while fn is traced.

    The same memory and NumPy behaviour; what NumPy computes from it is traced
    too, and turning it into Python values reports a value read to the tracer.
    Ops unwrap it (``recording``): an argument reaches the graph as itself."""

    _tracer = None
    _what = "an array"  # "argument 0", or "an array computed from argument 0"
    _value_shaped = False  # its shape depends on values (np.unique, x[x > 0]): reading the shape is a read
    _arg = None  # the argument an argument's stand-in stands for

    def __array_finalize__(self, obj):  # views and results: traced, by the same tracer
        self._tracer = getattr(obj, "_tracer", None)
        self._what = _derived(getattr(obj, "_what", None))
        self._value_shaped = getattr(obj, "_value_shaped", False)
        self._arg = None

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

    def view(self, *args, **kwargs):
        out = np.ndarray.view(self, *args, **kwargs)
        if type(out) is not TracedArray:  # x.view(np.ndarray): a plain alias, whose reads nobody would see
            self._read(".view() as a plain array")
        return out

    def __array__(self, dtype=None, copy=None):
        self._read("__array__()")
        plain = np.ndarray.view(self, np.ndarray)
        return plain if dtype is None and not copy else np.array(plain, dtype=dtype, copy=True)


def _escape(name):
    """An attribute that hands out the memory or values without NumPy's functions
    (``x.flat``, ``x.base``, ``x.ctypes``): reading it is a value read."""
    getter = getattr(np.ndarray, name)

    def read(self):
        self._read(f".{name}")
        if self._arg is not None and name in ("base", "data"):  # what the argument itself has
            return getattr(self._arg, name)
        return getter.__get__(self)
    return property(read)


for _name in ("flat", "base", "ctypes", "data", "__array_interface__", "__array_struct__"):
    setattr(TracedArray, _name, _escape(_name))


def _reader(name):
    def read(self, *args, **kwargs):
        self._read(f"{name}()" if not name.startswith("__") else name.strip("_") + "()")
        return getattr(np.ndarray, name)(np.ndarray.view(self, np.ndarray), *args, **kwargs)
    read.__name__ = name
    return read


def _through(name):
    """An ndarray method whose result is computed from the values: traced too."""
    def method(self, *args, **kwargs):
        return _traced(getattr(np.ndarray, name)(np.ndarray.view(self, np.ndarray), *_plain(args), **_plain(kwargs)),
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
        return np.ndarray.view(value, np.ndarray)
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
    if isinstance(result, np.generic):  # a scalar, as NumPy gives it (isinstance(x[0], float) holds): a read
        origin._read(how)
        return result
    if type(result) in (tuple, list) or hasattr(result, "_fields"):  # (namedtuples: np.unique_counts)
        items = [_traced(r, tracer, origin, how, value_shaped) for r in result]
        return type(result)(*items) if hasattr(result, "_fields") else type(result)(items)
    if result is not None and not callable(result):  # a bool, number, string made from the values
        origin._read(how)
    return result

