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

__all__ = ["rng_of", "std_for", "normal", "he", "xavier", "zeros", "weights"]


def rng_of(rng=None) -> np.random.Generator:
    """A Generator from ``rng``: a Generator (returned as is), a seed, or None (fresh entropy)."""
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


def std_for(init, fan_in: int) -> float:
    """Standard deviation for ``init`` ("he", "xavier", or a number) and ``fan_in`` inputs."""
    if isinstance(init, str):
        key = init.lower()
        if key in ("he", "relu"):
            return float(np.sqrt(2.0 / fan_in))
        if key in ("xavier", "sigmoid", "tanh"):
            return float(np.sqrt(1.0 / fan_in))
        raise ValueError(f"unknown init {init!r}: use 'he', 'xavier' or a standard deviation (a number)")
    std = float(init)
    if not std >= 0:
        raise ValueError(f"init standard deviation must be >= 0, got {init!r}")
    return std


def normal(shape, std: float, rng=None, dtype=np.float32) -> np.ndarray:
    """Gaussian array of ``shape`` with mean 0 and standard deviation ``std``."""
    return (rng_of(rng).standard_normal(shape) * std).astype(dtype)


def he(shape, rng=None, dtype=np.float32) -> np.ndarray:
    """He initialization for a weight of ``shape`` (fan_in = shape[0]): std sqrt(2 / fan_in)."""
    return normal(shape, std_for("he", shape[0]), rng, dtype)


def xavier(shape, rng=None, dtype=np.float32) -> np.ndarray:
    """Xavier initialization for a weight of ``shape`` (fan_in = shape[0]): std sqrt(1 / fan_in)."""
    return normal(shape, std_for("xavier", shape[0]), rng, dtype)


def weights(shape, init="he", rng=None, dtype=np.float32) -> np.ndarray:
    """A weight of ``shape`` initialized by ``init`` ("he", "xavier" or a std)."""
    return normal(shape, std_for(init, shape[0]), rng, dtype)


def zeros(shape, dtype=np.float32) -> np.ndarray:
    return np.zeros(shape, dtype=dtype)
