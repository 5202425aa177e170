"""Data sets: MNIST-style IDX files (MNIST, Fashion-MNIST) and scikit-learn's 8x8 digits.

Every loader returns ``(x_train, t_train), (x_test, t_test)`` like the seeds'
``load_mnist``::

    (x_train, t_train), (x_test, t_test) = nets.datasets.load_mnist("/data/mnist")
    x_train.shape, x_train.dtype          # (60000, 784) float32, values in [0, 1]
    (x, t), (xt, tt) = nets.datasets.load_digits()   # 1,437 / 360 images of 64 pixels

Problems (a missing folder or file, a corrupt or truncated file, a wrong
magic number, declared sizes the file does not hold or over ``MAX_IDX_BYTES``,
no images, image and label counts that differ, labels out of range, train and
test images of different sizes) raise ``DatasetError`` naming the file; no
loader ever returns garbage, and none allocates more than the file holds.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..util import validate as _v
from . import idx as _idx
from .idx import DatasetError

__all__ = ["DatasetError", "read_idx", "load_mnist", "load_fashion_mnist", "load_digits", "load", "find_mnist",
           "find_fashion_mnist", "mnist_folders", "fashion_mnist_folders", "FASHION_MNIST_DIR", "MNIST_DIR",
           "DATA_HOME", "MNIST_ENV", "FASHION_MNIST_ENV", "DATASETS", "to_one_hot", "MAX_IDX_BYTES"]

FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"  # the system folder (Debian's dataset-fashion-mnist)
MNIST_DIR = "/usr/share/datasets/mnist"  # the system folder of MNIST
DATA_HOME = "~/.nets"            # the default folder: ~/.nets/mnist, ~/.nets/fashion-mnist
MNIST_ENV = "NETS_MNIST_DIR"     # an environment variable naming the MNIST folder
FASHION_MNIST_ENV = "NETS_FASHION_MNIST_DIR"  # an environment variable naming the Fashion-MNIST folder
DATASETS = ("digits", "mnist", "fashion-mnist")  # the names nets.datasets.load and the command line take

_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
MAX_IDX_BYTES = 1 << 32   # 4 GiB of data in one IDX file (MNIST's largest holds 47 MB)


def read_idx(path, expect_ndim: int | None = None) -> np.ndarray:
    """Read one IDX file (plain or gzip-compressed) into an array.

    The header is two zero bytes, a type byte (0x08 = unsigned byte), the
    number of dimensions, then each dimension as a big-endian uint32; the
    data must fill exactly the product of the dimensions.  ``expect_ndim``
    (3 for images, 1 for labels) checks the magic number.

    Sizes are Python integers, checked before anything is allocated: against
    the plain file's real size, against ``MAX_IDX_BYTES``, and for gzip against
    what the compressed file can hold; gzip data is decompressed in bounded
    chunks and rejected as soon as more than the declared size appears, so a
    gzip bomb costs at most the declared size plus one chunk."""
    return _idx.read(path, expect_ndim, MAX_IDX_BYTES)  # (read now: setting MAX_IDX_BYTES takes effect)


def _find(folder: Path, stem: str) -> Path:
    candidates = [stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"]
    for name in candidates:
        p = folder / name
        if p.is_file():
            return p
    raise DatasetError(f"{folder / stem}[.gz]: file not found")


def to_one_hot(labels, classes: int = 10, dtype=np.float32) -> np.ndarray:
    """Integer labels (N,) as one-hot rows (N, classes)."""
    labels = np.asarray(labels)
    out = np.zeros((labels.size, classes), dtype=dtype)
    out[np.arange(labels.size), labels.reshape(-1)] = 1
    return out


def _finish(x, t, normalize, flatten, one_hot_label, scale, classes, dtype):
    x = x.reshape(len(x), -1) if flatten else x.reshape(len(x), 1, *x.shape[1:])
    if normalize:
        x = x.astype(dtype) / dtype(scale)
    t = t.astype(np.int64)
    if one_hot_label:
        t = to_one_hot(t, classes, dtype=dtype)
    return x, t


def _folders(env, name, system):
    """``[(folder, why)]`` searched in order: the environment variable, the book's ``./dataset``
    (MNIST only), ``~/.nets/<name>``, the system folder."""
    out = []
    if os.environ.get(env):
        out.append((Path(os.environ[env]).expanduser(), f"${env}"))
    if name == "mnist":
        out.append((Path("dataset"), "the book's folder"))
    out.append((Path(DATA_HOME).expanduser() / name, "the default folder"))
    out.append((Path(system), "the system folder"))
    return out


def mnist_folders():
    """Where ``load_mnist()`` looks, in order: ``$NETS_MNIST_DIR``, ``./dataset`` (the book's
    folder), ``~/.nets/mnist``, ``/usr/share/datasets/mnist``."""
    return [f for f, _ in _folders(MNIST_ENV, "mnist", MNIST_DIR)]


def fashion_mnist_folders():
    """Where ``load_fashion_mnist()`` looks, in order: ``$NETS_FASHION_MNIST_DIR``,
    ``~/.nets/fashion-mnist``, ``/usr/share/datasets/fashion-mnist`` (Debian's package)."""
    return [f for f, _ in _folders(FASHION_MNIST_ENV, "fashion-mnist", FASHION_MNIST_DIR)]


def _holds_idx(folder: Path) -> bool:
    try:
        _find(folder, _FILES["train_images"])
        return True
    except DatasetError:
        return False


def _search(env, name, system):
    """The first folder holding the training images; a set environment variable must be right."""
    for folder, why in _folders(env, name, system):
        if why.startswith("$"):
            if not folder.is_dir():
                raise DatasetError(f"{folder}: data folder not found (named by ${env}); fix or unset {env}")
            return folder
        if folder.is_dir() and _holds_idx(folder):
            return folder
    return None


def find_mnist():
    """The folder ``load_mnist()`` would read (see ``mnist_folders``), or None."""
    return _search(MNIST_ENV, "mnist", MNIST_DIR)


def find_fashion_mnist():
    """The folder ``load_fashion_mnist()`` would read (see ``fashion_mnist_folders``), or None."""
    return _search(FASHION_MNIST_ENV, "fashion-mnist", FASHION_MNIST_DIR)


_IDX_NAMES = ", ".join(f"{stem}.gz" for stem in _FILES.values())


def _not_found(env, name, system, how):
    looked = "; ".join(f"{'./' if not folder.is_absolute() else ''}{folder} ({why})"
                       for folder, why in _folders(env, name, system))
    if not os.environ.get(env):
        looked = f"${env} (not set); " + looked
    home = Path(DATA_HOME).expanduser() / name
    shown = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}.get(name, name)
    return DatasetError(f"{shown} not found: looked in {looked}. Put the four files {_IDX_NAMES} (or without .gz) "
                        f"into {home}, or set {env} to their folder, or pass their folder as the first argument. "
                        f"{how}")


