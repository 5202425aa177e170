"""Boundary points of the matrix ops, the decompositions and convolution:
singular and rank-deficient matrices (det's gradient is the cofactor matrix;
inv, solve, logabsdet and cholesky refuse them by name), repeated and zero
eigen- and singular values (a gradient through the values alone stays finite),
empty matrices; pooling over -inf and NaN windows and ties, convolutions with an
empty axis, and window sizes too large to allocate."""
from __future__ import annotations

import numpy as np

from .boundary_points_arrays import INF, NAN, P

SINGULAR = {"rank 1": np.array([[1.0, 2.0], [2.0, 4.0]]), "zero": np.zeros((3, 3)),
            "rank 2": np.array([[1.0, 2, 3], [4, 5, 6], [7, 8, 9]]), "rank 2 diagonal": np.diag([2.0, 0.0, 3.0])}
REGULAR = {"identity": np.eye(3), "empty": np.zeros((0, 0)), "1x1": np.array([[-2.0]]),
           "stack of a singular and a regular": np.stack([np.array([[1.0, 2.0], [2.0, 4.0]]), np.eye(2)])}
DET_TORCH = "torch 2.13's det gives 0 at a rank n-1 matrix; the cofactor matrix is the derivative (the " \
            "one-sided differences agree)"


NAN_MATRIX = np.array([[NAN, 1.0], [1.0, 1.0]])
LAPACK_NAN = "LAPACK's answers for a matrix holding NaN are arbitrary (NumPy's det is 0, eigh's eigenvalues " \
             "finite, inv and svd raise); ours are NaN"


TORCH_LAPACK_NAN = "PyTorch's LAPACK answers at NaN are arbitrary too (finite eigenvalues; an error)"


def _nan(*extra, torch="", **kwargs):
    """The op at a matrix holding NaN: NaN results (NumPy's are arbitrary there)."""
    return (P(NAN_MATRIX, *extra, kwargs=kwargs, wrt=tuple(range(1 + len(extra))), numpy=LAPACK_NAN, torch=torch,
              note="a NaN entry"),)


def _matrices(table, **flags):
    return tuple(P(a, note=name, **flags) for name, a in table.items())


def _refused(op, message="ingular"):
    """The op at each singular matrix: an error naming it."""
    return tuple(P(a, raises=f"{op}.*{message}", note=name) for name, a in SINGULAR.items())


def _det():
    points = tuple(P(a, note=name, torch=DET_TORCH if np.linalg.matrix_rank(a) == a.shape[0] - 1 else "")
                   for name, a in SINGULAR.items())
    return points + _matrices(REGULAR, torch="") + (P([[INF, 1.0], [1.0, 1.0]], note="inf"),) + _nan()


_STACK_TORCH = "(a stack with a rank n-1 matrix: " + DET_TORCH + ")"
_DET_POINTS = tuple(P(p.args[0], note=p.note, torch=_STACK_TORCH) if p.note.startswith("stack") else p
                    for p in _det())
_INVERTIBLE = {name: a for name, a in REGULAR.items() if not name.startswith("stack")}
VECTOR_GRADIENT = "PyTorch's vector gradient at a repeated (or zero) value is inf or NaN; ours leaves that pair's " \
                  "term out (finite; the one-sided differences check it where they agree)"

MATRIX = {
    "inv": _refused("inv") + _matrices(_INVERTIBLE) + _nan(),
    "det": _DET_POINTS,
    "logabsdet": _refused("logabsdet") + _matrices(_INVERTIBLE) + _nan(),
    "slogdet": _refused("logabsdet") + _matrices(_INVERTIBLE) + _nan(),
    "solve": tuple(P(a, np.ones(a.shape[-1]), wrt=(0, 1), raises="solve.*ingular", note=name)
                   for name, a in SINGULAR.items())
    + (P(np.eye(2), [INF, NAN], wrt=(0, 1), note="b infinite and NaN"),
       P(np.zeros((0, 0)), np.zeros((0, 2)), wrt=(0, 1), note="empty")) + _nan(np.ones(2)),
    "norm": tuple(P(np.zeros(3), kwargs={"ord": o}, note=f"zero vector, ord {o}") for o in (None, 1, 2, 3.0, 0.5, INF))
    + tuple(P([0.0, 3.0], kwargs={"ord": o}, note=f"[0, 3], ord {o}") for o in (None, 1, 3.0, INF))
    + (P(np.zeros((2, 2)), kwargs={"ord": "fro"}, note="zero matrix"), P([INF, 1.0], note="inf"),
       P([NAN, 1.0], note="NaN"), P([1e200, 1e200], note="squares overflow"), P(np.zeros(0), note="empty")),
}

