"""NumPy's own functions on tensors: ``np.exp(t)``, ``np.sum(t, axis=0)``,
``np.concatenate([t, u])``, ``arr * t``.

``Tensor`` hooks NumPy's two override protocols to the two functions here:
``__array_ufunc__`` (NEP 13: ufuncs such as ``np.exp``, ``np.add``, their
methods ``reduce``, ``accumulate``, ``outer``, and the operators of an ndarray
on the left, ``arr @ t``) and ``__array_function__`` (NEP 18: ``np.sum``,
``np.concatenate``, ...).  Every NumPy function given a tensor lands in one of
these tables, or raises:

* ``UFUNCS`` / ``FUNCTIONS``: differentiable, dispatched to the autograd_np
  function, so the call records graph nodes.  Each function of ``FUNCTIONS``
  is wrapped by ``guarded``, which knows its parameters by NumPy's names: a
  tensor that requires grad is accepted only where a gradient can flow (the
  inputs: ``np.clip``'s bounds, ``np.bincount``'s weights, ``np.where``'s ``x``
  and ``y``) or where the values alone matter and the derivative is zero
  everywhere (``np.where``'s condition, ``np.full_like``'s template); in any
  other parameter (an index, a shape, an axis, a ``kth``) it raises a
  ``TypeError`` naming the function and the parameter.  A ``dtype=`` that is
  not real floating point raises when a tensor that requires grad is among
  the inputs (the result could not carry its gradient; PyTorch refuses it
  too), and gives NumPy's values otherwise.  The adapters
  (``numpy_adapters.py``) refuse what would write outside the graph
  (``out=``) or that we do not implement (``where=``, ``initial=``,
  ``order="F"``) by name.
* ``VALUE_UFUNCS`` / ``VALUE_FUNCTIONS``: results with no derivative
  (comparisons, ``isnan``, ``argmax``, ``shape``, ``zeros_like``, ``all``):
  computed on the values, returning NumPy arrays, as comparisons of tensors
  do.  Their results are booleans, integers, shapes or strings, or (the
  ``*_like`` templates) do not depend on the values at all.
* Anything else raises ``TypeError`` naming the function: computing it on the
  values would drop the gradient without a word.  ``t.data`` gives the values.
  A ufunc's ``at`` (in place) is always refused.

What NumPy does not dispatch: ``np.asarray(t)`` and ``np.array(t)`` give the
values (``__array__``: a read-only view, or a copy), and so does
``np.array([t1, t2])`` and any NumPy function given a *list* holding tensors
(``np.sum([t1, t2])``) or a tensor in a parameter NumPy does not dispatch on;
``ag.array`` and ``ag.stack`` record.  An ndarray method given a tensor
(``arr.dot(t)``) sees its values too.

The tables are filled on first use (they need the ops, which need the engine,
which hooks these functions in), so importing the engine stays cheap.
"""
from __future__ import annotations

import inspect

import numpy as np

from .. import core as engine
from ..core import modes

__all__ = ["array_ufunc", "array_function", "guarded", "UFUNCS", "FUNCTIONS", "VALUE_UFUNCS", "VALUE_FUNCTIONS",
           "METHODS"]

UFUNCS: dict = {}           # ufunc -> function of the inputs, recording
FUNCTIONS: dict = {}        # NumPy function -> guarded adapter with NumPy's signature, recording
VALUE_UFUNCS: set = set()   # ufuncs computed on the values (no derivative)
VALUE_FUNCTIONS: set = set()
METHODS: dict = {}          # (ufunc, "reduce" / "accumulate") -> adapter; "outer" of every 2-input ufunc
_NO = np._NoValue
_REFERENCE = "the op table of the API reference (docs/api/ops.md) lists them"


