"""The boundary sweep: every op of the table at its boundary points
(``OpSpec.boundary``: 0, +-0, +-inf, NaN, domain edges, kinks, ties, singular
matrices, empty arrays).  The forward agrees with NumPy; no derivative, first
or second, is NaN where the one-sided differences agree, and each equals them
there; and (where torch is installed) each equals PyTorch's in float64."""
import numpy as np
import pytest

from autograd_np.testing import COMPOSITE_SPECS, OP_SPECS
from autograd_np.testing.cases import Point
from autograd_np.testing.sweep import check_point, check_torch

ALL_SPECS = {**OP_SPECS, **COMPOSITE_SPECS}
SWEPT = sorted(name for name, spec in ALL_SPECS.items() if not isinstance(spec.boundary, str))


def test_every_op_has_boundary_points_or_says_why_not():
    missing = sorted(name for name, spec in ALL_SPECS.items() if spec.boundary is None)
    assert not missing, f"ops without boundary points (add them, or a reason, in testing/boundary_points*.py): {missing}"
    for name, spec in ALL_SPECS.items():
        if isinstance(spec.boundary, str):
            assert len(spec.boundary.split()) >= 3, f"{name}: say why it has no boundary points"
        else:
            assert spec.boundary and all(isinstance(p, Point) for p in spec.boundary), name


def _report(spec, check):
    return [f"{point}: {problem}" for point in spec.boundary for problem in check(point)]


@pytest.mark.parametrize("name", SWEPT)
def test_op_at_its_boundary_points(name):
    spec = ALL_SPECS[name]
    problems = _report(spec, lambda point: check_point(spec, point))
    assert not problems, f"{name}:\n" + "\n".join(problems)


def test_every_op_has_a_torch_reference_or_says_why_not():
    pytest.importorskip("torch")
    from autograd_np.testing.torch_refs import TORCH
    assert sorted(set(SWEPT) - set(TORCH)) == []


@pytest.mark.parametrize("name", SWEPT)
def test_op_at_its_boundary_points_agrees_with_torch(name):
    pytest.importorskip("torch")
    from autograd_np.testing.torch_refs import TORCH
    ref = TORCH.get(name)
    if isinstance(ref, str) or ref is None:
        return  # no PyTorch counterpart (the reason is in TORCH; the test above requires an entry)
    spec = ALL_SPECS[name]
    problems = _report(spec, lambda point: check_torch(spec, point, ref))
    assert not problems, f"{name} against PyTorch:\n" + "\n".join(problems)


# --- the sweep itself can fail --------------------------------------------------------

def _spec(fn, numpy=None):
    from autograd_np.testing import OpSpec
    return OpSpec(fn, None, "test", numpy=numpy)


def _at(*values, **flags):
    return Point(tuple(np.array(v) for v in values), wrt=tuple(range(len(values))), **flags)


def test_the_sweep_flags_a_nan_gradient_where_the_derivative_exists():
    import autograd_np as ag
    spec = _spec(lambda x: ag.sqrt(x * x * x * x))  # x**2, but its chain rule is inf * 0 at 0
    problems = check_point(spec, _at(0.0))
    assert problems and "is nan, but the one-sided differences agree" in problems[0]
    assert check_point(spec, _at(1.5)) == []


def test_the_sweep_flags_a_wrong_gradient(wrong_square_op):
    problems = check_point(_spec(wrong_square_op), _at(1.0))
    assert problems and problems[0].startswith("the gradient of input 0 at () is 0.377"), problems


@pytest.fixture
def graph_cutting_square():
    """``x**2`` whose VJP reads x's value (right in a plain backward; under create_graph
    the gradient no longer depends on x: second derivative 0, not 2)."""
    import autograd_np as ag
    from autograd_np import core as engine
    from autograd_np.ops._util import value

    @ag.defop("test_graph_cutting_square", "y = x**2;  gx = gy * 2 value(x)  (cuts the graph on purpose)")
    def square(x):
        return x * x

    @square.defvjp
    def _vjp(F, gy, y, x):
        return gy * (2 * value(x))

    yield square
    del engine.OPS["test_graph_cutting_square"]
    delattr(engine.RAW_OPS, "test_graph_cutting_square")
    delattr(engine.GRAPH_OPS, "test_graph_cutting_square")


def test_the_sweep_flags_a_wrong_second_derivative(graph_cutting_square):
    problems = check_point(_spec(graph_cutting_square), _at(1.0))
    assert problems and all(p.startswith("the second derivative of input 0 at () is 0,") for p in problems), problems


def test_the_sweep_flags_a_forward_that_differs_from_numpy_or_is_not_finite():
    import autograd_np as ag
    assert "differs from NumPy" in check_point(_spec(ag.sin, numpy=np.cos), _at(0.5))[0]
    assert "not finite" in check_point(_spec(ag.log), _at(0.0, finite=True))[0]


def test_the_sweep_flags_a_point_that_should_raise_and_does_not():
    import autograd_np as ag
    assert "did not raise" in check_point(_spec(ag.inv), Point((np.eye(2),), raises="inv"))[0]
    assert check_point(_spec(ag.inv), Point((np.zeros((2, 2)),), raises="inv.*ingular")) == []


def test_partials_exempt_a_tie_from_the_value_check_only():
    import autograd_np as ag
    tie = np.array([2.0, 2.0, 2.0])
    assert check_point(_spec(ag.median), Point((tie,)))  # each partial is 0; the gradient goes to the middle
    assert check_point(_spec(ag.median), Point((tie,), partials="a tie")) == []


def test_the_torch_comparison_flags_a_different_convention():
    torch = pytest.importorskip("torch")
    import autograd_np as ag
    problems = check_torch(_spec(ag.fmax), _at(1.0, 1.0), torch.maximum)  # fmax: all to a; maximum: split
    assert problems and "PyTorch's" in problems[0]
    assert check_torch(_spec(ag.maximum), _at(1.0, 1.0), torch.maximum) == []


def test_the_reliability_guide_states_the_sweeps_counts():
    from pathlib import Path
    guide = Path(__file__).parents[2] / "docs" / "guides" / "reliability.md"
    text = " ".join(guide.read_text(encoding="utf-8").split())
    points = [(name, p) for name, spec in ALL_SPECS.items() for p in spec.boundary]
    assert f"{len(ALL_SPECS)} entries lists its boundary points (`OpSpec.boundary`, {len(points):,} in all)" in text
    pytest.importorskip("torch")
    from autograd_np.testing.torch_refs import TORCH
    compared = sum(1 for name, p in points if not p.torch and not p.raises and callable(TORCH[name]))
    differ = sum(1 for _, p in points if p.torch)
    assert f"PyTorch's ({compared:,} points; {differ} differ on purpose" in text
