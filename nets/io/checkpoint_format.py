"""Reading ``.npz`` archives without trusting them: the member reader behind ``nets.load``.

``read_archive(path)`` returns ``{name: array}`` for every member of the zip
archive at ``path``, or raises ``CheckpointError`` naming the file (and the
member) for anything that is not a plain, well-formed ``.npz`` of numbers:

* the path must be a regular, non-empty file (not a folder, a device, a fifo,
  a symlink loop or one of ``atomic_write``'s temporary files);
* the archive must be a zip whose members are ``<name>.npy``, each once,
  stored or deflated, not encrypted; a member's declared uncompressed size is
  checked before anything is inflated: stored members must declare their
  compressed size, deflated ones at most ``MAX_DEFLATE_RATIO`` times it (what
  deflate can reach at best), the compressed sizes together must fit in the
  file (no overlapping members), and all members together at most
  ``MAX_TOTAL_BYTES`` and the memory available;
* each member starts with the ``.npy`` magic (version 1.0 or 2.0) and a
  header of at most ``MAX_HEADER_BYTES``, parsed by ``numpy.lib.format``;
  the dtype must be bool, integer or floating (no object, structured,
  sub-array, string, complex or datetime dtype), except the JSON text
  members (``TEXT_MEMBERS``: a 0-d unicode array of at most
  ``MAX_TEXT_BYTES``); the header's shape times the item size, computed with
  Python integers, must equal the bytes the member really holds;
* the data is read with a bound (never more than that size), then viewed as
  the array (Fortran order honoured, converted to native byte order).

Nothing is ever unpickled and no array is allocated before its size has been
checked against the member that holds it.
"""
from __future__ import annotations

import errno
import io
import math
import os
import re
import stat
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

from ..util.memory import available_memory

__all__ = ["CheckpointError", "read_archive", "is_temporary", "TEXT_MEMBERS", "MAX_TOTAL_BYTES",
           "MAX_DEFLATE_RATIO", "MAX_MEMBERS", "MAX_HEADER_BYTES", "MAX_TEXT_BYTES"]

TEXT_MEMBERS = ("__nets__", "__training__")
MAX_MEMBERS = 100_000              # members of one archive
MAX_TOTAL_BYTES = 1 << 36          # 64 GiB: every member's uncompressed size together
MAX_DEFLATE_RATIO = 1032           # deflate's best case: 258 bytes from 2 bits
MAX_HEADER_BYTES = 10_000          # numpy's own bound on a .npy header
MAX_TEXT_BYTES = 64 << 20          # a JSON member, as UTF-32 in the array
MAX_NDIM = 32
_CHUNK = 1 << 22
_NUMERIC_KINDS = "biuf"            # bool, signed and unsigned integers, floating
# atomic_write's temporary files: ".<name>.<pid>-<host>-<8 random characters>.tmp" (the writer's process id
# and a hash of its host name), or ".<name>.<8 random characters>.tmp" as older versions named them
TEMPORARY = re.compile(r"\.(?P<target>.+)\.(?:(?P<pid>[1-9][0-9]{0,9})-(?P<host>[0-9a-f]{8})-)?[a-z0-9_]{8}\.tmp\Z")

# what zipfile, zlib and numpy raise on malformed input
_READ_ERRORS = (OSError, EOFError, ValueError, TypeError, KeyError, IndexError, OverflowError, SyntaxError,
                RecursionError, MemoryError, NotImplementedError, RuntimeError, struct.error, zlib.error,
                zipfile.BadZipFile, zipfile.LargeZipFile)


class CheckpointError(ValueError):
    """A checkpoint file is missing, unreadable or does not fit; the message names the file."""


def is_temporary(path) -> bool:
    """True for the name of one of ``atomic_write``'s temporary files."""
    return TEMPORARY.match(Path(path).name) is not None


def _fail(path, message):
    raise CheckpointError(f"{path}: {message}")


