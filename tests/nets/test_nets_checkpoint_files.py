"""Hostile checkpoint files: paths that are not files, zips that lie, members that are not
plain .npy arrays of numbers.  Every one is a CheckpointError naming the file (and the
member), raised before anything large is allocated; nothing is ever unpickled."""
import os
import struct
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest

import nets
from nets.io.checkpoint_format import read_archive
from .ckpt_craft import model_members, npy_bytes, patch_central_sizes, write_zip

LOADERS = [nets.load, nets.load_state, nets.load_checkpoint]


def refused(path, match, loaders=LOADERS, peak=8 << 20):
    """Every loader raises CheckpointError naming ``path`` and matching ``match``, within ``peak`` bytes."""
    for load in loaders:
        tracemalloc.start()
        try:
            with pytest.raises(nets.CheckpointError, match=match) as info:
                load(path)
            used = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert str(info.value).startswith(f"{path}: "), info.value
        assert "\n" not in str(info.value)
        assert used < peak, f"{load.__name__} used {used} bytes"


def test_a_hand_made_archive_loads_like_a_saved_one(tmp_path):
    model = nets.MultiLayerNet([4, 3, 2], rng=0)
    path = write_zip(tmp_path / "m.npz", model_members(model))
    np.testing.assert_array_equal(nets.load(path).fc1.W.data, model.fc1.W.data)


# --- paths -------------------------------------------------------------------------------------

def test_paths_that_are_not_checkpoint_files(tmp_path):
    refused(tmp_path / "none.npz", "checkpoint file not found")
    (tmp_path / "folder.npz").mkdir()
    refused(tmp_path / "folder.npz", "is a folder, not a checkpoint file")
    (tmp_path / "empty.npz").write_bytes(b"")
    refused(tmp_path / "empty.npz", "empty file, not a checkpoint")
    os.symlink(tmp_path / "b.npz", tmp_path / "a.npz")
    os.symlink(tmp_path / "a.npz", tmp_path / "b.npz")
    refused(tmp_path / "a.npz", "a loop of symbolic links")
    os.symlink(tmp_path / "nothing", tmp_path / "dangling.npz")
    refused(tmp_path / "dangling.npz", "checkpoint file not found")
    refused("/etc/passwd/model.npz", "not found .a parent is not a folder")
    os.mkfifo(tmp_path / "fifo.npz")
    refused(tmp_path / "fifo.npz", "not a regular file")  # refused, not read (it would block)
    refused("/dev/zero", "not a regular file")            # refused, not read (it never ends)
    with pytest.raises(nets.CheckpointError, match="not a valid path"):
        nets.load(str(tmp_path / "a\0b.npz"))


def test_temporary_files_are_never_taken_for_checkpoints(tmp_path):
    nets.MultiLayerNet([4, 2]).save(tmp_path / "model.npz")
    tmp = tmp_path / ".model.npz.abcd1234.tmp"
    tmp.write_bytes((tmp_path / "model.npz").read_bytes())
    refused(tmp, "a temporary file of an unfinished write, not a checkpoint")


