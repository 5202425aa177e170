"""Atomic file writes that a kill cannot leave half done: ``atomic_write`` and ``remove_stale_temporaries``.

``atomic_write(path, write)`` never leaves a broken file at ``path``: the data
goes to a file in the same folder, is flushed and fsync'ed, and only then
``os.replace``s the target.  What a kill (even SIGKILL) leaves behind:

* on Linux the file is made with ``O_TMPFILE``: it has no name while it is
  written, so a kill mid-write leaves nothing at all (the kernel frees it).
  It is linked under a temporary name only once complete, for the instant
  before the rename (locked, like below);
* elsewhere (or on a file system without ``O_TMPFILE``) it is a named
  temporary ``.<name>.<pid>-<host>-XXXXXXXX.tmp`` from the start.

Either way the named temporary carries its writer's process id and a hash of
its host name, and is locked (``flock``) by its writer until the rename.  The
next save or load in that folder (``remove_stale_temporaries``) removes every
temporary whose lock it can take and whose writer, on this host, is dead:
at once, so a killed write's temporary never outlives the next save or load.
A temporary whose writer it cannot check (another host sharing the folder,
or one named by an older version without a pid) goes once its lock is free
and it has not been written for ``STALE_AFTER`` seconds.  A live writer's
file is never removed: it holds the lock.
"""
from __future__ import annotations

import errno
import hashlib
import os
import secrets
import socket
import stat
import tempfile
import time
from pathlib import Path

try:
    import fcntl
except ImportError:  # not POSIX: stale temporaries are recognised by age alone
    fcntl = None

from .checkpoint_format import TEMPORARY

__all__ = ["atomic_write", "remove_stale_temporaries", "STALE_AFTER"]

STALE_AFTER = 2.0  # seconds without a write before an unlocked temporary of an unknown writer counts as abandoned
_O_TMPFILE = getattr(os, "O_TMPFILE", None)
_HOST = hashlib.blake2b(socket.gethostname().encode("utf-8", "replace"), digest_size=4).hexdigest()
_LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789_"  # tempfile.mkstemp's


class _CannotLink(Exception):
    """The anonymous file is complete but cannot be given a name (no /proc): write it again, named."""


def _temporary_name(name: str) -> str:
    """``.<name>.<pid>-<host>-<8 random characters>.tmp``, as ``checkpoint_format.TEMPORARY`` reads it."""
    return f".{name}.{os.getpid()}-{_HOST}-{''.join(secrets.choice(_LETTERS) for _ in range(8))}.tmp"


def _writer_alive(match) -> bool | None:
    """Whether the process that named this temporary still runs (None: cannot tell, e.g. another host)."""
    if match["pid"] is None or match["host"] != _HOST or os.name != "posix":
        return None
    try:
        os.kill(int(match["pid"]), 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, as another user's process
        return True
    except (OSError, OverflowError, ValueError):
        return None
    return True


def remove_stale_temporaries(path, older_than: float | None = None) -> list:
    """Delete the temporary files that killed writes left next to ``path``; returns those removed.

    Candidates are the regular files in ``path``'s folder named like
    ``atomic_write``'s temporaries whose target is ``path`` itself or another
    ``.npz`` file.  One is removed only if its lock can be taken (a live
    writer holds it from before the file has a name, or from creation, to the
    rename; the kernel drops it when the writer dies, even by SIGKILL), and
    either its writer is a dead process of this host, or it has not been
    written for ``older_than`` seconds (``STALE_AFTER``; this covers a writer
    we cannot check, and the instant between a named temporary's creation and
    its lock).  Errors (a read-only folder, a file that vanished) are
    ignored: cleaning up never fails a save or load."""
    path = Path(path)
    limit = STALE_AFTER if older_than is None else older_than
    if fcntl is None:
        limit = max(limit, 3600.0)
    removed = []
    try:
        entries = list(os.scandir(path.parent))
    except (OSError, ValueError):
        return removed
    now = time.time()
    for entry in entries:
        m = TEMPORARY.match(entry.name)
        if m is None or (m["target"] != path.name and not m["target"].endswith(".npz")):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode):
                continue
            if (_writer_alive(m) is False or now - st.st_mtime >= limit) and _unlink_if_abandoned(entry.path, st):
                removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


