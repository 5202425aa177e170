"""Activation functions: sigmoid, relu, tanh, softmax, log_softmax."""
import numpy as np

from ..core.recording import defop
from ._util import value
from ._jvp import diagonal


@defop("sigmoid", "y = 1 / (1 + exp(-x));  gx = gy * y * (1 - y)")
def sigmoid(x):
    """Logistic function ``1 / (1 + exp(-x))`` elementwise.

    ``exp(-x)`` is computed with ``-x`` capped just below the log of the dtype's
    largest number, so it never overflows (no warning, no inf); where the cap
    applies the value is ``exp(x)``, which underflows to 0 far out (so ``x *
    sigmoid(x)`` is -0 at -1e300, not -1e-8).  float16 is computed in float32 (its
    own cap, 11, would be far too coarse) and rounded once.

    Parameters
    ----------
    x : array_like or Tensor
        The input.

    Returns
    -------
    Tensor
        Values in [0, 1], of ``x``'s shape; floating point (integer and boolean
        inputs give float64).

    Examples
    --------
    >>> x = ag.Tensor([0.0, 2.0], requires_grad=True)
    >>> y = ag.sigmoid(x)
    >>> y
    Tensor([0.5    0.8808], dtype=float64, op=sigmoid)
    >>> y.sum().backward(); x.grad
    array([0.25 , 0.1049...])
    >>> ag.sigmoid(np.array([-1000.0, 1000.0]))   # no overflow warning
    Tensor([0. 1.], dtype=float64)
    """
    x = x if type(x) is np.ndarray else np.asarray(x)
    caps = _EXP_CAP.get(x.dtype.type)
    if caps is None:
        if x.dtype == np.float16:  # its exp overflows at 11: compute in float32, round once
            return sigmoid.forward(x.astype(np.float32)).astype(np.float16)
        x = x.astype(np.float64)  # integers and booleans
        caps = _EXP_CAP[np.float64]
    cap, one = caps
    z = np.negative(x)
    if type(z) is not np.ndarray:  # NumPy returns a scalar for 0-d input
        z = np.array(z)
    capped = z.max(initial=-np.inf) > cap  # (a reduction; far cheaper than the exp)
    np.minimum(z, cap, out=z)
    np.exp(z, out=z)
    z += one
    np.reciprocal(z, out=z)
    if capped:  # there the value is exp(x), below the dtype's smallest normal: underflow to it (0 far out)
        low = x < -cap
        z[low] = np.exp(x[low])
    return z


# exp(-x) is computed with -x capped just below log(largest number of the dtype), so it
# stays finite; dtype scalars, not Python numbers, so NumPy takes its fast path
_EXP_CAP = {t: (t(np.floor(np.log(np.finfo(t).max))), t(1)) for t in (np.float32, np.float64, np.longdouble)}


@sigmoid.defvjp
def _sigmoid_vjp(F, gy, y, x):
    return gy * (y - y * y)  # no Python scalar: array-array ufuncs are the fast path


diagonal(sigmoid)


@defop("relu", "y = max(x, 0);  gx = gy * (x > 0)  (0 at x = 0; NaN passes it, as PyTorch)")
def relu(x):
    """Rectified linear unit ``max(x, 0)`` elementwise.

    Parameters
    ----------
    x : array_like or Tensor
        The input.

    Returns
    -------
    Tensor
        ``max(x, 0)``, of ``x``'s shape and dtype; NaN stays NaN.

    Notes
    -----
    ``relu'(0) = 0``, as in PyTorch; a NaN input passes its gradient on.

    Examples
    --------
    >>> x = ag.Tensor([-1.0, 0.0, 2.0], requires_grad=True)
    >>> y = ag.relu(x)
    >>> y
    Tensor([0. 0. 2.], dtype=float64, op=relu)
    >>> y.sum().backward(); x.grad
    array([0., 0., 1.])
    """
    return np.maximum(x, 0)


@relu.defvjp
def _relu_vjp(F, gy, y, x):
    return gy * (value(y) != 0)  # x > 0, or x NaN (y = max(NaN, 0) is NaN): it passes its gradient on, as maximum


diagonal(relu)


@defop("tanh", "y = tanh(x);  gx = gy * (1 - y**2)")
def tanh(x):
    """Hyperbolic tangent elementwise, like ``np.tanh``.

    Parameters
    ----------
    x : array_like or Tensor
        The input.

    Returns
    -------
    Tensor
        Values in [-1, 1], of ``x``'s shape (floating point).

    Examples
    --------
    >>> x = ag.Tensor([0.0, 1.0], requires_grad=True)
    >>> y = ag.tanh(x)
    >>> y
    Tensor([0.     0.7616], dtype=float64, op=tanh)
    >>> y.sum().backward(); x.grad
    array([1. , 0.4199...])
    """
    return np.tanh(x)


