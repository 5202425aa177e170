"""ag.compile never returns what eager would not: one test per way a replay could
go wrong (numbers, aliasing, Python reading or writing values, hooks, Python
state, the cache, re-entry, backward inside fn), each compared with eager."""
import threading
import tracemalloc
import warnings

import numpy as np
import pytest

import autograd_np as ag
import nets


def T(values, requires_grad=True):
    return ag.Tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def _both(fn, compiled, *args, leaves=()):
    """(compiled result, eager result, [compiled grads], [eager grads]) for one call."""
    for t in leaves:
        t.grad = None
    got = compiled(*args)
    got_grads = [None if t.grad is None else t.grad.copy() for t in leaves]
    for t in leaves:
        t.grad = None
    with ag.enable_grad():
        expected = fn(*args)
    loss = expected[0] if isinstance(expected, tuple) else expected
    loss.backward()
    return got, expected, got_grads, [None if t.grad is None else t.grad.copy() for t in leaves]


def _assert_same(got, expected, got_grads, expected_grads):
    got, expected = (got if isinstance(got, tuple) else (got,)), (expected if isinstance(expected, tuple) else (expected,))
    for g, e in zip(got, expected):
        if isinstance(e, ag.Tensor):
            assert np.array_equal(g.data, e.data, equal_nan=True), (g, e)
        else:
            assert type(g) is type(e) and np.array_equal(g, e, equal_nan=True), (g, e)
    for g, e in zip(got_grads, expected_grads):
        assert (g is None) == (e is None) and (g is None or np.array_equal(g, e, equal_nan=True)), (g, e)


def _same_as_eager(fn, calls, leaves=(), **options):
    """Call ag.compile(fn) with each argument tuple in ``calls``, comparing with eager every time."""
    compiled = ag.compile(fn, **options)
    with np.errstate(all="ignore"):
        for args in calls:
            _assert_same(*_both(fn, compiled, *args, leaves=leaves))
    return compiled


# --- numbers ---------------------------------------------------------------------------

@pytest.mark.parametrize("body", [lambda x, s: ag.sum(x * s), lambda x, s: ag.sum(x ** s), lambda x, s: ag.sum(x / s),
                                  lambda x, s: ag.sum(ag.maximum(x, s)), lambda x, s: ag.sum(s - x * x)])
def test_a_number_argument_that_reaches_an_op(body):
    x = T([1.0, 2.0, 3.0])
    values = [2.0, 2.0, 2.0, 3, 3, 3, np.float64(4.0), np.float32(4.0), 5.5, -0.0, 0.0, -0.0, float("inf"), 2.0]
    _same_as_eager(body, [(x, s) for s in values] + [(x, s) for s in values], leaves=[x])


def test_zero_and_minus_zero_one_and_true_are_different_signatures():
    x = T([1.0, -2.0])
    sign = lambda x, s: ag.sum(ag.Tensor(np.ones(2)) * x / s)  # noqa: E731  (1/-0.0 = -inf)
    compiled = _same_as_eager(sign, [(x, 0.0)] * 3 + [(x, -0.0)] * 3 + [(x, np.float64(-0.0))] * 3, leaves=[x])
    assert len(compiled._cache) == 3
    kind = lambda x, s: ag.sum(x) if isinstance(s, bool) else ag.sum(x * s)  # noqa: E731
    _same_as_eager(kind, [(x, 1)] * 3 + [(x, True)] * 3 + [(x, 1.0)] * 3, leaves=[x])


def test_a_fresh_nan_each_call_shares_one_signature():
    x = T([1.0, 2.0])
    compiled = _same_as_eager(lambda x, s: ag.sum(x * s), [(x, float("nan"))] * 6, leaves=[x])
    assert len(compiled._cache) == 1 and compiled.program(x, float("nan")) is not None


# --- aliasing --------------------------------------------------------------------------

def test_the_same_tensor_twice_then_two_different_ones():
    x, y = T([1.0, 2.0]), T([3.0, 4.0])
    _same_as_eager(lambda a, b: ag.sum(a * b), [(x, x)] * 3 + [(x, y)] * 3 + [(y, y), (x, x)], leaves=[x, y])


