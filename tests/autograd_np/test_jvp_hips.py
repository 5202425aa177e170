"""HIPS autograd's systematic tests in forward mode: its ``check_grads`` checks both
modes, and the combinations ``test_numpy_api.py`` runs through NumPy's functions
(unary and binary ufuncs, statistics, transpose, dot, tensordot, maximum, sort,
partition, einsum, indexing...) are run here again with that module's ``check``
replaced by a forward-mode one: the JVP against central differences and against
the VJP (<u, J t> = <J^T u, t>), and forward over reverse against differences of
the gradient, in float64."""
import numpy as np
import pytest

import autograd_np as ag
from tests.autograd_np import test_numpy_api as hips

rng = np.random.default_rng(7)


def _leaves(x):
    if isinstance(x, (tuple, list)):
        return [v for item in x for v in _leaves(item)]
    return [np.asarray(x.data if isinstance(x, ag.Tensor) else x, dtype=np.float64)]


def _along(fn, args, tangents, h):
    step = h * max(1.0, max(float(np.max(np.abs(a), initial=0.0)) for a in args))
    plus = _leaves(fn(*[np.asarray(a + step * t) for a, t in zip(args, tangents)]))
    minus = _leaves(fn(*[np.asarray(a - step * t) for a, t in zip(args, tangents)]))
    return [(p - m) / (2 * step) for p, m in zip(plus, minus)]


def check_forward(fn, *args):
    """HIPS's check_grads in forward mode, to second order (forward over reverse)."""
    args = tuple(np.array(a, dtype=np.float64) for a in args)
    tangents = tuple(rng.standard_normal(a.shape) for a in args)
    out, tangent = ag.jvp(fn, args, tangents)
    (numeric,) = _along(fn, args, tangents, 1e-6)
    scale = max(1.0, float(np.max(np.abs(numeric), initial=0.0)))
    np.testing.assert_allclose(tangent, numeric, rtol=1e-4, atol=1e-5 * scale)
    u = rng.standard_normal(np.shape(out))
    _, pull = ag.vjp(fn, *args)
    right = sum(float(np.sum(g * t)) for g, t in zip(pull(u), tangents))
    assert np.isclose(float(np.sum(u * tangent)), right, rtol=1e-8, atol=1e-10)
    nums = tuple(range(len(args)))

    def gradient(*xs):
        return ag.func.grad(lambda *e: ag.sum(fn(*e) * u), argnums=nums)(*xs)

    _, second = ag.jvp(gradient, args, tangents)
    for got, want in zip(_leaves(second), _along(gradient, args, tangents, 1e-5)):
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4 * max(1.0, float(np.max(np.abs(want),
                                                                                                initial=0.0))))


@pytest.fixture(autouse=True)
def forward_mode(monkeypatch):
    monkeypatch.setattr(hips, "check", check_forward)


@pytest.mark.parametrize("fn, lims", hips.UNARY, ids=[getattr(f, "__name__", str(i)) for i, (f, _) in
                                                       enumerate(hips.UNARY)])
def test_hips_unary_ufuncs_forward(fn, lims):
    hips.test_hips_unary_ufuncs(fn, lims)


@pytest.mark.parametrize("fn, lims_a, lims_b, distinct", hips.BINARY,
                         ids=[f"{getattr(f, '__name__', f)}-{i}" for i, (f, *_) in enumerate(hips.BINARY)])
def test_hips_binary_ufuncs_forward(fn, lims_a, lims_b, distinct):
    hips.test_hips_binary_ufuncs(fn, lims_a, lims_b, distinct)


@pytest.mark.parametrize("fn", [np.max, np.mean, np.min, np.sum, np.prod, np.var, np.std])
def test_hips_statistics_forward(fn):
    hips.test_hips_statistics(fn)
    if fn in (np.var, np.std):
        hips.test_hips_var_and_std_with_ddof(fn)


@pytest.mark.parametrize("test", [hips.test_hips_transpose_dot_tensordot,
                                  hips.test_hips_maximum_minimum_sort_partition_atleast_trace,
                                  hips.test_hips_einsum, hips.test_hips_numpy_functions], ids=lambda t: t.__name__)
def test_hips_combinations_forward(test):
    test()
