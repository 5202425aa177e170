"""Gradients the NumPy route used to drop without a word (issue 20): tensor bounds of
``np.clip``, ``np.bincount``'s weights, ``np.full_like``'s fill value, a ``dtype=``
that changes the result, ``ag.Tensor`` of a list of tensors, and writes through
``np.asarray(t)`` that the version counters could not see.  Each either records the
gradient (checked against hand-derived values, and PyTorch where installed) or
raises a ``TypeError`` naming the function and the argument."""
import numpy as np
import pytest

import autograd_np as ag


def T(x, dtype=np.float64):
    return ag.Tensor(np.array(x, dtype=dtype), requires_grad=True)


# --- np.clip with tensor bounds: PyTorch's clamp ------------------------------------

X = [0.2, 0.5, 0.7, 1.0, 1.5]


@pytest.mark.parametrize("lo, hi, gx, glo, ghi", [
    (0.5, 1.0, [0, 1, 1, 1, 0], 1.0, 1.0),        # ties at a bound go to x, as in PyTorch
    (1.0, 0.5, [0, 0, 0, 0, 0], 0.0, 5.0),        # lo > hi: every element is hi (np.clip's order)
    (0.1, 2.0, [1, 1, 1, 1, 1], 0.0, 0.0),        # inactive bounds: no gradient, but recorded
])
def test_clip_tensor_bounds_get_the_gradient_where_they_are_active(lo, hi, gx, glo, ghi):
    x, tlo, thi = T(X), T(lo), T(hi)
    y = np.clip(x, tlo, thi)
    np.testing.assert_array_equal(y.data, np.clip(X, lo, hi))
    ag.sum(y).backward()
    np.testing.assert_array_equal(x.grad, gx)
    assert float(tlo.grad) == glo and float(thi.grad) == ghi


def test_clip_bound_alone_or_with_a_plain_array_records():
    lo = T(0.5)
    y = np.clip(np.array(X), lo, 1.0)  # only the bound is a tensor: still the graph's
    assert type(y) is ag.Tensor and y.requires_grad
    ag.sum(y).backward()
    assert float(lo.grad) == 1.0
    hi = T([[0.6], [1.2]])             # a broadcast bound gets its own shape back
    (g,) = ag.grad(ag.sum(np.clip(T(X), None, hi)), [hi])
    np.testing.assert_array_equal(g.data, [[3.0], [1.0]])
    (g,) = ag.grad(ag.sum(np.clip(T(X), a_min=None, a_max=hi)), [hi])
    np.testing.assert_array_equal(g.data, [[3.0], [1.0]])


def test_clip_with_nan_matches_numpy_values():
    x, lo, hi = T([np.nan, 0.3, 2.0]), T([0.5, np.nan, 0.5]), T(1.0)
    y = np.clip(x, lo, hi)
    np.testing.assert_array_equal(y.data, np.clip(x.data, lo.data, hi.data))


def test_clip_bounds_agree_with_torch_clamp():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, lo, hi = rng.uniform(-2, 2, (4, 3)), rng.uniform(-1, 0, (3,)), rng.uniform(0, 1, (4, 1))
    x[0, 0], x[1, 1] = lo[0], hi[1, 0]  # ties
    cot = rng.standard_normal((4, 3))
    ts = [torch.tensor(v, requires_grad=True) for v in (x, lo, hi)]
    (torch.clamp(*ts) * torch.tensor(cot)).sum().backward()
    ours = [T(v) for v in (x, lo, hi)]
    for got, want in zip(ag.grad(ag.sum(np.clip(*ours) * cot), ours), ts):
        np.testing.assert_allclose(got.data, want.grad.numpy(), rtol=1e-12, atol=0)


# --- np.bincount's weights, np.full_like's fill value -------------------------------

def test_bincount_weights_record_a_scatter_add():
    idx, w = np.array([0, 3, 1, 3]), T([1.0, 2.0, 3.0, 4.0])
    y = np.bincount(idx, weights=w, minlength=6)
    assert type(y) is ag.Tensor and y.requires_grad
    np.testing.assert_array_equal(y.data, np.bincount(idx, weights=w.data, minlength=6))
    (g,) = ag.grad(ag.sum(y * np.arange(6.0)), [w])
    np.testing.assert_array_equal(g.data, [0.0, 3.0, 1.0, 3.0])
    w32 = T([1.0, 2.0, 3.0, 4.0], np.float32)  # NumPy computes in float64 whatever the weights
    assert np.bincount(idx, w32).dtype == np.float64
    assert type(np.bincount(idx)) is np.ndarray  # no weights: counts, no derivative


def test_bincount_of_a_float_tensor_that_requires_grad_raises():
    with pytest.raises(TypeError, match=r"numpy.bincount\(\.\.\., x=.*index"):
        np.bincount(T([0.0, 1.0]))


