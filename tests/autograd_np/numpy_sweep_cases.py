"""Example calls for the NumPy dispatch sweep (``test_numpy_dispatch_sweep.py``): one or
more valid calls per NumPy function and ufunc the dispatch handles.  Every ndarray in a
call is an array-like position the sweep puts a tensor in (a float array: a
differentiable candidate; an integer or boolean one: an index, a condition); a list of
ndarrays gives one position per element.  Values are chosen away from kinks (no ties,
nothing on an integer for floor and the like) so that central differences are the
derivative.  A data tensor (no grad) in a call makes NumPy dispatch it whatever the probed
position.  ``DOCUMENTED`` lists the positions NumPy itself does not dispatch on."""
import numpy as np

import autograd_np as ag

rng = np.random.default_rng(20)


def u(lo, hi, *shape):
    return rng.uniform(lo, hi, shape)


class Case:
    def __init__(self, args, kwargs):
        self.args, self.kwargs = args, kwargs

    def __repr__(self):
        given = [*map(_short, self.args), *(f"{k}={_short(v)}" for k, v in self.kwargs.items())]
        return f"Case({', '.join(given)})"


def _short(v):
    return f"array{v.shape}:{v.dtype}" if isinstance(v, np.ndarray) else repr(v)


def C(*args, **kwargs):
    return Case(args, kwargs)


X, Y = u(0.2, 0.9, 3, 4), u(0.2, 0.9, 3, 4)
V, W, Z = u(0.2, 0.9, 4), u(0.2, 0.9, 3), u(0.2, 0.9, 3)
X3, V6 = u(0.2, 0.9, 2, 3, 4), u(0.2, 0.9, 6)
M = u(-1, 1, 3, 3) + 3 * np.eye(3)
SPD = M @ M.T + np.eye(3)
A0, B0 = np.array(0.4), np.array(0.7)
IDX = np.array([0, 2, 2, 1])

FUNCTIONS = {
    # reductions (where=, initial=, out= and dtype= too)
    np.sum: [C(X, axis=0), C(X), C(X, dtype=int), C(X, 0, np.float64), C(X, where=X > 0.5), C(X, initial=A0),
             C(X, 1, out=np.zeros(3))],
    np.mean: [C(X, axis=1), C(X, 0, np.int32), C(X, where=X > 0.5)],
    np.prod: [C(X, axis=0), C(X, dtype=np.complex128), C(X, initial=A0)],
    np.max: [C(X, axis=1), C(X, initial=A0), C(X, 0, where=X > 0.5, initial=A0)],
    np.amax: [C(X)], np.min: [C(X, axis=0)], np.amin: [C(X, axis=1)],
    np.var: [C(X, axis=0, ddof=1), C(X, dtype=int), C(X, 1, keepdims=True, mean=X.mean(1, keepdims=True))],
    np.std: [C(X, axis=1)], np.cumsum: [C(X, axis=1), C(X, dtype=bool)], np.cumprod: [C(X, axis=0)],
    np.median: [C(X, axis=1)], np.trace: [C(X), C(X, 1), C(X, dtype=int)],
    # layout
    np.copy: [C(X)], np.reshape: [C(X, (4, 3))], np.transpose: [C(X3, (2, 0, 1))], np.ravel: [C(X)],
    np.squeeze: [C(X[None])], np.expand_dims: [C(X, 1)], np.atleast_1d: [C(V, A0)], np.atleast_2d: [C(V)],
    np.atleast_3d: [C(X)], np.moveaxis: [C(X3, 0, -1)], np.swapaxes: [C(X, 0, 1)], np.flip: [C(X, 1)],
    np.fliplr: [C(X)], np.flipud: [C(X)], np.rot90: [C(X)],
    np.roll: [C(X, 1, axis=1), C(X, np.array([1, 2]), (0, 1))],
    np.repeat: [C(V, np.array([1, 2, 0, 3]))], np.tile: [C(V, (2, 2)), C(V, np.array([2, 1]))],
    np.concatenate: [C([X, Y], axis=1), C([X, V], axis=None), C([X, Y], dtype=int)],
    np.stack: [C([V, V[::-1] + 0.05]), C([V, V], dtype=np.float64, casting="no")],
    np.hstack: [C([V, W])], np.vstack: [C([X, V])], np.dstack: [C([X, Y])], np.column_stack: [C([W, X])],
    np.append: [C(V, W)], np.split: [C(V6, 3), C(V6, np.array([2, 5]))], np.array_split: [C(V6, 4)],
    np.hsplit: [C(X, 2)], np.vsplit: [C(X, 3)],
    np.pad: [C(X, 1, constant_values=A0), C(X, ((1, 0), (0, 2)), "edge"), C(X, np.array([[1, 0], [0, 2]]))],
    np.diff: [C(V, prepend=A0, append=W)], np.sort: [C(X, axis=1)], np.partition: [C(V6, np.array([1, 4]))],
    np.take: [C(V, IDX)], np.take_along_axis: [C(X, np.argsort(X, axis=1), axis=1)],
    np.broadcast_to: [C(V, (3, 4))], np.broadcast_arrays: [C(V, W[:, None])],
    np.where: [C(X > 0.5, X, Y), C(X > 0.5)],
    np.clip: [C(X, A0, B0), C(X, min=W[:, None] * 0.5, max=B0), C(X, A0, None, out=np.zeros((3, 4)))],
    np.diagonal: [C(X)], np.diag: [C(V), C(M)], np.tril: [C(X, -1)], np.triu: [C(X, 1)],
    np.linspace: [C(A0, B0 + 1, 5), C(W, Z + 1, 4)],
    # contractions and linear algebra
    np.dot: [C(X, V)], np.vdot: [C(X, Y)], np.inner: [C(X, V)], np.outer: [C(V, W)],
    np.tensordot: [C(X, Y, axes=([1], [1]))], np.einsum: [C("ij,kj->ik", X, Y)], np.kron: [C(W, V)],
    np.cross: [C(W, Z)], np.linalg.inv: [C(M)], np.linalg.det: [C(M)], np.linalg.slogdet: [C(M)],
    np.linalg.solve: [C(M, W)], np.linalg.norm: [C(X), C(V, 1), C(V, np.array(3.0))],
    np.linalg.cholesky: [C(SPD)], np.linalg.eigh: [C(SPD)], np.linalg.eigvalsh: [C(SPD)],
    np.linalg.pinv: [C(X), C(X, rcond=np.array(1e-12))], np.linalg.matrix_power: [C(M, 3)],
    np.linalg.svd: [C(X, full_matrices=False)],
    # elementwise functions that are not ufuncs
    np.round: [C(X, 1)], np.around: [C(X)], np.fix: [C(X * 3 - 1.4)],
    np.nan_to_num: [C(X), C(np.array([np.nan, 0.5, np.inf, -np.inf]), nan=A0, posinf=B0, neginf=-B0)],
    np.real: [C(X)], np.real_if_close: [C(X), C(X, np.array(100.0))], np.imag: [C(X)], np.angle: [C(X - 0.5)],
    np.bincount: [C(IDX, weights=V, minlength=5)], np.full_like: [C(X, A0), C(ag.Tensor(X), A0)],
}

