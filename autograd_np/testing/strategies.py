"""Hypothesis strategies for property-testing code built on autograd_np.

The project's own op tests use exactly these.  A user can check a composite
function of their own in a few lines::

    from hypothesis import given
    import autograd_np as ag
    from autograd_np.testing import arrays, broadcastable_shapes

    @given(broadcastable_shapes().flatmap(lambda s: st.tuples(arrays(s[0]), arrays(s[1], domain="positive"))))
    def test_my_fn(ab):
        assert ag.gradcheck(lambda a, b: ag.sum(a * ag.log(b)), ab)
"""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

__all__ = ["DOMAINS", "shapes", "arrays", "broadcastable_shapes", "axes_for", "distinct_arrays"]

# Value ranges that keep an op inside its domain and away from its kinks, so
# that central differences are accurate.
DOMAINS = {
    "real": (-2.0, 2.0, 0.0),       # (low, high, minimum distance from zero)
    "positive": (0.5, 3.0, 0.0),    # log, sqrt, the base of power
    "nonzero": (-3.0, 3.0, 0.25),   # divisors, abs, relu: away from 0
    "unit": (-0.9, 0.9, 0.0),
}


def shapes(min_dims=0, max_dims=3, min_side=1, max_side=4):
    """Array shapes, including 0-d and size-1 axes."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def _elements(domain, dtype):
    low, high, gap = DOMAINS[domain] if isinstance(domain, str) else domain
    width = 32 if np.dtype(dtype) == np.float32 else 64
    values = st.floats(low, high, allow_nan=False, allow_infinity=False, width=width)
    return values.filter(lambda v: abs(v) >= gap) if gap else values


def arrays(shape, dtype=np.float64, domain="real"):
    """Arrays of ``shape`` (a tuple or a strategy) with values in ``domain``
    (a key of ``DOMAINS``: "real", "positive", "nonzero", "unit"; or a
    ``(low, high, minimum distance from zero)`` tuple)."""
    return hnp.arrays(dtype, shape, elements=_elements(domain, dtype))


def distinct_arrays(shape, dtype=np.float64, spacing=0.25):
    """Arrays whose elements differ pairwise by at least ``spacing`` (for max,
    sort-like ops: no ties within a finite-difference step)."""
    size = int(np.prod(shape))

    def build(perm):
        values = (np.array(perm, dtype=np.float64) - size / 2) * spacing
        return values.reshape(shape).astype(dtype)

    return st.permutations(range(size)).map(build)


def broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4):
    """Tuples of ``num_shapes`` shapes that broadcast together under NumPy's rules."""
    return hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims,
                                             max_side=max_side).map(lambda b: b.input_shapes)


def axes_for(ndim):
    """A valid ``axis`` argument for an array of ``ndim`` dims: None, an int
    (possibly negative) or a tuple of distinct axes."""
    if ndim == 0:
        return st.none()
    single = st.integers(-ndim, ndim - 1)
    several = st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple)
    return st.one_of(st.none(), single, several)
