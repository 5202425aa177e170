"""Losses: the fused softmax-with-loss, and mean squared error."""
import numpy as np

from ..engine import defop
from ..errors import ShapeError
from ._util import batch_size, value
from .activations import stable_log_softmax


def _targets(x, t):
    """Check ``t`` against logits ``x``: rows of ``x``'s shape (one-hot, even as
    integers like the seeds' ``[0, 0, 1]``, or probabilities), else integer labels."""
    t = np.asarray(value(t))
    if t.shape == np.shape(x):
        return (t if t.dtype.kind == "f" else t.astype(np.result_type(x))), False
    want = np.shape(x)[:-1]
    if t.dtype.kind not in "iu" or t.shape != want:
        raise ShapeError(f"softmax_cross_entropy: targets of shape {t.shape} ({t.dtype}) do not fit logits of "
                         f"shape {np.shape(x)}: need integer labels of shape {want} or one-hot rows of shape "
                         f"{np.shape(x)}")
    classes = np.shape(x)[-1]
    if t.size and (t.min() < 0 or t.max() >= classes):
        bad = t.min() if t.min() < 0 else t.max()
        raise ShapeError(f"softmax_cross_entropy: label {bad} is out of range for {classes} classes")
    return t, True


def _label_index(labels, classes):
    """``(rows, labels)`` that pick each row's label from an array viewed as
    ``(-1, classes)``: plain fancy indexing, several times faster than
    take/put_along_axis on the batch sizes that training uses."""
    flat = labels.reshape(-1)
    return np.arange(flat.size), flat


def _one_hot(labels, like):
    out = np.zeros(like.shape, dtype=like.dtype)
    out.reshape(-1, like.shape[-1])[_label_index(labels, like.shape[-1])] = 1
    return out


@defop("softmax_cross_entropy",
       "L = -sum(t * log(y)) / N with y = softmax(x);  gx = gy * (y - t) / N,  gt = -gy * log(y) / N")
def softmax_cross_entropy(x, t):
    """Softmax followed by cross-entropy, fused and overflow-safe, averaged over the batch.

    ``x``: logits (N, C) or (C,).  ``t``: integer class labels (N,) (or a scalar
    for a single row), or one-hot / probability rows of ``x``'s shape.  The
    gradient ``(softmax(x) - t) / N`` is the seeds' ``(y - t) / batch_size``.
    """
    return _softmax_cross_entropy_saving(x, t)[0]


@softmax_cross_entropy.defsave
def _softmax_cross_entropy_saving(x, t):
    """The loss, and for backward (as the seeds' SoftmaxWithLoss keeps its ``y``):
    the log-probabilities and the checked targets (labels copied, so a change
    to them after the forward cannot reach the gradient)."""
    t, labels = _targets(x, t)
    logp = stable_log_softmax(x)
    n = batch_size(x)
    if labels:
        classes = logp.shape[-1]
        loss = -np.sum(logp.reshape(-1, classes)[_label_index(t, classes)]) / n
        return loss, (logp, t.copy(), True)
    return -np.sum(t * logp) / n, (logp, t, False)


@softmax_cross_entropy.defvjp(needs=True)
def _softmax_cross_entropy_vjp(F, gy, y, x, t, needs, saved=None):
    if saved is None:  # create_graph (F records) or check_graph: from the inputs
        logp = None
        tv, labels = _targets(value(x), t)
    else:
        logp, tv, labels = saved
    scale = gy / batch_size(x)
    gx = gt = None
    if needs[0]:
        p = F.softmax(x, axis=-1) if logp is None else np.exp(logp)
        if labels:
            gx = (p - _one_hot(tv, value(p))) * scale
        else:  # (y - t) / N when each row of t sums to 1; exact for any t
            gx = (p * F.sum(t, axis=-1, keepdims=True) - t) * scale
    if needs[1] and not labels:
        gt = -(F.log_softmax(x, axis=-1) if logp is None else logp) * scale
    return gx, gt


def mean_squared_error(y, t):
    """The seeds' ``0.5 * sum((y - t) ** 2)``, divided by the batch size N
    (the first axis of a 2-D ``y``; 1 for a vector, which gives the seeds' value)."""
    from .arithmetic import mul, sub
    from .reductions import sum as _sum
    d = sub(y, t)
    return mul(_sum(mul(d, d)), 0.5 / batch_size(y))