DECOMPOSITION = {
    "cholesky": (P(np.eye(3), kwargs={"upper": False}, note="identity"),
                 P(np.diag([1e-100, 1.0]), kwargs={"upper": False}, note="tiny pivot", second=False),
                 P(np.zeros((0, 0)), kwargs={"upper": False}, note="empty"),
                 P(np.array([[1.0, 1.0], [1.0, 1.0]]), kwargs={"upper": False}, raises="cholesky",
                   note="positive semi-definite, singular")) + _nan(upper=False, torch=TORCH_LAPACK_NAN),
    "eigh": (P(np.eye(3), kwargs={"upper": False}, torch=VECTOR_GRADIENT, note="identity: one eigenvalue thrice"),
             P(np.diag([1.0, 1.0, 2.0]), kwargs={"upper": False}, torch=VECTOR_GRADIENT, note="a repeated eigenvalue"),
             P(np.zeros((0, 0)), kwargs={"upper": False}, note="empty")) + _nan(upper=False, torch=TORCH_LAPACK_NAN)
    + (P(np.array([[1.0, NAN], [0.0, 2.0]]), kwargs={"upper": False}, note="NaN in the unread triangle"),),
    "eigvalsh": (P(np.eye(3), kwargs={"UPLO": "L"}, note="identity"),
                 P(np.diag([1.0, 1.0, 2.0]), kwargs={"UPLO": "L"}, note="a repeated eigenvalue"),
                 P(np.zeros((2, 2)), kwargs={"UPLO": "U"}, note="zero"),
                 P(np.zeros((0, 0)), kwargs={"UPLO": "L"}, note="empty")) + _nan(UPLO="L", torch=TORCH_LAPACK_NAN),
    "svd": (P(np.eye(3), torch=VECTOR_GRADIENT, note="identity: a singular value thrice"),
            P(np.diag([2.0, 0.0]), torch=VECTOR_GRADIENT, note="a zero singular value"),
            P(np.zeros((0, 2)), note="empty")) + _nan(torch=TORCH_LAPACK_NAN),
    "svd(compute_uv=False)": (P(np.eye(3), note="identity: a singular value thrice"),
                              P(np.diag([2.0, 0.0, 1.0]), note="a zero singular value"),
                              P(np.zeros((2, 3)), note="zero")) + _nan(torch=TORCH_LAPACK_NAN),
    "pinv": (P(np.eye(2), note="identity"), P(np.diag([2.0, 1e-3]), note="ill-conditioned"),
             P(np.zeros((0, 3)), note="empty")) + _nan(torch=TORCH_LAPACK_NAN),
    "matrix_power": tuple(P(a, kwargs={"n": n}, note=f"{name}, n = {n}")
                          for name, a in (("zero", np.zeros((2, 2))), ("identity", np.eye(2)),
                                          ("rank 1", SINGULAR["rank 1"]), ("empty", np.zeros((0, 0))))
                          for n in (0, 1, 2, 3))
    + (P(SINGULAR["rank 1"], kwargs={"n": -1}, raises="inv.*ingular", note="rank 1, n = -1"),),
}

IMAGE = np.array([[[[0.0, -0.0, INF], [-INF, NAN, 1.5], [2.0, 2.0, -1.0]]]])  # (1, 1, 3, 3): every special value
ALL_MINUS_INF = np.full((1, 1, 3, 3), -INF)
HUGE = {"pad": 10 ** 6}


def _pool(**window):
    return (P(IMAGE, kwargs=window, note=f"special values {window}"),
            P(ALL_MINUS_INF, kwargs=window, note=f"all -inf {window}"),
            P(np.full((1, 1, 3, 3), 2.0), kwargs=window, note=f"all equal {window}"),
            P(np.zeros((0, 1, 3, 3)), kwargs=window, note=f"no images {window}"))

CONV = {
    "conv2d": (P(IMAGE, np.ones((2, 1, 2, 2)), np.zeros(2), wrt=(0, 1, 2), kwargs={"pad": 1}, note="special image"),
               P(np.ones((1, 2, 3, 3)), np.ones((0, 2, 2, 2)), np.zeros(0), wrt=(0, 1, 2), note="no output channels",
                 torch="PyTorch refuses a weight with no output channels"),
               P(np.ones((0, 1, 3, 3)), np.ones((2, 1, 2, 2)), None, wrt=(0, 1), note="no images"),
               P(np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2)), None, kwargs=HUGE, raises="conv2d.*pad.*would allocate",
                 note="pad 10**6")),
    "max_pool2d": _pool(kernel=3, stride=1, pad=1) + _pool(kernel=2, stride=2, pad=1)
    + (P(np.ones((1, 1, 1, 1)), kwargs={"kernel": 2 * 10 ** 6 + 1, "stride": 1, "pad": 10 ** 6},
         raises="max_pool2d.*would allocate", note="kernel 2e6 + 1"),),
    "avg_pool2d": _pool(kernel=3, stride=1, pad=1)[::2] + _pool(kernel=2, stride=2, pad=0)[:1],
    "im2col": (P(IMAGE, kwargs={"kernel": 2, "stride": 1, "pad": 1}, grad_finite=True, note="special image"),
               P(np.zeros((0, 1, 3, 3)), kwargs={"kernel": 2}, grad_finite=True, note="no images"),
               P(np.ones((1, 1, 2, 2)), kwargs={"kernel": 1, "pad": 10 ** 6}, raises="im2col.*would allocate")),
    "col2im": (P(IMAGE.reshape(9, 1), kwargs={"shape": (1, 1, 3, 3), "kernel": 1}, grad_finite=True,
                 note="special columns"),
               P(np.zeros((0, 4)), kwargs={"shape": (0, 1, 3, 3), "kernel": 2}, grad_finite=True, note="no images",
                 torch="PyTorch's fold refuses an empty batch"),
               P(np.ones((1, 1)), kwargs={"shape": (1, 1, 10 ** 7, 10 ** 7), "kernel": 10 ** 7},
                 raises="col2im.*would allocate")),
}
