"""Helpers for the nets tests: writing small IDX files (MNIST format)."""
import gzip
import struct
from pathlib import Path

import numpy as np


def idx_bytes(array, type_byte=0x08):
    """The IDX encoding of ``array`` (unsigned bytes by default)."""
    array = np.asarray(array)
    header = bytes([0, 0, type_byte, array.ndim]) + b"".join(struct.pack(">I", n) for n in array.shape)
    return header + array.astype(">u1" if type_byte == 0x08 else array.dtype).tobytes()


def write_idx(path, array=None, gz=False, raw=None):
    """Write ``array`` (or the bytes ``raw``) as an IDX file at ``path`` (gzip when ``gz``)."""
    data = idx_bytes(array) if raw is None else raw
    path = Path(path)
    if gz:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    return path


def make_mnist(folder, n_train=6, n_test=4, gz=False, seed=0, side=28):
    """A tiny MNIST-format folder; returns the arrays written."""
    rng = np.random.default_rng(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, side, side), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, side, side), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    for name, arr in arrays.items():
        write_idx(folder / name, arr, gz=gz)
    return arrays