def open_regular(path: Path):
    """``path`` opened for reading, after checking that it is a non-empty regular file."""
    if is_temporary(path):
        _fail(path, "a temporary file of an unfinished write, not a checkpoint")
    try:
        st = os.stat(path)
    except FileNotFoundError:
        _fail(path, "checkpoint file not found")
    except OSError as exc:
        if exc.errno == errno.ENOTDIR:
            _fail(path, "checkpoint file not found (a parent is not a folder)")
        if exc.errno == errno.ELOOP:
            _fail(path, "cannot read: a loop of symbolic links")
        _fail(path, f"cannot read: {exc.strerror or exc}")
    except ValueError as exc:  # an embedded NUL byte
        _fail(path, f"not a valid path ({exc})")
    if stat.S_ISDIR(st.st_mode):
        _fail(path, "is a folder, not a checkpoint file")
    if not stat.S_ISREG(st.st_mode):
        _fail(path, "not a regular file (a device, fifo or socket), not a checkpoint")
    try:
        f = open(path, "rb")
    except OSError as exc:
        _fail(path, f"cannot read: {exc.strerror or exc}")
    st = os.fstat(f.fileno())
    if not stat.S_ISREG(st.st_mode):  # replaced meanwhile
        f.close()
        _fail(path, "not a regular file, not a checkpoint")
    if st.st_size == 0:
        f.close()
        _fail(path, "empty file, not a checkpoint")
    return f, st.st_size


def read_archive(path, data: bytes | None = None) -> dict:
    """Every member of the ``.npz`` at ``path`` as ``{name without .npy: array}``, checked
    as the module docstring says; any problem is a ``CheckpointError`` naming the file.
    With ``data`` (the file's bytes, read elsewhere: another rank's) those are read instead."""
    path = Path(path)
    if data is None:
        f, size = open_regular(path)
    elif not data:
        _fail(path, "empty file, not a checkpoint")
    else:
        f, size = io.BytesIO(data), len(data)
    with f:
        head = f.read(6)
        f.seek(0)
        if head == npy_format.MAGIC_PREFIX:
            _fail(path, "not a nets checkpoint (not an .npz archive): a single .npy array")
        if head[:2] != b"PK":
            _fail(path, "unreadable checkpoint: not a zip archive")
        try:
            with zipfile.ZipFile(f) as zf:
                infos = _check_directory(path, zf.infolist(), size)
                return {info.filename[:-4]: _read_member(path, zf, info) for info in infos}
        except CheckpointError:
            raise
        except _READ_ERRORS as exc:
            _fail(path, f"unreadable checkpoint: {_describe(exc)}")


def _describe(exc) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def _check_directory(path, infos, size):
    """The zip's members, checked before any is read (names, methods, declared sizes)."""
    if len(infos) > MAX_MEMBERS:
        _fail(path, f"unreadable checkpoint: {len(infos)} members, more than {MAX_MEMBERS}")
    seen, total, compressed = set(), 0, 0
    for info in infos:
        name = info.filename
        if name in seen:
            _fail(path, f"member {name!r}: appears twice in the archive")
        seen.add(name)
        if not name.endswith(".npy") or name.endswith("/") or len(name) <= 4:
            _fail(path, f"member {name!r}: not an .npy array")
        if info.flag_bits & 0x1:
            _fail(path, f"member {name!r}: encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            _fail(path, f"member {name!r}: compression method {info.compress_type} is not supported "
                        "(only stored or deflated)")
        declared, packed = info.file_size, info.compress_size
        if declared < 0 or packed < 0:
            _fail(path, f"member {name!r}: negative size in the zip directory")
        if info.compress_type == zipfile.ZIP_STORED and declared != packed:
            _fail(path, f"member {name!r}: stored uncompressed but declares {declared} bytes in {packed}")
        if declared > packed * MAX_DEFLATE_RATIO + 1024:
            _fail(path, f"member {name!r}: declares {declared} bytes from {packed} compressed bytes, more than "
                        "deflate can expand to (a zip bomb or a corrupt directory)")
        if info.header_offset < 0 or info.header_offset + packed > size:
            _fail(path, f"member {name!r}: lies outside the file ({size} bytes)")
        total += declared
        compressed += packed
    if compressed > size:
        _fail(path, f"unreadable checkpoint: the members' compressed sizes add up to {compressed} bytes, "
                    f"more than the file's {size} (overlapping members)")
    if total > MAX_TOTAL_BYTES:
        _fail(path, f"unreadable checkpoint: the members declare {total} bytes in all, more than the "
                    f"{MAX_TOTAL_BYTES} this loader accepts")
    free = available_memory()
    if free is not None and total > free:
        _fail(path, f"the members declare {total} bytes in all, more than the {free} bytes of memory available")
    return infos