def test_the_same_array_twice_then_two_different_ones():
    W = T([1.0, 1.0])
    A, B = np.array([1.0, 2.0]), np.array([5.0, 7.0])
    _same_as_eager(lambda a, b: ag.sum(W * a * b), [(A, A)] * 3 + [(A, B)] * 3, leaves=[W])


def test_an_argument_that_is_also_a_tensor_fn_holds():
    W, V = T([1.0, 2.0]), T([5.0, -1.0])
    _same_as_eager(lambda a: ag.sum(a * W), [(W,)] * 3 + [(V,)] * 3 + [(W,)] * 3, leaves=[W, V])
    K = np.array([2.0, 3.0])
    _same_as_eager(lambda a: ag.sum(W * a * K), [(K,)] * 3 + [(np.array([1.0, 1.0]),)] * 3, leaves=[W])


# --- Python reading or writing values -------------------------------------------------------

W_GLOBAL = T([1.0, 1.0])


@pytest.mark.parametrize("fn", [
    lambda x: ag.sum(W_GLOBAL * 2) if x.sum() > 0 else ag.sum(W_GLOBAL * -5),
    lambda x: ag.sum(W_GLOBAL * float(x[0])),
    lambda x: ag.sum(W_GLOBAL * x.tolist()[1]),
    lambda x: ag.sum(W_GLOBAL * int(x.argmax())),
    lambda x: ag.sum(W_GLOBAL * max(x)),
    lambda x: ag.sum(W_GLOBAL * (1.0 if np.allclose(x, 1.0) else 2.0)),
    lambda x: ag.sum(W_GLOBAL * len(np.unique(x))),
    lambda x: ag.sum(W_GLOBAL[:x[x > 0].shape[0]]),
    lambda x: ag.sum(W_GLOBAL * x.item(0)),
    lambda x: ag.sum(W_GLOBAL * (3.0 in x)),
    lambda x: ag.sum(W_GLOBAL * np.count_nonzero(x)),
    lambda x: ag.sum(W_GLOBAL * sorted(x)[0]),
    lambda x: ag.sum(W_GLOBAL * float(f"{x.mean():.3f}")),
])
def test_python_reading_an_array_argument_is_seen(fn):
    calls = [(np.ones(2),)] * 3 + [(np.array([-1.0, 3.0]),), (np.array([0.0, 0.0]),), (np.ones(2),)]
    compiled = _same_as_eager(fn, calls, leaves=[W_GLOBAL])
    assert compiled.program(np.ones(2)) is None
    reason = next(iter(compiled.eager_reasons.values()))
    assert "read the values of" in reason or "computed from argument 0" in reason, reason


def test_a_check_inside_fn_runs_on_every_call():
    def fn(x):
        if np.isnan(x).any():
            raise ValueError("NaN in the batch")
        return ag.sum(W_GLOBAL * x)

    compiled = ag.compile(fn)
    for _ in range(3):
        compiled(np.ones(2))
    with pytest.raises(ValueError, match="NaN in the batch"):
        compiled(np.array([np.nan, 1.0]))


def test_an_extra_result_computed_in_python_is_not_frozen():
    fn = lambda t: (ag.sum(W_GLOBAL * t), int((t == 3).sum()))  # noqa: E731
    compiled = ag.compile(fn)
    for _ in range(3):
        compiled(np.ones(2))
    assert compiled(np.array([3.0, 3.0]))[1] == 2


def test_reading_a_tensor_argument_is_seen():
    x = T([1.0, 2.0], requires_grad=False)
    calls = [(x,)] * 3 + [(T([-5.0, 2.0], requires_grad=False),)] * 2
    for fn in (lambda t: ag.sum(W_GLOBAL * (2.0 if t.numpy().sum() > 0 else -1.0)),
               lambda t: ag.sum(W_GLOBAL * t.argmax()),
               lambda t: ag.sum(W_GLOBAL * float(t[0]))):
        _same_as_eager(fn, calls, leaves=[W_GLOBAL])


