"""vmap, op by op: every entry of the op table (primitives and composites) mapped
over a batch equals a Python loop over the batch, for the op itself (every
differentiated argument batched, or only the first, or batched along its last
axis), for its per-example gradients (vmap of grad), for its JVP with a batch
of tangents and for its VJP with a batch of cotangents (the one-pass Jacobian
rows)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd_np as ag
from autograd_np.testing import COMPOSITE_SPECS, OP_SPECS
from autograd_np.transforms.batching import RULES

ALL_SPECS = {**OP_SPECS, **COMPOSITE_SPECS}
FACTORS = (1.0, 1.1, 0.8)  # the batch: the drawn arguments scaled (the op's domain kept where scaling keeps it)
# Refused (VmapError) where they read values in Python: vmap must then raise, never give a result computed from
# one example's numbers.  Where they do not (norm with ord 1 or inf, ...), the result must equal the loop.
MAY_REFUSE = {
    "sort": "it computes argsort of the values in Python",
    "partition": "it computes argpartition of the values in Python",
    "median": "built on sort",
    "squeeze": "it reads the values' array for the shape (np.asarray)",
    "expand_dims": "it reads the values' array for the shape (np.asarray)",
    "norm": "the 2- and p-norms check for an all-zero slice in Python",
    "slogdet": "it computes the sign in Python",
    "batch_norm": "training mode: each example would be a batch of its own (eval mode is batched)",
}
# VJPs that branch on their cotangent's values (skipping terms when it is zero): a batch of cotangents is refused
# (jacrev then goes one row at a time).
VJP_MAY_REFUSE = {"eigh", "eigvalsh", "svd", "svd(compute_uv=False)"}
RANDOM = {"dropout", "dropout_mask"}  # equal to the loop when a generator starts from the same state


def _with_generator(name, case):
    """The case with a real generator (the table's repeats its numbers for every call)."""
    if name not in RANDOM:
        return case
    return type(case)(case.args, {**case.kwargs, "rng": np.random.default_rng(5)}, case.wrt)


def _generators(case):
    return [v for v in list(case.args) + list(case.kwargs.values()) if isinstance(v, np.random.Generator)]


def _function(spec, case, name):
    # a primitive itself: the table's wrapper of eigh and svd fixes the vectors' signs from their values
    fn = ag.OPS[name] if name in ag.OPS else spec.fn

    def f(*diff):
        args = list(case.args)
        for i, value in zip(case.wrt, diff):
            args[i] = value
        return fn(*args, **case.kwargs)
    return f


def _values(x):
    return np.asarray(x.data if isinstance(x, ag.Tensor) else x, dtype=np.float64)


def _batch(f, primals, batched):
    """Per argument, its examples: scaled copies where f still accepts them (and the loop's results)."""
    examples, results = [], []
    for factor in FACTORS:
        args = tuple(p * factor if b else p for p, b in zip(primals, batched))
        try:
            with np.errstate(all="ignore"):
                results.append(_values(f(*args)))
        except Exception:  # noqa: BLE001  (outside the op's domain: keep the drawn values)
            args = primals
            results.append(_values(f(*args)))
        examples.append(args)
    return examples, results


def _stacked(examples, batched, axis=0):
    return tuple(np.stack([e[k] for e in examples], axis=axis) if b else examples[0][k]
                 for k, b in enumerate(batched))


def _close(got, want, what):
    got = _values(got)
    assert got.shape == want.shape, f"{what}: vmap gave shape {got.shape}, the loop {want.shape}"
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=what)


def _primals(case):
    return tuple(np.asarray(case.args[i]) for i in case.wrt)


