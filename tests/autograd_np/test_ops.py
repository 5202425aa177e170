"""Every op in the table, gradient-checked against central differences.

The tests are generated from ``autograd_np.testing.OP_SPECS``; the
completeness test makes an op without a spec fail CI."""
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd_np as ag
from autograd_np.core.registry import RAW_OPS
from autograd_np.testing import COMPOSITE_SPECS, OP_SPECS

ALL_SPECS = {**OP_SPECS, **COMPOSITE_SPECS}


def test_every_registered_op_has_a_spec():
    assert set(ag.OPS) == set(OP_SPECS), f"ops without a spec: {set(ag.OPS) - set(OP_SPECS)}"


def test_every_op_has_a_vjp_and_a_rule():
    for name, op in ag.OPS.items():
        assert op.has_vjp, name
        assert ";" in op.rule and "g" in op.rule.split(";")[1], f"{name}: rule should state the derivative"


def _call(spec, case, diff):
    args = list(case.args)
    for i, value in zip(case.wrt, diff):
        args[i] = value
    return spec.fn(*args, **case.kwargs)


def _check_gradient(spec, data):
    case = data.draw(spec.cases)
    assert ag.gradcheck(lambda *d: _call(spec, case, d), [case.args[i] for i in case.wrt],
                        eps=spec.eps, atol=spec.atol, rtol=spec.rtol)


@pytest.mark.parametrize("name", sorted(OP_SPECS))
@given(data=st.data())
def test_gradient_matches_numerical(name, data):
    _check_gradient(OP_SPECS[name], data)


@pytest.mark.parametrize("name", sorted(COMPOSITE_SPECS))
@given(data=st.data())
@settings(max_examples=20)
def test_composite_gradient_matches_numerical(name, data):
    # fewer examples than a primitive's: the chain rule over tested ops is the engine's; what can
    # go wrong here is the wiring (a value read that cuts the graph), which few examples expose
    _check_gradient(COMPOSITE_SPECS[name], data)


@pytest.mark.parametrize("name", sorted(ALL_SPECS))
@given(data=st.data())
@settings(max_examples=10)
def test_second_derivative_matches_numerical(name, data):
    spec = ALL_SPECS[name]
    if spec.eps > 1e-6:  # a coarse first-order step leaves no room for a second difference
        return
    case = data.draw(spec.cases)
    assert ag.gradgradcheck(lambda *d: _call(spec, case, d), [case.args[i] for i in case.wrt],
                            eps=1e-5, atol=1e-4, rtol=1e-3)


@pytest.mark.parametrize("name", sorted(ALL_SPECS))
@given(data=st.data())
@settings(max_examples=10)
def test_float32_in_float32_out(name, data):
    spec = ALL_SPECS[name]
    case = data.draw(spec.cases)
    args = [a.astype(np.float32) if isinstance(a, np.ndarray) and a.dtype == np.float64 else a for a in case.args]
    diff = [ag.Tensor(args[i], requires_grad=True) for i in case.wrt]
    out = _call(spec, replace(case, args=tuple(args)), diff)
    assert out.dtype == np.float32, f"{name}: float32 inputs gave {out.dtype}"
    ag.sum(out).backward()
    for t in diff:
        assert t.grad is not None and t.grad.dtype == np.float32 and t.grad.shape == t.shape


@pytest.mark.parametrize("name", sorted(ALL_SPECS))
@given(data=st.data())
@settings(max_examples=10)
def test_inputs_are_not_modified_and_gradients_have_their_inputs_shapes(name, data):
    # inputs and the upstream gradient read-only: a forward or VJP writing to them raises
    spec = ALL_SPECS[name]
    case = data.draw(spec.cases)
    before = [np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in case.args]
    for a in case.args:
        if isinstance(a, np.ndarray):
            a.flags.writeable = False
    diff = [ag.Tensor(case.args[i], requires_grad=True) for i in case.wrt]
    out = _call(spec, case, diff)
    cot = np.random.default_rng(0).standard_normal(out.shape)
    cot.flags.writeable = False
    out.backward(cot)
    for a, b in zip(case.args, before):
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)
    for t in diff:
        assert type(t.grad) is np.ndarray and t.grad.shape == t.shape and t.grad.flags.writeable
        assert not np.shares_memory(t.grad, cot) and not np.shares_memory(t.grad, t.data)
    for i, t in enumerate(diff):
        for u in diff[i + 1:]:
            assert not np.shares_memory(t.grad, u.grad), f"{name}: two inputs share one gradient array"


