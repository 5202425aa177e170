"""Fashion-MNIST, read from its IDX files, as float32 batches shared by every contender."""
from __future__ import annotations

import functools
import gzip
import os
from pathlib import Path

import numpy as np

FASHION_DIR = Path(os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist"))
_FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
          "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}


def _read_idx(path: Path) -> np.ndarray:
    """An IDX file (the MNIST format): big-endian header, then uint8 data."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def fashion_mnist_available() -> bool:
    return all((FASHION_DIR / f).exists() for pair in _FILES.values() for f in pair)


@functools.lru_cache(maxsize=2)
def load_fashion_mnist(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Images as float32 rows in [0, 1] (N, 784) and int64 labels (N,); read once per
    process (callers must not modify them)."""
    images, labels = (_read_idx(FASHION_DIR / f) for f in _FILES[split])
    x = images.reshape(len(images), -1).astype(np.float32)
    x *= np.float32(1 / 255)  # in place, stays float32 (x / 255.0 on uint8 would give float64)
    t = labels.astype(np.int64)
    x.flags.writeable = t.flags.writeable = False  # shared by every caller
    return x, t


def training_batches(batch_size: int, count: int, seed: int = 0) -> tuple[list, str]:
    """``count`` shuffled (x, t) batches, each a contiguous float32 array.

    Fashion-MNIST when its files are installed; otherwise random images of the
    same shape (timings do not depend on the pixel values), and the source says so."""
    rng = np.random.default_rng(seed)
    if fashion_mnist_available():
        x, t = load_fashion_mnist("train")
        source = "fashion-mnist"
    else:
        x = rng.random((batch_size * count, 784), dtype=np.float32)
        t = rng.integers(0, 10, batch_size * count)
        source = f"synthetic (Fashion-MNIST not found in {FASHION_DIR})"
    idx = rng.permutation(len(x))[: batch_size * count].reshape(count, batch_size)
    return [(np.ascontiguousarray(x[i]), t[i]) for i in idx], source
