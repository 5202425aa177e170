"""Data parallelism over MPI (mpi4py, imported lazily): the world, batch sharding, gradient allreduce.

A plain ``python`` run is a world of one: nothing is imported and nothing changes.
Under ``mpirun -n K`` every rank holds the whole model, takes its slice of each
global batch, and the gradients are summed in one flat buffer per step.
"""
from __future__ import annotations

import os
import sys

import numpy as np

__all__ = ["World", "world", "in_mpi_environment"]

_ENV_SIZE = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE")


def in_mpi_environment() -> bool:
    """True when launched by mpirun/srun with more than one rank (Open MPI or PMI variables)."""
    return any(int(os.environ.get(name, "1") or 1) > 1 for name in _ENV_SIZE)


class World:
    """The ranks of a run: ``rank``, ``size`` and the collectives ``fit`` needs."""

    def __init__(self, comm=None):
        self.comm = comm
        self.rank = 0 if comm is None else comm.Get_rank()
        self.size = 1 if comm is None else comm.Get_size()

    @property
    def is_root(self) -> bool:
        return self.rank == 0

    def shard(self, xb, tb):
        """This rank's contiguous slice of a global batch (the same split on every rank)."""
        n = len(xb)
        lo, hi = self.rank * n // self.size, (self.rank + 1) * n // self.size
        return xb[lo:hi], tb[lo:hi]

    def allreduce_grads(self, params, local_n: int, global_n: int):
        """Replace each ``p.grad`` by the global batch's gradient.

        Each rank's loss is the mean over its shard, so its gradient is weighted by
        ``local_n / global_n`` and the weighted gradients summed: the mean over the
        global batch, exact up to the order of float additions."""
        if self.comm is None:
            return
        # NOTE: gradients may be ndarrays or Tensors; each gets back the kind it had.
        kinds = [p.grad for p in params]
        grads = [np.zeros_like(p.data) if g is None else (g if isinstance(g, np.ndarray) else np.asarray(g.data))
                 for p, g in zip(params, kinds)]
        flat = np.concatenate([g.ravel() for g in grads]) * grads[0].dtype.type(local_n / global_n)
        # NOTE: one buffer per step: K small allreduces would pay K latencies.
        self.comm.Allreduce(self._mpi().IN_PLACE, flat)
        offset = 0
        for p, g, kind in zip(params, grads, kinds):
            summed = flat[offset:offset + g.size].reshape(g.shape)
            p.grad = summed if kind is None or isinstance(kind, np.ndarray) else type(kind)(summed)
            offset += g.size

    def sum(self, values):
        """Elementwise sum of a list of floats over the ranks."""
        if self.comm is None:
            return list(values)
        buf = np.asarray(values, dtype=np.float64)
        self.comm.Allreduce(self._mpi().IN_PLACE, buf)
        return buf.tolist()

    def abort_on_exception(self):
        """An uncaught exception on any rank prints its message and aborts every rank (no hang)."""
        if self.comm is None:
            return
        previous = sys.excepthook

        def hook(kind, exc, tb):
            previous(kind, exc, tb)
            sys.stderr.write(f"rank {self.rank} of {self.size} failed: {kind.__name__}: {exc}; aborting the job\n")
            sys.stderr.flush()
            self.comm.Abort(1)
        sys.excepthook = hook

    @staticmethod
    def _mpi():
        from mpi4py import MPI
        return MPI


def world(distributed=None) -> World:
    """The world from the environment: ``distributed=None`` detects mpirun, False forces one rank."""
    if distributed is False or (distributed is None and not in_mpi_environment()):
        return World()
    try:
        from mpi4py import MPI
    except ImportError:
        raise ImportError("distributed training needs mpi4py: apt-get install openmpi-bin libopenmpi-dev; "
                          "pip install mpi4py (or pip install -e '.[mpi]')") from None
    w = World(MPI.COMM_WORLD)
    w.abort_on_exception()
    return w
