"""gradcheck and check_graph at every magnitude: the difference step scales with
|x| and the tolerance with the rounding error of the values differenced, so a
right gradient passes at 1e8 as at 1 (false failures were reported on
``sum(2 * x)``), and a wrong one fails at every magnitude."""
import numpy as np
import pytest

import autograd_np as ag

MAGNITUDES = [1e-8, 1.0, 1e4, 1e8, 1e12, 1e15, -1e8]
LARGE = MAGNITUDES[1:]  # (below 1, atol bounds the absolute error: 1e-5 of a 1e-8 gradient passes)
RIGHT = {  # functions whose gradient is right, for every magnitude
    "sum(2x)": lambda v: ag.sum(2 * v),
    "sum(x*x)": lambda v: ag.sum(v * v),
    "x*x*3": lambda v: v * v * 3.0,
    "sum(x) + 1e10": lambda v: ag.sum(v) + 1e10,
    "mean(x**3)": lambda v: ag.mean(v ** 3),
}


@pytest.fixture
def off_by(request):
    """``mul`` whose gradient is ``factor`` times the right one, while the test runs."""
    op = ag.OPS["mul"]
    right = op.vjp

    def wrong(F, gy, y, a, b, needs):
        ga, gb = right(F, gy, y, a, b, needs)
        return (None if ga is None else ga * request.param), (None if gb is None else gb * request.param)

    op.vjp = wrong
    yield request.param
    op.vjp = right


def _points(scale):
    return np.array([1.0, -0.5, 2.0]) * scale


@pytest.mark.parametrize("scale", MAGNITUDES)
@pytest.mark.parametrize("name", sorted(RIGHT))
def test_gradcheck_passes_right_gradients_at_every_magnitude(name, scale):
    assert ag.gradcheck(RIGHT[name], [_points(scale)])


@pytest.mark.parametrize("scale", MAGNITUDES)
@pytest.mark.parametrize("name", sorted(RIGHT))
def test_check_graph_passes_right_gradients_at_every_magnitude(name, scale):
    x = ag.Tensor(_points(scale), requires_grad=True)
    out = RIGHT[name](x)
    report = ag.check_graph(ag.sum(out) if out.ndim else out)
    assert report.ok, str(report)


@pytest.mark.parametrize("off_by", [1.5, 1.01], indirect=True)
@pytest.mark.parametrize("scale", LARGE)
def test_gradcheck_still_fails_a_wrong_gradient_at_every_magnitude(off_by, scale):
    with pytest.raises(ag.GradcheckError):
        ag.gradcheck(lambda v: ag.sum(v * v), [_points(scale)])


@pytest.mark.parametrize("off_by", [1.5, 1.01], indirect=True)
@pytest.mark.parametrize("scale", LARGE)
def test_check_graph_still_fails_a_wrong_gradient_at_every_magnitude(off_by, scale):
    x = ag.Tensor(_points(scale), requires_grad=True)
    report = ag.check_graph(ag.sum(x * x))
    assert [row.op for row in report.failures] == ["mul"], str(report)


def test_the_step_scales_with_x_and_the_message_states_the_rounding_allowance():
    calls = []

    def f(v):
        calls.append(float(v.data[0]))
        return ag.sum(v * 0.0) + 2 * v[0] + 1.0  # gradient [2, 0]: analytic 2 + 0 * 1, right
    assert ag.gradcheck(f, [np.array([1e8, 0.0])])
    steps = sorted(abs(c - 1e8) for c in calls if c != 1e8)
    assert steps[-1] == pytest.approx(1e-6 * 1e8, rel=1e-6)  # eps * |x|, not eps


def test_gradgradcheck_at_large_values():
    assert ag.gradgradcheck(lambda v: ag.sum(v * v * v), [_points(1e6)])
