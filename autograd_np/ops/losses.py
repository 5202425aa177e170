"""Losses: the fused softmax-with-loss, and mean squared error."""
import math

import numpy as np

from ..core.recording import defop
from ..core.errors import ShapeError
from ._util import batch_size, value
from .activations import stable_log_softmax
from ._jvp import total


# Probability rows (one-hot included) must be >= 0 and sum to 1 within this: loose enough
# for float32 targets and for the tiny steps of a numerical gradient, tight enough to
# refuse unnormalised scores or label-like rows such as [2, 0, 0].
ROW_TOLERANCE = 1e-3


def _targets(x, t):
    """Check ``t`` against logits ``x`` (classes on the last axis): labels of shape
    ``x.shape[:-1]``, or rows of ``x``'s shape (one-hot, even as integers like the
    seeds' ``[0, 0, 1]``, or probabilities).  Returns ``(t, is_labels)``."""
    t = t if type(t) is np.ndarray else np.asarray(value(t))
    shape = np.shape(x)
    if not shape:
        raise ShapeError("softmax_cross_entropy: the logits are a scalar; they need a class axis (the last)")
    if t.shape == shape:
        return _checked_rows(t, x), False
    want = shape[:-1]
    if t.dtype.kind not in "iu" or t.shape != want:
        raise ShapeError(f"softmax_cross_entropy: targets of shape {t.shape} ({t.dtype}) do not fit logits of "
                         f"shape {shape}: need integer labels of shape {want} or one-hot rows of shape "
                         f"{shape}")
    classes = shape[-1]
    if t.size:
        lo, hi = t.min(), t.max()
        if lo < 0 or hi >= classes:
            raise ShapeError(f"softmax_cross_entropy: label {lo if lo < 0 else hi} is out of range for "
                             f"{classes} classes")
    return t, True


def _checked_rows(t, x):
    """Target rows as floats, checked: integer rows must be one-hot (0/1, one 1);
    float rows probabilities (>= 0, summing to 1, within ``ROW_TOLERANCE``)."""
    if t.dtype.kind == "b" or t.dtype.kind in "iu":
        if t.size and (t.min() < 0 or t.max() > 1 or np.any(np.sum(t, axis=-1) != 1)):
            raise ShapeError("softmax_cross_entropy: integer target rows must be one-hot (zeros and a single "
                             f"1 per row); got rows such as {_bad_row(t, np.sum(t, axis=-1) != 1, t < 0, t > 1)}")
        return t.astype(np.result_type(x))
    if t.dtype.kind != "f":
        raise ShapeError(f"softmax_cross_entropy: targets of dtype {t.dtype}: need integer labels, one-hot rows "
                         "or probability rows")
    sums = np.sum(t, axis=-1)
    with np.errstate(invalid="ignore"):
        off = ~(np.abs(sums - 1) <= ROW_TOLERANCE)  # NaN rows are off too
        negative = ~(t >= -ROW_TOLERANCE)
    if t.size and (off.any() or negative.any()):
        raise ShapeError("softmax_cross_entropy: target rows must be probabilities (entries >= 0 summing to 1, "
                         f"within {ROW_TOLERANCE}); got rows such as {_bad_row(t, off, negative)}")
    return t


def _bad_row(t, *masks):
    """The first offending row of ``t``, as text, for the error message."""
    rows = t.reshape(-1, t.shape[-1])
    bad = np.zeros(rows.shape[0], dtype=bool)
    for m in masks:
        m = np.asarray(m)
        bad |= (m.reshape(-1, t.shape[-1]).any(axis=1) if m.shape == t.shape else m.reshape(-1))
    row = rows[np.argmax(bad)]
    return np.array2string(row, precision=4, threshold=8)


def _rows(x):
    """The number of rows the loss averages over: every axis but the last (classes)."""
    return math.prod(np.shape(value(x))[:-1])


def _label_index(labels, classes):
    """``(rows, labels)`` that pick each row's label from an array viewed as
    ``(-1, classes)``: plain fancy indexing, several times faster than
    take/put_along_axis on the batch sizes that training uses."""
    flat = labels.reshape(-1)
    rows = _ROWS.get(flat.size)
    if rows is None:
        rows = _ROWS[flat.size] = np.arange(flat.size)
        rows.flags.writeable = False
    return rows, flat


_ROWS = {}  # n -> arange(n), read-only: every batch of a size picks its rows with the same one


def _one_hot(labels, like):
    out = np.zeros(like.shape, dtype=like.dtype)
    out.reshape(-1, like.shape[-1])[_label_index(labels, like.shape[-1])] = 1
    return out


@defop("softmax_cross_entropy",
       "L = -sum(t * log(y)) / N with y = softmax(x);  gx = gy * (y - t) / N,  gt = -gy * log(y) / N")
