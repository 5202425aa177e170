"""ag.compile and the Python around fn: state reached through partials, default
arguments, object arguments, methods, containers, config modules and classes;
zero_grad inside fn; arguments in tuples, lists, dicts and keywords; side
effects that a replay would skip.  Found by a red-team pass: each failed before
its fix (a different answer from eager without an error)."""
import functools
import random
import sys
import types

import numpy as np
import pytest

import autograd_np as ag
import nets


def _data(n=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 4)).astype(np.float32), rng.integers(0, 3, n)


def _model():
    return nets.Sequential(nets.Affine(4, 5, rng=0), nets.Dropout(0.5, rng=0), nets.Affine(5, 3, rng=1))


def _twins(make_step, change, calls_before=3, calls_after=3):
    """A compiled and an eager copy of one model; ``change`` both after ``calls_before``
    calls; the losses and gradients must agree on every call."""
    models = _model(), _model()
    compiled = make_step(models[0])
    x, t = _data()
    for i in range(calls_before + calls_after):
        if i == calls_before:
            for m in models:
                change(m)
        for m in models:
            m.zero_grad()
        got = compiled(x, t)
        got = got[0] if isinstance(got, tuple) else got
        expected = models[1].loss(x, t)
        expected.backward()
        assert np.array_equal(got.data, expected.data), i
        for p, q in zip(models[0].parameters(), models[1].parameters()):
            assert (p.grad is None) == (q.grad is None) and (p.grad is None or np.array_equal(p.grad, q.grad)), i


def _replace_weight(m):
    m.layers[0].W = ag.Tensor(np.full((4, 5), 0.1, np.float32), requires_grad=True)


STEPS = {
    "partial": lambda m: ag.compile(functools.partial(lambda x, t, model: model.loss(x, t), model=m)),
    "default argument": lambda m: ag.compile(lambda x, t, model=m: model.loss(x, t)),
    "bound method": lambda m: ag.compile(m.loss),
    "a dict holding the model": lambda m: (lambda box: ag.compile(lambda x, t: box["m"].loss(x, t)))({"m": m}),
    "a list holding the model": lambda m: (lambda box: ag.compile(lambda x, t: box[0].loss(x, t)))([m]),
    "a plain object holding it": lambda m: (lambda h: ag.compile(lambda x, t: h.model.loss(x, t)))(
        types.SimpleNamespace(model=m)),
    "an object two levels deep": lambda m: (lambda h: ag.compile(lambda x, t: h.inner.model.loss(x, t)))(
        types.SimpleNamespace(inner=types.SimpleNamespace(model=m))),
}
CHANGES = {"eval": lambda m: m.eval(), "parameter replaced": _replace_weight,
           "dropout p": lambda m: setattr(m.layers[1], "p", 0.1),
           "training through vars()": lambda m: vars(m.layers[1]).__setitem__("training", False),
           "training through object.__setattr__": lambda m: object.__setattr__(m.layers[1], "training", False)}


@pytest.mark.parametrize("step", sorted(STEPS))
@pytest.mark.parametrize("change", sorted(CHANGES))
def test_model_state_reached_any_way_is_guarded(step, change):
    _twins(STEPS[step], CHANGES[change])


def test_a_function_argument_and_its_object_are_guarded():
    models = _model(), _model()
    compiled = ag.compile(lambda x, t, loss_of: loss_of(x, t))
    x, t = _data()
    for i in range(6):
        if i == 3:
            for m in models:
                m.eval()
        assert float(compiled(x, t, models[0].loss)) == float(models[1].loss(x, t)), i


class Cfg:
    def __init__(self):
        self.scale = 2.0


class Hyper:
    scale = 2.0


def test_an_object_argument_a_config_module_and_a_class_attribute_are_guarded():
    W = ag.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    config = types.ModuleType("config_for_test")
    config.SCALE = 2.0
    sys.modules["config_for_test"] = config
    try:
        g = {"config": config, "Hyper": Hyper, "W": W, "ag": ag}
        by_module = eval("lambda x: ag.sum(W * x * config.SCALE)", g)  # noqa: S307  (a global module)
        by_class = eval("lambda x: ag.sum(W * x * Hyper.scale)", g)  # noqa: S307
        by_argument = lambda x, cfg: ag.sum(W * x * cfg.scale)  # noqa: E731
        cfg, x = Cfg(), np.ones(3)
        steps = [(ag.compile(by_module), by_module, ()), (ag.compile(by_class), by_class, ()),
                 (ag.compile(by_argument), by_argument, (cfg,))]
        for i in range(6):
            if i == 3:
                config.SCALE, Hyper.scale, cfg.scale = 5.0, 5.0, 5.0
            for compiled, eager, extra in steps:
                assert float(compiled(x, *extra)) == float(eager(x, *extra)), i
    finally:
        del sys.modules["config_for_test"]
        Hyper.scale = 2.0


