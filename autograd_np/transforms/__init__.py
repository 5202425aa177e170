"""Function transforms: functions of functions (``value_and_grad``).  They may
import the core and the ops."""
from .functional import value_and_grad

__all__ = ["value_and_grad"]
