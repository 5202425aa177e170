"""Jacobians and Hessians: ``jacrev`` (one reverse pass per output element),
``jacfwd`` (one forward pass per input element), ``jacobian`` (the one with
fewer passes), ``hessian`` (forward over reverse) and ``hvp``.

The function is recorded once; the passes go through that one graph.  They
run as one pass carrying every basis vector at once (``vmap`` over the VJP or
the JVP) when the ops allow it, else one by one.  The Jacobian of an output of
shape ``O`` with respect to an argument of shape ``I`` has shape ``O + I``
(JAX's layout), for every pair of output and argument leaves.
"""
from __future__ import annotations

import numpy as np

from ..core.registry import GRAPH_OPS
from ..ops import stack
from .arguments import arrays_only, give
from .functional import _aux, grad, jvp, linearized
from .levels import VmapError
from .pytrees import path_name, unflatten
from .vmap import vmap

__all__ = ["jacrev", "jacfwd", "jacobian", "hessian", "hvp"]

LOOP_BELOW = 8  # fewer rows than this: a loop (measured: below about 8, vmap's batching costs more than it saves)


def jacrev(f, argnums=0, has_aux=False):
    """The Jacobian of ``f`` by reverse mode: one VJP per output element.

    All of them go through the graph recorded once, in one batched pass (vmap)
    from 8 of them on when every op batches, else one by one.  Best when ``f`` has
    fewer outputs than inputs.

    Parameters
    ----------
    f : callable
        A function of arrays or tensors returning real floating-point ones.
    argnums : int or tuple of int, optional
        The positional arguments to differentiate (default 0).
    has_aux : bool, optional
        ``f`` returns ``(output, aux)``; the result is then ``(jacobian, aux)``.

    Returns
    -------
    callable
        ``jacrev(f)(*args)``: for an output of shape ``O`` and an argument of shape
        ``I``, an array of shape ``O + I``; in the output's structure, each leaf
        holding the arguments' structure.

    Examples
    --------
    >>> ag.jacrev(lambda x: x * x)(np.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    """
    return _jacobian(f, argnums, has_aux, "jacrev", reverse=True)


def jacfwd(f, argnums=0, has_aux=False):
    """The Jacobian of ``f`` by forward mode: one JVP per input element.

    All of them go through the graph recorded once, in one batched pass (vmap)
    from 8 of them on when every op batches, else one by one.  Best when ``f`` has
    more outputs than inputs.

    Parameters
    ----------
    f : callable
        A function of arrays or tensors returning real floating-point ones.
    argnums : int or tuple of int, optional
        The positional arguments to differentiate (default 0).
    has_aux : bool, optional
        ``f`` returns ``(output, aux)``; the result is then ``(jacobian, aux)``.

    Returns
    -------
    callable
        ``jacfwd(f)(*args)``: for an output of shape ``O`` and an argument of shape
        ``I``, an array of shape ``O + I``; in the output's structure, each leaf
        holding the arguments' structure.

    Examples
    --------
    >>> ag.jacfwd(lambda x: x * x)(np.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    """
    return _jacobian(f, argnums, has_aux, "jacfwd", reverse=False)


def jacobian(f, argnums=0, has_aux=False):
    """The Jacobian of ``f`` by the cheaper mode: ``jacrev`` when ``f`` has at most as
    many output elements as input elements, ``jacfwd`` otherwise (min(n, m) passes).

    Parameters
    ----------
    f : callable
        A function of arrays or tensors returning real floating-point ones.
    argnums : int or tuple of int, optional
        The positional arguments to differentiate (default 0).
    has_aux : bool, optional
        ``f`` returns ``(output, aux)``; the result is then ``(jacobian, aux)``.

    Returns
    -------
    callable
        ``jacobian(f)(*args)``, laid out as ``jacrev``'s.

    Examples
    --------
    >>> ag.jacobian(lambda x: ag.stack([ag.sum(x), ag.prod(x)]))(np.array([2.0, 3.0]))
    array([[1., 1.],
           [3., 2.]])
    """
    return _jacobian(f, argnums, has_aux, "jacobian", reverse=None)


def hessian(f, argnums=0):
    """The Hessian of a scalar ``f``: ``jacfwd(jacrev(f))``, forward over reverse.

    Parameters
    ----------
    f : callable
        A function returning a real floating-point scalar.
    argnums : int or tuple of int, optional
        The positional arguments to differentiate (default 0).

    Returns
    -------
    callable
        ``hessian(f)(*args)``: for an argument of shape ``I``, shape ``I + I``.

    Examples
    --------
    >>> ag.hessian(lambda x: ag.sum(x ** 3))(np.array([1.0, 2.0]))
    array([[ 6.,  0.],
           [ 0., 12.]])
    """
    return _jacobian(jacrev(f, argnums), argnums, False, "hessian", reverse=False)


