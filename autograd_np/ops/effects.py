"""Ops whose forward changes state: ``dropout_mask`` draws from a generator and
``batch_norm`` updates running statistics.  The effect happens inside the
forward, so a compiled step (``ag.compile``) replays it exactly as an eager
call does: the same draws from the same generator, the same updates."""
import math

import numpy as np

from ..core.errors import ShapeError
from ..core.recording import defop
from ._util import value
from .norm_kernels import bn_forward, bn_grads

__all__ = ["dropout_mask", "batch_norm"]


@defop("dropout_mask", "y = keep / (1 - p) with keep ~ Bernoulli(1 - p) drawn from rng;  "
                       "gx = 0 (the mask does not depend on x's values)", state=("rng",))
def dropout_mask(x, p=0.5, rng=None):
    """Inverted-dropout scale factors of ``x``'s shape and dtype.

    Each entry is ``1 / (1 - p)`` with probability ``1 - p``, else 0, drawn from
    ``rng``; ``x * dropout_mask(x, p, rng)`` is dropout.

    Parameters
    ----------
    x : array_like or Tensor
        Gives the mask its shape and (if floating point) dtype; its values are not
        read.
    p : float, optional
        The probability of dropping an entry, in ``[0, 1)`` (default 0.5;
        anything else is a ValueError).
    rng : numpy.random.Generator or None, optional
        The generator drawn from, advanced by every call (the op's state: a compiled
        step replays the same draws); None: a fresh ``np.random.default_rng()``.

    Returns
    -------
    Tensor
        The mask, of ``x``'s shape; of ``x``'s dtype if floating point, float64
        otherwise.

    Notes
    -----
    The gradient that reaches ``x`` through the mask is 0; through the product
    ``x * mask`` ``x`` gets ``gy * mask``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = ag.Tensor(np.ones((2, 4)), requires_grad=True)
    >>> m = ag.dropout_mask(x, p=0.5, rng=rng)
    >>> m
    Tensor([[2. 0. 0. 0.]
     [2. 2. 2. 2.]], dtype=float64, op=dropout_mask)
    >>> (x * m).sum().backward()
    >>> x.grad
    array([[2., 0., 0., 0.],
           [2., 2., 2., 2.]])
    """
    x = np.asarray(x)
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout_mask: p must be in [0, 1), got {p}")
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    keep = (rng if rng is not None else np.random.default_rng()).random(x.shape) >= p
    return keep.astype(dtype) * dtype.type(1.0 / (1.0 - p))


@dropout_mask.defvjp
def _dropout_mask_vjp(F, gy, y, x, p=0.5, rng=None):
    return gy * 0.0  # zero, but a gradient: x * dropout_mask(x) sends x its share through the product


def _channel_shape(x):
    """(1, C, 1, ...): a per-channel parameter broadcast against (N, C, ...)."""
    return (1, np.shape(x)[1]) + (1,) * (np.ndim(x) - 2)


def _batch_axes(x):
    return (0,) + tuple(range(2, np.ndim(x)))


def _values_per_channel(x):
    """How many values each channel has; training statistics need more than one (the
    variance of one is 0, the output all zeros, and the running variance would decay
    to 0): PyTorch's error for exactly one."""
    shape = np.shape(x)
    count = math.prod(shape[:1] + shape[2:])
    if count == 1:
        raise ShapeError(f"batch_norm: Expected more than 1 value per channel when training, got input size "
                         f"{shape}")
    return count


@defop("batch_norm", "y = gamma * (x - mean) / sqrt(var + eps) + beta over every axis but 1;  "
                     "gx = (gamma / std) * (gy - mean(gy) - xn * mean(gy * xn)), ggamma = sum(gy * xn), "
                     "gbeta = sum(gy)  (hand-written, fused)", state=("running_mean", "running_var"))
