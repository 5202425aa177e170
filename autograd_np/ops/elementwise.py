"""Elementwise math: exponentials and logarithms, powers, abs, extremes
(maximum, minimum, fmax, fmin), clip, where, nan_to_num, erf."""
import math

import numpy as np

from ..core.recording import defop
from ._util import value
from ._jvp import diagonal


@defop("exp", "y = exp(x);  gx = gy * y")
def exp(x):
    """Exponential elementwise: ``e ** x``, like ``np.exp``.

    Parameters
    ----------
    x : array_like or Tensor
        The input.

    Returns
    -------
    Tensor
        ``e ** x``, of ``x``'s shape (floating point).

    Examples
    --------
    >>> x = ag.Tensor([0.0, 1.0], requires_grad=True)
    >>> y = ag.exp(x)
    >>> y
    Tensor([1.     2.7183], dtype=float64, op=exp)
    >>> y.sum().backward(); x.grad
    array([1. , 2.718...])
    """
    return np.exp(x)


@exp.defvjp
def _exp_vjp(F, gy, y, x):
    return gy * y


@exp.defjvp(rule="ty = tx * y")
def _exp_jvp(F, tangents, y, x):
    return tangents[0] * y


@defop("log", "y = log(x);  gx = gy / x")
def log(x):
    """Natural logarithm elementwise, like ``np.log``.

    The domain is ``x > 0``: 0 gives ``-inf``, a negative ``x`` NaN (with NumPy's warnings).

    Parameters
    ----------
    x : array_like or Tensor
        The input.

    Returns
    -------
    Tensor
        ``log(x)``, of ``x``'s shape (floating point).

    Examples
    --------
    >>> x = ag.Tensor([1.0, 2.0], requires_grad=True)
    >>> y = ag.log(x)
    >>> y
    Tensor([0.     0.6931], dtype=float64, op=log)
    >>> y.sum().backward(); x.grad
    array([1. , 0.5])
    """
    return np.log(x)


@log.defvjp
def _log_vjp(F, gy, y, x):
    return gy / x


@log.defjvp(rule="ty = tx / x")
def _log_jvp(F, tangents, y, x):
    return tangents[0] / x


@defop("sqrt", "y = sqrt(x);  gx = gy / (2 * y)")
def sqrt(x):
    """Square root elementwise, like ``np.sqrt``.

    The domain is ``x >= 0``; the derivative is infinite at 0.

    Parameters
    ----------
    x : array_like or Tensor
        The input.

    Returns
    -------
    Tensor
        ``sqrt(x)``, of ``x``'s shape (floating point).

    Examples
    --------
    >>> x = ag.Tensor([4.0, 9.0], requires_grad=True)
    >>> y = ag.sqrt(x)
    >>> y
    Tensor([2. 3.], dtype=float64, op=sqrt)
    >>> y.sum().backward(); x.grad
    array([0.25 , 0.1666...])
    """
    return np.sqrt(x)


@sqrt.defvjp
def _sqrt_vjp(F, gy, y, x):
    return gy / (2 * y)


diagonal(sqrt)


@defop("abs", "y = |x|;  gx = gy * sign(x)")
def abs(x):
    """Absolute value elementwise, like ``np.abs``.

    The derivative at 0 is taken as 0 (``sign(0)``), as in PyTorch.

    Parameters
    ----------
    x : array_like or Tensor
        The input.

    Returns
    -------
    Tensor
        ``|x|``, of ``x``'s shape and dtype.

    Examples
    --------
    >>> x = ag.Tensor([-2.0, 0.0, 3.0], requires_grad=True)
    >>> y = ag.abs(x)
    >>> y
    Tensor([2. 0. 3.], dtype=float64, op=abs)
    >>> y.sum().backward(); x.grad
    array([-1.,  0.,  1.])
    """
    return np.abs(x)


