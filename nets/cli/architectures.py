"""The architectures ``python -m nets train --model`` builds, and how a model's
input is shaped: an MLP takes rows (N, features), a CNN images (N, C, H, W).

    python -m nets train --model cnn --dataset fashion-mnist --epochs 5

``--model cnn`` is the book's ``SimpleConvNet`` (30 filters of 5x5, 2x2
max-pooling, 100 hidden units; 3x3 filters with pad 1 on the 8x8 digits),
He-initialized; the MLP-only options (``--layers``, ``--batchnorm``,
``--dropout``, ``--weight-decay``, ``--activation``) are refused with it.
``--model convnet`` is ``ConvNet``: two blocks of conv 3x3 (32, then 64
filters), batch norm, ReLU and 2x2 max-pooling, then 128 hidden units and
``--dropout`` before the last affine (one block on the 8x8 digits); it takes
the data as rows and reshapes them to square one-channel images.
"""
from __future__ import annotations

import numpy as np

from ..layers.basic import Affine
from ..models.convnet import MAX_BLOCKS as MAX_CONVNET_BLOCKS, ConvNet
from ..models.networks import MultiLayerNet, SimpleConvNet
from .args import UsageError

ARCHITECTURES = ("mlp", "cnn", "convnet")
CNN_HIDDEN = 100
CONVNET = {"channels": (32, 64), "hidden_size": 128}  # --model convnet (one block on images under 16 pixels)
_WHAT = {"cnn": "the book's SimpleConvNet: conv, ReLU, 2x2 max-pool, affine, ReLU, affine",
         "convnet": "ConvNet: blocks of conv 3x3, batch norm, ReLU and 2x2 max-pool, then affine, ReLU, dropout, affine"}


def check_cnn_args(args):
    """The options that shape an MLP make no sense for the CNNs: said before anything is loaded
    (``--dropout`` is ConvNet's, before its last affine)."""
    if getattr(args, "channels", None) is not None and args.model != "convnet":
        raise UsageError(f"--channels: only --model convnet has blocks of filters (--model {args.model} does not); "
                         "drop it or use --model convnet")
    if args.model not in _WHAT:
        return
    given = [name for name, on in (("--layers", args.layers is not None), ("--batchnorm", args.batchnorm),
                                   ("--dropout", args.dropout > 0 and args.model == "cnn"),
                                   ("--weight-decay", args.weight_decay > 0),
                                   ("--activation", args.activation != "relu")) if on]
    if given:
        raise UsageError(f"{', '.join(given)}: not used with --model {args.model} ({_WHAT[args.model]}); drop them "
                         "or use --model mlp")


def _square_images(features):
    """(1, side, side) for rows of ``features`` values (every supported data set has square images)."""
    side = int(round(features ** 0.5))
    if side * side != features:
        raise UsageError(f"--model convnet: rows of {features} features are not square one-channel images")
    return 1, side, side


def conv_param(image_side: int) -> dict:
    """The book's 5x5 filters, or 3x3 with pad 1 on images too small for them (the 8x8 digits)."""
    if image_side >= 16:
        return {"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1}
    return {"filter_num": 30, "filter_size": 3, "pad": 1, "stride": 1}


def build(args, x, sizes):
    """The model ``train`` trains on ``x`` (images for the CNN, rows for the MLP)."""
    if args.model == "cnn":
        return SimpleConvNet(input_dim=x.shape[1:], conv_param=conv_param(min(x.shape[2:])), hidden_size=CNN_HIDDEN,
                             output_size=10, weight_init_std="he", rng=args.seed)
    if args.model == "convnet":
        dim = _square_images(int(np.prod(x.shape[1:])))
        channels = (tuple(args.channels) if getattr(args, "channels", None) is not None
                    else CONVNET["channels"] if dim[1] >= 16 else CONVNET["channels"][:1])
        try:
            return ConvNet(input_dim=dim, channels=channels, hidden_size=CONVNET["hidden_size"], output_size=10,
                           dropout=args.dropout, rng=args.seed)
        except ValueError as exc:  # --channels too many blocks (or too large) for these images
            raise UsageError(f"--channels {','.join(map(str, channels))}: {exc}") from exc
    return MultiLayerNet(sizes, activation=args.activation, weight_decay=args.weight_decay, dropout=args.dropout,
                         batchnorm=args.batchnorm, rng=args.seed)


def describe(model) -> str:
    """The architecture in a few characters, for the first line ``train`` prints."""
    if isinstance(model, SimpleConvNet):
        c = model.conv_param
        return (f"SimpleConvNet conv {c['filter_num']}x{c['filter_size']}x{c['filter_size']} (pad {c['pad']}), "
                f"pool 2x2, {model.hidden_size}, {model.output_size}")
    if isinstance(model, ConvNet):
        k = model.kernel_size
        blocks = ", ".join(f"conv {c}x{k}x{k} bn relu pool 2x2" for c in model.channels)
        drop = f" dropout {model.dropout:g}," if model.dropout else ""
        return f"ConvNet {blocks}, {model.hidden_size},{drop} {model.output_size}"
    return f"{'-'.join(map(str, model.sizes))} {model.activation_name}"


def input_features(model):
    """How many numbers one sample of ``model``'s input holds (None when it cannot tell)."""
    if isinstance(model, (SimpleConvNet, ConvNet)):
        return int(np.prod(model.input_dim))
    sizes = getattr(model, "sizes", None)
    if sizes:
        return sizes[0]
    for m in model.modules():
        if isinstance(m, Affine):
            return m.in_size
    return None


def shaped_input(model, x):
    """``x`` as ``model`` takes it: images (N, C, H, W) for a SimpleConvNet, rows otherwise."""
    if isinstance(model, SimpleConvNet):
        return x.reshape(len(x), *model.input_dim)
    return x.reshape(len(x), -1)
