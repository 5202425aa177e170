"""Data parallelism over MPI (mpi4py, imported lazily): the world, batch sharding, gradient allreduce.

    mpirun -n 4 python -m nets train --dataset fashion-mnist     # the CLI takes the world from mpirun
    history = nets.fit(model, opt, train, test, distributed=True)  # or in your own script under mpirun

A plain ``python`` run is a world of one: nothing is imported and nothing changes.
Under ``mpirun -n K`` every rank holds the whole model and draws the same global
batches (one seed, broadcast when none is given); rank r takes the r-th
contiguous slice of each.  After backward the gradients, weighted by each
shard's share of the batch, are summed in one flat buffer per step, so every
rank steps its optimizer with the global batch's gradient.  Rank 0's weights
and generator states are broadcast at the start; rank 0 alone prints, writes
checkpoints and runs the callbacks marked ``root_only`` (the file loggers).

Batch norm keeps per-rank batch statistics (as PyTorch's DDP without
SyncBatchNorm): a rank normalises its shard by the shard's mean and variance,
and the running statistics are averaged over the ranks after every epoch, so
evaluation and checkpoints are the same on every rank.  Dropout draws its masks
from a generator per rank, derived from rank 0's at the start of every epoch, so
masks differ between ranks and a checkpoint resumes them exactly.

Messages between the ranks of one job are mpi4py's collectives (small Python
objects for signatures and generator states); checkpoint files are read as
bytes by rank 0 and broadcast, so the ranks need no shared folder.

Agreement: before training the ranks compare everything that decides the
trajectory (``nets.distributed.agreement``: all of the data, the architecture, the
optimizer and its state, the callbacks' settings, fit's arguments), and after
every epoch a digest of the weights and optimizer state; a difference is a
``RanksDisagree`` on every rank naming the field and the ranks' values.

Failure (``nets.distributed.rendezvous``): no rank blocks in MPI waiting for another.
A rank that leaves ``fit`` by an exception, caught or not, tells the others,
and those waiting for it raise ``RankFailed`` within milliseconds; a rank
stuck in user code makes the others end the job after ``NETS_MPI_TIMEOUT``
seconds.
"""
from __future__ import annotations

import atexit
import functools
import os

import numpy as np

from . import agreement as _agreement
from .rendezvous import RankFailed, Rendezvous, every_rank as _every_rank

__all__ = ["World", "world", "in_mpi_environment", "active", "RanksDisagree", "RankFailed", "guard_fit",
           "check_data", "check_run"]

_ENV_SIZE = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE")
TIMEOUT_ENV = "NETS_MPI_TIMEOUT"  # seconds a rank may wait in one collective; 0 turns the watchdog off
#: Seconds a rank waits in one collective when ``NETS_MPI_TIMEOUT`` is not set.
DEFAULT_TIMEOUT = 1800.0
_CHUNK = 1 << 30  # bytes per Bcast of a checkpoint
#: What to install for data-parallel training (the messages say it).
INSTALL = ("apt-get install openmpi-bin libopenmpi-dev; pip install mpi4py (or pip install -e '.[mpi]')")
_ACTIVE = None  # the World of this process once world() has joined MPI


class RanksDisagree(ValueError):
    """The ranks of a distributed fit were given different data, arguments or models.

    ``field``: the first field that differs (``"optimizer.lr"``, ``"data.train.t"``, ...);
    ``fields``: every one that differs; ``values``: ``{rank: value}`` of the first, shortened."""

    def __init__(self, message, field=None, fields=(), values=None):
        super().__init__(message)
        self.field, self.fields, self.values = field, list(fields), dict(values or {})


def in_mpi_environment() -> bool:
    """True when launched by mpirun/srun with more than one rank (Open MPI or PMI variables)."""
    for name in _ENV_SIZE:
        try:
            if int(os.environ.get(name, "1") or 1) > 1:
                return True
        except ValueError:
            continue
    return False


def _timeout_from_env() -> float | None:
    text = os.environ.get(TIMEOUT_ENV, "").strip()
    if not text:
        return DEFAULT_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{TIMEOUT_ENV}={text!r}: not a number of seconds (0 turns the watchdog off)") from None
    if value != value or value < 0:
        raise ValueError(f"{TIMEOUT_ENV}={text!r}: must be 0 (off) or a positive number of seconds")
    return value or None