def hvp(f, primals, tangents):
    """The Hessian of a scalar ``f`` at ``primals`` times ``tangents``, forward over
    reverse (``jvp(grad(f), primals, tangents)``): about two gradients' cost, and no
    Hessian formed.

    Parameters
    ----------
    f : callable
        A function returning a real floating-point scalar.
    primals : tuple
        Its arguments, one entry per positional argument (all differentiated).
    tangents : tuple
        The vector, like ``primals``.

    Returns
    -------
    tuple
        ``H @ tangents``, like ``primals``.

    Examples
    --------
    >>> ag.hvp(lambda x: ag.sum(x ** 3), (np.array([1.0, 2.0]),), (np.array([1.0, 1.0]),))
    (array([ 6., 12.]),)
    """
    if type(primals) not in (tuple, list):
        raise TypeError(f"hvp: primals must be a tuple (one entry per argument of f), got {type(primals).__name__}; "
                        "write hvp(f, (x,), (v,))")
    nums = tuple(range(len(primals)))
    return jvp(grad(f, argnums=nums), tuple(primals), tuple(tangents))[1]


def _jacobian(f, argnums, has_aux, who, reverse):
    def wrapped(*args):
        diff, lin = linearized(f, args, argnums, has_aux, who)
        for j, out in enumerate(lin.outputs):
            if out.dtype.kind != "f":
                raise TypeError(f"{who}: {path_name(lin.tree, j, 'output')} of f is {out.dtype}; only real "
                                "floating-point outputs have a Jacobian")
        rev = reverse if reverse is not None else \
            sum(o.size for o in lin.outputs) <= sum(int(np.size(x)) for x in diff.leaves)
        blocks = _by_rows(lin, diff) if rev else _by_columns(lin, diff)
        arrays = arrays_only(args)
        per_output = [diff.shape([give(b, arrays) for b in row]) for row in blocks]
        result = unflatten(lin.tree, per_output)
        return (result, _aux(lin, arrays)) if has_aux else result
    return wrapped


def _basis(shape, dtype):
    n = int(np.prod(shape, dtype=np.int64))
    return np.eye(n, dtype=dtype).reshape((n,) + tuple(shape))


def _by_rows(lin, diff):
    """blocks[j][i]: d output j / d input i, one VJP per element of output j."""
    blocks = []
    count = len(lin.outputs)
    for j, out in enumerate(lin.outputs):
        def row(c, j=j):
            return lin.pull([c if k == j else None for k in range(count)])
        rows = _each(row, _basis(out.shape, out.dtype), lin.batchable)
        blocks.append([GRAPH_OPS.reshape(r, shape=tuple(out.shape) + tuple(np.shape(x)))
                       for r, x in zip(rows, diff.leaves)])
    return blocks


def _by_columns(lin, diff):
    """blocks[j][i]: d output j / d input i, one JVP per element of input i."""
    columns = []
    count = len(diff.leaves)
    for i, x in enumerate(diff.leaves):
        def column(t, i=i):
            return lin.push([t if k == i else None for k in range(count)])
        cols = _each(column, _basis(np.shape(x), x.dtype), lin.batchable)
        columns.append([_outputs_first(c, np.shape(x), out.shape) for c, out in zip(cols, lin.outputs)])
    return [[columns[i][j] for i in range(count)] for j in range(len(lin.outputs))]


def _outputs_first(c, in_shape, out_shape):
    """(n, *O) tangents of one input's basis as the (*O, *I) block."""
    c = GRAPH_OPS.reshape(c, shape=tuple(in_shape) + tuple(out_shape))
    k = len(in_shape)
    return GRAPH_OPS.transpose(c, axes=tuple(range(k, k + len(out_shape))) + tuple(range(k)))


def _each(fn, basis, batchable):
    """``fn`` of each row of ``basis``, stacked per result: in one batched pass (vmap) when
    the linearization allows and every op batches, else one row at a time."""
    if batchable and len(basis) >= LOOP_BELOW:
        try:
            return vmap(fn)(basis)
        except VmapError:
            pass  # an op without a batching rule, or a VJP reading its cotangent's values: one by one
    results = [fn(row) for row in basis]
    if not results:
        return [np.zeros((0,) + tuple(np.shape(r)), np.result_type(r)) for r in fn(np.zeros(basis.shape[1:],
                                                                                        basis.dtype))]
    return [stack(list(parts), axis=0) for parts in zip(*results)]
