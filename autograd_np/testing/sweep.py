"""The boundary sweep: an op of the table evaluated at each of its boundary points
(``OpSpec.boundary``), in float64.

``check_point`` returns the problems it finds (an empty list when the point
passes):

* the forward agrees with the op's NumPy function (NaN and infinities included)
  and, for points marked ``finite``, is finite;
* for every differentiated element, the one-sided difference quotients (right and
  left, at two step sizes) are taken; where all four exist and agree, the
  derivative exists there, and the gradient must be finite and equal to it
  (``Point.partials`` names the few points where agreeing partials do not make
  the function differentiable); the same for the second derivative, the gradient
  of ``sum(grad * w)`` recorded with ``create_graph``;
* with a PyTorch reference (``testing/torch_refs.py``), the forward, the gradient
  and the second derivative equal PyTorch's, NaN for NaN and inf for inf, unless
  ``Point.torch`` says why this point differs.
"""
from __future__ import annotations

import re

import numpy as np

from ..core import Tensor, grad
from .closeness import close as _close

__all__ = ["check_point", "check_torch", "derivatives", "one_sided"]

STEP = 1e-6  # relative: the step is STEP * max(1, |x|)


def one_sided(f, x, idx):
    """The derivative of ``f()`` in element ``idx`` of ``x`` (perturbed in place, then
    restored) if the right and left difference quotients, at steps h and h/4, are
    all finite and agree; else None (a kink, a jump, a pole, a non-finite value, a
    neighbour outside the domain)."""
    base = x[idx]
    f0 = f()
    if not (np.isfinite(base) and np.isfinite(f0)):
        return None
    h = STEP * max(1.0, abs(float(base)))
    quotients = []
    try:
        for step in (h, h / 4, -h, -h / 4):
            x[idx] = base + step
            taken = float(x[idx]) - float(base)
            quotients.append((f() - f0) / taken)
    except Exception:  # noqa: BLE001  (the op refuses a neighbour: x is at the edge of its domain)
        return None
    finally:
        x[idx] = base
    q = np.array(quotients)
    if not np.all(np.isfinite(q)):
        return None
    d = float(np.mean(q))
    return d if np.ptp(q) <= 1e-4 * max(1.0, abs(d)) else None


def _as_leaves(point):
    args = list(point.args)
    leaves = [Tensor(np.array(args[i], dtype=np.float64), requires_grad=True) for i in point.wrt]
    for i, t in zip(point.wrt, leaves):
        args[i] = t
    return args, leaves


def _arrays(values):
    return [np.zeros(t.shape) if g is None else np.array(g.data if isinstance(g, Tensor) else g, dtype=np.float64)
            for g, t in zip(values[0], values[1])]


def _first(spec, point, v=None, create_graph=False):
    """(leaves, output, gradients, v) of ``sum(fn(...) * v)`` at the point (``v``: a fixed
    random cotangent when not given)."""
    args, leaves = _as_leaves(point)
    out = spec.fn(*args, **point.kwargs)
    if v is None:
        v = np.random.default_rng(0).standard_normal(out.shape)
    if not out.requires_grad:
        return leaves, out, [None] * len(leaves), v
    grads = grad(out, leaves, grad_outputs=[v], allow_unused=True, create_graph=create_graph)
    return leaves, out, list(grads), v


def _weights(shapes, seed=1):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in shapes]


def _differences(problems, label, values, analytic, point):
    """Compare the gradients ``analytic`` (one array per input of ``values``, a list of
    arrays perturbed in place by ``f_of``) with agreeing one-sided quotients."""
    f_of, arrays = values
    for k, (x, a) in enumerate(zip(arrays, analytic)):
        for idx in np.ndindex(*x.shape):
            d = one_sided(f_of, x, idx)
            if d is None:
                continue
            got = a[idx]
            if not np.isfinite(got):
                problems.append(f"{label} of input {point.wrt[k]} at {idx} is {got}, but the one-sided "
                                f"differences agree on {d:.6g}")
            elif not point.partials and abs(got - d) > 1e-3 * max(1.0, abs(d)):
                problems.append(f"{label} of input {point.wrt[k]} at {idx} is {got:.6g}, but the one-sided "
                                f"differences agree on {d:.6g}")