def _unsupported(name, argument=None, why=None):
    """The TypeError for a NumPy function (``name``: "numpy.sum"), or one of its arguments, we do not support."""
    if argument is None:
        if why is not None:
            return TypeError(f"{name} is not supported on autograd_np tensors: {why}.")
        return TypeError(f"{name} is not supported on autograd_np tensors: computed on the values it would drop the "
                         f"graph, and the gradient with it. Use t.data for the values (no gradient), or an "
                         f"autograd_np function ({_REFERENCE}).")
    return TypeError(f"{name}(..., {argument}) is not supported on autograd_np tensors: "
                     f"{why or 'leave it out, or pass t.data for the values (no gradient)'}.")


def _values(x, reader=None):
    """``x`` with the tensors in it (also inside lists, tuples and dicts) replaced by their arrays.
    ``reader``: the NumPy function about to compute on the values (no derivative), which
    ``ag.compile`` counts as Python reading them."""
    kind = type(x)
    if kind is engine.Tensor:
        if reader is not None and modes.tracers:
            modes.value_read(x, reader)
        return x._data
    if kind is list or kind is tuple:
        return kind(_values(v, reader) for v in x)
    if kind is dict:
        return {k: _values(v, reader) for k, v in x.items()}
    return x


def _holds_tensor(x, needs_grad=False):
    """Whether ``x`` is a tensor (that requires grad, with ``needs_grad``), or a list or tuple holding one."""
    kind = type(x)
    if kind is engine.Tensor:
        return x._requires_grad or not needs_grad
    return (kind is list or kind is tuple) and any(_holds_tensor(v, needs_grad) for v in x)


# --- the two protocol methods (bound in Tensor) ----------------------------------------

def array_ufunc(self, ufunc, method, *inputs, **kwargs):
    """``Tensor.__array_ufunc__``: a ufunc with a tensor among its inputs (or its ``out``)."""
    if not UFUNCS:
        _build()
    name = f"numpy.{ufunc.__name__}"
    if method == "__call__":
        impl = UFUNCS.get(ufunc)
        if impl is not None:
            if kwargs:
                _check_ufunc_kwargs(name, kwargs)
            try:
                return impl(*inputs)
            except TypeError as exc:
                raise _named(exc, name) from None
        if ufunc in VALUE_UFUNCS:
            return _value_ufunc(ufunc, ufunc, name, inputs, kwargs)
        raise _unsupported(name)
    name = f"{name}.{method}"
    if method == "at":
        raise _unsupported(name, None, "it writes into its first argument in place, outside the graph (and "
                           "behind the version check of a tensor's .data); build the result instead, e.g. with "
                           "ag.index_add or a = a + ...")
    impl = METHODS.get((ufunc, method))
    if impl is not None:
        return impl(*inputs, **kwargs)
    if method == "outer" and ufunc in UFUNCS and ufunc.nin == 2 and ufunc.signature is None:
        if kwargs:
            _check_ufunc_kwargs(name, kwargs)
        return _outer(name, UFUNCS[ufunc], *inputs)
    if ufunc in VALUE_UFUNCS:
        return _value_ufunc(ufunc, getattr(ufunc, method), name, inputs, kwargs)
    raise _unsupported(name)


def array_function(self, func, types, args, kwargs):
    """``Tensor.__array_function__``: a NumPy function with a tensor among its arguments."""
    impl = FUNCTIONS.get(func)
    if impl is None:
        if not FUNCTIONS:
            _build()
            return array_function(self, func, types, args, kwargs)
        if func in VALUE_FUNCTIONS:
            reader = None if func in _SHAPE_ONLY else _name(func)  # (ag.compile: a read of the values)
            return func(*_values(args, reader), **_values(kwargs, reader))
        raise _unsupported(_name(func))
    return impl(*args, **kwargs)


# value functions that look only at shapes and dtypes, not at the values
_SHAPE_ONLY = {np.shape, np.ndim, np.size, np.result_type, np.iscomplexobj, np.isrealobj, np.can_cast,
               np.may_share_memory, np.shares_memory, np.zeros_like, np.ones_like, np.empty_like}