@pytest.mark.parametrize("name", sorted(n for n, spec in ALL_SPECS.items() if spec.numpy is not None))
@given(data=st.data())
@settings(max_examples=15)
def test_forward_agrees_with_numpy(name, data):
    # the gradient tests check derivatives of our forward; this checks the forward is NumPy's function
    spec = ALL_SPECS[name]
    case = data.draw(spec.cases)
    out = spec.fn(*case.args, **case.kwargs)
    want = np.asarray(spec.numpy(*case.args, **case.kwargs))
    assert out.shape == want.shape and out.dtype == want.dtype, f"{name}: {out.shape} {out.dtype}, numpy {want.shape} {want.dtype}"
    np.testing.assert_allclose(out.data, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(OP_SPECS))
@given(data=st.data())
@settings(max_examples=10)
def test_each_vjp_returns_one_gradient_per_input_of_its_shape(name, data):
    # the VJP itself, before the engine reduces anything: one entry per input, each
    # broadcastable from that input's shape (the engine sums broadcast axes away)
    spec = OP_SPECS[name]
    case = data.draw(spec.cases)
    op = ag.OPS[name]
    y = np.asarray(op.forward(*case.args, **case.kwargs))
    params = dict(case.kwargs)
    if op.wants_needs:
        params["needs"] = [i in case.wrt for i in range(len(case.args))]
    grads = op.vjp(RAW_OPS, np.ones_like(y), y, *case.args, **params)
    grads = grads if isinstance(grads, tuple) else (grads,)
    assert len(grads) == len(case.args), f"{name}: {len(grads)} gradients for {len(case.args)} inputs"
    for i in case.wrt:
        g, x = np.asarray(grads[i]), np.asarray(case.args[i])
        assert np.broadcast_shapes(g.shape, x.shape) == g.shape, f"{name}: gradient {g.shape} for input {x.shape}"


# --- single ops, edge cases the table's strategies do not reach ---------------------

@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.longdouble])
def test_sigmoid_is_exact_far_out_in_every_float_dtype(dtype, recwarn):
    info = np.finfo(dtype)
    x = np.array([-0.9 * np.log(info.max), -20.0, 0.0, 20.0, np.log(info.max)], dtype=dtype)
    y = ag.sigmoid(x).data
    assert y.dtype == dtype and np.all(np.isfinite(y))
    wide = x[:2].astype(np.longdouble)
    exact = 1 / (1 + np.exp(-wide))  # no overflow in long double this far out
    np.testing.assert_allclose(y[:2], exact.astype(dtype), rtol=10 * float(info.eps))
    assert y[2] == 0.5 and y[4] == 1.0
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_softmax_cross_entropy_backward_uses_the_labels_its_forward_saw():
    x = ag.Tensor(np.zeros((2, 3)), requires_grad=True)
    t = np.array([0, 1])
    loss = ag.softmax_cross_entropy(x, t)
    t[0] = -1  # changed in place after the forward: must neither index the last class nor fail
    loss.backward()
    np.testing.assert_allclose(x.grad, (np.full((2, 3), 1 / 3) - np.eye(3)[[0, 1]]) / 2)


def test_softmax_cross_entropy_reuses_its_forward_only_in_a_plain_backward():
    rng = np.random.default_rng(0)
    x = ag.Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    loss = ag.softmax_cross_entropy(x, np.array([0, 2, 1, 0]))
    assert loss.node.extra[0].shape == (4, 3)  # the log-probabilities, kept for backward
    g1, = ag.grad(loss, [x], create_graph=True)  # differentiable: computed from x, not from _saved
    assert ag.gradcheck(lambda z: ag.sum(ag.grad(ag.softmax_cross_entropy(z, np.array([0, 2, 1, 0])), [z],
                                                 create_graph=True)[0] ** 2), [x.data])
    loss.backward()
    np.testing.assert_allclose(x.grad, g1.data, rtol=1e-12)
    assert loss.node.extra is None  # freed with the graph
