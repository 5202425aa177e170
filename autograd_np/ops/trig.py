"""Trigonometric and hyperbolic functions, their inverses, arctan2, hypot,
and the degree/radian conversions.  (tanh is in activations.)"""
import math

import numpy as np

from ..core.recording import defop
from ._util import value
from .arithmetic import mul
from ._jvp import diagonal


@defop("sin", "y = sin(x);  gx = gy * cos(x)")
def sin(x):
    """Elementwise sine.

    Mirrors ``np.sin``.

    Parameters
    ----------
    x : array_like or Tensor
        Angles in radians.

    Returns
    -------
    Tensor
        ``sin(x)``, of ``x``'s shape and dtype.

    Examples
    --------
    >>> x = ag.Tensor(np.array([0.0, 0.5]), requires_grad=True)
    >>> y = ag.sin(x)
    >>> y
    Tensor([0.     0.4794], dtype=float64, op=sin)
    >>> y.sum().backward()
    >>> x.grad
    array([1.        , 0.87758256])
    """
    return np.sin(x)


@sin.defvjp
def _sin_vjp(F, gy, y, x):
    return gy * F.cos(x)


diagonal(sin)


@defop("cos", "y = cos(x);  gx = -gy * sin(x)")
def cos(x):
    """Elementwise cosine.

    Mirrors ``np.cos``.

    Parameters
    ----------
    x : array_like or Tensor
        Angles in radians.

    Returns
    -------
    Tensor
        ``cos(x)``, of ``x``'s shape and dtype.

    Examples
    --------
    >>> x = ag.Tensor(np.array([0.0, 0.5]), requires_grad=True)
    >>> y = ag.cos(x)
    >>> y
    Tensor([1.     0.8776], dtype=float64, op=cos)
    >>> y.sum().backward()
    >>> x.grad
    array([-0.        , -0.47942554])
    """
    return np.cos(x)


@cos.defvjp
def _cos_vjp(F, gy, y, x):
    return -(gy * F.sin(x))


diagonal(cos)


@defop("tan", "y = tan(x);  gx = gy * (1 + y**2)")
def tan(x):
    """Elementwise tangent.

    Mirrors ``np.tan``; the poles are at ``pi/2 + k pi``.

    Parameters
    ----------
    x : array_like or Tensor
        Angles in radians.

    Returns
    -------
    Tensor
        ``tan(x)``, of ``x``'s shape and dtype.

    Notes
    -----
    The derivative is written with the output, ``1 + tan(x)**2``.

    Examples
    --------
    >>> x = ag.Tensor(np.array([0.0, 0.5]), requires_grad=True)
    >>> y = ag.tan(x)
    >>> y
    Tensor([0.     0.5463], dtype=float64, op=tan)
    >>> y.sum().backward()
    >>> x.grad
    array([1.        , 1.29844641])
    """
    return np.tan(x)


@tan.defvjp
def _tan_vjp(F, gy, y, x):
    return gy + gy * y * y


diagonal(tan)


@defop("arcsin", "y = arcsin(x);  gx = gy / sqrt(1 - x**2)")
def arcsin(x):
    """Elementwise inverse sine.

    Mirrors ``np.arcsin``: the domain is ``[-1, 1]`` (NaN outside), the result in
    ``[-pi/2, pi/2]``.

    Parameters
    ----------
    x : array_like or Tensor
        Values in ``[-1, 1]``.

    Returns
    -------
    Tensor
        ``arcsin(x)`` in radians, of ``x``'s shape and dtype.

    Notes
    -----
    The derivative is infinite at the ends of the domain, ``x = -1`` and ``x = 1``.

    Examples
    --------
    >>> x = ag.Tensor(np.array([0.0, 0.5]), requires_grad=True)
    >>> y = ag.arcsin(x)
    >>> y
    Tensor([0.     0.5236], dtype=float64, op=arcsin)
    >>> y.sum().backward()
    >>> x.grad
    array([1.        , 1.15470054])
    """
    return np.arcsin(x)