@abs.defvjp
def _abs_vjp(F, gy, y, x):
    return gy * np.sign(value(x))


diagonal(abs)


@defop("maximum", "y = maximum(a, b);  ga = gy where a > b (or a is NaN), gy / 2 where a == b,  gb = the rest")
def maximum(a, b):
    """Elementwise maximum of ``a`` and ``b``, like ``np.maximum``.

    NaN propagates, with its gradient.  Ties split the gradient equally between ``a`` and
    ``b``, as PyTorch's ``maximum``.

    Parameters
    ----------
    a : array_like or Tensor
        The first operand.
    b : array_like or Tensor
        The second operand; its shape must broadcast with ``a``'s.

    Returns
    -------
    Tensor
        The larger of ``a`` and ``b`` at each position, of the broadcast shape.

    See Also
    --------
    fmax, minimum, max

    Examples
    --------
    >>> a = ag.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> b = ag.Tensor([3.0, 2.0, 1.0], requires_grad=True)
    >>> y = ag.maximum(a, b)
    >>> y
    Tensor([3. 2. 3.], dtype=float64, op=maximum)
    >>> y.sum().backward(); a.grad, b.grad   # the tie in the middle: half each
    (array([0. , 0.5, 1. ]), array([1. , 0.5, 0. ]))
    """
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


diagonal(maximum)


@defop("clip", "y = clip(x, lo, hi);  gx = gy where lo <= x <= hi (0 where lo >= hi: a constant)")
def clip(x, lo=None, hi=None):
    """Limit ``x`` to ``[lo, hi]``, like ``np.clip``.

    Parameters
    ----------
    x : array_like or Tensor
        The input.
    lo : array_like, Tensor or None, optional
        The lower bound (None: no lower bound); it is not differentiated.
    hi : array_like, Tensor or None, optional
        The upper bound (None: no upper bound); it is not differentiated.

    Returns
    -------
    Tensor
        ``x`` clipped, of the shape of ``x`` broadcast with the bounds.

    Notes
    -----
    At a bound the gradient passes, as in PyTorch.  Where ``lo >= hi`` the output
    is the constant ``hi`` (NumPy's rule), so its derivative is 0 (PyTorch passes
    it at ``lo == hi``).

    Examples
    --------
    >>> x = ag.Tensor([-2.0, 0.5, 1.0, 3.0], requires_grad=True)
    >>> y = ag.clip(x, 0.0, 1.0)
    >>> y
    Tensor([0.  0.5 1.  1. ], dtype=float64, op=clip)
    >>> y.sum().backward(); x.grad   # 1 inside and at the bound
    array([0., 1., 1., 0.])
    """
    return np.clip(x, lo, hi)


@clip.defvjp(needs=True)
def _clip_vjp(F, gy, y, x, lo=None, hi=None, needs=(True,)):
    xv = value(x)
    inside = np.ones(xv.shape, dtype=bool)
    if lo is not None:
        inside &= xv >= value(lo)
    if hi is not None:
        inside &= xv <= value(hi)
    if lo is not None and hi is not None:
        inside &= np.less(value(lo), value(hi))
    gx = F.where(inside, gy, 0.0)
    if len(needs) == 1:  # the bounds given by keyword: constants
        return gx
    # bounds given by position are inputs: each gets the gradient where the output is it (as torch.clamp):
    # hi where x > hi or lo >= hi (the output is then hi, NumPy's rule), lo where x < lo < hi
    to_hi = np.zeros(xv.shape, bool) if hi is None else \
        (xv > value(hi)) | (np.zeros(xv.shape, bool) if lo is None else np.greater_equal(value(lo), value(hi)))
    to_lo = ~inside & ~to_hi & ~np.isnan(xv) if lo is not None else None
    glo = F.where(to_lo, gy, 0.0) if lo is not None and needs[1] else None
    ghi = F.where(to_hi, gy, 0.0) if hi is not None and len(needs) > 2 and needs[2] else None
    return (gx, glo, ghi)[:len(needs)]


