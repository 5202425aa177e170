"""Buffered kernels for compiled steps (``lowering.py``): the hottest ops' forward
and VJP written as NumPy calls into arrays the step allocates once and reuses.

Each form here is the op's own NumPy calls, in the same order, as its forward
or VJP in ``ops/``, only writing into a buffer (``out=``) instead of a new
array.  Before a form is first used for an op, dtype and number of dimensions,
the emitted code itself runs on a sample of the traced arrays (an affine's
first rows; the whole arrays of an elementwise op) and must equal the op's own
result bitwise; otherwise the step calls the op as eager does.  So a buffered
form cannot change a result, only save an allocation.

A buffer never leaves the step: results are copied out, and a gradient that
is a buffer (or a view of one) is copied before it becomes a leaf's ``.grad``.

Ops with a large kernel (``conv2d``, ``max_pool2d``, ``batch_norm``) offer a
buffered form of their own: the attribute ``buffered`` of the op's saving
forward builds, from a recorded node's inputs and parameters, an object whose
``forward`` and ``vjp`` run the op's kernels with arrays allocated once for
that geometry (im2col columns, padded images, pooling masks; the geometry is
checked once, not on every replay).  ``kernel_forward`` and ``kernel_vjp``
use it when its results on the traced call equal the op's bitwise.
"""
from __future__ import annotations

import numpy as np

from ..core.registry import OPS, RAW_OPS

__all__ = ["forward_into", "vjp_into", "kernel_forward", "kernel_vjp"]

_UFUNCS = {"add": "add", "sub": "subtract", "mul": "multiply", "div": "true_divide", "neg": "negative",
           "exp": "exp", "log": "log", "sqrt": "sqrt", "tanh": "tanh"}

# forward forms: {i} is input i, {out} the buffer shaped as the output
_FORWARD = {name: f"np.{ufunc}(@, out={{out}})" for name, ufunc in _UFUNCS.items()}
_FORWARD["relu"] = "np.maximum({0}, 0, out={out})"
_FORWARD["affine"] = "np.add(np.matmul({0}, {1}, out={out}), {2}, out={out})"

# VJP forms, one per input: {g} the incoming gradient, {y} the output, {0}.. the inputs,
# {out} a buffer shaped as that input's gradient, {mask} a boolean one shaped as input 0
_VJP = {
    "sigmoid": ["np.multiply({g}, np.subtract({y}, np.multiply({y}, {y}, out={out}), out={out}), out={out})"],
    "tanh": ["np.subtract({g}, np.multiply(np.multiply({g}, {y}, out={out}), {y}, out={out}), out={out})"],
    "relu": ["np.multiply({g}, np.not_equal({y}, 0, out={mask}), out={out})"],  # y != 0: x > 0 or NaN
    # gW and gb are new arrays: they usually become a parameter's .grad
    "affine": ["np.matmul({g}, {1}.T, out={out})", "np.matmul({0}.T, {g})", "{g}.sum(axis=0)"],
}

_verified = {}  # _key(...) -> whether the forms equal the op's own


def _same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)


def _eligible(node):
    """Our own op (not a replaced one), no parameters, not 0-d (NumPy scalars take no out=),
    and for affine the 2-D case."""
    op = node.op
    if OPS.get(op.name) is not op or node.params or node.shape == () or op.save is not None:
        return False
    if op.name == "affine":
        return np.ndim(node.saved[0]) == 2 and np.ndim(node.saved[1]) == 2
    return all(isinstance(v, (np.ndarray, np.generic, int, float)) and type(v) is not bool for v in node.saved)


def _fill(form, ins, **names):
    if "@" in form:
        form = form.replace("@", ", ".join(f"{{{i}}}" for i in range(len(ins))))
    return form.format(*ins, **names)


def _forward_sample(node):
    """What a forward form is checked on: an affine's first rows (its kernels are the same
    for any number of rows), an elementwise op's whole arrays (cheap)."""
    if node.op.name == "affine":
        x, W, b = node.saved
        return [x[:3], W, b]
    return list(node.saved)


def _vjp_sample(node, gy):
    """(gy, y, *inputs) to check a VJP form on, cut as ``_forward_sample`` cuts."""
    if node.op.name == "affine":
        x, W, b = node.saved
        return [gy[:3], node.out[:3], x[:3], W, b]
    return [gy, node.out, *node.saved]


def _checked(key, trial):
    """Whether the forms equal the op's own results: ``trial()`` (run once per key, the
    first time) gives (namespace, the emitted forms' code, the op's own results on
    the samples)."""
    if key not in _verified:
        namespace, code, expected = trial()
        try:
            got = [eval(c, namespace) if c is not None else None for c in code]  # noqa: S307  (our own code)
            _verified[key] = all((e is None) == (c is None) and (c is None or _same(r, e))
                                 for r, c, e in zip(got, code, expected))
        except (TypeError, ValueError):
            _verified[key] = False
    return _verified[key]


def _key(node, direction, extra=()):
    """What decides which NumPy loops a form runs: the op, the inputs' types, dtypes and
    numbers of dimensions (a Python float promotes differently from a NumPy one)."""
    return (node.op.name, direction, tuple((type(v), np.result_type(v), np.ndim(v)) for v in node.saved),
            tuple(extra))


