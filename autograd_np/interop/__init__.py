"""NumPy on tensors: ``np.sum(t)``, ``np.exp(t)``, ``arr @ t`` reach the ops.

``dispatch.py`` is the protocol (NEP 13 ``__array_ufunc__`` and NEP 18
``__array_function__``) and the tables of what records, what gives plain
values and what is refused by name; ``adapters.py`` maps NumPy's signatures
onto the ops.  Importing this package installs the two protocol methods on
``Tensor``.  It may import the core and the ops.
"""
from ..core.tensor import Tensor
from . import adapters, dispatch
from .dispatch import FUNCTIONS, UFUNCS, VALUE_FUNCTIONS, VALUE_UFUNCS, array_function, array_ufunc

dispatch.BUILDER[0] = adapters.build  # the tables fill on the first NumPy call on a tensor
Tensor.__array_ufunc__ = dispatch.array_ufunc
Tensor.__array_function__ = dispatch.array_function

__all__ = ["dispatch", "array_ufunc", "array_function", "UFUNCS", "FUNCTIONS", "VALUE_UFUNCS", "VALUE_FUNCTIONS"]
