"""Op-table entries for the convolution and pooling ops (``ops/conv.py``).

Shapes stay small (sides up to 5, one or two images and channels) so the
gradient checks, first and second order, take seconds; the geometry is what
varies: kernels up to 3, strides 1-2 (floored output sides included), pads
0-1, rectangular pairs."""
from __future__ import annotations

from hypothesis import strategies as st

from .. import ops
from ..ops.conv import window
from .cases import Case, OpSpec
from .strategies import arrays, distinct_arrays


def _side_pair(low, high):
    """An int or an (h, w) pair, as the ops accept both."""
    one = st.integers(low, high)
    return st.one_of(one, st.tuples(one, one))


def _pairs(v):
    return v if isinstance(v, tuple) else (v, v)


@st.composite
def _geometry(draw, channels_out=False, pool=False):
    """(x shape, kernel, stride, pad) with the kernel fitting the padded input
    (pooling: stride None or 1-2, pad at most half the kernel)."""
    kernel = draw(_side_pair(1, 3))
    kh, kw = _pairs(kernel)
    if pool:
        pad = draw(st.tuples(st.integers(0, kh // 2), st.integers(0, kw // 2)))
        stride = draw(st.none() | _side_pair(1, 2))
    else:
        pad, stride = draw(_side_pair(0, 1)), draw(_side_pair(1, 2))
    ph, pw = _pairs(pad)
    h = draw(st.integers(max(1, kh - 2 * ph), 5))
    w = draw(st.integers(max(1, kw - 2 * pw), 5))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), h, w)
    return shape, kernel, stride, pad


@st.composite
def conv_cases(draw):
    shape, kernel, stride, pad = draw(_geometry())
    kh, kw = _pairs(kernel)
    out_channels = draw(st.integers(1, 2))
    x = draw(arrays(shape))
    W = draw(arrays((out_channels, shape[1], kh, kw)))
    if draw(st.booleans()):
        return Case((x, W, draw(arrays((out_channels,)))), {"stride": stride, "pad": pad}, wrt=(0, 1, 2))
    return Case((x, W, None), {"stride": stride, "pad": pad}, wrt=(0, 1))


@st.composite
def pool_cases(draw, distinct=False):
    """Max pooling draws distinct values (0.25 apart): no tie within a difference step."""
    shape, kernel, stride, pad = draw(_geometry(pool=True))
    x = draw(distinct_arrays(shape) if distinct else arrays(shape))
    return Case((x,), {"kernel": kernel, "stride": stride, "pad": pad})


@st.composite
def im2col_cases(draw):
    shape, kernel, stride, pad = draw(_geometry())
    return Case((draw(arrays(shape)),), {"kernel": kernel, "stride": stride, "pad": pad})


@st.composite
def col2im_cases(draw):
    shape, kernel, stride, pad = draw(_geometry())
    win = window("col2im", shape, kernel, stride, pad)
    rows = (shape[0] * win.out[0] * win.out[1], shape[1] * win.kernel[0] * win.kernel[1])
    return Case((draw(arrays(rows)),), {"shape": shape, "kernel": kernel, "stride": stride, "pad": pad})


CONV_SPECS: dict = {  # op name -> OpSpec, merged into OP_SPECS
    "conv2d": OpSpec(ops.conv2d, conv_cases(), "x (N, C, H, W), W (O, C, kh, kw), bias (O,) or None; "
                                              "kernels 1-3, strides 1-2, pads 0-1, ints or pairs"),
    "max_pool2d": OpSpec(ops.max_pool2d, pool_cases(distinct=True),
                         "distinct values (no ties); kernels 1-3, stride None or 1-2, pad up to half the kernel"),
    "im2col": OpSpec(ops.im2col, im2col_cases(), "(N, C, H, W); kernels 1-3, strides 1-2, pads 0-1"),
    "col2im": OpSpec(ops.col2im, col2im_cases(), "rows of im2col's shape for the drawn image and window"),
}
CONV_COMPOSITES: dict = {  # composite name -> OpSpec, merged into COMPOSITE_SPECS
    "avg_pool2d": OpSpec(ops.avg_pool2d, pool_cases(), "kernels 1-3, stride None or 1-2, pad up to half the kernel",
                         composed="mean of im2col's rows per window (zero padding counted)"),
}
