"""Fixtures shared by the engine tests."""
import pytest

import autograd_np as ag
from autograd_np import core as engine


@pytest.fixture
def wrong_square_op():
    """A deliberately wrong op (``x**2`` with derivative ``3x``), registered only for one test."""
    name = "test_wrong_square"

    @ag.defop(name, "y = x**2;  gx = gy * 3x  (wrong on purpose)")
    def square(x):
        return x * x

    @square.defvjp
    def _square_vjp(F, gy, y, x):
        return gy * 3 * x   # should be 2 * x

    yield square
    del engine.OPS[name]
    delattr(engine.RAW_OPS, name)
    delattr(engine.GRAPH_OPS, name)
