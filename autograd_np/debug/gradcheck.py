"""Gradient checking: the engine's gradients against central differences.

``numerical_gradient`` is the seeds' method; ``gradcheck`` uses it on every
input, in float64, after back-propagating a random cotangent (not all ones: an
all-ones cotangent cannot see a missing transpose on a square matrix).
"""
from __future__ import annotations

import numpy as np

from ..core import Tensor, grad

__all__ = ["numerical_gradient", "central_difference", "gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with the numerical one.

    Attributes: ``input_index``, ``index`` (worst element), ``analytic``,
    ``numeric``, ``abs_error``."""

    def __init__(self, message, input_index, index, analytic, numeric):
        super().__init__(message)
        self.input_index, self.index = input_index, index
        self.analytic, self.numeric = analytic, numeric
        self.abs_error = abs(analytic - numeric)


def numerical_gradient(f, x, eps=1e-4):
    """Central-difference gradient of the scalar function ``f`` at array ``x``.

    ``(f(x + eps e_i) - f(x - eps e_i)) / (2 eps)`` for every element ``i``, as in
    the seeds.  ``x`` is perturbed in place and restored; ``f`` may return a
    number, a 0-d array or a tensor.
    """
    x = np.asarray(x)
    if x.dtype.kind != "f":
        raise TypeError(f"numerical_gradient: x has dtype {x.dtype}; need a floating-point array")
    g = np.zeros_like(x)
    for idx in np.ndindex(*x.shape):
        old = x[idx]
        x[idx] = old + eps
        f_plus = _scalar(f(x))
        x[idx] = old - eps
        f_minus = _scalar(f(x))
        x[idx] = old
        g[idx] = (f_plus - f_minus) / (2 * eps)
    return g


def _scalar(v):
    return float(np.asarray(v.data if isinstance(v, Tensor) else v).reshape(()))


# A projected output's rounding error, relative to the sum of the magnitudes of its terms:
# a few dozen units in the last place, which covers a sum over the output's elements too.
ROUNDING = 32 * float(np.finfo(np.float64).eps)


def central_difference(evaluate, x, idx, eps):
    """``(numeric, noise)``: the central difference of ``evaluate()`` in element ``idx``
    of ``x`` (perturbed in place, restored), and the error its rounding can cause.

    ``evaluate()`` returns ``(value, magnitude)``: the function's value at ``x``'s
    current contents and the sum of the magnitudes of the terms it added up.  The
    step is ``eps * max(1, |x|)``, as SciPy's ``approx_derivative``: a fixed step
    is lost in the rounding of a large ``x`` (1e-6 against the 1.5e-8 spacing of
    floats at 1e8).  The difference is divided by the step actually taken (``x + h``
    is rounded), and ``noise`` is the rounding error of the two values over that
    step, which an honest tolerance must allow."""
    old = x[idx]
    h = eps * max(1.0, abs(float(old))) if np.isfinite(old) else eps
    x[idx] = old + h
    up = x[idx]
    f_plus, m_plus = evaluate()
    x[idx] = old - h
    down = x[idx]
    f_minus, m_minus = evaluate()
    x[idx] = old
    step = float(up) - float(down) if np.isfinite(old) else 2 * h  # (inf and NaN do not move)
    return (f_plus - f_minus) / step, ROUNDING * (m_plus + m_minus) / step


def _label(i, x):
    name = x.name if isinstance(x, Tensor) else None
    return f"input {i}" + (f" ({name!r})" if name else "")


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Check the engine's gradient of ``fn(*inputs)`` against central differences.

    ``inputs`` are arrays or tensors (checked on float64 copies, so float32 code
    is checked too).  A random cotangent ``v`` is back-propagated and compared
    with the numerical gradient of ``sum(fn(*inputs) * v)``.  Returns True, or
    raises ``GradcheckError`` naming the input, the worst element, the analytic
    and numeric values and the error.  An element passes when
    ``|analytic - numeric| <= atol + rtol * |numeric| + noise``, where the
    difference step is ``eps * max(1, |x|)`` and ``noise`` the rounding error of
    the differenced values over that step (``central_difference``): tolerances
    scale with the magnitudes, so ``sum(2 * x)`` passes at ``x = 1e8`` as at 1.
    """
    xs = []
    for i, x in enumerate(inputs):
        a = np.asarray(x.data if isinstance(x, Tensor) else x)
        if a.dtype.kind != "f":
            raise TypeError(f"gradcheck: {_label(i, x)} has dtype {a.dtype}; only floating inputs can be "
                            "checked (pass integer arguments such as labels through a closure)")
        xs.append(a.astype(np.float64))
    tensors = [Tensor(a.copy(), requires_grad=True) for a in xs]
    out = fn(*tensors)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn returned {type(out).__name__}; it must return a Tensor")
    cotangent = np.random.default_rng(seed).standard_normal(out.shape)
    cotangent.flags.writeable = False  # a VJP that writes into its upstream gradient fails loudly
    if out.requires_grad:
        analytic = grad(out, tensors, grad_outputs=[cotangent], allow_unused=True)
    else:  # fn did not use its inputs differentiably: its gradient is zero
        analytic = [None] * len(tensors)

    def projected(i, x):
        def f():
            args = [Tensor(x if j == i else a, requires_grad=True) for j, a in enumerate(xs)]
            terms = np.asarray(fn(*args).data, dtype=np.float64) * cotangent
            return float(np.sum(terms)), float(np.sum(np.abs(terms)))
        return f

    for i, (x, a) in enumerate(zip(xs, analytic)):
        a = np.zeros_like(x) if a is None else np.asarray(a.data, dtype=np.float64)
        x = x.copy()
        n, noise = np.zeros_like(x), np.zeros_like(x)
        for idx in np.ndindex(*x.shape):
            n[idx], noise[idx] = central_difference(projected(i, x), x, idx, eps)
        _compare(i, inputs[i], x, a, n, noise, atol, rtol)
    return True


def _compare(i, given, x, a, n, noise, atol, rtol):
    """Raise ``GradcheckError`` unless every ``|a - n| <= atol + rtol |n| + noise``."""
    err = np.abs(a - n)
    allowed = atol + rtol * np.abs(n) + noise
    excess = err - allowed
    failing = ~(excess <= 0) | ~np.isfinite(a)  # a NaN numeric gradient cannot vouch for anything
    if np.any(failing):
        idx = tuple(int(k) for k in np.unravel_index(int(np.argmax(np.where(failing, np.nan_to_num(
            excess, nan=np.inf, posinf=np.inf), -np.inf))), x.shape))
        bad = int(np.sum(failing))
        rel = err[idx] / max(abs(n[idx]), 1e-300)
        raise GradcheckError(
            f"gradcheck: gradient of {_label(i, given)}, shape {x.shape}, is wrong at index "
            f"{idx}:\n"
            f"  analytic  {float(a[idx])!r}\n  numeric   {float(n[idx])!r}\n"
            f"  abs error {err[idx]:.3e} (allowed {atol:.1e} + {rtol:.1e} * |numeric| + {noise[idx]:.1e} for "
            f"rounding = {allowed[idx]:.3e}), rel error {rel:.3e}\n"
            f"  {bad} of {x.size} elements outside tolerance",
            i, idx, float(a[idx]), float(n[idx]))


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Check second derivatives: ``gradcheck`` of a random projection of the
    first-order gradients, computed with ``create_graph=True``."""
    xs = [np.asarray(x.data if isinstance(x, Tensor) else x, dtype=np.float64) for x in inputs]
    rng = np.random.default_rng(seed + 1)
    out_shape = fn(*[Tensor(x, requires_grad=True) for x in xs]).shape
    cotangent = rng.standard_normal(out_shape)
    weights = [rng.standard_normal(x.shape) for x in xs]

    def first_order(*tensors):
        gs = grad(fn(*tensors), list(tensors), grad_outputs=[cotangent], create_graph=True, allow_unused=True)
        total = None
        for g, w in zip(gs, weights):
            if g is not None:
                term = (g * w).sum()
                total = term if total is None else total + term
        return total if total is not None else Tensor(0.0)

    return gradcheck(first_order, xs, eps=eps, atol=atol, rtol=rtol, seed=seed)
