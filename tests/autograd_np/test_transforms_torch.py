"""The function transforms against PyTorch's torch.func (skipped where torch is not
installed): the same functions, written once for each library, give the same
gradients, JVPs, VJPs, Jacobians, Hessians and per-example gradients, in float64."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import autograd_np as ag

torch = pytest.importorskip("torch")
tf = pytest.importorskip("torch.func")

# (name, our f, torch's f): functions of one vector
FUNCTIONS = [
    ("tanh-matmul", lambda lib, x, w: lib["tanh"](x @ w) * x[0]),
    ("softmax-log", lambda lib, x, w: lib["log_softmax"](x * 2.0) + lib["exp"](x @ w)),
    ("norms", lambda lib, x, w: lib["sqrt"]((x @ w) ** 2 + 1.0) / (1.0 + lib["sigmoid"](x).sum())),
    ("cumulative", lambda lib, x, w: lib["cumsum"](lib["sin"](x) * lib["cos"](x @ w))),
]
OURS = {"tanh": ag.tanh, "exp": ag.exp, "sqrt": ag.sqrt, "sigmoid": ag.sigmoid, "sin": ag.sin, "cos": ag.cos,
        "log_softmax": lambda v: ag.log_softmax(v, axis=-1), "cumsum": lambda v: ag.cumsum(v, axis=-1)}
THEIRS = {"tanh": torch.tanh, "exp": torch.exp, "sqrt": torch.sqrt, "sigmoid": torch.sigmoid, "sin": torch.sin,
          "cos": torch.cos, "log_softmax": lambda v: torch.log_softmax(v, dim=-1),
          "cumsum": lambda v: torch.cumsum(v, dim=-1)}


def _pair(fn, w):
    ours = lambda x: fn(OURS, x, w)  # noqa: E731
    theirs = lambda x: fn(THEIRS, x, torch.tensor(w))  # noqa: E731
    return ours, theirs


def _t(a):
    return torch.tensor(np.asarray(a), dtype=torch.float64)


@pytest.mark.parametrize("name,fn", FUNCTIONS)
@given(seed=st.integers(0, 2 ** 16))
@settings(max_examples=10)
def test_jacobians_hessians_jvps_vjps_agree_with_torch_func(name, fn, seed):
    rng = np.random.default_rng(seed)
    x, w, t = rng.standard_normal(3), rng.standard_normal((3, 3)) / 2, rng.standard_normal(3)
    ours, theirs = _pair(fn, w)
    for mine, torch_one in ((ag.jacrev, tf.jacrev), (ag.jacfwd, tf.jacfwd), (ag.jacobian, tf.jacrev)):
        np.testing.assert_allclose(mine(ours)(x), torch_one(theirs)(_t(x)).numpy(), rtol=1e-10, atol=1e-12)
    scalar = lambda v: ag.sum(ag.sin(ours(v)))  # noqa: E731
    torch_scalar = lambda v: torch.sin(theirs(v)).sum()  # noqa: E731
    np.testing.assert_allclose(ag.hessian(scalar)(x), tf.hessian(torch_scalar)(_t(x)).numpy(), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(ag.func.grad(scalar)(x), tf.grad(torch_scalar)(_t(x)).numpy(), rtol=1e-12, atol=1e-13)
    out, tangent = ag.jvp(ours, (x,), (t,))
    their_out, their_tangent = tf.jvp(theirs, (_t(x),), (_t(t),))
    np.testing.assert_allclose(out, their_out.numpy(), rtol=1e-12)
    np.testing.assert_allclose(tangent, their_tangent.numpy(), rtol=1e-10, atol=1e-12)
    _, pull = ag.vjp(ours, x)
    _, their_pull = tf.vjp(theirs, _t(x))
    np.testing.assert_allclose(pull(t)[0], their_pull(_t(t))[0].numpy(), rtol=1e-10, atol=1e-12)


def test_per_example_gradients_of_an_mlp_agree_with_torch_func():
    rng = np.random.default_rng(0)
    params = {"w1": rng.standard_normal((5, 8)) / 2, "b1": rng.standard_normal(8) / 10,
              "w2": rng.standard_normal((8, 3)) / 2, "b2": np.zeros(3)}
    x, labels = rng.standard_normal((6, 5)), rng.integers(0, 3, 6)

    def loss(p, xi, ti):
        h = ag.relu(xi @ p["w1"] + p["b1"])
        return ag.softmax_cross_entropy(h @ p["w2"] + p["b2"], ti)

    def torch_loss(p, xi, ti):
        h = torch.relu(xi @ p["w1"] + p["b1"])
        return torch.nn.functional.cross_entropy((h @ p["w2"] + p["b2"])[None], ti[None])

    ours = ag.vmap(ag.func.grad(loss), in_axes=(None, 0, 0))(params, x, labels)
    theirs = tf.vmap(tf.grad(torch_loss), in_dims=(None, 0, 0))({k: _t(v) for k, v in params.items()}, _t(x),
                                                                torch.tensor(labels))
    for k in params:
        np.testing.assert_allclose(ours[k], theirs[k].numpy(), rtol=1e-10, atol=1e-12, err_msg=k)