def _point_arrays(point):
    return [np.array(point.args[i], dtype=np.float64) for i in point.wrt]


def _with(point, arrays):
    args = list(point.args)
    for i, a in zip(point.wrt, arrays):
        args[i] = a
    return tuple(args)


def _forward_checks(problems, spec, point, y):
    if spec.numpy is not None and not point.numpy:
        with np.errstate(all="ignore"):
            want = np.asarray(spec.numpy(*point.args, **point.kwargs), dtype=np.float64)
        if want.shape != y.shape or not _close(y, want, 1e-10):
            problems.append(f"forward {y!r} differs from NumPy's {want!r}")
    if point.finite and not np.all(np.isfinite(y)):
        problems.append(f"forward {y!r} is not finite (the math is)")


def check_point(spec, point):
    """The problems found at one boundary point of ``spec`` (an empty list: it passes):
    the forward against NumPy, the derivatives against one-sided differences."""
    if point.raises:
        return _check_raises(spec, point)
    problems = []
    arrays = _point_arrays(point)
    with np.errstate(all="ignore"):
        y, v, g1, g2 = derivatives(spec, point)
        _forward_checks(problems, spec, point, y)
        if point.grad_finite and not all(np.all(np.isfinite(g)) for g in g1):
            problems.append(f"gradient {g1} is not finite (it does not depend on the values)")
        _differences(problems, "the gradient", (_projected(spec, point, arrays, v), arrays), g1, point)
        if g2 is not None:
            _differences(problems, "the second derivative", (_second_projected(spec, point, arrays, v), arrays),
                         g2, point)
    return problems


def check_torch(spec, point, ref):
    """The problems found comparing the point's forward and derivatives with PyTorch's
    (``ref``: the op in torch); none for points marked ``torch`` or ``raises``."""
    if point.raises or point.torch:
        return []
    from .torch_compare import compare
    with np.errstate(all="ignore"):
        y, v, g1, g2 = derivatives(spec, point)
    return compare(ref, point, y, g1, g2, v, _weights([np.shape(point.args[i]) for i in point.wrt]))


def derivatives(spec, point):
    """(output, cotangent v, gradients of sum(out * v), second derivatives: the gradients
    of sum(grad * w), or None where the second derivative is not checked), as arrays."""
    leaves, out, first, v = _first(spec, point)
    g1 = _arrays((first, leaves))
    if not (point.second and spec.eps <= 1e-6):
        return np.array(out.data, dtype=np.float64), v, g1, None
    leaves, _, first, _ = _first(spec, point, v, create_graph=True)
    w = _weights([t.shape for t in leaves])
    total = None
    for g, wk in zip(first, w):
        if isinstance(g, Tensor) and g.requires_grad:
            term = (g * wk).sum()
            total = term if total is None else total + term
    g2 = [np.zeros(t.shape) for t in leaves] if total is None else \
        _arrays((grad(total, leaves, allow_unused=True), leaves))
    return np.array(out.data, dtype=np.float64), v, g1, g2


def _projected(spec, point, arrays, v):
    def f():
        out = np.asarray(spec.fn(*_with(point, arrays), **point.kwargs).data, dtype=np.float64)
        return float(np.sum(out * v))
    return f


def _second_projected(spec, point, arrays, v):
    """``sum(grad * w)`` at ``arrays``' current values, for differencing."""
    w = _weights([a.shape for a in arrays])

    def g_of():
        sub = type(point)(_with(point, arrays), point.kwargs, point.wrt)
        _, _, gs, _ = _first(spec, sub, v)
        return float(sum(np.sum(a * wk) for a, wk in zip(_arrays((gs, arrays)), w)))
    return g_of


def _check_raises(spec, point):
    args, _ = _as_leaves(point)
    try:
        with np.errstate(all="ignore"):
            spec.fn(*args, **point.kwargs)
    except Exception as exc:  # noqa: BLE001  (any error type, if its message says what went wrong)
        if not re.search(point.raises, str(exc)):
            return [f"raised {type(exc).__name__}: {exc}, not matching {point.raises!r}"]
        return []
    return [f"did not raise (expected an error matching {point.raises!r})"]
