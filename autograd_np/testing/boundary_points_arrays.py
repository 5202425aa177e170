"""Boundary points of the ops on whole arrays: reductions (ties, zeros, infinite
and NaN entries, empty slices), softmax and the losses, normalisation, and the
shape, layout and contraction ops, whose gradient does not depend on the values
(so it must stay finite at inf and NaN: ``grad_finite``) and which must handle
empty arrays."""
from __future__ import annotations

import numpy as np

from .cases import Point
from .specs_effects import RepeatingGenerator

INF, NAN = np.inf, np.nan
SPECIAL = np.array([[0.0, -0.0, INF], [-INF, NAN, 1.5]])  # every special value in one (2, 3) array
SPECIAL6 = SPECIAL.reshape(-1)


def P(*args, kwargs=None, wrt=(0,), **flags):
    """A point: ``args`` (lists become float arrays), keyword arguments, flags."""
    args = tuple(np.array(a, dtype=np.float64) if isinstance(a, list) else a for a in args)
    return Point(args, dict(kwargs or {}), wrt, **flags)


def vectors(*values, **kwargs):
    """One point per vector, with ``kwargs``."""
    return tuple(P(list(v), kwargs=kwargs, note=f"{list(v)} {kwargs or ''}") for v in values)


def structural(*kwarg_sets, empty=(2, 0), empty_kwargs=None, base=SPECIAL):
    """Points for an op whose gradient does not depend on the values: the special values
    (0, -0, +-inf, NaN; the gradient stays finite) and an empty array, per kwargs set."""
    points = tuple(P(base, kwargs=kw, grad_finite=True, note=f"0, -0, inf, -inf, NaN {kw}") for kw in kwarg_sets)
    if empty is not None:
        kw = kwarg_sets[0] if empty_kwargs is None else empty_kwargs
        points += (P(np.zeros(empty), kwargs=kw, grad_finite=True, note=f"empty {empty} {kw}"),)
    return points


TIES = ([1.0, 1.0, 0.0], [2.0, 2.0, 2.0], [-0.0, 0.0, -1.0])
INFINITE = ([INF, 1.0, 2.0], [-INF, -INF, -INF], [INF, INF, 1.0], [INF, -INF, 0.0])
NAN_IN = ([NAN, 1.0, NAN], [NAN, 1.0, 2.0])
AMAX_NAN = "torch.amax sends NaN to every element; here the NaN elements share the gradient (torch.max() does)"
MEDIAN_TIE = ("a median of equal values: each partial is 0 (the others hold it), yet moving all of them moves it; "
              "the gradient goes to the middle element, as PyTorch's")
_REDUCE_EMPTY = (P(np.zeros((2, 0)), kwargs={"axis": 0}, grad_finite=True, note="(2, 0) along the full axis"),)


def _extreme():
    points = vectors(*TIES, *INFINITE) + tuple(P(v, torch=AMAX_NAN, note=str(v)) for v in NAN_IN)
    return points + _REDUCE_EMPTY + (P(SPECIAL, kwargs={"axis": 1}, torch=AMAX_NAN, note="special rows"),
                                     P(np.zeros((0,)), raises="zero-size", note="empty"))


def _spread(op):
    """var / std: constant slices, one value (ddof 0 and 1), infinities, overflow."""
    return (vectors([2.0, 2.0, 2.0], [3.0], [1e200, -1e200], [INF, 1.0], [NAN, 1.0])
            + vectors([3.0], [2.0, 2.0], ddof=1) + (P(SPECIAL, kwargs={"axis": 1}, note="special rows"),)
            + _REDUCE_EMPTY)


