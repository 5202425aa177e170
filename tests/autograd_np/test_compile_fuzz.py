"""A differential fuzzer for ag.compile: random programs from the op table, called
with randomly varied arguments and state between calls, compiled against eager
on every call: the same results, the same .grad, the same generator and
running-statistics state (or a documented eager fallback, which is eager).

Two identical worlds are built from one seed (parameters, a nets model with
dropout and batch norm, a free tensor); the compiled step runs in one, the
eager step in the other, and every change between calls (a new batch size or
dtype, a number argument such as -0.0 or NaN, two arguments that are or are not
the same tensor, a value that flips a Python branch, a hook added or removed, a
parameter replaced, dropout's p or mask, train/eval) is made in both."""
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import autograd_np as ag
import nets

_PROBE = ag.Tensor(np.linspace(0.1, 0.9, 6).reshape(2, 3))
_SKIP = {"dropout_mask", "batch_norm", "astype", "copy", "sum_to", "broadcast_to", "getitem", "reshape",
         "transpose", "softmax_cross_entropy", "index_add", "col2im", "im2col"}


def _elementwise(arity):
    """The ops of the op table that map arrays of one shape to that shape, by arity."""
    found = []
    for name, op in sorted(ag.OPS.items()):
        if name in _SKIP:
            continue
        inputs = [ag.Tensor(_PROBE.data * (i + 1), requires_grad=True) for i in range(arity)]
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = op(*inputs)
                ag.sum(out).backward()  # (every input differentiable: a parameter is not an input)
        except Exception:  # noqa: BLE001  (a different signature: not elementwise of this arity)
            continue
        if out.shape == _PROBE.shape and out.dtype.kind == "f" and all(t.grad is not None for t in inputs):
            found.append(name)
    return found


UNARY, BINARY = _elementwise(1), _elementwise(2)


def test_the_fuzzer_draws_from_most_of_the_op_table():
    assert len(UNARY) >= 30 and len(BINARY) >= 10, (UNARY, BINARY)


class World:
    """Parameters, a model and a free tensor, built the same way from a seed."""

    def __init__(self, seed, config):
        rng = np.random.default_rng(seed)
        self.config = config
        self.W = ag.Tensor(rng.standard_normal((3, 4)), requires_grad=True, name="W")
        self.V = ag.Tensor(rng.standard_normal(4), requires_grad=True, name="V")
        self.model = nets.Sequential(nets.Affine(4, 5, rng=seed), nets.Dropout(0.3, rng=seed), nets.BatchNorm(5),
                                     nets.Affine(5, 2, rng=seed + 1))
        self.model.astype(np.float64)
        self.cot = rng.standard_normal(4)  # a constant the step reads without receiving it
        self.hooks = []

    def leaves(self):
        return [self.W, self.V, *self.model.parameters()]

    def state(self):
        drop, bn = self.model.layers[1], self.model.layers[2]
        return [drop.rng.bit_generator.state["state"]["state"], bn.running_mean.copy(), bn.running_var.copy()]

    def step(self, x, a, b, s, branch, t):
        """The program: ops from the table on x @ W, a number, a branch on it, two
        tensor arguments, the model on the result."""
        h = ag.matmul(x, self.W)
        for kind, name in self.config["ops"]:
            if kind == "unary":
                h = ag.OPS[name](h)
            elif kind == "param":
                h = ag.OPS[name](h, self.V)
            else:
                h = ag.OPS[name](h, h * s)
        if branch > 0:  # a Python branch on a number argument: part of the signature
            h = h * 2.0
        h = ag.where(ag.Tensor(np.isfinite(h.numpy())) if self.config["reads"] else True, h, 0.0)
        y = self.model(h)
        loss = ag.sum(h * self.cot) * 1e-3 + ag.sum(a * b) + ag.sum(y * y)
        return loss, y


CHANGES = ["batch", "dtype", "number", "alias", "branch", "hook", "unhook", "replace", "rebind", "p", "mask",
           "eval", "train", "same"]
NUMBERS = [2.0, -0.0, 0.0, float("nan"), float("inf"), -1.5, 3, True, np.float32(0.5), np.float64(-0.0)]


@st.composite
def programs(draw):
    ops = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["unary", "unary", "param", "number"]))
        ops.append((kind, draw(st.sampled_from(UNARY if kind == "unary" else BINARY))))
    config = {"ops": ops, "reads": draw(st.integers(0, 3)) == 0}
    calls = []
    for change in draw(st.lists(st.sampled_from(CHANGES), min_size=2, max_size=6)):
        calls += [change] + ["same"] * draw(st.integers(0, 3))  # a signature replays from its third call
    return config, calls, draw(st.integers(0, 2**16))