def test_files_that_are_not_zip_archives(tmp_path):
    (tmp_path / "text.npz").write_text("hello")
    refused(tmp_path / "text.npz", "unreadable checkpoint: not a zip archive")
    np.save(tmp_path / "a.npy", np.ones(3))
    refused(tmp_path / "a.npy", r"not a nets checkpoint \(not an .npz archive\)")
    good = tmp_path / "good.npz"
    nets.MultiLayerNet([4, 3, 2]).save(good)
    raw = good.read_bytes()
    for cut in (4, 30, len(raw) // 2, len(raw) - 10):
        (tmp_path / "cut.npz").write_bytes(raw[:cut])
        refused(tmp_path / "cut.npz", "unreadable checkpoint")
    write_zip(tmp_path / "nothing.npz", [])
    refused(tmp_path / "nothing.npz", r"not a nets checkpoint \(no __nets__ entry\)")


# --- members -------------------------------------------------------------------------------------

H = {"descr": "<f8", "fortran_order": False, "shape": (2,)}


@pytest.mark.parametrize("name,raw,match", [
    ("model/x.npy", b"just some raw bytes", r"member 'model/x.npy': not an .npy array \(raw bytes\)"),
    ("model/x.npy", b"", r"member 'model/x.npy': not an .npy array"),
    ("model/x", npy_bytes(np.ones(2)), r"member 'model/x': not an .npy array"),
    ("model/", b"", r"member 'model/': not an .npy array"),
    ("model/x.npy", npy_bytes(header={**H, "descr": "|O"}, data=bytes(16)),
     r"holds Python objects \(object dtype\): never loaded, it would need pickle"),
    ("model/x.npy", npy_bytes(np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")])), "structured dtype"),
    ("model/x.npy", npy_bytes(header={**H, "descr": [("a", "|O")]}, data=bytes(16)), "holds Python objects"),
    ("model/x.npy", npy_bytes(header={**H, "descr": ("<f8", (2,)), "shape": (1,)}, data=bytes(16)),
     "structured dtype"),
    ("model/x.npy", npy_bytes(np.zeros(2, dtype=complex)), "dtype complex128 is not numeric"),
    ("model/x.npy", npy_bytes(np.zeros(2, dtype="M8[s]")), "dtype datetime64.s. is not numeric"),
    ("model/x.npy", npy_bytes(np.zeros(2, dtype="V8")), r"dtype \|V8 is not numeric"),
    ("model/x.npy", npy_bytes(np.array(["ab", "cd"])), "dtype <U2 is not numeric"),
    ("model/x.npy", npy_bytes(np.array([b"ab"])), r"dtype \|S2 is not numeric"),
    ("model/x.npy", npy_bytes(header={**H, "shape": (2 ** 31, 2 ** 31)}, data=bytes(16)),
     r"header says shape \(2147483648, 2147483648\) of float64 \(36893488147419103232 bytes\) but the member "
     "holds 16 bytes"),
    ("model/x.npy", npy_bytes(header={**H, "shape": (2 * 2 ** 30,)}, data=bytes(16)), "17179869184 bytes"),
    ("model/x.npy", npy_bytes(header={**H, "shape": (1,)}, data=bytes(16)), "holds 16 bytes"),
    ("model/x.npy", npy_bytes(header={**H, "shape": (3,)}, data=bytes(16)), "holds 16 bytes"),
    ("model/x.npy", npy_bytes(header=H), "holds 0 bytes of data"),
    ("model/x.npy", npy_bytes(header={**H, "shape": (-2,)}, data=bytes(16)), r"shape \(-2,\) is not valid"),
    ("model/x.npy", npy_bytes(header={**H, "shape": (True, 2)}, data=bytes(16)), "is not valid"),
    ("model/x.npy", npy_bytes(header={**H, "shape": (1,) * 40}, data=bytes(8)), "is not valid"),
    ("model/x.npy", npy_bytes(header={**H, "shape": [2]}, data=bytes(16)), "bad .npy header: shape is not valid"),
    ("model/x.npy", npy_bytes(header={**H, "fortran_order": "yes"}, data=bytes(16)),
     "fortran_order is not a valid bool"),
    ("model/x.npy", npy_bytes(header={**H, "fortran_order": 1}, data=bytes(16)), "fortran_order is not a valid bool"),
    ("model/x.npy", npy_bytes(header={"descr": "<f8", "shape": (2,)}, data=bytes(16)), "bad .npy header"),
    ("model/x.npy", npy_bytes(header={**H, "extra": 1}, data=bytes(16)), "bad .npy header"),
    ("model/x.npy", npy_bytes(header="[1, 2]", data=bytes(16)), "Header is not a dictionary"),
    ("model/x.npy", npy_bytes(header="__import__('os').system('true')", data=bytes(16)), "bad .npy header"),
    ("model/x.npy", npy_bytes(header="{'descr': " + "[" * 3000 + "]" * 3000 + ", 'fortran_order': False, "
                                     "'shape': (2,)}", data=bytes(16)), "bad .npy header"),
    ("model/x.npy", npy_bytes(header="{'descr': '<f8', 'fortran_order': False, 'shape': (" + "9" * 5000 + ",)}"),
     r"\.npy header"),
    ("model/x.npy", npy_bytes(header={**H, "descr": "<U99999999999"}, data=bytes(16)), "bad .npy header"),
    ("model/x.npy", npy_bytes(header=H, version=(3, 0), data=bytes(16)), "version 3.0 is not supported"),
    ("model/x.npy", npy_bytes(header=H, version=(9, 9), data=bytes(16)), "version 9.9 is not supported"),
    ("model/x.npy", npy_bytes(header="{" + " " * 20000 + "}", data=bytes(16)), "more than 10000"),
    ("model/x.npy", npy_bytes(header=H, version=(2, 0))[:8] + struct.pack("<I", 2 ** 31), "more than 10000"),
    ("model/x.npy", npy_bytes(np.ones(2))[:9], "truncated .npy header"),
    ("model/x.npy", npy_bytes(np.ones(2))[:30], "truncated .npy header"),
    ("model/x.npy", b"\x93NUMPX" + npy_bytes(np.ones(2))[6:], "not an .npy array"),
    ("junk.npy", npy_bytes(np.ones(2)), r"member 'junk.npy': unexpected"),
    ("optim/0.m.npy", npy_bytes(np.ones(2)), "optimizer state without an 'optimizer' field"),
])
def test_members_that_are_not_plain_arrays_of_numbers(tmp_path, name, raw, match):
    path = write_zip(tmp_path / "m.npz", model_members(extra=[(name, raw)]))
    refused(path, match)


@pytest.mark.parametrize("array", [
    np.arange(12.0).reshape(3, 4), np.asfortranarray(np.arange(12.0).reshape(3, 4)), np.arange(12, dtype=">f4"),
    np.zeros((0, 3)), np.float32(2.5), np.arange(24, dtype=np.int16).reshape(2, 3, 4).T, np.array([True, False]),
])
def test_numeric_members_are_read_exactly(tmp_path, array):
    path = write_zip(tmp_path / "a.npz", [("a.npy", npy_bytes(array))])
    got = read_archive(path)["a"]
    np.testing.assert_array_equal(got, array)
    assert got.shape == np.shape(array) and got.dtype == np.asarray(array).dtype.newbyteorder("=")


@pytest.mark.parametrize("meta", [
    np.array([1, 2]), np.array(["{}", "{}"]), np.array(b"{}"), np.array(1.0),
])
def test_metadata_members_must_be_one_string(tmp_path, meta):
    members = [m for m in model_members() if m[0] != "__nets__.npy"] + [("__nets__.npy", npy_bytes(meta))]
    refused(write_zip(tmp_path / "m.npz", members), "__nets__.npy")


def test_metadata_text_that_is_not_unicode(tmp_path):
    members = [m for m in model_members() if m[0] != "__nets__.npy"]
    bad = npy_bytes(header={"descr": "<U2", "fortran_order": False, "shape": ()}, data=b"\xff\xff\xff\xff" * 2)
    refused(write_zip(tmp_path / "m.npz", members + [("__nets__.npy", bad)]), "__nets__")


# --- the zip directory ---------------------------------------------------------------------------

def test_duplicate_member_names(tmp_path):
    with pytest.warns(UserWarning, match="Duplicate name"):
        path = write_zip(tmp_path / "d.npz", model_members(extra=[("model/fc1.W.npy", npy_bytes(np.ones((4, 3))))]))
    refused(path, r"member 'model/fc1.W.npy': appears twice in the archive")


def test_unsupported_compression_and_encryption(tmp_path):
    refused(write_zip(tmp_path / "b.npz", model_members(), compression=zipfile.ZIP_BZIP2),
            "compression method 12 is not supported")
    refused(write_zip(tmp_path / "l.npz", model_members(), compression=zipfile.ZIP_LZMA),
            "compression method 14 is not supported")
    path = write_zip(tmp_path / "e.npz", model_members())
    raw = bytearray(path.read_bytes())
    at = raw.index(b"PK\x01\x02")
    struct.pack_into("<H", raw, at + 8, 1)  # the "encrypted" flag
    path.write_bytes(bytes(raw))
    refused(path, "encrypted")


def test_a_deflated_archive_loads(tmp_path):
    model = nets.MultiLayerNet([4, 3, 2], rng=0)
    path = write_zip(tmp_path / "z.npz", model_members(model), compression=zipfile.ZIP_DEFLATED)
    np.testing.assert_array_equal(nets.load(path).fc2.W.data, model.fc2.W.data)


@pytest.mark.parametrize("declared", [2 ** 32 - 1, 2 ** 31, 10 ** 6])
def test_declared_sizes_deflate_cannot_reach_are_zip_bombs(tmp_path, declared):
    path = write_zip(tmp_path / "z.npz", model_members(), compression=zipfile.ZIP_DEFLATED)
    patch_central_sizes(path, "model/fc1.W.npy", file_size=declared)
    refused(path, r"member 'model/fc1.W.npy': declares \d+ bytes from \d+ compressed bytes, more than deflate can "
                  "expand to")


def test_stored_members_must_declare_their_real_size(tmp_path):
    path = write_zip(tmp_path / "s.npz", model_members())
    patch_central_sizes(path, "model/fc1.W.npy", file_size=2 ** 31)
    refused(path, "stored uncompressed but declares 2147483648 bytes")


def test_a_deflate_stream_longer_than_declared_is_cut_at_the_declared_size(tmp_path):
    """A member whose deflate data inflates to 100 MB while the directory says a few hundred
    bytes: reading stops at the declared size (the CRC then fails)."""
    header = npy_bytes(header={"descr": "<f8", "fortran_order": False, "shape": (16,)})
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    stream = co.compress(header + bytes(100_000_000)) + co.flush()
    path = write_zip(tmp_path / "bomb.npz", model_members(extra=[("model/x.npy", b"\0" * len(stream))]))
    raw = bytearray(path.read_bytes())
    at = raw.index(b"\0" * len(stream))
    raw[at:at + len(stream)] = stream
    for sig, method_at, name_len_at, name_at in ((b"PK\x03\x04", 8, 26, 30), (b"PK\x01\x02", 10, 28, 46)):
        i = 0
        while (i := raw.find(sig, i)) >= 0:  # mark the member deflated, local header and directory
            n = struct.unpack_from("<H", raw, i + name_len_at)[0]
            if raw[i + name_at:i + name_at + n] == b"model/x.npy":
                struct.pack_into("<H", raw, i + method_at, 8)
            i += 4
    path.write_bytes(bytes(raw))
    patch_central_sizes(path, "model/x.npy", file_size=len(header) + 128)
    refused(path, "unreadable checkpoint: Bad CRC-32", peak=2 << 20)


def test_members_outside_the_file_or_overlapping(tmp_path):
    path = write_zip(tmp_path / "o.npz", model_members(), compression=zipfile.ZIP_DEFLATED)
    patch_central_sizes(path, "model/fc1.b.npy", header_offset=10 ** 9)
    refused(path, "lies outside the file")
    extra = [(f"model/o{i}.npy", npy_bytes(np.zeros(50))) for i in range(3)]
    path = write_zip(tmp_path / "ov.npz", model_members(extra=extra))
    first = zipfile.ZipFile(path).getinfo("model/o0.npy").header_offset
    patch_central_sizes(path, "model/o1.npy", header_offset=first)  # two entries, one body
    refused(path, "unreadable checkpoint")
    size = path.stat().st_size
    path = write_zip(tmp_path / "big.npz", model_members(extra=extra))
    patch_central_sizes(path, "model/o2.npy", compress_size=size, file_size=size)
    refused(path, "unreadable checkpoint|lies outside the file")


def test_archives_declaring_more_than_the_memory_available(tmp_path, monkeypatch):
    path = nets.MultiLayerNet([64, 100, 10]).save(tmp_path / "m.npz")
    monkeypatch.setattr(nets.io.checkpoint_format, "available_memory", lambda: 10_000)
    refused(path, r"the members declare \d+ bytes in all, more than the 10000 bytes of memory available")
