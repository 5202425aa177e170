"""PyTorch's versions of the shape, layout, contraction, matrix and convolution
ops of the table (``torch_refs.TORCH`` takes them in), for the boundary sweep."""
from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

__all__ = ["ARRAY_REFS"]


def _index(index):
    """A NumPy index (arrays, slices, tuples) for a tensor."""
    if isinstance(index, tuple):
        return tuple(_index(i) for i in index)
    return torch.as_tensor(index) if isinstance(index, np.ndarray) else index


def _index_add(g, index, shape):
    out = torch.zeros(shape, dtype=g.dtype)
    index = _index(index)
    if isinstance(index, torch.Tensor) or isinstance(index, tuple) and all(
            isinstance(i, torch.Tensor) or isinstance(i, slice) and i == slice(None) for i in index):
        return out.index_put(_full_index(index, shape), g, accumulate=True)
    return out.index_put(index, g)


def _full_index(index, shape):
    """Advanced indices with every ``:`` spelled out as a broadcast arange (for index_put)."""
    index = index if isinstance(index, tuple) else (index,)
    arrays = [torch.arange(shape[k]) if isinstance(i, slice) else i for k, i in enumerate(index)]
    count = len(arrays)
    return tuple(a.reshape((-1,) + (1,) * (count - 1 - k)) if isinstance(index[k], slice) else a
                 for k, a in enumerate(arrays))


def _sum_to(x, shape):
    lead = x.ndim - len(shape)
    return x.sum(dim=tuple(range(lead))).sum_to_size(shape) if lead else x.sum_to_size(shape)


def _transpose(x, axes=None):
    return x.permute(*(axes if axes is not None else range(x.ndim - 1, -1, -1)))


def _roll(a, shift, axis=None):
    return torch.roll(a.reshape(-1), shift).reshape(a.shape) if axis is None else torch.roll(a, shift, axis)


def _flip(m, axis=None):
    return torch.flip(m, tuple(range(m.ndim)) if axis is None else (axis,))


def _sort(a, axis=-1):
    return torch.sort(a.reshape(-1) if axis is None else a, dim=-1 if axis is None else axis, stable=True).values


def _take(a, indices, axis=None):
    if axis is None:
        return a.reshape(-1)[indices % a.numel() if a.numel() else indices]
    return torch.index_select(a, axis, indices.reshape(-1) % a.shape[axis]).reshape(
        a.shape[:axis] + tuple(indices.shape) + a.shape[axis + 1:])


def _repeat(a, repeats, axis=None):
    a = a.reshape(-1) if axis is None else a
    return torch.repeat_interleave(a, torch.as_tensor(repeats), dim=0 if axis is None else axis)


def _tile(A, reps):
    return torch.tile(A, reps if isinstance(reps, tuple) else (reps,))


def _split(name):
    """The table's test wrapper: the parts joined again, each scaled by its position."""
    def call(x, indices_or_sections, axis=None):
        axis = {"hsplit": 1 if x.ndim > 1 else 0, "vsplit": 0}.get(name, axis)
        parts = torch.tensor_split(x, indices_or_sections, dim=axis)
        return torch.cat([p * (i + 1.0) for i, p in enumerate(parts)], dim=axis)
    return call


def _pad(array, pad_width, mode="constant", constant_values=0):
    if mode == "symmetric":  # (no PyTorch mode: the same gather, by the indices NumPy's pad reads)
        idx = np.pad(np.arange(array.numel()).reshape(tuple(array.shape)), pad_width, mode="symmetric")
        return array.reshape(-1)[torch.as_tensor(idx)]
    widths = [pad_width] * (2 * array.ndim)
    if mode == "constant":
        return F.pad(array, widths, value=float(constant_values))
    torch_mode = {"edge": "replicate", "reflect": "reflect", "wrap": "circular"}[mode]
    return F.pad(array[None, None], widths, mode=torch_mode)[0, 0]


def _diff(a, n=1, axis=-1, prepend=None, append=None):
    prepend = None if prepend is None else torch.full_like(a.select(axis, 0).unsqueeze(axis), prepend)
    return torch.diff(a, n, dim=axis, prepend=prepend, append=append) if n else a


def _diag(v, k=0):
    return torch.diag(v, k)


def _symmetric_from(a, upper):
    """The symmetric matrix that NumPy's eigh / cholesky read from one triangle of ``a``."""
    t = torch.triu(a) if upper else torch.tril(a)
    return t + t.transpose(-1, -2) - torch.diag_embed(torch.diagonal(a, dim1=-2, dim2=-1))


def _eigh(a, upper=False):
    w, v = torch.linalg.eigh(_symmetric_from(a, upper))
    packed = torch.cat([w.unsqueeze(-2), v], dim=-2)
    from .specs_decompositions import _eigh_fix
    return packed * torch.as_tensor(_eigh_fix(packed.detach().numpy(), None))


def _svd(a):
    u, s, vh = torch.linalg.svd(a, full_matrices=False)
    packed = torch.cat([u, s.unsqueeze(-2), vh.transpose(-1, -2)], dim=-2)
    from .specs_decompositions import _svd_fix
    return packed * torch.as_tensor(_svd_fix(packed.detach().numpy(), a.detach().numpy()))


def _dot(a, b):
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return torch.tensordot(a, b, dims=([a.ndim - 1], [max(b.ndim - 2, 0)]))


def _cross(a, b, axisa=-1, axisb=-1, axisc=-1):
    a, b = torch.movedim(a, axisa, -1), torch.movedim(b, axisb, -1)
    return torch.movedim(torch.linalg.cross(*torch.broadcast_tensors(a, b), dim=-1), -1, axisc)


