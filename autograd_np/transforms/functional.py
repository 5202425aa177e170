"""The functional transforms: ``vjp``, ``jvp``, ``grad``, ``value_and_grad``.

Each takes a function of arrays or tensors (in tuples, lists and dicts) and
returns derivatives of the same kinds; each records the function once
(``linearize``) and goes through that graph backward or forward.  They nest
(``grad(grad(f))``, ``jvp(grad(f), ...)``) and run inside ``vmap``.  Results are
arrays when the caller passed arrays only, tensors when a tensor was passed or
a result is part of a graph (an enclosing transform differentiates it).
"""
from __future__ import annotations

import numpy as np

from ..core.errors import ShapeError
from .arguments import Differentiated, arrays_only, check_like, describe, give
from .linearize import linearize
from .pytrees import flatten, path_name, tree_map, unflatten

__all__ = ["vjp", "jvp", "grad", "value_and_grad", "linearized"]


def linearized(f, args, argnums, has_aux, who):
    """(the ``Differentiated`` arguments, their linearization) of ``f(*args)``."""
    if not callable(f):
        raise TypeError(f"{who}: f must be a function, got {describe(f)}")
    diff = Differentiated(args, argnums, who)
    return diff, linearize(f, diff.args, diff.leaves, diff.rebuild, has_aux, who, diff.names)


def _output_names(lin):
    return [path_name(lin.tree, j, "output") for j in range(len(lin.outputs))]


def vjp(f, *primals, has_aux=False):
    """Evaluate ``f`` and return its vector-Jacobian product function (reverse mode).

    Parameters
    ----------
    f : callable
        A function of arrays or tensors (in tuples, lists, dicts) returning them.
    *primals
        The arguments to evaluate ``f`` at; each is differentiated.
    has_aux : bool, optional
        ``f`` returns ``(output, aux)``; ``aux`` is returned as it is, not differentiated.

    Returns
    -------
    tuple
        ``(out, vjp_fn)`` (``(out, vjp_fn, aux)`` with ``has_aux``): ``vjp_fn(cotangent)``,
        with a cotangent like ``out`` (same structure, shapes and dtypes), returns one
        cotangent per primal, as a tuple.  It may be called many times, and under
        ``vmap`` (a Jacobian's rows in one pass).

    Examples
    --------
    >>> out, pull = ag.vjp(lambda x: x * x, np.array([1.0, 2.0]))
    >>> pull(np.array([1.0, 10.0]))
    (array([ 2., 40.]),)
    """
    if not primals:
        raise TypeError("vjp: no primals given; call vjp(f, x, ...)")
    diff, lin = linearized(f, primals, tuple(range(len(primals))), has_aux, "vjp")
    arrays = arrays_only(primals)
    out = unflatten(lin.tree, [give(v, arrays) for v in lin.values()])

    def vjp_fn(cotangent):
        flat, tree = flatten(cotangent)
        if tree != lin.tree:
            raise ShapeError(f"vjp: the cotangent's structure ({_said(cotangent)}) differs from f's output's "
                             f"({_said(out)})")
        cts = check_like(flat, lin.outputs, _output_names(lin), "vjp", "cotangent")
        grads = lin.pull(cts)
        return tuple(diff.shape([give(g, arrays and arrays_only(cotangent)) for g in grads]))

    return (out, vjp_fn, _aux(lin, arrays)) if has_aux else (out, vjp_fn)


def _aux(lin, arrays):
    return tree_map(lambda v: give(v, arrays), lin.aux_values())


def _said(tree):
    if type(tree) in (tuple, list, dict):
        return f"a {type(tree).__name__} of {len(tree)}"
    return describe(tree)


