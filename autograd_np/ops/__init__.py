"""Every op, grouped by kin.  Each module defines an op's forward and its VJP
side by side; importing them registers the ops in ``registry.OPS``."""
from .arithmetic import add, div, mul, neg, power, sub
from .linalg import affine, matmul
from .reductions import max, mean, min, sum
from .shape import astype, broadcast_to, concatenate, getitem, index_add, reshape, stack, sum_to, transpose
from .elementwise import abs, clip, exp, log, maximum, sqrt, where
from .activations import log_softmax, relu, sigmoid, softmax, tanh
from .losses import mean_squared_error, softmax_cross_entropy
from . import conv as _conv
from .conv import *  # noqa: F401,F403  (convolution and pooling: conv.__all__)

__all__ = ["add", "sub", "mul", "div", "neg", "power", "matmul", "affine", "sum", "mean", "max", "min",
           "reshape", "transpose", "getitem", "index_add", "concatenate", "stack", "broadcast_to", "sum_to",
           "astype", "exp", "log", "sqrt", "abs", "maximum", "clip", "where", "sigmoid", "relu", "tanh",
           "softmax", "log_softmax", "softmax_cross_entropy", "mean_squared_error"]
__all__ += _conv.__all__
