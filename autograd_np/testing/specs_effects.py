"""Op-table entries for the ops with effects (``ops/effects.py``).

Their gradient checks need a forward that gives the same numbers every time:
``dropout_mask`` draws from a stand-in generator that always returns the same
numbers, and ``batch_norm``'s running statistics are updated by every call but
do not enter its training-mode output."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from .. import ops
from .cases import Case, OpSpec
from .strategies import arrays


class RepeatingGenerator:
    """A stand-in for ``np.random.Generator`` whose ``random(shape)`` always gives
    the same numbers (seeded by the shape), so a forward can be differenced."""

    def random(self, shape):
        return np.random.default_rng(sum(shape) + 7).random(shape)


@st.composite
def _dropout_cases(draw):
    x = draw(arrays(draw(st.sampled_from([(3,), (2, 3), (2, 2, 2)]))))
    return Case((x,), {"p": draw(st.sampled_from([0.0, 0.3, 0.5])), "rng": RepeatingGenerator()})


@st.composite
def _batch_norm_cases(draw):
    shape = draw(st.sampled_from([(4, 3), (3, 2), (2, 3, 2, 2)]))
    channels = shape[1]
    x = draw(arrays(shape))
    gamma, beta = draw(arrays((channels,), domain="positive")), draw(arrays((channels,)))
    kwargs = {"running_mean": np.zeros(channels), "running_var": np.ones(channels),
              "training": draw(st.booleans())}
    return Case((x, gamma, beta), kwargs, wrt=(0, 1, 2))


def _dropout_applied(x, p=0.5, rng=None):
    return x * ops.dropout_mask(x, p=p, rng=rng)


EFFECTS_SPECS = {
    "dropout_mask": OpSpec(ops.dropout_mask, _dropout_cases(), "any float array; p in [0, 1); a generator"),
    "batch_norm": OpSpec(ops.batch_norm, _batch_norm_cases(),
                         "(N, C) or (N, C, H, W), gamma and beta (C,), running statistics (C,); train or eval"),
}
EFFECTS_COMPOSITES = {
    "dropout": OpSpec(_dropout_applied, _dropout_cases(), "x * dropout_mask(x): dropout as nets applies it",
                      composed="x * dropout_mask(x, p, rng)", family="effects"),
}
