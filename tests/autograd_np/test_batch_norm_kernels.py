"""Batch norm over images (N, C, ...): the kernels of ``ops/norm_kernels.py`` against
the whole-array formula they replaced, against PyTorch, and on one thread against two.

The kernels walk the channels in groups (``GROUP`` values each) and hand half the
groups to a second thread.  The sweep runs every shape with the default groups
and with groups of a few channels that do not divide C (``GROUP`` patched
small), in every memory layout of ``x`` and of the incoming gradient, in
training and eval, in float32, float64 and mixed dtypes:
- the forward in contiguous layouts is bitwise the whole-array formula (the same
  per-channel sums and dot products of centred rows); other layouts, and the
  gradients, whose sums run in another order, agree to the dtype's rounding;
- forcing every loop onto two threads gives the same bits as one thread;
- PyTorch's ``batch_norm`` gives the same output, gradients and running
  statistics (its running variance is unbiased: compared after the factor).

These are the NumPy kernels: every test here runs with ``compiled_kernels.using("numpy")``
(the compiled ones, where numba is installed, are compared with these in
test_compiled_kernels.py).
"""
import re

import numpy as np
import pytest

import autograd_np as ag
from autograd_np.ops import compiled_kernels, conv_kernels, norm_kernels

RNG = np.random.default_rng(2022)

SHAPES = [(4, 3, 5, 6), (2, 5, 7), (3, 4, 2, 3, 2), (1, 2, 3, 3), (6, 1, 2, 2), (5, 7, 1, 1), (2, 3, 1),
          (3, 2, 37, 41), (2, 3, 64, 64)]  # (the last two: sums in lanes, with and without a tail)
LAYOUTS = ["nchw", "channel-major", "strided", "reversed"]
TOL = {np.float32: dict(rtol=2e-5, atol=2e-5), np.float64: dict(rtol=1e-12, atol=1e-12)}


def _layout(a, layout):
    """``a`` in NCHW memory, channel-major memory (a convolution's output), a strided slice
    of a larger array, or every axis reversed in memory."""
    if layout == "nchw":
        return np.ascontiguousarray(a)
    if layout == "channel-major":
        return np.moveaxis(np.ascontiguousarray(np.moveaxis(a, 1, 0)), 0, 1)
    if layout == "strided":
        big = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
        big[..., ::2] = a
        return big[..., ::2]
    axes = tuple(range(a.ndim))[::-1]
    return np.ascontiguousarray(a.transpose(axes)).transpose(axes)


def _same_layout(a, b):
    """The same strides wherever an axis has more than one element."""
    return all(sa == sb for sa, sb, n in zip(a.strides, b.strides, a.shape) if n > 1)


def _lane_sums(rows, lanes=2048):
    """Each row's sum as the kernels add it: running sums in ``lanes`` lanes, then pairwise."""
    k = rows.shape[1] // lanes
    if k < 2:
        return np.sum(rows, axis=1)
    head = np.add.reduce(rows[:, :k * lanes].reshape(len(rows), k, lanes), axis=1).sum(axis=1)
    return head + rows[:, k * lanes:].sum(axis=1) if rows.shape[1] % lanes else head


def _whole_array(x, gamma, beta, gy, training, mean=None, var=None, eps=1e-5):
    """The formula the kernels replaced, over every channel at once: (y, mean, var, gx,
    ggamma, gbeta), the per-channel reductions over contiguous (C, M) rows."""
    c = x.shape[1]
    rows = np.ascontiguousarray(np.moveaxis(x, 1, 0)).reshape(c, -1)
    g_rows = np.ascontiguousarray(np.moveaxis(gy, 1, 0)).reshape(c, -1)
    count = rows.shape[1]
    if training:
        mean = _lane_sums(rows) / count
        xc = rows - mean[:, None]
        var = np.vecdot(xc, xc) / count
    else:
        xc = rows - mean[:, None]
    inv = 1.0 / np.sqrt(var + eps)
    scale = gamma * inv
    y = xc * scale[:, None] + beta[:, None]
    sums, dots = _lane_sums(g_rows), np.vecdot(g_rows, xc)
    if training:
        gx = ((xc * (-inv * inv * dots / count)[:, None] + g_rows) + (-sums / count)[:, None]) * scale[:, None]
    else:
        gx = g_rows * scale[:, None]
    back = lambda r: np.moveaxis(r.reshape((c, x.shape[0]) + x.shape[2:]), 0, 1)
    return [back(y), mean, var, back(gx), dots * inv, sums]