def load_mnist(path=None, normalize: bool = True, flatten: bool = True, one_hot_label: bool = False,
               dtype=np.float32):
    """Read the four standard MNIST IDX files from the folder ``path``.

    Files: ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
    ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each plain or
    with ``.gz``.  Returns ``(x_train, t_train), (x_test, t_test)``:

    * ``normalize``: images as ``dtype`` (float32) in [0, 1]; else uint8 0..255;
    * ``flatten``: images as rows (N, 784); else (N, 1, 28, 28);
    * ``one_hot_label``: labels as one-hot rows (N, 10); else int64 (N,).

    Without ``path`` (the book's ``load_mnist(normalize=True, one_hot_label=True)``)
    the files are looked for in ``$NETS_MNIST_DIR``, then ``./dataset`` (where
    the book's ``dataset/mnist.py`` keeps them), ``~/.nets/mnist`` and
    ``/usr/share/datasets/mnist``; when they are nowhere, the error says where
    it looked and how to get them.
    """
    f = _loader_args("load_mnist", normalize, flatten, one_hot_label, dtype)
    _v.path(path, "path", "load_mnist", allow_none=True, folder_ok=True)
    if path is None:
        path = find_mnist()
        if path is None:
            raise _not_found(MNIST_ENV, "mnist", MNIST_DIR,
                             "They are the files the book's dataset/mnist.py downloads (no Debian package ships "
                             "MNIST). Fashion-MNIST, in the same format, installs with 'apt-get install "
                             "dataset-fashion-mnist' (make fashion-mnist) for load_fashion_mnist(); load_digits() "
                             "needs no files at all.")
    folder = Path(path)
    if not folder.is_dir():
        raise DatasetError(f"{folder}: data folder not found" if not folder.exists() else f"{folder}: not a folder")
    (x, t, x_path), (xt, tt, xt_path) = (_read_side(folder, side) for side in ("train", "test"))
    if x.shape[1:] != xt.shape[1:]:  # a model fitted on one shape would score garbage on the other
        raise DatasetError(f"{x_path} holds {_dims(x)} images but {xt_path} holds {_dims(xt)} images")
    return (_finish(x, t, normalize, flatten, one_hot_label, 255.0, 10, f),
            _finish(xt, tt, normalize, flatten, one_hot_label, 255.0, 10, f))


