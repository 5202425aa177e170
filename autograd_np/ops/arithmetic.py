"""Elementwise arithmetic: add, sub, mul, div, neg, power.

Broadcasting is NumPy's; the engine reduces each gradient to its input's shape."""
import numpy as np

from ..core.recording import defop
from ._util import value
from ._jvp import diagonal, total


@defop("add", "y = a + b;  ga = gy,  gb = gy")
def add(a, b):
    """Add elementwise: ``a + b``, like ``np.add``.

    Broadcasting is NumPy's; the engine sums each gradient back to its input's
    shape.  ``t + u`` on tensors is this op.

    Parameters
    ----------
    a : array_like or Tensor
        The first operand.
    b : array_like or Tensor
        The second operand; its shape must broadcast with ``a``'s.

    Returns
    -------
    Tensor
        ``a + b``, of the broadcast shape and NumPy's result dtype.

    Examples
    --------
    >>> a = ag.Tensor([[1.0], [2.0]], requires_grad=True)
    >>> b = ag.Tensor([10.0, 20.0, 30.0], requires_grad=True)
    >>> y = ag.add(a, b)
    >>> y
    Tensor([[11. 21. 31.]
     [12. 22. 32.]], dtype=float64, op=add)
    >>> y.sum().backward(); a.grad, b.grad
    (array([[3.], [3.]]), array([2., 2., 2.]))
    """
    return np.add(a, b)


@add.defvjp
def _add_vjp(F, gy, y, a, b):
    return gy, gy


@add.defjvp(rule="ty = ta + tb")
def _add_jvp(F, tangents, y, a, b):
    return total(*tangents)


@defop("sub", "y = a - b;  ga = gy,  gb = -gy")
def sub(a, b):
    """Subtract elementwise: ``a - b``, like ``np.subtract``.

    Broadcasting is NumPy's; the engine sums each gradient back to its input's
    shape.  ``t - u`` on tensors is this op.

    Parameters
    ----------
    a : array_like or Tensor
        The first operand.
    b : array_like or Tensor
        The second operand; its shape must broadcast with ``a``'s.

    Returns
    -------
    Tensor
        ``a - b``, of the broadcast shape and NumPy's result dtype.

    Examples
    --------
    >>> a = ag.Tensor([5.0, 7.0], requires_grad=True)
    >>> b = ag.Tensor(2.0, requires_grad=True)
    >>> y = ag.sub(a, b)
    >>> y
    Tensor([3. 5.], dtype=float64, op=sub)
    >>> y.sum().backward(); a.grad, b.grad
    (array([1., 1.]), array(-2.))
    """
    return np.subtract(a, b)


@sub.defvjp
def _sub_vjp(F, gy, y, a, b):
    return gy, -gy


@sub.defjvp(rule="ty = ta - tb")
def _sub_jvp(F, tangents, y, a, b):
    ta, tb = tangents
    return total(ta, None if tb is None else -tb)


@defop("mul", "y = a * b;  ga = gy * b,  gb = gy * a")
def mul(a, b):
    """Multiply elementwise: ``a * b``, like ``np.multiply``.

    Broadcasting is NumPy's; the engine sums each gradient back to its input's
    shape.  ``t * u`` on tensors is this op.

    Parameters
    ----------
    a : array_like or Tensor
        The first operand.
    b : array_like or Tensor
        The second operand; its shape must broadcast with ``a``'s.

    Returns
    -------
    Tensor
        ``a * b``, of the broadcast shape and NumPy's result dtype.

    Examples
    --------
    >>> a = ag.Tensor([1.0, 2.0], requires_grad=True)
    >>> b = ag.Tensor([3.0, 4.0], requires_grad=True)
    >>> y = ag.mul(a, b)
    >>> y
    Tensor([3. 8.], dtype=float64, op=mul)
    >>> y.sum().backward(); a.grad, b.grad
    (array([3., 4.]), array([1., 2.]))
    """
    return np.multiply(a, b)


@mul.defvjp(needs=True)
def _mul_vjp(F, gy, y, a, b, needs):
    return (gy * b if needs[0] else None), (gy * a if needs[1] else None)


