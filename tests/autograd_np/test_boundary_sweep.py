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