def batch_norm(x, gamma, beta, *, running_mean, running_var, momentum=0.9, eps=1e-5, training=True):
    """Batch normalization over every axis but the channels (axis 1).

    ``x`` is (N, C) or (N, C, H, W); the output is ``gamma * (x - mean) /
    sqrt(var + eps) + beta`` per channel. Training: ``mean`` and ``var`` are the
    batch's mean and biased variance, and the running statistics are updated in
    place, ``running = momentum * running + (1 - momentum) * batch``. Eval
    (``training=False``): the running statistics are used and nothing is updated.

    Parameters
    ----------
    x : array_like or Tensor
        The batch, (N, C) or (N, C, H, W).
    gamma : array_like or Tensor
        The per-channel scale, shape (C,).
    beta : array_like or Tensor
        The per-channel shift, shape (C,).
    running_mean : numpy.ndarray
        Shape (C,); updated in place when training (keyword only).
    running_var : numpy.ndarray
        Shape (C,); updated in place with the batch's biased variance when
        training (keyword only).
    momentum : float, optional
        The weight of the old running value (default 0.9; PyTorch's ``momentum``
        is ``1 - momentum`` here).
    eps : float, optional
        Added to the variance (default 1e-5).
    training : bool, optional
        Batch statistics and updates (default) or the running statistics.

    Returns
    -------
    Tensor
        Of ``x``'s shape.

    Notes
    -----
    One value per channel when training (a batch of one (1, C), or (1, C, 1, 1))
    is a ShapeError, as in PyTorch; an empty batch gives an empty output and
    leaves the running statistics alone.

    Examples
    --------
    >>> x = ag.Tensor(np.array([[1.0, 10.0], [3.0, 30.0]]), requires_grad=True)
    >>> gamma = ag.Tensor(np.ones(2), requires_grad=True)
    >>> beta = ag.Tensor(np.zeros(2), requires_grad=True)
    >>> mean, var = np.zeros(2), np.ones(2)
    >>> y = ag.batch_norm(x, gamma, beta, running_mean=mean, running_var=var)
    >>> y
    Tensor([[-1. -1.]
     [ 1.  1.]], dtype=float64, op=batch_norm)
    >>> mean, var
    (array([0.2, 2. ]), array([ 1. , 10.9]))
    >>> y[0, 0].backward()
    >>> gamma.grad.round(6), beta.grad
    (array([-0.999995,  0.      ]), array([1., 0.]))
    >>> ag.batch_norm(x, gamma, beta, running_mean=mean, running_var=var, training=False)
    Tensor([[0.8    2.4231]
     [2.8    8.481 ]], dtype=float64, op=batch_norm)
    """
    return _batch_norm_saving(x, gamma, beta, running_mean=running_mean, running_var=running_var,
                              momentum=momentum, eps=eps, training=training)[0]


@batch_norm.defsave
def _batch_norm_saving(x, gamma, beta, *, running_mean, running_var, momentum=0.9, eps=1e-5, training=True):
    """The output, and (mean, 1 / std) per channel for the gradient: the statistics in
    training, the running ones in eval (rows (N, C): ``_batch_norm_rows``; images:
    ``norm_kernels.bn_forward``, a group of channels at a time in cache)."""
    if np.ndim(x) == 2:
        return _batch_norm_rows(x, gamma, beta, running_mean, running_var, momentum, eps, training), _ROWS
    x, dtype = _float_images(x), np.result_type(x, gamma, beta)
    if training and not _values_per_channel(x) or x.size == 0:  # empty: nothing to learn from, as PyTorch
        channels = np.shape(x)[1]
        return np.zeros(np.shape(x), dtype), (np.zeros(channels, x.dtype), np.ones(channels, x.dtype))
    stats = None if training else (running_mean.astype(x.dtype, copy=False), running_var.astype(x.dtype, copy=False))
    y, mean, var, inv = bn_forward(x, _per_channel(gamma, "gamma", x), _per_channel(beta, "beta", x), eps, stats)
    if training:
        running_mean *= momentum
        running_mean += (1 - momentum) * mean
        running_var *= momentum
        running_var += (1 - momentum) * var
    return y, (mean, inv)


def _per_channel(p, name, x):
    """``gamma`` or ``beta`` as a (C,) array: one value per channel, or one for all."""
    p, c = np.asarray(p), x.shape[1]
    if p.shape not in ((), (1,), (c,)):
        raise ShapeError(f"batch_norm: {name} must have shape ({c},), one value per channel of the input "
                         f"{x.shape}, got shape {p.shape}")
    return np.broadcast_to(p, (c,))


def _float_images(x):
    """``x`` as a float array (integers: float64, as their mean would be)."""
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(np.result_type(x.dtype, np.float64))


# what batch norm over (N, C) rows saves: nothing; its gradient is composed of ops (a marker, since
# saved=None means create_graph's path)
_ROWS = "rows"