@pytest.mark.parametrize("write", [
    lambda x: x.__setitem__(0, 7.0),
    lambda x: x.__iadd__(1.0),
    lambda x: np.copyto(x, 5.0),
    lambda x: np.asarray(x).__setitem__(1, -2.0),
    lambda x: x.sort(),
])
def test_fn_writing_into_its_array_argument_runs_eagerly(write):
    def fn(x):
        write(x)
        return ag.sum(W_GLOBAL * x)

    compiled = ag.compile(fn)
    for _ in range(4):
        a, b = np.array([3.0, 1.0]), np.array([3.0, 1.0])
        W_GLOBAL.grad = None
        got, grad = float(compiled(a)), W_GLOBAL.grad.copy()
        W_GLOBAL.grad = None
        expected = fn(b)
        expected.backward()
        assert got == float(expected) and np.array_equal(a, b) and np.array_equal(grad, W_GLOBAL.grad)
    assert "wrote into argument 0" in next(iter(compiled.eager_reasons.values()))


def test_fn_assigning_a_tensor_arguments_data_runs_eagerly():
    def fn(x):
        x.data = x.data * 2
        return ag.sum(x * x)

    x, y = T([1.0, 2.0]), T([1.0, 2.0])
    compiled = ag.compile(fn)
    for _ in range(4):
        compiled(x)
        fn(y).backward()
        assert np.array_equal(x.data, y.data) and np.array_equal(x.grad, y.grad)


# --- hooks -------------------------------------------------------------------------------

def test_a_hook_registered_after_tracing_is_called_and_its_removal_compiles_again():
    W = T([1.0, 2.0])
    compiled = ag.compile(lambda x: ag.sum(W * x))
    for _ in range(3):
        compiled(np.ones(2))
    handle = W.register_hook(lambda g: g * 0)
    W.grad = None
    compiled(np.ones(2))
    assert np.array_equal(W.grad, [0.0, 0.0])
    handle.remove()
    for _ in range(3):
        W.grad = None
        compiled(np.ones(2))
        assert np.array_equal(W.grad, [1.0, 1.0])
    assert compiled.program(np.ones(2)) is not None


def test_a_hook_on_an_argument_is_called():
    W = T([1.0, 2.0])
    compiled = ag.compile(lambda x: ag.sum(W * x))
    x = T([1.0, 1.0])
    for _ in range(3):
        compiled(x)
    seen = []
    x.register_hook(lambda g: seen.append(g.copy()))
    x.grad = None
    compiled(x)
    assert len(seen) == 1 and np.array_equal(seen[0], W.data)


# --- Python state ------------------------------------------------------------------------

def _model(seed=0, dropout=0.5):
    return nets.Sequential(nets.Affine(4, 6, rng=seed), nets.ReLU(), nets.Dropout(dropout, rng=seed),
                           nets.BatchNorm(6), nets.Affine(6, 3, rng=seed + 1))


def _data(n=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 4)).astype(np.float32), rng.integers(0, 3, n)


def _state_of(model):
    return [p.data.copy() for p in model.parameters()] + [np.array(b) for _, b in model.named_buffers()] + \
        [m.rng.bit_generator.state["state"]["state"] for m in model.modules() if hasattr(m, "rng")]


def _run_both(change, steps_before=3, steps_after=3, make_step=None):
    """Train a compiled and an eager copy of one model; apply ``change`` to both after
    ``steps_before`` steps; compare losses, gradients and state after every step."""
    make_step = make_step or (lambda model: nets.compile_step(model))
    compiled_model, eager_model = _model(), _model()
    step = make_step(compiled_model)
    x, t = _data()
    for i in range(steps_before + steps_after):
        if i == steps_before:
            change(compiled_model)
            change(eager_model)
        compiled_model.zero_grad()
        eager_model.zero_grad()
        got = step(x, t)
        got_loss = got[0] if isinstance(got, tuple) else got
        expected = eager_model.loss(x, t)
        expected.backward()
        assert np.array_equal(got_loss.data, expected.data), (i, got_loss, expected)
        for p, q in zip(compiled_model.parameters(), eager_model.parameters()):
            assert (p.grad is None) == (q.grad is None) and (p.grad is None or np.array_equal(p.grad, q.grad)), i
        for a, b in zip(_state_of(compiled_model), _state_of(eager_model)):
            assert np.array_equal(a, b), i
    return step


def _replace_parameter(model):
    model.layers[0].W = ag.Tensor(np.full((4, 6), 0.1, np.float32), requires_grad=True)


def _set_mask(model):
    model.layers[2].mask = np.arange(48).reshape(8, 6) % 3 > 0


def _replace_layer(model):
    model.layers[4] = nets.Affine(6, 3, rng=7)


def _set_attribute_layer(model):
    model.layers[1] = nets.Tanh() if hasattr(nets, "Tanh") else nets.Sigmoid()