VALUE_FUNCTIONS = {
    np.shape: [C(X)], np.ndim: [C(X)], np.size: [C(X)], np.argmax: [C(X, axis=1)], np.argmin: [C(X)],
    np.argsort: [C(V)], np.argpartition: [C(V, 1)], np.argwhere: [C(X - 0.5)], np.nonzero: [C(X - 0.5)],
    np.flatnonzero: [C(X - 0.5)], np.count_nonzero: [C(X)],
    np.searchsorted: [C(np.sort(V), W), C(V, W, sorter=np.argsort(V))], np.all: [C(X)], np.any: [C(X)],
    np.isclose: [C(X, Y), C(X, Y, np.array(0.5), np.array(0.1))], np.allclose: [C(X, Y)],
    np.array_equal: [C(X, Y)], np.array_equiv: [C(X, V)], np.zeros_like: [C(X)], np.ones_like: [C(X)],
    np.empty_like: [C(X)], np.iscomplexobj: [C(X)], np.isrealobj: [C(X)], np.iscomplex: [C(X)],
    np.isreal: [C(X)], np.isneginf: [C(X)], np.isposinf: [C(X)], np.result_type: [C(X, V)],
    np.can_cast: [C(X, np.float32)], np.min_scalar_type: [C(X)], np.may_share_memory: [C(X, Y)],
    np.shares_memory: [C(X, Y)], np.array2string: [C(X)], np.array_repr: [C(X)], np.array_str: [C(X)],
    np.digitize: [C(V, np.sort(W))],
}

# Value functions whose float results do not depend on the values at all (templates).
VALUE_INDEPENDENT = {np.zeros_like, np.ones_like, np.empty_like}
UNINITIALISED = {np.empty_like}  # values not compared