def test_a_plain_config_object_inside_a_module_is_guarded():
    class Block(nets.Module):
        def __init__(self):
            super().__init__()
            self.fc, self.cfg = nets.Affine(3, 2, rng=0), Cfg()

        def forward(self, x):
            return self.fc(x) * self.cfg.scale

    blocks = Block(), Block()
    step = nets.compile_step(blocks[0])
    x, t = np.ones((2, 3), np.float32), np.array([0, 1])
    for i in range(6):
        if i == 3:
            for b in blocks:
                b.cfg.scale = 5.0
        assert float(step(x, t)[0]) == float(blocks[1].loss(x, t)), i


# --- zero_grad and .grad inside fn ---------------------------------------------------------

@pytest.mark.parametrize("how", ["model.zero_grad()", "opt.zero_grad()", "W.grad = None"])
def test_zero_grad_inside_fn_is_replayed(how):
    models = _model(), _model()
    opts = [nets.optim.SGD(m.parameters(), lr=0.1) for m in models]
    x, t = _data()

    def make(m, opt):
        def step(x, t):
            if how == "model.zero_grad()":
                m.zero_grad()
            elif how == "opt.zero_grad()":
                opt.zero_grad()
            else:
                for p in m.parameters():
                    p.grad = None
            return m.loss(x, t)
        return step

    compiled, eager = ag.compile(make(models[0], opts[0])), make(models[1], opts[1])
    for _ in range(5):
        compiled(x, t)
        eager(x, t).backward()
        for p, q in zip(models[0].parameters(), models[1].parameters()):
            assert np.array_equal(p.grad, q.grad)
    assert compiled.program(x, t) is not None, compiled.eager_reasons


def test_branching_on_grad_inside_fn_runs_eagerly():
    W = ag.Tensor(np.ones(3), requires_grad=True)
    fn = lambda x: ag.sum(W * x) * (1.0 if W.grad is None else 2.0)  # noqa: E731
    compiled = ag.compile(fn)
    for _ in range(4):
        compiled(np.ones(3))
    assert compiled.program(np.ones(3)) is None and ".grad" in next(iter(compiled.eager_reasons.values()))


# --- argument trees and keywords --------------------------------------------------------------

def test_arrays_and_tensors_inside_tuples_lists_and_dicts():
    W = ag.Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    a, b = np.ones(3), np.array([5.0, 6.0, 7.0])
    fn = lambda batch, extra: ag.sum(W * batch[0]) + ag.sum(W * extra["k"][1])  # noqa: E731
    compiled = ag.compile(fn)
    calls = [((a,), {"k": [a, a]})] * 3 + [((b,), {"k": [b, a]}), ((a,), {"k": [a, b]})]
    for batch, extra in calls:
        assert float(compiled(batch, extra)) == float(fn(batch, extra))
    P, Q = ag.Tensor(np.ones(3), requires_grad=True), ag.Tensor(np.full(3, 2.0), requires_grad=True)
    g = ag.compile(lambda pair: ag.sum(W * pair[0] * pair[1]))
    for pair in [(P, P)] * 3 + [(Q, P), (P, Q)]:
        P.grad = Q.grad = None
        g(pair)
        got = P.grad, Q.grad
        P.grad = Q.grad = None
        ag.sum(W * pair[0] * pair[1]).backward()
        assert all((u is None and v is None) or np.array_equal(u, v) for u, v in zip(got, (P.grad, Q.grad)))


def test_keyword_arguments():
    W = ag.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    fn = lambda x, *, s=1.0, y=None: ag.sum(W * x * s) + (0.0 if y is None else ag.sum(W * y))  # noqa: E731
    compiled = ag.compile(fn)
    for kwargs in [{"s": 2.0}] * 3 + [{"s": -0.0}, {"s": 2.0, "y": np.ones(2)}, {"y": np.ones(2)}] * 2:
        assert float(compiled(np.ones(2), **kwargs)) == float(fn(np.ones(2), **kwargs)), kwargs


def test_fn_changing_a_list_it_received_changes_the_callers_list():
    W = ag.Tensor(np.ones(2), requires_grad=True)

    def fn(x, log):
        log.append(1)
        return ag.sum(W * x)

    compiled, mine = ag.compile(fn), []
    for _ in range(4):
        compiled(np.ones(2), mine)
    assert mine == [1, 1, 1, 1]


def test_a_method_decorated_in_its_class():
    class Trainer:
        def __init__(self):
            self.W = ag.Tensor(np.ones(2), requires_grad=True)

        @ag.compile
        def step(self, x):
            return ag.sum(self.W * x)

    a, b = Trainer(), Trainer()
    for _ in range(3):
        a.step(np.ones(2))
    b.step(np.ones(2))
    assert np.array_equal(a.W.grad, [3.0, 3.0]) and np.array_equal(b.W.grad, [1.0, 1.0])
    old, a.W = a.W, ag.Tensor(np.ones(2), requires_grad=True)
    a.step(np.ones(2))
    assert np.array_equal(a.W.grad, [1.0, 1.0]) and np.array_equal(old.grad, [3.0, 3.0])


def test_a_tensor_computed_by_a_graph_as_argument():
    W, V = ag.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True), ag.Tensor(np.full(3, 0.5), requires_grad=True)
    head = ag.compile(lambda h: ag.sum(h * V))
    for _ in range(3):
        W.grad = V.grad = None
        assert float(head(W * 2)) == 6.0
        assert np.array_equal(W.grad, [1.0, 1.0, 1.0]) and np.array_equal(V.grad, [2.0, 4.0, 6.0])