def _unlink_if_abandoned(name, st) -> bool:
    fd = os.open(name, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:  # EWOULDBLOCK: a live process is writing it
                return False
        mine, now = os.fstat(fd), os.stat(name, follow_symlinks=False)
        if (mine.st_dev, mine.st_ino) != (st.st_dev, st.st_ino) or (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
            return False
        os.unlink(name)
        return True
    finally:
        os.close(fd)


def _lock(fd):
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a new file: nobody else holds it


def _fill(fd, write):
    """``write(f)`` into the open file ``fd``, then flush and fsync it (readable by all, as a saved file is)."""
    with os.fdopen(fd, "wb", closefd=False) as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())
    os.fchmod(fd, 0o644)


def _anonymous(folder):
    """A file in ``folder`` with no name yet (Linux's O_TMPFILE), or None where there is none."""
    if _O_TMPFILE is None or fcntl is None:
        return None
    try:
        return os.open(folder, _O_TMPFILE | os.O_WRONLY, 0o600)
    except OSError:  # a file system without it (EOPNOTSUPP), or an old kernel (EISDIR): a named temporary
        return None


def _name_anonymous(fd, folder, name) -> Path:
    """Link the anonymous file ``fd`` into ``folder`` under a new temporary name for ``name``."""
    dfd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        for _ in range(100):
            tmp = _temporary_name(name)
            try:  # (a dst_dir_fd makes Python call linkat, which can follow the /proc link)
                os.link(f"/proc/self/fd/{fd}", tmp, dst_dir_fd=dfd, follow_symlinks=True)
                return Path(folder) / tmp
            except FileExistsError:
                continue
            except OSError as exc:  # no /proc, or no linkat
                raise _CannotLink() from exc
        raise FileExistsError(errno.EEXIST, "no free temporary name", str(Path(folder) / tmp))
    finally:
        os.close(dfd)


def _write_anonymous(fd, path, write):
    """Fill the anonymous file ``fd``, then name it (locked) and rename it over ``path``; closes ``fd``."""
    try:
        _lock(fd)
        _fill(fd, write)
        tmp = _name_anonymous(fd, path.parent, path.name)
        try:
            os.replace(tmp, path)
        except BaseException:
            _unlink_quietly(tmp)
            raise
    finally:
        os.close(fd)


def _write_named(path, write):
    fd, tmp = tempfile.mkstemp(prefix=_temporary_name(path.name)[:-len("xxxxxxxx.tmp")], suffix=".tmp",
                               dir=path.parent)
    try:
        _lock(fd)
        _fill(fd, write)
        os.replace(tmp, path)
    except BaseException:
        _unlink_quietly(tmp)
        raise
    finally:
        os.close(fd)


def _unlink_quietly(name):
    try:
        os.unlink(name)
    except FileNotFoundError:
        pass


def atomic_write(path, write):
    """Call ``write(f)`` on a new binary file next to ``path``, fsync it, then atomically
    replace ``path``; returns ``path``.  On any error nothing is left behind and ``path``
    is as it was; after a kill, see the module docstring (``remove_stale_temporaries`` is
    called first, here and by every load)."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a folder, not a file that can be replaced", str(path))
    remove_stale_temporaries(path)
    fd = _anonymous(path.parent)
    try:
        if fd is None:
            _write_named(path, write)
        else:
            _write_anonymous(fd, path, write)
    except _CannotLink:  # (no /proc mounted) the same data again, under a name from the start, as from now on
        global _O_TMPFILE
        _O_TMPFILE = None
        _write_named(path, write)
    try:  # make the rename itself durable
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass
    return path