def _batch_norm_rows(x, gamma, beta, running_mean, running_var, momentum, eps, training):
    """(N, C) rows, an MLP's batch norm (small next to a convolution's): the arithmetic it
    always had, so that an MLP trains to the same numbers as before the kernels for images."""
    shape = _channel_shape(x)
    if training and not _values_per_channel(x):
        return np.zeros(np.shape(x), np.result_type(x, gamma, beta))
    if training:
        mean = np.mean(x, axis=0, keepdims=True)
        xc = x - mean
        var = np.mean(xc * xc, axis=0, keepdims=True)
        running_mean *= momentum
        running_mean += (1 - momentum) * mean.reshape(-1)
        running_var *= momentum
        running_var += (1 - momentum) * var.reshape(-1)
    else:
        xc = x - running_mean.reshape(shape).astype(x.dtype, copy=False)
        var = running_var.reshape(shape).astype(x.dtype, copy=False)
    return xc / np.sqrt(var + eps) * np.reshape(gamma, shape) + np.reshape(beta, shape)


def _batch_norm_kernel_grads(gy, x, gamma, needs, saved, training, out=None):
    """The three gradients from the saved (mean, 1 / std) (``norm_kernels.bn_grads``);
    ``out``: an array to write gx into (a compiled step's), or None."""
    mean, inv = saved
    x, gy = _float_images(x), np.asarray(gy)
    if x.size == 0:
        gx = np.zeros(x.shape, np.result_type(gy, gamma, inv)) if needs[0] else None
        zeros = np.zeros(np.shape(gamma), np.result_type(gy, x))
        return gx, (zeros if needs[1] else None), (zeros.copy() if needs[2] else None)
    return bn_grads(gy, x, _per_channel(gamma, "gamma", x), mean, inv, needs, training, out)


class _BatchNormBuffers:
    """batch_norm's VJP for one shape with gx's array allocated once (a compiled step's;
    the forward runs as the op's own): ``vjp(gy, y, x, gamma, beta, saved, needs)``."""

    def __init__(self, x, gamma, beta, training):
        self.training = training
        self.buffers = [np.empty_like(x, dtype=np.result_type(x, gamma, beta))]  # gx

    def vjp(self, gy, y, x, gamma, beta, saved, needs):
        gx = self.buffers[0]
        fits = gy.dtype == gx.dtype and gy.shape == x.shape and gy.strides == gx.strides
        return _batch_norm_kernel_grads(gy, x, gamma, needs, saved, self.training, gx if fits else None)


def _batch_norm_buffers(inputs, params):
    x, gamma, beta = inputs
    if not all(isinstance(a, np.ndarray) for a in inputs) or x.dtype.kind != "f" or x.size == 0 or x.ndim == 2:
        return None
    return _BatchNormBuffers(x, gamma, beta, params.get("training", True))


_batch_norm_saving.buffered = _batch_norm_buffers


@batch_norm.defvjp(needs=True)
def _batch_norm_vjp(F, gy, y, x, gamma, beta, *, running_mean, running_var, momentum=0.9, eps=1e-5,
                    training=True, needs=None, saved=None):
    if saved is not None and saved is not _ROWS:  # a plain backward: arrays and the forward's statistics
        return _batch_norm_kernel_grads(gy, x, gamma, needs, saved, training)
    # create_graph / check_graph (or an empty batch): composed of ops, differentiable again
    axes, shape = _batch_axes(value(x)), _channel_shape(value(x))
    if training:
        xc = x - F.mean(x, axis=axes, keepdims=True)
        inv = 1.0 / F.sqrt(F.mean(xc * xc, axis=axes, keepdims=True) + eps)
    else:
        dtype = np.result_type(value(x))
        xc = x - np.reshape(value(running_mean), shape).astype(dtype, copy=False)
        inv = 1.0 / np.sqrt(np.reshape(value(running_var), shape).astype(dtype, copy=False) + dtype.type(eps))
    xn = xc * inv
    gxn = gy * F.reshape(gamma, shape=shape)
    gx = ggamma = gbeta = None
    if needs[0]:
        if training:
            gx = inv * (gxn - F.mean(gxn, axis=axes, keepdims=True)
                        - xn * F.mean(gxn * xn, axis=axes, keepdims=True))
        else:
            gx = gxn * inv
    if needs[1]:
        ggamma = F.reshape(F.sum(gy * xn, axis=axes), shape=np.shape(value(gamma)))
    if needs[2]:
        gbeta = F.reshape(F.sum(gy, axis=axes), shape=np.shape(value(beta)))
    return gx, ggamma, gbeta