REDUCTIONS = {
    "sum": structural({}, {"axis": 0}, {"axis": 1, "keepdims": True}) + vectors([1e308, 1e308]),
    "mean": structural({}, {"axis": 0}, {"axis": (0, 1)}) + vectors([1e308, 1e308]),
    "max": _extreme(),
    "min": _extreme(),
    "prod": vectors([0.0, 2.0, 3.0], [0.0, 0.0, 3.0], [-0.0, 2.0], [INF, 2.0], [INF, 0.0], [NAN, 2.0])
    + (P([1e200, 1e200], torch="PyTorch's y / x is inf / 1e200 (the product overflowed); the others' product is "
                               "1e200"),
       P([1e-200, 1e-200], torch="PyTorch's y / x is 0 (the product underflowed), so is its second derivative; "
                                 "the others' product is 1e-200"))
    + _REDUCE_EMPTY + (P(np.zeros((0,)), note="empty: 1"),),
    "var": _spread("var"),
    "std": _spread("std"),
    "cumsum": structural({"axis": None}, {"axis": 1}),
    "cumprod": vectors([0.0, 2.0, 3.0], [2.0, 0.0, 0.0, 3.0], [INF, 2.0, 0.0], [NAN, 1.0], [-0.0, 1.0],
                       axis=0) + (P(np.zeros((2, 0)), kwargs={"axis": 1}, note="empty"),),
    "logsumexp": vectors([-INF, -INF], [INF, 1.0], [INF, INF], [-INF, 0.0], [NAN, 1.0], [0.0, 0.0],
                         axis=None, keepdims=False)
    + (P([1e308, 1e308], kwargs={"axis": None, "keepdims": False}, second=False,
         note="1e308 twice (a relative step of 1e302 would saturate the second derivative)"),)
    + (P(np.zeros((0,)), kwargs={"axis": None, "keepdims": False}, note="empty: -inf"),
       P(SPECIAL, kwargs={"axis": 1, "keepdims": True}, note="special rows")),
    "median": tuple(P(v, partials=MEDIAN_TIE, note=f"{v}") for v in ([2.0, 2.0, 2.0], [-0.0, 0.0, 0.0]))
    + vectors([1.0, 2.0, 2.0, 3.0], [INF, -INF, 1.0], [NAN, 1.0, 2.0], [2.0, NAN, NAN, 1.0])
    + (P(SPECIAL, kwargs={"axis": 1}, note="special rows"), P(np.zeros(0), note="empty: NaN"),
       P(np.zeros((2, 0)), kwargs={"axis": 1}, note="empty rows: NaN", torch="PyTorch's quantile refuses empty rows")),
}



def _rows(*rows, **kwargs):
    return tuple(P([list(r)], kwargs=kwargs, note=f"{list(r)} {kwargs or ''}") for r in rows)


SOFTMAX_ROWS = ([-INF, 0.0], [-INF, -INF], [INF, 0.0], [1e308, -1e308], [NAN, 1.0], [0.0, 0.0], [-0.0, 0.0])


def _cross_entropy():
    """Logits at -inf and at float64's extremes, with labels, one-hot and soft rows (t
    differentiated); a probability-0 class contributes 0 (0 log 0), not NaN."""
    x = [[1e308, -1e308]]
    points = (P(x, np.array([0]), finite=True, note="labels, logits 1e308 and -1e308"),
              P(x, np.array([[1.0, 0.0]]), finite=True, note="one-hot, logits 1e308 and -1e308",
                torch="PyTorch: NaN (0 * log 0) with probability rows"),
              P(x, np.array([[0.0, 1.0]]), note="one-hot on the -1e308 class (loss 2e308: inf)"),
              P([[-INF, 0.0]], np.array([1]), finite=True, note="label of the finite logit"),
              P([[-INF, 0.0]], np.array([0]), note="label of the -inf logit: loss inf"),
              P([[-INF, 0.0, 1.0]], [[0.0, 0.25, 0.75]], wrt=(0, 1), finite=True, note="soft, 0 on the -inf logit",
                torch="PyTorch: NaN (0 * log 0) with probability rows"),
              P([[NAN, 0.0]], np.array([1]), note="NaN logit"),
              P([[0.0, 0.0]], [[0.5, 0.5]], wrt=(0, 1), note="uniform"),
              P(np.zeros((0, 3)), np.zeros(0, dtype=int), note="no rows: NaN, as PyTorch's mean of nothing"))
    return points