def _dims(x) -> str:
    """An image array's height x width, as the messages print it."""
    return " x ".join(map(str, x.shape[1:]))


def _read_side(folder: Path, side: str):
    """``(images, labels, image file)`` of one side ("train" or "test"), checked
    on their own: byte pixels, at least one non-empty image, one label 0..9 per image."""
    img_path, lab_path = _find(folder, _FILES[f"{side}_images"]), _find(folder, _FILES[f"{side}_labels"])
    x = read_idx(img_path, expect_ndim=3)
    t = read_idx(lab_path, expect_ndim=1)
    if x.dtype != np.uint8:
        raise DatasetError(f"{img_path}: images must be unsigned bytes, found {x.dtype}")
    if len(x) == 0:
        raise DatasetError(f"{img_path}: no images (the header says 0)")
    if x.size == 0:
        raise DatasetError(f"{img_path}: images of {_dims(x)} pixels hold no data")
    if t.dtype.kind not in "iu":  # a float label would be truncated silently by the int64 cast
        raise DatasetError(f"{lab_path}: labels must be integers, found {t.dtype}")
    if len(x) != len(t):
        raise DatasetError(f"{img_path} holds {len(x)} images but {lab_path} holds {len(t)} labels")
    _check_labels(t, lab_path, classes=10)
    return x, t, img_path


def _check_labels(t, path, classes: int):
    """Every label in 0..classes-1, or a DatasetError quoting the offending
    values themselves (a few, sorted: a -1 as much as a 12)."""
    bad = (t < 0) | (t >= classes)
    if not bad.any():
        return
    values = np.unique(t[bad])
    shown = ", ".join(str(int(v)) for v in values[:5]) + (", ..." if len(values) > 5 else "")
    raise DatasetError(f"{path}: label{'s' if len(values) > 1 else ''} {shown} out of range 0..{classes - 1} "
                       f"({int(bad.sum())} of {len(t)} labels)")


def load_fashion_mnist(path=None, **kwargs):
    """``load_mnist`` on Fashion-MNIST.  Without ``path``: ``$NETS_FASHION_MNIST_DIR``, then
    ``~/.nets/fashion-mnist``, then ``/usr/share/datasets/fashion-mnist`` (installed by
    ``apt-get install dataset-fashion-mnist`` / ``make fashion-mnist``)."""
    if path is None:
        path = find_fashion_mnist()
        if path is None:
            raise _not_found(FASHION_MNIST_ENV, "fashion-mnist", FASHION_MNIST_DIR,
                             "On Debian or Ubuntu: 'sudo apt-get install dataset-fashion-mnist' (or 'make "
                             "fashion-mnist') installs it into the system folder.")
    return load_mnist(path, **kwargs)


