"""How the ranks of a distributed fit meet before each collective, so that none waits forever.

A blocking MPI collective cannot be interrupted: a rank that waits in one
for a rank that has left ``fit`` (an exception it caught, a different code
path) waits until the job is killed.  So before every collective the ranks
meet in a tiny non-blocking allreduce (``Rendezvous._meet``) that a waiting
rank polls, and only once every rank is there does the blocking collective
run (at full speed, with no user code left in between).

While it polls, a rank reads its notices: a rank leaving ``fit`` by an
exception (``left_by``) sends each other rank one message (tag
``NOTICE_TAG``), and a rank waiting for it raises ``RankFailed`` naming
that rank and its exception, within milliseconds.  Exceptions that every rank
raises together (marked by ``every_rank``) send nothing.

The meeting carries each rank's count of fits and collectives begun, so a
rank that meets another at a different place (one left a fit early and is
now in the next one) raises ``RankFailed`` instead of running a mismatched
collective.  A rank that raised ``RankFailed`` keeps a request that will
never complete: it is ``broken`` and refuses every later collective (and
tells the others), so the job must start anew.  A rank stuck in user code
makes the others wait: after ``timeout`` seconds they end the job.
"""
from __future__ import annotations

import sys
import time
from contextlib import contextmanager

import numpy as np

__all__ = ["Rendezvous", "RankFailed", "every_rank", "NOTICE_TAG"]

NOTICE_TAG = 7207
_SPIN = 0.002  # seconds a waiting rank polls without sleeping (then up to 10 ms between polls)
_EVERY_RANK = "_nets_raised_on_every_rank"
_HOOKED = False  # abort_on_exception is installed


class RankFailed(RuntimeError):
    """Another rank left the distributed fit by an exception while this one waited for it, or this
    rank's communicator is out of step with the others since such a failure."""


def every_rank(exc):
    """Mark ``exc`` as raised by every rank at the same point: leaving ``fit`` by it needs no notice."""
    setattr(exc, _EVERY_RANK, True)
    return exc


