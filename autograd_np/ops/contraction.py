"""Contractions: einsum (a primitive), and tensordot, dot, inner, outer, vdot,
kron, trace and cross composed from the shape ops, matmul and mul (exact, and
BLAS fast where NumPy's own are)."""
import math

import numpy as np

from ..core.recording import defop
from ._util import value
from .arithmetic import mul, sub
from .layout import moveaxis
from .linalg import matmul
from .reductions import sum as _sum
from .shape import getitem, reshape, stack, transpose

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _explicit(subscripts, shapes):
    """``subscripts`` with the ellipses spelled out as letters and the output
    written out (NumPy's implicit output: the letters used once, sorted), as
    ``(inputs, output)``: a list of strings and a string."""
    subscripts = subscripts.replace(" ", "")
    inputs, arrow, output = subscripts.partition("->")
    inputs = inputs.split(",")
    if len(inputs) != len(shapes):
        raise ValueError(f"einsum: {len(inputs)} operand subscripts for {len(shapes)} operands")
    used = set(subscripts) - set(".,->")
    free = iter(c for c in _LETTERS if c not in used)
    widest = max((len(s) - (len(sub) - 3) for sub, s in zip(inputs, shapes) if "..." in sub), default=0)
    dots = "".join(next(free) for _ in range(widest))
    spelled = []
    for sub, shape in zip(inputs, shapes):
        if "..." in sub:
            width = len(shape) - (len(sub) - 3)
            if width < 0:
                raise ValueError(f"einsum: subscripts {sub!r} have more letters than the operand has axes {shape}")
            sub = sub.replace("...", dots[len(dots) - width:] if width else "")
        if len(sub) != len(shape):
            raise ValueError(f"einsum: subscripts {sub!r} do not fit an operand of shape {shape}")
        spelled.append(sub)
    if arrow:
        output = output.replace("...", dots)
    else:
        letters = "".join(spelled)
        output = dots + "".join(sorted(c for c in set(letters) - set(dots) if letters.count(c) == 1))
    return spelled, output


@defop("einsum", "y = einsum(subscripts, *xs);  gx_k = einsum of gy with the other operands, "
                 "back to x_k's subscripts (repeated letters: onto the diagonal)")
def _einsum(*operands, subscripts, optimize=False):
    return np.einsum(subscripts, *operands, optimize=optimize)


@_einsum.defvjp(needs=True)
def _einsum_vjp(F, gy, y, *operands, subscripts, needs, optimize=False):
    inputs, output = subscripts.split("->")
    inputs = inputs.split(",")
    sizes = {}
    for sub, x in zip(inputs, operands):
        for c, n in zip(sub, np.shape(value(x))):
            sizes[c] = max(sizes.get(c, 1), n)
    dtype = np.result_type(value(gy))
    unused = iter(c for c in _LETTERS if c not in sizes)
    grads = []
    for k, target in enumerate(inputs):
        if not needs[k]:
            grads.append(None)
            continue
        subs = [output] + inputs[:k] + inputs[k + 1:]
        args = [gy, *operands[:k], *operands[k + 1:]]
        alone = "".join(dict.fromkeys(c for c in target if not any(c in s for s in subs)))
        if alone:  # summed over in x_k alone: the gradient is the same all along them
            subs.append(alone)
            args.append(np.ones([sizes[c] for c in alone], dtype))
        result, seen = "", set()
        for c in target:
            if c in seen:  # a repeated letter (a diagonal): pair it with a fresh one through an identity
                fresh = next(unused)
                subs.append(c + fresh)
                args.append(np.eye(sizes[c], dtype=dtype))
                result += fresh
            else:
                seen.add(c)
                result += c
        grads.append(F.einsum(*args, subscripts=",".join(subs) + "->" + result, optimize=optimize))
    return tuple(grads)


def einsum(subscripts, *operands, optimize=False):
    """Einstein summation, like ``np.einsum``: explicit (``"ij,jk->ik"``) or
    implicit (``"ij,jk"``) output, ellipses, repeated letters (``"ii->i"``), and
    NumPy's other form ``einsum(x, [0, 1], y, [1, 2], [0, 2])``."""
    if not isinstance(subscripts, str):  # the sublist form: operand, axes, operand, axes, ..., [output]
        items = (subscripts,) + operands
        operands = items[0:len(items) - len(items) % 2:2]
        lists = list(items[1::2])
        if len(items) % 2:
            lists.append(items[-1])
        spell = lambda axes: "".join("..." if a is Ellipsis else _LETTERS[a] for a in axes)
        subscripts = ",".join(spell(s) for s in lists[:len(operands)])
        if len(lists) > len(operands):
            subscripts += "->" + spell(lists[-1])
    inputs, output = _explicit(subscripts, [np.shape(value(x)) for x in operands])
    return _einsum(*operands, subscripts=",".join(inputs) + "->" + output, optimize=optimize)


