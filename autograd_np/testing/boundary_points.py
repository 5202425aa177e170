"""Boundary points of the elementwise, trigonometric, rounding, activation and
reduction ops: where each is at the edge of its domain (log at 0, arcsin at
+-1), at a kink (abs, relu at 0; maximum of equal arguments; clip at its
bounds), at +-0, +-inf and NaN, at ties, zeros and empty slices.  The sweep
(``sweep.py``) evaluates every op at these points; ``op_specs.py`` attaches
them to the table as ``OpSpec.boundary``."""
from __future__ import annotations

import itertools

import numpy as np

from .cases import Point

INF, NAN = np.inf, np.nan
SPECIAL = (0.0, -0.0, 1.0, -1.0, INF, -INF, NAN)  # every elementwise op is tried at these
BINARY = (0.0, -0.0, 1.0, -2.0, INF, -INF, NAN)   # every binary op at each pair of these


def at(*values, **flags):
    """One point per value (a 0-d array each)."""
    return tuple(Point((np.array(float(v)),), note=f"x = {v}", **flags) for v in values)


def pairs(a_values=BINARY, b_values=BINARY, **flags):
    """One point per pair (a, b), both differentiated."""
    return tuple(Point((np.array(float(a)), np.array(float(b))), wrt=(0, 1), note=f"(a, b) = ({a}, {b})", **flags)
                 for a, b in itertools.product(a_values, b_values))


def mark(points, where, **flags):
    """``points`` with ``flags`` set on those whose scalar arguments satisfy ``where``."""
    from dataclasses import replace
    return tuple(replace(p, **flags) if where(*[float(a) for a in p.args if np.ndim(a) == 0]) else p
                 for p in points)


def with_kwargs(points, **kwargs):
    from dataclasses import replace
    return tuple(replace(p, kwargs={**p.kwargs, **kwargs}, note=f"{p.note} {kwargs}") for p in points)


LARGE = (1e3, -1e3, 1e300, -1e300)  # overflow of exp, cosh...; the squares of 1e300 overflow
MODERATE = (1e3, -1e3)  # for periodic and rounding ops: at 1e300 every float is an integer and a relative
                        # difference step spans many periods, so the differences would measure nothing
TINY = (1e-300, -1e-300)

NAN_BOTH = "PyTorch sends a NaN's gradient to both arguments; here the NaN argument gets it"


def _any_nan(a, b):
    return np.isnan(a) or np.isnan(b)


def _extremes(fmax=False):
    """maximum / minimum / fmax / fmin at each pair: ties split the gradient as PyTorch's
    maximum does; a NaN argument gets the whole gradient (PyTorch: both do)."""
    points = pairs()
    if fmax:  # fmax ignores a NaN: the other argument wins, as in PyTorch
        return points
    return mark(points, _any_nan, torch=NAN_BOTH)


def _not_finite(*values):
    return not all(np.isfinite(values))


def _power():
    """a ** b at zero, negative and infinite bases and exponents."""
    points = pairs((0.0, -0.0, 1.0, -2.0, 2.0, INF, -INF, NAN), (0.0, -0.0, 0.5, 1.0, 2.0, -1.0, 3.0, INF, -INF, NAN))
    points = mark(points, _not_finite, second=False)  # (second derivatives at infinite or NaN arguments)
    points = mark(points, lambda a, b: b == 0 and np.isfinite(a) and a != 0,
                  torch="PyTorch's d/da a**b is 0 at b = 0 for every a, which drops its derivative in b "
                        "(the mixed second derivative 1/a)")
    points = mark(points, lambda a, b: a < 0 and np.isfinite(b),
                  torch="d/db a**b is NaN for a < 0 (log a); PyTorch's second derivative mixes finite terms in")
    return mark(points, lambda a, b: a == -INF and b == 0.5, torch="(-inf) ** 0.5 is NaN in NumPy (ours), "
                "inf in PyTorch (IEEE pow)")


ELEMENTWISE = {
    "neg": at(*SPECIAL, *LARGE),
    "exp": at(*SPECIAL, *LARGE, 709.0, 710.0),
    "exp2": at(*SPECIAL, *LARGE, 1023.0, 1024.0),
    "expm1": at(*SPECIAL, *LARGE, *TINY),
    "log": at(*SPECIAL, *TINY, 2.0),
    "log2": at(*SPECIAL, *TINY, 2.0),
    "log10": at(*SPECIAL, *TINY, 2.0),
    "log1p": at(*SPECIAL, -1.0 + 1e-12, -2.0, *TINY),
    "sqrt": at(*SPECIAL, *TINY, 4.0),
    "cbrt": at(*SPECIAL, *TINY, 8.0, -8.0),
    "square": at(*SPECIAL, *LARGE),
    "reciprocal": at(*SPECIAL, *TINY, *LARGE),
    "abs": mark(at(*SPECIAL, *LARGE), np.isnan, torch="torch.sign(NaN) is 0, so is its abs'(NaN); NumPy's sign "
                "(ours) is NaN"),
    "erf": at(*SPECIAL, 6.0, -6.0, *LARGE),
    "nan_to_num": at(*SPECIAL, 1.7e308, -1.7e308) + with_kwargs(at(INF, -INF, NAN), nan=1.0, posinf=3.0,
                                                                 neginf=-3.0),
    "add": pairs(),
    "sub": pairs(),
    "mul": pairs(),
    "div": pairs() + pairs((1e300,), (1e-300, -1e-300)),
    "power": _power(),
    "maximum": _extremes(),
    "minimum": _extremes(),
    "fmax": _extremes(fmax=True),
    "fmin": _extremes(fmax=True),
    "logaddexp": pairs() + pairs((1e308,), (1e308,), second=False),  # (a relative step of 1e302 saturates)
    "logaddexp2": pairs(),
    "where": tuple(Point((np.array(c), np.array(a), np.array(b)), wrt=(1, 2), note=f"where({c}, {a}, {b})")
                   for c in (True, False) for a, b in [(NAN, 1.0), (INF, -INF), (0.0, -0.0)]),
}