def _ours(x, gamma, beta, gy, training, mean, var):
    """(y, running mean, running var, gx, ggamma, gbeta) through ag.batch_norm's backward."""
    rm, rv = mean.copy(), var.copy()
    tensors = [ag.Tensor(a, requires_grad=a.dtype.kind == "f") for a in (x, gamma, beta)]
    y = ag.batch_norm(*tensors, running_mean=rm, running_var=rv, training=training)
    grads = ag.grad(y, [t for t in tensors if t.requires_grad], grad_outputs=[gy])
    return [y.data, rm, rv] + [None] * (3 - len(grads)) + [np.asarray(g) for g in grads]  # (integer x: no gx)


def _inputs(shape, dtype, layout, gy_layout):
    c = shape[1]
    x = _layout((RNG.standard_normal(shape) * 3 + 4).astype(dtype), layout)
    gy = _layout(RNG.standard_normal(shape).astype(dtype), gy_layout)
    gamma, beta = (RNG.random(c) + 0.5).astype(dtype), RNG.standard_normal(c).astype(dtype)
    mean, var = RNG.standard_normal(c).astype(dtype), (RNG.random(c) + 0.5).astype(dtype)
    return x, gamma, beta, gy, mean, var


@pytest.fixture(autouse=True)
def numpy_kernels():
    with compiled_kernels.using("numpy"):
        yield


@pytest.fixture(params=["default groups", "groups of 2-3 channels"])
def groups(request, monkeypatch):
    if request.param != "default groups":
        monkeypatch.setattr(norm_kernels, "GROUP", 40)
    return request.param


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("training", [True, False])
def test_kernels_equal_the_whole_array_formula(shape, layout, dtype, training, groups):
    for gy_layout in LAYOUTS:
        x, gamma, beta, gy, mean, var = _inputs(shape, dtype, layout, gy_layout)
        got = _ours(x, gamma, beta, gy, training, mean, var)
        want = _whole_array(x, gamma, beta, gy, training, mean, var)
        if training:
            want[1], want[2] = 0.9 * mean + 0.1 * want[1], 0.9 * var + 0.1 * want[2]
        else:
            want[1], want[2] = mean, var
        for name, g, w in zip(["y", "running mean", "running var", "gx", "ggamma", "gbeta"], got, want):
            assert g.dtype == w.dtype and g.shape == w.shape, name
            np.testing.assert_allclose(g, w, **TOL[dtype], err_msg=f"{name}, gy {gy_layout}")
            if name not in ("running mean", "running var"):  # (their update's 1 - momentum rounds apart)
                assert np.array_equal(g, w), f"{name}: the same arithmetic, the same bits (gy {gy_layout})"
        assert _same_layout(got[0], x) or layout == "strided", "y keeps x's memory layout"
        assert _same_layout(got[3], gy) or gy_layout == "strided", "gx keeps gy's memory layout"


@pytest.mark.parametrize("x_dtype,p_dtype,tol", [(np.float32, np.float64, 2e-5), (np.float64, np.float32, 1e-12),
                                                 (np.int64, np.float64, 1e-12), (np.float16, np.float32, 5e-3)])
@pytest.mark.parametrize("training", [True, False])
def test_mixed_dtypes_promote_as_the_formula(x_dtype, p_dtype, tol, training):
    """The output has the dtype of x, gamma and beta together (integers: float64); x - mean
    is computed in x's float dtype."""
    shape = (3, 4, 5, 5)
    x = (RNG.standard_normal(shape) * 4).astype(x_dtype)
    gamma, beta = (RNG.random(4) + 0.5).astype(p_dtype), RNG.standard_normal(4).astype(p_dtype)
    gy = RNG.standard_normal(shape).astype(p_dtype)
    mean, var = np.zeros(4, p_dtype), np.ones(4, p_dtype)
    got = _ours(x, gamma, beta, gy, training, mean, var)
    want = _whole_array(x.astype(np.float64), gamma.astype(np.float64), beta.astype(np.float64),
                        gy.astype(np.float64), training, np.zeros(4), np.ones(4))
    assert got[0].dtype == np.result_type(x, gamma, beta, np.float16)
    for name, g, w in zip(["y", "gx", "ggamma", "gbeta"], [got[0], got[3], got[4], got[5]],
                          [want[0], want[3], want[4], want[5]]):
        if g is None:
            assert name == "gx" and x.dtype.kind == "i"
            continue
        t = max(tol, {np.float16: 5e-3, np.float32: 2e-5}.get(g.dtype.type, 0.0))  # (a gradient in its input's dtype)
        np.testing.assert_allclose(g, w, rtol=t, atol=t * max(1.0, float(np.abs(w).max())), err_msg=name)