diagonal(clip)


@defop("where", "y = where(cond, a, b);  ga = gy where cond,  gb = gy where not cond")
def where(cond, a, b):
    """Pick ``a`` where ``cond`` holds, else ``b``, like ``np.where``.

    Parameters
    ----------
    cond : array_like of bool or Tensor
        The condition; it is not differentiated.
    a : array_like or Tensor
        The values taken where ``cond`` is true.
    b : array_like or Tensor
        The values taken elsewhere.  The three shapes must broadcast together.

    Returns
    -------
    Tensor
        The picked values, of the broadcast shape.

    Examples
    --------
    >>> a = ag.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> b = ag.Tensor([10.0, 20.0, 30.0], requires_grad=True)
    >>> y = ag.where(np.array([True, False, True]), a, b)
    >>> y
    Tensor([ 1. 20.  3.], dtype=float64, op=where)
    >>> y.sum().backward(); a.grad, b.grad
    (array([1., 0., 1.]), array([0., 1., 0.]))
    """
    return np.where(value(cond), a, b)


@where.defvjp
def _where_vjp(F, gy, y, cond, a, b):
    c = value(cond)
    return None, F.where(c, gy, 0.0), F.where(c, 0.0, gy)


diagonal(where)


# --- more exponentials and logarithms ------------------------------------------

_LN2, _LN10 = math.log(2.0), math.log(10.0)


@defop("exp2", "y = 2**x;  gx = gy * y * ln(2)")
def exp2(x):
    """Base-2 exponential elementwise: ``2 ** x``, like ``np.exp2``.

    Parameters
    ----------
    x : array_like or Tensor
        The input.

    Returns
    -------
    Tensor
        ``2 ** x``, of ``x``'s shape (floating point).

    Examples
    --------
    >>> x = ag.Tensor([0.0, 3.0], requires_grad=True)
    >>> y = ag.exp2(x)
    >>> y
    Tensor([1. 8.], dtype=float64, op=exp2)
    >>> y.sum().backward(); x.grad   # ln 2 * 2 ** x
    array([0.6931..., 5.5451...])
    """
    return np.exp2(x)


@exp2.defvjp
def _exp2_vjp(F, gy, y, x):
    return gy * y * _LN2


diagonal(exp2)


@defop("expm1", "y = exp(x) - 1;  gx = gy * (y + 1)  (hand-written: exp(x) - 1 loses digits near 0)")
def expm1(x):
    """Exponential minus one, ``exp(x) - 1``, elementwise, like ``np.expm1``.

    Computing ``exp(x) - 1`` directly loses the digits of a small ``x``; this does not.

    Parameters
    ----------
    x : array_like or Tensor
        The input.

    Returns
    -------
    Tensor
        ``exp(x) - 1``, of ``x``'s shape (floating point).

    Examples
    --------
    >>> x = ag.Tensor([0.0, 1e-10], requires_grad=True)
    >>> y = ag.expm1(x)
    >>> y
    Tensor([0.e+00 1.e-10], dtype=float64, op=expm1)
    >>> y.sum().backward(); x.grad
    array([1., 1.])
    >>> float(np.exp(1e-10) - 1)   # the direct way: wrong from the 8th digit
    1.00000008274037...e-10
    """
    return np.expm1(x)


@expm1.defvjp
def _expm1_vjp(F, gy, y, x):
    return gy + gy * y


diagonal(expm1)


