"""The NumPy dispatch sweep: every NumPy function and ufunc method the dispatch handles
or refuses, called with a float64 tensor that requires grad in each array-like
position in turn (and inside a list), by enumeration of ``numpy_api``'s tables.

For each call exactly one of these holds, or the test fails:

* a ``TypeError`` naming the function and the argument;
* the result equals NumPy's on the plain arrays, every output that depends on the
  tensor's values (central differences not zero) is a tensor that records, and the
  gradient with respect to the tensor matches central differences;
* (value-only functions) a plain result that is boolean, integer, a shape or a string,
  or a template (``zeros_like``) that does not depend on the values.

An integer or boolean position (an index, a condition) gets a float tensor that
requires grad (refused, or read for its values where the function documents it), and
an integer tensor, which must give NumPy's result.  The examples are in
``numpy_sweep_cases.py``; a completeness check fails when the dispatch gains a
function without one.  What NumPy never dispatches (a list holding tensors where
NumPy does not look inside, ``DOCUMENTED`` positions) is checked to be exactly that."""
import contextlib
import inspect

import numpy as np
import pytest
from numpy.testing.overrides import get_overridable_numpy_array_functions, get_overridable_numpy_ufuncs

import autograd_np as ag
from autograd_np import core as engine
from autograd_np.interop import dispatch as numpy_api

from . import numpy_sweep_cases as cases

numpy_api._build()
Case = cases.Case
EPS = 1e-6


# --- calling with a tensor somewhere ---------------------------------------------------

def positions(case):
    """(where, array) for every ndarray of a call: where = (i,) or (key,), plus j inside a list."""
    found = []
    for where, v in [((i,), a) for i, a in enumerate(case.args)] + [((k,), a) for k, a in case.kwargs.items()]:
        if isinstance(v, np.ndarray):
            found.append((where, v))
        elif isinstance(v, (list, tuple)):
            found += [(where + (j,), e) for j, e in enumerate(v) if isinstance(e, np.ndarray)]
    return found


def replaced(case, where, value):
    """The call's (args, kwargs) with the array at ``where`` replaced by ``value``."""
    args, kwargs = list(case.args), dict(case.kwargs)
    box, key = (args, where[0]) if isinstance(where[0], int) else (kwargs, where[0])
    if len(where) == 2:
        seq = list(box[key])
        seq[where[1]] = value
        value = type(box[key])(seq)
    box[key] = value
    return args, kwargs


def param_name(fn, where):
    """The NumPy name of the parameter at ``where`` (ufuncs: x1, x2)."""
    if isinstance(where[0], str):
        return where[0]
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return f"x{where[0] + 1}"
    for i, p in enumerate(params):
        if p.kind is p.VAR_POSITIONAL or i == where[0]:
            return p.name
    return f"x{where[0] + 1}"


def leaves(result):
    """A result as a flat list of its outputs (tuples, lists and named tuples opened)."""
    if isinstance(result, (tuple, list)):
        return [x for r in result for x in leaves(r)]
    return [result]


def plain(x):
    return x.data if type(x) is ag.Tensor else x


@contextlib.contextmanager
def dispatch_log():
    """Record whether NumPy handed a call to the tensor's protocol methods."""
    seen, f, u = [], engine.Tensor.__array_function__, engine.Tensor.__array_ufunc__
    engine.Tensor.__array_function__ = lambda *a, **k: (seen.append(1), f(*a, **k))[1]
    engine.Tensor.__array_ufunc__ = lambda *a, **k: (seen.append(1), u(*a, **k))[1]
    try:
        yield seen
    finally:
        engine.Tensor.__array_function__, engine.Tensor.__array_ufunc__ = f, u


# --- the check of one call ------------------------------------------------------------

