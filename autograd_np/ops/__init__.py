"""Every op, grouped by kin.  Each module defines an op's forward and its VJP
side by side; importing them registers the ops in ``registry.OPS``.  The
functions composed from ops (``std``, ``tensordot``, the layout functions)
live beside them in the same modules."""
from .arithmetic import add, div, mul, neg, power, sub
from .linalg import affine, matmul
from .reductions import cumprod, cumsum, logsumexp, max, mean, median, min, prod, std, sum, var
from .shape import astype, broadcast_to, concatenate, copy, getitem, index_add, reshape, stack, sum_to, transpose
from .elementwise import abs, cbrt, clip, erf, exp, exp2, expm1, fmax, fmin, log, log1p, log2, log10, logaddexp, logaddexp2, maximum, minimum, nan_to_num, reciprocal, sqrt, square, where
from .numeric import ceil, fix, floor, floor_divide, fmod, mod, remainder, rint, round, sign, trunc
from .trig import arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh, cos, cosh, deg2rad, degrees, hypot, rad2deg, radians, sin, sinh, tan
from .activations import log_softmax, relu, sigmoid, softmax, tanh
from .losses import mean_squared_error, softmax_cross_entropy
from .contraction import cross, dot, einsum, inner, kron, outer, tensordot, trace, vdot
from .layout import append, array, array_split, atleast_1d, atleast_2d, atleast_3d, broadcast_arrays, column_stack, diag, diagonal, diff, dstack, expand_dims, flatten, flip, fliplr, flipud, hsplit, hstack, linspace, moveaxis, pad, partition, ravel, repeat, roll, rot90, sort, split, squeeze, swapaxes, take, take_along_axis, tile, tril, triu, vsplit, vstack
from .nn import embedding, gelu, layer_norm, leaky_relu, silu, softplus
from .effects import batch_norm, dropout_mask
from .factories import arange, full, ones, rand, randn, tensor, zeros
from . import conv as _conv
from . import matrix as _matrix
from .matrix import *
from . import decompositions as _decompositions
from .decompositions import *
from .conv import *

__all__ = ["add", "sub", "mul", "div", "neg", "power", "matmul", "affine",
           "sum", "mean", "max", "min", "prod", "var", "std", "cumsum", "cumprod", "median", "logsumexp",
           "reshape", "transpose", "getitem", "index_add", "concatenate", "stack", "broadcast_to", "sum_to", "astype",
           "exp", "exp2", "expm1", "log", "log1p", "log2", "log10", "logaddexp", "logaddexp2", "sqrt", "cbrt", "square",
           "reciprocal", "abs", "maximum", "minimum", "fmax", "fmin", "clip", "where", "nan_to_num", "erf",
           "sign", "floor", "ceil", "trunc", "fix", "rint", "round", "remainder", "mod", "fmod", "floor_divide",
           "sin", "cos", "tan", "arcsin", "arccos", "arctan", "arctan2", "hypot", "sinh", "cosh", "arcsinh", "arccosh",
           "arctanh", "deg2rad", "rad2deg", "radians", "degrees",
           "sigmoid", "relu", "tanh", "softmax", "log_softmax", "softmax_cross_entropy", "mean_squared_error",
           "einsum", "tensordot", "dot", "inner", "outer", "vdot", "kron", "trace", "cross", "copy",
           "ravel", "flatten", "squeeze", "expand_dims", "atleast_1d", "atleast_2d", "atleast_3d", "moveaxis",
           "swapaxes", "flip", "fliplr", "flipud", "rot90", "roll", "sort", "partition", "take", "take_along_axis",
           "repeat", "tile", "hstack", "vstack", "dstack", "column_stack", "append", "split", "array_split", "hsplit",
           "vsplit", "pad", "diff", "diagonal", "diag", "tril", "triu", "array", "linspace", "broadcast_arrays",
           "leaky_relu", "softplus", "gelu", "silu", "layer_norm", "embedding"]
__all__ += _conv.__all__
__all__ += _matrix.__all__
__all__ += _decompositions.__all__
__all__ += ["batch_norm", "dropout_mask"]
__all__ += ["tensor", "zeros", "ones", "full", "arange", "randn", "rand"]  # factories: new leaves, PyTorch's names


def _wrapper_rules():
    """A public function that wraps the op of its name (``det`` checks its argument, then
    applies the op ``det``) shows that op's derivative rule too: from ``defop``, one place."""
    from ..core.recording import with_derivative
    from ..core.registry import OPS
    for name in __all__:
        fn, op = globals()[name], OPS.get(name)
        if op is not None and fn is not op.apply and f"Derivative: ``{op.rule}``" not in (fn.__doc__ or ""):
            fn.__doc__ = with_derivative(fn.__doc__, op.rule)


_wrapper_rules()
