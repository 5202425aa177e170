"""Elementwise math: exponentials and logarithms, powers, abs, extremes
(maximum, minimum, fmax, fmin), clip, where, nan_to_num, erf."""
import math

import numpy as np

from ..core.recording import defop
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


@defop("maximum", "y = maximum(a, b);  ga = gy where a > b (or a is NaN), gy / 2 where a == b,  gb = the rest")
def maximum(a, b):
    """Elementwise maximum (NaN propagates, with its gradient).  Ties split the
    gradient equally between ``a`` and ``b``, as PyTorch's ``maximum``."""
    return np.maximum(a, b)


def _extreme_vjp(F, gy, a_wins, tie):
    """The gradients of maximum / minimum: ``a`` gets ``gy`` where it wins, half of it at a tie."""
    if not np.any(tie):
        return F.where(a_wins, gy, 0.0), F.where(a_wins, 0.0, gy)
    half = gy * 0.5
    return F.where(tie, half, F.where(a_wins, gy, 0.0)), F.where(tie, half, F.where(a_wins, 0.0, gy))


@maximum.defvjp
def _maximum_vjp(F, gy, y, a, b):
    av, bv = value(a), value(b)
    return _extreme_vjp(F, gy, (av > bv) | np.isnan(av), av == bv)


@defop("clip", "y = clip(x, lo, hi);  gx = gy where lo <= x <= hi (0 where lo >= hi: a constant)")
def clip(x, lo=None, hi=None):
    """Limit ``x`` to ``[lo, hi]`` (either bound may be None).  At a bound the gradient
    passes, as in PyTorch; where ``lo >= hi`` the output is the constant ``hi`` (NumPy's
    rule), so its derivative is 0 (PyTorch passes it at ``lo == hi``)."""
    return np.clip(x, lo, hi)


@clip.defvjp
def _clip_vjp(F, gy, y, x, lo=None, hi=None):
    xv = value(x)
    inside = np.ones(xv.shape, dtype=bool)
    if lo is not None:
        inside &= xv >= value(lo)
    if hi is not None:
        inside &= xv <= value(hi)
    if lo is not None and hi is not None:
        inside &= np.less(value(lo), value(hi))
    return F.where(inside, gy, 0.0)


@defop("where", "y = where(cond, a, b);  ga = gy where cond,  gb = gy where not cond")
def where(cond, a, b):
    """Pick ``a`` where ``cond`` holds, else ``b`` (``cond`` is not differentiated)."""
    return np.where(value(cond), a, b)


@where.defvjp
def _where_vjp(F, gy, y, cond, a, b):
    c = value(cond)
    return None, F.where(c, gy, 0.0), F.where(c, 0.0, gy)


# --- more exponentials and logarithms ------------------------------------------

_LN2, _LN10 = math.log(2.0), math.log(10.0)


@defop("exp2", "y = 2**x;  gx = gy * y * ln(2)")
def exp2(x):
    """Elementwise ``2 ** x``."""
    return np.exp2(x)


@exp2.defvjp
def _exp2_vjp(F, gy, y, x):
    return gy * y * _LN2


@defop("expm1", "y = exp(x) - 1;  gx = gy * (y + 1)  (hand-written: exp(x) - 1 loses digits near 0)")
def expm1(x):
    """``exp(x) - 1``, accurate near 0."""
    return np.expm1(x)


@expm1.defvjp
def _expm1_vjp(F, gy, y, x):
    return gy + gy * y


@defop("log1p", "y = log(1 + x);  gx = gy / (1 + x)  (hand-written: log(1 + x) loses digits near 0)")
def log1p(x):
    """``log(1 + x)``, accurate near 0 (domain ``x > -1``)."""
    return np.log1p(x)


@log1p.defvjp
def _log1p_vjp(F, gy, y, x):
    return gy / (x + 1.0)


@defop("log2", "y = log2(x);  gx = gy / (x ln(2))")
def log2(x):
    """Base-2 logarithm (domain ``x > 0``)."""
    return np.log2(x)


@log2.defvjp
def _log2_vjp(F, gy, y, x):
    return gy / (x * _LN2)


@defop("log10", "y = log10(x);  gx = gy / (x ln(10))")
def log10(x):
    """Base-10 logarithm (domain ``x > 0``)."""
    return np.log10(x)


@log10.defvjp
def _log10_vjp(F, gy, y, x):
    return gy / (x * _LN10)


@defop("logaddexp", "y = log(exp(a) + exp(b));  ga = gy * sigmoid(a - b),  gb = gy * sigmoid(b - a)  "
                    "(hand-written: the composition overflows)")
def logaddexp(a, b):
    """``log(exp(a) + exp(b))`` without overflow."""
    return np.logaddexp(a, b)


@logaddexp.defvjp(needs=True)
def _logaddexp_vjp(F, gy, y, a, b, needs):
    # exp(a - y) is the same number, but NaN where y is infinite (logaddexp(inf, 1): inf - inf)
    return (gy * F.sigmoid(a - b) if needs[0] else None), (gy * F.sigmoid(b - a) if needs[1] else None)