@defop("log1p", "y = log(1 + x);  gx = gy / (1 + x)  (hand-written: log(1 + x) loses digits near 0)")
def log1p(x):
    """Logarithm of one plus ``x``, ``log(1 + x)``, elementwise, like ``np.log1p``.

    Accurate near 0, where ``log(1 + x)`` loses the digits of a small ``x``.  The domain is
    ``x > -1``.

    Parameters
    ----------
    x : array_like or Tensor
        The input.

    Returns
    -------
    Tensor
        ``log(1 + x)``, of ``x``'s shape (floating point).

    Examples
    --------
    >>> x = ag.Tensor([0.0, 1e-10], requires_grad=True)
    >>> y = ag.log1p(x)
    >>> y
    Tensor([0.e+00 1.e-10], dtype=float64, op=log1p)
    >>> y.sum().backward(); x.grad
    array([1., 1.])
    """
    return np.log1p(x)


@log1p.defvjp
def _log1p_vjp(F, gy, y, x):
    return gy / (x + 1.0)


diagonal(log1p)


@defop("log2", "y = log2(x);  gx = gy / (x ln(2))")
def log2(x):
    """Base-2 logarithm elementwise, like ``np.log2``.

    The domain is ``x > 0``.

    Parameters
    ----------
    x : array_like or Tensor
        The input.

    Returns
    -------
    Tensor
        ``log2(x)``, of ``x``'s shape (floating point).

    Examples
    --------
    >>> x = ag.Tensor([1.0, 8.0], requires_grad=True)
    >>> y = ag.log2(x)
    >>> y
    Tensor([0. 3.], dtype=float64, op=log2)
    >>> y.sum().backward(); x.grad   # 1 / (x ln 2)
    array([1.4426..., 0.1803...])
    """
    return np.log2(x)


@log2.defvjp
def _log2_vjp(F, gy, y, x):
    return gy / (x * _LN2)


diagonal(log2)


@defop("log10", "y = log10(x);  gx = gy / (x ln(10))")
def log10(x):
    """Base-10 logarithm elementwise, like ``np.log10``.

    The domain is ``x > 0``.

    Parameters
    ----------
    x : array_like or Tensor
        The input.

    Returns
    -------
    Tensor
        ``log10(x)``, of ``x``'s shape (floating point).

    Examples
    --------
    >>> x = ag.Tensor([1.0, 100.0], requires_grad=True)
    >>> y = ag.log10(x)
    >>> y
    Tensor([0. 2.], dtype=float64, op=log10)
    >>> y.sum().backward(); x.grad   # 1 / (x ln 10)
    array([0.4342..., 0.0043...])
    """
    return np.log10(x)


@log10.defvjp
def _log10_vjp(F, gy, y, x):
    return gy / (x * _LN10)


diagonal(log10)


@defop("logaddexp", "y = log(exp(a) + exp(b));  ga = gy * sigmoid(a - b),  gb = gy * sigmoid(b - a)  "
                    "(hand-written: the composition overflows)")
def logaddexp(a, b):
    """Logarithm of the sum of exponentials of ``a`` and ``b``, like ``np.logaddexp``.

    ``log(exp(a) + exp(b))`` computed without overflow.

    Parameters
    ----------
    a : array_like or Tensor
        The first operand.
    b : array_like or Tensor
        The second operand; its shape must broadcast with ``a``'s.

    Returns
    -------
    Tensor
        ``log(exp(a) + exp(b))``, of the broadcast shape.

    See Also
    --------
    logaddexp2, logsumexp

    Examples
    --------
    >>> a = ag.Tensor([0.0, 1000.0], requires_grad=True)
    >>> b = ag.Tensor([0.0, 1000.0], requires_grad=True)
    >>> y = ag.logaddexp(a, b)
    >>> y
    Tensor([6.9315e-01 1.0007e+03], dtype=float64, op=logaddexp)
    >>> y.sum().backward(); a.grad, b.grad
    (array([0.5, 0.5]), array([0.5, 0.5]))
    """
    return np.logaddexp(a, b)


@logaddexp.defvjp(needs=True)
def _logaddexp_vjp(F, gy, y, a, b, needs):
    # exp(a - y) is the same number, but NaN where y is infinite (logaddexp(inf, 1): inf - inf)
    return (gy * F.sigmoid(a - b) if needs[0] else None), (gy * F.sigmoid(b - a) if needs[1] else None)