@pytest.mark.parametrize("shape", [(3, 5, 4, 4), (2, 9, 3), (5, 3, 6, 6), (2, 7, 2, 2, 3)])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("needs", [(True, True, True), (False, True, True), (True, False, False)])
def test_two_threads_give_the_same_bits_as_one(monkeypatch, shape, training, needs):
    """Every loop split between two threads (groups of one to three channels, an odd number
    of groups): each group is the same NumPy calls, so the same bits."""
    monkeypatch.setattr(norm_kernels, "GROUP", 2 * int(np.prod(shape)) // shape[1])  # two channels a group
    x, gamma, beta, gy, mean, var = _inputs(shape, np.float32, "channel-major", "nchw")

    def run():
        y, m, v, inv = norm_kernels.bn_forward(x, gamma, beta, 1e-5, None if training else (mean, var))
        return [y, m, v, inv, *(g for g in norm_kernels.bn_grads(gy, x, gamma, m, inv, needs, training)
                                if g is not None)]
    monkeypatch.setattr(conv_kernels, "PARALLEL_MIN", 1 << 62)
    one = run()
    monkeypatch.setattr(conv_kernels, "PARALLEL_MIN", 0)
    monkeypatch.setattr(conv_kernels, "_usable_cores", lambda: 2)
    calls = []
    original = conv_kernels.by_channels
    monkeypatch.setattr(norm_kernels, "by_channels", lambda fn, c, size: calls.append(c) or original(fn, c, size))
    two = run()
    assert len(calls) == 2 and min(calls) >= 2, "both kernels split their groups"
    assert len(one) == len(two) == 4 + sum(needs)
    assert all(a.tobytes() == b.tobytes() for a, b in zip(one, two))


@pytest.mark.parametrize("name", ["gamma", "beta"])
@pytest.mark.parametrize("shape", [(3,), (5,), (1, 4), (4, 1), (2, 2)])
def test_per_channel_parameters_of_another_shape_are_refused(name, shape):
    """gamma and beta have one value per channel, or one for all: a group of channels
    reading a slice of a longer array would be a silent wrong result."""
    args = {"gamma": np.ones(4), "beta": np.zeros(4)}
    args[name] = np.ones(shape)
    for training in (True, False):
        with pytest.raises(ag.ShapeError, match=rf"batch_norm: {name} must have shape \(4,\).*\(2, 4, 3, 3\), "
                                                rf"got shape {re.escape(str(shape))}"):
            ag.batch_norm(np.ones((2, 4, 3, 3)), args["gamma"], args["beta"], running_mean=np.zeros(4),
                          running_var=np.ones(4), training=training)


@pytest.mark.parametrize("shape", [(), (1,)])
def test_one_gamma_and_beta_for_every_channel_is_broadcast(shape):
    x = RNG.standard_normal((3, 4, 2, 2))
    one = ag.batch_norm(x, np.full(shape, 2.0), np.full(shape, 0.5), running_mean=np.zeros(4),
                        running_var=np.ones(4)).data
    every = ag.batch_norm(x, np.full(4, 2.0), np.full(4, 0.5), running_mean=np.zeros(4), running_var=np.ones(4)).data
    assert np.array_equal(one, every)


def test_a_buffer_given_as_out_is_written_and_returned():
    x, gamma, beta, gy, mean, var = _inputs((4, 3, 5, 5), np.float64, "channel-major", "channel-major")
    y_out, gx_out = np.empty_like(x), np.empty_like(gy)
    y, m, v, inv = norm_kernels.bn_forward(x, gamma, beta, 1e-5, None, out=y_out)
    gx = norm_kernels.bn_grads(gy, x, gamma, m, inv, (True, True, True), True, out=gx_out)[0]
    assert y is y_out and gx is gx_out
    want = _whole_array(x, gamma, beta, gy, True)
    np.testing.assert_allclose(y, want[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gx, want[3], rtol=1e-12, atol=1e-12)


def test_accuracy_far_from_zero_keeps_the_centred_sums():
    """Values 1e4 from zero with a spread of 1 (float32 holds them to about 1e-3): the
    variance and the gradient come from centred rows, so they stay accurate where
    E[x^2] - E[x]^2 would lose every digit."""
    x = (1e4 + RNG.standard_normal((16, 2, 8, 8))).astype(np.float32)
    gy = RNG.standard_normal(x.shape).astype(np.float32)
    got = _ours(x, np.ones(2, np.float32), np.zeros(2, np.float32), gy, True, np.zeros(2, np.float32),
                np.ones(2, np.float32))
    want = _whole_array(x.astype(np.float64), np.ones(2), np.zeros(2), gy.astype(np.float64), True)
    np.testing.assert_allclose(got[0], want[0], atol=2e-3)
    np.testing.assert_allclose(got[3], want[3], atol=2e-3)
    np.testing.assert_allclose(got[2], 0.9 + 0.1 * want[2], rtol=1e-3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sums_in_lanes_are_as_accurate_as_pairwise_sums(dtype):
    """The batch's mean over 80000 values a channel against the exact one: no worse than
    NumPy's pairwise sum of the same values, by more than an ulp or two."""
    x = (1e3 + RNG.standard_normal((50, 3, 40, 40))).astype(dtype)
    mean = np.zeros(3, dtype)
    ag.batch_norm(x, np.ones(3, dtype), np.zeros(3, dtype), running_mean=mean, running_var=np.ones(3, dtype),
                  momentum=0.0)
    exact = x.astype(np.float64).mean(axis=(0, 2, 3))
    pairwise = np.ascontiguousarray(np.moveaxis(x, 1, 0)).reshape(3, -1).sum(axis=1) / dtype(80000)
    ulp = np.spacing(np.abs(exact).astype(dtype)).astype(np.float64)
    assert np.all(np.abs(mean - exact) <= np.abs(pairwise - exact) + 2 * ulp)


# --- against PyTorch ---------------------------------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("layout", ["nchw", "channel-major", "strided"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("training", [True, False])
def test_kernels_agree_with_torch(shape, layout, dtype, training):
    torch = pytest.importorskip("torch", reason="the PyTorch cross-checks need torch: pip install torch==2.13.0")
    x, gamma, beta, gy, mean, var = _inputs(shape, dtype, layout, "channel-major")
    if training and np.prod(shape) // shape[1] == 1:
        return  # one value per channel: refused (test_batch_norm_refuses_one_value_per_channel)
    got = _ours(x, gamma, beta, gy, training, mean, var)
    ts = [torch.tensor(np.ascontiguousarray(a), requires_grad=True) for a in (x, gamma, beta)]
    tm, tv = torch.tensor(mean), torch.tensor(var)
    yt = torch.nn.functional.batch_norm(ts[0], tm, tv, ts[1], ts[2], training, 0.1, 1e-5)
    yt.backward(torch.tensor(np.ascontiguousarray(gy)))
    want = [yt.detach().numpy(), tm.numpy(), tv.numpy()] + [t.grad.numpy() for t in ts]
    if training:  # PyTorch's running variance is unbiased: take the factor back out
        m = np.prod(shape) // shape[1]
        want[2] = 0.9 * var + (want[2] - 0.9 * var) * (m - 1) / m
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    for name, g, w in zip(["y", "running mean", "running var", "gx", "ggamma", "gbeta"], got, want):
        np.testing.assert_allclose(g, w, **tol, err_msg=name)


def test_batch_norm_refuses_one_value_per_channel():
    with pytest.raises(ag.ShapeError, match=r"batch_norm: Expected more than 1 value per channel"):
        ag.batch_norm(np.ones((1, 3, 1, 1)), np.ones(3), np.zeros(3), running_mean=np.zeros(3),
                      running_var=np.ones(3))
