"""Data parallelism over MPI (mpi4py, imported lazily): ``world`` (the ranks, batch sharding,
the gradient allreduce, failures that end every rank), ``agreement`` (what the ranks must
agree on before and during a distributed fit) and ``rendezvous`` (collectives that notice a
failed rank).  See ``nets.distributed.world`` for the whole story.  May import ``nets.layers``
(to describe a model) and ``nets.util``, nothing else of nets: ``fit`` and the command line use it."""
from .rendezvous import RankFailed
from .world import (DEFAULT_TIMEOUT, INSTALL, TIMEOUT_ENV, RanksDisagree, World, _ENV_SIZE, _timeout_from_env,
                    active, check_data, check_run, guard_fit, in_mpi_environment, world)

__all__ = ["World", "world", "in_mpi_environment", "active", "RanksDisagree", "RankFailed", "guard_fit",
           "check_data", "check_run", "DEFAULT_TIMEOUT", "TIMEOUT_ENV", "INSTALL"]