def _digits_arrays():
    """(images (1797, 8, 8) uint8, labels (1797,)) from scikit-learn's bundled digits.

    Reads ``sklearn/datasets/data/digits.csv.gz`` directly when it is there
    (importing scikit-learn takes seconds); otherwise asks
    ``sklearn.datasets.load_digits``."""
    import importlib.util
    try:
        spec = importlib.util.find_spec("sklearn")
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        raise DatasetError("load_digits needs scikit-learn, which is not installed: pip install scikit-learn "
                           "(or pip install -e '.[nets]')")
    for root in spec.submodule_search_locations or ():
        csv = Path(root) / "datasets" / "data" / "digits.csv.gz"
        if csv.is_file():
            data = np.loadtxt(csv, delimiter=",", dtype=np.int64)
            if data.shape == (DIGITS, 65):
                return data[:, :-1].reshape(-1, 8, 8).astype(np.uint8), data[:, -1]
    try:
        from sklearn.datasets import load_digits as _sk_digits
    except ImportError:
        raise DatasetError("load_digits needs scikit-learn, which cannot be imported: "
                           "pip install scikit-learn") from None
    bunch = _sk_digits()
    return np.asarray(bunch.images, dtype=np.uint8), np.asarray(bunch.target)


DIGITS = 1797  # images in scikit-learn's digits


def _loader_args(who, normalize, flatten, one_hot_label, dtype):
    """The loaders' shared arguments, checked; returns the dtype's scalar type."""
    for name, value in (("normalize", normalize), ("flatten", flatten), ("one_hot_label", one_hot_label)):
        _v.flag(value, name, who)
    return _v.float_dtype(dtype, "dtype", who).type


def load_digits(normalize: bool = True, flatten: bool = True, one_hot_label: bool = False, test_size: int = 360,
                seed: int = 0, dtype=np.float32):
    """The 8x8 handwritten digits shipped inside scikit-learn (1,797 images, 10 classes).

    Pixels (0..16) become ``dtype`` in [0, 1] with ``normalize``; the split
    is a fixed permutation from ``seed``: 1,437 train / 360 test by default.
    ``flatten=False`` gives images (N, 1, 8, 8).  Same return shape as
    ``load_mnist``.  Needs scikit-learn (``pip install scikit-learn``)."""
    f = _loader_args("load_digits", normalize, flatten, one_hot_label, dtype)
    test_size = _v.integer(test_size, "test_size", "load_digits", low=1, high=DIGITS - 1)
    seed = _v.integer(seed, "seed", "load_digits", low=0)
    x, t = _digits_arrays()
    order = np.random.default_rng(seed).permutation(len(x))
    test, train = order[:test_size], order[test_size:]
    return (_finish(x[train], t[train], normalize, flatten, one_hot_label, 16.0, 10, f),
            _finish(x[test], t[test], normalize, flatten, one_hot_label, 16.0, 10, f))


def load(name: str, data_dir=None, **kwargs):
    """A data set by name: "digits", "mnist" or "fashion-mnist" (from ``data_dir``, or
    the folders ``load_mnist`` / ``load_fashion_mnist`` search)."""
    key = name.lower().replace("_", "-")
    if key == "digits":
        return load_digits(**kwargs)
    if key == "mnist":
        return load_mnist(data_dir, **kwargs)
    if key in ("fashion-mnist", "fashion"):
        return load_fashion_mnist(data_dir, **kwargs)
    raise DatasetError(f"unknown dataset {name!r}: use one of {', '.join(DATASETS)}")
