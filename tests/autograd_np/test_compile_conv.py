"""Compiled steps of convolutional nets: conv2d, max_pool2d and batch_norm replay with their
buffered forms (``ops/conv_buffered.py``, batch norm's in ``ops/effects.py``; used by
``compiler/inline.py``), which must be the op bitwise at every value and on every call (the
buffers are reused), never hand a buffer out, and make a training step equal eager's bitwise."""
import numpy as np
import pytest

import autograd_np as ag
from autograd_np.core.registry import OPS

RNG = np.random.default_rng(22)
EDGES = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-300, -1e-300, -2.5, 3.0, 700.0, -700.0, 1e300])


def _edge_image(shape, dtype, seed):
    """Every edge value, shuffled over the image, plus ordinary numbers."""
    rng = np.random.default_rng(seed)
    values = np.concatenate([EDGES, rng.standard_normal(max(0, int(np.prod(shape)) - EDGES.size))])
    with np.errstate(over="ignore"):  # 1e300 is inf in float32
        return rng.permutation(values)[:int(np.prod(shape))].reshape(shape).astype(dtype)


def _bits(a):
    return None if a is None else (np.asarray(a).shape, np.asarray(a).dtype.str, np.ascontiguousarray(a).tobytes())


def _check_kernel(name, inputs, params, cot_shape, needs, dtype):
    """The buffered form against the op's own save and VJP, on two calls with other values."""
    op = OPS[name]
    kernel = op.save.buffered(inputs, params)
    assert kernel is not None, name
    for call in range(2):
        gy = _edge_image(cot_shape, dtype, call)
        with np.errstate(all="ignore"):
            ins = [None if a is None else a * dtype(1.5 if call else 1.0) for a in inputs]
            y, saved = op.save(*ins, **params)
            want = op.vjp(None, gy, y, *ins, **params, saved=saved, **({"needs": needs} if op.wants_needs else {}))
            want = want if isinstance(want, tuple) else (want,)
            if hasattr(kernel, "forward"):
                got_y, got_saved = kernel.forward(*ins)
                assert _bits(got_y) == _bits(y), (name, call)
                saved = got_saved
            got = kernel.vjp(gy, y, *ins, saved, *([needs] if op.wants_needs else []))
        assert [_bits(g) for g in got] == [_bits(w) for w in want], (name, call)


CONV = [((2, 3, 6, 5), (4, 3, 3, 3), 1, 1), ((1, 2, 7, 7), (3, 2, 2, 3), (2, 1), (0, 1)), ((2, 1, 5, 5), (2, 1, 5, 5), 1, 0)]


@pytest.mark.parametrize("x_shape,w_shape,stride,pad", CONV)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_buffered_form_is_the_op_bitwise_at_the_edges(x_shape, w_shape, stride, pad, dtype, bias):
    x, W = _edge_image(x_shape, dtype, 1), _edge_image(w_shape, dtype, 2)
    b = _edge_image((w_shape[0],), dtype, 3) if bias else None
    y = OPS["conv2d"].forward(x, W, b, stride=stride, pad=pad)
    for needs in ([True, True, True], [False, True, bias], [True, False, False]):
        _check_kernel("conv2d", [x, W, b], {"stride": stride, "pad": pad}, y.shape, needs, dtype)


@pytest.mark.parametrize("shape,kernel", [((2, 3, 8, 8), 2), ((1, 2, 7, 9), 2), ((2, 1, 9, 6), (3, 2))])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_max_pool2d_buffered_form_is_the_op_bitwise_at_the_edges(shape, kernel, dtype):
    x = _edge_image(shape, dtype, 4)
    y = OPS["max_pool2d"].forward(x, kernel=kernel)
    _check_kernel("max_pool2d", [x], {"kernel": kernel}, y.shape, None, dtype)  # NaN maxima: the general path
    finite = np.nan_to_num(x, nan=0.5)
    _check_kernel("max_pool2d", [finite], {"kernel": kernel}, y.shape, None, dtype)


def test_only_tiled_float_pooling_is_buffered():
    make = OPS["max_pool2d"].save.buffered
    assert make([np.zeros((1, 1, 4, 4))], {"kernel": 2}) is not None
    assert make([np.zeros((1, 1, 4, 4))], {"kernel": 2, "stride": 1}) is None
    assert make([np.zeros((1, 1, 4, 4))], {"kernel": 2, "pad": 1}) is None
    assert make([np.zeros((1, 1, 4, 4), int)], {"kernel": 2}) is None


