"""The compiled kernels of the ``numba`` extra (``ops/compiled_kernels.py``) against the
NumPy kernels, and the switches that choose between them; the process settings of
``ops/tuning.py``.

Batch norm (float32) runs compiled: the sweep runs every shape in every memory
layout, training and eval, through both kernel sets, and checks that the compiled
loops did run where the layout allows (a spy counts the calls) and did not where
it does not.  The output and gradients given the same statistics are the same
bits (eval: the statistics are given); in training the compiled sums accumulate
in float64, so the statistics differ in rounding and are closer to the exact
ones.  Max pooling's compiled loops are swept in test_conv_fast.py, which runs
every test with both kernel sets.
"""
import math
import os

import numpy as np
import pytest

import autograd_np as ag
from autograd_np.ops import compiled_kernels, conv_kernels, norm_kernels, tuning

from .test_batch_norm_kernels import LAYOUTS, _layout

numba_loops = pytest.importorskip("autograd_np.ops._numba_loops", reason="numba is not installed (make test installs it)")

RNG = np.random.default_rng(7)
SHAPES = [(4, 3, 5, 6), (2, 5, 7), (3, 4, 2, 3, 2), (1, 2, 3, 3), (6, 1, 2, 2), (5, 7, 1, 1), (2, 3, 1),
          (3, 2, 37, 41), (8, 16, 14, 14)]
COMPILED_LAYOUTS = {"nchw", "channel-major"}  # (C, N, M) views: the trailing axes merge


@pytest.fixture
def spy(monkeypatch):
    """Counts the calls of the compiled loops."""
    calls = []
    for name in ("bn_forward", "bn_backward", "max_pool", "max_pool_grad", "max_pool_grad_2x2", "im2col_same", "col2im_same"):
        real = getattr(numba_loops, name)
        monkeypatch.setattr(numba_loops, name, lambda *a, _r=real, _n=name: (calls.append(_n), _r(*a))[1])
    return calls


def _run(x, gamma, beta, gy, training, mean, var):
    """(y, running mean, running var, gx, ggamma, gbeta) through ag.batch_norm."""
    rm, rv = mean.copy(), var.copy()
    tensors = [ag.Tensor(a, requires_grad=True) for a in (x, gamma, beta)]
    y = ag.batch_norm(*tensors, running_mean=rm, running_var=rv, training=training)
    grads = ag.grad(y, tensors, grad_outputs=[gy])
    return [y.data, rm, rv] + [np.asarray(g) for g in grads]


def _inputs(shape, layout, gy_layout, dtype=np.float32, offset=4.0):
    c = shape[1]
    x = _layout((RNG.standard_normal(shape) * 3 + offset).astype(dtype), layout)
    gy = _layout(RNG.standard_normal(shape).astype(dtype), gy_layout)
    gamma, beta = (RNG.random(c) + 0.5).astype(dtype), RNG.standard_normal(c).astype(dtype)
    mean, var = RNG.standard_normal(c).astype(dtype), (RNG.random(c) + 0.5).astype(dtype)
    return x, gamma, beta, gy, mean, var


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_compiled_against_the_numpy_kernels(spy, shape, layout, training):
    names = ["y", "running mean", "running var", "gx", "ggamma", "gbeta"]
    for gy_layout in LAYOUTS:
        args = _inputs(shape, layout, gy_layout)
        spy.clear()
        with compiled_kernels.using("numba"):
            got = _run(*args[:4], training, *args[4:])
        # (one value per image and channel: any layout is (C, N, 1) rows)
        viewable = lambda lay: lay in COMPILED_LAYOUTS or math.prod(shape[2:]) == 1
        assert spy.count("bn_forward") == viewable(layout), (gy_layout, spy)
        assert spy.count("bn_backward") == (viewable(layout) and viewable(gy_layout)), (gy_layout, spy)
        with compiled_kernels.using("numpy"):
            want = _run(*args[:4], training, *args[4:])
        for name, g, w in zip(names, got, want):
            assert g.dtype == w.dtype and g.shape == w.shape and g.strides == w.strides, name
            np.testing.assert_allclose(g, w, rtol=2e-5, atol=5e-5 * max(1.0, float(np.abs(w).max())),
                                       err_msg=f"{name}, gy {gy_layout}")
            if not training and name in ("y", "gx"):  # (the statistics given: the same formula, the same bits)
                assert g.tobytes() == w.tobytes(), f"{name}, gy {gy_layout}"


