"""Rounding, sign and division with remainder.

Their outputs are piecewise constant in some input, so that derivative is 0
(it is undefined at the jumps: integers for floor and ceil, halves for rint,
0 for sign, integer quotients for remainder; 0 is what we send there too).
The input still gets a gradient, an array of zeros, so ``x.grad`` is set."""
import numpy as np

from ..core.recording import defop
from ._util import value
from ._jvp import diagonal, zero


def _zeros(x):
    """The gradient of a piecewise-constant op: zeros of ``x``'s shape (a read-only broadcast)."""
    v = np.asarray(value(x))
    return np.broadcast_to(np.zeros((), v.dtype if v.dtype.kind == "f" else np.float64), v.shape)


def _zero_vjp(F, gy, y, x, *rest, **params):  # (rest: a parameter passed by position, ag.round(x, 1))
    return _zeros(x)


@defop("sign", "y = sign(x);  gx = 0  (piecewise constant; jump at 0)")
def sign(x):
    """Sign elementwise: -1, 0 or 1 by the sign of ``x``, like ``np.sign``.

    NaN gives NaN.

    Parameters
    ----------
    x : array_like or Tensor
        The input.

    Returns
    -------
    Tensor
        -1, 0 or 1, of ``x``'s shape and dtype.

    Notes
    -----
    The output is piecewise constant, so the gradient is 0 (at the jumps, where
    the derivative is undefined, 0 too); ``x.grad`` is still set, to zeros.

    Examples
    --------
    >>> x = ag.Tensor([-1.5, 0.0, 0.5, 2.5], requires_grad=True)
    >>> y = ag.sign(x)
    >>> y
    Tensor([-1.  0.  1.  1.], dtype=float64, op=sign)
    >>> y.sum().backward(); x.grad
    array([0., 0., 0., 0.])
    """
    return np.sign(x)


@defop("floor", "y = floor(x);  gx = 0  (piecewise constant; jumps at integers)")
def floor(x):
    """Floor elementwise: the largest integer ``<= x``, like ``np.floor``.

    A floating-point ``x`` gives floats (integer values).

    Parameters
    ----------
    x : array_like or Tensor
        The input.

    Returns
    -------
    Tensor
        ``floor(x)``, of ``x``'s shape and dtype.

    Notes
    -----
    The output is piecewise constant, so the gradient is 0 (at the jumps, where
    the derivative is undefined, 0 too); ``x.grad`` is still set, to zeros.

    Examples
    --------
    >>> x = ag.Tensor([-1.5, 0.0, 0.5, 2.5], requires_grad=True)
    >>> y = ag.floor(x)
    >>> y
    Tensor([-2.  0.  0.  2.], dtype=float64, op=floor)
    >>> y.sum().backward(); x.grad
    array([0., 0., 0., 0.])
    """
    return np.floor(x)


@defop("ceil", "y = ceil(x);  gx = 0  (piecewise constant; jumps at integers)")
def ceil(x):
    """Ceiling elementwise: the smallest integer ``>= x``, like ``np.ceil``.

    A floating-point ``x`` gives floats (integer values).

    Parameters
    ----------
    x : array_like or Tensor
        The input.

    Returns
    -------
    Tensor
        ``ceil(x)``, of ``x``'s shape and dtype.

    Notes
    -----
    The output is piecewise constant, so the gradient is 0 (at the jumps, where
    the derivative is undefined, 0 too); ``x.grad`` is still set, to zeros.

    Examples
    --------
    >>> x = ag.Tensor([-1.5, 0.0, 0.5, 2.5], requires_grad=True)
    >>> y = ag.ceil(x)
    >>> y
    Tensor([-1.  0.  1.  3.], dtype=float64, op=ceil)
    >>> y.sum().backward(); x.grad
    array([0., 0., 0., 0.])
    """
    return np.ceil(x)


