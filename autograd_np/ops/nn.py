"""What networks are written with beyond the classic activations:
leaky_relu, softplus, gelu (exact or tanh), silu, layer_norm, embedding."""
import math

import numpy as np

from ..core.recording import defop
from ._util import normalize_axes, value
from .activations import sigmoid
from .arithmetic import mul
from .elementwise import erf
from .shape import getitem
from ._jvp import diagonal, total


@defop("leaky_relu", "y = x if x > 0 else slope * x;  gx = gy * (1 if x > 0 else slope)  (kink at 0)")
def leaky_relu(x, negative_slope=0.01):
    """Elementwise leaky rectifier: ``x`` where ``x > 0``, ``negative_slope * x`` elsewhere.

    As ``torch.nn.functional.leaky_relu``.

    Parameters
    ----------
    x : array_like or Tensor
        The input.
    negative_slope : float, optional
        The slope for ``x <= 0`` (default 0.01).

    Returns
    -------
    Tensor
        Of ``x``'s shape and dtype.

    Notes
    -----
    At the kink ``x = 0`` the gradient takes the slope ``negative_slope``.

    Examples
    --------
    >>> x = ag.Tensor(np.array([-2.0, 3.0]), requires_grad=True)
    >>> y = ag.leaky_relu(x, negative_slope=0.1)
    >>> y
    Tensor([-0.2  3. ], dtype=float64, op=leaky_relu)
    >>> y.sum().backward()
    >>> x.grad
    array([0.1, 1. ])
    """
    return np.where(x > 0, x, x * negative_slope)


@leaky_relu.defvjp
def _leaky_relu_vjp(F, gy, y, x, negative_slope=0.01):
    return F.where(value(x) > 0, gy, gy * negative_slope)


diagonal(leaky_relu)


@defop("softplus", "y = log(1 + exp(x));  gx = gy * sigmoid(x)  (hand-written: the composition overflows)")
def softplus(x):
    """Elementwise ``log(1 + e**x)``, overflow-safe (a smooth relu).

    Computed as ``np.logaddexp(0, x)``: large ``x`` gives ``x``, not inf.

    Parameters
    ----------
    x : array_like or Tensor
        The input.

    Returns
    -------
    Tensor
        Positive values of ``x``'s shape and dtype.

    Examples
    --------
    >>> x = ag.Tensor(np.array([0.0, 1000.0]), requires_grad=True)
    >>> y = ag.softplus(x)
    >>> y
    Tensor([6.9315e-01 1.0000e+03], dtype=float64, op=softplus)
    >>> y.sum().backward()
    >>> x.grad
    array([0.5, 1. ])
    """
    return np.logaddexp(0, x)


@softplus.defvjp
def _softplus_vjp(F, gy, y, x):
    return gy * F.sigmoid(x)


diagonal(softplus)


_INV_SQRT2, _INV_SQRT_2PI = 1 / math.sqrt(2.0), 1 / math.sqrt(2 * math.pi)
_TANH_C, _TANH_K = math.sqrt(2 / math.pi), 0.044715


@defop("gelu", "y = x * Phi(x) (Phi: the normal CDF);  gx = gy * (Phi(x) + x * phi(x))  "
               "(hand-written: one node instead of five; tanh form likewise)")
def gelu(x, approximate="none"):
    """Elementwise Gaussian error linear unit ``x * Phi(x)``.

    ``Phi(x) = (1 + erf(x / sqrt 2)) / 2`` is the standard normal CDF. With
    ``approximate="tanh"``: ``x/2 * (1 + tanh(sqrt(2/pi) (x + 0.044715 x**3)))``,
    as PyTorch's.

    Parameters
    ----------
    x : array_like or Tensor
        The input.
    approximate : {"none", "tanh"}, optional
        The exact form (default) or the tanh approximation; anything else is a
        ValueError.

    Returns
    -------
    Tensor
        Of ``x``'s shape and dtype.

    Notes
    -----
    Where the tanh form saturates (``tanh`` is +-1, its slope 0) the gradient is
    computed at +-10, as saturated: 1 for large positive ``x``, 0 for large
    negative, never the ``0 * inf`` of an infinite ``x**3``.

    Examples
    --------
    >>> x = ag.Tensor(np.array([-1.0, 0.0, 1.0]), requires_grad=True)
    >>> y = ag.gelu(x)
    >>> y
    Tensor([-0.1587  0.      0.8413], dtype=float64, op=gelu)
    >>> y.sum().backward()
    >>> x.grad
    array([-0.08331547,  0.5       ,  1.08331547])
    >>> ag.gelu(x, approximate="tanh")
    Tensor([-0.1588  0.      0.8412], dtype=float64, op=gelu)
    """
    if approximate == "tanh":
        return 0.5 * x * (1.0 + np.tanh(_TANH_C * (x + _TANH_K * x * x * x)))
    if approximate != "none":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', not {approximate!r}")
    return 0.5 * x * (1.0 + erf.forward(x * _INV_SQRT2))