# the clip bounds: at each bound, outside, between, equal bounds (a constant: derivative 0), swapped
CLIP = tuple(Point((np.array(x),), {"lo": lo, "hi": hi}, note=f"clip({x}, {lo}, {hi})",
                   torch="PyTorch's clamp passes the gradient where lo == hi, a constant function"
                   if lo is not None and lo == hi else "")
             for lo, hi in [(-1.0, 1.0), (None, 0.5), (-0.5, None), (1.0, 1.0), (0.0, 0.0)]
             for x in (-1.0, 1.0, 0.5, -0.5, 0.0, 2.0, INF, -INF, NAN))

ROUNDING = at(*SPECIAL, 0.5, -0.5, 1.5, 2.5, -2.5, 0.49999999999999994, *MODERATE)
ELEMENTWISE.update({
    "clip": CLIP,
    "sign": mark(ROUNDING, np.isnan, torch="torch.sign(NaN) is 0; NumPy's (ours) NaN"), "floor": ROUNDING, "ceil": ROUNDING, "trunc": ROUNDING, "rint": ROUNDING,
    "round": ROUNDING + with_kwargs(at(0.05, 0.15, -0.25, 1.0), decimals=1),
    "remainder": pairs() + pairs((3.0, -3.0), (1.5, -1.5)),
    "fmod": pairs() + pairs((3.0, -3.0), (1.5, -1.5)),
    "floor_divide": pairs() + pairs((3.0, -3.0), (1.5, -1.5)),
})

TRIG = {
    "sin": at(*SPECIAL, *MODERATE), "cos": at(*SPECIAL, *MODERATE), "tan": at(*SPECIAL, np.pi / 2, -np.pi / 2),
    "arcsin": at(*SPECIAL, 2.0, -2.0), "arccos": at(*SPECIAL, 2.0, -2.0),
    "arctan": at(*SPECIAL, *LARGE), "arctan2": pairs() + pairs((1e-300,), (1e-300, 0.0), second=False,
                                                torch="PyTorch's a**2 + b**2 underflows to 0 (gradient 0)"),
    "hypot": pairs() + pairs((1e300,), (1e300,)) + pairs((1e-300,), (1e-300,), second=False),
    "sinh": at(*SPECIAL, *LARGE), "cosh": at(*SPECIAL, *LARGE),
    "arcsinh": at(*SPECIAL, *LARGE), "arccosh": at(*SPECIAL, 2.0, 0.5, 1e300),
    "arctanh": at(*SPECIAL, 2.0, -2.0, 0.5),
    "deg2rad": at(*SPECIAL, *LARGE), "rad2deg": at(*SPECIAL, *LARGE),
}

ACTIVATIONS = {
    "sigmoid": at(*SPECIAL, *LARGE, 36.0, -36.0, 710.0, -710.0),
    "relu": at(*SPECIAL, *LARGE, *TINY),
    "tanh": at(*SPECIAL, *LARGE, 20.0),
    "softplus": mark(at(*SPECIAL, *LARGE, 20.0, 40.0), lambda x: x >= 20,
                     torch="PyTorch's softplus is x itself beyond 20 (second derivative 0; ours e**-x)"),
    "silu": at(*SPECIAL, *LARGE, 40.0),
    "leaky_relu": with_kwargs(at(*SPECIAL, *LARGE, *TINY), negative_slope=0.01)
    + with_kwargs(at(0.0, -0.0, -1.0, NAN), negative_slope=0.2),
    "gelu": at(*SPECIAL, *LARGE, 10.0) + with_kwargs(at(*SPECIAL, *LARGE, 10.0), approximate="tanh"),
}


def _with_empty(points):
    """``points`` and the op on empty arrays (with the first point's keyword arguments;
    for two arguments, also an empty one broadcast against a scalar)."""
    first = points[0]
    empty = tuple(np.zeros((0,)) if i in first.wrt else a for i, a in enumerate(first.args))
    extra = (Point(empty, first.kwargs, first.wrt, note="empty"),)
    if len(first.wrt) == 2:
        i, j = first.wrt
        mixed = list(first.args)
        mixed[i], mixed[j] = np.zeros((2, 0)), np.array(1.5)
        extra += (Point(tuple(mixed), first.kwargs, first.wrt, note="empty and a scalar"),)
    return points + extra


ELEMENTWISE = {name: _with_empty(points) for name, points in ELEMENTWISE.items()}
TRIG = {name: _with_empty(points) for name, points in TRIG.items()}
ACTIVATIONS = {name: _with_empty(points) for name, points in ACTIVATIONS.items()}

from .boundary_points_arrays import NETWORK, REDUCTIONS
from .boundary_points_layout import CONTRACTION, LAYOUT, SHAPE
from .boundary_points_linalg import CONV, DECOMPOSITION, MATRIX

BOUNDARIES = {**ELEMENTWISE, **TRIG, **ACTIVATIONS, **REDUCTIONS, **NETWORK, **SHAPE, **LAYOUT, **CONTRACTION,
              **MATRIX, **DECOMPOSITION, **CONV}
