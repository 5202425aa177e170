"""Boundary points of the shape, layout and contraction ops: the special values
(0, -0, +-inf, NaN) and empty arrays, for every way of calling each.  A layout
op's gradient only moves values around, so it must stay finite (``grad_finite``)
even where the values are not; a contraction multiplies, so inf * 0 is NaN there
as in the forward, and PyTorch's NaN pattern is the reference."""
from __future__ import annotations

import numpy as np

from .boundary_points_arrays import INF, NAN, SPECIAL, SPECIAL6, P, structural

def _pair(a, b, **kwargs):
    return P(a, b, kwargs=kwargs, wrt=(0, 1), note=f"{np.shape(a)}, {np.shape(b)} {kwargs or ''}")


def _joined(*arrays, **kwargs):
    """A point of an op taking several arrays, all differentiated; the gradient only moves values."""
    return P(*arrays, kwargs=kwargs, wrt=tuple(range(len(arrays))), grad_finite=True,
             note=f"{[np.shape(a) for a in arrays]} {kwargs or ''}")


def _contraction(a, b, empty_a, empty_b, **kwargs):
    return (_pair(a, b, **kwargs), _pair(np.zeros(empty_a), np.zeros(empty_b), **kwargs))


STABLE_SORT = "PyTorch's sort is compared with stable=True"
SHAPE = {
    "reshape": structural({"shape": (3, 2)}, {"shape": (-1,)}, empty_kwargs={"shape": (0, 5)}),
    "transpose": structural({"axes": None}, {"axes": (1, 0)}),
    "getitem": tuple(P(SPECIAL, index, grad_finite=True, note=f"x[{index!r}]") for index in (
        np.array([0, 0, 1]), np.array([True, False]), (slice(None), np.array([2, 0, 2])), np.array([], dtype=int)))
    + (P(SPECIAL, (1, slice(None, None, -1)), grad_finite=True, torch="PyTorch has no negative slice steps"),),
    "index_add": tuple(P(g, kwargs={"index": index, "shape": (2, 3)}, grad_finite=True, note=f"at {index!r}")
                       for g, index in ((SPECIAL[[0, 0, 1]], np.array([0, 0, 1])),
                                        (SPECIAL[:, [2, 0, 2]], (slice(None), np.array([2, 0, 2]))),
                                        (np.zeros((0, 3)), np.array([], dtype=int)))),
    "concatenate": (_joined(SPECIAL, SPECIAL[:, :1], axis=1), _joined(SPECIAL, np.zeros((0, 3)), axis=0)),
    "stack": (_joined(SPECIAL, SPECIAL, axis=0), _joined(np.zeros((2, 0)), np.zeros((2, 0)), axis=-1)),
    "broadcast_to": structural({"shape": (2, 2, 3)}, empty_kwargs={"shape": (3, 2, 0)}),
    "sum_to": structural({"shape": (1, 3)}, {"shape": (3,)}, empty_kwargs={"shape": (1, 0)}),
    "astype": structural({"dtype": np.float32}),
    "copy": structural({}),
    "einsum": (_pair(SPECIAL, SPECIAL.T, subscripts="ij,jk->ik"), _pair(SPECIAL, SPECIAL, subscripts="ij,ij->"),
               _pair(np.zeros((2, 0)), np.zeros((0, 3)), subscripts="ij,jk->ik"),
               P(SPECIAL[:, :2], kwargs={"subscripts": "ii->i"}, note="diagonal")),
    "matmul": _contraction(SPECIAL, SPECIAL.T, (2, 0), (0, 3)) + (_pair(SPECIAL6[:3], SPECIAL.T),),
    "affine": (P(SPECIAL, SPECIAL.T, SPECIAL6[:2], wrt=(0, 1, 2), note="special x, W and b"),
               P(np.zeros((0, 3)), SPECIAL.T, SPECIAL6[:2], wrt=(0, 1, 2), note="no rows"),
               P(np.zeros((2, 0)), np.zeros((0, 2)), SPECIAL6[:2], wrt=(0, 1, 2), note="no inputs")),
}

SPLITS = {"split": {"indices_or_sections": 3, "axis": 1}, "array_split": {"indices_or_sections": 2, "axis": 1},
          "hsplit": {"indices_or_sections": [1]}, "vsplit": {"indices_or_sections": 2}}