class Probe:
    """One call of ``fn`` with a tensor at ``where`` (``variant`` "tensor"), or a list of the
    array's rows whose first is the tensor ("list"; ``other``: a position given a data tensor,
    so that NumPy dispatches the call).  ``leaf`` is the tensor that requires grad, ``region``
    the index of its values in the plain array, ``args`` and ``kwargs`` the call."""

    def __init__(self, fn, case, where, array, variant, other=None):
        self.fn, self.case, self.where, self.array, self.variant = fn, case, where, array, variant
        self.name = param_name(fn, where)
        self.leaf = ag.Tensor(np.array(array[0] if variant == "list" else array, dtype=np.float64),
                              requires_grad=True)
        value = [self.leaf, *array[1:]] if variant == "list" else self.leaf
        args, kwargs = replaced(case, where, value)
        if other is not None:  # a data tensor elsewhere, so that NumPy dispatches the call
            args, kwargs = replaced(Case(args, kwargs), other, ag.Tensor(_get(case, other)))
        self.args, self.kwargs = args, kwargs
        self.region = (0,) if variant == "list" else ()

    def plain(self, array):
        """What the plain call gets at ``where`` for ``array`` (the list of its rows, for a list)."""
        return list(array) if self.variant == "list" else array

    def __repr__(self):
        return f"{_label(self.fn)}{self.case!r}: a tensor at {self.name} {self.where} ({self.variant})"


def _get(case, where):
    v = case.args[where[0]] if isinstance(where[0], int) else case.kwargs[where[0]]
    return v[where[1]] if len(where) == 2 else v


def _label(fn):
    owner = getattr(fn, "__self__", None)
    return f"{owner.__name__}.{fn.__name__}" if isinstance(owner, np.ufunc) else getattr(fn, "__name__", repr(fn))


def plain_call(fn, case, where=None, value=None):
    """``fn`` on plain arrays (copies: ``at`` writes into its first argument; a data tensor of the
    example gives its values)."""
    args, kwargs = (case.args, case.kwargs) if where is None else replaced(case, where, value)
    with np.errstate(all="ignore"):
        return fn(*[np.array(plain(a), copy=True) if isinstance(plain(a), np.ndarray) else a for a in args],
                  **{k: plain(v) for k, v in kwargs.items()})


def numeric(probe, cots):
    """Central differences of sum(cot_k * output_k), per output k, with respect to the probe's values."""
    base, region = np.array(probe.array, dtype=np.float64), probe.region
    grads = [np.zeros(np.shape(base[region])) for _ in cots]
    for idx in np.ndindex(*np.shape(base[region])):
        full = region + idx
        values = []
        for step in (EPS, -EPS):
            moved = base.copy()
            moved[full] += step
            outs = leaves(plain_call(probe.fn, probe.case, probe.where, probe.plain(moved)))
            values.append([np.sum(np.asarray(o, dtype=np.float64) * c) if c is not None else 0.0
                           for o, c in zip(outs, cots)])
        for k in range(len(cots)):
            grads[k][idx] = (values[0][k] - values[1][k]) / (2 * EPS)
    return grads