CHANGES = {
    "eval": lambda m: m.eval(),
    "dropout p": lambda m: setattr(m.layers[2], "p", 0.2),
    "dropout mask": _set_mask,
    "dropout generator": lambda m: setattr(m.layers[2], "rng", np.random.default_rng(5)),
    "parameter replaced": _replace_parameter,
    "layer replaced in a list": _replace_layer,
    "activation replaced": _set_attribute_layer,
    "momentum": lambda m: setattr(m.layers[3], "momentum", 0.5),
    "running statistics replaced": lambda m: m.layers[3].load_state_dict(
        {"running_mean": np.ones(6), "running_var": np.full(6, 2.0)}, strict=False),
    "requires_grad off": lambda m: m.layers[0].b.requires_grad_(False),
}


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_compile_step_sees_every_change_of_the_model(name):
    _run_both(CHANGES[name])


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_plain_compile_sees_the_model_it_reads(name):
    _run_both(CHANGES[name], make_step=lambda model: ag.compile(lambda x, t: model.loss(x, t)))


def test_guard_modules_for_a_model_fn_does_not_name():
    holder = {}

    def loss_of(x, t):  # reads the model through a dict: not found in fn's code
        return holder["model"].loss(x, t)

    def make(model):
        holder.setdefault("models", []).append(model)
        holder["model"] = model
        return ag.compile(lambda x, t: loss_of(x, t), guard_modules=[model])

    compiled_model, eager_model = _model(), _model()
    step = make(compiled_model)
    x, t = _data()
    for i in range(6):
        if i == 3:
            compiled_model.eval()
            eager_model.eval()
        holder["model"] = compiled_model
        got = step(x, t)
        holder["model"] = eager_model
        assert np.array_equal(got.data, eager_model.loss(x, t).data), i


def test_a_rebound_global_or_free_variable_is_seen():
    global W_REBOUND
    W_REBOUND = T([1.0, 2.0])
    compiled = ag.compile(lambda x: ag.sum(W_REBOUND * x))
    for _ in range(3):
        compiled(np.ones(2))
    old, W_REBOUND = W_REBOUND, T([5.0, 5.0])
    old.grad = None
    assert float(compiled(np.ones(2))) == 10.0 and old.grad is None and W_REBOUND.grad is not None

    scale = 1.0

    def fn(x):
        return ag.sum(old * x * scale)
    compiled = ag.compile(fn)
    for scale in (1.0, 1.0, 1.0, 2.0, 2.0, 2.0, -0.0):
        assert float(compiled(np.ones(2))) == float(fn(np.ones(2)))


# --- the cache ---------------------------------------------------------------------------

def test_two_hundred_batch_sizes_keep_a_bounded_cache_and_warn_once():
    W = T(np.ones((3, 2)))
    fn = lambda x: ag.sum(ag.tanh(x @ W))  # noqa: E731
    compiled = ag.compile(fn)
    tracemalloc.start()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            sizes = list(range(1, 201))
            for n in sizes[:20]:
                for _ in range(3):
                    compiled(np.ones((n, 3)))
            middle = tracemalloc.get_traced_memory()[0]
            for n in sizes[20:]:
                for _ in range(3):
                    compiled(np.ones((n, 3)))
            end = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert len(compiled._cache) <= 8
    assert end - middle < 200_000, (middle, end)  # flat once the limit is reached
    limit = [w for w in caught if issubclass(w.category, ag.CompileWarning)]
    assert len(limit) == 1 and "argument 0's shape" in str(limit[0].message)
    _assert_same(*_both(fn, compiled, np.full((150, 3), 0.5), leaves=[W]))


def test_a_float_that_changes_every_call_holds_no_copy_of_a_large_constant():
    W = T(np.ones(500_000))
    constant = np.random.default_rng(0).standard_normal(500_000)  # 4 MB
    compiled = ag.compile(lambda x, s: ag.sum(W * constant * s + x))
    compiled(np.ones(1), 0.5)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(100):
            compiled(np.ones(1), 0.5 + i)
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(compiled._cache) <= 8
    assert grown < 8 * 4_000_000 + 4_000_000, grown  # at most the cache's buffers, no copy per call


# --- re-entry, guards, backward inside fn ------------------------------------------------------

