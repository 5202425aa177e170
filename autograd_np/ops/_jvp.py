"""The kinds of forward-mode rule the op modules share.  Each op's JVP sits
next to its VJP (``@op.defjvp``); these build the common kinds from the op
itself, so that no formula is written twice:

* ``diagonal``: elementwise ops.  Each output element depends on the same
  element of each (broadcast) input, so the Jacobian is diagonal, its own
  transpose: the JVP is the VJP's formula at the tangent, with every
  convention at kinks, ties and poles the VJP has.
* ``linear``: ops linear in their inputs (reshape, sum, getitem, concatenate,
  einsum...): the op itself applied to the tangents.
* ``reduction``: each input element reaches one output element (max, prod,
  var, det...): the VJP at ones, times the tangent, summed over the reduced axes.
* ``zero``: piecewise-constant ops.

A JVP rule is ``jvp(F, tangents, y, *inputs, **params)``: ``tangents`` has one
entry per input (None: zero), and it returns ``y``'s tangent (None: zero).
``F`` holds the ops, raw or recording, as for VJPs.
"""
import numpy as np

from ._util import value

__all__ = ["diagonal", "linear", "reduction", "zero", "zeros_like", "total"]


def diagonal(*applies):
    """Give each op (an ``apply``, ``ag.exp``) the JVP ``sum_k VJP_k(t_k)``."""
    for apply in applies:
        apply.defjvp(_diagonal_rule(apply.op), rule="the VJP at the tangent (elementwise)")


def _diagonal_rule(op):
    def jvp(F, tangents, y, *inputs, **params):
        total = None
        for k, t in enumerate(tangents):
            if t is None:
                continue
            extra = {"needs": [i == k for i in range(len(inputs))]} if op.wants_needs else {}
            grads = op.vjp(F, t, y, *inputs, **params, **extra)
            g = grads[k] if type(grads) in (tuple, list) else (grads if k == 0 else None)
            if g is not None:
                total = g if total is None else total + g
        return total
    return jvp


def zero(F, tangents, y, *inputs, **params):
    """A piecewise-constant op: its tangent is zero (None)."""
    return None


def zeros_like(x):
    """Zeros of an input's shape and dtype (a missing tangent where an op needs every one)."""
    v = value(x)
    return np.zeros(np.shape(v), np.result_type(v))


def linear(apply, rule, all_inputs=False):
    """The JVP of an op linear in its first input (the others are constants: an index,
    a shape), or with ``all_inputs`` jointly linear in all of them (concatenate):
    the op on the tangents."""
    name = apply.op.name

    def jvp(F, tangents, y, *inputs, **params):
        op = getattr(F, name)
        if all_inputs:
            return op(*[zeros_like(x) if t is None else t for t, x in zip(tangents, inputs)], **params)
        return op(tangents[0], *inputs[1:], **params)
    apply.defjvp(jvp, rule=rule)


def reduction(apply, rule, axes=None):
    """The JVP of an op each of whose input elements reaches one output element,
    reduced over ``params['axis']`` (or ``axes``): sum(VJP(ones) * t) over them."""
    op = apply.op

    def jvp(F, tangents, y, x, **params):
        yv = value(y)
        slope = op.vjp(F, np.ones(np.shape(yv), np.result_type(yv)), y, x, **params)
        if axes is not None:
            return F.sum(slope * tangents[0], axis=axes)
        return F.sum(slope * tangents[0], axis=params.get("axis"), keepdims=params.get("keepdims", False))
    apply.defjvp(jvp, rule=rule)


def total(*terms):
    """The sum of the terms that are not None (None if all are): a tangent built
    from the inputs that have one."""
    out = None
    for term in terms:
        if term is not None:
            out = term if out is None else out + term
    return out