def check_call(probe, index=False):
    """Run a probe; return "raised", "recorded", "values", "invalid" or "silent" (a plain result
    that depends on the tensor's values), asserting everything else the module's docstring lists.
    ``index``: the position takes integers (NumPy refuses floats there, but a tensor where NumPy
    does not dispatch is converted by ``__array__`` to the integers NumPy asks for)."""
    fn = probe.fn
    try:
        with np.errstate(all="ignore"):
            want = plain_call(fn, probe.case, probe.where, probe.plain(probe.array))
    except Exception as exc:  # an invalid call whatever the tensor: ours must fail too, or not be ours
        with dispatch_log() as log:
            try:
                fn(*probe.args, **probe.kwargs)
            except Exception:
                return f"invalid ({type(exc).__name__})"
        assert index and not log, f"{probe}: NumPy raises {exc!r} on the plain arrays, ours does not"
        return "invalid (undispatched index)"
    try:
        with np.errstate(all="ignore"):
            got = fn(*probe.args, **probe.kwargs)
    except TypeError as exc:
        message = str(exc)
        if f"{cases.REFUSED_BY.get(fn, '?')} " in message or f"{cases.REFUSED_BY.get(fn, '?')}(" in message:
            return "raised"
        if "np.asarray() of a tensor that requires grad" in message and fn.__name__ not in message:
            # NumPy computed without us (a list, an undispatched parameter): refused by Tensor.__array__
            with dispatch_log() as log:
                try:
                    fn(*probe.args, **probe.kwargs)
                except TypeError:
                    pass
            assert not log, f"{probe}: dispatched to us, and yet the values were read: {message}"
            return "raised"
        assert fn.__name__ in message, f"{probe}: the TypeError does not name the function: {message}"
        whole = f"{_label(fn)} is not supported on autograd_np tensors" in message  # refused for any argument
        named = any(f"{key}=" in message for key in (probe.name, "dtype", *probe.kwargs)) or "list" in message
        assert whole or named, f"{probe}: it does not name the argument: {message}"
        return "raised"
    outs, wants = leaves(got), leaves(want)
    assert len(outs) == len(wants), f"{probe}: {len(outs)} outputs, NumPy gives {len(wants)}"
    for o, w in zip(outs, wants):
        assert np.shape(plain(o)) == np.shape(w), f"{probe}: shape {np.shape(plain(o))}, NumPy {np.shape(w)}"
        if fn not in cases.UNINITIALISED and not isinstance(w, (str, np.dtype, type)):
            assert np.asarray(plain(o)).dtype == np.asarray(w).dtype, f"{probe}: dtype differs from NumPy's"
            np.testing.assert_allclose(plain(o), w, rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=repr(probe))
        elif fn not in cases.UNINITIALISED:
            assert plain(o) == w, probe
    if fn in cases.UNINITIALISED:
        return "values"
    floats = [isinstance(plain(o), (np.ndarray, np.floating, float)) and np.asarray(plain(o)).dtype.kind == "f"
              for o in outs]
    rng = np.random.default_rng(0)
    cots = [rng.standard_normal(np.shape(plain(o))) if f else None for o, f in zip(outs, floats)]
    num = numeric(probe, cots)
    recorded = [type(o) is ag.Tensor and o.requires_grad for o in outs]
    for k, (o, grad) in enumerate(zip(outs, num)):
        if cots[k] is not None and not recorded[k] and np.max(np.abs(grad), initial=0) > 1e-7:
            return "silent"
    if not any(recorded):
        return "values"
    total = ag.sum(ag.stack([ag.sum(o * c) for o, c, r in zip(outs, cots, recorded) if r]))
    (g,) = ag.grad(total, [probe.leaf], allow_unused=True)
    expected = sum(n for n, r in zip(num, recorded) if r)
    np.testing.assert_allclose(np.zeros(probe.leaf.shape) if g is None else g.data, expected, rtol=1e-5, atol=1e-6,
                               err_msg=f"{probe}: gradient differs from central differences")
    return "recorded"


# --- the sweep --------------------------------------------------------------------------

def sweep(fn, examples, allowed):
    """Every probe of every example of ``fn``; returns the statuses seen.  ``allowed``: the
    statuses a tensor that requires grad may give (beyond "raised" and "invalid")."""
    seen = set()
    for case in examples:
        found = positions(case)
        for where, array in found:
            index = array.dtype.kind != "f"
            status = check_call(Probe(fn, case, where, array.astype(np.float64), "tensor"), index)
            if status == "silent":
                name = param_name(fn, where)
                assert index or (fn, name) in cases.DOCUMENTED, f"{_label(fn)}{case!r}: {name}'s gradient is dropped"
                with dispatch_log() as log:  # a documented position: NumPy never hands it to us
                    plain_call(fn, case, where, ag.Tensor(array))
                assert not log, f"{_label(fn)}: {name} is dispatched, so it must record or raise"
            elif not status.startswith("invalid"):
                assert status in allowed or status == "raised", f"{_label(fn)}{case!r} at {where}: {status}"
            seen.add(status.split()[0])
            if index:
                check_data_tensor(fn, case, where, array)
            elif array.ndim:
                others = [w for w, a in found if w != where]
                seen.add(check_list(fn, case, where, array, others[0] if others else None, allowed))
    return seen