def _with_timeout(target, seconds=20):
    box = {}
    thread = threading.Thread(target=lambda: box.setdefault("result", target()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "the call did not return (deadlock)"
    return box["result"]


def test_a_recursive_call_runs_eagerly_instead_of_deadlocking():
    W = T([1.0, 2.0])

    def fn(x, depth):
        extra = compiled(x, depth - 1) if depth else None
        return ag.sum(W * x) + (0.0 if extra is None else float(extra))

    compiled = ag.compile(fn)

    def run():
        out = []
        for _ in range(4):
            W.grad = None
            out.append((float(compiled(np.ones(2), 2)), W.grad.copy()))
        return out

    for loss, grad in _with_timeout(run):
        assert loss == 9.0 and np.array_equal(grad, [3.0, 3.0])


def test_an_unhashable_guard_value_is_a_clear_error():
    W = T([1.0])
    with pytest.raises(TypeError, match=r"guard\(\).*list.*not hashable"):
        ag.compile(lambda x: ag.sum(W * x), guard=lambda: [1])(np.ones(1))
    with pytest.raises(TypeError, match="guard must be a function"):
        ag.compile(lambda x: ag.sum(W * x), guard=[1])


@pytest.mark.parametrize("retain", [False, True])
def test_a_backward_inside_fn_runs_eagerly_once(retain):
    W = T([1.0, 2.0])

    def fn(x):
        loss = ag.sum(W * x)
        loss.backward(retain_graph=retain)
        return loss

    compiled = ag.compile(fn)
    for _ in range(4):
        W.grad = None
        compiled(np.array([3.0, 4.0]))
        assert np.array_equal(W.grad, [3.0, 4.0])
    assert "backward" in next(iter(compiled.eager_reasons.values()))


def test_a_compiled_step_called_inside_another_is_not_skipped():
    W, V = T([1.0, 2.0]), T([3.0])
    inner = ag.compile(lambda x: ag.sum(V * x))
    for _ in range(3):  # compiled already: its replays call no backward a tracer could see
        inner(np.ones(2))

    def outer(x):
        inner(x)
        return ag.sum(W * x)

    compiled = ag.compile(outer)
    for _ in range(4):
        W.grad = V.grad = None
        compiled(np.ones(2))
        assert np.array_equal(W.grad, [1.0, 1.0]) and np.array_equal(V.grad, [2.0])


# --- strict mode -------------------------------------------------------------------------

def test_strict_mode_raises_at_the_line_that_reads_values():
    W = T([1.0, 2.0])

    def fn(x):
        if x.sum() > 0:  # the line the error names
            return ag.sum(W * x)
        return ag.sum(W)

    compiled = ag.compile(fn, strict=True)
    with pytest.raises(ag.CompileError, match=r"argument 0.*\.sum\(\).*test_compile_guards.py:\d+"):
        compiled(np.ones(2))


@pytest.mark.parametrize("case", ["unhashable", "no_grad", "limit", "backward", "anomaly", "hook"])
def test_strict_mode_makes_every_fallback_an_error(case):
    W = T([1.0, 2.0])

    def fn(x, opts=None):
        loss = ag.sum(W * x)
        if case == "backward":
            loss.backward()
        return loss

    compiled = ag.compile(fn, strict=True, recompile_limit=2)
    with pytest.raises(ag.CompileError, match="strict=True"):
        if case == "unhashable":
            compiled(np.ones(2), {(1, 2): np.ones(2)})  # arrays in a dict with tuple keys: no signature
        elif case == "no_grad":
            with ag.no_grad():
                compiled(np.ones(2))
        elif case == "anomaly":
            with ag.detect_anomaly():
                compiled(np.ones(2))
        elif case == "hook":
            x = T([1.0, 1.0])
            x.register_hook(lambda g: g)
            compiled(x)
        elif case == "limit":
            for n in range(1, 5):
                compiled(np.ones(2), n)
        else:
            compiled(np.ones(2))
    ok = ag.compile(lambda x: ag.sum(W * x), strict=True)
    for _ in range(4):
        ok(np.ones(2))
    assert ok.program(np.ones(2)) is not None


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "8", None])
def test_cache_arguments_are_checked(bad):
    with pytest.raises((TypeError, ValueError), match="cache_size"):
        ag.compile(lambda x: x, cache_size=bad)