def _name(func):
    return f"{getattr(func, '__module__', None) or 'numpy'}.{getattr(func, '__name__', repr(func))}"


def _named(exc, name):
    """A TypeError of an op (``reshape: a tensor that requires grad inside a list ...``) as
    the NumPy function the user called: its message starts with ``name``."""
    if type(exc) is not TypeError or str(exc).startswith(name):
        return exc
    return TypeError(f"{name}: {exc}")


def _value_ufunc(ufunc, call, name, inputs, kwargs):
    """A ufunc (or one of its methods, ``call``) without a derivative, on the values.  NumPy's own
    refusal of an input (a float in ``np.gcd``) is re-raised naming the tensor arguments."""
    if any(type(o) is engine.Tensor for o in kwargs.get("out") or ()):
        raise _unsupported(name, "out=<a tensor>", "it would write into a tensor's array behind the graph's back")
    try:
        return call(*_values(inputs, name), **kwargs)
    except TypeError as exc:
        given = ", ".join(f"x{i + 1}=<a {v.dtype} tensor>" for i, v in enumerate(inputs) if type(v) is engine.Tensor)
        raise TypeError(f"{name}({given}): NumPy refuses these inputs: {exc}") from None


def _outer(name, impl, a, b):
    """``ufunc.outer(a, b)``: ``a`` reshaped to broadcast against every axis of ``b``."""
    from ..ops import reshape
    for key, x in (("x1", a), ("x2", b)):
        if type(x) is not engine.Tensor and _holds_tensor(x, needs_grad=True):
            raise _unsupported(name, f"{key}=[<a tensor that requires grad>, ...]", "a list holding a tensor that "
                               "requires grad would be read for its values; combine tensors with ag.stack first")
    a = a if type(a) is engine.Tensor else np.asarray(_values(a))
    shape = np.shape(_values(a)) + (1,) * np.ndim(_values(b))
    try:
        return impl(reshape(a, shape=shape) if type(a) is engine.Tensor else a.reshape(shape), b)
    except TypeError as exc:
        raise _named(exc, name) from None


_UFUNC_DEFAULTS = {"out": None, "where": True, "casting": "same_kind", "order": "K", "dtype": None, "subok": True,
                   "signature": None}


def _check_ufunc_kwargs(name, kwargs):
    for key, given in kwargs.items():
        if key == "out" and (given is None or all(o is None for o in given)):
            continue
        default = _UFUNC_DEFAULTS.get(key, _NO)
        if not (given is default or (isinstance(given, (str, bool)) and given == default)):
            if key == "out":
                raise _unsupported(name, "out=...", "it would write into an array outside the graph; "
                                   "write `a = a + t`, not `a += t`")
            shown = "<a tensor>" if type(given) is engine.Tensor else repr(given)
            raise _unsupported(name, f"{key}={shown}")


def refuse(name, **given):
    """Raise for an argument we do not implement, unless it has its default (None, or NumPy's no-value)."""
    for key, v in given.items():
        if v is not None and v is not _NO and not (key == "where" and v is True):
            raise _unsupported(f"numpy.{name}", f"{key}=...", "it would write into an array outside the graph"
                               if key == "out" else None)


def float_dtype(name, x, dtype):
    """Refuse a ``dtype=`` that is not real floating point for ``x`` when it requires grad (the result
    could not carry its gradient); returns whether NumPy should compute on the values instead."""
    if dtype is None or np.dtype(dtype).kind == "f":
        return False
    if _holds_tensor(x, needs_grad=True):
        raise _unsupported(name, f"dtype={np.dtype(dtype)}", "the result would not be real floating point, so it "
                           "could not carry the gradient of a tensor that requires grad (PyTorch refuses it too); "
                           "cast explicitly first (t.astype(...), which cuts the gradient) or pass t.data")
    return True