@arcsin.defvjp
def _arcsin_vjp(F, gy, y, x):
    return gy / F.sqrt(1.0 - x * x)


diagonal(arcsin)


@defop("arccos", "y = arccos(x);  gx = -gy / sqrt(1 - x**2)")
def arccos(x):
    """Elementwise inverse cosine.

    Mirrors ``np.arccos``: the domain is ``[-1, 1]`` (NaN outside), the result in
    ``[0, pi]``.

    Parameters
    ----------
    x : array_like or Tensor
        Values in ``[-1, 1]``.

    Returns
    -------
    Tensor
        ``arccos(x)`` in radians, of ``x``'s shape and dtype.

    Notes
    -----
    The derivative is infinite at the ends of the domain, ``x = -1`` and ``x = 1``.

    Examples
    --------
    >>> x = ag.Tensor(np.array([0.0, 0.5]), requires_grad=True)
    >>> y = ag.arccos(x)
    >>> y
    Tensor([1.5708 1.0472], dtype=float64, op=arccos)
    >>> y.sum().backward()
    >>> x.grad
    array([-1.        , -1.15470054])
    """
    return np.arccos(x)


@arccos.defvjp
def _arccos_vjp(F, gy, y, x):
    return -gy / F.sqrt(1.0 - x * x)


diagonal(arccos)


@defop("arctan", "y = arctan(x);  gx = gy / (1 + x**2)")
def arctan(x):
    """Elementwise inverse tangent.

    Mirrors ``np.arctan``; the result is in ``(-pi/2, pi/2)``.

    Parameters
    ----------
    x : array_like or Tensor
        Any real values.

    Returns
    -------
    Tensor
        ``arctan(x)`` in radians, of ``x``'s shape and dtype.

    Examples
    --------
    >>> x = ag.Tensor(np.array([0.0, 1.0]), requires_grad=True)
    >>> y = ag.arctan(x)
    >>> y
    Tensor([0.     0.7854], dtype=float64, op=arctan)
    >>> y.sum().backward()
    >>> x.grad
    array([1. , 0.5])
    """
    return np.arctan(x)


@arctan.defvjp
def _arctan_vjp(F, gy, y, x):
    return gy / (x * x + 1.0)


diagonal(arctan)


@defop("arctan2", "y = arctan2(a, b);  ga = gy * b / (a**2 + b**2),  gb = -gy * a / (a**2 + b**2)  (as (b / r) / r "
                  "with r = hypot(a, b): no underflow; 0 at the origin, as PyTorch, and where r is infinite)")
def arctan2(a, b):
    """Elementwise angle of the point ``(b, a)``, in ``(-pi, pi]``.

    Mirrors ``np.arctan2(a, b)``: the quadrant comes from the signs of both
    arguments, which broadcast against each other.

    Parameters
    ----------
    a : array_like or Tensor
        The y-coordinates.
    b : array_like or Tensor
        The x-coordinates, broadcastable with ``a``.

    Returns
    -------
    Tensor
        The angles in radians, of the broadcast shape.

    Notes
    -----
    The derivative is computed as ``(b / r) / r`` with ``r = hypot(a, b)``, exact
    where ``a**2 + b**2`` would underflow; where ``r`` is infinite it is 0 (not
    inf / inf), and at the origin, where there is none, 0 as in PyTorch.

    Examples
    --------
    >>> a = ag.Tensor(np.array([1.0, 0.0]), requires_grad=True)
    >>> b = ag.Tensor(np.array([1.0, 0.0]), requires_grad=True)
    >>> y = ag.arctan2(a, b)
    >>> y
    Tensor([0.7854 0.    ], dtype=float64, op=arctan2)
    >>> y.sum().backward()
    >>> a.grad, b.grad
    (array([0.5, 0. ]), array([-0.5,  0. ]))
    """
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


diagonal(arctan2)