@defop("trunc", "y = trunc(x);  gx = 0  (piecewise constant; jumps at non-zero integers)")
def trunc(x):
    """Round towards zero elementwise, like ``np.trunc``; ``ag.fix`` is the same op.

    A floating-point ``x`` gives floats (integer values).

    Parameters
    ----------
    x : array_like or Tensor
        The input.

    Returns
    -------
    Tensor
        ``x`` without its fraction, of ``x``'s shape and dtype.

    Notes
    -----
    The output is piecewise constant, so the gradient is 0 (at the jumps, where
    the derivative is undefined, 0 too); ``x.grad`` is still set, to zeros.

    Examples
    --------
    >>> x = ag.Tensor([-1.5, 0.0, 0.5, 2.5], requires_grad=True)
    >>> y = ag.trunc(x)
    >>> y
    Tensor([-1.  0.  0.  2.], dtype=float64, op=trunc)
    >>> y.sum().backward(); x.grad
    array([0., 0., 0., 0.])
    """
    return np.trunc(x)


@defop("rint", "y = rint(x);  gx = 0  (piecewise constant; jumps at halves)")
def rint(x):
    """Round to the nearest integer elementwise, halves to even, like ``np.rint``.

    The result is floating point (integer values).

    Parameters
    ----------
    x : array_like or Tensor
        The input.

    Returns
    -------
    Tensor
        ``x`` rounded, of ``x``'s shape.

    Notes
    -----
    The output is piecewise constant, so the gradient is 0 (at the jumps, where
    the derivative is undefined, 0 too); ``x.grad`` is still set, to zeros.

    Examples
    --------
    >>> x = ag.Tensor([-1.5, 0.0, 0.5, 2.5], requires_grad=True)
    >>> y = ag.rint(x)
    >>> y
    Tensor([-2.  0.  0.  2.], dtype=float64, op=rint)
    >>> y.sum().backward(); x.grad
    array([0., 0., 0., 0.])
    """
    return np.rint(x)


@defop("round", "y = round(x, decimals);  gx = 0  (piecewise constant; jumps at halves of 10**-decimals)")
def round(x, decimals=0):
    """Round to ``decimals`` decimals elementwise, halves to even, like ``np.round``.

    Parameters
    ----------
    x : array_like or Tensor
        The input.
    decimals : int, optional
        The number of decimals to keep (default 0); negative: round to tens,
        hundreds and so on.

    Returns
    -------
    Tensor
        ``x`` rounded, of ``x``'s shape and dtype.

    Notes
    -----
    The output is piecewise constant, so the gradient is 0 (at the jumps, where
    the derivative is undefined, 0 too); ``x.grad`` is still set, to zeros.

    Examples
    --------
    >>> x = ag.Tensor([1.234, -5.678], requires_grad=True)
    >>> y = ag.round(x, decimals=1)
    >>> y
    Tensor([ 1.2 -5.7], dtype=float64, op=round)
    >>> y.sum().backward(); x.grad
    array([0., 0.])
    >>> ag.round(np.array([0.5, 1.5, 2.5]))
    Tensor([0. 2. 2.], dtype=float64)
    """
    return np.round(x, decimals)


for _op in (sign, floor, ceil, trunc, rint, round):
    _op.defvjp(_zero_vjp)
    _op.defjvp(zero, rule="ty = 0 (piecewise constant)")
fix = trunc


@defop("remainder", "y = a mod b (the sign of b);  ga = gy,  gb = -gy * floor(a / b)  "
                    "(jumps where a / b is an integer)")
def remainder(a, b):
    """Remainder of floor division, with the sign of ``b``, like ``np.remainder``.

    ``a - b * floor(a / b)``.  ``ag.mod`` is the same op, and so is ``t % u`` on
    tensors.  With ``floor_divide``: ``a == b * (a // b) + a % b``.

    Parameters
    ----------
    a : array_like or Tensor
        The dividend.
    b : array_like or Tensor
        The divisor; its shape must broadcast with ``a``'s.

    Returns
    -------
    Tensor
        ``a % b``, of the broadcast shape.

    See Also
    --------
    fmod, floor_divide

    Notes
    -----
    Both operands are differentiated; the derivative is undefined at the jumps,
    where ``a / b`` is an integer, and takes the formula's value there.

    Examples
    --------
    >>> a = ag.Tensor([7.0, -7.0], requires_grad=True)
    >>> b = ag.Tensor([3.0, 3.0], requires_grad=True)
    >>> y = ag.remainder(a, b)
    >>> y
    Tensor([1. 2.], dtype=float64, op=remainder)
    >>> y.sum().backward(); a.grad, b.grad   # gb = -floor(a / b)
    (array([1., 1.]), array([-2.,  3.]))
    """
    return np.remainder(a, b)


