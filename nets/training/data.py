"""``DataLoader``: mini-batches of ``(x, t)`` arrays.

    loader = nets.DataLoader(x_train, t_train, batch_size=100, shuffle=True, rng=0)
    len(loader)                 # batches per epoch
    for x_batch, t_batch in loader:
        ...

With ``shuffle`` every pass over the loader draws a new permutation from its
seeded generator, so a given seed gives the same sequence of epochs.  The
generator's state (``loader.rng.bit_generator.state``) is what a training
checkpoint saves to resume exactly.
"""
from __future__ import annotations

import numpy as np

import autograd_np as ag

from ..layers.init import rng_of
from ..util import validate as _v

__all__ = ["DataLoader"]


def _rows(a, name):
    """``a`` as an array with a row per sample (a tensor's data, a list...)."""
    a = np.asarray(a.data if isinstance(a, ag.Tensor) else a)
    if a.ndim == 0 or a.dtype.kind not in "biuf":
        raise TypeError(f"DataLoader: {name} must be an array of numbers with a row per sample, got "
                        f"{a.dtype} of shape {a.shape}")
    return a


class DataLoader:
    """Iterate over ``(x[idx], t[idx])`` mini-batches.

    ``DataLoader(x, t, batch_size=100, shuffle=True, drop_last=False, rng=None)``:
    ``x`` and ``t`` are arrays with the same first dimension; ``rng`` is a seed
    or ``numpy.random.Generator`` used for shuffling; ``drop_last`` skips a
    final batch smaller than ``batch_size``.
    """

    def __init__(self, x, t, batch_size: int = 100, shuffle: bool = True, drop_last: bool = False, rng=None):
        x, t = _rows(x, "x"), _rows(t, "t")
        if len(x) != len(t):
            raise ValueError(f"DataLoader: x has {len(x)} rows but t has {len(t)}")
        self.x, self.t = x, t
        self.batch_size = _v.integer(batch_size, "batch_size", "DataLoader", wanted="positive (an integer >= 1)")
        self.shuffle, self.drop_last = _v.flag(shuffle, "shuffle", "DataLoader"), _v.flag(drop_last, "drop_last",
                                                                                           "DataLoader")
        self.rng = rng_of(rng, "rng", "DataLoader")

    def __len__(self):
        n = len(self.x)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    @property
    def num_samples(self) -> int:
        return len(self.x)

    def __iter__(self):
        n = len(self.x)
        order = self.rng.permutation(n) if self.shuffle else None
        for b in range(len(self)):
            lo, hi = b * self.batch_size, min((b + 1) * self.batch_size, n)
            if order is None:
                yield self.x[lo:hi], self.t[lo:hi]
            else:
                idx = order[lo:hi]
                yield self.x[idx], self.t[idx]

    def __repr__(self):
        return (f"DataLoader({len(self.x)} samples, batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last})")