@defop("hypot", "y = sqrt(a**2 + b**2);  ga = gy * a / y,  gb = gy * b / y  "
                "(hand-written: the composition overflows; undefined at a = b = 0)")
def hypot(a, b):
    """Elementwise ``sqrt(a**2 + b**2)`` without overflow.

    Mirrors ``np.hypot``: the length of the hypotenuse of a right triangle with
    legs ``a`` and ``b``, exact where ``a**2`` would overflow.

    Parameters
    ----------
    a : array_like or Tensor
        The first leg.
    b : array_like or Tensor
        The second leg, broadcastable with ``a``.

    Returns
    -------
    Tensor
        ``sqrt(a**2 + b**2)``, of the broadcast shape.

    Notes
    -----
    The derivative is undefined at ``a = b = 0`` (there it is ``0 / 0``, NaN).

    Examples
    --------
    >>> a = ag.Tensor(np.array([3.0, 1e200]), requires_grad=True)
    >>> y = ag.hypot(a, 4.0)
    >>> y
    Tensor([5.e+000 1.e+200], dtype=float64, op=hypot)
    >>> y.sum().backward()
    >>> a.grad
    array([0.6, 1. ])
    """
    return np.hypot(a, b)


@hypot.defvjp(needs=True)
def _hypot_vjp(F, gy, y, a, b, needs):
    g = gy / y
    return (g * a if needs[0] else None), (g * b if needs[1] else None)


diagonal(hypot)


@defop("sinh", "y = sinh(x);  gx = gy * cosh(x)")
def sinh(x):
    """Elementwise hyperbolic sine.

    Mirrors ``np.sinh``.

    Parameters
    ----------
    x : array_like or Tensor
        Any real values.

    Returns
    -------
    Tensor
        ``sinh(x)``, of ``x``'s shape and dtype.

    Examples
    --------
    >>> x = ag.Tensor(np.array([0.0, 1.0]), requires_grad=True)
    >>> y = ag.sinh(x)
    >>> y
    Tensor([0.     1.1752], dtype=float64, op=sinh)
    >>> y.sum().backward()
    >>> x.grad
    array([1.        , 1.54308063])
    """
    return np.sinh(x)


@sinh.defvjp
def _sinh_vjp(F, gy, y, x):
    return gy * F.cosh(x)


diagonal(sinh)


@defop("cosh", "y = cosh(x);  gx = gy * sinh(x)")
def cosh(x):
    """Elementwise hyperbolic cosine.

    Mirrors ``np.cosh``.

    Parameters
    ----------
    x : array_like or Tensor
        Any real values.

    Returns
    -------
    Tensor
        ``cosh(x)``, of ``x``'s shape and dtype.

    Examples
    --------
    >>> x = ag.Tensor(np.array([0.0, 1.0]), requires_grad=True)
    >>> y = ag.cosh(x)
    >>> y
    Tensor([1.     1.5431], dtype=float64, op=cosh)
    >>> y.sum().backward()
    >>> x.grad
    array([0.        , 1.17520119])
    """
    return np.cosh(x)


@cosh.defvjp
def _cosh_vjp(F, gy, y, x):
    return gy * F.sinh(x)


diagonal(cosh)


@defop("arcsinh", "y = arcsinh(x);  gx = gy / sqrt(x**2 + 1)")
def arcsinh(x):
    """Elementwise inverse hyperbolic sine.

    Mirrors ``np.arcsinh``.

    Parameters
    ----------
    x : array_like or Tensor
        Any real values.

    Returns
    -------
    Tensor
        ``arcsinh(x)``, of ``x``'s shape and dtype.

    Examples
    --------
    >>> x = ag.Tensor(np.array([0.0, 1.0]), requires_grad=True)
    >>> y = ag.arcsinh(x)
    >>> y
    Tensor([0.     0.8814], dtype=float64, op=arcsinh)
    >>> y.sum().backward()
    >>> x.grad
    array([1.        , 0.70710678])
    """
    return np.arcsinh(x)


