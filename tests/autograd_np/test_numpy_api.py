"""NumPy's own functions on tensors (``autograd_np/numpy_api.py``): they record
or raise, never compute silently without a graph.  The second half runs the
combinations of HIPS autograd's systematic tests (``tests/test_systematic.py``
and ``tests/test_numpy.py`` there) through NumPy's functions on tensors, first
and second order."""
import itertools
import operator

import numpy as np
import pytest
from hypothesis import given, settings

import autograd_np as ag
from autograd_np.interop import dispatch as numpy_api
from autograd_np.testing import COMPOSITE_SPECS, OP_SPECS
from autograd_np.testing.specs_layout import einsum_subscripts

ALL_SPECS = {**OP_SPECS, **COMPOSITE_SPECS}


def T(x, dtype=np.float64):
    return ag.Tensor(np.array(x, dtype=dtype), requires_grad=True)


def _np_grad(fn, *xs):
    ts = [T(x) for x in xs]
    return [g.data for g in ag.grad(ag.sum(fn(*ts) * 1.0), ts)]


# --- NumPy calls record ------------------------------------------------------------

@pytest.mark.parametrize("call, ours", [
    (lambda x: np.exp(x), lambda x: ag.exp(x)),
    (lambda x: np.sin(x) * np.cos(x), lambda x: ag.sin(x) * ag.cos(x)),
    (lambda x: np.sum(x, axis=0, keepdims=True), lambda x: ag.sum(x, axis=0, keepdims=True)),
    (lambda x: np.mean(x ** 2), lambda x: ag.mean(x ** 2)),
    (lambda x: np.var(x, 1, ddof=1), lambda x: ag.var(x, axis=1, ddof=1)),
    (lambda x: np.std(x, axis=0), lambda x: ag.std(x, axis=0)),
    (lambda x: np.concatenate([x, 2 * x], axis=1), lambda x: ag.concatenate([x, 2 * x], axis=1)),
    (lambda x: np.stack([x, np.ones((3, 4))]), lambda x: ag.stack([x, np.ones((3, 4))])),
    (lambda x: np.einsum("ij,kj->ik", x, x), lambda x: x @ x.T),
    (lambda x: np.tensordot(x, x, axes=([0], [0])), lambda x: x.T @ x),
    (lambda x: np.dot(x, 2.0), lambda x: x * 2.0),
    (lambda x: np.reshape(x, (4, 3)), lambda x: ag.reshape(x, shape=(4, 3))),
    (lambda x: np.maximum(x, 0.1), lambda x: ag.maximum(x, 0.1)),
    (lambda x: np.where(np.ones((3, 4)) > 0, x, 0.0), lambda x: x),
    (lambda x: np.add.reduce(x, axis=1), lambda x: ag.sum(x, axis=1)),
    (lambda x: np.add.accumulate(x), lambda x: ag.cumsum(x, axis=0)),
    (lambda x: np.clip(x, -0.5, 0.5), lambda x: ag.clip(x, -0.5, 0.5)),
])
def test_numpy_functions_on_tensors_record_the_same_graph_as_ours(call, ours):
    x = np.random.default_rng(0).standard_normal((3, 4))
    out = call(T(x))
    assert type(out) is ag.Tensor and out.requires_grad
    for a, b in zip(_np_grad(call, x), _np_grad(ours, x)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_ndarrays_and_numpy_scalars_on_the_left_record():
    a, x = np.arange(12.0).reshape(3, 4), T(np.ones((4, 3)))
    for y in (a @ x, a.T * x, np.multiply(a.T, x), np.float64(2.0) * x, a.T - x, a.T / (x + 1), a.T ** x):
        assert type(y) is ag.Tensor and y.requires_grad
    g, = ag.grad(ag.sum(a @ x), [x])
    np.testing.assert_array_equal(g.data, np.broadcast_to(a.sum(axis=0)[:, None], (4, 3)))
    x32 = T(np.ones(3), np.float32)
    assert (np.float64(2.0) * x32).dtype == np.float32  # a NumPy scalar does not upcast float32
    assert (np.arange(3.0) < x32).dtype == bool         # comparisons: plain boolean arrays, as t < a


def test_value_functions_give_numpy_results():
    x = T(np.array([[1.0, 3.0], [2.0, np.nan]]))
    assert np.shape(x) == (2, 2) and np.ndim(x) == 2 and np.size(x) == 4
    assert type(np.isnan(x)) is np.ndarray and np.isnan(x)[1, 1]
    assert np.argmax(np.nan_to_num(x.data)) == 1 and np.nanargmax is not None
    assert type(np.zeros_like(x)) is np.ndarray and type(np.all(x > 0)) is np.bool_
    assert np.allclose(x, x, equal_nan=True) and x.argmax() == 3


def test_numpy_linalg_on_tensors_records():
    rng = np.random.default_rng(0)
    a = ag.Tensor(rng.standard_normal((3, 3)) + 4 * np.eye(3), requires_grad=True)
    b = rng.standard_normal(3)
    sign, logdet = np.linalg.slogdet(a)
    results = [np.linalg.inv(a), np.linalg.det(a), logdet, np.linalg.solve(a, b), np.linalg.norm(a, 1)]
    want = [np.linalg.inv(a.data), np.linalg.det(a.data), np.linalg.slogdet(a.data)[1],
            np.linalg.solve(a.data, b), np.linalg.norm(a.data, 1)]
    for got, expected in zip(results, want):
        assert type(got) is ag.Tensor and got.requires_grad and np.allclose(got.data, expected)
    assert sign == np.sign(np.linalg.det(a.data)) and type(sign) is not ag.Tensor
    ag.sum(np.linalg.inv(a)).backward()
    assert a.grad.shape == (3, 3)
    with pytest.raises(ag.ShapeError, match=r"inv: .*Singular matrix \(shapes \[\(2, 2\)\]\)"):
        ag.inv(ag.Tensor(np.ones((2, 2)), requires_grad=True))
    with pytest.raises(ag.ShapeError, match=r"det: needs square matrices \(\.\.\., n, n\), got shape \(2, 3\)"):
        ag.det(T(np.ones((2, 3))))


def test_numpy_linalg_decompositions_on_tensors_record():
    rng = np.random.default_rng(1)
    b = rng.standard_normal((2, 3, 3))
    spd = b @ np.swapaxes(b, -1, -2) + 3 * np.eye(3)
    a = ag.Tensor(spd, requires_grad=True)
    w, v = np.linalg.eigh(a)
    calls = [(np.linalg.cholesky(a), np.linalg.cholesky(spd)), (np.linalg.cholesky(a, upper=True),
             np.linalg.cholesky(spd, upper=True)), (w, np.linalg.eigh(spd)[0]), (v, np.linalg.eigh(spd)[1]),
             (np.linalg.eigvalsh(a, "U"), np.linalg.eigvalsh(spd, "U")), (np.linalg.pinv(a), np.linalg.pinv(spd)),
             (np.linalg.matrix_power(a, -2), np.linalg.matrix_power(spd, -2)),
             (np.linalg.svd(a, compute_uv=False), np.linalg.svd(spd, compute_uv=False))]
    u, s, vh = np.linalg.svd(a)
    assert np.allclose((u * s[..., None, :]) @ vh, spd)  # (a square matrix: full and reduced are one)
    for got, want in calls:
        assert type(got) is ag.Tensor and got.requires_grad and np.allclose(got.data, want)
    ag.sum(np.linalg.cholesky(a)).backward()
    assert a.grad.shape == spd.shape and np.all(np.triu(a.grad[0], 1) == 0)  # the unread triangle: no gradient
    with pytest.raises(TypeError, match=r"numpy.linalg.pinv\(\.\.\., rcond=\.\.\.\)"):
        np.linalg.pinv(a, rcond=1e-3)
    with pytest.raises(Exception, match=r"cholesky: .*not positive definite"):
        ag.cholesky(ag.Tensor(-np.eye(2), requires_grad=True))
    with pytest.raises(ag.ShapeError, match=r"eigh: needs square matrices"):
        ag.eigh(T(np.ones((2, 3))))
    with pytest.raises(ValueError, match=r"svd: full_matrices=True of a non-square \(2, 3\) matrix"):
        np.linalg.svd(T(np.ones((2, 3))))


@pytest.mark.parametrize("call, names", [
    (lambda x, a: np.linalg.lstsq(x, x), ["numpy.linalg.lstsq", "t.data"]),
    (lambda x, a: np.linalg.qr(x), ["numpy.linalg.qr", "t.data"]),
    (lambda x, a: np.linalg.eig(x), ["numpy.linalg.eig", "t.data"]),
    (lambda x, a: np.percentile(x, 50), ["numpy.percentile", "t.data"]),
    (lambda x, a: np.frexp(x), ["numpy.frexp", "t.data"]),
    (lambda x, a: np.add.at(x, [0], 1.0), ["numpy.add.at"]),
    (lambda x, a: np.add.reduceat(x, [0]), ["numpy.add.reduceat"]),
    (lambda x, a: np.maximum.accumulate(x), ["numpy.maximum.accumulate"]),
    (lambda x, a: np.exp(x, out=a), ["numpy.exp", "out="]),
    (lambda x, a: np.exp(x, dtype=np.float32), ["numpy.exp", "dtype="]),
    (lambda x, a: np.sum(x, out=a[0]), ["numpy.sum", "out="]),
    (lambda x, a: np.sum(x, where=a > 0), ["numpy.sum", "where="]),
    (lambda x, a: np.reshape(x, (3, 2), order="F"), ["numpy.reshape", "order="]),
    (lambda x, a: np.nan_to_num(x, copy=False), ["numpy.nan_to_num", "copy="]),
    (lambda x, a: np.add(a, x, out=a), ["numpy.add", "a = a + t"]),
])
def test_unsupported_numpy_calls_raise_naming_the_function(call, names):
    x, a = T(np.ones((2, 3))), np.ones((2, 3))
    with pytest.raises(TypeError) as err:
        call(x, a)
    for name in names:
        assert name in str(err.value), str(err.value)


def test_in_place_ndarray_arithmetic_with_a_tensor_raises():
    a = np.zeros(3)
    with pytest.raises(TypeError, match="a = a \\+ t"):
        a += T(np.ones(3))
    np.testing.assert_array_equal(a, 0)


def test_what_numpy_does_not_dispatch_gives_values_and_ag_array_records():
    t1, t2 = T(1.0), T(2.0)
    assert type(np.asarray(t1)) is np.ndarray and float(t1) == 1.0
    assert type(np.array([t1, t2])) is np.ndarray  # NumPy calls __array__ on each element: values
    y = ag.array([[t1, t1 * 2.0], [t2, 3.0]])
    assert y.shape == (2, 2) and y.requires_grad
    g1, g2 = ag.grad(ag.sum(y), [t1, t2])
    assert float(g1) == 3.0 and float(g2) == 1.0


def test_tensor_methods_and_operators_mirror_numpy():
    x = np.random.default_rng(1).uniform(0.5, 2.0, (3, 4))
    t = T(x)
    for got, want in [(t.var(axis=0, ddof=1), x.var(axis=0, ddof=1)), (t.std(), x.std()), (t.prod(axis=1), x.prod(1)),
                      (t.cumsum(axis=1), x.cumsum(1)), (t.ravel(), x.ravel()), (t.flatten(), x.flatten()),
                      (t.reshape(1, 12).squeeze(), x.reshape(12)), (t.repeat(2, axis=0), x.repeat(2, axis=0)),
                      (t.swapaxes(0, 1), x.swapaxes(0, 1)), (t.dot(x.T), x.dot(x.T)), (t.trace(), x.trace()),
                      (t.diagonal(1), x.diagonal(1)), (t.round(1), x.round(1)), (t % 0.7, x % 0.7),
                      (1.5 % t, 1.5 % x), (t // 0.7, x // 0.7), (2.0 // t, 2.0 // x), (abs(-t), x), (+t, x),
                      (divmod(t, 0.7)[1], x % 0.7)]:
        assert type(got) is ag.Tensor
        np.testing.assert_allclose(got.data, want, rtol=1e-12)
    g, = ag.grad(ag.sum(t % 0.7 + t // 0.7), [t])
    np.testing.assert_array_equal(g.data, np.ones_like(x))  # remainder: slope 1; floor_divide: 0


def test_complex_numbers_cannot_enter_a_differentiable_graph():
    with pytest.raises(TypeError, match="real floating-point"):
        ag.Tensor(np.ones(2) + 1j, requires_grad=True)
    t = T(np.ones(2))
    with pytest.raises(TypeError, match="complex"):
        ag.exp(t * 1j)  # a real tensor times a complex number: refused, not differentiated wrongly
    with pytest.raises(Exception, match="complex"):
        ag.astype(t, dtype=np.complex128)
    z = ag.Tensor(np.array([1 + 2j, -1j]))  # complex data without grad: NumPy on its values
    np.testing.assert_array_equal(np.real(z).data, [1, 0])
    np.testing.assert_array_equal(np.imag(z).data, [2, -1])
    np.testing.assert_array_equal(np.imag(t).data, [0, 0])
    assert np.conj(t) is t and np.real(t) is t


@settings(max_examples=30)
@given(written=einsum_subscripts())
def test_einsum_reads_subscripts_as_numpy_does(written):
    subscripts, operands = written
    want = np.einsum(subscripts, *operands)
    got = np.einsum(subscripts, *[T(x) for x in operands])
    assert got.shape == want.shape
    np.testing.assert_allclose(got.data, want, rtol=1e-12, atol=1e-12)
    if subscripts == "ij,jk->ik":  # and NumPy's sublist form
        np.testing.assert_allclose(ag.einsum(operands[0], [0, 1], operands[1], [1, 2], [0, 2]).data, want)


# --- the tables ----------------------------------------------------------------------

ISSUE_FUNCTIONS = ("sin cos tan sinh cosh arcsinh arccosh arctanh exp2 expm1 log1p log2 log10 square sign floor ceil "
                   "arctan2 hypot logaddexp minimum fmax fmin remainder prod var std cumsum einsum tensordot outer "
                   "inner kron trace diag tril triu dot ravel squeeze expand_dims flatten repeat tile roll flip "
                   "moveaxis swapaxes hstack vstack split array_split pad diff sort leaky_relu softplus gelu "
                   "logsumexp layer_norm embedding").split()


@pytest.mark.parametrize("name", ISSUE_FUNCTIONS)
def test_every_function_the_issue_asks_for_exists_and_is_in_the_op_table(name):
    fn = getattr(ag, name)
    aliases = {"flatten": "ravel"}
    assert aliases.get(name, name) in ALL_SPECS, f"{name} has no op-table entry"
    assert fn is ALL_SPECS[aliases.get(name, name)].fn or name in OP_SPECS or name in (
        "split", "array_split", "hstack", "vstack", "diff"), name  # (those are tested through a wrapper)


def test_every_op_with_a_numpy_namesake_is_dispatched():
    numpy_api._build()
    dispatched = set(numpy_api.UFUNCS) | set(numpy_api.FUNCTIONS)
    names = {"sub": "subtract", "mul": "multiply", "div": "divide", "neg": "negative", "max": "max", "min": "min"}
    missing = []
    for name in ALL_SPECS:
        fn = getattr(np, names.get(name, name), None)
        if fn is not None and callable(fn) and name not in ("array", "astype", "getitem", "sum_to", "index_add"):
            if fn not in dispatched:
                missing.append(name)
    assert not missing, f"NumPy functions with an op but no dispatch: {missing}"


# --- HIPS autograd's systematic combinations, through NumPy's functions ------------

rng = np.random.default_rng(0)


def R(*shape):
    return rng.standard_normal(shape)


def check(fn, *args):
    args = [np.array(a, dtype=np.float64) for a in args]
    assert ag.gradcheck(fn, args)
    assert ag.gradgradcheck(fn, args)


def _between(lims, x):
    return np.asarray(x) * (lims[1] - lims[0]) + lims[0]


UNARY = [(np.sin, [-2, 2]), (np.abs, [0.1, 4]), (np.absolute, [0.1, 4]), (np.arccosh, [1.1, 4]),
         (np.arcsinh, [-0.9, 0.9]), (np.arctanh, [-0.9, 0.9]), (np.ceil, [-1.5, 1.5]), (np.cos, [-2, 2]),
         (np.cosh, [-2, 2]), (np.deg2rad, [-2, 2]), (lambda x: np.degrees(x) / 50.0, [-2, 2]), (np.exp, [-2, 2]),
         (np.exp2, [-2, 2]), (np.expm1, [-2, 2]), (np.fabs, [-2, 2]), (np.floor, [-1.5, 1.5]), (np.log, [0.2, 2]),
         (np.log10, [0.2, 2]), (np.log1p, [0.2, 2]), (np.log2, [0.2, 2]), (lambda x: np.rad2deg(x) / 50.0, [-2, 2]),
         (np.radians, [-2, 2]), (np.sign, [-2, 2]), (np.sinh, [-2, 2]), (np.sqrt, [1, 3]), (np.square, [-2, 2]),
         (np.tan, [-1.1, 1.1]), (np.tanh, [-2, 2]), (np.real, [-2, 2]), (np.real_if_close, [-2, 2]),
         (np.imag, [-2, 2]), (np.conj, [-2, 2]), (np.angle, [-2, 2]), (np.rint, [-1.3, 1.3]),
         (np.trunc, [-1.5, 1.5]), (np.cbrt, [0.2, 2]), (np.reciprocal, [0.5, 2]), (np.arcsin, [-0.9, 0.9]),
         (np.arccos, [-0.9, 0.9]), (np.arctan, [-2, 2])]


@pytest.mark.parametrize("fn, lims", UNARY, ids=[getattr(f, "__name__", str(i)) for i, (f, _) in enumerate(UNARY)])
def test_hips_unary_ufuncs(fn, lims):
    for x in (_between(lims, 0.4), _between(lims, rng.random(2)), _between(lims, rng.random((3, 2))),
              _between(lims, rng.random((1, 2)))):
        check(fn, x)


BINARY = [(np.add, [-2, 2], [-2, 2], False), (np.logaddexp, [-2, 2], [-2, 2], False),
          (np.logaddexp2, [-2, 2], [-2, 2], False), (np.remainder, [-0.9, 0.9], [0.7, 1.9], True),
          (np.true_divide, [-2, 2], [0.3, 2.0], False), (np.mod, [-2, 2], [0.8, 2.1], True),
          (np.true_divide, [-2, 2], [-0.3, -2.0], False), (np.mod, [-2, 2], [-0.3, -2.0], True),
          (operator.mul, [-2, 2], [-2, 2], False), (operator.add, [-2, 2], [-2, 2], False),
          (operator.sub, [-2, 2], [-2, 2], False), (operator.mod, [-2, 2], [0.3, 2.0], True),
          (operator.mod, [-2, 2], [-0.3, -2.0], True), (operator.truediv, [-2, 2], [0.5, 2.0], False),
          (operator.pow, [0.7, 2.0], [-2, 2], False), (np.arctan2, [0.3, 2], [-2, 2], False),
          (np.hypot, [0.3, 2], [-2, 2], False), (np.fmod, [-0.9, 0.9], [0.7, 1.9], True),
          (np.floor_divide, [-0.9, 0.9], [0.7, 1.9], True)]


@pytest.mark.parametrize("fn, lims_a, lims_b, distinct", BINARY,
                         ids=[f"{getattr(f, '__name__', f)}-{i}" for i, (f, *_) in enumerate(BINARY)])
def test_hips_binary_ufuncs(fn, lims_a, lims_b, distinct):
    shapes = [(), (2,), (3, 2), (1, 2)]
    firsts = [rng.random(s) if s else np.array(0.6) for s in shapes]
    seconds = [rng.random(s) if s else np.array(0.7 if distinct else 0.6) for s in shapes] if distinct else firsts
    for a, b in itertools.product(firsts, seconds):
        check(fn, _between(lims_a, a), _between(lims_b, b))


@pytest.mark.parametrize("fn", [np.max, np.mean, np.min, np.sum, np.prod, np.var, np.std])
def test_hips_statistics(fn):
    x, A, B, C, D = 3.5, R(), R(3), R(2, 3), R(1, 3)
    for arg in (x, A):
        check(fn, arg)
    for arg, axis, keepdims in itertools.product([B, C, D], [None, 0], [True, False]):
        check(lambda v: fn(v, axis=axis, keepdims=keepdims), arg)
    for arg, axis, keepdims in itertools.product([C, D], [None, 0, 1], [True, False]):
        check(lambda v: fn(v, axis=axis, keepdims=keepdims), arg)


@pytest.mark.parametrize("fn", [np.var, np.std])
def test_hips_var_and_std_with_ddof(fn):
    B, C, D = R(3), R(3, 4), R(1, 3)
    for arg, keepdims, ddof in itertools.product([B, C, D], [True, False], [0, 1]):
        check(lambda v: fn(v, axis=None, keepdims=keepdims, ddof=ddof), arg)
    for arg, axis, keepdims in itertools.product([C, D], [None, 1], [True, False]):
        check(lambda v: fn(v, axis=axis, keepdims=keepdims, ddof=2), arg)


def _combos(fn, *arg_lists, **kwarg_lists):
    keys = list(kwarg_lists)
    for args in itertools.product(*arg_lists):
        for values in itertools.product(*kwarg_lists.values()):
            kwargs = dict(zip(keys, values))
            check(lambda *xs: fn(*xs, **kwargs), *args)


def test_hips_transpose_dot_tensordot():
    _combos(np.transpose, [R(2, 3, 4)],
            axes=[None, [0, 1, 2], [0, 2, 1], [2, 0, 1], [2, 1, 0], [1, 0, 2], [1, 2, 0]])
    _combos(np.dot, [1.5, R(3), R(2, 3)], [0.3, R(3), R(3, 4)])
    _combos(np.tensordot, [R(1, 3), R(2, 3, 2)], [R(3), R(3, 1), R(3, 4, 2)], axes=[[(1,), (0,)]])
    _combos(np.tensordot, [R(3), R(3, 1), R(3, 4, 2)], [R(1, 3), R(2, 3, 2)], axes=[[(0,), (1,)]])
    _combos(np.tensordot, [R(2, 3), R(2, 3, 4)], [R(1, 2, 3), R(2, 2, 3, 4)], axes=[[(0, 1), (1, 2)], [(1, 0), (2, 1)]])
    _combos(np.tensordot, [R(2, 2), R(4, 2, 2)], [R(2, 2), R(2, 2, 4)], axes=[1, 2])


def test_hips_maximum_minimum_sort_partition_atleast_trace():
    _combos(np.maximum, [R(1), R(1, 4), R(3, 4)], [R(1), R(1, 4), R(3, 4)])
    _combos(np.minimum, [R(1), R(1, 4), R(3, 4)], [R(1), R(1, 4), R(3, 4)])
    _combos(np.sort, [R(1), R(7)])
    _combos(np.partition, [R(7), R(14)], kth=[0, 3, 6])
    for fn in (np.atleast_1d, np.atleast_2d, np.atleast_3d):
        _combos(fn, [1.2, R(1), R(7), R(1, 4), R(2, 4), R(2, 4, 5)])
    _combos(np.atleast_3d, [R(2, 4, 3, 5)])
    _combos(np.trace, [R(5, 5), R(4, 5), R(5, 4)], offset=[-1, 0, 1])


def test_hips_einsum():
    for subscripts, operands in [("ij->ji", [R(1, 1)]), ("ij->ji", [R(4, 4)]), ("ij->ji", [R(3, 4)]),
                                 ("ij,jk->ik", [R(2, 3), R(3, 4)]), ("ijk,lji->lki", [R(3, 4, 4), R(4, 4, 3)]),
                                 ("...jk,...lj->...lk", [R(3, 4, 4), R(3, 4, 4)]), ("...,...->...", [R(3, 4, 4),
                                                                                        R(3, 4, 4)]),
                                 ("ijk,lji,lli->lki", [R(3, 4, 4), R(4, 4, 3), R(4, 4, 3)])]:
        check(lambda *xs, s=subscripts: np.einsum(s, *xs), *operands)


def test_hips_numpy_functions():
    mat, vec = R(4, 5), R(5)
    check(lambda x, y: np.outer(x, y), R(5), R(5))
    for axis in (0, 1, None):
        check(lambda x: np.cumsum(x, axis=axis), mat)
    check(lambda x, y: sum([x, y]), mat, mat)  # Python's sum
    A = R(5, 6, 4)
    for fn in (lambda x: x[3, 0, 1], lambda x: x[::-1, 2:4, :], lambda x: x[[0, 1, 2], :, :], lambda x: x[3, 2:, [1, 3]],
               lambda x: x[::-1, 2:4, :] + x[::-1, 3:5, :], lambda x: x.reshape((5 * 4, 6)),
               lambda x: np.reshape(x, (5 * 4, 6)), lambda x: x.reshape(5 * 4, 6), lambda x: x.ravel(),
               lambda x: np.ravel(x), lambda x: x.flatten(), lambda x: np.concatenate((A, x)),
               lambda x: np.concatenate((A, x, A), 1), lambda x: np.expand_dims(x, 2), lambda x: np.repeat(x, 2, axis=1),
               lambda x: np.repeat(x, 1, axis=1), lambda x: np.sum(x[[0, 0]]), lambda x: np.squeeze(x[:, :1])):
        check(fn, A)
    check(lambda x: x[2:6][1:3], R(7))
    check(np.flipud, mat)
    check(np.fliplr, mat)
    check(np.rot90, mat)
    check(lambda a, b: np.append(a, b), [1.0, 2.0, 3.0], 4.0)
    for offset in (-3, 0, 4):
        check(lambda x: np.trace(x, offset=offset), R(10, 11))
        check(lambda x: np.trace(x, offset=offset), R(5, 6, 4, 3))
    check(lambda x: np.split(x, 2)[0], R(10))
    check(np.diag, R(4, 4))
    check(lambda x: x.T, R(4, 4))
    check(lambda x: np.roll(x, 2, axis=1), R(4, 5))
    check(lambda x: np.triu(x, k=2), R(5, 5))
    check(lambda x: np.tril(x, k=2), R(5, 5))
    check(lambda x: np.clip(x, a_min=0.1, a_max=1.1), R(5, 5))
    for x, axis, keepdims in [(R(2, 3) ** 2 / 10 + 0.1, None, False), (R(2, 3) ** 2 + 0.1, 0, False),
                              (R(2, 3) ** 2 + 0.1, 0, True), (R(7) ** 2 + 0.1, None, False)]:
        check(lambda v: np.prod(v, axis=axis, keepdims=keepdims), x)
    cond = R(4, 5) > 0
    check(lambda x, y: np.where(cond, x, y), R(4, 5), R(4, 5))
    check(lambda x: np.tensordot(x * np.ones((2, 2)), x * np.ones((2, 2)), 2), 1.0)
    check(lambda x: np.dot(x[:2], x[2:]), R(4))
    check(lambda x: np.diagonal(x, axis1=-1, axis2=-2), R(3, 4, 4))
    bad = np.array([0.0, np.nan, np.inf, -np.inf])
    check(lambda x: np.sum(np.sin(np.nan_to_num(x + bad))), R(4))
    check(lambda x: np.max(ag.array([x, x])), 1.0)  # ties share the gradient
    check(lambda x: np.max(ag.array([[x, x], [x, 0.5]]), axis=1), 1.0)
    check(lambda x: np.maximum(x, x), 1.0)
    check(lambda x: np.maximum(ag.array([x, x, 0.5]), ag.array([[x, 0.5, x], [x, x, 0.5]])), 2.0)
    check(lambda x: ag.array([[x, x * 1.0, x + 2.5], [x ** 2, x, x / 2.0]]), 3.0)
    check(lambda x: ag.array([x, x]), R(3, 2))
    for num in (0, 1, 5):
        check(lambda x, y: np.linspace(x, y, num), 1.2, 3.4)
    x32 = ag.Tensor(np.arange(3, dtype=np.float32), requires_grad=True)
    ag.sum(np.sin(x32.astype("float64"))).backward()
    assert x32.grad.dtype == np.float32
