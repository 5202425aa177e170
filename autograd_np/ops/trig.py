"""Trigonometric and hyperbolic functions, their inverses, arctan2, hypot,
and the degree/radian conversions.  (tanh is in activations.)"""
import math

import numpy as np

from ..core.recording import defop
from ._util import value
from .arithmetic import mul


@defop("sin", "y = sin(x);  gx = gy * cos(x)")
def sin(x):
    """Elementwise sine (radians)."""
    return np.sin(x)


@sin.defvjp
def _sin_vjp(F, gy, y, x):
    return gy * F.cos(x)


@defop("cos", "y = cos(x);  gx = -gy * sin(x)")
def cos(x):
    """Elementwise cosine (radians)."""
    return np.cos(x)


@cos.defvjp
def _cos_vjp(F, gy, y, x):
    return -(gy * F.sin(x))


@defop("tan", "y = tan(x);  gx = gy * (1 + y**2)")
def tan(x):
    """Elementwise tangent (radians; poles at pi/2 + k pi)."""
    return np.tan(x)


@tan.defvjp
def _tan_vjp(F, gy, y, x):
    return gy + gy * y * y


@defop("arcsin", "y = arcsin(x);  gx = gy / sqrt(1 - x**2)")
def arcsin(x):
    """Inverse sine (domain ``[-1, 1]``; the derivative is infinite at the ends)."""
    return np.arcsin(x)


@arcsin.defvjp
def _arcsin_vjp(F, gy, y, x):
    return gy / F.sqrt(1.0 - x * x)


@defop("arccos", "y = arccos(x);  gx = -gy / sqrt(1 - x**2)")
def arccos(x):
    """Inverse cosine (domain ``[-1, 1]``; the derivative is infinite at the ends)."""
    return np.arccos(x)


@arccos.defvjp
def _arccos_vjp(F, gy, y, x):
    return -gy / F.sqrt(1.0 - x * x)


@defop("arctan", "y = arctan(x);  gx = gy / (1 + x**2)")
def arctan(x):
    """Inverse tangent."""
    return np.arctan(x)


@arctan.defvjp
def _arctan_vjp(F, gy, y, x):
    return gy / (x * x + 1.0)


@defop("arctan2", "y = arctan2(a, b);  ga = gy * b / (a**2 + b**2),  gb = -gy * a / (a**2 + b**2)  (as (b / r) / r "
                  "with r = hypot(a, b): no underflow; 0 at the origin, as PyTorch, and where r is infinite)")
def arctan2(a, b):
    """Angle of the point ``(b, a)``, in ``(-pi, pi]``.  The derivative is computed as
    ``(b / r) / r`` with ``r = hypot(a, b)``, exact where ``a**2 + b**2`` would
    underflow; where ``r`` is infinite it is 0 (not inf / inf), and at the origin,
    where there is none, 0 as in PyTorch."""
    return np.arctan2(a, b)


@arctan2.defvjp(needs=True)
def _arctan2_vjp(F, gy, y, a, b, needs):
    r = np.hypot(value(a), value(b))
    flat = (r == 0) | np.isinf(r)  # derivative 0 (by convention at the origin), computed at a harmless point
    if np.any(flat):
        a, b = F.where(flat, 1.0, a), F.where(flat, 1.0, b)
    r = F.hypot(a, b)
    ga = gy * (b / r) / r if needs[0] else None
    gb = -(gy * (a / r) / r) if needs[1] else None
    if np.any(flat):
        ga = None if ga is None else F.where(flat, 0.0, ga)
        gb = None if gb is None else F.where(flat, 0.0, gb)
    return ga, gb


@defop("hypot", "y = sqrt(a**2 + b**2);  ga = gy * a / y,  gb = gy * b / y  "
                "(hand-written: the composition overflows; undefined at a = b = 0)")
def hypot(a, b):
    """``sqrt(a**2 + b**2)`` without overflow."""
    return np.hypot(a, b)


@hypot.defvjp(needs=True)
def _hypot_vjp(F, gy, y, a, b, needs):
    g = gy / y
    return (g * a if needs[0] else None), (g * b if needs[1] else None)


@defop("sinh", "y = sinh(x);  gx = gy * cosh(x)")
def sinh(x):
    """Hyperbolic sine."""
    return np.sinh(x)


@sinh.defvjp
def _sinh_vjp(F, gy, y, x):
    return gy * F.cosh(x)


@defop("cosh", "y = cosh(x);  gx = gy * sinh(x)")
def cosh(x):
    """Hyperbolic cosine."""
    return np.cosh(x)


@cosh.defvjp
def _cosh_vjp(F, gy, y, x):
    return gy * F.sinh(x)


@defop("arcsinh", "y = arcsinh(x);  gx = gy / sqrt(x**2 + 1)")
def arcsinh(x):
    """Inverse hyperbolic sine."""
    return np.arcsinh(x)


@arcsinh.defvjp
def _arcsinh_vjp(F, gy, y, x):
    return gy / F.sqrt(x * x + 1.0)


@defop("arccosh", "y = arccosh(x);  gx = gy / sqrt(x**2 - 1)")
def arccosh(x):
    """Inverse hyperbolic cosine (domain ``x >= 1``; the derivative is infinite at 1)."""
    return np.arccosh(x)


@arccosh.defvjp
def _arccosh_vjp(F, gy, y, x):
    return gy / F.sqrt(x * x - 1.0)


@defop("arctanh", "y = arctanh(x);  gx = gy / (1 - x**2)")
def arctanh(x):
    """Inverse hyperbolic tangent (domain ``(-1, 1)``)."""
    return np.arctanh(x)


@arctanh.defvjp
def _arctanh_vjp(F, gy, y, x):
    return gy / (1.0 - x * x)


def deg2rad(x):
    """Degrees to radians: ``x * pi / 180`` (also ``radians``)."""
    return mul(x, math.pi / 180.0)


def rad2deg(x):
    """Radians to degrees: ``x * 180 / pi`` (also ``degrees``)."""
    return mul(x, 180.0 / math.pi)


radians, degrees = deg2rad, rad2deg
