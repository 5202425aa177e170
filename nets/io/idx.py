"""The IDX format (MNIST's files), read without trusting the file: ``read(path, expect_ndim,
max_bytes)``, plain or gzip-compressed.  Every problem is a ``DatasetError`` naming the file.
``nets.io.datasets.read_idx`` reads with its ``MAX_IDX_BYTES`` as the bound."""
from __future__ import annotations

import gzip
import math
import os
import stat
import zlib
from pathlib import Path

import numpy as np

__all__ = ["DatasetError", "read"]

# IDX type byte -> NumPy big-endian dtype
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_DEFLATE_RATIO = 1032     # the most deflate can expand: a gzip file of n bytes holds at most ~1032 n
_CHUNK = 1 << 20


class DatasetError(ValueError):
    """A data set cannot be read; the message names the file or folder."""


def _open_idx(path: Path):
    """``(stream, file, plain size or None, file size)`` for the regular file at ``path``:
    ``stream`` reads through ``gzip`` when the file starts with the gzip magic (whatever
    the name says; the plain size is None then), else it is the file itself."""
    try:  # non-blocking, so that a fifo is refused below instead of waiting for a writer
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except (OSError, ValueError) as exc:
        raise DatasetError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        what = "is a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file (a device, fifo or socket)"
        raise DatasetError(f"{path}: {what}, not an IDX file")
    f = os.fdopen(fd, "rb")
    try:
        magic = f.read(2)
        f.seek(0)
    except OSError as exc:
        f.close()
        raise DatasetError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if magic == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=f, mode="rb"), f, None, st.st_size
    if path.suffix == ".gz":
        f.close()
        raise DatasetError(f"{path}: not a gzip file (bad header)")
    return f, f, st.st_size, st.st_size


def _read_upto(stream, n: int, path: Path) -> bytes:
    """At most ``n`` bytes of ``stream``, read in bounded chunks (memory grows with the data
    really there, never with what a header claims); gzip errors become DatasetError."""
    out = bytearray()
    try:
        while len(out) < n:
            chunk = stream.read(min(n - len(out), _CHUNK))
            if not chunk:
                break
            out += chunk
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetError(f"{path}: corrupt or truncated gzip data ({exc})") from None
    return out


def read(path, expect_ndim: int | None, max_bytes: int) -> np.ndarray:
    """The array in the IDX file at ``path``, of at most ``max_bytes`` bytes of data (see
    ``nets.io.datasets.read_idx``)."""
    path = Path(path)
    stream, raw, plain_size, file_size = _open_idx(path)
    with raw, stream:
        return _read_idx(path, stream, plain_size, file_size, expect_ndim, max_bytes)


def _read_idx(path, stream, plain_size, file_size, expect_ndim, max_bytes):
    head = _read_upto(stream, 4, path)
    if len(head) < 4:
        raise DatasetError(f"{path}: truncated IDX file ({len(head)} bytes, no header)")
    magic = int.from_bytes(head, "big")
    zero, kind, ndim = head[0:2], head[2], head[3]
    if zero != b"\x00\x00" or kind not in _IDX_TYPES or ndim == 0 or (expect_ndim is not None and ndim != expect_ndim):
        what = {3: "IDX image file", 1: "IDX label file"}.get(expect_ndim, "IDX file")
        want = f", expected 0x{0x0800 + expect_ndim:08x}" if expect_ndim else ""
        raise DatasetError(f"{path}: wrong magic number 0x{magic:08x}{want}: not an {what}")
    header = 4 + 4 * ndim
    raw_dims = _read_upto(stream, 4 * ndim, path)
    if len(raw_dims) < 4 * ndim:
        raise DatasetError(f"{path}: truncated IDX header")
    dims = tuple(int.from_bytes(raw_dims[4 * i: 4 * i + 4], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_TYPES[kind])
    need = math.prod(dims) * dtype.itemsize  # Python integers: 2**31 x 2**31 x 4 does not wrap around
    says = f"header says {' x '.join(map(str, dims))} items ({need} bytes)"
    if plain_size is not None:
        have = plain_size - header
        if have < need:
            raise DatasetError(f"{path}: truncated: {says} but only {have} bytes follow")
        if have > need:
            raise DatasetError(f"{path}: corrupt: {have - need} unexpected bytes after the {need} data bytes")
    if need > max_bytes:
        raise DatasetError(f"{path}: {says}, more than the {max_bytes} bytes this loader accepts "
                           "(nets.datasets.MAX_IDX_BYTES)")
    if plain_size is None and need > file_size * _DEFLATE_RATIO + 1024:
        raise DatasetError(f"{path}: {says}, more than a gzip file of {file_size} bytes can hold")
    data = _read_upto(stream, need, path)
    if len(data) < need:
        raise DatasetError(f"{path}: truncated: {says} but only {len(data)} bytes follow")
    extra = len(_read_upto(stream, _CHUNK, path))  # also checks the gzip trailer (CRC, length)
    if extra:
        more = "" if extra < _CHUNK else "at least "
        raise DatasetError(f"{path}: corrupt: {more}{extra} unexpected bytes after the {need} data bytes")
    array = np.frombuffer(data, dtype=dtype, count=need // dtype.itemsize).reshape(dims)
    return array if dtype.isnative else array.astype(dtype.newbyteorder("="))
