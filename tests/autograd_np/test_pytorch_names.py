"""PyTorch's names on the engine: the tensor methods ``view``, ``unsqueeze``, ``clone``,
``tolist``, ``dim``, ``to`` and ``print``'s precision, and the factories ``ag.tensor``,
``zeros``, ``ones``, ``full``, ``arange``, ``randn``, ``rand``.  Each is swept over its
arguments: every valid value against NumPy (and PyTorch where it is installed), every bad
one refused naming the function and the argument."""
import math

import numpy as np
import pytest

import autograd_np as ag

NAN, INF = math.nan, math.inf


def leaf(shape=(2, 3), seed=0):
    return ag.Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


# --- view, unsqueeze, clone, tolist, dim ---------------------------------------------------------

@pytest.mark.parametrize("shape", [(6,), (3, 2), (-1,), (2, -1), (1, 6, 1), ((3, 2),), ((-1, 3),)])
def test_view_is_a_recorded_reshape(shape):
    t = leaf()
    v = t.view(*shape)
    want = t.data.reshape(*shape)
    assert v.shape == want.shape and v.op_name == "reshape"
    np.testing.assert_array_equal(v.data, want)
    ag.gradcheck(lambda a: ag.sum(ag.sin(a.view(*shape))), [t.data])


@pytest.mark.parametrize("shape", [(2.5,), ("a",), (None,), (True, 6), (2, 3.0), (), ((2, None),), (np.float64(6),)])
def test_view_refuses_a_shape_that_is_not_integers(shape):
    with pytest.raises(TypeError, match=r"Tensor.view: the shape must be integers"):
        leaf().view(*shape)


def test_view_to_a_scalar():
    t = ag.Tensor(np.array([2.0]), requires_grad=True)
    assert t.view(()).shape == () and t.view(1, 1).shape == (1, 1)


def test_view_of_a_wrong_size_is_refused_naming_the_sizes():
    with pytest.raises(ValueError, match=r"reshape.*size 6.*\(4, ?2\)"):
        leaf().view(4, 2)


def test_unsqueeze_every_position_as_numpy_and_pytorch():
    t = leaf((2, 3))
    for dim in range(-3, 3):
        u = t.unsqueeze(dim)
        want = np.expand_dims(t.data, dim if dim >= 0 else dim + 3)
        assert u.shape == want.shape, dim
        np.testing.assert_array_equal(u.data, want)
        ag.gradcheck(lambda a: ag.sum(ag.sin(a.unsqueeze(dim)) * np.arange(want.size).reshape(want.shape)), [t.data])
    torch = pytest.importorskip("torch")
    for dim in range(-3, 3):
        assert t.unsqueeze(dim).shape == tuple(torch.zeros(2, 3).unsqueeze(dim).shape), dim


@pytest.mark.parametrize("dim,error", [(3, IndexError), (-4, IndexError), (10 ** 9, IndexError), (1.0, TypeError),
                                       (True, TypeError), ("0", TypeError), (None, TypeError), (NAN, TypeError)])
def test_unsqueeze_refuses_a_bad_dim_naming_it(dim, error):
    with pytest.raises(error, match="unsqueeze: dim"):
        leaf((2, 3)).unsqueeze(dim)


def test_unsqueeze_takes_numpy_integers():
    assert leaf((2, 3)).unsqueeze(np.int64(-1)).shape == (2, 3, 1)


def test_clone_is_a_recorded_copy():
    t = leaf()
    c = t.clone()
    assert c.op_name == "copy" and not np.shares_memory(c.data, t.data)
    np.testing.assert_array_equal(c.data, t.data)
    (c * c).sum().backward()
    np.testing.assert_allclose(t.grad, 2 * t.data)
    with ag.no_grad():
        assert t.clone().node is None


def test_tolist_and_dim():
    for shape in [(), (0,), (3,), (2, 3), (2, 0, 4)]:
        a = np.arange(int(np.prod(shape))).reshape(shape) * 0.5
        t = ag.Tensor(a)
        assert t.tolist() == a.tolist() and t.dim() == a.ndim


