"""Forward mode, op by op: every entry of the op table (primitives and composites)
has its JVP checked against central differences along a drawn tangent and against
its VJP by the transpose identity <u, J t> = <J^T u, t>, in float64, with the
table's own argument strategies; forward over reverse (the derivative of a
gradient along a tangent) against central differences of the gradient for every
entry whose second derivative the VJP tests check; float32 in, float32 tangents out."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd_np as ag
from autograd_np.testing import COMPOSITE_SPECS, OP_SPECS, arrays
from autograd_np.testing.op_specs import FALLBACK_JVP, jvp_rule, markdown_cell, ops_markdown

ALL_SPECS = {**OP_SPECS, **COMPOSITE_SPECS}
# The ops whose forward mode transposes their VJP (no rule of their own): the op table says so too.  Ops of
# the convolution and effects modules may join them (their modules are rewritten for speed apart); any other op
# needs a JVP rule.
FALLBACK = {"conv2d", "max_pool2d", "im2col", "col2im", "batch_norm", "dropout_mask"}
FALLBACK_MODULES = ("conv", "pool", "effects")


def _may_fall_back(name):
    module = ag.OPS[name].forward.__module__.rsplit(".", 1)[-1]
    return name in FALLBACK or module.startswith(FALLBACK_MODULES)


def _function(spec, case):
    def f(*diff):
        args = list(case.args)
        for i, value in zip(case.wrt, diff):
            args[i] = value
        return spec.fn(*args, **case.kwargs)
    return f


def _draw(data, case, out_shape=None):
    primals = tuple(np.asarray(case.args[i], dtype=np.float64) for i in case.wrt)
    tangents = tuple(data.draw(arrays(p.shape), label="tangent") for p in primals)
    return primals, tangents


def _along(f, primals, tangents, h):
    """Central differences of f along ``tangents``, each primal stepped by ``h * max(1, |x|)``."""
    step = h * max(1.0, max((float(np.max(np.abs(p[np.isfinite(p)]), initial=0.0)) for p in primals), default=1.0))
    plus = f(*[np.asarray(p + step * t) for p, t in zip(primals, tangents)])
    minus = f(*[np.asarray(p - step * t) for p, t in zip(primals, tangents)])
    return [(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)) / (2 * step)
            for a, b in zip(_leaves(plus), _leaves(minus))]


def _leaves(x):
    if isinstance(x, (tuple, list)):
        return [v for item in x for v in _leaves(item)]
    return [x.data if isinstance(x, ag.Tensor) else np.asarray(x)]


def test_every_op_has_a_jvp_rule_or_is_a_documented_fallback():
    without = {name for name, op in ag.OPS.items() if op.jvp is None and name in OP_SPECS}
    assert all(_may_fall_back(n) for n in without), f"ops without a JVP rule: {without - FALLBACK}"
    table = ops_markdown()
    for name, op in ag.OPS.items():
        assert op.jvp is None or op.jvp_rule, f"{name}: a JVP rule needs its one-line statement (defjvp(rule=...))"
        row = next(line for line in table.splitlines() if line.startswith(f"| `{name}` |"))
        assert f"| {markdown_cell(jvp_rule(op))} |" in row and ((FALLBACK_JVP in row) == (op.jvp is None)), row


@pytest.mark.parametrize("name", sorted(ALL_SPECS))
@given(data=st.data())
@settings(max_examples=20)
def test_jvp_matches_central_differences_and_the_vjp(name, data):
    spec = ALL_SPECS[name]
    case = data.draw(spec.cases)
    f = _function(spec, case)
    primals, tangents = _draw(data, case)
    out, tout = ag.jvp(f, primals, tangents)
    assert np.shape(tout) == np.shape(out) and np.asarray(tout).dtype == np.asarray(out).dtype, name
    (numeric,) = _along(f, primals, tangents, spec.eps)
    scale = max(1.0, float(np.max(np.abs(numeric), initial=0.0)))
    np.testing.assert_allclose(tout, numeric, rtol=spec.rtol, atol=spec.atol * scale, err_msg=f"{name}: J t")
    u = data.draw(arrays(np.shape(out)), label="cotangent").astype(np.asarray(out).dtype)
    _, pull = ag.vjp(f, *primals)
    left = float(np.sum(u * tout))
    right = float(sum(np.sum(g * t) for g, t in zip(pull(u), tangents)))
    tol = 1e-9 * max(1.0, float(np.sum(np.abs(u * tout))), sum(float(np.sum(np.abs(g * t)))
                                                                 for g, t in zip(pull(u), tangents)))
    assert abs(left - right) <= tol + 1e-6 * abs(right), f"{name}: <u, J t> = {left} but <J^T u, t> = {right}"


@pytest.mark.parametrize("name", sorted(ALL_SPECS))
@given(data=st.data())
@settings(max_examples=8)
def test_forward_over_reverse_matches_central_differences_of_the_gradient(name, data):
    spec = ALL_SPECS[name]
    if spec.eps > 1e-6:  # a coarse first-order step leaves no room for a second difference (as test_ops)
        return
    case = data.draw(spec.cases)
    f = _function(spec, case)
    primals, tangents = _draw(data, case)
    u = data.draw(arrays(np.shape(f(*primals))), label="cotangent")
    nums = tuple(range(len(primals)))

    def gradient(*x):
        return ag.func.grad(lambda *e: ag.sum(f(*e) * u), argnums=nums)(*x)

    _, second = ag.jvp(gradient, primals, tangents)
    numeric = _along(gradient, primals, tangents, 1e-5)
    for got, want in zip(_leaves(second), numeric):
        scale = max(1.0, float(np.max(np.abs(want), initial=0.0)))
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4 * scale, err_msg=f"{name}: d/dt grad")


@pytest.mark.parametrize("name", sorted(ALL_SPECS))
@given(data=st.data())
@settings(max_examples=5)
def test_float32_primals_give_float32_tangents(name, data):
    spec = ALL_SPECS[name]
    case = data.draw(spec.cases)
    args = tuple(a.astype(np.float32) if isinstance(a, np.ndarray) and a.dtype == np.float64 else a
                 for a in case.args)
    case = type(case)(args, case.kwargs, case.wrt)
    f = _function(spec, case)
    primals = tuple(np.asarray(case.args[i]) for i in case.wrt)
    tangents = tuple(np.ones_like(p) for p in primals)
    out, tout = ag.jvp(f, primals, tangents)
    assert np.asarray(tout).dtype == np.asarray(out).dtype == np.float32, name