def forward_into(code, node, ins):
    """An expression computing ``node``'s forward into a buffer, or None (then the op
    is called)."""
    form = _FORWARD.get(node.op.name)
    if form is None or not _eligible(node):
        return None

    def trial():
        sample = _forward_sample(node)
        expected = node.op.forward(*sample)
        namespace = {"np": np, "OUT": np.empty_like(expected), **{f"S{i}": v for i, v in enumerate(sample)}}
        return namespace, [_fill(form, [f"S{i}" for i in range(len(sample))], out="OUT")], [expected]

    if not _checked(_key(node, "forward"), trial):
        return None
    return _fill(form, ins, out=code.buffer(node.out))


def vjp_into(code, node, ins, g, gy, result, needs):
    """Expressions computing ``node``'s VJP with buffers, one per input (None where no
    gradient is wanted), or None (then the VJP is called).  ``result``: the VJP's own
    gradients on the traced call."""
    forms = _VJP.get(node.op.name)
    if forms is None or not _eligible(node) or len(result) != len(forms) \
            or (node.op.wants_needs and needs is None):
        return None
    wanted = list(needs) if node.op.wants_needs else [True] * len(forms)
    if any((r is not None) != bool(w) for r, w in zip(result, wanted)):
        return None

    def trial():
        sample_gy, sample_y, *sample = _vjp_sample(node, gy)
        params = {"needs": wanted} if node.op.wants_needs else {}
        expected = node.op.vjp(RAW_OPS, sample_gy, sample_y, *sample, **params)
        expected = list(expected) if isinstance(expected, (tuple, list)) else [expected]
        namespace = {"np": np, "G": sample_gy, "Y": sample_y, **{f"S{i}": v for i, v in enumerate(sample)}}
        trials = []
        for i, (form, w) in enumerate(zip(forms, wanted)):
            if w:
                namespace[f"OUT{i}"] = np.empty_like(expected[i])
                namespace[f"MASK{i}"] = np.empty(np.shape(sample[0]), bool)
            trials.append(_fill(form, [f"S{j}" for j in range(len(sample))], g="G", y="Y", out=f"OUT{i}",
                                mask=f"MASK{i}") if w else None)
        return namespace, trials, expected

    if not _checked(_key(node, "vjp", (np.result_type(gy), *wanted)), trial):
        return None
    names = {"g": g, "y": code.node_name(node)}
    lines = []
    for form, w, gp in zip(forms, wanted, result):
        if w and "{mask}" in form:
            names["mask"] = code.buffer(np.empty_like(np.asarray(node.saved[0]), dtype=bool))
        if w and "{out}" in form:
            names["out"] = code.buffer(gp)
        lines.append(_fill(form, ins, **names) if w else None)
    return lines


# --- ops with a buffered form of their own (conv2d, max_pool2d, batch_norm) ----------------------

def _same_values(a, b):
    """Bitwise equal results: arrays (NaN equal), tuples item by item, anything else by ==."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return a is not None and b is not None and _same(a, b)
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_same_values(x, y) for x, y in zip(a, b))
    return a is b or (type(a) is type(b) and a == b)


def _kernel(code, node):
    """The buffered form of ``node``'s op (made once per node), or None."""
    if node in code.kernels:
        return code.kernels[node]
    op, kernel = node.op, None
    factory = getattr(op.save, "buffered", None)
    if factory is not None and OPS.get(op.name) is op:
        try:
            kernel = factory(node.saved, node.params)
        except (TypeError, ValueError):
            kernel = None
    code.kernels[node] = kernel
    if kernel is not None:
        code.buffers.extend(kernel.buffers)  # their ids are copied, never handed out
    return kernel


def kernel_forward(code, node, ins):
    """A call computing ``node``'s output and what it saves with its op's buffered form,
    or None (then the op is called).  Checked on the traced call's inputs first."""
    kernel = _kernel(code, node)
    if kernel is None or not hasattr(kernel, "forward"):
        return None
    y, extra = kernel.forward(*node.saved)
    if not (_same(y, node.out) and _same_values(extra, node.extra)):
        code.kernels[node] = None
        return None
    return f"{code.constant(kernel.forward, node.op.name + '_buffered')}({', '.join(ins)})"


def kernel_vjp(code, node, ins, g, gy, result, needs, saved):
    """A call computing ``node``'s input gradients (a tuple, one per input) with its op's
    buffered form, or None.  ``result``: the op's own VJP on the traced call, which the
    form must equal bitwise; ``saved``: the name of what the forward saved."""
    kernel = _kernel(code, node)
    if kernel is None or (node.op.wants_needs and needs is None):
        return None
    wanted = (list(needs),) if node.op.wants_needs else ()  # (max_pool2d's VJP takes no needs)
    got = kernel.vjp(gy, node.out, *node.saved, node.extra, *wanted)
    got = got if isinstance(got, tuple) else (got,)
    if len(got) != len(result) or not all((a is None) == (b is None) and (a is None or _same(a, b))
                                          for a, b in zip(got, result)):
        return None
    call = f"{code.constant(kernel.vjp, node.op.name + '_buffered_vjp')}({g}, {code.node_name(node)}, "
    return call + f"{', '.join(ins)}, {saved}{''.join(', ' + code.constant(w) for w in wanted)})"