diagonal(logaddexp)


@defop("logaddexp2", "y = log2(2**a + 2**b);  ga = gy * sigmoid((a - b) ln 2),  gb = gy * sigmoid((b - a) ln 2)")
def logaddexp2(a, b):
    """Base-2 logarithm of the sum of powers of 2, like ``np.logaddexp2``.

    ``log2(2**a + 2**b)`` computed without overflow.

    Parameters
    ----------
    a : array_like or Tensor
        The first operand.
    b : array_like or Tensor
        The second operand; its shape must broadcast with ``a``'s.

    Returns
    -------
    Tensor
        ``log2(2**a + 2**b)``, of the broadcast shape.

    See Also
    --------
    logaddexp

    Examples
    --------
    >>> a = ag.Tensor([1.0, 3.0], requires_grad=True)
    >>> b = ag.Tensor([1.0, 5.0], requires_grad=True)
    >>> y = ag.logaddexp2(a, b)
    >>> y
    Tensor([2.     5.3219], dtype=float64, op=logaddexp2)
    >>> y.sum().backward(); a.grad, b.grad
    (array([0.5, 0.2]), array([0.5, 0.8]))
    """
    return np.logaddexp2(a, b)


@logaddexp2.defvjp(needs=True)
def _logaddexp2_vjp(F, gy, y, a, b, needs):
    return (gy * F.sigmoid((a - b) * _LN2) if needs[0] else None), \
        (gy * F.sigmoid((b - a) * _LN2) if needs[1] else None)


diagonal(logaddexp2)


# --- powers ----------------------------------------------------------------------

@defop("square", "y = x**2;  gx = gy * 2x")
def square(x):
    """Square elementwise: ``x * x``, like ``np.square``.

    Parameters
    ----------
    x : array_like or Tensor
        The input.

    Returns
    -------
    Tensor
        ``x * x``, of ``x``'s shape and dtype.

    Examples
    --------
    >>> x = ag.Tensor([1.0, -3.0], requires_grad=True)
    >>> y = ag.square(x)
    >>> y
    Tensor([1. 9.], dtype=float64, op=square)
    >>> y.sum().backward(); x.grad
    array([ 2., -6.])
    """
    return np.square(x)


@square.defvjp
def _square_vjp(F, gy, y, x):
    return gy * x * 2.0


diagonal(square)


@defop("reciprocal", "y = 1 / x;  gx = -gy * y**2")
def reciprocal(x):
    """Reciprocal elementwise: ``1 / x``, like ``np.reciprocal``.

    For floating-point inputs: NumPy's ``reciprocal`` of an integer truncates
    (0 for ``|x| > 1``), and an integer result is a constant (not differentiated).

    Parameters
    ----------
    x : array_like or Tensor
        The input.

    Returns
    -------
    Tensor
        ``1 / x``, of ``x``'s shape and dtype.

    Examples
    --------
    >>> x = ag.Tensor([2.0, -4.0], requires_grad=True)
    >>> y = ag.reciprocal(x)
    >>> y
    Tensor([ 0.5  -0.25], dtype=float64, op=reciprocal)
    >>> y.sum().backward(); x.grad
    array([-0.25  , -0.0625])
    """
    return np.reciprocal(x)


@reciprocal.defvjp
def _reciprocal_vjp(F, gy, y, x):
    return -(gy * y * y)


diagonal(reciprocal)


