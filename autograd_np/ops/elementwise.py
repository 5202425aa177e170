"""Elementwise math: exp, log, sqrt, abs, maximum, clip, where."""
import numpy as np

from ..recording import defop
from ._util import value


@defop("exp", "y = exp(x);  gx = gy * y")
def exp(x):
    """Elementwise ``e ** x``."""
    return np.exp(x)


@exp.defvjp
def _exp_vjp(F, gy, y, x):
    return gy * y


@defop("log", "y = log(x);  gx = gy / x")
def log(x):
    """Natural logarithm (domain ``x > 0``)."""
    return np.log(x)


@log.defvjp
def _log_vjp(F, gy, y, x):
    return gy / x


@defop("sqrt", "y = sqrt(x);  gx = gy / (2 * y)")
def sqrt(x):
    """Square root (domain ``x >= 0``; the derivative is infinite at 0)."""
    return np.sqrt(x)


@sqrt.defvjp
def _sqrt_vjp(F, gy, y, x):
    return gy / (2 * y)


@defop("abs", "y = |x|;  gx = gy * sign(x)")
def abs(x):
    """Absolute value (derivative 0 at 0)."""
    return np.abs(x)


@abs.defvjp
def _abs_vjp(F, gy, y, x):
    return gy * np.sign(value(x))


@defop("maximum", "y = maximum(a, b);  ga = gy where a >= b,  gb = gy where a < b")
def maximum(a, b):
    """Elementwise maximum (ties send the gradient to ``a``)."""
    return np.maximum(a, b)


@maximum.defvjp
def _maximum_vjp(F, gy, y, a, b):
    a_wins = value(a) >= value(b)
    return F.where(a_wins, gy, 0.0), F.where(a_wins, 0.0, gy)


@defop("clip", "y = clip(x, lo, hi);  gx = gy where lo <= x <= hi")
def clip(x, lo=None, hi=None):
    """Limit ``x`` to ``[lo, hi]`` (either bound may be None)."""
    return np.clip(x, lo, hi)


@clip.defvjp
def _clip_vjp(F, gy, y, x, lo=None, hi=None):
    xv = value(x)
    inside = np.ones(xv.shape, dtype=bool)
    if lo is not None:
        inside &= xv >= value(lo)
    if hi is not None:
        inside &= xv <= value(hi)
    return F.where(inside, gy, 0.0)


@defop("where", "y = where(cond, a, b);  ga = gy where cond,  gb = gy where not cond")
def where(cond, a, b):
    """Pick ``a`` where ``cond`` holds, else ``b`` (``cond`` is not differentiated)."""
    return np.where(value(cond), a, b)


@where.defvjp
def _where_vjp(F, gy, y, cond, a, b):
    c = value(cond)
    return None, F.where(c, gy, 0.0), F.where(c, 0.0, gy)
