"""What an op-table entry is (``Case``, ``OpSpec``) and the case builders the
family tables share (``op_specs.py`` and ``specs_*.py``)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from hypothesis import strategies as st

from .strategies import arrays, axes_for, broadcastable_shapes, shapes


@dataclass(frozen=True)
class Case:
    """One call: ``fn(*args, **kwargs)``, differentiated with respect to ``args[i]`` for ``i in wrt``."""
    args: tuple
    kwargs: dict = field(default_factory=dict)
    wrt: tuple = (0,)


@dataclass(frozen=True)
class OpSpec:
    fn: object          # the op, or a composite function
    cases: object       # hypothesis strategy of Case
    inputs: str         # what valid inputs look like, for the docs
    eps: float = 1e-6
    atol: float = 1e-5
    rtol: float = 1e-3
    numpy: object = None  # the NumPy function (same arguments) the forward must agree with, if there is one
    composed: str = ""    # a composite's recipe, for the docs
    family: str = ""      # the ops module a composite belongs to, when ``fn`` is a test wrapper
    boundary: object = None  # its boundary points: a tuple of ``Point``, or a str saying why there are none


@dataclass(frozen=True)
class Point:
    """One call of an op at a boundary of its domain (0, +-inf, NaN, ties, a singular
    matrix, an empty array...): ``fn(*args, **kwargs)``, differentiated in ``args[i]``
    for ``i in wrt``.  The boundary sweep (``testing/sweep.py``) checks the forward
    against NumPy, that no derivative is NaN where the one-sided differences agree
    (and that it equals them there), and both derivatives against PyTorch's."""
    args: tuple
    kwargs: dict = field(default_factory=dict)
    wrt: tuple = (0,)
    note: str = ""          # what is special here
    raises: str = ""        # a regex: the call must raise an error whose message matches it
    torch: str = ""         # why PyTorch's value is not compared here (a convention that differs), or ""
    numpy: str = ""         # why the forward is not compared with NumPy's here (NumPy is wrong there), or ""
    partials: str = ""      # why the gradient may differ from agreeing one-sided partials (not
                            # differentiable although each partial exists: a median's tie), or ""
    finite: bool = False    # the forward must be finite (the math is, e.g. a loss at float32's extremes)
    grad_finite: bool = False  # the gradient must be finite (it does not depend on the values)
    second: bool = True     # the second derivative is checked too

    def __str__(self):
        shapes = ", ".join(str(np.shape(a)) if isinstance(a, np.ndarray) else type(a).__name__ for a in self.args)
        return self.note or f"({shapes}) {self.kwargs}"


def unary(domain="real", min_dims=0):
    """A hypothesis strategy of ``Case``s with one array of ``domain`` (see ``DOMAINS``), of at
    least ``min_dims`` dimensions: the inputs of an elementwise op."""
    return shapes(min_dims=min_dims).flatmap(lambda s: arrays(s, domain=domain)).map(lambda x: Case((x,)))


def binary(domain_a="real", domain_b="real"):
    """A hypothesis strategy of ``Case``s with two arrays of broadcastable shapes, from ``domain_a``
    and ``domain_b``, both differentiated."""
    pair = broadcastable_shapes().flatmap(
        lambda s: st.tuples(arrays(s[0], domain=domain_a), arrays(s[1], domain=domain_b)))
    return pair.map(lambda ab: Case(ab, wrt=(0, 1)))


def reduction(values=lambda s: arrays(s)):
    """A hypothesis strategy of ``Case``s for a reduction: an array drawn by ``values(shape)``, with
    ``axis`` (None, one axis or a tuple) and ``keepdims`` drawn too."""
    def case(s):
        return st.tuples(values(s), axes_for(len(s)), st.booleans()).map(
            lambda t: Case((t[0],), {"axis": t[1], "keepdims": t[2]}))
    return shapes().flatmap(case)


def fixed_kwargs(strategy, **kwargs):
    return strategy.map(lambda c: Case(c.args, {**c.kwargs, **kwargs}, c.wrt))


def gapped_pair(draw, shape_a=None):
    """(a, b) of broadcastable shapes with ``|a - b| >= 0.25`` everywhere (no ties
    within a finite-difference step): for maximum-like ops."""
    a = draw(shapes().flatmap(arrays)) if shape_a is None else draw(arrays(shape_a))
    gap = draw(arrays(a.shape, domain="nonzero"))
    return a, np.asarray(a + gap)