def jvp(f, primals, tangents, has_aux=False):
    """Evaluate ``f`` and its derivative along ``tangents`` (forward mode).

    Parameters
    ----------
    f : callable
        A function of arrays or tensors (in tuples, lists, dicts) returning them.
    primals : tuple
        The arguments to evaluate ``f`` at, one entry per positional argument.
    tangents : tuple
        One tangent per primal: the same structures, shapes and dtypes.
    has_aux : bool, optional
        ``f`` returns ``(output, aux)``; ``aux`` is returned as it is.

    Returns
    -------
    tuple
        ``(out, tangent_out)`` (``(out, tangent_out, aux)`` with ``has_aux``):
        ``f(*primals)`` and ``J @ tangents``, by one pass through the recorded graph
        with each op's JVP rule.

    Examples
    --------
    >>> ag.jvp(lambda x: x * x, (np.array([1.0, 2.0]),), (np.array([1.0, 0.0]),))
    (array([1., 4.]), array([2., 0.]))
    """
    for what, value in (("primals", primals), ("tangents", tangents)):
        if type(value) not in (tuple, list):
            raise TypeError(f"jvp: {what} must be a tuple (one entry per argument of f), got {describe(value)}; "
                            f"write jvp(f, (x,), (t,))")
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    diff, lin = linearized(f, primals, tuple(range(len(primals))), has_aux, "jvp")
    flat, tree = flatten(tangents)
    if tree != flatten(primals)[1]:
        raise ShapeError("jvp: the tangents' structure differs from the primals' (give one tangent per array, in "
                         "the same tuples, lists and dicts)")
    ts = check_like(flat, diff.leaves, diff.names, "jvp", "tangent")
    arrays = arrays_only(primals) and arrays_only(tangents)
    out = unflatten(lin.tree, [give(v, arrays) for v in lin.values()])
    tangent_out = unflatten(lin.tree, [give(t, arrays) for t in lin.push(ts)])
    return (out, tangent_out, _aux(lin, arrays)) if has_aux else (out, tangent_out)


def _scalar(lin, who):
    """The one output of a function grad differentiates, checked: a real floating-point scalar."""
    if len(lin.outputs) != 1:
        raise TypeError(f"{who}: f must return one scalar tensor, got {len(lin.outputs)} outputs (use vjp or "
                        "jacrev for several)")
    out = lin.outputs[0]
    if out.dtype.kind != "f" or out.size != 1:
        raise TypeError(f"{who}: f must return a real floating-point scalar (one element), got {describe(out)} "
                        "(use jacrev or vjp for a non-scalar output)")
    return out


def value_and_grad(f, argnums=0, has_aux=False):
    """Turn a scalar function into one giving its value and gradient.

    Parameters
    ----------
    f : callable
        A function returning a real floating-point scalar (one element).
    argnums : int or tuple of int, optional
        The positional arguments to differentiate (default 0; negative counts from the end).
    has_aux : bool, optional
        ``f`` returns ``(value, aux)``.

    Returns
    -------
    callable
        ``value_and_grad(f)(*args) -> (value, gradient)`` (``((value, aux), gradient)``
        with ``has_aux``): the gradient has the structure of ``args[argnums]`` (a
        tuple of them for a tuple ``argnums``).

    Examples
    --------
    >>> ag.value_and_grad(lambda x: ag.sum(x ** 3))(np.array([1.0, 2.0]))
    (array(9.), array([ 3., 12.]))
    """
    return _value_and_grad(f, argnums, has_aux, "value_and_grad")


def grad(f, argnums=0, has_aux=False):
    """Turn a scalar function into its gradient (the functional form; ``ag.grad(outputs,
    inputs)``, the engine's, stays as it is).

    Parameters
    ----------
    f : callable
        A function returning a real floating-point scalar (one element).
    argnums : int or tuple of int, optional
        The positional arguments to differentiate (default 0; negative counts from the end).
    has_aux : bool, optional
        ``f`` returns ``(value, aux)``; the result is then ``(gradient, aux)``.

    Returns
    -------
    callable
        ``grad(f)(*args)``: the gradient with respect to ``args[argnums]``, in its
        structure (a tuple of them for a tuple ``argnums``).

    Examples
    --------
    >>> ag.func.grad(lambda x: ag.sum(x ** 3))(np.array([1.0, 2.0]))
    array([ 3., 12.])
    >>> ag.func.grad(ag.func.grad(lambda x: x ** 3))(2.0)
    array(12.)
    """
    both = _value_and_grad(f, argnums, has_aux, "grad")

    def wrapped(*args):
        value, grads = both(*args)
        return (grads, value[1]) if has_aux else grads
    return wrapped


def _value_and_grad(f, argnums, has_aux, who):
    def wrapped(*args):
        diff, lin = linearized(f, args, argnums, has_aux, who)
        out = _scalar(lin, who)
        grads = lin.pull([np.ones(out.shape, out.dtype)], retain=False)
        arrays = arrays_only(args)
        value = give(lin.values()[0], arrays)
        grads = diff.shape([give(g, arrays) for g in grads])
        return ((value, _aux(lin, arrays)) if has_aux else value), grads
    return wrapped