@defop("cbrt", "y = x**(1/3);  gx = gy / (3 y**2)  (infinite at 0)")
def cbrt(x):
    """Cube root elementwise, like ``np.cbrt``.

    Defined for negative ``x`` too (``cbrt(-8) = -2``); the derivative is infinite at 0.

    Parameters
    ----------
    x : array_like or Tensor
        The input.

    Returns
    -------
    Tensor
        ``x ** (1/3)``, with ``x``'s sign, of ``x``'s shape (floating point).

    Examples
    --------
    >>> x = ag.Tensor([8.0, -27.0], requires_grad=True)
    >>> y = ag.cbrt(x)
    >>> y
    Tensor([ 2. -3.], dtype=float64, op=cbrt)
    >>> y.sum().backward(); x.grad   # 1 / (3 y**2)
    array([0.0833..., 0.0370...])
    """
    return np.cbrt(x)


@cbrt.defvjp
def _cbrt_vjp(F, gy, y, x):
    return gy / (y * y * 3.0)


diagonal(cbrt)


# --- minimum and NaN-ignoring extremes -------------------------------------------

@defop("minimum", "y = minimum(a, b);  ga = gy where a < b (or a is NaN), gy / 2 where a == b,  gb = the rest")
def minimum(a, b):
    """Elementwise minimum of ``a`` and ``b``, like ``np.minimum``.

    NaN propagates, with its gradient.  Ties split the gradient equally between ``a`` and
    ``b``, as PyTorch's ``minimum``.

    Parameters
    ----------
    a : array_like or Tensor
        The first operand.
    b : array_like or Tensor
        The second operand; its shape must broadcast with ``a``'s.

    Returns
    -------
    Tensor
        The smaller of ``a`` and ``b`` at each position, of the broadcast shape.

    See Also
    --------
    fmin, maximum, min

    Examples
    --------
    >>> a = ag.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> b = ag.Tensor([3.0, 2.0, 1.0], requires_grad=True)
    >>> y = ag.minimum(a, b)
    >>> y
    Tensor([1. 2. 1.], dtype=float64, op=minimum)
    >>> y.sum().backward(); a.grad, b.grad   # the tie in the middle: half each
    (array([1. , 0.5, 0. ]), array([0. , 0.5, 1. ]))
    """
    return np.minimum(a, b)


@minimum.defvjp
def _minimum_vjp(F, gy, y, a, b):
    av, bv = value(a), value(b)
    return _extreme_vjp(F, gy, (av < bv) | np.isnan(av), av == bv)


diagonal(minimum)


@defop("fmax", "y = fmax(a, b);  ga = gy where a >= b (or b is NaN),  gb = gy elsewhere")
def fmax(a, b):
    """Elementwise maximum ignoring NaN, like ``np.fmax``.

    Where one operand is NaN the other is the result (and gets the gradient); where both are,
    the result is NaN.  Ties send the gradient to ``a``.

    Parameters
    ----------
    a : array_like or Tensor
        The first operand.
    b : array_like or Tensor
        The second operand; its shape must broadcast with ``a``'s.

    Returns
    -------
    Tensor
        The larger of ``a`` and ``b`` at each position, of the broadcast shape.

    See Also
    --------
    maximum

    Examples
    --------
    >>> a = ag.Tensor([1.0, np.nan, 2.0], requires_grad=True)
    >>> b = ag.Tensor([2.0, 1.0, 2.0], requires_grad=True)
    >>> y = ag.fmax(a, b)
    >>> y
    Tensor([2. 1. 2.], dtype=float64, op=fmax)
    >>> y.sum().backward(); a.grad, b.grad
    (array([0., 0., 1.]), array([1., 1., 0.]))
    """
    return np.fmax(a, b)


@fmax.defvjp
def _fmax_vjp(F, gy, y, a, b):
    bv = value(b)
    a_wins = (value(a) >= bv) | np.isnan(bv)
    return F.where(a_wins, gy, 0.0), F.where(a_wins, 0.0, gy)


diagonal(fmax)


