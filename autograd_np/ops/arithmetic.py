"""Elementwise arithmetic: add, sub, mul, div, neg, power.

Broadcasting is NumPy's; the engine reduces each gradient to its input's shape."""
import numpy as np

from ..core.recording import defop
from ._util import value


@defop("add", "y = a + b;  ga = gy,  gb = gy")
def add(a, b):
    """Elementwise ``a + b``."""
    return np.add(a, b)


@add.defvjp
def _add_vjp(F, gy, y, a, b):
    return gy, gy


@defop("sub", "y = a - b;  ga = gy,  gb = -gy")
def sub(a, b):
    """Elementwise ``a - b``."""
    return np.subtract(a, b)


@sub.defvjp
def _sub_vjp(F, gy, y, a, b):
    return gy, -gy


@defop("mul", "y = a * b;  ga = gy * b,  gb = gy * a")
def mul(a, b):
    """Elementwise ``a * b``."""
    return np.multiply(a, b)


@mul.defvjp(needs=True)
def _mul_vjp(F, gy, y, a, b, needs):
    return (gy * b if needs[0] else None), (gy * a if needs[1] else None)


@defop("div", "y = a / b;  ga = gy / b,  gb = -gy * y / b")
def div(a, b):
    """Elementwise ``a / b``."""
    return np.true_divide(a, b)


@div.defvjp(needs=True)
def _div_vjp(F, gy, y, a, b, needs):
    ga = gy / b
    return ga, (-ga * y if needs[1] else None)


@defop("neg", "y = -x;  gx = -gy")
def neg(x):
    """Elementwise ``-x``."""
    return np.negative(x)


@neg.defvjp
def _neg_vjp(F, gy, y, x):
    return -gy


@defop("power", "y = a ** b;  ga = gy * b * a ** (b - 1) (0 at a = b = 0),  gb = gy * y * log(a) (0 where a = 0 "
                "and b >= 0)")
def power(a, b):
    """Elementwise ``a ** b`` (``b`` differentiable only where ``a > 0``).  At a zero
    base the conventions are PyTorch's: ``d/da a**0 = 0`` (``a**0`` is 1 everywhere)
    and ``d/db 0**b = 0`` for ``b >= 0``, where ``0 * inf`` would give NaN."""
    return np.power(a, b)


@power.defvjp(needs=True)
def _power_vjp(F, gy, y, a, b, needs):
    av, bv, yv = value(a), value(b), value(y)
    ga = gb = None
    if needs[0]:
        with np.errstate(all="ignore"):
            slope = av ** (bv - 1)
        # 0 where the product is 0 * inf or 0 * NaN but the derivative is 0: a ** 0 (constant 1: at a = 0, inf,
        # NaN), and a ** (b - 1) = 0 with an infinite b (a**inf at a < 1, a**-inf at a > 1)
        flat = ((bv == 0) & ~(np.isfinite(av) & (av != 0))) | ((slope == 0) & np.isinf(bv))
        if np.any(flat):
            ga = F.where(flat, 0.0, gy * b * a ** F.where(flat, 1.0, b - 1))
        else:
            ga = gy * b * a ** (b - 1)
    if needs[1]:
        # y log a is 0 * -inf at a = 0 (b >= 0: PyTorch's 0; at b = 0 the two sides differ) and 0 * inf where
        # y = 0 at a = inf (b < 0): both have derivative 0 in b
        zero = ((av == 0) & (bv >= 0)) | ((yv == 0) & np.isinf(av))
        if np.any(zero):
            gb = F.where(zero, 0.0, gy * y * F.log(F.where(zero, 1.0, a)))
        else:
            gb = gy * y * F.log(a)
    return ga, gb