def test_tolist_is_a_value_read_for_compile():
    """A branch on ``tolist()`` inside a compiled step follows the values, as with ``numpy()``."""
    w = ag.Tensor(np.ones(2), requires_grad=True)

    def fn(x):
        return ag.sum(w * (2.0 if sum(x.tolist()) > 0 else -1.0))

    compiled = ag.compile(fn)
    for values in [[1.0, 2.0]] * 3 + [[-5.0, 2.0]] * 2:
        x = ag.Tensor(np.array(values))
        assert float(compiled(x)) == float(fn(x)), values


# --- to ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args,kwargs,dtype", [
    ((np.float32,), {}, np.float32), (("float32",), {}, np.float32), ((np.dtype("float16"),), {}, np.float16),
    (("cpu",), {}, np.float64), (("cpu", np.float32), {}, np.float32), ((), {"dtype": np.float32}, np.float32),
    ((), {"device": "cpu"}, np.float64), ((ag.Tensor(np.ones(1, np.float32)),), {}, np.float32),
    ((np.float64,), {}, np.float64), ((), {}, np.float64), (("cpu:0",), {}, np.float64),
])
def test_to_casts_or_returns_self(args, kwargs, dtype):
    t = leaf()
    out = t.to(*args, **kwargs)
    assert out.dtype == dtype
    if dtype == np.float64:
        assert out is t  # nothing to change: self, as PyTorch
    else:
        assert out.op_name == "astype"
        out.sum().backward()
        assert t.grad.dtype == np.float64 and np.all(t.grad == 1)


def test_to_with_copy_gives_a_recorded_copy():
    t = leaf()
    c = t.to(np.float64, copy=True)
    assert c is not t and c.op_name == "copy"


def test_to_a_torch_device_object():
    torch = pytest.importorskip("torch")
    t = leaf()
    assert t.to(torch.device("cpu")) is t
    with pytest.raises(ValueError, match="device 'cuda'"):
        t.to(torch.device("cuda"))


@pytest.mark.parametrize("args,kwargs,error,words", [
    (("cuda",), {}, ValueError, "device 'cuda'"), (("mps",), {}, ValueError, "device 'mps'"),
    ((), {"device": "cuda:0"}, ValueError, "device 'cuda:0'"), (("nonsense",), {}, TypeError, "neither a dtype"),
    ((3.5,), {}, TypeError, "neither a dtype"), ((np.float32, np.float64), {}, TypeError, "dtype given twice"),
    (("cpu", "cpu"), {}, TypeError, "device given twice"), ((np.float32,), {"dtype": np.float64}, TypeError, "twice"),
    ((), {"copy": 1}, TypeError, "copy must be"), ((), {"copy": None}, TypeError, "copy must be"),
])
def test_to_refuses_what_it_cannot_do(args, kwargs, error, words):
    with pytest.raises(error, match=f"Tensor.to: .*{words}|Tensor.to: {words}"):
        leaf().to(*args, **kwargs)


# --- print -----------------------------------------------------------------------------------------

def test_print_shows_every_digit_of_a_loss_and_repr_stays_short():
    w = ag.Tensor(np.array([1 / 3, 2 / 7]), requires_grad=True)
    loss = ag.sum(w * w)
    value = float(loss.data)
    assert str(loss) == f"Tensor({value!r}, dtype=float64, op=sum)"
    assert repr(loss) == "Tensor(0.1927, dtype=float64, op=sum)"  # repr keeps 4 digits, as PyTorch's
    assert str(ag.Tensor(np.float32(1 / 3))) == "Tensor(0.33333334, dtype=float32)"
    assert str(w) == "Tensor([0.33333333 0.28571429], dtype=float64, requires_grad=True)"
    with np.printoptions(precision=3):
        assert str(w).startswith("Tensor([0.333 0.286]")
    named = ag.Tensor(np.array([1 / 3]), name="Tensor([0.3333]")  # a name that repeats the values: untouched
    assert str(named) == "Tensor([0.33333333], dtype=float64, name='Tensor([0.3333]')"


# --- factories -------------------------------------------------------------------------------------

SHAPED = {"zeros": 0.0, "ones": 1.0}