@defop("fmin", "y = fmin(a, b);  ga = gy where a <= b (or b is NaN),  gb = gy elsewhere")
def fmin(a, b):
    """Elementwise minimum ignoring NaN, like ``np.fmin``.

    Where one operand is NaN the other is the result (and gets the gradient); where both are,
    the result is NaN.  Ties send the gradient to ``a``.

    Parameters
    ----------
    a : array_like or Tensor
        The first operand.
    b : array_like or Tensor
        The second operand; its shape must broadcast with ``a``'s.

    Returns
    -------
    Tensor
        The smaller of ``a`` and ``b`` at each position, of the broadcast shape.

    See Also
    --------
    minimum

    Examples
    --------
    >>> a = ag.Tensor([1.0, np.nan, 2.0], requires_grad=True)
    >>> b = ag.Tensor([2.0, 1.0, 2.0], requires_grad=True)
    >>> y = ag.fmin(a, b)
    >>> y
    Tensor([1. 1. 2.], dtype=float64, op=fmin)
    >>> y.sum().backward(); a.grad, b.grad
    (array([1., 0., 1.]), array([0., 1., 0.]))
    """
    return np.fmin(a, b)


@fmin.defvjp
def _fmin_vjp(F, gy, y, a, b):
    bv = value(b)
    a_wins = (value(a) <= bv) | np.isnan(bv)
    return F.where(a_wins, gy, 0.0), F.where(a_wins, 0.0, gy)


diagonal(fmin)


@defop("nan_to_num", "y = x with NaN and inf replaced;  gx = gy where x is finite, else 0")
def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """Replace NaN and infinities with finite numbers, like ``np.nan_to_num``.

    Parameters
    ----------
    x : array_like or Tensor
        The input.
    nan : float, optional
        The value for NaN (default 0.0).
    posinf : float or None, optional
        The value for ``inf`` (None: the dtype's largest number).
    neginf : float or None, optional
        The value for ``-inf`` (None: the dtype's most negative number).

    Returns
    -------
    Tensor
        A copy of ``x`` with the replacements, of ``x``'s shape and dtype.

    Examples
    --------
    >>> x = ag.Tensor([1.0, np.nan, np.inf, -np.inf], requires_grad=True)
    >>> y = ag.nan_to_num(x, nan=-1.0, posinf=9.0, neginf=-9.0)
    >>> y
    Tensor([ 1. -1.  9. -9.], dtype=float64, op=nan_to_num)
    >>> y.sum().backward(); x.grad   # the replaced values are constants
    array([1., 0., 0., 0.])
    """
    return np.nan_to_num(x, copy=True, nan=nan, posinf=posinf, neginf=neginf)


@nan_to_num.defvjp
def _nan_to_num_vjp(F, gy, y, x, nan=0.0, posinf=None, neginf=None):
    return F.where(np.isfinite(value(x)), gy, 0.0)


diagonal(nan_to_num)


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
    """The error function elementwise, ``2 / sqrt(pi) * integral of exp(-t**2) from 0 to x``.

    SciPy's ``scipy.special.erf`` when SciPy is installed, else ``math.erf`` per element
    (exact, slower).  A floating-point ``x`` keeps its dtype; other inputs give float64.

    Parameters
    ----------
    x : array_like or Tensor
        The input.

    Returns
    -------
    Tensor
        ``erf(x)``, of ``x``'s shape (floating point).

    Examples
    --------
    >>> x = ag.Tensor([0.0, 1.0], requires_grad=True)
    >>> y = ag.erf(x)
    >>> y
    Tensor([0.     0.8427], dtype=float64, op=erf)
    >>> y.sum().backward(); x.grad   # 2 / sqrt(pi) * exp(-x**2)
    array([1.1283..., 0.4151...])
    """
    x = np.asarray(x)
    y = _erf_function()(x)
    return y.astype(x.dtype, copy=False) if x.dtype.kind == "f" else y


@erf.defvjp
def _erf_vjp(F, gy, y, x):
    return gy * F.exp(-(x * x)) * _TWO_OVER_SQRT_PI


diagonal(erf)