def _read_header(where, m):
    """``(shape, fortran_order, dtype, header bytes)`` of the .npy member open as ``m``."""
    magic = m.read(8)
    if len(magic) < 8 or magic[:6] != npy_format.MAGIC_PREFIX:
        _fail(where, "not an .npy array (raw bytes)")
    version = (magic[6], magic[7])
    if version not in ((1, 0), (2, 0)):
        _fail(where, f".npy format version {version[0]}.{version[1]} is not supported (only 1.0 and 2.0)")
    fmt = "<H" if version == (1, 0) else "<I"
    raw_len = m.read(struct.calcsize(fmt))
    if len(raw_len) < struct.calcsize(fmt):
        _fail(where, "truncated .npy header")
    (header_len,) = struct.unpack(fmt, raw_len)
    if header_len > MAX_HEADER_BYTES:
        _fail(where, f".npy header of {header_len} bytes, more than {MAX_HEADER_BYTES}")
    header = m.read(header_len)
    if len(header) < header_len:
        _fail(where, "truncated .npy header")
    reader = npy_format.read_array_header_1_0 if version == (1, 0) else npy_format.read_array_header_2_0
    try:
        shape, fortran, dtype = reader(io.BytesIO(raw_len + header), max_header_size=MAX_HEADER_BYTES)
    except _READ_ERRORS as exc:
        _fail(where, f"bad .npy header: {_describe(exc)}")
    offset = 8 + len(raw_len) + header_len
    return shape, fortran, dtype, offset


def _check_dtype(where, dtype, text: bool):
    if dtype.hasobject:
        _fail(where, "holds Python objects (object dtype): never loaded, it would need pickle")
    if dtype.names is not None or dtype.subdtype is not None:
        _fail(where, f"structured dtype {dtype!s} is not an array of numbers")
    if text:
        if dtype.kind != "U":
            _fail(where, f"expected JSON text (a unicode string), found dtype {dtype!s}")
    elif dtype.kind not in _NUMERIC_KINDS:
        _fail(where, f"dtype {dtype!s} is not numeric (only bool, integer and floating arrays are loaded)")
    if dtype.itemsize <= 0:
        _fail(where, f"dtype {dtype!s} has no size")


def _read_member(path, zf, info):
    """One member as an array, after checking its header against its size."""
    where = f"{path}: member {info.filename!r}"
    text = info.filename[:-4] in TEXT_MEMBERS
    with zf.open(info) as m:
        shape, fortran, dtype, offset = _read_header(where, m)
        _check_dtype(where, dtype, text)
        if len(shape) > MAX_NDIM or any(isinstance(n, bool) or n < 0 for n in shape):
            _fail(where, f"shape {shape} is not valid")
        count = math.prod(shape)
        need = count * dtype.itemsize  # Python integers: no overflow
        have = info.file_size - offset
        if need != have:
            _fail(where, f"header says shape {shape} of {dtype!s} ({need} bytes) but the member holds "
                         f"{max(have, 0)} bytes of data")
        if text and (shape != () or need > MAX_TEXT_BYTES):
            _fail(where, f"expected one JSON string of at most {MAX_TEXT_BYTES} bytes, found shape {shape} "
                         f"({need} bytes)")
        buf = bytearray(need)  # justified: the zip directory's size for this member, checked above
        view, pos = memoryview(buf), 0
        while pos < need:
            got = m.readinto(view[pos:pos + _CHUNK])
            if not got:
                _fail(where, f"truncated: {pos} of {need} data bytes")
            pos += got
        if m.read(1):
            _fail(where, "more data than its declared size")
    array = np.frombuffer(buf, dtype=dtype, count=count) if count else np.empty(0, dtype=dtype)
    array = array.reshape(shape[::-1]).transpose() if fortran else array.reshape(shape)
    if not dtype.isnative:
        array = array.astype(dtype.newbyteorder("="))
    return array