@tanh.defvjp
def _tanh_vjp(F, gy, y, x):
    return gy - gy * y * y  # gy * (1 - y**2) without a Python scalar (NumPy's slower path)


diagonal(tanh)


def stable_log_softmax(x, axis=-1):
    """``log(softmax(x))`` on arrays, with the max subtracted first so that
    ``exp`` never overflows (the seeds' softmax fix)."""
    if not x.size:  # empty rows: nothing to normalise (max has no identity)
        return x.astype(np.result_type(x, np.float16), copy=True)
    z = x - x.max(axis=axis, keepdims=True)  # (the methods: no Python wrapper around the reduction)
    z -= np.log(np.exp(z).sum(axis=axis, keepdims=True))
    return z


@defop("softmax", "y = exp(x) / sum(exp(x));  gx = y * (gy - sum(gy * y))")
def softmax(x, axis=-1):
    """Softmax along ``axis``: ``exp(x) / sum(exp(x))``, overflow-safe.

    The maximum along ``axis`` is subtracted before ``exp``, so large inputs do
    not overflow.  An empty input gives an empty result.

    Parameters
    ----------
    x : array_like or Tensor
        The input.
    axis : int, optional
        The axis to normalise along (default -1, the last).

    Returns
    -------
    Tensor
        Probabilities summing to 1 along ``axis``, of ``x``'s shape (floating point).

    See Also
    --------
    log_softmax, softmax_cross_entropy

    Examples
    --------
    >>> x = ag.Tensor([0.0, np.log(3.0)], requires_grad=True)
    >>> y = ag.softmax(x)
    >>> y
    Tensor([0.25 0.75], dtype=float64, op=softmax)
    >>> (y * np.array([1.0, 0.0])).sum().backward(); x.grad
    array([ 0.1875, -0.1875])
    >>> ag.softmax(np.array([1000.0, 1000.0]))
    Tensor([0.5 0.5], dtype=float64)
    """
    if not np.size(x):  # empty rows: nothing to normalise (max has no identity)
        return np.array(x, dtype=np.result_type(x, np.float16), copy=True)
    z = np.exp(x - np.max(x, axis=axis, keepdims=True))
    z /= np.sum(z, axis=axis, keepdims=True)
    return z


@softmax.defvjp
def _softmax_vjp(F, gy, y, x, axis=-1):
    return y * (gy - F.sum(gy * y, axis=axis, keepdims=True))


@softmax.defjvp(rule="ty = y * (tx - sum(tx * y))  (the Jacobian is symmetric: the VJP's formula)")
def _softmax_jvp(F, tangents, y, x, axis=-1):
    return _softmax_vjp(F, tangents[0], y, x, axis=axis)


@defop("log_softmax", "y = x - logsumexp(x);  gx = gy - exp(y) * sum(gy)")
def log_softmax(x, axis=-1):
    """Logarithm of the softmax along ``axis``: ``x - logsumexp(x)``, overflow-safe.

    The maximum along ``axis`` is subtracted first, so ``exp`` never overflows;
    more accurate than ``log(softmax(x))`` for very unlikely classes.

    Parameters
    ----------
    x : array_like or Tensor
        The input.
    axis : int, optional
        The axis to normalise along (default -1, the last).

    Returns
    -------
    Tensor
        Log-probabilities along ``axis``, of ``x``'s shape (floating point).

    See Also
    --------
    softmax, logsumexp

    Examples
    --------
    >>> x = ag.Tensor([0.0, np.log(3.0)], requires_grad=True)
    >>> y = ag.log_softmax(x)
    >>> y
    Tensor([-1.3863 -0.2877], dtype=float64, op=log_softmax)
    >>> (y * np.array([1.0, 0.0])).sum().backward(); x.grad
    array([ 0.75, -0.75])
    """
    return stable_log_softmax(x, axis)


@log_softmax.defvjp
def _log_softmax_vjp(F, gy, y, x, axis=-1):
    return gy - F.exp(y) * F.sum(gy, axis=axis, keepdims=True)


@log_softmax.defjvp(rule="ty = tx - sum(exp(y) * tx)")
def _log_softmax_jvp(F, tangents, y, x, axis=-1):
    t = tangents[0]
    return t - F.sum(F.exp(y) * t, axis=axis, keepdims=True)
