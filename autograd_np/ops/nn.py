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


@defop("leaky_relu", "y = x if x > 0 else slope * x;  gx = gy * (1 if x > 0 else slope)  (kink at 0)")
def leaky_relu(x, negative_slope=0.01):
    """``x`` for positive ``x``, ``negative_slope * x`` otherwise."""
    return np.where(x > 0, x, x * negative_slope)


@leaky_relu.defvjp
def _leaky_relu_vjp(F, gy, y, x, negative_slope=0.01):
    return F.where(value(x) > 0, gy, gy * negative_slope)


@defop("softplus", "y = log(1 + exp(x));  gx = gy * sigmoid(x)  (hand-written: the composition overflows)")
def softplus(x):
    """``log(1 + e**x)``, overflow-safe (a smooth relu)."""
    return np.logaddexp(0, x)


@softplus.defvjp
def _softplus_vjp(F, gy, y, x):
    return gy * F.sigmoid(x)


_INV_SQRT2, _INV_SQRT_2PI = 1 / math.sqrt(2.0), 1 / math.sqrt(2 * math.pi)
_TANH_C, _TANH_K = math.sqrt(2 / math.pi), 0.044715


@defop("gelu", "y = x * Phi(x) (Phi: the normal CDF);  gx = gy * (Phi(x) + x * phi(x))  "
               "(hand-written: one node instead of five; tanh form likewise)")
def gelu(x, approximate="none"):
    """Gaussian error linear unit ``x * Phi(x)`` with ``Phi(x) = (1 + erf(x / sqrt 2)) / 2``;
    ``approximate="tanh"``: ``x/2 * (1 + tanh(sqrt(2/pi) (x + 0.044715 x**3)))``, as PyTorch's."""
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


def silu(x):
    """Sigmoid linear unit (swish): ``x * sigmoid(x)``."""
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


def layer_norm(x, weight=None, bias=None, axis=-1, eps=1e-5):
    """Normalise ``x`` to mean 0 and variance 1 over ``axis`` (an int or a
    tuple; the last axis by default), then scale by ``weight`` and shift by
    ``bias`` (either may be None; they broadcast against ``x``, e.g. shape
    ``(features,)``), as ``torch.nn.functional.layer_norm``."""
    axis = axis if isinstance(axis, (int, np.integer)) else normalize_axes(axis, np.ndim(value(x)))
    return _layer_norm(x, weight, bias, axis=axis, eps=eps)


def embedding(indices, weight):
    """Rows of ``weight`` (vocabulary, features) picked by integer ``indices`` of
    any shape: ``weight[indices]``; each row's gradient is the sum over its uses."""
    return getitem(weight, index=np.asarray(value(indices)))