def _apply(change, world, call, rng_draw):
    """Make ``change`` in a world; ``call`` holds the arguments of the next call."""
    model = world.model
    if change == "batch":
        call["n"] = 3 if call["n"] == 2 else 2
    elif change == "dtype":
        call["dtype"] = np.float32 if call["dtype"] == np.float64 else np.float64
    elif change == "number":
        call["s"] = NUMBERS[rng_draw % len(NUMBERS)]
    elif change == "alias":
        call["alias"] = not call["alias"]
    elif change == "branch":
        call["branch"] = -call["branch"]
    elif change == "hook":
        world.hooks.append(world.V.register_hook(lambda g: g * 3.0))
    elif change == "unhook" and world.hooks:
        world.hooks.pop().remove()
    elif change == "replace":
        model.layers[0].W = ag.Tensor(np.full((4, 5), 0.01 * (rng_draw % 7)), requires_grad=True)
    elif change == "rebind":  # an attribute of the object whose method is compiled
        world.W = ag.Tensor(world.W.data * 0.5, requires_grad=True, name="W")
    elif change == "p":
        model.layers[1].p = (rng_draw % 5) / 10
    elif change == "mask":
        n = call["n"]
        model.layers[1].mask = None if model.layers[1].mask is not None else np.arange(5 * n).reshape(n, 5) % 3 > 0
    elif change == "eval":
        model.eval()
    elif change == "train":
        model.train()


def _arguments(call, world, data):
    x = data[: call["n"]].astype(call["dtype"])
    a = ag.Tensor(np.arange(3.0) + 1, requires_grad=True, name="a")
    b = a if call["alias"] else ag.Tensor(np.arange(3.0) - 1, requires_grad=True, name="b")
    return x, a, b, call["s"], call["branch"], None


def _mask_fits(world, call):
    mask = world.model.layers[1].mask
    return mask is None or mask.shape[0] == call["n"]


def run_sequence(config, calls, seed):
    worlds = World(seed, config), World(seed, config)
    compiled = ag.compile(worlds[0].step)
    data = np.random.default_rng(seed).standard_normal((3, 3))
    call = {"n": 2, "dtype": np.float64, "s": 2.0, "alias": False, "branch": 1}
    for i, change in enumerate(["same", "same"] + calls):
        state = dict(call)
        for w in worlds:
            call.clear()
            call.update(state)
            _apply(change, w, call, seed + i)
        if not _mask_fits(worlds[0], call):
            for w in worlds:
                w.model.layers[1].mask = None
        outs = []
        for w, step in zip(worlds, (compiled, None)):
            x, a, b, s, branch, _ = _arguments(call, w, data)
            for t in [*w.leaves(), a, b]:
                t.grad = None
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if step is not None:
                    loss, y = step(x, a, b, s, branch, None)
                else:
                    loss, y = w.step(x, a, b, s, branch, None)
                    loss.backward()
            grads = [None if t.grad is None else t.grad.copy() for t in [*w.leaves(), a, b]]
            outs.append((loss.data.copy(), y.data.copy(), grads, w.state()))
        (l0, y0, g0, s0), (l1, y1, g1, s1) = outs
        where = f"call {i} ({change}), config {config}, reasons {compiled.eager_reasons}"
        assert np.array_equal(l0, l1, equal_nan=True) and np.array_equal(y0, y1, equal_nan=True), where
        for p, q in zip(g0, g1):
            assert (p is None) == (q is None) and (p is None or np.array_equal(p, q, equal_nan=True)), where
        assert s0[0] == s1[0], where  # the dropout generator's state
        for p, q in zip(s0[1:], s1[1:]):
            assert np.array_equal(p, q, equal_nan=True), where
    return compiled


@given(programs())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_random_programs_and_changes_compiled_equal_eager(case):
    run_sequence(*case)


@pytest.mark.slow
@given(programs())
@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_random_programs_and_changes_compiled_equal_eager_long(case):
    run_sequence(*case)


def test_a_quiet_sequence_does_compile():
    """The fuzzer must exercise replays, not only eager fallbacks."""
    compiled = run_sequence({"ops": [("unary", "tanh"), ("param", "mul")], "reads": False}, ["same"] * 4, 0)
    x = np.random.default_rng(0).standard_normal((3, 3))[:2]
    a = ag.Tensor(np.arange(3.0) + 1, requires_grad=True)
    b = ag.Tensor(np.arange(3.0) - 1, requires_grad=True)
    assert compiled.program(x, a, b, 2.0, 1, None) is not None, compiled.eager_reasons