@pytest.mark.parametrize("name", ["zeros", "ones"])
@pytest.mark.parametrize("shape", [(3,), (2, 3), ((2, 3),), ([2, 3],), ((),), ((0,),), (0, 4), (np.int64(2), 3)])
def test_zeros_and_ones_take_both_of_pytorchs_shape_spellings(name, shape):
    t = getattr(ag, name)(*shape)
    dims = shape[0] if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)) else shape
    want = np.full(tuple(int(d) for d in dims), SHAPED[name])
    assert t.shape == want.shape and t.dtype == np.float64 and t.is_leaf and not t.requires_grad
    np.testing.assert_array_equal(t.data, want)
    torch = pytest.importorskip("torch")
    assert t.shape == tuple(getattr(torch, name)(*shape).shape)


@pytest.mark.parametrize("dtype", [np.float32, np.float16, "float64", np.int32, np.bool_, np.complex128])
def test_factories_take_a_dtype(dtype):
    for make in (lambda: ag.zeros(2, dtype=dtype), lambda: ag.ones(2, dtype=dtype), lambda: ag.full(2, 1, dtype=dtype),
                 lambda: ag.arange(2, dtype=dtype), lambda: ag.tensor([0, 1], dtype=dtype)):
        assert make().dtype == np.dtype(dtype)


def test_full_and_arange_infer_numpys_dtypes():
    for args, kwargs in [(((2,), 7), {}), (((2,), 7.5), {}), ((3, NAN), {}), (((2, 2), -INF), {}), ((2, True), {}),
                         (((2,), 1 + 2j), {}), ((2, np.float32(0.5)), {})]:
        got, want = ag.full(*args, **kwargs), np.full(*args, **kwargs)
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got.data, want)
    for args in [(5,), (1, 5), (0.0, 1.0, 0.25), (5, 0, -1), (2, 2), (0, 1, 0.3), (-3.5, 2), (np.int32(4),)]:
        got, want = ag.arange(*args), np.arange(*args)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got.data, want)
    torch = pytest.importorskip("torch")
    assert ag.arange(0, 10, 3).tolist() == torch.arange(0, 10, 3).tolist()


def test_tensor_copies_and_cuts_from_the_graph():
    a = np.array([1.0, 2.0])
    t = ag.tensor(a)
    a[0] = 99.0
    assert t.tolist() == [1.0, 2.0]  # no shared memory
    w = ag.Tensor(np.ones(2), requires_grad=True)
    y = w * 3.0
    c = ag.tensor(y, requires_grad=True)
    assert c.is_leaf and c.tolist() == [3.0, 3.0]
    for data, dtype in [(3, np.int64), (2.5, np.float64), ([[1, 2], [3, 4]], np.int64), ([True], np.bool_),
                        (np.float32(1), np.float32), ([1.0, 2], np.float64)]:
        got = ag.tensor(data)
        assert got.dtype == dtype and got.tolist() == np.array(data).tolist()
    torch = pytest.importorskip("torch")
    assert ag.tensor([[1, 2], [3, 4]]).tolist() == torch.tensor([[1, 2], [3, 4]]).tolist()


def test_requires_grad_makes_a_parameter():
    for make in (lambda: ag.zeros(3, requires_grad=True), lambda: ag.ones(3, requires_grad=True),
                 lambda: ag.full(3, 2.0, requires_grad=True), lambda: ag.arange(3.0, requires_grad=True),
                 lambda: ag.randn(3, generator=0, requires_grad=True), lambda: ag.rand(3, requires_grad=True),
                 lambda: ag.tensor([1.0, 2.0, 3.0], requires_grad=True)):
        p = make()
        (p * p).sum().backward()
        np.testing.assert_allclose(p.grad, 2 * p.data)


@pytest.mark.parametrize("name", ["randn", "rand"])
def test_random_factories_follow_their_generator(name):
    fn = getattr(ag, name)
    a, b = fn(4, 5, generator=3), fn((4, 5), generator=3)
    np.testing.assert_array_equal(a.data, b.data)
    assert not np.array_equal(a.data, fn(4, 5, generator=4).data)
    rng = np.random.default_rng(7)
    want = getattr(np.random.default_rng(7), "standard_normal" if name == "randn" else "random")((4, 5))
    np.testing.assert_array_equal(fn(4, 5, generator=rng).data, want)
    assert not np.array_equal(fn(4, 5, generator=rng).data, want)  # the Generator moved on
    assert not np.array_equal(fn(4, 5).data, fn(4, 5).data)  # None: fresh entropy
    for dtype in (np.float32, np.float16, np.float64):
        assert fn(3, generator=0, dtype=dtype).dtype == dtype