@pytest.mark.parametrize("shape", [(4, 3, 5, 6), (2, 5, 7), (8, 16, 14, 14)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_compiled_elementwise_formulas_give_the_numpy_bits(shape, training):
    """Given the statistics and sums the compiled loops computed, the NumPy kernels'
    formulas (the same float32 operations in the same order) give the same bits."""
    x, gamma, beta, gy, mean, var = _inputs(shape, "channel-major", "channel-major")
    c = shape[1]
    if training:
        mean, var = np.empty(c, np.float32), np.empty(c, np.float32)
    inv, sums, dots = np.empty(c, np.float32), np.empty(c, np.float32), np.empty(c, np.float32)
    rows = lambda a: np.moveaxis(a, 1, 0).reshape(c, a.shape[0], -1)
    x3, gy3 = rows(x), rows(gy)
    y3, gx3 = np.empty_like(x3), np.empty_like(x3)
    numba_loops.bn_forward(x3, y3, gamma, beta, mean, var, inv, 1e-5, training, 0, c)
    numba_loops.bn_backward(gy3, x3, gx3, gamma, mean, inv, sums, dots, training, True, 0, c)
    col = lambda v: v[:, None, None]
    assert inv.tobytes() == (np.float32(1) / np.sqrt(var + np.float32(1e-5))).tobytes()
    xc = x3 - col(mean)
    assert y3.tobytes() == (xc * col(gamma * inv) + col(beta)).tobytes()
    m = np.float32(x3.shape[1] * x3.shape[2] if training else 1)
    want = (((xc * col(-inv * inv * dots / m) + gy3) + col(-sums / m)) * col(gamma * inv) if training
            else gy3 * col(gamma * inv))
    assert gx3.tobytes() == want.tobytes()
    exact = (gy3.astype(np.float64) * (x3 - col(mean))).sum(axis=(1, 2))  # (x - mean in float32, as there)
    np.testing.assert_allclose(dots, exact, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(sums, gy3.astype(np.float64).sum(axis=(1, 2)), rtol=1e-5, atol=1e-4)


def test_batch_norm_compiled_statistics_are_closer_to_the_exact_ones():
    """Values 1e4 from zero with a spread of 1: float64 sums give the mean and variance
    to float32's rounding of them, at least as close as the NumPy kernels' sums."""
    x = (1e4 + RNG.standard_normal((16, 3, 40, 40))).astype(np.float32)
    exact_mean, exact_var = x.astype(np.float64).mean(axis=(0, 2, 3)), x.astype(np.float64).var(axis=(0, 2, 3))
    errors = {}
    for kind in ("numba", "numpy"):
        with compiled_kernels.using(kind):
            _, mean, var, _ = norm_kernels.bn_forward(x, np.ones(3, np.float32), np.zeros(3, np.float32), 1e-5, None)
        errors[kind] = np.abs(mean - exact_mean), np.abs(var - exact_var)
    ulp = np.spacing(np.float32(1e4))
    assert np.all(errors["numba"][0] <= ulp / 2) and np.all(errors["numba"][0] <= errors["numpy"][0] + ulp / 2)
    assert np.all(errors["numba"][1] <= 1e-3 * exact_var) and np.all(errors["numba"][1] <= errors["numpy"][1] + 1e-6)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("needs", [(True, True, True), (False, True, True), (True, False, False)])
def test_batch_norm_compiled_gives_the_same_bits_on_one_thread_and_two(monkeypatch, training, needs):
    x, gamma, beta, gy, mean, var = _inputs((6, 5, 9, 9), "channel-major", "channel-major")
    runs = []
    with compiled_kernels.using("numba"):
        for parallel_min in (1 << 60, 0):
            monkeypatch.setattr(conv_kernels, "PARALLEL_MIN", parallel_min)
            y, m, v, inv = norm_kernels.bn_forward(x, gamma, beta, 1e-5, None if training else (mean, var))
            grads = norm_kernels.bn_grads(gy, x, gamma, m, inv, needs, training)
            runs.append([y, m, v, inv] + [g for g in grads if g is not None])
    assert all(a.tobytes() == b.tobytes() for a, b in zip(*runs))
    assert [g is None for g in grads] == [not n for n in needs]


# case: (dtypes of x, gamma and beta, gy), the compiled loops expected (forward, backward)
DTYPE_CASES = {"float64": ((np.float64,) * 3, []), "float16": ((np.float16,) * 3, []),
               "mixed gamma": ((np.float32, np.float64, np.float32), []),
               "float16 x": ((np.float16, np.float32, np.float32), []),
               "float64 gy": ((np.float32, np.float32, np.float64), ["bn_forward", "bn_backward"]),  # (cast to y's)
               "float64 running stats": ((np.float32,) * 3, ["bn_forward", "bn_backward"])}  # (cast to x's)


@pytest.mark.parametrize("case", DTYPE_CASES)
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_outside_float32_keeps_the_numpy_kernels(spy, case, training):
    dtypes, expected = DTYPE_CASES[case]
    x, gamma, beta, gy, mean, var = _inputs((3, 4, 5, 5), "channel-major", "channel-major")
    x, gamma, beta, gy = x.astype(dtypes[0]), gamma.astype(dtypes[1]), beta.astype(dtypes[1]), gy.astype(dtypes[2])
    if case == "float64 running stats":
        mean, var = mean.astype(np.float64), var.astype(np.float64)
    with compiled_kernels.using("numba"):
        got = _run(x, gamma, beta, gy, training, mean, var)
    assert spy == expected
    with compiled_kernels.using("numpy"):
        want = _run(x, gamma, beta, gy, training, mean, var)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype
        if expected:
            np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-4)
        else:
            assert g.tobytes() == w.tobytes()


def test_batch_norm_compiled_writes_into_given_buffers():
    x, gamma, beta, gy, _, _ = _inputs((4, 3, 6, 6), "channel-major", "channel-major")
    y_out, gx_out = np.empty_like(x), np.empty_like(gy)
    with compiled_kernels.using("numba"):
        y, m, _, inv = norm_kernels.bn_forward(x, gamma, beta, 1e-5, None, out=y_out)
        gx = norm_kernels.bn_grads(gy, x, gamma, m, inv, (True, True, True), True, out=gx_out)[0]
        want_y, want_m, _, want_inv = norm_kernels.bn_forward(x, gamma, beta, 1e-5, None)
        want_gx = norm_kernels.bn_grads(gy, x, gamma, want_m, want_inv, (True, True, True), True)[0]
    assert y is y_out and gx is gx_out
    assert y.tobytes() == want_y.tobytes() and gx.tobytes() == want_gx.tobytes()


def test_a_compiled_step_trains_as_the_numpy_kernels_do():
    """A small BN convnet, a few SGD steps in float32 with each kernel set: the losses agree
    to float32 rounding (the statistics' sums differ in rounding only)."""
    import nets
    data = RNG.standard_normal((16, 1, 8, 8)).astype(np.float32), RNG.integers(0, 3, 16)
    losses = {}
    for kind in ("numba", "numpy"):
        model = nets.Sequential(nets.Conv2d(1, 4, 3, padding=1, rng=np.random.default_rng(0)), nets.BatchNorm2d(4),
                                nets.ReLU(), nets.MaxPool2d(2), nets.Flatten(),
                                nets.Linear(64, 3, rng=np.random.default_rng(1)))
        opt = nets.optim.SGD(model.parameters(), lr=0.1)
        with compiled_kernels.using(kind):
            for _ in range(5):
                loss = ag.softmax_cross_entropy(model(ag.Tensor(data[0])), data[1])
                opt.zero_grad()
                loss.backward()
                opt.step()
        losses[kind] = float(loss.data)
    assert losses["numba"] == pytest.approx(losses["numpy"], rel=1e-4)


# --- choosing the kernels ----------------------------------------------------------------------

def test_the_environment_variable_chooses_and_a_bad_value_is_named(monkeypatch):
    monkeypatch.setenv(compiled_kernels.ENV, "numpy")
    assert not compiled_kernels.enabled()
    for on in (" NUMBA ", ""):  # (empty: the default)
        monkeypatch.setenv(compiled_kernels.ENV, on)
        assert compiled_kernels.enabled()
    with compiled_kernels.using("numpy"):  # (using wins over the variable)
        assert not compiled_kernels.enabled()
    monkeypatch.setenv(compiled_kernels.ENV, "fortran")
    with pytest.raises(ValueError, match="AUTOGRAD_NP_KERNELS='fortran'.*numba, numpy"):
        compiled_kernels.enabled()
    with pytest.raises(ValueError, match=r"using\('cuda'\)"):
        compiled_kernels.using("cuda")


def test_using_restores_the_choice_on_the_way_out_even_after_an_error():
    before = compiled_kernels.enabled()
    with pytest.raises(RuntimeError):
        with compiled_kernels.using("numpy"):
            assert not compiled_kernels.enabled()
            with compiled_kernels.using("numba"):
                assert compiled_kernels.enabled()
            assert not compiled_kernels.enabled()
            raise RuntimeError
    assert compiled_kernels.enabled() == before


# --- process settings (ops/tuning.py) ---------------------------------------------------------

def test_tuning_leaves_settings_the_user_chose(monkeypatch):
    monkeypatch.setenv(tuning.BLAS_ENV, "28")
    assert tuning.shorten_blas_spin() == [] and os.environ[tuning.BLAS_ENV] == "28"
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "131072")
    assert tuning.keep_freed_memory() is False


def test_tuning_off_applies_nothing_and_a_bad_value_is_named(monkeypatch):
    monkeypatch.setattr(tuning, "_applied", {})
    monkeypatch.delenv(tuning.BLAS_ENV, raising=False)
    for off in ("off", " OFF "):
        monkeypatch.setenv(tuning.ENV, off)
        assert tuning.apply_once() == {} and tuning.BLAS_ENV not in os.environ
    for bad in ("0", "false", "no"):
        monkeypatch.setenv(tuning.ENV, bad)
        with pytest.raises(ValueError, match=f"AUTOGRAD_NP_TUNING='{bad}': expected on or off"):
            tuning.apply_once()
    assert tuning._applied == {}


def test_tuning_applies_once_and_reports_what_it_did(monkeypatch):
    monkeypatch.setattr(tuning, "_applied", {})
    monkeypatch.setenv(tuning.ENV, "on")
    monkeypatch.setenv(tuning.BLAS_ENV, "22")  # (set: both settings left as they are)
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "131072")
    first = tuning.apply_once()
    assert first == {"blas": [], "malloc": False} and tuning.apply_once() is first


