"""IDX files whose headers lie: sizes are Python integers checked against what the file really
holds before anything is allocated, and gzip data is inflated with a bound."""
import gzip
import os
import struct
import tracemalloc
import zlib

import numpy as np
import pytest

import nets
from nets.datasets import DatasetError, read_idx
from .nets_testutil import idx_bytes, make_mnist


def header(dims, type_byte=0x08):
    return bytes([0, 0, type_byte, len(dims)]) + b"".join(struct.pack(">I", n) for n in dims)


def gzip_stream(*parts, repeat_zeros=0):
    """gzip of ``parts`` followed by ``repeat_zeros`` MiB of zero bytes, built without holding them."""
    co = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = [co.compress(p) for p in parts]
    chunk = bytes(1 << 20)
    out += [co.compress(chunk) for _ in range(repeat_zeros)]
    out.append(co.flush())
    return b"".join(out)


def rejected(path, match, peak=8 << 20, expect_ndim=None):
    tracemalloc.start()
    try:
        with pytest.raises(DatasetError, match=match) as info:
            read_idx(path, expect_ndim=expect_ndim)
        used = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(info.value).startswith(f"{path}: ")
    assert used < peak, f"{used} bytes allocated"


@pytest.mark.parametrize("dims,data", [
    ((2 ** 31, 2 ** 31, 4), b""),           # 2**64 bytes: 0 in int64
    ((2 ** 31, 2 ** 31, 4), bytes(10)),
    ((2 ** 32 - 1,) * 3, bytes(100)),
    ((2 ** 16, 2 ** 16, 2 ** 16), bytes(8)),  # 2**48
    ((2 ** 32 - 1,), b"abc"),
])
def test_sizes_that_overflow_int64_are_truncated_files(tmp_path, dims, data):
    path = tmp_path / "f-idx-ubyte"
    path.write_bytes(header(dims) + data)
    need = int(np.prod(np.array(dims, dtype=object)))
    rejected(path, rf"truncated: header says {' x '.join(map(str, dims))} items \({need} bytes\) but only "
                   rf"{len(data)} bytes follow")


def test_the_same_header_in_gzip_is_refused_before_inflating(tmp_path):
    path = tmp_path / "f.gz"
    path.write_bytes(gzip.compress(header((2 ** 31, 2 ** 31, 4)) + bytes(10)))
    rejected(path, r"18446744073709551616 bytes\), more than the 4294967296 bytes this loader accepts")


def test_declared_sizes_a_small_gzip_file_cannot_hold(tmp_path):
    path = tmp_path / "f.gz"
    path.write_bytes(gzip.compress(header((1000, 1000, 1000)) + bytes(10)))  # 1 GB declared in ~60 bytes
    rejected(path, r"1000 x 1000 x 1000 items \(1000000000 bytes\), more than a gzip file of \d+ bytes can hold")


def test_a_gzip_bomb_is_rejected_after_the_declared_size(tmp_path):
    """10 labels declared, 300 MiB of zeros behind them in a 300 KB file."""
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip_stream(header((10,)), bytes(10), repeat_zeros=300))
    assert path.stat().st_size < 1_000_000
    rejected(path, r"corrupt: at least 1048576 unexpected bytes after the 10 data bytes", peak=6 << 20)


def test_a_bomb_declaring_a_large_size_inflates_at_most_that(tmp_path):
    """8 MiB declared, 64 MiB present: inflating stops at 8 MiB plus one chunk."""
    path = tmp_path / "images.gz"
    path.write_bytes(gzip_stream(header((8, 1024, 1024)), repeat_zeros=64))
    rejected(path, "corrupt: at least 1048576 unexpected bytes after the 8388608 data bytes", peak=24 << 20)


def test_sizes_over_the_cap_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(nets.datasets, "MAX_IDX_BYTES", 1000)
    path = tmp_path / "f-idx-ubyte"
    path.write_bytes(header((10, 10, 11)) + bytes(1100))
    rejected(path, r"header says 10 x 10 x 11 items \(1100 bytes\), more than the 1000 bytes this loader accepts")
    path.write_bytes(header((10, 10, 10)) + bytes(1000))
    assert read_idx(path).shape == (10, 10, 10)


@pytest.mark.parametrize("cut", [12, 30, -12, -4])
def test_gzip_truncated_anywhere(tmp_path, cut):
    raw = gzip.compress(idx_bytes(np.arange(200, dtype=np.uint8).reshape(2, 10, 10)))
    path = tmp_path / "f.gz"
    path.write_bytes(raw[:cut])
    rejected(path, "corrupt or truncated gzip data|truncated")


def test_gzip_with_a_wrong_checksum_or_trailing_bytes(tmp_path):
    raw = bytearray(gzip.compress(idx_bytes(np.arange(200, dtype=np.uint8).reshape(2, 10, 10))))
    path = tmp_path / "f.gz"
    raw[-8] ^= 0xFF  # the CRC-32 of the trailer
    path.write_bytes(bytes(raw))
    rejected(path, "corrupt or truncated gzip data")
    path.write_bytes(gzip.compress(idx_bytes(np.arange(6, dtype=np.uint8)) + b"junk"))
    rejected(path, "corrupt: 4 unexpected bytes after the 6 data bytes")
    good = gzip.compress(idx_bytes(np.arange(6, dtype=np.uint8)))
    path.write_bytes(good + b"not gzip at all")
    rejected(path, "corrupt or truncated gzip data")
    path.write_bytes(good + gzip.compress(b"second member"))  # concatenated gzip members are one stream
    rejected(path, "corrupt: 13 unexpected bytes")


def test_big_endian_types_are_read_in_native_order(tmp_path):
    path = tmp_path / "f-idx"
    values = np.array([[1, -2, 300], [4, 5, -6000]], dtype=">i2")
    path.write_bytes(header(values.shape, 0x0B) + values.tobytes())
    got = read_idx(path)
    assert got.dtype == np.int16 and got.dtype.isnative
    np.testing.assert_array_equal(got, values)
    path.write_bytes(gzip.compress(header(values.shape, 0x0B) + values.tobytes()))
    np.testing.assert_array_equal(read_idx(path), values)


def test_paths_that_are_not_idx_files(tmp_path):
    rejected(tmp_path, "is a folder, not an IDX file")
    os.mkfifo(tmp_path / "fifo")
    rejected(tmp_path / "fifo", "not a regular file")  # refused, not waited on
    rejected("/dev/zero", "not a regular file")       # refused, not read forever
    rejected(tmp_path / "none", "cannot read: No such file or directory")
    rejected("/etc/passwd/x", "cannot read: Not a directory")


def test_load_mnist_reports_the_bad_file(tmp_path):
    make_mnist(tmp_path, gz=True)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip_stream(header((4,)), bytes(4), repeat_zeros=20))
    with pytest.raises(DatasetError, match=r"t10k-labels-idx1-ubyte.gz: corrupt: at least \d+ unexpected bytes"):
        nets.datasets.load_mnist(tmp_path)