def _pool_kwargs(kernel, stride=None, pad=0):
    return {"kernel_size": kernel, "stride": kernel if stride is None else stride, "padding": pad}


def _im2col(x, kernel, stride=1, pad=0):
    cols = F.unfold(x, kernel, padding=pad, stride=stride)  # (N, C*kh*kw, L)
    return cols.transpose(1, 2).reshape(-1, cols.shape[1])


def _col2im(cols, shape, kernel, stride=1, pad=0):
    n, c, h, w = shape
    k = kernel if isinstance(kernel, tuple) else (kernel, kernel)
    rows = cols.reshape(n, cols.shape[0] // max(n, 1), c * k[0] * k[1])
    return F.fold(rows.transpose(1, 2), (h, w), k, padding=pad, stride=stride)


def _linspace(start, stop, num=50, endpoint=True):
    steps = torch.arange(num, dtype=start.dtype) / max(num - 1 if endpoint else num, 1)
    values = start + (stop - start) * steps.reshape((-1,) + (1,) * start.ndim)
    if endpoint and num > 1:  # NumPy's last value is stop itself
        values = torch.cat([values[:-1], stop.unsqueeze(0)])
    return values


ARRAY_REFS = {
    "reshape": lambda x, shape: x.reshape(shape), "transpose": _transpose,
    "getitem": lambda x, index: x[_index(index)], "index_add": _index_add,
    "concatenate": lambda *xs, axis=0: torch.cat(xs, dim=axis), "stack": lambda *xs, axis=0: torch.stack(xs, dim=axis),
    "broadcast_to": lambda x, shape: torch.broadcast_to(x, shape), "sum_to": _sum_to,
    "astype": lambda x, dtype: x.to(torch.float32), "copy": torch.clone,
    "einsum": lambda *xs, subscripts: torch.einsum(subscripts, *xs), "matmul": torch.matmul,
    "affine": lambda x, W, b: x @ W + b,
    "ravel": lambda a: a.reshape(-1), "squeeze": lambda a, axis=None: a.squeeze() if axis is None else a.squeeze(axis),
    "expand_dims": lambda a, axis: a.reshape(np.expand_dims(np.zeros(tuple(a.shape)), axis).shape),
    "atleast_1d": torch.atleast_1d, "atleast_2d": torch.atleast_2d, "atleast_3d": torch.atleast_3d,
    "moveaxis": lambda a, source, destination: torch.movedim(a, source, destination),
    "swapaxes": lambda a, axis1, axis2: torch.swapaxes(a, axis1, axis2),
    "flip": _flip, "fliplr": torch.fliplr, "flipud": torch.flipud,
    "rot90": lambda m, k=1, axes=(0, 1): torch.rot90(m, k, axes), "roll": _roll, "sort": _sort,
    "partition": "np.partition's order within each side of kth has no PyTorch counterpart",
    "take": _take, "take_along_axis": lambda arr, indices, axis: torch.take_along_dim(arr, indices, axis),
    "repeat": _repeat, "tile": _tile,
    "hstack": lambda *xs: torch.hstack(xs), "vstack": lambda *xs: torch.vstack(xs),
    "dstack": lambda *xs: torch.dstack(xs), "column_stack": lambda *xs: torch.column_stack(xs),
    "append": lambda arr, values: torch.cat([arr.reshape(-1), values.reshape(-1)]),
    **{name: _split(name) for name in ("split", "array_split", "hsplit", "vsplit")},
    "pad": _pad, "diff": _diff,
    "diagonal": lambda a, offset=0, axis1=0, axis2=1: torch.diagonal(a, offset, axis1, axis2), "diag": _diag,
    "tril": lambda m, k=0: torch.tril(m, k), "triu": lambda m, k=0: torch.triu(m, k),
    "array": lambda *xs, nested=False: torch.stack([torch.stack(xs), torch.stack(xs[::-1])]) if nested
    else torch.stack(xs),
    "linspace": _linspace,
    "broadcast_arrays": lambda a, b: sum(p * (i + 1.0) for i, p in enumerate(torch.broadcast_tensors(a, b))),
    "cross": _cross, "tensordot": lambda a, b, axes=2: torch.tensordot(a, b, dims=axes), "dot": _dot,
    "inner": torch.inner, "outer": lambda a, b: torch.outer(a.reshape(-1), b.reshape(-1)),
    "vdot": lambda a, b: (a.reshape(-1) * b.reshape(-1)).sum(), "kron": torch.kron,
    "trace": lambda a, offset=0, axis1=0, axis2=1: torch.diagonal(a, offset, axis1, axis2).sum(-1),
    "inv": torch.linalg.inv, "det": torch.linalg.det, "logabsdet": lambda a: torch.linalg.slogdet(a)[1],
    "slogdet": lambda a: torch.linalg.slogdet(a)[1], "solve": torch.linalg.solve,
    "cholesky": lambda a, upper=False: torch.linalg.cholesky(_symmetric_from(a, False), upper=upper),
    "eigh": _eigh, "eigvalsh": lambda a, UPLO="L": torch.linalg.eigvalsh(_symmetric_from(a, UPLO == "U")),
    "svd": _svd, "svd(compute_uv=False)": torch.linalg.svdvals, "pinv": torch.linalg.pinv,
    "matrix_power": lambda a, n: torch.linalg.matrix_power(a, n),
    "conv2d": lambda x, W, b=None, stride=1, pad=0: F.conv2d(x, W, b, stride=stride, padding=pad),
    "max_pool2d": lambda x, **kw: F.max_pool2d(x, **_pool_kwargs(**kw)),
    "avg_pool2d": lambda x, **kw: F.avg_pool2d(x, **_pool_kwargs(**kw)),
    "im2col": _im2col, "col2im": _col2im,
}