def _mse():
    return (P([INF, 1.0], [INF, 1.0], wrt=(0, 1), note="inf - inf"), P([0.0, -0.0], [-0.0, 0.0], wrt=(0, 1)),
            P([NAN, 1.0], [1.0, 1.0], wrt=(0, 1)), P([1e200], [-1e200], wrt=(0, 1), note="overflow"),
            P(np.zeros((0, 3)), np.zeros((0, 3)), wrt=(0, 1), note="no rows: NaN, as PyTorch's mean of nothing"))


def _norm_layers():
    """layer_norm / batch_norm on constant slices (variance 0: eps keeps them finite),
    infinite values, one value per slice."""
    layer = (P([[2.0, 2.0, 2.0]], None, None, kwargs={"axis": -1}, finite=True, note="constant row"),
             P([[INF, 1.0, 2.0]], None, None, kwargs={"axis": -1}, note="inf in a row"),
             P([[3.0]], [1.5], [0.5], wrt=(0, 1, 2), kwargs={"axis": -1}, finite=True, note="one value per row"),
             P(np.zeros((0, 3)), None, None, kwargs={"axis": -1}, note="no rows"))
    c = 2
    stats = {"running_mean": np.zeros(c), "running_var": np.ones(c)}
    batch = (P([[2.0, 1.0], [2.0, 3.0]], [1.0, 2.0], [0.0, 1.0], kwargs=stats, wrt=(0, 1, 2), finite=True,
               note="a constant channel (variance 0)"),
             P([[INF, 1.0], [2.0, 3.0]], [1.0, 2.0], [0.0, 1.0], kwargs=stats, wrt=(0, 1, 2), note="inf"),
             P([[1.0, 2.0]], [1.0, 1.0], [0.0, 0.0], kwargs=stats, raises="Expected more than 1 value per channel",
               note="one value per channel"),
             P(np.zeros((0, 2)), [1.0, 1.0], [0.0, 0.0], kwargs=stats, wrt=(0, 1, 2), note="no rows: empty"),
             P([[1.0, 2.0]], [1.0, 1.0], [0.0, 0.0], kwargs={"running_mean": np.zeros(c), "running_var": np.zeros(c),
                                                              "training": False}, wrt=(0, 1, 2), finite=True,
               note="eval, running variance 0"))
    return layer, batch


_LAYER, _BATCH = _norm_layers()
DROP = {"p": 0.0, "rng": RepeatingGenerator()}
NETWORK = {
    "softmax": _rows(*SOFTMAX_ROWS) + (P(np.zeros((2, 0)), note="empty rows"),),
    "log_softmax": _rows(*SOFTMAX_ROWS) + (P(np.zeros((2, 0)), note="empty rows"),),
    "softmax_cross_entropy": _cross_entropy(),
    "mean_squared_error": _mse(),
    "layer_norm": _LAYER,
    "batch_norm": _BATCH,
    "embedding": (P(np.array([[0, 2], [2, 2]]), SPECIAL.T, wrt=(1,), grad_finite=True, note="repeats, special rows"),
                  P(np.zeros((0,), dtype=int), SPECIAL.T, wrt=(1,), grad_finite=True, note="no indices")),
    "dropout_mask": (P(SPECIAL, kwargs=DROP, grad_finite=True, note="special values, p = 0"),
                     P(SPECIAL, kwargs={**DROP, "p": 0.999}, grad_finite=True, note="p near 1"),
                     P(np.zeros((0, 2)), kwargs=DROP, grad_finite=True, note="empty")),
    "dropout": (P(SPECIAL, kwargs=DROP, note="special values, p = 0"), P(np.zeros((0, 2)), kwargs=DROP, note="empty")),
}