class World(Rendezvous):
    """The ranks of a run: ``rank``, ``size`` and the collectives ``fit`` needs.

    ``World()`` is a world of one, where every collective is the identity.
    ``World(comm, timeout=T)``: a rank waiting in one collective for more than
    T seconds aborts the job, saying so (``world()`` takes T from
    ``NETS_MPI_TIMEOUT``, 1800 by default; None or 0: no limit).  Failure
    notices travel on ``comm`` as messages with tag ``NOTICE_TAG`` (7207):
    code of yours that receives with ``ANY_TAG`` on it could take one."""

    def __init__(self, comm=None, timeout: float | None = None):
        self.rank = 0 if comm is None else comm.Get_rank()
        self.size = 1 if comm is None else comm.Get_size()
        self.comm = comm
        self.timeout = float(timeout) if timeout else None
        self.generation = 0  # distributed fit calls begun on this rank (guard_fit counts them)
        self.broken = None  # why this rank can take part in no more collectives
        self._step = 0  # collectives begun
        self._sent = []  # notices on their way (their buffers must live until sent)
        self._heard = None  # a notice kept for the next wait
        # (not a Dup: creating a communicator is a collective that a missing rank would block for ever)
        self._notices = comm if comm is not None and self.size > 1 else None
        if self._notices is not None:
            atexit.register(self.ending)

    @property
    def is_root(self) -> bool:
        return self.rank == 0

    def __repr__(self):
        return f"World(rank {self.rank} of {self.size})"

    # --- sharding --------------------------------------------------------------------------
    def shard_range(self, n: int) -> tuple[int, int]:
        """``(lo, hi)`` of this rank's contiguous slice of ``n`` samples (sizes differ by at most one)."""
        return self.rank * n // self.size, (self.rank + 1) * n // self.size

    def shard(self, xb, tb):
        """This rank's contiguous slice of a global batch (the same split on every rank)."""
        lo, hi = self.shard_range(len(xb))
        return xb[lo:hi], tb[lo:hi]

    # --- collectives -----------------------------------------------------------------------
    def allreduce_grads(self, params, local_n: int, global_n: int, loss: float = 0.0) -> float:
        """Replace each ``p.grad`` by the global batch's gradient; returns the global batch's loss.

        Each rank's loss is the mean over its shard, so its gradient (and ``loss``)
        is weighted by ``local_n / global_n`` and the weighted values summed: the
        mean over the global batch, exact up to the order of float additions.  A
        rank with an empty shard passes no gradients (None) and contributes zero;
        a parameter that has no gradient on any rank keeps None, as in one process
        (an optimizer then leaves it alone: no weight decay or momentum step)."""
        if self.comm is None:
            return float(loss)
        kinds = [p.grad for p in params]
        grads = [np.zeros_like(p.data) if g is None else (g if isinstance(g, np.ndarray) else np.asarray(g.data))
                 for p, g in zip(params, kinds)]
        dtype = np.result_type(*grads) if grads else np.float64
        weight = local_n / global_n
        # NOTE: one buffer per step: the gradients, then how many ranks have each, then the loss
        # (K small allreduces would pay K latencies).
        size = sum(g.size for g in grads)
        flat = np.empty(size + len(grads) + 1, dtype=dtype)
        offset = 0
        for g in grads:
            np.multiply(g.ravel(), weight, out=flat[offset:offset + g.size], casting="unsafe")
            offset += g.size
        flat[size:size + len(grads)] = [kind is not None for kind in kinds]
        flat[-1] = loss * weight
        self._meet("Allreduce")
        self.comm.Allreduce(self._mpi().IN_PLACE, flat)
        offset = 0
        for i, (p, g, kind) in enumerate(zip(params, grads, kinds)):
            summed = flat[offset:offset + g.size].reshape(g.shape).astype(g.dtype, copy=False)
            offset += g.size
            if flat[size + i] == 0:  # no rank has one
                p.grad = None
            elif kind is None or isinstance(kind, np.ndarray):
                p.grad = summed
            else:
                p.grad = type(kind)(summed)
        return float(flat[-1])

    def sum(self, values):
        """Elementwise sum of a list of floats over the ranks (float64)."""
        if self.comm is None:
            return [float(v) for v in values]
        buf = np.asarray(values, dtype=np.float64)
        self._meet("Allreduce")
        self.comm.Allreduce(self._mpi().IN_PLACE, buf)
        return buf.tolist()

    def bcast(self, obj):
        """Rank 0's ``obj`` (a small Python object) on every rank."""
        if self.comm is None:
            return obj
        self._meet("bcast")
        return self.comm.bcast(obj, root=0)

    def bcast_bytes(self, data: bytes | None) -> bytes | None:
        """Rank 0's bytes (or None) on every rank, as one buffer after its size."""
        if self.comm is None:
            return data
        size = np.array([-1 if data is None else len(data)], dtype=np.int64)
        self._meet("Bcast")
        self.comm.Bcast(size, root=0)
        if size[0] < 0:
            return None
        buf = np.frombuffer(data, dtype=np.uint8).copy() if self.is_root else np.empty(int(size[0]), np.uint8)
        for lo in range(0, len(buf), _CHUNK):  # (an MPI count is a C int: 2 GiB at most per call)
            self.comm.Bcast(buf[lo:lo + _CHUNK], root=0)
        return buf.tobytes()

    def on_root(self, fn, errors=()):
        """``fn()`` on rank 0 alone, its result kept there (None elsewhere).  An exception
        there is raised on every rank: the same one on rank 0, and on the others the same
        class when it is one of ``errors`` (else a RuntimeError), with rank 0's message."""
        result, failure = None, None
        if self.is_root:
            try:
                result = fn()
            except Exception as exc:  # noqa: BLE001  (re-raised below, on every rank)
                failure = exc
        status = self.bcast(None if failure is None else (type(failure).__name__, str(failure)))
        if failure is not None:
            raise _every_rank(failure)
        if status is not None:
            kind = next((cls for cls in errors if cls.__name__ == status[0]), None)
            if kind is not None:
                raise _every_rank(kind(status[1]))
            raise _every_rank(RuntimeError(f"rank 0 failed: {status[0]}: {status[1]}"))
        return result

    def any(self, flag: bool) -> bool:
        """True on every rank when ``flag`` is true on some rank."""
        if self.comm is None:
            return bool(flag)
        self._meet("allgather")
        return any(self.comm.allgather(bool(flag)))

    def agree(self, fields: dict, when: str = "before training", hint: str = ""):
        """Raise ``RanksDisagree`` on every rank unless each field's value (JSON values, see
        ``nets.distributed.agreement``) is the same on every rank; the message names the fields that
        differ and, for the first, each rank's value."""
        if self.comm is None or self.size == 1:
            return
        mine = {k: _agreement.digest(v) for k, v in fields.items()}
        self._meet("allgather")
        digests = self.comm.allgather(mine)
        names = list(dict.fromkeys(k for d in digests for k in d))
        odd = [k for k in names if len({d.get(k) for d in digests}) > 1]
        if not odd:
            return
        values = self.comm.allgather(fields.get(odd[0], "<none>"))  # the first field in full, to say where
        raise _every_rank(RanksDisagree(_agreement.message(odd, values, digests, when, hint), odd[0], odd,
                                        dict(enumerate(values))))

    def check_same(self, what: str, value):
        """Raise ``RanksDisagree`` on every rank unless ``value`` is equal on all of them."""
        self.agree({what: _agreement.describe(value)})

    # --- model state -----------------------------------------------------------------------
    def broadcast_model(self, model):
        """Give every rank rank 0's weights and buffers (after checking they have the same ones)."""
        if self.comm is None:
            return
        self.agree(_agreement.model_fields(model), when="")
        state = model.state_dict()
        self._meet("Bcast")
        for name, array in state.items():
            buf = np.ascontiguousarray(array)
            self.comm.Bcast(buf, root=0)
            state[name] = buf
        model.load_state_dict(state)

    def average_buffers(self, model):
        """Average the floating buffers (batch norm's running statistics) over the ranks, in place.

        A value that is the same on every rank stays exactly as it is (a sum
        divided by K need not give it back)."""
        if self.comm is None:
            return
        buffers = [b for _, b in model.named_buffers() if np.issubdtype(b.dtype, np.floating)]
        if not buffers:
            return
        flat = np.concatenate([b.ravel().astype(np.float64) for b in buffers])
        spread = np.concatenate([flat, -flat])  # the largest value, and minus the smallest
        self._meet("Allreduce")
        self.comm.Allreduce(self._mpi().IN_PLACE, spread, op=self._mpi().MAX)
        same = spread[:flat.size] == -spread[flat.size:]
        mean = flat.copy()
        self.comm.Allreduce(self._mpi().IN_PLACE, mean)
        mean /= self.size
        offset = 0
        for b in buffers:  # in place: a compiled step holds these very arrays
            part = slice(offset, offset + b.size)
            b[...] = np.where(same[part], flat[part], mean[part]).reshape(b.shape)
            offset += b.size

    def end_epoch(self, model, optimizer, epoch: int):
        """After an epoch: average the buffers, then check that every rank holds the same weights
        and optimizer state (they step together, so bit for bit): a ``RanksDisagree`` names
        what differs, e.g. a learning rate a callback set from the rank."""
        if self.comm is None or self.size == 1:
            return
        self.average_buffers(model)
        self.agree(_agreement.state_fields(model, optimizer), when=f"after epoch {epoch + 1}",
                   hint="the ranks stepped differently although the settings compared before training agreed: "
                        "something that reads the rank, or per-rank random state, changed the training")

    def spread_generators(self, modules: dict):
        """Re-derive each rank's dropout generators from rank 0's current states.

        Rank 0 keeps its generators (a world of one draws as before); rank r > 0
        seeds each, in place, from a SeedSequence of rank 0's state with spawn key
        ``(r,)``: different masks per rank, fixed by what rank 0 saves."""
        if self.comm is None or not modules:
            return
        states = self.bcast({name: m.rng.bit_generator.state for name, m in modules.items()}
                            if self.is_root else None)
        if self.is_root:
            return
        for name, module in modules.items():
            kind = type(module.rng.bit_generator)
            source = kind()
            source.state = states[name]
            entropy = [int(e) for e in np.random.Generator(source).integers(0, 2**63, size=4)]
            module.rng.bit_generator.state = kind(np.random.SeedSequence(entropy, spawn_key=(self.rank,))).state

    @staticmethod
    def _mpi():
        from mpi4py import MPI
        return MPI