@mul.defjvp(rule="ty = ta * b + a * tb")
def _mul_jvp(F, tangents, y, a, b):
    ta, tb = tangents
    return total(None if ta is None else ta * b, None if tb is None else a * tb)


@defop("div", "y = a / b;  ga = gy / b,  gb = -gy * y / b")
def div(a, b):
    """Divide elementwise: ``a / b``, like ``np.true_divide``.

    True division: integer operands give floats.  Broadcasting is NumPy's; the
    engine sums each gradient back to its input's shape.  ``t / u`` on tensors
    is this op.

    Parameters
    ----------
    a : array_like or Tensor
        The dividend.
    b : array_like or Tensor
        The divisor; its shape must broadcast with ``a``'s.

    Returns
    -------
    Tensor
        ``a / b``, of the broadcast shape (floating point).

    Examples
    --------
    >>> a = ag.Tensor([1.0, 6.0], requires_grad=True)
    >>> b = ag.Tensor([2.0, 4.0], requires_grad=True)
    >>> y = ag.div(a, b)
    >>> y
    Tensor([0.5 1.5], dtype=float64, op=div)
    >>> y.sum().backward(); a.grad, b.grad
    (array([0.5 , 0.25]), array([-0.25 , -0.375]))
    """
    return np.true_divide(a, b)


@div.defvjp(needs=True)
def _div_vjp(F, gy, y, a, b, needs):
    ga = gy / b
    return ga, (-ga * y if needs[1] else None)


@div.defjvp(rule="ty = (ta - tb * y) / b")
def _div_jvp(F, tangents, y, a, b):
    ta, tb = tangents
    return total(ta, None if tb is None else -(tb * y)) / b


@defop("neg", "y = -x;  gx = -gy")
def neg(x):
    """Negate elementwise: ``-x``, like ``np.negative``.

    ``-t`` on a tensor is this op.

    Parameters
    ----------
    x : array_like or Tensor
        The input.

    Returns
    -------
    Tensor
        ``-x``, of ``x``'s shape and dtype.

    Examples
    --------
    >>> x = ag.Tensor([1.0, -2.0], requires_grad=True)
    >>> y = ag.neg(x)
    >>> y
    Tensor([-1.  2.], dtype=float64, op=neg)
    >>> y.sum().backward(); x.grad
    array([-1., -1.])
    """
    return np.negative(x)


@neg.defvjp
def _neg_vjp(F, gy, y, x):
    return -gy


@neg.defjvp(rule="ty = -tx")
def _neg_jvp(F, tangents, y, x):
    return -tangents[0]


@defop("power", "y = a ** b;  ga = gy * b * a ** (b - 1) (0 at a = b = 0),  gb = gy * y * log(a) (0 where a = 0 "
                "and b >= 0)")
def power(a, b):
    """Raise to a power elementwise: ``a ** b``, like ``np.power``.

    ``t ** u`` on tensors is this op.  The exponent ``b`` is differentiable only
    where ``a > 0`` (``log(a)`` appears in its derivative).

    Parameters
    ----------
    a : array_like or Tensor
        The base.
    b : array_like or Tensor
        The exponent; its shape must broadcast with ``a``'s.

    Returns
    -------
    Tensor
        ``a ** b``, of the broadcast shape and NumPy's result dtype.

    Notes
    -----
    At a zero base the conventions are PyTorch's: ``d/da a**0 = 0`` (``a**0`` is
    1 everywhere) and ``d/db 0**b = 0`` for ``b >= 0``, where ``0 * inf`` would
    give NaN.

    Examples
    --------
    >>> a = ag.Tensor([2.0, 3.0], requires_grad=True)
    >>> b = ag.Tensor(2.0, requires_grad=True)
    >>> y = ag.power(a, b)
    >>> y
    Tensor([4. 9.], dtype=float64, op=power)
    >>> y.sum().backward(); a.grad
    array([4., 6.])
    >>> b.grad   # 4 ln 2 + 9 ln 3
    array(12.660...)
    """
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


diagonal(power)
