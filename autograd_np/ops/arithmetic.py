"""Elementwise arithmetic: add, sub, mul, div, neg, power.

Broadcasting is NumPy's; the engine reduces each gradient to its input's shape."""
import numpy as np

from ..recording import defop


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


@defop("power", "y = a ** b;  ga = gy * b * a ** (b - 1),  gb = gy * y * log(a)")
def power(a, b):
    """Elementwise ``a ** b`` (``b`` differentiable only where ``a > 0``)."""
    return np.power(a, b)


@power.defvjp(needs=True)
def _power_vjp(F, gy, y, a, b, needs):
    ga = gy * b * a ** (b - 1) if needs[0] else None
    gb = gy * y * F.log(a) if needs[1] else None
    return ga, gb