def _axes_pair(axes, na, nb):
    if isinstance(axes, (int, np.integer)):
        return list(range(na - axes, na)), list(range(axes))
    a, b = axes
    a = [a] if isinstance(a, (int, np.integer)) else list(a)
    b = [b] if isinstance(b, (int, np.integer)) else list(b)
    if len(a) != len(b):
        raise ValueError(f"tensordot: {len(a)} axes of a but {len(b)} of b")
    return [i % na for i in a], [i % nb for i in b]


def tensordot(a, b, axes=2):
    """Sum of products over ``axes`` (an int: the last ``axes`` of ``a`` with
    the first of ``b``; or a pair of axis lists), like ``np.tensordot``:
    transpose, reshape and one matmul, as NumPy does it."""
    sa, sb = np.shape(value(a)), np.shape(value(b))
    ax_a, ax_b = _axes_pair(axes, len(sa), len(sb))
    if any(sa[i] != sb[j] for i, j in zip(ax_a, ax_b)):
        raise ValueError(f"tensordot: shapes {sa} and {sb} do not match along axes {ax_a} and {ax_b}")
    free_a = [i for i in range(len(sa)) if i not in ax_a]
    free_b = [i for i in range(len(sb)) if i not in ax_b]
    k = math.prod(sa[i] for i in ax_a)
    order_a, order_b = free_a + ax_a, ax_b + free_b
    if order_a != list(range(len(sa))):
        a = transpose(a, axes=tuple(order_a))
    if order_b != list(range(len(sb))):
        b = transpose(b, axes=tuple(order_b))
    m, n = math.prod(sa[i] for i in free_a), math.prod(sb[i] for i in free_b)  # (no -1: a size may be 0)
    out = matmul(reshape(a, shape=(m, k)), reshape(b, shape=(k, n)))
    return reshape(out, shape=tuple(sa[i] for i in free_a) + tuple(sb[i] for i in free_b))


def dot(a, b):
    """``np.dot``: a product with scalars, the inner product of vectors, the
    matrix product, and for N-d ``a``, ``b`` the sum over the last axis of
    ``a`` and the second-to-last of ``b``."""
    na, nb = np.ndim(value(a)), np.ndim(value(b))
    if na == 0 or nb == 0:
        return mul(a, b)
    if nb <= 2:
        return matmul(a, b)
    return tensordot(a, b, axes=([na - 1], [nb - 2]))


def inner(a, b):
    """``np.inner``: the sum over the last axes of ``a`` and ``b`` (a product with scalars)."""
    na, nb = np.ndim(value(a)), np.ndim(value(b))
    if na == 0 or nb == 0:
        return mul(a, b)
    return tensordot(a, b, axes=([na - 1], [nb - 1]))


def vdot(a, b):
    """``np.vdot`` for real inputs: the inner product of the flattened arrays."""
    return matmul(reshape(a, shape=(-1,)), reshape(b, shape=(-1,)))


def outer(a, b):
    """``np.outer``: ``ravel(a)[:, None] * ravel(b)[None, :]``."""
    return mul(reshape(a, shape=(-1, 1)), reshape(b, shape=(1, -1)))


def kron(a, b):
    """The Kronecker product, like ``np.kron``: ``a`` and ``b`` interleaved
    axis by axis by one broadcast product, then reshaped."""
    sa, sb = np.shape(value(a)), np.shape(value(b))
    n = max(len(sa), len(sb))
    sa, sb = (1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb
    a = reshape(a, shape=tuple(d for s in sa for d in (s, 1)))
    b = reshape(b, shape=tuple(d for s in sb for d in (1, s)))
    return reshape(mul(a, b), shape=tuple(p * q for p, q in zip(sa, sb)))


def trace(a, offset=0, axis1=0, axis2=1):
    """Sum along a diagonal, like ``np.trace``: ``sum(diagonal(a, ...), axis=-1)``."""
    from .layout import diagonal
    return _sum(diagonal(a, offset=offset, axis1=axis1, axis2=axis2), axis=-1)


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """The cross product of 3-vectors along ``axisa`` of ``a`` and ``axisb`` of ``b``
    (broadcast over the other axes), placed along ``axisc``; ``axis`` sets all
    three, like ``np.cross``.  Composed of getitem, mul, sub and stack.  (NumPy's
    2-vectors are deprecated there and not supported here.)"""
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = moveaxis(a, axisa, -1), moveaxis(b, axisb, -1)
    if np.shape(value(a))[-1] != 3 or np.shape(value(b))[-1] != 3:
        raise ValueError(f"cross: needs 3-vectors along axisa and axisb, got shapes {np.shape(value(a))} "
                         f"and {np.shape(value(b))} (the vector axis moved last)")
    ai = [getitem(a, index=(Ellipsis, i)) for i in range(3)]
    bi = [getitem(b, index=(Ellipsis, i)) for i in range(3)]
    parts = [sub(mul(ai[(i + 1) % 3], bi[(i + 2) % 3]), mul(ai[(i + 2) % 3], bi[(i + 1) % 3])) for i in range(3)]
    return moveaxis(stack(parts, axis=-1), -1, axisc)