@pytest.mark.parametrize("name", sorted(ALL_SPECS))
@given(data=st.data())
@settings(max_examples=10)
def test_vmap_of_each_op_equals_a_loop_or_refuses(name, data):
    spec = ALL_SPECS[name]
    case = _with_generator(name, data.draw(spec.cases))
    f = _function(spec, case, name)
    primals = _primals(case)
    pattern = data.draw(st.sampled_from(["all", "first"] if name in RANDOM else ["all", "first", "last axis"]))
    batched = [True] * len(primals) if pattern == "all" else [k == 0 for k in range(len(primals))]
    states = [g.bit_generator.state for g in _generators(case)]
    examples, results = _batch(f, primals, batched)
    if states:  # the loop again, from the drawn state, then vmap from it too
        for g, state in zip(_generators(case), states):
            g.bit_generator.state = state
        results = [_values(f(*e)) for e in examples]
        for g, state in zip(_generators(case), states):
            g.bit_generator.state = state
    want = np.stack(results)
    last = pattern == "last axis" and np.ndim(primals[0]) > 0
    in_axes = tuple((-1 if last else 0) if b else None for b in batched)
    got = _mapped_or_refused(name, f, in_axes, _stacked(examples, batched, axis=-1 if last else 0))
    if got is not None:
        _close(got, want, f"{name} ({pattern})")


def test_every_op_has_a_batching_rule():
    # an op without one is refused by name (below); the convolution modules, rewritten apart, may add such ops
    without = {n for n in ag.OPS if n not in RULES and n in OP_SPECS}
    modules = {ag.OPS[n].forward.__module__.rsplit(".", 1)[-1] for n in without}
    assert all(m.startswith(("conv", "pool")) for m in modules), f"ops without a batching rule: {sorted(without)}"


def _mapped_or_refused(name, f, in_axes, args, may_refuse=MAY_REFUSE):
    """vmap(f)(*args), or None when it refused an op allowed to refuse (with a message saying vmap's limit)."""
    try:
        return ag.vmap(f, in_axes=in_axes)(*args)
    except ag.VmapError as exc:
        if name in ag.OPS and name not in RULES:  # no rule: the error names the op
            assert f"op {name!r} has no batching rule" in str(exc)
            return None
        assert name in may_refuse, f"{name}: vmap refused: {exc}"
        assert "vmap" in str(exc)
        return None


def _scalar(f, u):
    return lambda *d: ag.sum(f(*d) * u)


@pytest.mark.parametrize("name", sorted(set(ALL_SPECS) - RANDOM))
@given(data=st.data())
@settings(max_examples=5)
def test_vmap_of_grad_gives_per_example_gradients(name, data):
    spec = ALL_SPECS[name]
    case = data.draw(spec.cases)
    f = _function(spec, case, name)
    primals = _primals(case)
    u = np.random.default_rng(0).standard_normal(np.shape(f(*primals)))
    nums = tuple(range(len(primals)))
    g = ag.func.grad(_scalar(f, u), argnums=nums)
    batched = [k == 0 for k in range(len(primals))]  # the others the same for every example, as parameters are
    examples, _ = _batch(f, primals, batched)
    loop = [[_values(x) for x in g(*e)] for e in examples]
    got = _mapped_or_refused(name, g, tuple(0 if b else None for b in batched), _stacked(examples, batched))
    for k in nums if got is not None else ():
        _close(got[k], np.stack([r[k] for r in loop]), f"{name}: per-example gradient of argument {k}")


@pytest.mark.parametrize("name", sorted(ALL_SPECS))
@given(data=st.data())
@settings(max_examples=5)
def test_vmap_of_jvp_and_vjp_over_a_batch_of_directions(name, data):
    spec = ALL_SPECS[name]
    case = data.draw(spec.cases)
    f = _function(spec, case, name)
    primals = _primals(case)
    rng = np.random.default_rng(1)
    tangents = [tuple(rng.standard_normal(np.shape(p)).astype(p.dtype) for p in primals) for _ in range(3)]
    loop = np.stack([_values(ag.jvp(f, primals, t)[1]) for t in tangents])
    got = _mapped_or_refused(name, lambda *t: ag.jvp(f, primals, t)[1], 0, [np.stack(p) for p in zip(*tangents)])
    if got is not None:
        _close(got, loop, f"{name}: a batch of JVPs")
    out, pull = ag.vjp(f, *primals)
    cotangents = np.stack([rng.standard_normal(np.shape(out)) for _ in range(3)]).astype(np.asarray(out).dtype)
    loop = [[_values(g) for g in pull(c)] for c in cotangents]
    got = _mapped_or_refused(name, pull, 0, [cotangents], MAY_REFUSE.keys() | VJP_MAY_REFUSE)
    for k in range(len(primals)) if got is not None else ():
        _close(got[k], np.stack([r[k] for r in loop]), f"{name}: a batch of VJPs, argument {k}")