def check_data_tensor(fn, case, where, array):
    """An integer or boolean tensor (no grad) at an index position gives NumPy's result (or the
    refusal of the whole call)."""
    args, kwargs = replaced(case, where, ag.Tensor(array))
    try:
        want = leaves(plain_call(fn, case))
    except Exception:  # an invalid example (a reduction NumPy does not define): ours must fail too
        with pytest.raises(Exception):
            fn(*args, **kwargs)
        return
    try:
        got = leaves(fn(*args, **kwargs))
    except TypeError as exc:  # refused: the whole function, or the argument at fault by name
        message = str(exc)
        named = f"{_label(fn)}(..., " in message and any(f"{k}=" in message for k in (param_name(fn, where),
                                                                                        *case.kwargs))
        other = f"{cases.REFUSED_BY.get(fn, '?')}(" in message  # not dispatched: a function NumPy calls refuses it
        assert f"{_label(fn)} is not supported" in message or named or other, f"{_label(fn)} at {where}: {exc}"
        return
    for o, w in zip(got, want):
        np.testing.assert_array_equal(plain(o), w, err_msg=f"{_label(fn)}: a data tensor at {where}")


def check_list(fn, case, where, array, other, allowed):
    """The tensor as the first row of a list at ``where`` (a data tensor at ``other`` makes
    NumPy dispatch); with nothing else to dispatch on, NumPy reads the list's values."""
    probe = Probe(fn, case, where, array, "list", other)
    status = check_call(probe)
    if status == "silent":
        with dispatch_log() as log:
            fn(*probe.args, **probe.kwargs)
        assert not log, f"{probe}: the gradient is dropped although NumPy dispatched the call"
        return "undispatched-list"
    assert status in allowed or status in ("raised", "values") or status.startswith("invalid"), f"{probe}: {status}"
    return status.split()[0]


@pytest.mark.parametrize("fn", list(cases.FUNCTIONS), ids=_label)
def test_every_differentiable_function_records_or_raises_for_a_tensor_anywhere(fn):
    seen = sweep(fn, cases.FUNCTIONS[fn], {"recorded", "values"})
    assert "recorded" in seen, f"{_label(fn)}: no example recorded a gradient: {seen}"


@pytest.mark.parametrize("fn", list(cases.VALUE_FUNCTIONS), ids=_label)
def test_every_value_function_gives_plain_results_without_a_derivative(fn):
    sweep(fn, cases.VALUE_FUNCTIONS[fn], {"values"})
    for case in cases.VALUE_FUNCTIONS[fn]:
        args, kwargs = replaced(case, positions(case)[0][0], ag.Tensor(positions(case)[0][1], requires_grad=True))
        for out in leaves(fn(*args, **kwargs)):
            assert type(out) is not ag.Tensor, f"{_label(fn)} returned a tensor"
            kind = np.asarray(out).dtype.kind if isinstance(out, (np.ndarray, np.generic, bool, int, float)) else None
            assert kind != "f" or fn in cases.VALUE_INDEPENDENT, f"{_label(fn)} returns floats: is it a value function?"


@pytest.mark.parametrize("ufunc", list(cases.UFUNC_DOMAINS), ids=lambda u: u.__name__)
def test_every_ufunc_records_or_raises_for_a_tensor_in_each_input(ufunc):
    differentiable = ufunc in numpy_api.UFUNCS
    seen = sweep(ufunc, cases.ufunc_cases(ufunc), {"recorded", "values"} if differentiable else {"values"})
    assert not differentiable or "recorded" in seen, seen
    if not differentiable:
        inputs = [ag.Tensor(a, requires_grad=a.dtype.kind == "f") for a in cases.ufunc_cases(ufunc)[0].args]
        for out in leaves(ufunc(*inputs)):
            assert type(out) is np.ndarray and out.dtype.kind in "biu", f"{ufunc.__name__}: {out!r}"


HANDLED_UFUNCS = list(cases.UFUNC_DOMAINS)


@pytest.mark.parametrize("method", cases.METHOD_NAMES)
@pytest.mark.parametrize("ufunc", HANDLED_UFUNCS, ids=lambda u: u.__name__)
def test_every_ufunc_method_records_or_raises(ufunc, method):
    records = (ufunc, method) in numpy_api.METHODS or (method == "outer" and ufunc in numpy_api.UFUNCS
                                                       and ufunc.nin == 2 and ufunc.signature is None)
    allowed = {"recorded", "values"} if records else {"values"} if ufunc in numpy_api.VALUE_UFUNCS else set()
    if method == "at":
        allowed = set()  # in place: always refused
    seen = sweep(getattr(ufunc, method), cases.method_cases(ufunc, method), allowed)
    assert not records or "recorded" in seen, seen


