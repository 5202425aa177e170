"""Function transforms: functions that take a function and return another, as
``value_and_grad(f)`` returns a function giving ``f``'s value and gradient.
They may import the core and the ops."""
from .functional import value_and_grad

__all__ = ["value_and_grad"]
