"""Convolution and pooling: forwards against loop references written here,
PyTorch's tie and padding rules, the error messages, and (when torch is
installed) forward and gradients against torch in float64.

The gradient checks themselves are the op table's (test_ops.py)."""
import itertools

import numpy as np
import pytest

import autograd_np as ag
from autograd_np.core.errors import ShapeError

RNG = np.random.default_rng(12)


def _pair(v):
    return (v, v) if isinstance(v, int) else v


def _padded(x, pad, fill):
    ph, pw = _pair(pad)
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)


def _out_sides(x, kernel, stride, pad):
    (kh, kw), (sh, sw), (ph, pw) = _pair(kernel), _pair(stride), _pair(pad)
    return (x.shape[2] + 2 * ph - kh) // sh + 1, (x.shape[3] + 2 * pw - kw) // sw + 1


def _each_window(x, kernel, stride, pad, fill):
    """(n, c, i, j, window) for every output position, one at a time: the loop the ops avoid."""
    (kh, kw), (sh, sw) = _pair(kernel), _pair(stride)
    xp = _padded(x, pad, fill)
    oh, ow = _out_sides(x, kernel, stride, pad)
    for n, c, i, j in itertools.product(range(x.shape[0]), range(x.shape[1]), range(oh), range(ow)):
        yield n, c, i, j, xp[n, c, i * sh:i * sh + kh, j * sw:j * sw + kw]


def naive_conv2d(x, W, b, stride, pad):
    (sh, sw), (kh, kw) = _pair(stride), W.shape[2:]
    xp = _padded(x, pad, 0.0)
    oh, ow = _out_sides(x, (kh, kw), stride, pad)
    y = np.zeros((x.shape[0], W.shape[0], oh, ow))
    for n, o, i, j in itertools.product(range(x.shape[0]), range(W.shape[0]), range(oh), range(ow)):
        y[n, o, i, j] = np.sum(xp[n, :, i * sh:i * sh + kh, j * sw:j * sw + kw] * W[o])
        y[n, o, i, j] += 0.0 if b is None else b[o]
    return y


def naive_pool(x, kernel, stride, pad, reduce, fill):
    y = np.zeros((x.shape[0], x.shape[1], *_out_sides(x, kernel, stride, pad)))
    for n, c, i, j, win in _each_window(x, kernel, stride, pad, fill):
        y[n, c, i, j] = reduce(win)
    return y


# (x shape, kernel, stride, pad): square and rectangular, floored sides, overlapping windows
GEOMETRIES = [((2, 3, 7, 6), 3, 1, 0), ((1, 2, 8, 9), (3, 2), (2, 3), (1, 0)), ((3, 1, 5, 5), 2, 2, 1),
              ((2, 2, 6, 7), (1, 3), 2, (0, 1)), ((1, 1, 4, 4), 4, 1, 0)]