def test_full_like_fill_value_records():
    a, v = ag.Tensor(np.zeros((2, 3))), T(1.5)
    y = np.full_like(a, v)
    np.testing.assert_array_equal(y.data, np.full((2, 3), 1.5))
    (g,) = ag.grad(ag.sum(y * np.arange(6.0).reshape(2, 3)), [v])
    assert float(g) == 15.0
    assert type(np.full_like(T(np.ones(2)), 2.0)) is np.ndarray  # the template's values do not matter
    with pytest.raises(TypeError, match=r"numpy.full_like\(\.\.\., dtype=int64\)"):
        np.full_like(a, v, dtype=int)
    with pytest.raises(TypeError, match=r"numpy.copyto"):  # NumPy dispatches full_like on the template only
        np.full_like(np.zeros(2), v)


# --- dtype= --------------------------------------------------------------------------

@pytest.mark.parametrize("fn", [np.mean, np.var, np.std])
def test_mean_var_std_with_an_integer_dtype_raise(fn):
    with pytest.raises(TypeError, match=rf"numpy.{fn.__name__}\(\.\.\., dtype=.*int"):
        fn(T([1.5, 2.5]), dtype=int)


DTYPED = [(np.sum, int), (np.sum, bool), (np.prod, int), (np.cumsum, int), (np.cumprod, np.int32), (np.mean, int),
          (np.var, int), (np.std, np.complex128), (np.trace, int), (np.add.reduce, int), (np.multiply.reduce, bool),
          (np.add.accumulate, int), (np.multiply.accumulate, int)]


@pytest.mark.parametrize("fn, dtype", DTYPED)
def test_a_non_float_dtype_gives_numpys_values_or_raises_with_grad(fn, dtype):
    x = np.array([[1.5, 2.5], [-0.5, 3.0]])
    got, want = fn(ag.Tensor(x), dtype=dtype), fn(x, dtype=dtype)  # no gradient at stake: NumPy's values
    assert got.dtype == np.asarray(want).dtype
    np.testing.assert_array_equal(got.data, want)
    name = f"{fn.__self__.__name__}.{fn.__name__}" if hasattr(fn, "__self__") else fn.__name__
    with pytest.raises(TypeError, match=rf"numpy\.{name}\(\.\.\., dtype="):
        fn(T(x), dtype=dtype)


def test_a_float_dtype_records():
    t = T([1.5, 2.5, -0.5])
    for fn in (np.mean, np.sum, np.add.reduce, np.cumsum):
        got, want = fn(t, dtype=np.float32), fn(t.data, dtype=np.float32)
        assert got.dtype == np.float32 and got.requires_grad
        np.testing.assert_allclose(got.data, want, rtol=1e-6)
    (g,) = ag.grad(ag.sum(np.mean(t, dtype=np.float32)), [t])
    np.testing.assert_allclose(g.data, 1 / 3, rtol=1e-6)


def test_concatenate_follows_numpys_casting_rule():
    with pytest.raises(TypeError, match=r"numpy.concatenate\(\.\.\., dtype="):
        np.concatenate([T([1.5])], dtype=int)  # NumPy refuses float -> int under casting="same_kind"


# --- ag.Tensor of a list of tensors --------------------------------------------------

@pytest.mark.parametrize("data", [
    lambda w: [w, w], lambda w: (w, 1.0), lambda w: [[1.0, 2.0], [w, 3.0]], lambda w: [[[w]]],
    lambda w: np.array([w, 1.0], dtype=object),
])
def test_tensor_of_a_list_holding_a_tensor_that_requires_grad_raises(data):
    w = T(2.0)
    with pytest.raises(TypeError, match=r"Tensor\(.*requires grad.*ag\.stack"):
        ag.Tensor(data(w))


def test_tensor_of_a_list_of_data_tensors_takes_their_values():
    u = ag.Tensor(np.array(2.0))
    np.testing.assert_array_equal(ag.Tensor([u, [3.0]][:1] + [4.0]).data, [2.0, 4.0])
    np.testing.assert_array_equal(ag.Tensor([[u, u], [1.0, u]]).data, [[2, 2], [1, 2]])


# --- np.asarray(t) is read-only ------------------------------------------------------

def test_a_write_through_asarray_cannot_corrupt_a_gradient():
    x = T([1.0, 2.0, 3.0])
    d = ag.Tensor(np.array([1.0, 1.0, 1.0]))  # a data tensor the graph saves
    y = ag.sum(x * x * d)
    with pytest.raises(TypeError, match="requires grad"):  # as PyTorch: the values would drop the gradient
        np.asarray(x)
    with pytest.raises(ValueError, match="read-only"):
        x.numpy()[0] = 100
    with pytest.raises(ValueError, match="read-only"):
        np.asarray(d)[0] = 100
    y.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0, 6.0])


@pytest.mark.parametrize("call", [lambda w: np.sum([w, w]), lambda w: np.exp([w, w]), lambda w: np.array(w),
                                  lambda w: np.zeros(3).dot(w), lambda w: np.pad(np.ones(3), 1, constant_values=w[0])
                                  if False else np.asarray([w])])