LAYOUT = {
    "ravel": structural({}), "squeeze": structural({"axis": 0}, base=SPECIAL[None], empty=(1, 0)),
    "expand_dims": structural({"axis": 0}, {"axis": (0, -1)}),
    "atleast_1d": structural({}), "atleast_2d": structural({}), "atleast_3d": structural({}),
    "moveaxis": structural({"source": [0], "destination": [-1]}),
    "swapaxes": structural({"axis1": 0, "axis2": 1}),
    "flip": structural({"axis": None}, {"axis": 1}), "fliplr": structural({}), "flipud": structural({}),
    "rot90": structural({"k": 1, "axes": (0, 1)}, {"k": 3, "axes": (1, 0)}),
    "roll": structural({"shift": 1, "axis": None}, {"shift": [1, -1], "axis": [0, 1]}),
    "sort": structural({"axis": -1}, {"axis": None}) + tuple(
        P(v, kwargs={"axis": -1}, grad_finite=True, note=f"ties {v}") for v in ([1.0, 1.0, 0.0], [-0.0, 0.0])),
    "partition": structural({"kth": 1, "axis": -1}),
    "take": tuple(P(SPECIAL, idx, kwargs=kw, grad_finite=True, note=f"take {idx!r} {kw}") for idx, kw in (
        (np.array([0, 5, 5, -1]), {"axis": None}), (np.array([[2, 2]]), {"axis": 1}),
        (np.array([], dtype=int), {"axis": 0}))),
    "take_along_axis": (P(SPECIAL, np.array([[2, 2], [0, 1]]), kwargs={"axis": 1}, grad_finite=True),
                        P(SPECIAL, np.zeros((2, 0), dtype=int), kwargs={"axis": 1}, grad_finite=True, note="none")),
    "repeat": structural({"repeats": 2, "axis": 1}, {"repeats": [0, 1, 2], "axis": 1}, {"repeats": 0, "axis": None}),
    "tile": structural({"reps": (2, 1)}, {"reps": 0}),
    "hstack": (_joined(SPECIAL, SPECIAL), _joined(np.zeros((2, 0)), SPECIAL)),
    "vstack": (_joined(SPECIAL, SPECIAL), _joined(np.zeros((0, 3)), SPECIAL)),
    "dstack": (_joined(SPECIAL, SPECIAL),),
    "column_stack": (_joined(SPECIAL6[:3], SPECIAL6[3:]), _joined(np.zeros((0,)), np.zeros((0,)))),
    "append": (_joined(SPECIAL, SPECIAL6[:2]), _joined(np.zeros((0,)), SPECIAL6[:2])),
    **{name: structural(kwargs, empty=None) for name, kwargs in SPLITS.items()},
    "pad": structural(*({"pad_width": 1, "mode": mode} for mode in ("constant", "edge", "reflect", "symmetric",
                                                                     "wrap")), empty=None)
    + structural({"pad_width": 1, "mode": "constant", "constant_values": INF}, empty=(2, 0)),
    "diff": structural({"n": 1, "axis": 1}, {"n": 2, "axis": 1}, {"n": 1, "axis": 0, "prepend": NAN}),
    "diagonal": structural({"offset": 0}, {"offset": 1}, {"offset": -1}),
    "diag": structural({"k": 0}, base=SPECIAL6, empty=(0,)) + structural({"k": 1}, {"k": -1}, empty=None),
    "tril": structural({"k": 0}, {"k": -1}), "triu": structural({"k": 0}, {"k": 1}),
    "array": (_joined(SPECIAL6, SPECIAL6, nested=True), _joined(np.zeros(0), np.zeros(0), nested=False)),
    "linspace": (_joined([0.0, INF, NAN], [1.0, INF, 1.0], num=3), _joined([0.0], [1.0], num=1),
                 _joined([0.0], [1.0], num=0)),
    "broadcast_arrays": (_joined(SPECIAL, SPECIAL6[:3]), _joined(np.zeros((2, 0)), np.zeros((1, 0)))),
}

CONTRACTION = {
    "cross": (_pair(SPECIAL, SPECIAL[::-1]), _pair(np.zeros((0, 3)), np.zeros((0, 3)))),
    "tensordot": _contraction(SPECIAL, SPECIAL.T, (2, 0), (0, 3), axes=1) + (_pair(SPECIAL, SPECIAL, axes=2),),
    "dot": _contraction(SPECIAL, SPECIAL.T, (2, 0), (0, 3)) + (_pair(SPECIAL6, SPECIAL6),),
    "inner": _contraction(SPECIAL, SPECIAL, (2, 0), (3, 0)),
    "outer": _contraction(SPECIAL6, SPECIAL6[:2], (0,), (3,)),
    "vdot": _contraction(SPECIAL, SPECIAL.T, (2, 0), (0, 2)),
    "kron": _contraction(SPECIAL, SPECIAL6[:2], (2, 0), (3,)),
    "trace": structural({"offset": 0, "axis1": 0, "axis2": 1}, {"offset": 1, "axis1": 1, "axis2": 0}),
}