@pytest.mark.parametrize("shape,kernel,stride,pad", GEOMETRIES)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_matches_the_loop(shape, kernel, stride, pad, bias):
    x = RNG.standard_normal(shape)
    kh, kw = _pair(kernel)
    W = RNG.standard_normal((4, shape[1], kh, kw))
    b = RNG.standard_normal(4) if bias else None
    y = ag.conv2d(x, W, b, stride=stride, pad=pad)
    np.testing.assert_allclose(y.data, naive_conv2d(x, W, b, stride, pad), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape,kernel,stride,pad", [g for g in GEOMETRIES if all(
    p <= k // 2 for p, k in zip(_pair(g[3]), _pair(g[1])))])
def test_pooling_matches_the_loop(shape, kernel, stride, pad):
    x = RNG.standard_normal(shape)
    np.testing.assert_array_equal(ag.max_pool2d(x, kernel, stride, pad).data,
                                  naive_pool(x, kernel, stride, pad, np.max, -np.inf))
    # count_include_pad=True: the zeros of the padding are averaged in
    np.testing.assert_allclose(ag.avg_pool2d(x, kernel, stride, pad).data,
                               naive_pool(x, kernel, stride, pad, np.mean, 0.0), rtol=1e-12, atol=1e-15)


def test_pool_stride_defaults_to_the_kernel():
    x = RNG.standard_normal((1, 1, 6, 6))
    assert ag.max_pool2d(x, 3).shape == (1, 1, 2, 2)
    np.testing.assert_array_equal(ag.max_pool2d(x, 3).data, ag.max_pool2d(x, 3, 3).data)
    np.testing.assert_allclose(ag.avg_pool2d(x, 2).data, x.reshape(1, 1, 3, 2, 3, 2).mean(axis=(3, 5)))


def test_im2col_rows_are_the_books_layout_and_col2im_is_its_adjoint():
    x = RNG.standard_normal((2, 3, 5, 4))
    cols = ag.im2col(x, (2, 3), 1, 1).data
    oh, ow = _out_sides(x, (2, 3), 1, 1)
    assert cols.shape == (2 * oh * ow, 3 * 2 * 3)
    xp = _padded(x, 1, 0.0)
    np.testing.assert_array_equal(cols[oh * ow + ow + 2], xp[1, :, 1:3, 2:5].reshape(-1))  # n=1, i=1, j=2
    g = RNG.standard_normal(cols.shape)  # <im2col(x), g> == <x, col2im(g)>
    np.testing.assert_allclose(np.sum(cols * g), np.sum(x * ag.col2im(g, x.shape, (2, 3), 1, 1).data), rtol=1e-12)


def test_max_pool_ties_go_to_the_first_maximum_in_the_window():
    x = np.array([[[[1.0, 3.0, 3.0, 0.0],
                    [3.0, 2.0, 0.0, 3.0]]]])
    t = ag.Tensor(x, requires_grad=True)
    ag.sum(ag.max_pool2d(t, 2) * np.array([[[[10.0, 20.0]]]])).backward()
    want = np.zeros_like(x)
    want[0, 0, 0, 1] = 10.0  # window 1: 3 at (0,1) and (1,0): row-major first
    want[0, 0, 0, 2] = 20.0  # window 2: 3 at (0,2) and (1,3)
    np.testing.assert_array_equal(t.grad, want)


def test_max_pool_padding_is_never_the_maximum():
    x = -5.0 - RNG.random((1, 2, 3, 3))  # every value below the zeros a zero padding would add
    y = ag.max_pool2d(x, 3, 1, 1).data
    assert np.all(y < -5.0)
    np.testing.assert_array_equal(y, naive_pool(x, 3, 1, 1, np.max, -np.inf))


def test_overlapping_windows_add_their_gradients():
    x = ag.Tensor(np.ones((1, 1, 3, 3)), requires_grad=True)
    ag.sum(ag.avg_pool2d(x, 2, 1)).backward()  # 4 windows; the centre is in all of them
    np.testing.assert_allclose(x.grad[0, 0], np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 4)


def test_float32_stays_float32():
    x = RNG.standard_normal((2, 3, 6, 6)).astype(np.float32)
    W = RNG.standard_normal((4, 3, 3, 3)).astype(np.float32)
    y = ag.max_pool2d(ag.relu(ag.conv2d(x, W, np.zeros(4, np.float32), pad=1)), 2)
    assert y.dtype == np.float32
    assert ag.avg_pool2d(x, 2).dtype == np.float32


X = np.zeros((2, 3, 6, 5))
W3 = np.zeros((4, 3, 3, 3))


@pytest.mark.parametrize("call,message", [
    (lambda: ag.conv2d(X, np.zeros((4, 2, 3, 3))), "conv2d: the input has 3 channels (shape (2, 3, 6, 5)) but "
                                                   "the weights expect 2 (shape (4, 2, 3, 3))"),
    (lambda: ag.conv2d(X, np.zeros((4, 3, 7, 3))), "conv2d: kernel (7, 3) is larger than the padded input "
                                                   "(6, 5) (input shape (2, 3, 6, 5), pad (0, 0))"),
    (lambda: ag.conv2d(X, np.zeros((4, 3, 7, 3)), pad=1).shape, None),  # fits once padded
    (lambda: ag.conv2d(X, W3, stride=0), "conv2d: stride must be at least 1, got 0 (input shape (2, 3, 6, 5))"),
    (lambda: ag.conv2d(X, W3, stride=(1, -2)), "conv2d: stride must be at least 1, got (1, -2)"),
    (lambda: ag.conv2d(X, W3, pad=-1), "conv2d: pad must be at least 0, got -1"),
    (lambda: ag.conv2d(X, W3, pad=1.5), "conv2d: pad must be an int or a pair of ints, got 1.5"),
    (lambda: ag.conv2d(X[0], W3), "conv2d: the input must be 4-D (N, C, H, W), got shape (3, 6, 5)"),
    (lambda: ag.conv2d(X, W3[0]), "conv2d: the weights must be 4-D (O, C, kh, kw), got shape (3, 3, 3)"),
    (lambda: ag.conv2d(X, W3, np.zeros(3)), "conv2d: the bias must have shape (4,) for weights (4, 3, 3, 3), "
                                            "got (3,)"),
    (lambda: ag.max_pool2d(X, 2, pad=2), "max_pool2d: pad (2, 2) must be at most half of kernel (2, 2)"),
    (lambda: ag.avg_pool2d(X, 7), "avg_pool2d: kernel (7, 7) is larger than the padded input (6, 5)"),
    (lambda: ag.max_pool2d(X, 2, stride=0), "max_pool2d: stride must be at least 1, got 0"),
    (lambda: ag.avg_pool2d(X[0, 0], 2), "avg_pool2d: the input must be 4-D (N, C, H, W), got shape (6, 5)"),
    (lambda: ag.col2im(np.zeros((5, 27)), X.shape, 3), "col2im: columns of shape (5, 27) do not fit image shape "
                                                       "(2, 3, 6, 5) with kernel (3, 3), stride (1, 1), pad (0, 0)"),
])
def test_bad_geometry_is_a_shape_error_naming_the_op_and_shapes(call, message):
    if message is None:
        assert call() == (2, 4, 2, 5)
        return
    with pytest.raises(ShapeError) as info:
        call()
    assert message in str(info.value)


def test_output_sides_are_floored_as_pytorchs():
    # 7 rows, kernel 2, stride 3: windows at 0 and 3 (6 is cut off), so 2 rows; PyTorch also gives 2
    y = ag.conv2d(np.ones((1, 1, 7, 7)), np.ones((1, 1, 2, 2)), stride=3)
    assert y.shape == (1, 1, 2, 2) and np.all(y.data == 4.0)


# --- against PyTorch (optional: skipped without torch) --------------------------------------

def _torch():
    return pytest.importorskip("torch", reason="the PyTorch cross-checks need torch: pip install torch==2.13.0")


def _random_geometry(rng, pool=False):
    kh, kw = (int(k) for k in rng.integers(1, 5, 2))
    sh, sw = (int(s) for s in rng.integers(1, 4, 2))
    ph, pw = (int(rng.integers(0, k // 2 + 1)) for k in (kh, kw)) if pool else (int(p) for p in rng.integers(0, 3, 2))
    h, w = (int(rng.integers(max(1, k - 2 * p), 11)) for k, p in ((kh, ph), (kw, pw)))
    shape = (int(rng.integers(1, 4)), int(rng.integers(1, 4)), h, w)
    return shape, (kh, kw), (sh, sw), (ph, pw)


def _grads(fn, *arrays):
    tensors = [ag.Tensor(a, requires_grad=True) for a in arrays]
    y = fn(*tensors)
    cot = np.random.default_rng(1).standard_normal(y.shape)
    ag.sum(y * cot).backward()
    return y.data, cot, [t.grad for t in tensors]


def _torch_grads(torch, fn, cot, *arrays):
    tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
    y = fn(*tensors)
    (y * torch.tensor(cot)).sum().backward()
    return y.detach().numpy(), [t.grad.numpy() for t in tensors]


@pytest.mark.parametrize("seed", range(12))
def test_conv2d_agrees_with_torch(seed):
    torch = _torch()
    rng = np.random.default_rng(seed)
    shape, kernel, stride, pad = _random_geometry(rng)
    x, W, b = rng.standard_normal(shape), rng.standard_normal((3, shape[1], *kernel)), rng.standard_normal(3)
    y, cot, grads = _grads(lambda *a: ag.conv2d(*a, stride=stride, pad=pad), x, W, b)
    ty, tgrads = _torch_grads(torch, lambda *a: torch.nn.functional.conv2d(*a, stride=stride, padding=pad),
                              cot, x, W, b)
    np.testing.assert_allclose(y, ty, rtol=1e-10, atol=1e-12)
    for g, tg in zip(grads, tgrads):
        np.testing.assert_allclose(g, tg, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling_agrees_with_torch(seed, kind):
    torch = _torch()
    rng = np.random.default_rng(seed)
    shape, kernel, stride, pad = _random_geometry(rng, pool=True)
    x = rng.standard_normal(shape)
    if seed % 3 == 0:
        x = np.round(x)  # many ties: both must send the gradient to the first maximum
    ours = {"max": ag.max_pool2d, "avg": ag.avg_pool2d}[kind]
    theirs = {"max": torch.nn.functional.max_pool2d, "avg": torch.nn.functional.avg_pool2d}[kind]
    y, cot, (g,) = _grads(lambda a: ours(a, kernel, stride, pad), x)
    ty, (tg,) = _torch_grads(torch, lambda a: theirs(a, kernel, stride, pad), cot, x)
    np.testing.assert_allclose(y, ty, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(g, tg, rtol=1e-10, atol=1e-12)