def test_rand_stays_below_one_in_every_dtype():
    u = ag.rand(200_000, generator=0, dtype=np.float16)
    assert u.data.max() < 1 and u.data.min() >= 0
    n = ag.randn(200_000, generator=0).data
    assert abs(n.mean()) < 0.01 and abs(n.std() - 1) < 0.01


SHAPE_BAD = [(-1,), (2, -3), (1.5,), (2, 2.0), (True,), ("3",), (None,), ((2, NAN),), ((2, "a"),), (object(),), ()]
HUGE = [(10 ** 13,), (10 ** 7, 10 ** 7), (10 ** 30,)]


def _shaped(name):
    return {"zeros": ag.zeros, "ones": ag.ones, "randn": ag.randn, "rand": ag.rand,
            "full": lambda *s, **k: ag.full(s[0] if len(s) == 1 else s, 1.0, **k)}[name]


@pytest.mark.parametrize("name", ["zeros", "ones", "full", "randn", "rand"])
def test_a_bad_shape_is_refused_naming_the_function(name):
    for shape in SHAPE_BAD + HUGE:
        if name == "full" and shape == ():
            continue  # full(()) is a 0-d tensor: the shape is its first argument
        with pytest.raises((TypeError, ValueError), match=rf"ag\.{name}: (shape|no shape|.*fit in memory)"):
            _shaped(name)(*shape)


@pytest.mark.parametrize("name", ["zeros", "ones", "full", "arange", "randn", "rand", "tensor"])
def test_bad_keywords_are_refused_naming_them(name):
    make = {"zeros": lambda **k: ag.zeros(2, **k), "ones": lambda **k: ag.ones(2, **k),
            "full": lambda **k: ag.full(2, 1, **k), "arange": lambda **k: ag.arange(3, **k),
            "randn": lambda **k: ag.randn(2, **k), "rand": lambda **k: ag.rand(2, **k),
            "tensor": lambda **k: ag.tensor([1, 2], **k)}[name]
    bad = {"dtype": ["nonsense", object, np.str_, np.object_, 3.5], "requires_grad": [1, "yes", None, NAN]}
    if name in ("randn", "rand"):
        bad["dtype"] += [np.int64, np.bool_, np.complex128]
        bad["generator"] = [-1, 1.5, True, "0", NAN, np.random.RandomState(0), [1]]
    for key, values in bad.items():
        for value in values:
            with pytest.raises((TypeError, ValueError), match=rf"ag\.{name}: {key}"):
                make(**{key: value})
    if name not in ("randn", "rand"):  # (those are floats, always)
        with pytest.raises(TypeError, match=rf"ag\.{name}: requires_grad=True needs floating-point"):
            make(requires_grad=True, dtype=np.int64)


@pytest.mark.parametrize("args,words", [
    ((NAN,), "start must be finite"), ((0, INF), "end must be finite"), ((0, 5, 0), "step must not be 0"),
    ((0, 5, NAN), "step must be finite"), (("5",), "start must be a real number"), ((True,), "start must be a real"),
    ((0, None, 1), None), ((1 + 2j,), "start must be a real"), ((0, 1e30, 1e-30), "fit in memory"),
    ((0, 10 ** 15), "fit in memory"),
])
def test_arange_refuses_bad_bounds(args, words):
    if words is None:  # arange(0, None) is arange(0): PyTorch's and NumPy's reading
        assert ag.arange(*args).shape == (0,)
        return
    with pytest.raises((TypeError, ValueError), match=rf"ag\.arange: .*{words}"):
        ag.arange(*args)


@pytest.mark.parametrize("data,error", [("abc", TypeError), ([[1, 2], [3]], ValueError), ({"a": 1}, TypeError),
                                        ([object()], TypeError), (None, TypeError)])
def test_tensor_refuses_what_is_not_numbers(data, error):
    with pytest.raises(error, match=r"ag\.tensor: data"):
        ag.tensor(data)


@pytest.mark.parametrize("value", ["1", None, [1.0], object()])
def test_full_refuses_a_fill_value_that_is_not_a_number(value):
    with pytest.raises(TypeError, match=r"ag\.full: fill_value"):
        ag.full(2, value)