def check_data(world: World, train, val=None, test=None):
    """Raise ``RanksDisagree`` unless every rank holds the same train, val and test arrays
    (shapes, dtypes and a hash of every element)."""
    if world.size > 1:
        world.agree(_agreement.data_fields(train=train, val=val, test=test))


def check_run(world: World, model, optimizer, callbacks, metrics, loader, **fit_args):
    """Raise ``RanksDisagree`` unless the optimizer (class, settings, state, tensors), the
    callbacks (classes, and the settings of those every rank runs), the metrics, the batching
    and ``fit_args`` are the same on every rank (``nets.distributed.agreement.run_fields``)."""
    if world.size > 1:
        world.agree(_agreement.run_fields(model, optimizer, callbacks, metrics, loader, **fit_args))


def guard_fit(fit):
    """Decorate ``fit`` so that a rank leaving a distributed fit by an exception, caught or not,
    makes the others (waiting for it) raise ``RankFailed`` at once; SystemExit and Ctrl-C end the job."""
    @functools.wraps(fit)
    def guarded(*args, **kwargs):
        try:
            w = world(kwargs.get("distributed"))
        except (TypeError, ValueError, ImportError):
            w = None  # fit raises it
        if w is None or w.comm is None or w.size == 1:
            return fit(*args, **kwargs)
        w.generation += 1
        try:
            with w.exit_aborts():
                return fit(*args, **kwargs)
        except BaseException as exc:
            w.left_by(exc)
            raise
    return guarded


def world(distributed=None) -> World:
    """The world of this process.

    ``distributed=None`` (the default) joins MPI when launched by mpirun with more
    than one rank and is a world of one otherwise; ``True`` joins MPI always (a
    one-rank ``mpirun -n 1`` too; it needs mpi4py); ``False`` is a world of one
    even under mpirun (independent runs); a ``World`` is used as it is."""
    global _ACTIVE
    if isinstance(distributed, World):
        return distributed
    if distributed not in (None, True, False):
        raise TypeError(f"distributed must be None, True, False or a nets.distributed.World, got {distributed!r}")
    if distributed is False or (distributed is None and not in_mpi_environment()):
        return World()
    if _ACTIVE is None:
        try:
            from mpi4py import MPI
        except ImportError:
            raise ImportError(f"distributed training needs mpi4py: {INSTALL}") from None
        _ACTIVE = World(MPI.COMM_WORLD, timeout=_timeout_from_env())
        _ACTIVE.abort_on_exception()
    return _ACTIVE


def active() -> World | None:
    """The World this process has joined (None before ``world()`` joined MPI)."""
    return _ACTIVE
