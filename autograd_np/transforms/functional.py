"""The functional form of differentiation: ``value_and_grad``."""
from __future__ import annotations

from ..core import Tensor, grad

__all__ = ["value_and_grad"]


def value_and_grad(fn, argnums=0):
    """``value_and_grad(fn)(*args) -> (value, gradient(s))``, the functional form.

    ``argnums`` (int or tuple) picks the arguments to differentiate; they may be
    arrays or tensors.  Gradients are returned as arrays.
    """
    many = isinstance(argnums, (tuple, list))
    nums = tuple(argnums) if many else (argnums,)

    def wrapped(*args):
        args = list(args)
        for i in nums:
            args[i] = Tensor(args[i].data if isinstance(args[i], Tensor) else args[i], requires_grad=True)
        value = fn(*args)
        gs = [g.data for g in grad(value, [args[i] for i in nums])]
        return value.data, (tuple(gs) if many else gs[0])

    return wrapped