def test_tuning_shortens_openblas_spin_and_matmuls_stay_right(monkeypatch):
    """NumPy's wheels bundle OpenBLAS: its spin is set, its threads restarted, and matmuls
    after that give the same numbers as before."""
    import ctypes
    a = RNG.standard_normal((300, 300))
    before = a @ a
    monkeypatch.delenv(tuning.BLAS_ENV, raising=False)
    changed = tuning.shorten_blas_spin()
    assert changed == tuning.openblas_libraries() and changed, "NumPy's OpenBLAS was not found"
    assert all(ctypes.CDLL(p).openblas_thread_timeout() == tuning.SPIN_LOG2 for p in changed)
    assert os.environ[tuning.BLAS_ENV] == str(tuning.SPIN_LOG2)
    assert np.array_equal(a @ a, before)


def test_the_first_parallel_loop_applies_the_tuning_once(monkeypatch):
    applied = []
    monkeypatch.setattr(tuning, "apply_once", lambda: applied.append(1))
    monkeypatch.setattr(conv_kernels, "_EXECUTOR", {})
    monkeypatch.setattr(conv_kernels, "_usable_cores", lambda: 2)
    for _ in range(3):
        conv_kernels.by_channels(lambda lo, hi: None, 4, conv_kernels.PARALLEL_MIN)
    conv_kernels.by_channels(lambda lo, hi: None, 4, 10)
    assert applied == [1]