# --- completeness, and what the dispatch refuses ---------------------------------------

def test_every_table_entry_has_sweep_examples():
    assert set(numpy_api.FUNCTIONS) == set(cases.FUNCTIONS), "FUNCTIONS and the sweep's examples differ: " + \
        str({_label(f) for f in set(numpy_api.FUNCTIONS) ^ set(cases.FUNCTIONS)})
    assert numpy_api.VALUE_FUNCTIONS == set(cases.VALUE_FUNCTIONS), \
        str({_label(f) for f in numpy_api.VALUE_FUNCTIONS ^ set(cases.VALUE_FUNCTIONS)})
    assert set(numpy_api.UFUNCS) | numpy_api.VALUE_UFUNCS == set(cases.UFUNC_DOMAINS)
    assert {u for u, _ in numpy_api.METHODS} <= set(HANDLED_UFUNCS)
    assert {m for _, m in numpy_api.METHODS} <= set(cases.METHOD_NAMES)


REFUSED = sorted((f for f in get_overridable_numpy_array_functions()
                  if f not in numpy_api.FUNCTIONS and f not in numpy_api.VALUE_FUNCTIONS),
                 key=lambda f: f"{f.__module__}.{f.__name__}")


def refusal(call, name):
    """Whether ``call()`` raises the dispatch's refusal naming ``name`` (False for any other outcome)."""
    try:
        call()
    except TypeError as exc:
        return f"{name} is not supported on autograd_np tensors" in str(exc)
    except Exception:
        return False
    return False


@pytest.mark.parametrize("fn", REFUSED, ids=lambda f: f"{f.__module__}.{f.__name__}")
def test_every_other_numpy_function_refuses_a_tensor(fn):
    """A tensor in the required parameters (also one more, for ``*args``), or as ``like=`` (the
    array-creation functions dispatch on that only): the refusal naming the function."""
    t = ag.Tensor(np.array([[0.5, 0.25], [0.75, 0.125]]), requires_grad=True)
    params = inspect.signature(fn).parameters.values() if fn is not np.fromstring else []
    n = len([p for p in params if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)])
    attempts = [lambda: fn(*[t] * n), lambda: fn(*[t] * (n + 1)), lambda: fn(*[t] * n, like=t),
                lambda: fn(*[2] * n, like=t), lambda: fn("0.5", like=t), lambda: fn(b"0123", like=t)]
    name = f"{fn.__module__}.{fn.__name__}"
    assert any(refusal(a, name) for a in attempts), f"{name}: no call with a tensor was refused by the dispatch"


REFUSED_UFUNCS = sorted((u for u in get_overridable_numpy_ufuncs()
                         if u not in numpy_api.UFUNCS and u not in numpy_api.VALUE_UFUNCS), key=lambda u: u.__name__)


@pytest.mark.parametrize("ufunc", REFUSED_UFUNCS, ids=lambda u: u.__name__)
def test_every_other_ufunc_and_its_methods_refuse_a_tensor(ufunc):
    """The refusal naming the ufunc (or ``ufunc.method``), unless NumPy refuses the call on plain
    arrays too (``reduce`` of a unary ufunc), before any dispatch."""
    x = np.array([0.5, 0.25])
    t = ag.Tensor(x, requires_grad=True)
    assert refusal(lambda: ufunc(*[t] * ufunc.nin), f"numpy.{ufunc.__name__}")
    if not any(types.startswith("d" * ufunc.nin) for types in ufunc.types):
        return  # a string ufunc: its methods on numbers can crash NumPy itself (a segfault in 2.4)
    for method, n, extra in [("reduce", 1, ()), ("accumulate", 1, ()), ("outer", 2, ()), ("reduceat", 1, ([0],)),
                             ("at", ufunc.nin, ())]:
        call = getattr(ufunc, method)
        args = (t, *extra) if method != "at" else (t, [0], *[t] * (n - 1))
        try:
            call(*(x, *extra) if method != "at" else (x.copy(), [0], *[x] * (n - 1)))
        except Exception:  # NumPy refuses the call whatever the arrays: so must we
            with pytest.raises(Exception):
                call(*args)
            continue
        assert refusal(lambda: call(*args), f"numpy.{ufunc.__name__}.{method}"), method