@remainder.defvjp(needs=True)
def _remainder_vjp(F, gy, y, a, b, needs):
    return gy, (-(gy * np.floor_divide(value(a), value(b))) if needs[1] else None)


diagonal(remainder)


@defop("fmod", "y = fmod(a, b) (the sign of a);  ga = gy,  gb = -gy * trunc(a / b)  "
               "(jumps where a / b is an integer)")
def fmod(a, b):
    """The C library's remainder, with the sign of ``a``, like ``np.fmod``.

    ``a - b * trunc(a / b)``.

    Parameters
    ----------
    a : array_like or Tensor
        The dividend.
    b : array_like or Tensor
        The divisor; its shape must broadcast with ``a``'s.

    Returns
    -------
    Tensor
        ``fmod(a, b)``, of the broadcast shape.

    See Also
    --------
    remainder

    Notes
    -----
    The quotient in ``b``'s gradient is ``trunc(a / b)`` exactly as the forward
    rounded it (recovered from the result), not recomputed.

    Examples
    --------
    >>> a = ag.Tensor([7.0, -7.0], requires_grad=True)
    >>> b = ag.Tensor([3.0, 3.0], requires_grad=True)
    >>> y = ag.fmod(a, b)
    >>> y
    Tensor([ 1. -1.], dtype=float64, op=fmod)
    >>> y.sum().backward(); a.grad, b.grad   # gb = -trunc(a / b)
    (array([1., 1.]), array([-2.,  2.]))
    """
    return np.fmod(a, b)


@fmod.defvjp(needs=True)
def _fmod_vjp(F, gy, y, a, b, needs):
    if not needs[1]:
        return gy, None
    av, bv = value(a), value(b)
    return gy, -(gy * np.rint((av - value(y)) / bv))  # trunc(a / b), exactly as fmod rounded it


diagonal(fmod)


@defop("floor_divide", "y = floor(a / b);  ga = 0,  gb = 0  (piecewise constant; jumps where a / b is an integer)")
def floor_divide(a, b):
    """Floor division ``a // b`` elementwise, like ``np.floor_divide``.

    Consistent with ``remainder``: ``a == b * (a // b) + a % b``.  ``t // u`` on
    tensors is this op.

    Parameters
    ----------
    a : array_like or Tensor
        The dividend.
    b : array_like or Tensor
        The divisor; its shape must broadcast with ``a``'s.

    Returns
    -------
    Tensor
        ``floor(a / b)``, of the broadcast shape.

    See Also
    --------
    remainder

    Notes
    -----
    The output is piecewise constant in both operands, so both gradients are 0
    (also at the jumps, where it is undefined); ``a.grad`` and ``b.grad`` are
    still set, to zeros.

    Examples
    --------
    >>> a = ag.Tensor([7.0, -7.0], requires_grad=True)
    >>> b = ag.Tensor([3.0, 3.0], requires_grad=True)
    >>> y = ag.floor_divide(a, b)
    >>> y
    Tensor([ 2. -3.], dtype=float64, op=floor_divide)
    >>> y.sum().backward(); a.grad, b.grad
    (array([0., 0.]), array([0., 0.]))
    """
    return np.floor_divide(a, b)


@floor_divide.defvjp
def _floor_divide_vjp(F, gy, y, a, b):
    return _zeros(a), _zeros(b)


floor_divide.defjvp(zero, rule="ty = 0 (piecewise constant)")


mod = remainder