@gelu.defvjp
def _gelu_vjp(F, gy, y, x, approximate="none"):
    if approximate == "tanh":
        xv = value(x)
        saturated = np.abs(np.tanh((xv + xv * xv * xv * _TANH_K) * _TANH_C)) == 1
        if np.any(saturated):  # tanh is +-1 there and its slope 0: x**3 = inf would make it 0 * inf
            x = F.where(saturated, np.copysign(10.0, xv), x)  # (saturated too; the graph stays finite)
        t = F.tanh((x + x * x * x * _TANH_K) * _TANH_C)
        slope = (t + 1.0) * 0.5 + x * (1.0 - t * t) * (x * x * (3 * _TANH_K) + 1.0) * (0.5 * _TANH_C)
        return gy * slope
    return gy * ((F.erf(x * _INV_SQRT2) + 1.0) * 0.5 + x * F.exp(x * x * -0.5) * _INV_SQRT_2PI)


diagonal(gelu)


def silu(x):
    """Elementwise sigmoid linear unit (swish): ``x * sigmoid(x)``.

    As ``torch.nn.functional.silu``.

    Parameters
    ----------
    x : array_like or Tensor
        The input.

    Returns
    -------
    Tensor
        Of ``x``'s shape and dtype (recorded as a ``mul`` of ``x`` and
        ``sigmoid(x)``).

    Notes
    -----
    Derivative: by the chain rule through ``sigmoid`` and ``mul``:
    ``gx = gy * (s + x * s * (1 - s))`` with ``s = sigmoid(x)``.

    Examples
    --------
    >>> x = ag.Tensor(np.array([-1.0, 0.0, 1.0]), requires_grad=True)
    >>> y = ag.silu(x)
    >>> y
    Tensor([-0.2689  0.      0.7311], dtype=float64, op=mul)
    >>> y.sum().backward()
    >>> x.grad
    array([0.07232949, 0.5       , 0.92767051])
    """
    return mul(x, sigmoid(x))


@defop("layer_norm", "y = (x - mean) / sqrt(var + eps) * w + b over axis;  "
                     "gx = (g - mean(g) - xhat * mean(g * xhat)) / sqrt(var + eps) with g = gy * w,  "
                     "gw = gy * xhat,  gb = gy  (hand-written: one node instead of nine)")
def _layer_norm(x, weight, bias, axis=-1, eps=1e-5):
    mean = np.mean(x, axis=axis, keepdims=True)
    d = x - mean
    y = d / np.sqrt(np.mean(d * d, axis=axis, keepdims=True) + eps)
    if weight is not None:
        y *= weight
    if bias is not None:
        y += bias
    return y


@_layer_norm.defvjp(needs=True)
def _layer_norm_vjp(F, gy, y, x, weight, bias, needs, axis=-1, eps=1e-5):
    d = x - F.mean(x, axis=axis, keepdims=True)
    rstd = (F.mean(d * d, axis=axis, keepdims=True) + eps) ** -0.5
    xhat = d * rstd
    g = gy if weight is None else gy * weight
    gx = None
    if needs[0]:
        gx = rstd * (g - F.mean(g, axis=axis, keepdims=True) - xhat * F.mean(g * xhat, axis=axis, keepdims=True))
    return gx, (gy * xhat if needs[1] else None), (gy if needs[2] else None)


