"""Weight initializers, each drawing from a seeded ``numpy.random.Generator``.

The seeds' rule of thumb: Gaussian weights whose standard deviation depends
on the number of inputs ``n`` of the layer,

* He (for ReLU):       ``std = sqrt(2 / n)``
* Xavier (for sigmoid / tanh): ``std = sqrt(1 / n)``

and biases start at zero.  ``init`` arguments elsewhere in nets accept
``"he"``, ``"xavier"`` or a number (a fixed standard deviation, e.g. the
seeds' ``weight_init_std=0.01``)::

    rng = np.random.default_rng(0)
    W = nets.init.he((784, 128), rng)          # float32, std sqrt(2/784)
    W = nets.init.normal((784, 128), 0.01, rng)
"""
from __future__ import annotations

import numpy as np

from ..util import fields as _fields, validate as _validate

__all__ = ["rng_of", "check_init", "std_for", "normal", "he", "xavier", "zeros", "weights"]

_HE, _XAVIER = ("he", "relu"), ("xavier", "sigmoid", "tanh")
WEIGHT_BYTES = 16  # per element at the peak of a Gaussian draw: two float64 temporaries


def rng_of(rng=None, name="rng", who="nets.init.rng_of") -> np.random.Generator:
    """A Generator from ``rng``: a Generator (returned as is), a seed (an integer >= 0), or None
    (fresh entropy); anything else is refused naming ``who`` and ``name``."""
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(_validate.seed(rng, name, who))


def check_init(init, name="init", who="nets.init.check_init"):
    """``init`` as given when it is "he", "xavier" (or "relu", "sigmoid", "tanh"), or a finite
    standard deviation >= 0 (returned as a float); refused naming ``who`` and ``name`` otherwise."""
    if isinstance(init, str):
        if init.lower() not in _HE + _XAVIER:
            raise ValueError(f"{who}: unknown init {init!r} for {name}: use 'he', 'xavier' or a standard deviation "
                             "(a number)")
        return init
    return _validate.number(init, name, who, low=0,
                            wanted="'he', 'xavier' or a standard deviation (a finite number >= 0)")


def config_check(v, field):
    """An ``init`` in a checkpoint's config (JSON): one of the names above, or a number >= 0
    (``nets.util.fields``: raises ``Bad``)."""
    if isinstance(v, str):
        return _fields.text(v, field, choices=_HE + _XAVIER, lower=True)
    return _fields.number(v, field, lo=0)


def std_for(init, fan_in: int, name="init", who="nets.init.std_for") -> float:
    """Standard deviation for ``init`` ("he", "xavier", or a number) and ``fan_in`` inputs."""
    init = check_init(init, name, who)
    fan_in = _validate.integer(fan_in, "fan_in", who)
    if isinstance(init, str):
        return float(np.sqrt((2.0 if init.lower() in _HE else 1.0) / fan_in))
    return init


def _shape(shape, who, low=1):
    """A weight's shape, checked: an int or a sequence of ints >= ``low``, of a size that fits in memory."""
    dims = tuple(_validate.int_list([shape] if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool)
                                    else shape, "shape", who, min_len=1, low=low))
    _validate.allocation(who, f"shape={dims}", int(np.prod(dims, dtype=object)), WEIGHT_BYTES)
    return dims


def normal(shape, std: float, rng=None, dtype=np.float32, who="nets.init.normal", name="std") -> np.ndarray:
    """Gaussian array of ``shape`` with mean 0 and standard deviation ``std`` (``who`` and
    ``name``: the caller and its argument, for the messages)."""
    shape = _shape(shape, who, low=0)
    dtype, rng = _validate.float_dtype(dtype, "dtype", who), rng_of(rng, "rng", who)
    top = float(np.finfo(dtype).max) / 64  # no draw is 64 standard deviations out: none overflows the dtype
    std = _validate.number(std, name, who, low=0.0, high=top, wanted=f"a number in [0, {top:.3g}] for {dtype}")
    return (rng.standard_normal(shape) * std).astype(dtype)


def he(shape, rng=None, dtype=np.float32) -> np.ndarray:
    """He initialization for a weight of ``shape`` (fan_in = shape[0]): std sqrt(2 / fan_in)."""
    return weights(shape, "he", rng, dtype, who="nets.init.he")


def xavier(shape, rng=None, dtype=np.float32) -> np.ndarray:
    """Xavier initialization for a weight of ``shape`` (fan_in = shape[0]): std sqrt(1 / fan_in)."""
    return weights(shape, "xavier", rng, dtype, who="nets.init.xavier")


def weights(shape, init="he", rng=None, dtype=np.float32, who="nets.init.weights") -> np.ndarray:
    """A weight of ``shape`` initialized by ``init`` ("he", "xavier" or a std)."""
    shape = _shape(shape, who)
    return normal(shape, std_for(init, shape[0], "init", who), rng, dtype, who, "init")


def zeros(shape, dtype=np.float32) -> np.ndarray:
    """An array of zeros of ``shape`` (a bias's initial value), of a float ``dtype``."""
    shape = _shape(shape, "nets.init.zeros", low=0)
    return np.zeros(shape, dtype=_validate.float_dtype(dtype, "dtype", "nets.init.zeros"))
