"""The command line's argument parser: the four commands, their options and the types that
check each value as it is parsed (``nets.cli.args``)."""
from __future__ import annotations

import argparse

from ..io import datasets as _datasets
from ..layers import ACTIVATIONS
from ..training import optim as _optim
from . import architectures as _models
from .args import UsageError, integer, layers as _layers, path_text, real, seed as _seed, size_list
from .text import add_text_parser

__all__ = ["build_parser", "SCHEDULES"]

SCHEDULES = ("constant", "step", "cosine", "plateau")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage block
        raise UsageError(message)


def _dataset(text: str) -> str:
    key = text.strip().lower().replace("_", "-")
    if key not in _datasets.DATASETS and key != "fashion":
        raise argparse.ArgumentTypeError(f"unknown dataset {text!r}: use one of {', '.join(_datasets.DATASETS)}")
    return key


_positive_int = integer(1, 10 ** 9, "a positive integer")
_count = integer(0, 10 ** 9, "a non-negative integer")
_epochs = integer(1, 10 ** 6, "a positive integer (at most 1000000)")
_many = integer(1, 2 ** 62, "a positive integer")
_fraction = real(lambda v: 0.0 <= v < 1.0, "a number in [0, 1)")
_nonneg_float = real(lambda v: v >= 0, "a finite number >= 0")
_positive_float = real(lambda v: v > 0, "a finite number > 0")
_channels = size_list("--channels", 1, "32,64", _models.MAX_CONVNET_BLOCKS)


def _add_data_args(p, required=False):
    p.add_argument("--dataset", default=None if required else "digits", required=required, type=_dataset,
                   help="digits (scikit-learn's 8x8, built in), mnist or fashion-mnist (IDX files)")
    p.add_argument("--data-dir", default=None, type=path_text,
                   help="folder of the IDX files (default for fashion-mnist: /usr/share/datasets/fashion-mnist)")


def _add_model_args(p, layers_default=None):
    p.add_argument("--layers", type=_layers, default=layers_default,
                   help="layer sizes, input to classes, e.g. 64,128,64,10 (default: " + (
                       ",".join(map(str, layers_default)) if layers_default else
                       "features,256,128,10 for digits and fashion-mnist, features,128,64,10 for mnist") + ")")
    p.add_argument("--activation", default="relu", choices=sorted(ACTIVATIONS), help="hidden activation")
    p.add_argument("--weight-decay", type=_nonneg_float, default=0.0, help="L2 penalty 0.5*lambda*sum(W**2)")
    p.add_argument("--dropout", type=_fraction, default=0.0, help="dropout probability after each hidden layer")
    p.add_argument("--batchnorm", action="store_true", help="batch normalization before each activation")
    p.add_argument("--seed", type=_seed, default=0,
                   help="seed for initialization, shuffling and dropout (0 to 4294967295)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m nets``, with its subcommands (train, eval, gradcheck,
    graph, text)."""
    parser = _Parser(prog="python -m nets", description="Train and check fully connected networks (autograd_np).")
    sub = parser.add_subparsers(dest="command", metavar="{train,eval,gradcheck,graph,text}")

    tr = sub.add_parser("train", help="train a MultiLayerNet (or the book's SimpleConvNet) and write model, history, "
                                      "curves and graph")
    _add_data_args(tr)
    _add_model_args(tr)
    tr.add_argument("--model", choices=_models.ARCHITECTURES, default="mlp",
                    help="mlp: MultiLayerNet of --layers (default); cnn: the book's SimpleConvNet on the images; "
                         "convnet: ConvNet, two blocks of conv 3x3 (32, 64), batch norm, ReLU, max-pool, then 128 "
                         "hidden units (--dropout before the last affine)")
    tr.add_argument("--channels", type=_channels, default=None,
                    help="--model convnet: filters of each block, e.g. 32,64,128 (default 32,64; 32 on images "
                         "under 16 pixels)")
    tr.add_argument("--optimizer", default="adam", choices=sorted(_optim.OPTIMIZERS))
    tr.add_argument("--lr", type=_positive_float, default=None,
                    help="learning rate (default per optimizer; adam 0.001)")
    tr.add_argument("--epochs", type=_epochs, default=None, help="default: 30 for digits, 10 otherwise")
    tr.add_argument("--batch-size", type=_positive_int, default=None, help="default: 32 for digits, 100 otherwise")
    tr.add_argument("--val", type=_count, default=0, metavar="N",
                    help="hold the last N training images out as a validation set (default 0: none)")
    tr.add_argument("--early-stopping", type=_positive_int, default=None, metavar="PATIENCE",
                    help="stop after PATIENCE epochs without a better validation loss (the test loss without "
                         "--val) and keep the best epoch's weights")
    tr.add_argument("--schedule", choices=SCHEDULES, default="constant",
                    help="learning rate per epoch: constant, step (x0.1 at 1/2 and 3/4 of the epochs), cosine "
                         "(down to 0 at the last epoch) or plateau (x0.1 after 2 epochs without improvement)")
    tr.add_argument("--clip-norm", type=_positive_float, default=None, metavar="X",
                    help="clip the gradients' global L2 norm to X before every step")
    tr.add_argument("--out", default=None, type=path_text, help="output folder (default runs/<dataset>)")
    tr.add_argument("--resume", action="store_true", help="continue from <out>/checkpoint.npz")
    tr.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                    help="tqdm progress bars (default: when stderr is a terminal)")
    tr.add_argument("--quiet", action="store_true", help="no per-epoch lines")

    ev = sub.add_parser("eval", help="print loss and accuracy of a saved model")
    ev.add_argument("--model", required=True, type=path_text, help="a model.npz (or checkpoint.npz) written by train")
    _add_data_args(ev)
    ev.add_argument("--split", choices=("test", "train"), default="test")

    gc = sub.add_parser("gradcheck", help="compare backprop with numerical gradients (float64)")
    _add_data_args(gc)
    _add_model_args(gc)
    gc.add_argument("--batch", type=_positive_int, default=4, help="samples in the checked batch")
    gc.add_argument("--max-elements", type=_many, default=None,
                    help="check at most this many elements per parameter (default all)")
    gc.add_argument("--tol", type=_positive_float, default=1e-7, help="allowed mean |difference| per parameter")
    gc.add_argument("--explain", action="store_true",
                    help="also print the backward pass step by step (ag.explain) on 2 samples")

    gr = sub.add_parser("graph", help="draw a model's graph (one forward pass and loss on a random batch)")
    _add_model_args(gr, layers_default=[784, 128, 64, 10])
    gr.add_argument("--batch", type=_positive_int, default=100, help="rows of the random input batch")
    gr.add_argument("--collapse", action="store_true", help="draw each layer as one node")
    gr.add_argument("--show-grads", action="store_true", help="gradient norms of every tensor, coloured")
    gr.add_argument("--html", action="store_true",
                    help="write the explorer page instead of a picture (ag.viz.explore: one self-contained HTML file "
                         "with each node's values and gradient and the backward pass step by step); --out then "
                         "defaults to graph.html")
    gr.add_argument("--out", default=None, type=path_text,
                    help="picture file; its suffix picks the format: .svg (default graph.svg), .png, .pdf, .dot, "
                         "or .html for the explorer page")
    add_text_parser(sub)  # the character-level language model (nets.cli.text)
    return parser