@_layer_norm.defjvp(rule="ty = (td - xhat * mean(td * xhat)) / sqrt(var + eps) * w + xhat * tw + tb, "
                         "td = tx - mean(tx)")
def _layer_norm_jvp(F, tangents, y, x, weight, bias, axis=-1, eps=1e-5):
    tx, tw, tb = tangents
    d = x - F.mean(x, axis=axis, keepdims=True)
    rstd = (F.mean(d * d, axis=axis, keepdims=True) + eps) ** -0.5
    xhat = d * rstd
    dx = None
    if tx is not None:
        td = tx - F.mean(tx, axis=axis, keepdims=True)
        dx = rstd * (td - xhat * F.mean(td * xhat, axis=axis, keepdims=True))
        dx = dx if weight is None else dx * weight
    return total(dx, None if tw is None else xhat * tw, tb)


def layer_norm(x, weight=None, bias=None, axis=-1, eps=1e-5):
    """Layer normalization over ``axis``, then a scale and a shift.

    Normalises ``x`` to mean 0 and variance 1 (the biased variance, plus ``eps``)
    over ``axis``, then scales by ``weight`` and shifts by ``bias``, as
    ``torch.nn.functional.layer_norm``.

    Parameters
    ----------
    x : array_like or Tensor
        The input.
    weight : array_like, Tensor or None, optional
        The scale, broadcast against ``x`` (e.g. shape ``(features,)``); None: no
        scaling.
    bias : array_like, Tensor or None, optional
        The shift, broadcast against ``x``; None: no shift.
    axis : int or tuple of int, optional
        The axes normalised over (default the last one).
    eps : float, optional
        Added to the variance (default 1e-5).

    Returns
    -------
    Tensor
        Of ``x``'s shape.

    Notes
    -----
    Derivative: one hand-written op, ``layer_norm`` (one node instead of nine):
    ``gx = (g - mean(g) - xhat * mean(g * xhat)) / sqrt(var + eps)`` with
    ``g = gy * weight``, ``gweight = gy * xhat``, ``gbias = gy`` (each summed back to
    its own shape).

    Examples
    --------
    >>> x = ag.Tensor(np.array([[1.0, 2.0, 3.0], [0.0, 3.0, 6.0]]), requires_grad=True)
    >>> w = ag.Tensor(np.ones(3), requires_grad=True)
    >>> b = ag.Tensor(np.zeros(3), requires_grad=True)
    >>> y = ag.layer_norm(x, w, b)
    >>> y
    Tensor([[-1.2247  0.      1.2247]
     [-1.2247  0.      1.2247]], dtype=float64, op=layer_norm)
    >>> y[:, 0].sum().backward()
    >>> w.grad, b.grad
    (array([-2.44947954,  0.        ,  0.        ]), array([2., 0., 0.]))
    """
    axis = axis if isinstance(axis, (int, np.integer)) else normalize_axes(axis, np.ndim(value(x)))
    return _layer_norm(x, weight, bias, axis=axis, eps=eps)


def embedding(indices, weight):
    """Rows of ``weight`` picked by integer ``indices``: ``weight[indices]``.

    As ``torch.nn.functional.embedding``: a lookup table of vectors.

    Parameters
    ----------
    indices : array_like of int
        Row numbers, of any shape (a constant: no gradient reaches it).
    weight : array_like or Tensor
        The table, of shape (vocabulary, features).

    Returns
    -------
    Tensor
        Of shape ``indices.shape + (features,)`` (recorded as a ``getitem``).

    Notes
    -----
    Derivative: that of ``getitem``: each row's gradient is the sum of the
    gradients of its uses (rows not picked get 0).

    Examples
    --------
    >>> weight = ag.Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    >>> y = ag.embedding(np.array([[0, 2], [2, 2]]), weight)
    >>> y[0]
    Tensor([[0. 1.]
     [4. 5.]], dtype=float64, op=getitem)
    >>> y.sum().backward()
    >>> weight.grad
    array([[1., 1.],
           [0., 0.],
           [3., 3.]])
    """
    return getitem(weight, index=np.asarray(value(indices)))
