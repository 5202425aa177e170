"""The function transforms against references: random compositions of ops, their
gradients, Jacobians, Hessians and Hessian-vector products against loops of the
engine's ag.grad, vmap against a Python loop, nesting, pytrees, argnums, has_aux,
and the kinds of the results (arrays for arrays, tensors for tensors)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd_np as ag
from autograd_np import func

UNARY = [ag.sin, ag.tanh, ag.sigmoid, ag.exp, lambda v: v * v, ag.softplus, lambda v: ag.cumsum(v, axis=-1),
         lambda v: ag.softmax(v, axis=-1), lambda v: ag.log1p(v * v)]


@st.composite
def programs(draw):
    """A random composition R^n -> R^m: unary ops, products and matmuls with fixed matrices."""
    n, m = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 16)))
    steps = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["unary", "matmul", "mix"]))
        steps.append((kind, draw(st.integers(0, len(UNARY) - 1)), rng.standard_normal((n, n)) / 2))
    out = rng.standard_normal((n, m)) / 2

    def f(x):
        for kind, k, w in steps:
            if kind == "unary":
                x = UNARY[k](x)
            elif kind == "matmul":
                x = x @ w
            else:
                x = x * ag.cos(x @ w)
        return x @ out
    return f, rng.standard_normal(n), m


def _rows_by_grad(f, x):
    """The Jacobian, one ag.grad per output element: the engine's reverse mode, in a loop."""
    t = ag.Tensor(x, requires_grad=True)
    y = f(t)
    rows = []
    for i in range(y.size):
        seed = np.zeros(y.shape)
        seed.flat[i] = 1.0
        (g,) = ag.grad(y, [t], grad_outputs=[seed], retain_graph=True)
        rows.append(g.data)
    return np.stack(rows).reshape(y.shape + x.shape)


@given(programs())
@settings(max_examples=30)
def test_jacobians_of_random_compositions_equal_loops_of_ag_grad(program):
    f, x, _ = program
    want = _rows_by_grad(f, x)
    for transform in (ag.jacrev, ag.jacfwd, ag.jacobian):
        np.testing.assert_allclose(transform(f)(x), want, rtol=1e-10, atol=1e-12, err_msg=transform.__name__)