def test_sliced_minibatches_compile():
    X, T = _data(40)
    model = nets.MultiLayerNet([4, 8, 3], rng=0)
    step = nets.compile_step(model)
    for _ in range(2):
        for i in range(0, 40, 10):
            step(X[i:i + 10], T[i:i + 10])
    assert step.program(X[:10], T[:10]) is not None, step.eager_reasons


def test_a_view_of_an_argument_passed_as_another_argument():
    m, aux = nets.Sequential(nets.Affine(4, 3, rng=0)), nets.Sequential(nets.Affine(4, 3, rng=1))
    X, t = _data()
    X2 = X * 2
    fn = lambda x, xa, t: m.loss(x, t) + aux.loss(xa, t)  # noqa: E731
    compiled = ag.compile(fn)
    for xa in [X.view(), X.view(), X.view(), X2, X[:]]:
        assert float(compiled(X, xa, t)) == float(fn(X, xa, t))


# --- side effects -----------------------------------------------------------------------------

def test_python_side_effects_make_it_run_eagerly():
    W = ag.Tensor(np.ones(3), requires_grad=True)
    rng, history, counter, ema = np.random.default_rng(0), [], [0], np.ones(3)
    cases = {
        "a generator drawn in Python": lambda x: ag.sum(W * x * (1.0 if rng.random() > 0.5 else -1.0)),
        "np.random": lambda x: ag.sum(W * x * np.random.rand()),
        "random": lambda x: ag.sum(W * x * random.random()),
        "a list appended": lambda x: (history.append(1), ag.sum(W * x))[1],
        "a counter": lambda x: (counter.__setitem__(0, counter[0] + 1), ag.sum(W * x))[1],
        "an array written in place": lambda x: (ema.__imul__(0.5), ag.sum(W * x))[1],
    }
    for name, fn in cases.items():
        compiled = ag.compile(fn)
        for _ in range(4):
            compiled(np.ones(3))
        assert compiled.program(np.ones(3)) is None, name
    assert len(history) == 4 and counter[0] == 4


def test_a_stored_argument_is_the_argument_itself():
    box = {}
    W = ag.Tensor(np.ones(3), requires_grad=True)

    def fn(x, a):
        box["x"], box["a"] = x, a
        return ag.sum(x * 2.0) + ag.sum(W * a)

    compiled = ag.compile(fn)
    x, a = ag.Tensor(np.ones(3), requires_grad=True), np.ones(3)
    compiled(x, a)
    assert box["x"] is x and box["a"] is a and type(box["a"]) is np.ndarray


def test_scalars_read_from_an_array_argument_are_numpy_scalars():
    W = ag.Tensor(np.ones(3), requires_grad=True)
    weights = {0: 1.0, 1: 2.0, 2: 0.5}
    fns = [lambda x, t: ag.sum(W * x * np.array([weights[c] for c in t])),
           lambda x, t: ag.sum(W * x) * round(x[0]),
           lambda x, t: ag.sum(W * x) * (1.0 if isinstance(x[0], float) else 2.0),
           lambda x, t: ag.sum(W * x) * float(x[0].is_integer())]
    for fn in fns:
        compiled = ag.compile(fn)
        for t in ([0, 1, 2], [0, 1, 2], [0, 1, 2], [2, 2, 1]):
            x = np.array([1.0, 2.5, 3.0])
            assert float(compiled(x, np.array(t))) == float(fn(x, np.array(t)))


def test_guard_values_compare_bitwise():
    W = ag.Tensor(np.array([1.0, -1.0]), requires_grad=True)
    state = {"s": 0.0}
    fn = lambda x: ag.sum(W * x / state["s"])  # noqa: E731
    compiled = ag.compile(fn, guard=lambda: state["s"])
    with np.errstate(divide="ignore", invalid="ignore"):
        for s in (0.0, 0.0, 0.0, -0.0, 1, True):
            state["s"] = s
            assert np.array_equal(compiled(np.ones(2)).data, fn(np.ones(2)).data, equal_nan=True), s


@pytest.mark.parametrize("bad", [{"strict": "no"}, {"check": "yes"}, {"guard_modules": None},
                                 {"guard_modules": [nets.Affine]}])
def test_options_are_checked(bad):
    with pytest.raises(TypeError, match=next(iter(bad))):
        ag.compile(lambda x: x, **bad)
    with pytest.raises(TypeError, match="check"):
        nets.compile_step(_model(), check="x")


def test_a_hook_that_calls_backward_does_not_deadlock():
    import threading
    W, V = ag.Tensor(np.ones(2), requires_grad=True), ag.Tensor(np.ones(2), requires_grad=True)
    W.register_hook(lambda g: ag.sum(V * 3.0).backward())
    done = threading.Event()

    def run():
        ag.sum(W * 2.0).backward()
        done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(20), "backward inside a hook deadlocked"
    assert np.array_equal(W.grad, [2.0, 2.0]) and np.array_equal(V.grad, [3.0, 3.0])