def test_batch_norm_over_rows_has_no_buffered_form():
    """(N, C) rows keep the arithmetic batch norm always had (an MLP's numbers do not move)."""
    make = OPS["batch_norm"].save.buffered
    args = {"running_mean": np.zeros(4), "running_var": np.ones(4)}
    assert make([np.ones((6, 4)), np.ones(4), np.zeros(4)], args) is None
    assert make([np.ones((6, 4, 2)), np.ones(4), np.zeros(4)], args) is not None


@pytest.mark.parametrize("shape", [(4, 3, 5, 5), (6, 4, 3)])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_batch_norm_buffered_vjp_is_the_op_bitwise(shape, training, dtype):
    x = RNG.standard_normal(shape).astype(dtype) * 3
    x.flat[::7] = np.resize(np.array([0.0, -0.0, 1e30, -1e30], dtype), x.flat[::7].size)  # signed zeros, large
    gamma, beta = RNG.random(shape[1]).astype(dtype) + 0.5, RNG.standard_normal(shape[1]).astype(dtype)
    params = {"running_mean": np.zeros(shape[1], dtype), "running_var": np.ones(shape[1], dtype),
              "training": training}
    for needs in ([True, True, True], [False, True, False]):
        _check_kernel("batch_norm", [x, gamma, beta], params, shape, needs, dtype)


def _cnn(dtype, dropout):
    from nets.models.convnet import ConvNet
    return ConvNet(input_dim=(1, 10, 10), channels=(3, 4), hidden_size=6, output_size=3, dropout=dropout, rng=5,
                   dtype=dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_compiled_cnn_training_step_equals_eager_bitwise(dtype):
    import nets
    eager, compiled = _cnn(dtype, 0.3), _cnn(dtype, 0.3)
    step = nets.compile_step(compiled)
    opt_e, opt_c = nets.optim.SGD(eager.parameters(), lr=0.1), nets.optim.SGD(compiled.parameters(), lr=0.1)
    for call in range(5):
        x, t = RNG.standard_normal((6, 1, 10, 10)).astype(dtype), RNG.integers(0, 3, 6)
        loss = eager.loss(x, t)
        loss.backward()
        loss_c, _ = step(x, t)
        assert _bits(loss_c.data) == _bits(loss.data), call
        for (name, p), q in zip(eager.named_parameters(), compiled.parameters()):
            assert _bits(p.grad) == _bits(q.grad), (call, name)
        opt_e.step(), opt_c.step(), opt_e.zero_grad(), opt_c.zero_grad()
        for (name, b), (_, c) in zip(eager.named_buffers(), compiled.named_buffers()):
            assert _bits(b) == _bits(c), (call, name)
    program = str(step.program(x, t))
    for line in ("conv2d_buffered(", "max_pool2d_buffered(", "d conv2d, buffered", "d max_pool2d, buffered",
                 "d batch_norm, buffered"):
        assert line in program, line


def test_conv_results_and_input_gradients_are_never_the_steps_buffers():
    W = ag.Tensor(RNG.standard_normal((3, 2, 3, 3)), requires_grad=True)
    step = ag.compile(lambda x: (ag.sum(ag.max_pool2d(ag.conv2d(x, W, pad=1), 2) ** 2), ag.conv2d(x, W, pad=1)))
    held = []
    for _ in range(5):
        x = ag.Tensor(RNG.standard_normal((2, 2, 6, 6)), requires_grad=True)
        loss, y = step(x)
        held.append((y, y.data.copy(), x.grad, x.grad.copy(), W.grad, W.grad.copy()))
        expected = ag.Tensor(x.data, requires_grad=True)
        W.grad = None
        ag.sum(ag.max_pool2d(ag.conv2d(expected, W, pad=1), 2) ** 2).backward()
        assert np.array_equal(x.grad, expected.grad)
        W.grad = None
    assert "conv2d_buffered(" in str(step.program(x))
    for y, y0, gx, gx0, gW, gW0 in held:
        assert np.array_equal(y.data, y0) and np.array_equal(gx, gx0) and np.array_equal(gW, gW0)
    arrays = [a for y, _, gx, _, gW, _ in held for a in (y.data, gx, gW)]
    assert not any(np.shares_memory(a, b) for i, a in enumerate(arrays) for b in arrays[i + 1:])