def as_tensors(result):
    """A NumPy result computed on the values, as tensors (a tuple or list: each item)."""
    if type(result) is tuple or type(result) is list:
        return type(result)(as_tensors(r) for r in result)
    return engine.Tensor(np.asarray(result))


# --- the guard of every function in FUNCTIONS ------------------------------------------

def guarded(func, adapter, inputs=None, values="", dtype_rule=True):
    """``adapter`` behind a check of ``func``'s parameters, by NumPy's names (see the module's
    docstring).  ``inputs``: the differentiable parameters (default: the first); ``values``:
    those read for their values only; a tensor in any other parameter must not require grad
    (its values are passed on).  ``dtype_rule``: apply ``float_dtype`` to ``dtype=``."""
    name = _name(func)
    params = inspect.signature(func).parameters.values()
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    star = next((p.name for p in params if p.kind is p.VAR_POSITIONAL), None)
    inputs = set(inputs.split()) if inputs else {positional[0] if positional else star}
    values = set(values.split())
    sequences = {key for key in inputs if key in ("arrays", "tup")}  # lists of arrays (each one an input)
    dtype_at = positional.index("dtype") if "dtype" in positional else None
    dtype_rule = dtype_rule and any(p.name == "dtype" for p in params)
    first_is_input = (positional[0] if positional else star) in inputs
    inputs_before = 1 if first_is_input else 0  # (a tensor there needs no check)

    def one_array(key, x):
        if type(x) is not engine.Tensor and key not in sequences and _holds_tensor(x, needs_grad=True):
            raise _unsupported(name, f"{key}=[<a tensor that requires grad>, ...]", "a list holding a tensor "
                               "that requires grad would be read for its values and the gradient lost; combine "
                               "tensors with ag.stack or ag.concatenate first")
        return x

    def plain(key, x):
        """``x`` unchanged (a data tensor stays one: the op, or ag.compile, sees it), unless it
        holds a tensor that requires grad where no gradient can flow."""
        if key not in values and _holds_tensor(x, needs_grad=True):
            raise _unsupported(name, f"{key}=<a tensor that requires grad>", f"{key} is not differentiable (an "
                               "index, a shape, an option: no gradient can reach it), so its gradient would be "
                               f"lost; pass {key}.data, or a tensor that does not require grad")
        return x

    def call(*args, **kwargs):
        if len(args) > 1 or kwargs or not first_is_input:  # (np.sum(t): its one input, nothing to check)
            for i, a in enumerate(args):
                kind = type(a)
                if kind is list or kind is tuple or (kind is engine.Tensor and i >= inputs_before):
                    key = positional[i] if i < len(positional) else star
                    args = [*args[:i], one_array(key, a) if key in inputs else plain(key, a), *args[i + 1:]]
            for key, a in kwargs.items():
                kind = type(a)
                if kind is list or kind is tuple or kind is engine.Tensor:
                    kwargs[key] = one_array(key, a) if key in inputs else plain(key, a)
            if dtype_rule:
                dtype = args[dtype_at] if dtype_at is not None and len(args) > dtype_at else kwargs.get("dtype")
                given = [a for i, a in enumerate(args) if (positional[i] if i < len(positional) else star) in inputs]
                if float_dtype(name, given + [kwargs[k] for k in inputs if k in kwargs], dtype):
                    return as_tensors(func(*_values(args, name), **_values(kwargs, name)))
        try:
            return adapter(*args, **kwargs)
        except TypeError as exc:
            raise _named(exc, name) from None

    call.__name__ = call.__qualname__ = getattr(func, "__name__", "call")
    call.inputs, call.values, call.adapter = frozenset(inputs), frozenset(values), adapter
    return call


def _build():
    """Fill the tables (on the first NumPy call on a tensor), with the builder the
    package handed over (``adapters.build``: it imports this module, not the reverse)."""
    BUILDER[0]()


BUILDER = [None]  # set by autograd_np.interop to adapters.build