def test_numpy_computing_on_a_tensor_that_requires_grad_without_us_is_refused(call):
    w = T([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="requires grad"):
        call(w)


def test_a_one_element_tensor_still_gives_its_value_for_lists_and_plots():
    losses = [ag.sum(T([1.0, 2.0]) * 2.0) for _ in range(3)]
    np.testing.assert_array_equal(np.array(losses), [6.0, 6.0, 6.0])


def test_array_protocol_views_and_copies():
    x = ag.Tensor(np.array([1.0, 2.0]))
    for view in (np.asarray(x), x.__array__(), x.__array__(copy=False), np.asarray(x, dtype=np.float64)):
        assert not view.flags.writeable and np.shares_memory(view, x.data)
    for copied in (np.array(x), x.__array__(copy=True), np.asarray(x, copy=True), np.asarray(x, dtype=np.float32)):
        assert copied.flags.writeable and not np.shares_memory(copied, x.data)
        copied[0] = 5.0
    np.testing.assert_array_equal(x.data, [1.0, 2.0])
    assert x.data.flags.writeable  # the tensor's own array stays writable (.data assignments are tracked)


# --- what the guard refuses, by name ---------------------------------------------------

@pytest.mark.parametrize("call, names", [
    (lambda w: np.take(ag.Tensor(np.arange(4.0)), w), ["numpy.take", "indices="]),
    (lambda w: np.repeat(ag.Tensor(np.ones(2)), w), ["numpy.repeat", "repeats="]),
    (lambda w: np.pad(ag.Tensor(np.ones(2)), 1, constant_values=w), ["numpy.pad", "constant_values="]),
    (lambda w: np.linalg.norm(ag.Tensor(np.ones(2)), w), ["numpy.linalg.norm", "ord="]),
    (lambda w: np.sum(ag.Tensor(np.ones(2)), initial=w), ["numpy.sum", "initial="]),
    (lambda w: np.linspace([w, 1.0], ag.Tensor(2.0), 3), ["numpy.linspace", "start=[", "ag.stack"]),
    (lambda w: np.dot(ag.Tensor(np.ones(2)), [w, 1.0]), ["numpy.dot", "b=["]),
    (lambda w: np.add(ag.Tensor(np.ones(2)), [w, 1.0]), ["numpy.add", "list"]),
    (lambda w: np.multiply.outer([w, 1.0], ag.Tensor(np.ones(2))), ["numpy.multiply.outer", "x1=["]),
    (lambda w: np.add.at(np.zeros(2), [0], w), ["numpy.add.at", "in place"]),
    (lambda w: np.gcd(w, 2), ["numpy.gcd", "x1=<a float64 tensor>"]),
])
def test_a_tensor_that_requires_grad_where_no_gradient_can_flow_raises_naming_it(call, names):
    with pytest.raises(TypeError) as err:
        call(T(1.0))
    for name in names:
        assert name in str(err.value), str(err.value)


def test_data_tensors_are_values_in_parameters_without_a_derivative():
    idx = ag.Tensor(np.array([2, 0]))  # integer data: an index, as NumPy takes it
    x = T([1.0, 2.0, 3.0])
    y = np.take(x, idx)
    np.testing.assert_array_equal(y.data, [3.0, 1.0])
    (g,) = ag.grad(ag.sum(y), [x])
    np.testing.assert_array_equal(g.data, [1.0, 0.0, 1.0])
    cond = T([1.0, 0.0, 1.0])  # np.where's condition: read for its values (no derivative anywhere)
    np.testing.assert_array_equal(np.where(cond, x, 0.0).data, [1.0, 0.0, 3.0])


def test_ufunc_outer_records_for_every_binary_ufunc():
    a, b = T([1.0, 2.0]), T([0.5, 1.5, 2.5])
    for ufunc in (np.add, np.multiply, np.power, np.maximum, np.arctan2):
        y = ufunc.outer(a, b)
        np.testing.assert_allclose(y.data, ufunc.outer(a.data, b.data))
    ga, gb = ag.grad(ag.sum(np.multiply.outer(a, b)), [a, b])
    np.testing.assert_array_equal(ga.data, [4.5, 4.5])
    np.testing.assert_array_equal(gb.data, [3.0, 3.0, 3.0])
    assert np.less.outer(a, b).dtype == bool and type(np.logical_or.reduce(a > 1)) is np.bool_


def test_numpy_never_reads_a_float_tensor_as_integers_silently():
    w = ag.Tensor(np.array([0.7, 1.0]))  # np.take dispatches on its array only: NumPy asks the tensor for int64
    with pytest.raises(TypeError, match=r"np.asarray\(tensor, dtype=int64\).*float64 tensor"):
        np.take(np.arange(4.0), w)
    with pytest.raises(TypeError, match="same_kind|loses information"):
        np.asarray(w, dtype=int)
    np.testing.assert_array_equal(np.asarray(w.astype(int)), [0, 1])  # the explicit cast
    assert np.asarray(ag.Tensor(np.arange(3)), dtype=float).dtype == np.float64