# ufuncs: (low, high) of every input's values (one pair for all, or one per input); integer
# ufuncs take "int".
POS, SIGNED = (0.2, 0.9), (-0.9, 0.9)
UFUNC_DOMAINS = {
    np.add: SIGNED, np.subtract: SIGNED, np.multiply: SIGNED, np.divide: [SIGNED, POS], np.power: [(0.5, 1.5), SIGNED],
    np.float_power: [(0.5, 1.5), SIGNED], np.negative: SIGNED, np.positive: SIGNED, np.absolute: SIGNED,
    np.fabs: SIGNED, np.matmul: SIGNED, np.exp: SIGNED, np.exp2: SIGNED, np.expm1: SIGNED, np.log: POS,
    np.log2: POS, np.log10: POS, np.log1p: POS, np.logaddexp: SIGNED, np.logaddexp2: SIGNED, np.sqrt: POS,
    np.cbrt: POS, np.square: SIGNED, np.reciprocal: POS, np.sin: SIGNED, np.cos: SIGNED, np.tan: SIGNED,
    np.arcsin: SIGNED, np.arccos: SIGNED, np.arctan: SIGNED, np.arctan2: SIGNED, np.hypot: SIGNED,
    np.sinh: SIGNED, np.cosh: SIGNED, np.tanh: SIGNED, np.arcsinh: SIGNED, np.arccosh: (1.2, 3.0),
    np.arctanh: SIGNED, np.deg2rad: SIGNED, np.rad2deg: SIGNED, np.radians: SIGNED, np.degrees: SIGNED,
    np.maximum: SIGNED, np.minimum: SIGNED, np.fmax: SIGNED, np.fmin: SIGNED, np.remainder: [(2.1, 2.9), POS],
    np.fmod: [(2.1, 2.9), POS], np.floor_divide: [(2.1, 2.9), POS], np.divmod: [(2.1, 2.9), POS],
    np.sign: SIGNED, np.floor: (0.1, 2.9), np.ceil: (0.1, 2.9), np.trunc: (-2.9, 2.9), np.rint: (0.6, 1.4),
    np.conjugate: SIGNED,
    # no derivative
    np.equal: SIGNED, np.not_equal: SIGNED, np.less: SIGNED, np.less_equal: SIGNED, np.greater: SIGNED,
    np.greater_equal: SIGNED, np.isfinite: SIGNED, np.isnan: SIGNED, np.isinf: SIGNED, np.signbit: SIGNED,
    np.logical_and: SIGNED, np.logical_or: SIGNED, np.logical_xor: SIGNED, np.logical_not: SIGNED,
    np.bitwise_and: "int", np.bitwise_or: "int", np.bitwise_xor: "int", np.invert: "int", np.left_shift: "int",
    np.right_shift: "int", np.gcd: "int", np.lcm: "int",
}


def ufunc_cases(ufunc):
    """Calls of ``ufunc`` on inputs of shapes (3, 4) and (4,) (broadcast), or (3, 4) @ (4, 2)."""
    domain = UFUNC_DOMAINS[ufunc]
    if domain == "int":
        return [C(*[np.arange(1, 13).reshape(3, 4), np.array([1, 2, 3, 2])][:ufunc.nin])]
    domains = domain if isinstance(domain, list) else [domain] * ufunc.nin
    shapes = [(3, 4), (4, 2)] if ufunc is np.matmul else [(3, 4), (4,)]
    return [C(*[u(lo, hi, *shape) for (lo, hi), shape in zip(domains, shapes)])]


def method_cases(ufunc, method):
    """Calls of a ufunc's method (reduce, accumulate, reduceat, outer, at)."""
    if ufunc.nin != 2:
        return [C(u(0.2, 0.9, 3, 4))]
    if UFUNC_DOMAINS.get(ufunc) == "int":
        a, b = np.arange(1, 13).reshape(3, 4), np.array([1, 2, 3])
    else:
        a, b = u(0.5, 0.9, 3, 4), u(0.5, 0.9, 3)
    return {"reduce": [C(a, axis=1), C(a, axis=None), C(a, 0, int)], "accumulate": [C(a, axis=0), C(a, 1, bool)],
            "reduceat": [C(a, np.array([0, 2]), axis=1)], "outer": [C(a[0], b)],
            "at": [C(a.copy(), np.array([0, 1]), b[:2, None])]}[method]


METHOD_NAMES = ("reduce", "accumulate", "reduceat", "outer", "at")

# Positions NumPy does not dispatch on: a tensor there (and only there) reaches NumPy's own
# code, which reads its values (Tensor.__array__), so its gradient cannot be recorded.
DOCUMENTED = {
    (np.pad, "constant_values"): "NumPy dispatches np.pad on its array only",
    (np.prod, "initial"): "NumPy dispatches its reductions on a (and out) only; initial= is read as a number",
    (np.sum, "initial"): "as np.prod", (np.max, "initial"): "as np.prod",
}
# NumPy functions that, not dispatched (a list holding the tensor, a tensor in a parameter they do
# not dispatch on), pass it on to another NumPy function, which refuses it: the TypeError names that one.
REFUSED_BY = {np.full_like: "numpy.copyto", np.nan_to_num: "numpy.copyto", np.sum: "numpy.add.reduce",
              np.max: "numpy.maximum.reduce", np.mean: "numpy.add.reduce", np.linalg.norm: "numpy.power"}
