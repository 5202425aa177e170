"""ag.compile: the replayed step computes what eager computes (bitwise: the same
kernels in the same order), re-traces or runs eagerly when it must, and never
hands out an array a later call overwrites."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd_np as ag
from autograd_np.compiler import inline
from autograd_np.core.registry import RAW_OPS
from autograd_np.testing import COMPOSITE_SPECS, OP_SPECS

ALL_SPECS = {**OP_SPECS, **COMPOSITE_SPECS}


def _grads(tensors):
    return [None if t.grad is None else t.grad.copy() for t in tensors]


def _same(a, b):
    return all((x is None and y is None) or (x is not None and y is not None and np.array_equal(x, y, equal_nan=True))
               for x, y in zip(a, b))


def _replace(args, wrt, diff):
    args = list(args)
    for i, d in zip(wrt, diff):
        args[i] = d
    return args


@pytest.mark.parametrize("name", sorted(ALL_SPECS))
@given(data=st.data())
@settings(max_examples=8, deadline=None)
def test_every_op_compiled_equals_eager(name, data):
    spec = ALL_SPECS[name]
    case = data.draw(spec.cases)
    probe = spec.fn(*case.args, **case.kwargs)
    cot = np.random.default_rng(0).standard_normal(np.shape(probe))  # captured: the same object every call

    def fn(*diff):
        return ag.sum(spec.fn(*_replace(case.args, case.wrt, diff), **case.kwargs) * cot)

    step = ag.compile(fn)
    for call in range(4):
        scale = 1.0 if call < 3 else 1.001  # the replay reads new values
        values = [np.asarray(case.args[i]) * scale for i in case.wrt]
        compiled_in = [ag.Tensor(v.copy(), requires_grad=True) for v in values]
        eager_in = [ag.Tensor(v.copy(), requires_grad=True) for v in values]
        with np.errstate(all="ignore"):
            try:
                expected = fn(*eager_in)
            except ValueError as exc:  # the new values left the op's domain: the replay must say so too
                with pytest.raises(type(exc)):
                    step(*compiled_in)
                continue
            expected.backward()
            loss = step(*compiled_in)
        assert np.array_equal(loss.data, expected.data, equal_nan=True), (name, call)
        assert _same(_grads(compiled_in), _grads(eager_in)), (name, call)
    op = ag.OPS.get(name)
    if name in OP_SPECS and spec.fn in (op, op.apply):  # every op compiles; a composite that builds index
        assert step.program(*compiled_in) is not None, step.eager_reasons  # arrays in Python runs eagerly
    elif step.program(*compiled_in) is None:
        assert any(w in str(step.eager_reasons) for w in ("differ", "read the values", "by NumPy in Python")), \
            step.eager_reasons


def _mlp(seed=0, sizes=(5, 4, 3)):
    rng = np.random.default_rng(seed)
    return [(ag.Tensor(rng.standard_normal((a, b)), requires_grad=True, name=f"W{i}"),
             ag.Tensor(np.zeros(b), requires_grad=True, name=f"b{i}")) for i, (a, b) in enumerate(zip(sizes, sizes[1:]))]


def _mlp_loss(layers):
    def loss(x, t):
        h = x
        for i, (W, b) in enumerate(layers):
            h = ag.affine(h, W, b)
            if i < len(layers) - 1:
                h = ag.tanh(h)
        return ag.softmax_cross_entropy(h, t)
    return loss


def _params(layers):
    return [p for layer in layers for p in layer]


def test_shared_inputs_unused_inputs_labels_and_repeated_indices():
    idx = np.array([0, 0, 2, 1, 2])

    def fn(a, b, unused, t):
        h = a * a + ag.tanh(b)[idx]
        return ag.softmax_cross_entropy(ag.reshape(h, (1, 5)), t)

    step = ag.compile(fn)
    rng = np.random.default_rng(1)
    for call in range(4):
        a, b, u = (rng.standard_normal(5), rng.standard_normal(3), rng.standard_normal(2))
        t = np.array([call % 5])
        ins_c = [ag.Tensor(v, requires_grad=True) for v in (a, b, u)]
        ins_e = [ag.Tensor(v.copy(), requires_grad=True) for v in (a, b, u)]
        loss, expected = step(*ins_c, t), fn(*ins_e, t)
        expected.backward()
        assert float(loss) == float(expected)
        assert ins_c[2].grad is None and ins_e[2].grad is None  # unused: no gradient
        assert _same(_grads(ins_c), _grads(ins_e))
    assert step.program(*ins_c, t) is not None


def test_training_with_a_compiled_step_equals_eager_bitwise():
    rng = np.random.default_rng(2)
    batches = [(rng.standard_normal((8, 5)), rng.integers(0, 3, 8)) for _ in range(30)]
    results = []
    for compiled in (False, True):
        layers = _mlp()
        loss_fn = _mlp_loss(layers)
        step = ag.compile(loss_fn) if compiled else (lambda x, t: loss_fn(x, t).backward())
        for x, t in batches:
            step(x, t)
            with ag.no_grad():
                for p in _params(layers):
                    p.data -= 0.1 * p.grad
                    p.grad = None
        results.append([p.data.copy() for p in _params(layers)])
    assert all(np.array_equal(a, b) for a, b in zip(*results))


def test_a_new_batch_size_and_a_new_dtype_trace_again():
    layers = _mlp()
    step = ag.compile(_mlp_loss(layers))
    rng = np.random.default_rng(3)
    for n, dtype in [(8, np.float64)] * 3 + [(3, np.float64)] * 3 + [(8, np.float32)] * 3:
        x, t = rng.standard_normal((n, 5)).astype(dtype), rng.integers(0, 3, n)
        for p in _params(layers):
            p.grad = None
        loss = step(x, t)
        got = _grads(_params(layers))
        for p in _params(layers):
            p.grad = None
        expected = _mlp_loss(layers)(x, t)
        expected.backward()
        assert float(loss) == float(expected) and _same(got, _grads(_params(layers)))
    assert step.program(np.ones((3, 5)), np.zeros(3, dtype=int)) is not None
    assert len(step._cache) == 3


def test_a_changed_branch_is_never_replayed():
    layers = _mlp()
    loss_fn = _mlp_loss(layers)

    def by_flag(x, t, big):  # a Python argument: part of the signature
        return loss_fn(x * 10.0, t) if big else loss_fn(x, t)

    def by_data(x, t):  # a branch on the data: fn reads values, so it runs eagerly
        return loss_fn(x, t) if float(ag.sum(ag.Tensor(x))) > 0 else loss_fn(-x, t)

    rng = np.random.default_rng(4)
    for fn, extra in ((by_flag, lambda i: (i % 2 == 0,)), (by_data, lambda i: ())):
        step = ag.compile(fn)
        for i in range(8):
            x, t = rng.standard_normal((4, 5)) * (1 if i % 3 else -1), rng.integers(0, 3, 4)
            assert float(step(x, t, *extra(i))) == float(fn(x, t, *extra(i)))
    assert step.program(x, t) is None and "read the values" in next(iter(step.eager_reasons.values()))


def test_results_are_never_buffers_a_later_call_overwrites():
    layers = _mlp()
    logits_of = {}

    def fn(x, t):
        h = ag.affine(x, *layers[0])
        return ag.softmax_cross_entropy(ag.affine(ag.tanh(h), *layers[1]), t), h

    step = ag.compile(fn)
    rng = np.random.default_rng(5)
    held = []
    for i in range(6):
        x, t = rng.standard_normal((4, 5)), rng.integers(0, 3, 4)
        loss, h = step(x, t)
        grads = [p.grad for p in _params(layers)]
        held.append((loss, h, loss.data.copy(), h.data.copy(), grads, [g.copy() for g in grads]))
        logits_of[i] = h
        for p in _params(layers):
            p.grad = None
    for loss, h, loss0, h0, grads, grads0 in held:
        assert np.array_equal(loss.data, loss0) and np.array_equal(h.data, h0)
        assert all(np.array_equal(g, g0) for g, g0 in zip(grads, grads0))
        assert not h.requires_grad and h.node is None
    grads = [g for *_, gs in held for g in gs]
    for i, g in enumerate(grads):
        for other in grads[i + 1:]:
            assert not np.shares_memory(g, other)


def _peak_bytes(call):
    import tracemalloc
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        call()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def test_a_replay_frees_each_intermediate_after_its_last_use():
    """A chain of ops the compiler does not buffer: the replay must release each value once
    nothing reads it (as eager backward releases each node's arrays), not hold all of them until
    it returns: at most eager's peak (it held 1.5x eager's before), with the same gradients."""
    rng = np.random.default_rng(0)
    W = ag.Tensor(rng.standard_normal((128, 128)), requires_grad=True)
    x = rng.standard_normal((128, 128))

    def fn(v):
        h = v
        for _ in range(6):
            h = ag.log1p(ag.square(ag.tanh(ag.matmul(h, W)) * 0.5))
        return ag.sum(h)

    step = ag.compile(fn)
    for _ in range(3):
        step(x)
        W.grad = None
    program = str(step.program(x))
    assert "\n    del " in program
    eager_peak = _peak_bytes(lambda: fn(x).backward())
    eager_grad, W.grad = W.grad, None
    compiled_peak = _peak_bytes(lambda: step(x))
    assert np.array_equal(W.grad, eager_grad)
    assert compiled_peak <= eager_peak, (compiled_peak, eager_peak)


def test_an_input_gradient_computed_in_a_buffer_is_handed_out_as_a_copy():
    (W, b), = _mlp(sizes=(5, 4))
    step = ag.compile(lambda x: ag.sum(ag.relu(ag.tanh(ag.affine(x, W, b)))))
    rng = np.random.default_rng(7)
    held = []
    for _ in range(4):
        x = ag.Tensor(rng.standard_normal((3, 5)), requires_grad=True)
        step(x)
        held.append((x.grad, x.grad.copy()))
        expected = ag.Tensor(x.data, requires_grad=True)
        ag.sum(ag.relu(ag.tanh(ag.affine(expected, W, b)))).backward()
        assert np.array_equal(x.grad, expected.grad)
    assert "out=B" in str(step.program(x))  # the gradient of x was computed in a buffer
    assert all(np.array_equal(g, g0) for g, g0 in held)
    assert not any(np.shares_memory(g, h) for i, (g, _) in enumerate(held) for h, _ in held[i + 1:])


def test_values_computed_in_python_inside_fn_make_it_run_eagerly():
    layers = _mlp()
    loss_fn = _mlp_loss(layers)
    rng = np.random.default_rng(6)

    def fn(x, t):
        mask = rng.random(x.shape) > 0.5  # drawn in Python: a new array every call
        return loss_fn(x * mask, t)

    step = ag.compile(fn)
    for _ in range(4):
        step(rng.standard_normal((4, 5)), rng.integers(0, 3, 4))
    assert step.program(np.ones((4, 5)), np.zeros(4, dtype=int)) is None
    assert "drew from a random generator in Python" in next(iter(step.eager_reasons.values()))


def test_a_parameter_that_changes_shape_traces_again():
    W = ag.Tensor(np.ones((3, 2)), requires_grad=True)
    step = ag.compile(lambda x: ag.sum(ag.tanh(x @ W)))
    for _ in range(3):
        step(np.ones((4, 3)))
    W.data = np.ones((3, 5))
    W.grad = None
    step(np.ones((4, 3)))
    assert W.grad.shape == (3, 5)


def test_check_mode_raises_when_python_state_the_trace_froze_changed():
    W = ag.Tensor(np.ones(3), requires_grad=True)
    state = [1.0] + [0.0] * 100  # longer than the guards look into (reach.CAP items)
    step = ag.compile(lambda x: ag.sum(W * x * state[0]), check=True)
    for _ in range(3):
        step(np.ones(3))
    state[0] = 2.0  # not an argument, not a guard, not seen: frozen in the trace
    with pytest.raises(ag.CompileError, match="differs"):
        step(np.ones(3))


def test_guard_values_are_part_of_the_signature():
    W = ag.Tensor(np.ones(3), requires_grad=True)
    state = {"scale": 1.0}
    step = ag.compile(lambda x: ag.sum(W * x * state["scale"]), guard=lambda: state["scale"])
    for scale in (1.0, 1.0, 1.0, 2.0, 2.0, 2.0):
        state["scale"] = scale
        assert float(step(np.ones(3))) == 3.0 * scale


def test_no_grad_anomaly_mode_and_unhashable_arguments_run_eagerly():
    W = ag.Tensor(np.ones(3), requires_grad=True)
    step = ag.compile(lambda x, opts=None: ag.sum(W * x))
    with ag.detect_anomaly():
        for _ in range(3):
            W.grad = None
            step(np.ones(3))
    np.testing.assert_array_equal(W.grad, np.ones(3))
    assert step.program(np.ones(3)) is None
    for _ in range(3):
        step(np.ones(3), {"unhashable": 1})
    with ag.no_grad(), pytest.raises(RuntimeError, match="does not require grad"):
        step(np.ones(3))


def test_the_program_prints_one_line_per_kernel_with_shapes():
    layers = _mlp()
    step = ag.compile(_mlp_loss(layers))
    x, t = np.ones((4, 5)), np.zeros(4, dtype=int)
    for _ in range(2):
        step(x, t)
    text = str(step.program(x, t))
    assert "# affine -> (4, 4) float64" in text and "softmax_cross_entropy_save(" in text
    vjps = [line for line in text.splitlines() if "  # d " in line]
    assert len(vjps) == 4 and any("# d tanh" in line for line in vjps)
    # the hot kernels write into the step's buffers; the rest call the op's own VJP
    assert "out=B" in text and text.count("_vjp(") == 1


def test_the_program_draws_one_box_per_kernel_with_its_data_flow():
    layers = _mlp()
    step = ag.compile(_mlp_loss(layers))
    x, t = np.ones((4, 5)), np.zeros(4, dtype=int)
    for _ in range(2):
        step(x, t)
    dot = ag.viz.draw_program(step.program(x, t)).source
    kernels = [line for line in dot.splitlines() if "fillcolor" in line]
    assert len(kernels) >= 9 and sum("#dbe8ff" in line for line in kernels) == 4  # 5 forward, 4 VJPs
    assert "d affine" in dot and "softmax_cross_entropy_vjp" in dot and "->" in dot
    assert "buffers: copied" not in dot
    import re
    backward = [re.match(r"\s*(k\d+)", line).group(1) for line in kernels if "#dbe8ff" in line]
    fed = set(re.findall(r"k\d+ -> (k\d+)", dot))
    assert all(k in fed for k in backward)  # each VJP gets its gradient (through g = t aliases too)


EDGES = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-300, -1e-300, -2.5, 3.0, 700.0, -700.0, 1e300])


@pytest.mark.parametrize("name", sorted(set(inline._FORWARD) - {"affine"}))
def test_every_buffered_forward_form_is_its_op_bitwise_at_the_edges(name):
    """A buffered form is checked on the traced call's values only: it must be the op's own
    arithmetic, so equal at every value, NaN, infinities and signed zeros included."""
    op = ag.OPS[name]
    ins = [EDGES, EDGES[::-1].copy()][:op.forward.__code__.co_argcount]
    for dtype in (np.float64, np.float32):
        args = [a.astype(dtype) for a in ins]
        with np.errstate(all="ignore"):
            expected = op.forward(*args)
            space = {"np": np, "OUT": np.empty_like(expected), **{f"S{i}": v for i, v in enumerate(args)}}
            got = eval(inline._fill(inline._FORWARD[name], [f"S{i}" for i in range(len(args))], out="OUT"), space)
        assert got.tobytes() == np.asarray(expected).tobytes(), (name, dtype, got, expected)


@pytest.mark.parametrize("name", sorted(set(inline._VJP) - {"affine"}))
def test_every_buffered_vjp_form_is_its_op_bitwise_at_the_edges(name):
    op = ag.OPS[name]
    for dtype in (np.float64, np.float32):
        x = EDGES.astype(dtype)
        g = np.linspace(-1, 1, x.size).astype(dtype)
        with np.errstate(all="ignore"):
            y = op.forward(x)
            expected = op.vjp(RAW_OPS, g, y, x,
                              **({"needs": [True]} if op.wants_needs else {}))
            expected = expected[0] if isinstance(expected, (tuple, list)) else expected
            space = {"np": np, "G": g, "Y": y, "S0": x, "OUT0": np.empty_like(expected),
                     "MASK0": np.empty(x.shape, bool)}
            got = eval(inline._fill(inline._VJP[name][0], ["S0"], g="G", y="Y", out="OUT0", mask="MASK0"), space)
        assert got.tobytes() == np.asarray(expected).tobytes(), (name, dtype, got, expected)