def softmax_cross_entropy(x, t):
    """Softmax followed by cross-entropy, fused and overflow-safe, averaged over the rows.

    Parameters
    ----------
    x : array_like or Tensor
        Logits with the classes on the last axis: (N, C), (C,) for one row, or
        (N, T, C) and beyond, where every leading position is a row (the mean is
        over all N*T rows, as PyTorch's).
    t : array_like or Tensor
        The targets: integer class labels of shape ``x.shape[:-1]`` (a scalar for
        one row), or rows of ``x``'s shape: one-hot (integer rows must be exactly
        0/1 with one 1) or probabilities (>= 0, summing to 1 within
        ``ROW_TOLERANCE``, 1e-3).  Probability rows are differentiated; labels are not.

    Returns
    -------
    Tensor
        The mean loss over the rows, a 0-d tensor.

    Raises
    ------
    ShapeError
        For targets of any other shape or dtype, labels out of range, integer rows
        that are not one-hot, or float rows that are not probabilities; for scalar
        logits (they need a class axis).

    See Also
    --------
    softmax, log_softmax

    Notes
    -----
    The gradient ``(softmax(x) - t) / N`` is the seeds' ``(y - t) / batch_size``.
    A recorded forward keeps its log-probabilities for the backward (no second
    softmax), and a copy of integer labels, so changing them after the forward
    cannot reach the gradient.  A class of probability 0 contributes 0 to the
    loss, even where its log-probability is ``-inf``.

    Examples
    --------
    >>> x = ag.Tensor([[0.0, np.log(3.0)], [0.0, 0.0]], requires_grad=True)
    >>> loss = ag.softmax_cross_entropy(x, np.array([1, 0]))
    >>> loss   # (-log 0.75 - log 0.5) / 2
    Tensor(0.4904, dtype=float64, op=softmax_cross_entropy)
    >>> loss.backward(); x.grad
    array([[ 0.125, -0.125], [-0.25 ,  0.25 ]])
    """
    return _softmax_cross_entropy_saving(x, t)[0]


@softmax_cross_entropy.defsave
def _softmax_cross_entropy_saving(x, t):
    """The loss, and for backward (as the seeds' SoftmaxWithLoss keeps its ``y``):
    the log-probabilities and the checked targets (labels copied, so a change
    to them after the forward cannot reach the gradient)."""
    t, labels = _targets(x, t)
    logp = stable_log_softmax(x)
    n = _rows(x)
    if labels:
        classes = logp.shape[-1]
        loss = -logp.reshape(-1, classes)[_label_index(t, classes)].sum() / n
        return loss, (logp, t.copy(), True)
    with np.errstate(invalid="ignore"):
        loss = -(t * logp).sum()
    if np.isnan(loss):  # 0 * log 0: a class of probability 0 (logit -inf, or float32's range) contributes 0
        loss = -np.where(t != 0, t * logp, 0).sum()  # (NaN in x or t stays NaN)
    return loss / n, (logp, t, False)


@softmax_cross_entropy.defvjp(needs=True)
def _softmax_cross_entropy_vjp(F, gy, y, x, t, needs, saved=None):
    if saved is None:  # create_graph (F records) or check_graph: from the inputs
        logp = None
        tv, labels = _targets(value(x), t)
    else:
        logp, tv, labels = saved
    scale = gy / _rows(x)
    gx = gt = None
    if needs[0]:
        p = F.softmax(x, axis=-1) if logp is None else np.exp(logp)
        if labels and logp is not None:  # p is ours: subtract the one-hot in place
            classes = p.shape[-1]
            p.reshape(-1, classes)[_label_index(tv, classes)] -= 1
            p *= scale
            gx = p
        elif labels:
            gx = (p - _one_hot(tv, value(p))) * scale
        else:  # (y - t) / N when each row of t sums to 1; exact for any t
            gx = (p * F.sum(t, axis=-1, keepdims=True) - t) * scale
    if needs[1] and not labels:
        gt = -(F.log_softmax(x, axis=-1) if logp is None else logp) * scale
    return gx, gt


@softmax_cross_entropy.defjvp(rule="tL = sum(gx * tx) + sum(gt * tt), with gx, gt the VJP at 1 (a scalar output)")
def _softmax_cross_entropy_jvp(F, tangents, y, x, t):
    one = np.ones(np.shape(value(y)), np.result_type(value(y)))
    grads = _softmax_cross_entropy_vjp(F, one, y, x, t, needs=[tg is not None for tg in tangents])
    return total(*(None if tg is None or g is None else F.sum(g * tg) for g, tg in zip(grads, tangents)))


def mean_squared_error(y, t):
    """The seeds' ``0.5 * sum((y - t) ** 2)``, divided by the batch size N.

    N is the first axis of a 2-D or higher ``y``, and 1 for a vector (which gives
    the seeds' value); with no rows the loss is NaN, as PyTorch's mean of nothing.

    Parameters
    ----------
    y : array_like or Tensor
        The predictions.
    t : array_like or Tensor
        The targets, of ``y``'s shape.

    Returns
    -------
    Tensor
        The loss, a 0-d tensor.

    Raises
    ------
    ShapeError
        When ``y`` and ``t`` differ in shape: a broadcast between them (``(4, 1)``
        against ``(4,)``) would silently compare every prediction with every
        target.

    Notes
    -----
    Derivative: by the chain rule through the ops it is built from (``sub``,
    ``mul``, ``sum``): ``gy = (y - t) / N``, ``gt = -(y - t) / N``.

    Examples
    --------
    >>> y = ag.Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> loss = ag.mean_squared_error(y, np.array([[1.0, 0.0], [3.0, 2.0]]))
    >>> loss   # 0.5 * (4 + 4) / 2
    Tensor(2., dtype=float64, op=mul)
    >>> loss.backward(); y.grad
    array([[0., 1.], [0., 1.]])
    """
    from .arithmetic import mul, sub
    from .reductions import sum as _sum
    if np.shape(value(y)) != np.shape(value(t)):
        raise ShapeError(f"mean_squared_error: y has shape {np.shape(value(y))} but t has shape "
                         f"{np.shape(value(t))}; they must be equal (reshape one of them)")
    d = sub(y, t)
    n = batch_size(y)
    return mul(_sum(mul(d, d)), 0.5 / n if n else np.nan)  # no rows: NaN, as PyTorch's mean of nothing
