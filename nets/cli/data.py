"""The data set a command reads, its options checked before anything is loaded, and the layer
sizes that fit it (``DEFAULTS``: each data set's epochs, batch size and hidden sizes)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from ..io import datasets as _datasets
from .args import UsageError

__all__ = ["DEFAULTS", "check_data_args", "load_data", "check_sizes", "layer_sizes", "need_module"]

DEFAULTS = {  # per dataset: epochs, batch size, hidden sizes
    "digits": {"epochs": 30, "batch_size": 32, "hidden": [256, 128]},
    "mnist": {"epochs": 10, "batch_size": 100, "hidden": [128, 64]},
    "fashion-mnist": {"epochs": 10, "batch_size": 100, "hidden": [256, 128]},
}


def check_data_args(args):
    """The data set arguments, checked before anything is loaded."""
    if args.data_dir is not None:
        d = Path(args.data_dir)
        if not d.is_dir():
            raise UsageError(f"--data-dir {args.data_dir}: " + ("not a folder" if d.exists() else "no such folder"))
    if args.dataset == "digits" and args.data_dir is not None:
        raise UsageError("--data-dir is not used with --dataset digits (the digits ship inside scikit-learn)")
    if args.dataset == "mnist" and args.data_dir is None and _datasets.find_mnist() is None:
        looked = ", ".join(str(f) for f in _datasets.mnist_folders())
        raise UsageError(f"--dataset mnist needs --data-dir (the folder of the MNIST IDX files; none in {looked}; "
                         f"or set {_datasets.MNIST_ENV})")


def load_data(args, one_hot=False, images=False):
    """The data set: rows (N, features), or images (N, C, H, W) with ``images``."""
    check_data_args(args)
    return _datasets.load(args.dataset, args.data_dir, one_hot_label=one_hot, flatten=not images)


def check_sizes(sizes, x, t):
    features, classes = int(np.prod(x.shape[1:])), 10  # every supported data set has 10 classes
    if sizes[0] != features:
        raise UsageError(f"--layers starts with {sizes[0]} but the data has {features} features per sample "
                         f"(use {features},...)")
    if sizes[-1] != classes:
        raise UsageError(f"--layers ends with {sizes[-1]} but the data has {classes} classes (use ...,{classes})")


def layer_sizes(args, x):
    if args.layers is not None:
        return args.layers
    hidden = DEFAULTS.get(args.dataset, DEFAULTS["mnist"])["hidden"]
    return [int(np.prod(x.shape[1:])), *hidden, 10]


def need_module(name, why):
    """A missing optional dependency is one line, said before training rather than after."""
    try:
        found = importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise UsageError(f"{why} needs {name}, which is not installed: pip install {name} "
                         "(or pip install -e '.[nets]')")