@given(programs())
@settings(max_examples=20)
def test_hessians_and_hvps_of_random_compositions_equal_loops_of_ag_grad(program):
    f, x, _ = program

    def scalar(v):
        return ag.sum(ag.sin(f(v)))

    t = ag.Tensor(x, requires_grad=True)
    (g,) = ag.grad(scalar(t), [t], create_graph=True)
    want = np.stack([ag.grad(g[i], [t], retain_graph=True)[0].data for i in range(x.size)])
    np.testing.assert_allclose(ag.hessian(scalar)(x), want, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(func.jacrev(func.jacfwd(scalar))(x), want, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(func.jacrev(func.grad(scalar))(x), want, rtol=1e-9, atol=1e-11)
    v = np.linspace(-1, 1, x.size)
    (hv,) = ag.hvp(scalar, (x,), (v,))
    np.testing.assert_allclose(hv, want @ v, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(func.grad(func.grad(lambda s: scalar(x + s * v)))(0.0), v @ want @ v, rtol=1e-8,
                               atol=1e-11)


@given(programs(), st.integers(1, 4))
@settings(max_examples=20)
def test_vmap_of_random_compositions_equals_a_loop(program, batch):
    f, x, _ = program
    xs = np.stack([x * (1 + 0.2 * k) for k in range(batch)])
    np.testing.assert_allclose(ag.vmap(f)(xs), np.stack([f(v).data for v in xs]), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(ag.vmap(ag.jacrev(f))(xs), np.stack([ag.jacrev(f)(v) for v in xs]), rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(ag.vmap(f, in_axes=1, out_axes=1)(xs.T), np.stack([f(v).data for v in xs]).T,
                               rtol=1e-12, atol=1e-13)


def test_grad_and_value_and_grad_argnums_pytrees_and_aux():
    def f(p, x, scale):
        return ag.sum(ag.tanh(x @ p["w"] + p["b"][0])) * scale, {"norm": ag.sum(p["w"] * p["w"])}

    p = {"w": np.arange(6.0).reshape(3, 2) / 10, "b": [np.array([0.1, -0.2])]}
    x, scale = np.array([0.5, -1.0, 2.0]), 3.0
    (value, aux), grads = func.value_and_grad(f, argnums=(0, 2), has_aux=True)(p, x, scale)
    w, b = ag.Tensor(p["w"], requires_grad=True), ag.Tensor(p["b"][0], requires_grad=True)
    s = ag.Tensor(np.array(scale), requires_grad=True)
    ref = f({"w": w, "b": [b]}, x, s)[0]
    gw, gb, gs = ag.grad(ref, [w, b, s])
    assert isinstance(grads, tuple) and set(grads[0]) == {"w", "b"} and isinstance(grads[0]["b"], list)
    np.testing.assert_allclose(grads[0]["w"], gw.data)
    np.testing.assert_allclose(grads[0]["b"][0], gb.data)
    np.testing.assert_allclose(grads[1], gs.data)
    np.testing.assert_allclose(value, ref.data)
    np.testing.assert_allclose(aux["norm"], np.sum(p["w"] ** 2))
    g, aux2 = func.grad(f, argnums=-1, has_aux=True)(p, x, scale)
    np.testing.assert_allclose(g, gs.data)
    assert type(g) is np.ndarray and type(value) is np.ndarray


def test_results_are_arrays_for_arrays_and_tensors_for_tensors():
    f = lambda v: ag.sum(v ** 3)  # noqa: E731
    assert type(func.grad(f)(np.ones(2))) is np.ndarray
    assert type(func.grad(f)(ag.Tensor(np.ones(2)))) is ag.Tensor
    assert type(ag.vmap(lambda v: v * 2)(np.ones((2, 2)))) is np.ndarray
    assert type(ag.vmap(lambda v: v * 2)(ag.Tensor(np.ones((2, 2))))) is ag.Tensor
    out, tangent = ag.jvp(f, (np.ones(2),), (np.ones(2),))
    assert type(out) is np.ndarray and type(tangent) is np.ndarray


def test_transforms_of_tensors_that_require_grad_stay_differentiable():
    """A gradient penalty: the functional gradient of a tensor that requires grad is part of
    the graph, so ag.grad differentiates it again (and the grad of a grad is the Hessian)."""
    w = ag.Tensor(np.array([0.3, -0.7, 1.1]), requires_grad=True)
    g = func.grad(lambda v: ag.sum(ag.sin(v) * v))(w)
    assert g.requires_grad
    (h,) = ag.grad(ag.sum(g * g), [w])
    x = w.data
    d1 = np.cos(x) * x + np.sin(x)
    d2 = -np.sin(x) * x + 2 * np.cos(x)
    np.testing.assert_allclose(h.data, 2 * d1 * d2)
    vmapped = ag.vmap(lambda v: ag.sum(v * w))(np.eye(3))
    (gw,) = ag.grad(ag.sum(vmapped), [w])
    np.testing.assert_allclose(gw.data, np.ones(3))


def test_vjp_function_is_reusable_and_jvp_transposes_it():
    x = np.array([0.2, -0.4, 0.9])
    f = lambda v: ag.stack([ag.sum(v * v), ag.prod(v), ag.max(v)])  # noqa: E731
    out, pull = ag.vjp(f, x)
    j = ag.jacobian(f)(x)
    for u in np.eye(3):
        (g,) = pull(u)
        np.testing.assert_allclose(g, u @ j)
    for t in np.eye(3):
        np.testing.assert_allclose(ag.jvp(f, (x,), (t,))[1], j @ t)


def test_nested_vmap_and_grad_of_vmap():
    xs = np.arange(24.0).reshape(2, 3, 4) / 10
    f = lambda v: ag.sum(ag.sin(v) * v)  # noqa: E731
    np.testing.assert_allclose(ag.vmap(ag.vmap(f))(xs), [[f(v).data for v in row] for row in xs], rtol=1e-12)
    per = ag.vmap(ag.vmap(func.grad(f)))(xs)
    np.testing.assert_allclose(per, np.cos(xs) * xs + np.sin(xs), rtol=1e-12)
    g = func.grad(lambda v: ag.sum(ag.vmap(f)(v)))(xs[0])
    np.testing.assert_allclose(g, np.cos(xs[0]) * xs[0] + np.sin(xs[0]), rtol=1e-12)


def test_grad_inside_vmap_of_a_function_closing_over_a_batched_value():
    ws = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]])
    x = np.array([0.3, -0.2])
    got = ag.vmap(lambda w: func.grad(lambda v: ag.sum(ag.sin(v * w)))(x))(ws)
    np.testing.assert_allclose(got, ws * np.cos(x * ws))


def test_jacobians_of_pytrees_have_output_then_input_axes():
    def f(a, b):
        return {"s": ag.sum(a * b["m"]), "v": a * 2.0}

    a, b = np.array([1.0, 2.0]), {"m": np.array([[3.0, 4.0], [5.0, 6.0]])}
    j = ag.jacrev(f, argnums=(0, 1))(a, b)
    assert j["s"][0].shape == (2,) and j["s"][1]["m"].shape == (2, 2)
    assert j["v"][0].shape == (2, 2) and j["v"][1]["m"].shape == (2, 2, 2)
    np.testing.assert_allclose(j["v"][0], 2 * np.eye(2))
    np.testing.assert_allclose(j["s"][0], b["m"].sum(0))
    fwd = ag.jacfwd(f, argnums=(0, 1))(a, b)
    for key in ("s", "v"):
        for k in (0, 1):
            np.testing.assert_allclose(ag.func.pytrees.leaves(fwd[key][k]), ag.func.pytrees.leaves(j[key][k]))


def test_the_jacobian_of_an_op_without_a_batching_rule_falls_back_to_a_loop():
    # eigh's VJP reads its cotangent's values: a batch of cotangents is refused, and jacrev goes row by row
    a = np.array([[2.0, 0.3], [0.3, 1.0]])
    j = ag.jacrev(lambda m: ag.eigh(m)[0])(a)
    rows = [func.grad(lambda m, i=i: ag.eigh(m)[0][i])(a) for i in range(2)]
    np.testing.assert_allclose(j, np.stack(rows))


def test_transforms_under_no_grad_differentiate_and_give_results_outside_any_graph():
    # as torch.func: the caller's no_grad does not switch the transform off (it would give zeros), a no_grad
    # inside f does (a constant there), and the results are not part of any graph
    w = ag.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    with ag.no_grad():
        np.testing.assert_allclose(func.grad(lambda v: ag.sum(v * v))(np.array([1.0, 2.0])), [2.0, 4.0])
        np.testing.assert_allclose(ag.jvp(lambda v: v * v, (np.array([1.0, 2.0]),), (np.ones(2),))[1], [2.0, 4.0])
        np.testing.assert_allclose(ag.hessian(lambda v: ag.sum(v ** 3))(np.array([1.0, 2.0])), np.diag([6.0, 12.0]))
        g = func.grad(lambda v: ag.sum(v ** 3))(w)
        assert not g.requires_grad
        np.testing.assert_allclose(g.data, [3.0, 12.0])
    inner = func.grad(lambda v: ag.sum(v * ag.no_grad()(lambda u: u * 3.0)(v)))(np.array([1.0]))
    np.testing.assert_allclose(inner, [3.0])


def test_explain_and_pictures_work_on_graphs_recorded_inside_grad_and_jvp():
    seen = {}

    def f(x, w):
        loss = ag.sum(ag.tanh(x @ w["a"]))
        seen["steps"] = ag.explain(loss)
        seen["dot"] = ag.viz.to_dot(loss)
        return loss

    func.grad(f, argnums=(0, 1))(np.ones(2), {"a": np.ones((2, 2))})
    assert [s.op for s in seen["steps"]] == ["sum", "tanh", "matmul"]
    assert [label for label, _, _ in seen["steps"][-1].sent] == ["argument 0", "argument 1['a']"]
    assert "argument 1[&#x27;a&#x27;]" in seen["dot"] or "argument 1['a']" in seen["dot"]
    ag.jvp(lambda v: seen.update(jvp=ag.viz.to_dot(ag.sin(v) * v)) or ag.sin(v), (np.ones(2),), (np.ones(2),))
    assert "sin" in seen["jvp"] and "mul" in seen["jvp"]


def test_hessians_jacobians_and_hvps_inside_vmap_equal_a_loop():
    f = lambda v: ag.sum(ag.sin(v) * v ** 2)  # noqa: E731
    g = lambda v: ag.tanh(v) * v[0]  # noqa: E731
    xs = np.random.default_rng(0).standard_normal((3, 4))
    hessians = np.stack([ag.hessian(f)(x) for x in xs])
    np.testing.assert_allclose(ag.vmap(ag.hessian(f))(xs), hessians, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ag.vmap(ag.jacfwd(g))(xs), np.stack([ag.jacfwd(g)(x) for x in xs]), rtol=1e-12)
    np.testing.assert_allclose(ag.vmap(lambda x, v: ag.hvp(f, (x,), (v,))[0])(xs, xs[::-1]),
                               np.einsum("bij,bj->bi", hessians, xs[::-1]), rtol=1e-12, atol=1e-14)


def test_the_namespace_and_the_engines_grad():
    import autograd_np.func as by_path
    from autograd_np.func import vmap as imported
    assert by_path is ag.func and imported is ag.vmap and ag.jacobian is func.jacobian
    x = ag.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (g,) = ag.grad(ag.sum(x * x), [x])  # the engine's form is unchanged
    np.testing.assert_allclose(g.data, [2.0, 4.0])
    with pytest.raises(TypeError):
        ag.grad(lambda v: v)  # (the functional one is ag.func.grad)
