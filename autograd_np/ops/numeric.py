"""Rounding, sign and division with remainder.

Their outputs are piecewise constant in some input, so that derivative is 0
(it is undefined at the jumps: integers for floor and ceil, halves for rint,
0 for sign, integer quotients for remainder; 0 is what we send there too).
The input still gets a gradient, an array of zeros, so ``x.grad`` is set."""
import numpy as np

from ..core.recording import defop
from ._util import value


def _zeros(x):
    """The gradient of a piecewise-constant op: zeros of ``x``'s shape (a read-only broadcast)."""
    v = np.asarray(value(x))
    return np.broadcast_to(np.zeros((), v.dtype if v.dtype.kind == "f" else np.float64), v.shape)


def _zero_vjp(F, gy, y, x, **params):
    return _zeros(x)


@defop("sign", "y = sign(x);  gx = 0  (piecewise constant; jump at 0)")
def sign(x):
    """-1, 0 or 1 by the sign of ``x``."""
    return np.sign(x)


@defop("floor", "y = floor(x);  gx = 0  (piecewise constant; jumps at integers)")
def floor(x):
    """Largest integer <= ``x`` (as a float)."""
    return np.floor(x)


@defop("ceil", "y = ceil(x);  gx = 0  (piecewise constant; jumps at integers)")
def ceil(x):
    """Smallest integer >= ``x`` (as a float)."""
    return np.ceil(x)


@defop("trunc", "y = trunc(x);  gx = 0  (piecewise constant; jumps at non-zero integers)")
def trunc(x):
    """``x`` rounded towards zero (also ``fix``)."""
    return np.trunc(x)


@defop("rint", "y = rint(x);  gx = 0  (piecewise constant; jumps at halves)")
def rint(x):
    """``x`` rounded to the nearest integer, halves to even."""
    return np.rint(x)


@defop("round", "y = round(x, decimals);  gx = 0  (piecewise constant; jumps at halves of 10**-decimals)")
def round(x, decimals=0):
    """``x`` rounded to ``decimals`` decimals, halves to even, like ``np.round``."""
    return np.round(x, decimals)


for _op in (sign, floor, ceil, trunc, rint, round):
    _op.defvjp(_zero_vjp)
fix = trunc


@defop("remainder", "y = a mod b (the sign of b);  ga = gy,  gb = -gy * floor(a / b)  "
                    "(jumps where a / b is an integer)")
def remainder(a, b):
    """``a % b`` with the sign of ``b`` (also ``mod``; ``t % u`` is this op)."""
    return np.remainder(a, b)


@remainder.defvjp(needs=True)
def _remainder_vjp(F, gy, y, a, b, needs):
    return gy, (-(gy * np.floor_divide(value(a), value(b))) if needs[1] else None)


@defop("fmod", "y = fmod(a, b) (the sign of a);  ga = gy,  gb = -gy * trunc(a / b)  "
               "(jumps where a / b is an integer)")
def fmod(a, b):
    """The C library's remainder: ``a - b * trunc(a / b)``, with the sign of ``a``."""
    return np.fmod(a, b)


@fmod.defvjp(needs=True)
def _fmod_vjp(F, gy, y, a, b, needs):
    if not needs[1]:
        return gy, None
    av, bv = value(a), value(b)
    return gy, -(gy * np.rint((av - value(y)) / bv))  # trunc(a / b), exactly as fmod rounded it


@defop("floor_divide", "y = floor(a / b);  ga = 0,  gb = 0  (piecewise constant; jumps where a / b is an integer)")
def floor_divide(a, b):
    """``a // b``, consistent with ``remainder``: ``a == b * (a // b) + a % b``."""
    return np.floor_divide(a, b)


@floor_divide.defvjp
def _floor_divide_vjp(F, gy, y, a, b):
    return _zeros(a), _zeros(b)


mod = remainder