def _short(exc) -> str:
    text = " ".join(str(exc).split())
    text = text if len(text) <= 300 else text[:297] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class Rendezvous:
    """The meeting before each collective and the failure notices (a mix-in of ``World``).

    Expects ``comm``, ``rank``, ``size``, ``timeout``, ``_notices`` (the
    communicator of the notices), ``generation``, ``broken``, ``_step``, ``_sent``, ``_heard``
    (a notice kept for the next wait), ``abort`` and ``_mpi`` (see ``World``)."""

    def _me(self) -> str:
        return f"rank {self.rank} of {self.size}"

    def _meet(self, what: str):
        """Wait, polling, until every rank has come to the collective ``what``; raises
        ``RankFailed`` when a rank left fit meanwhile or the ranks are out of step."""
        if self.comm is None or self.size == 1:
            return
        if self.broken is not None:
            refusal = f"{self._me()} cannot take part in {what}: {self.broken}"
            self._notify(refusal)  # (another rank may be waiting for this one)
            raise every_rank(RankFailed(refusal))
        self._step += 1
        mpi = self._mpi()
        stamp = np.array([self.generation, self._step, -self.generation, -self._step], dtype=np.int64)
        self._wait(self.comm.Iallreduce(mpi.IN_PLACE, stamp, op=mpi.MAX), what)
        if stamp[0] != -stamp[2] or stamp[1] != -stamp[3]:
            self.broken = (f"the ranks are out of step at {what}: rank {self.rank} is at fit {self.generation}, "
                           f"collective {self._step}; the ranks span fits {-stamp[2]} to {stamp[0]}, collectives "
                           f"{-stamp[3]} to {stamp[1]}: a rank left an earlier distributed fit by an exception; "
                           "start a new job")
            cause = self._cause()
            if cause is not None:
                self.broken = f"{cause} (then the ranks met out of step at {what})"
            self._notify(f"{self._me()} is out of step: {self.broken}")
            raise every_rank(RankFailed(self.broken))

    def _cause(self, patience: float = 0.2):
        """The notice that explains why the ranks are out of step, if one comes within ``patience``
        seconds (it may arrive after the collective that showed it)."""
        end = time.monotonic() + patience
        while self._heard is None and time.monotonic() < end:
            self._heard = self._read_notice()
            time.sleep(0.001)
        heard, self._heard = self._heard, None
        return None if heard is None else heard[1]

    def _wait(self, request, what: str):
        start = time.monotonic()
        while not request.Test():
            if self._heard is None:
                self._heard = self._read_notice()
            # (a notice of a rank that joined this very collective before leaving is kept for the next one)
            if self._heard is not None and self._heard[0] >= self.generation and not request.Test():
                self.broken, self._heard = self._heard[1], None
                raise every_rank(RankFailed(f"{self.broken} (rank {self.rank} was waiting for it in {what})"))
            waited = time.monotonic() - start
            if self.timeout is not None and waited > self.timeout:
                self.abort(f"waited more than {self.timeout:g} s in {what}: another rank is stuck or gone "
                           "(NETS_MPI_TIMEOUT sets the limit)")
            if waited > _SPIN:
                time.sleep(min(0.01, waited / 20))

    def _read_notice(self):
        """The next notice that concerns this fit, as ``(generation, message)``, or None."""
        mpi = self._mpi()
        while self._notices.iprobe(source=mpi.ANY_SOURCE, tag=NOTICE_TAG):
            generation, message = self._notices.recv(source=mpi.ANY_SOURCE, tag=NOTICE_TAG)
            if generation is None:  # the rank's process is ending: it will join no collective again
                return float("inf"), message
            if generation >= self.generation:  # (older: from a fit that every rank left together)
                return generation, message
        return None

    def _notify(self, message: str, generation=False):
        """Tell every other rank that this one leaves the fit (non-blocking; never raises)."""
        try:
            self._sent = [r for r in self._sent if not r.Test()]
            note = (self.generation if generation is False else generation, message)
            for rank in range(self.size):
                if rank != self.rank:
                    self._sent.append(self._notices.isend(note, dest=rank, tag=NOTICE_TAG))
        except Exception as exc:  # noqa: BLE001  (the exception leaving fit matters more)
            sys.stderr.write(f"{self._me()}: could not tell the other ranks it leaves the fit: {exc}\n")

    def ending(self):
        """At the end of this process (``atexit``): a rank still waiting for this one raises
        ``RankFailed`` instead of waiting for ever (one that called fit with distributed=False, say)."""
        if self._notices is not None:
            self._notify(f"{self._me()} ended its process (without joining this collective)", generation=None)

    def left_by(self, exc: BaseException):
        """This rank leaves a distributed fit by ``exc``: the others, if waiting, raise RankFailed."""
        if self._notices is not None and not getattr(exc, _EVERY_RANK, False):
            self._notify(f"{self._me()} left the distributed fit by an exception: {_short(exc)}")

    def abort(self, message: str, code: int = 1):
        """Print ``message`` with this rank's name and end every rank of the job (MPI_Abort)."""
        sys.stderr.write(f"rank {self.rank} of {self.size}: {message}; aborting the job\n")
        sys.stderr.flush()
        if self.comm is not None:
            self.comm.Abort(code)

    @contextmanager
    def exit_aborts(self):
        """Inside: a SystemExit or KeyboardInterrupt on this rank ends every rank (it skips
        ``sys.excepthook``, and the other ranks would wait for this one)."""
        try:
            yield
        except (SystemExit, KeyboardInterrupt) as exc:
            if self.comm is not None and self.size > 1:
                self.abort(f"{type(exc).__name__}{f' {exc}' if str(exc) else ''} during a distributed fit")
            raise

    def abort_on_exception(self):
        """An uncaught exception on any rank prints its message and aborts every rank (no hang).
        Installed once per process (``world()`` and a distributed ``fit`` call it)."""
        global _HOOKED
        if self.comm is None or self.size == 1 or _HOOKED:
            return
        _HOOKED = True
        previous = sys.excepthook

        def hook(kind, exc, tb):
            previous(kind, exc, tb)
            self.abort(f"failed: {kind.__name__}: {exc}")
        sys.excepthook = hook
