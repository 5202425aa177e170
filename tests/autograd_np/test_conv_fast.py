"""The fast paths of convolution, pooling and batch norm against the general ones.

A plain backward runs the kernels of ``ops/conv_kernels.py`` and batch norm's
saved statistics; ``create_graph=True`` runs the VJPs composed of ops (the
general path, differentiable again).  Every geometry of a sweep goes through
both, in several memory layouts: equal bitwise where the arithmetic is the same
(max pooling: the same comparisons), else to float64 rounding (the matmuls sum
in another order).  Odd sizes, padding and strides other than the kernel are
the boundaries where pooling falls back to the general path.

Every test runs twice: with the NumPy kernels (the default of a plain install) and
with the compiled ones of the ``numba`` extra (``ops/compiled_kernels.py``: max
pooling, and im2col and col2im of same-size convolutions), which ``make test``
installs."""
import numpy as np
import pytest

import autograd_np as ag
from autograd_np.ops import compiled_kernels, conv_kernels, conv_shifted, conv_windows

RNG = np.random.default_rng(22)


@pytest.fixture(autouse=True, params=["numpy", "numba"])
def kernels(request):
    if request.param == "numba":
        pytest.importorskip("numba")
    with compiled_kernels.using(request.param):
        yield request.param


def _layouts(a):
    """``a`` in NCHW memory, channel-major memory (a conv's output) and a strided slice."""
    cm = np.ascontiguousarray(a.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
    big = np.zeros(a.shape[:3] + (2 * a.shape[3] + 1,), a.dtype)
    big[..., 1::2] = a
    return {"nchw": np.ascontiguousarray(a), "channel-major": cm, "strided": big[..., 1::2]}


def _both_paths(fn, arrays, cot):
    """(y, fast gradients, composed gradients) of sum(fn(*arrays) * cot)."""
    tensors = [ag.Tensor(a, requires_grad=True) for a in arrays]
    y = fn(*tensors)
    fast = ag.grad(y, tensors, grad_outputs=[cot])
    composed = ag.grad(fn(*tensors), tensors, grad_outputs=[cot], create_graph=True)
    return y.data, [np.asarray(g) for g in fast], [g.data for g in composed]


# --- convolution -----------------------------------------------------------------------------

CONV_GEOMETRIES = [  # (x shape, (O, kh, kw), stride, pad)
    ((2, 3, 7, 6), (4, 3, 3), 1, 1), ((2, 1, 9, 9), (5, 5, 5), 1, 0), ((1, 2, 8, 9), (3, 3, 2), (2, 3), (1, 0)),
    ((3, 2, 5, 5), (2, 2, 2), 2, 1), ((2, 2, 6, 7), (3, 1, 3), 2, (0, 2)), ((1, 3, 4, 4), (2, 4, 4), 1, 0),
    ((2, 2, 5, 5), (3, 1, 1), 1, 0), ((1, 1, 3, 3), (1, 3, 3), 3, 2), ((2, 4, 6, 6), (1, 3, 3), 1, 2)]


@pytest.mark.parametrize("shape,wshape,stride,pad", CONV_GEOMETRIES)
@pytest.mark.parametrize("layout", ["nchw", "channel-major", "strided"])
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_kernels_equal_the_composed_gradients(shape, wshape, stride, pad, layout, bias):
    x = _layouts(RNG.standard_normal(shape))[layout]
    W = RNG.standard_normal((wshape[0], shape[1], *wshape[1:]))
    args = [x, W] + ([RNG.standard_normal(wshape[0])] if bias else [])
    y_shape = ag.conv2d(x, W, stride=stride, pad=pad).shape
    for cot_layout, cot in _layouts(RNG.standard_normal(y_shape)).items():
        y, fast, composed = _both_paths(lambda *a: ag.conv2d(*a, stride=stride, pad=pad), args, cot)
        for name, f, c in zip("xWb", fast, composed):
            np.testing.assert_allclose(f, c, rtol=1e-12, atol=1e-12, err_msg=f"{name}, gy {cot_layout}")


SAME_SIZE = [  # stride 1, the output the input's size: im2col and col2im as shifted runs
    ((2, 3, 7, 6), (4, 3, 3), 1), ((2, 2, 5, 5), (3, 5, 5), 2), ((1, 2, 4, 9), (2, 3, 5), (1, 2)),
    ((3, 1, 1, 1), (2, 3, 3), 1), ((2, 2, 1, 4), (2, 3, 3), 1), ((2, 2, 2, 2), (3, 5, 5), 2),
    ((2, 3, 3, 3), (2, 1, 1), 0), ((1, 2, 6, 5), (2, 3, 1), (1, 0)), ((2, 1, 28, 28), (4, 3, 3), 1)]


@pytest.mark.parametrize("shape,wshape,pad", SAME_SIZE)
@pytest.mark.parametrize("layout", ["nchw", "channel-major", "strided"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_same_size_convolution_equals_the_strided_path_bitwise(monkeypatch, shape, wshape, pad, layout, dtype):
    """The shifted runs against the copy and add per kernel offset: output and every
    gradient, bits and signs of zeros; images smaller than the shift (all padding) and
    layouts without whole planes in memory (strided: the copies fall back) included."""
    x = _layouts(RNG.standard_normal(shape).astype(dtype))[layout]
    W = RNG.standard_normal((wshape[0], shape[1], *wshape[1:])).astype(dtype)
    b = RNG.standard_normal(wshape[0]).astype(dtype)
    gy = RNG.standard_normal(ag.conv2d(x, W, b, pad=pad).shape).astype(dtype)
    runs = []
    for shifted in (True, False):
        if not shifted:
            monkeypatch.setattr(conv_shifted, "same_size", lambda *a: False)
        tensors = [ag.Tensor(a, requires_grad=True) for a in (x, W, b)]
        y = ag.conv2d(*tensors, pad=pad)
        y.backward(gy)
        runs.append([y.data] + [t.grad for t in tensors])
    for name, fast, slow in zip(["y", "gx", "gW", "gb"], *runs):
        assert fast.tobytes() == np.ascontiguousarray(slow).tobytes() or \
            np.array_equal(fast, slow) and np.array_equal(np.signbit(fast), np.signbit(slow)), name


@pytest.mark.parametrize("x_dtype,w_dtype", [(np.float32, np.float64), (np.float64, np.float32), (np.int64, np.float32)])
def test_same_size_convolution_of_mixed_dtypes_equals_the_strided_path(monkeypatch, x_dtype, w_dtype):
    """The columns take the promoted dtype (the compiled copies need one dtype: NumPy's
    shifted copies run), the same values as the strided path."""
    x = (RNG.standard_normal((2, 3, 5, 5)) * 4).astype(x_dtype)
    W = RNG.standard_normal((2, 3, 3, 3)).astype(w_dtype)
    runs = []
    for shifted in (True, False):
        if not shifted:
            monkeypatch.setattr(conv_shifted, "same_size", lambda *a: False)
        W_t = ag.Tensor(W, requires_grad=True)
        y = ag.conv2d(x, W_t, pad=1)
        ag.sum(y * y).backward()
        runs.append((y.data, W_t.grad))
    for a, b in zip(*runs):
        assert a.dtype == b.dtype and np.array_equal(a, b) and np.array_equal(np.signbit(a), np.signbit(b))


def test_same_size_convolution_takes_the_shifted_runs_where_it_can(monkeypatch, kernels):
    """The shifted copies run for whole images in memory (NCHW or channel-major), the adds
    always (the gradient's image is made channel-major); a strided x or another geometry
    does not take them.  With numba they are its loops, else NumPy's."""
    calls = []
    if kernels == "numba":
        from autograd_np.ops import _numba_loops as module
        names = {"im2col_same": "copies", "col2im_same": "adds"}
    else:
        module, names = conv_shifted, {"shifted_copies": "copies", "shifted_adds": "adds"}
    for name, kind in names.items():
        real = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *a, _r=real, _k=kind: (calls.append(_k), _r(*a))[1])
    cases = [("nchw", 1, 1, ["copies", "adds"]), ("channel-major", 1, 1, ["copies", "adds"]),
             ("strided", 1, 1, ["adds"]), ("nchw", 2, 1, []), ("nchw", 1, 0, [])]
    for layout, stride, pad, expected in cases:
        for dtype in (np.float32, np.float64):
            calls.clear()
            x = ag.Tensor(_layouts(RNG.standard_normal((2, 2, 6, 6)).astype(dtype))[layout], requires_grad=True)
            ag.sum(ag.conv2d(x, RNG.standard_normal((3, 2, 3, 3)).astype(dtype), stride=stride, pad=pad)).backward()
            assert calls == expected, (layout, stride, pad, dtype)


@pytest.mark.parametrize("pad", [1, 0])  # (the shifted runs and the strided copies)
def test_conv_columns_refuse_a_buffer_they_cannot_write_through(pad):
    """The copies write through reshapes of ``out``: a buffer in another layout or shape
    would take a copy's writes and lose them, so it is refused, named."""
    x = RNG.standard_normal((2, 3, 5, 5)).astype(np.float32)
    win = conv_windows.conv_window(x, np.zeros((4, 3, 3, 3), np.float32), None, 1, pad)
    rows, cols = 27, 2 * win.out[0] * win.out[1]
    want = conv_kernels.conv_columns(x, win, False, np.float32)
    assert conv_kernels.conv_columns(x, win, False, np.float32, out=np.empty((rows, cols), np.float32)).tobytes() \
        == want.tobytes()
    for bad in (np.empty((rows, cols), np.float32, order="F"), np.empty((rows + 1, cols), np.float32)):
        with pytest.raises(ValueError, match=r"conv_columns: out must be a C-contiguous \(27, "):
            conv_kernels.conv_columns(x, win, False, np.float32, out=bad)


def test_conv2d_output_is_channel_major_memory_and_layers_after_it_keep_it():
    x = RNG.standard_normal((4, 3, 8, 8)).astype(np.float32)
    W = RNG.standard_normal((5, 3, 3, 3)).astype(np.float32)
    y = ag.conv2d(x, W, np.zeros(5, np.float32), pad=1)
    assert y.shape == (4, 5, 8, 8) and y.data.transpose(1, 0, 2, 3).flags.c_contiguous
    for after in (ag.relu(y), ag.max_pool2d(ag.relu(y), 2)):
        assert after.data.transpose(1, 0, 2, 3).flags.c_contiguous  # no copy back to NCHW on the way


def test_conv2d_weight_and_bias_gradients_skip_what_is_not_needed():
    x, W, b = (ag.Tensor(a, requires_grad=r) for a, r in ((RNG.standard_normal((2, 2, 5, 5)), False),
                                                        (RNG.standard_normal((3, 2, 3, 3)), True),
                                                        (RNG.standard_normal(3), False)))
    ag.sum(ag.conv2d(x, W, b)).backward()
    assert x.grad is None and b.grad is None and W.grad.shape == (3, 2, 3, 3)


def test_conv2d_bias_of_a_kind_the_output_cannot_hold_is_refused():
    with pytest.raises(TypeError, match="conv2d: cannot add a bias of dtype float64 to an output of dtype int64"):
        ag.conv2d(np.ones((1, 1, 3, 3), int), np.ones((1, 1, 2, 2), int), np.ones(1))


@pytest.mark.parametrize("shape,w_shape", [((0, 2, 4, 4), (3, 2, 2, 2)), ((2, 0, 4, 4), (3, 0, 2, 2)),
                                           ((2, 2, 4, 4), (0, 2, 2, 2))])
def test_conv2d_kernels_with_an_empty_axis_give_empty_or_bias_gradients(shape, w_shape):
    x, W, b = RNG.standard_normal(shape), RNG.standard_normal(w_shape), RNG.standard_normal(w_shape[0])
    y, fast, composed = _both_paths(ag.conv2d, [x, W, b], np.ones(ag.conv2d(x, W, b).shape))
    for f, c in zip(fast, composed):
        assert f.shape == c.shape
        np.testing.assert_allclose(f, c, atol=1e-12)


# --- max pooling -------------------------------------------------------------------------------

TILED = [((2, 3, 8, 8), 2), ((2, 2, 7, 9), 2), ((1, 2, 9, 7), 3), ((2, 2, 6, 9), (2, 3)), ((1, 2, 5, 5), 1),
         ((1, 1, 4, 6), (4, 1)), ((3, 1, 3, 3), 3)]


def _general_max(x, kernel):
    """max_pool2d's general path for the same geometry: (y, the source in each window)."""
    return conv_windows.max_pool_general(x, conv_windows.pool_window("max_pool2d", x.shape, kernel, None, 0))


def _tie_heavy(shape):
    """Values from a few levels, signed zeros, infinities: ties everywhere."""
    return RNG.choice(np.array([-np.inf, -1.0, -0.0, 0.0, 1.0, 2.0, np.inf]), size=shape)


@pytest.mark.parametrize("shape,kernel", TILED)
@pytest.mark.parametrize("values", ["normal", "ties", "nan"])
@pytest.mark.parametrize("layout", ["nchw", "channel-major", "strided"])
def test_tiled_max_pool_equals_the_general_path_bitwise(shape, kernel, values, layout):
    x = {"normal": RNG.standard_normal(shape), "ties": _tie_heavy(shape)}.get(values)
    if values == "nan":
        x = _tie_heavy(shape)
        x[RNG.random(shape) < 0.2] = np.nan
    x = _layouts(x)[layout]
    y_general, first = _general_max(x, kernel)
    y = ag.max_pool2d(x, kernel).data
    assert np.array_equal(y, y_general, equal_nan=True)
    assert np.array_equal(np.signbit(y), np.signbit(y_general))  # a tie of 0.0 and -0.0 keeps the first
    gy = RNG.standard_normal(y.shape)
    t = ag.Tensor(x, requires_grad=True)
    ag.sum(ag.max_pool2d(t, kernel) * gy).backward()
    win = conv_windows.pool_window("max_pool2d", x.shape, kernel, None, 0)
    assert np.array_equal(t.grad, conv_kernels.scatter_to_first(gy, first, x.shape, win))


@pytest.mark.parametrize("shape,kernel", TILED + [((1, 3, 4, 6), 2), ((3, 1, 5, 4), 2), ((2, 3, 6, 6), (1, 3))])
@pytest.mark.parametrize("values", ["normal", "ties", "nan"])
@pytest.mark.parametrize("layout", ["nchw", "channel-major", "strided"])
def test_max_pool_by_rows_equals_the_view_per_offset_bitwise(monkeypatch, shape, kernel, values, layout):
    """The forward over planes (each row's maxima, then each window's rows) against the
    maximum of the offset views, bits and signs of zeros included; shapes where a row
    is not tiled (W not a multiple of kw), a 1x1 window, or a layout without planes in
    memory order take the views' path, and the sweep reaches both."""
    x = {"normal": RNG.standard_normal(shape), "ties": _tie_heavy(shape)}.get(values)
    if values == "nan":
        x = _tie_heavy(shape)
        x[RNG.random(shape) < 0.2] = np.nan
    x = _layouts(x.astype(np.float32))[layout]
    win = conv_windows.pool_window("max_pool2d", shape, kernel, None, 0)
    by_rows = conv_kernels.max_offsets(x, win)
    taken = conv_kernels._same_planes(x, by_rows, win) is not None
    assert taken == (layout != "strided" and shape[3] % win.kernel[1] == 0 and win.kernel != (1, 1))
    monkeypatch.setattr(conv_kernels, "_same_planes", lambda *a: None)
    by_views = conv_kernels.max_offsets(x, win)
    assert by_rows.tobytes() == by_views.tobytes() and by_rows.strides == by_views.strides
    out = np.empty_like(by_views)
    monkeypatch.undo()
    assert conv_kernels.max_offsets(x, win, out) is out and out.tobytes() == by_views.tobytes()


@pytest.mark.parametrize("x_layout", ["nchw", "channel-major", "strided"])
def test_tiled_max_pool_gradient_is_the_same_whatever_the_layout_of_gy(x_layout):
    """gy in another memory layout than y (NCHW from a reshape after channel-major pooling)
    is copied into y's first: the same bits as gy in y's layout, ties included."""
    x = _layouts(_tie_heavy((3, 4, 6, 8)))[x_layout]
    win = conv_windows.pool_window("max_pool2d", x.shape, 2, None, 0)
    y = conv_kernels.max_offsets(x, win)
    gy = RNG.standard_normal(y.shape)
    grads = [conv_kernels.max_offsets_grad(g, y, x, win) for g in _layouts(gy).values()]
    assert all(g.tobytes() == grads[0].tobytes() and g.strides == grads[0].strides for g in grads[1:])
    assert np.array_equal(grads[0], conv_kernels.scatter_to_first(gy, _general_max(x, 2)[1], x.shape, win))


@pytest.mark.parametrize("shape,kernel", TILED[:4])
def test_tiled_max_pool_gradient_equals_the_composed_one(shape, kernel):
    x = _tie_heavy(shape)
    y, fast, composed = _both_paths(lambda a: ag.max_pool2d(a, kernel), [x],
                                    RNG.standard_normal(ag.max_pool2d(x, kernel).shape))
    assert np.array_equal(fast[0], composed[0])


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_max_pool_sends_an_infinite_gradient_only_to_each_windows_source(bad):
    for kernel, stride, pad in ((2, None, 0), (3, 1, 1), (2, 1, 0)):  # tiled, padded, overlapping
        x = RNG.standard_normal((1, 2, 6, 6))
        t = ag.Tensor(x, requires_grad=True)
        y = ag.max_pool2d(t, kernel, stride, pad)
        gy = np.ones(y.shape)
        gy[0, 0, 0, 0] = bad
        ag.sum(y * gy).backward()
        assert (~np.isfinite(t.grad)).sum() == 1  # the source of output (0, 0, 0, 0) alone, never inf * 0 = NaN
        assert np.isnan(t.grad).sum() == np.isnan(bad) and np.isfinite(t.grad[0, 1]).all()


def test_max_pool_of_integers_takes_the_tiled_path_and_keeps_the_dtype():
    x = RNG.integers(-5, 5, (2, 3, 6, 7))
    y = ag.max_pool2d(x, 2)
    assert y.dtype == x.dtype and np.array_equal(y.data, _general_max(x, 2)[0])


@pytest.mark.parametrize("shape,kernel,stride,pad", [((2, 2, 7, 7), 2, 1, 0), ((2, 2, 6, 6), 2, 2, 1),
                                                     ((1, 2, 6, 6), 3, 2, 1), ((1, 1, 5, 5), (2, 2), (2, 1), 0)])
def test_pool_geometries_that_do_not_tile_take_the_general_path(shape, kernel, stride, pad):
    win = conv_windows.pool_window("max_pool2d", shape, kernel, stride, pad)
    assert not conv_kernels.non_overlapping(win)
    x = RNG.standard_normal(shape)
    assert np.array_equal(ag.max_pool2d(x, kernel, stride, pad).data, conv_windows.max_pool_general(x, win)[0])


# --- average pooling ---------------------------------------------------------------------------

@pytest.mark.parametrize("shape,kernel", TILED)
@pytest.mark.parametrize("layout", ["nchw", "channel-major", "strided"])
def test_tiled_avg_pool_equals_the_general_path(shape, kernel, layout):
    from autograd_np.ops.conv import avg_pool_general
    from autograd_np.ops.conv_windows import avg_pool_tiled
    x = _layouts(RNG.standard_normal(shape))[layout]
    win = conv_windows.pool_window("avg_pool2d", shape, kernel, None, 0)
    gy = RNG.standard_normal((shape[0], shape[1], *win.out))
    results = []
    for fn in (avg_pool_tiled, avg_pool_general):
        t = ag.Tensor(x, requires_grad=True)
        y = fn(t, win)
        ag.sum(y * gy).backward()
        results.append((y.data, t.grad))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-14, atol=1e-15)
    assert ag.avg_pool2d(x, kernel).data.shape == results[0][0].shape


# --- batch norm --------------------------------------------------------------------------------

def _bn(training, mean, var):
    return lambda x, g, b: ag.batch_norm(x, g, b, running_mean=mean.copy(), running_var=var.copy(),
                                         training=training)


BN_CASES = [((6, 3), "nchw"), ((3, 2, 4), "nchw")] + [(s, layout) for s in ((5, 4, 3, 2), (2, 3, 1, 1))
                                                         for layout in ("nchw", "channel-major", "strided")]


@pytest.mark.parametrize("shape,layout", BN_CASES)
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_saved_statistics_give_the_composed_gradients(shape, layout, training):
    x = RNG.standard_normal(shape) * 3 + 5
    if len(shape) == 4:
        x = _layouts(x)[layout]
    c = shape[1]
    gamma, beta = RNG.random(c) + 0.5, RNG.standard_normal(c)
    mean, var = RNG.standard_normal(c), RNG.random(c) + 0.5
    for cot in (_layouts(RNG.standard_normal(shape)).values() if len(shape) == 4 else [RNG.standard_normal(shape)]):
        y, fast, composed = _both_paths(_bn(training, mean, var), [x, gamma, beta], cot)
        for name, f, cg in zip(("x", "gamma", "beta"), fast, composed):
            np.testing.assert_allclose(f, cg, rtol=1e-10, atol=1e-12, err_msg=name)
    axes = (0,) + tuple(range(2, len(shape)))
    m = x.mean(axis=axes, keepdims=True) if training else mean.reshape((1, c) + (1,) * (len(shape) - 2))
    v = x.var(axis=axes, keepdims=True) if training else var.reshape(m.shape)
    want = (x - m) / np.sqrt(v + 1e-5) * gamma.reshape(m.shape) + beta.reshape(m.shape)
    np.testing.assert_allclose(y, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_over_rows_keeps_its_old_arithmetic_bitwise(training):
    """An MLP's (N, C) batch norm: x - mean, divided by the std, times gamma, plus beta, as before
    the kernels for images (so a trained MLP's numbers do not move)."""
    x = (RNG.standard_normal((16, 5)) * 3 + 1).astype(np.float32)
    gamma, beta = (RNG.random(5) + 0.5).astype(np.float32), RNG.standard_normal(5).astype(np.float32)
    mean, var = RNG.standard_normal(5).astype(np.float32), (RNG.random(5) + 0.5).astype(np.float32)
    y = ag.batch_norm(x, gamma, beta, running_mean=mean.copy(), running_var=var.copy(), training=training).data
    if training:
        xc = x - x.mean(axis=0, keepdims=True)
        want = xc / np.sqrt((xc * xc).mean(axis=0, keepdims=True) + 1e-5) * gamma + beta
    else:
        want = (x - mean) / np.sqrt(var + 1e-5) * gamma + beta
    assert y.tobytes() == want.astype(np.float32).tobytes()


def test_batch_norm_gradient_skips_what_is_not_needed_and_updates_running_statistics_once():
    x = ag.Tensor(RNG.standard_normal((4, 3, 2, 2)), requires_grad=True)
    gamma, beta = ag.Tensor(np.ones(3)), ag.Tensor(np.zeros(3), requires_grad=True)
    mean, var = np.zeros(3), np.ones(3)
    y = ag.batch_norm(x, gamma, beta, running_mean=mean, running_var=var)
    ag.sum(y * RNG.standard_normal(y.shape)).backward()
    assert gamma.grad is None and beta.grad.shape == (3,) and x.grad.shape == (4, 3, 2, 2)
    np.testing.assert_allclose(mean, 0.1 * x.data.mean(axis=(0, 2, 3)), rtol=1e-12)


def test_batch_norm_of_an_empty_batch_has_zero_gradients():
    x = ag.Tensor(np.zeros((0, 3, 2, 2)), requires_grad=True)
    gamma, beta = ag.Tensor(np.ones(3), requires_grad=True), ag.Tensor(np.zeros(3), requires_grad=True)
    ag.sum(ag.batch_norm(x, gamma, beta, running_mean=np.zeros(3), running_var=np.ones(3))).backward()
    assert x.grad.shape == (0, 3, 2, 2) and np.array_equal(gamma.grad, np.zeros(3))
    assert np.array_equal(beta.grad, np.zeros(3))


# --- against PyTorch at the fast paths' boundaries (optional) ----------------------------------

@pytest.mark.parametrize("shape,kernel", TILED)
def test_tiled_max_pool_agrees_with_torch_on_ties_and_infinite_gradients(shape, kernel):
    torch = pytest.importorskip("torch", reason="the PyTorch cross-checks need torch: pip install torch==2.13.0")
    x = _tie_heavy(shape)
    x[RNG.random(shape) < 0.1] = np.nan
    t = ag.Tensor(x, requires_grad=True)
    y = ag.max_pool2d(t, kernel)
    gy = RNG.standard_normal(y.shape)
    gy.flat[::5] = np.inf
    ag.sum(y * gy).backward()
    xt = torch.tensor(x, requires_grad=True)
    yt = torch.nn.functional.max_pool2d(xt, kernel)
    yt.backward(torch.tensor(gy))
    assert np.array_equal(y.data, yt.detach().numpy(), equal_nan=True)
    assert np.array_equal(t.grad, xt.grad.numpy(), equal_nan=True)


@pytest.mark.parametrize("geometry", CONV_GEOMETRIES)
def test_conv2d_fast_gradients_agree_with_torch(geometry):
    torch = pytest.importorskip("torch", reason="the PyTorch cross-checks need torch: pip install torch==2.13.0")
    shape, wshape, stride, pad = geometry
    x, W = RNG.standard_normal(shape), RNG.standard_normal((wshape[0], shape[1], *wshape[1:]))
    b = RNG.standard_normal(wshape[0])
    tensors = [ag.Tensor(a, requires_grad=True) for a in (x, W, b)]
    y = ag.conv2d(*tensors, stride=stride, pad=pad)
    ag.sum(y * y).backward()
    torch_in = [torch.tensor(a, requires_grad=True) for a in (x, W, b)]
    yt = torch.nn.functional.conv2d(*torch_in, stride=stride, padding=pad)
    (yt * yt).sum().backward()
    np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    for ours, theirs in zip(tensors, torch_in):
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("layout", ["nchw", "channel-major"])
def test_batch_norm_on_images_agrees_with_torch(layout):
    torch = pytest.importorskip("torch", reason="the PyTorch cross-checks need torch: pip install torch==2.13.0")
    x = _layouts(RNG.standard_normal((4, 3, 5, 5)) * 2 + 1)[layout]
    gamma, beta = RNG.random(3) + 0.5, RNG.standard_normal(3)
    tensors = [ag.Tensor(a, requires_grad=True) for a in (x, gamma, beta)]
    mean, var = np.zeros(3), np.ones(3)
    y = ag.batch_norm(*tensors, running_mean=mean, running_var=var)
    cot = RNG.standard_normal(y.shape)
    ag.sum(y * cot).backward()
    torch_in = [torch.tensor(np.ascontiguousarray(a), requires_grad=True) for a in (x, gamma, beta)]
    tm, tv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    yt = torch.nn.functional.batch_norm(torch_in[0], tm, tv, torch_in[1], torch_in[2], True, 0.1, 1e-5)
    yt.backward(torch.tensor(cot))
    np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    for ours, theirs in zip(tensors, torch_in):
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(mean, tm.numpy(), rtol=1e-12)
    n = x.size / 3  # PyTorch's running variance is unbiased
    np.testing.assert_allclose(var, 0.9 + 0.1 * x.var(axis=(0, 2, 3)), rtol=1e-12)
    np.testing.assert_allclose(tv.numpy(), 0.9 + 0.1 * x.var(axis=(0, 2, 3)) * n / (n - 1), rtol=1e-12)


def test_the_sweep_covers_every_kernel_path():
    """Each geometry list above reaches the path it is there for."""
    tiled = [conv_kernels.non_overlapping(conv_windows.pool_window("p", s, k, None, 0)) for s, k in TILED]
    assert all(tiled)
    floors = [s[2] % (k if isinstance(k, int) else k[0]) or s[3] % (k if isinstance(k, int) else k[1])
              for s, k in TILED]
    assert any(floors) and not all(floors)  # odd sizes (rows no window reaches) and exact tilings
    strides = {str(g[2]) for g in CONV_GEOMETRIES}
    assert len(strides) > 2 and any(g[3] != 0 for g in CONV_GEOMETRIES)


# --- two threads: the same bits ------------------------------------------------------------------

def _run_net_piece(x, W):
    """conv2d, tiled max pooling and their gradients: the loops by_channels splits."""
    xt, Wt = ag.Tensor(x, requires_grad=True), ag.Tensor(W, requires_grad=True)
    y = ag.max_pool2d(ag.relu(ag.conv2d(xt, Wt, pad=1)), 2)
    ag.sum(y * np.linspace(-1, 1, y.size).reshape(y.shape)).backward()
    return [y.data, xt.grad, Wt.grad]


@pytest.mark.parametrize("channels", [1, 2, 5])
def test_the_kernels_on_two_threads_give_the_same_bits(monkeypatch, channels):
    x, W = RNG.standard_normal((3, channels, 9, 8)), RNG.standard_normal((4, channels, 3, 3))
    monkeypatch.setattr(conv_kernels, "PARALLEL_MIN", 1 << 62)
    one = _run_net_piece(x, W)
    monkeypatch.setattr(conv_kernels, "PARALLEL_MIN", 0)  # every loop split, whatever its size
    monkeypatch.setattr(conv_kernels, "_usable_cores", lambda: 2)
    calls = []
    original = conv_kernels.by_channels
    monkeypatch.setattr(conv_kernels, "by_channels", lambda fn, c, size: calls.append(c) or original(fn, c, size))
    two = _run_net_piece(x, W)
    assert len(calls) >= 4  # im2col, col2im, pooling and its gradient
    assert all(a.tobytes() == b.tobytes() for a, b in zip(one, two))


def test_an_error_on_the_helper_thread_is_raised_in_the_caller(monkeypatch):
    monkeypatch.setattr(conv_kernels, "_usable_cores", lambda: 2)
    seen = []

    def work(lo, hi):
        seen.append((lo, hi))
        if lo:
            raise ValueError(f"channels {lo}-{hi}")
    with pytest.raises(ValueError, match="channels 2-4"):
        conv_kernels.by_channels(work, 4, 1 << 30)
    assert sorted(seen) == [(0, 2), (2, 4)]