@arcsinh.defvjp
def _arcsinh_vjp(F, gy, y, x):
    return gy / F.sqrt(x * x + 1.0)


diagonal(arcsinh)


@defop("arccosh", "y = arccosh(x);  gx = gy / sqrt(x**2 - 1)")
def arccosh(x):
    """Elementwise inverse hyperbolic cosine.

    Mirrors ``np.arccosh``: the domain is ``x >= 1`` (NaN below).

    Parameters
    ----------
    x : array_like or Tensor
        Values of at least 1.

    Returns
    -------
    Tensor
        ``arccosh(x)``, non-negative, of ``x``'s shape and dtype.

    Notes
    -----
    The derivative is infinite at ``x = 1``.

    Examples
    --------
    >>> x = ag.Tensor(np.array([2.0, 3.0]), requires_grad=True)
    >>> y = ag.arccosh(x)
    >>> y
    Tensor([1.317  1.7627], dtype=float64, op=arccosh)
    >>> y.sum().backward()
    >>> x.grad
    array([0.57735027, 0.35355339])
    """
    return np.arccosh(x)


@arccosh.defvjp
def _arccosh_vjp(F, gy, y, x):
    return gy / F.sqrt(x * x - 1.0)


diagonal(arccosh)


@defop("arctanh", "y = arctanh(x);  gx = gy / (1 - x**2)")
def arctanh(x):
    """Elementwise inverse hyperbolic tangent.

    Mirrors ``np.arctanh``: the domain is ``(-1, 1)`` (+-inf at the ends, NaN
    outside).

    Parameters
    ----------
    x : array_like or Tensor
        Values in ``(-1, 1)``.

    Returns
    -------
    Tensor
        ``arctanh(x)``, of ``x``'s shape and dtype.

    Examples
    --------
    >>> x = ag.Tensor(np.array([0.0, 0.5]), requires_grad=True)
    >>> y = ag.arctanh(x)
    >>> y
    Tensor([0.     0.5493], dtype=float64, op=arctanh)
    >>> y.sum().backward()
    >>> x.grad
    array([1.        , 1.33333333])
    """
    return np.arctanh(x)


@arctanh.defvjp
def _arctanh_vjp(F, gy, y, x):
    return gy / (1.0 - x * x)


diagonal(arctanh)


def deg2rad(x):
    """Degrees to radians: ``x * pi / 180``.

    Mirrors ``np.deg2rad``; ``ag.radians`` is the same function.

    Parameters
    ----------
    x : array_like or Tensor
        Angles in degrees.

    Returns
    -------
    Tensor
        The angles in radians (recorded as a ``mul``).

    Notes
    -----
    Derivative: by the chain rule through ``mul``: ``gx = gy * pi / 180``.

    Examples
    --------
    >>> x = ag.Tensor(np.array([90.0, 180.0]), requires_grad=True)
    >>> y = ag.deg2rad(x)
    >>> y
    Tensor([1.5708 3.1416], dtype=float64, op=mul)
    >>> y.sum().backward()
    >>> x.grad
    array([0.01745329, 0.01745329])
    """
    return mul(x, math.pi / 180.0)


def rad2deg(x):
    """Radians to degrees: ``x * 180 / pi``.

    Mirrors ``np.rad2deg``; ``ag.degrees`` is the same function.

    Parameters
    ----------
    x : array_like or Tensor
        Angles in radians.

    Returns
    -------
    Tensor
        The angles in degrees (recorded as a ``mul``).

    Notes
    -----
    Derivative: by the chain rule through ``mul``: ``gx = gy * 180 / pi``.

    Examples
    --------
    >>> x = ag.Tensor(np.array([np.pi / 2, np.pi]), requires_grad=True)
    >>> y = ag.rad2deg(x)
    >>> y
    Tensor([ 90. 180.], dtype=float64, op=mul)
    >>> y.sum().backward()
    >>> x.grad
    array([57.29577951, 57.29577951])
    """
    return mul(x, 180.0 / math.pi)


radians, degrees = deg2rad, rad2deg