@defop("logaddexp2", "y = log2(2**a + 2**b);  ga = gy * sigmoid((a - b) ln 2),  gb = gy * sigmoid((b - a) ln 2)")
def logaddexp2(a, b):
    """``log2(2**a + 2**b)`` without overflow."""
    return np.logaddexp2(a, b)


@logaddexp2.defvjp(needs=True)
def _logaddexp2_vjp(F, gy, y, a, b, needs):
    return (gy * F.sigmoid((a - b) * _LN2) if needs[0] else None), \
        (gy * F.sigmoid((b - a) * _LN2) if needs[1] else None)


# --- powers ----------------------------------------------------------------------

@defop("square", "y = x**2;  gx = gy * 2x")
def square(x):
    """Elementwise ``x * x``."""
    return np.square(x)


@square.defvjp
def _square_vjp(F, gy, y, x):
    return gy * x * 2.0


@defop("reciprocal", "y = 1 / x;  gx = -gy * y**2")
def reciprocal(x):
    """Elementwise ``1 / x`` (floating-point inputs)."""
    return np.reciprocal(x)


@reciprocal.defvjp
def _reciprocal_vjp(F, gy, y, x):
    return -(gy * y * y)


@defop("cbrt", "y = x**(1/3);  gx = gy / (3 y**2)  (infinite at 0)")
def cbrt(x):
    """Cube root, for negative ``x`` too."""
    return np.cbrt(x)


@cbrt.defvjp
def _cbrt_vjp(F, gy, y, x):
    return gy / (y * y * 3.0)


# --- minimum and NaN-ignoring extremes -------------------------------------------

@defop("minimum", "y = minimum(a, b);  ga = gy where a < b (or a is NaN), gy / 2 where a == b,  gb = the rest")
def minimum(a, b):
    """Elementwise minimum (NaN propagates, with its gradient).  Ties split the
    gradient equally between ``a`` and ``b``, as PyTorch's ``minimum``."""
    return np.minimum(a, b)


@minimum.defvjp
def _minimum_vjp(F, gy, y, a, b):
    av, bv = value(a), value(b)
    return _extreme_vjp(F, gy, (av < bv) | np.isnan(av), av == bv)


@defop("fmax", "y = fmax(a, b);  ga = gy where a >= b (or b is NaN),  gb = gy elsewhere")
def fmax(a, b):
    """Elementwise maximum ignoring NaN (ties send the gradient to ``a``)."""
    return np.fmax(a, b)


@fmax.defvjp
def _fmax_vjp(F, gy, y, a, b):
    bv = value(b)
    a_wins = (value(a) >= bv) | np.isnan(bv)
    return F.where(a_wins, gy, 0.0), F.where(a_wins, 0.0, gy)


@defop("fmin", "y = fmin(a, b);  ga = gy where a <= b (or b is NaN),  gb = gy elsewhere")
def fmin(a, b):
    """Elementwise minimum ignoring NaN (ties send the gradient to ``a``)."""
    return np.fmin(a, b)


@fmin.defvjp
def _fmin_vjp(F, gy, y, a, b):
    bv = value(b)
    a_wins = (value(a) <= bv) | np.isnan(bv)
    return F.where(a_wins, gy, 0.0), F.where(a_wins, 0.0, gy)


@defop("nan_to_num", "y = x with NaN and inf replaced;  gx = gy where x is finite, else 0")
def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """NaN to ``nan``, infinities to ``posinf``/``neginf`` (default: the dtype's extremes)."""
    return np.nan_to_num(x, copy=True, nan=nan, posinf=posinf, neginf=neginf)


@nan_to_num.defvjp
def _nan_to_num_vjp(F, gy, y, x, nan=0.0, posinf=None, neginf=None):
    return F.where(np.isfinite(value(x)), gy, 0.0)


# --- a special function ----------------------------------------------------------

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_ERF = []  # the elementwise erf in use, chosen on first call


def _erf_function():
    if not _ERF:
        try:  # SciPy (installed with the nets extra) has a vectorised one
            from scipy.special import erf as fast
        except ImportError:  # the C library's, one element at a time: exact, slower
            scalar = np.frompyfunc(math.erf, 1, 1)

            def fast(x):
                x = np.asarray(x)
                return scalar(x).astype(x.dtype if x.dtype.kind == "f" else np.float64)
        _ERF.append(fast)
    return _ERF[0]


@defop("erf", "y = erf(x);  gx = gy * 2 / sqrt(pi) * exp(-x**2)")
def erf(x):
    """The error function (SciPy's when installed, else ``math.erf`` per element)."""
    x = np.asarray(x)
    y = _erf_function()(x)
    return y.astype(x.dtype, copy=False) if x.dtype.kind == "f" else y


@erf.defvjp
def _erf_vjp(F, gy, y, x):
    return gy * F.exp(-(x * x)) * _TWO_OVER_SQRT_PI
