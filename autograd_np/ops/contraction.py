"""Contractions: einsum (a primitive), and tensordot, dot, inner, outer, vdot,
kron, trace and cross composed from the shape ops, matmul and mul (exact, and
BLAS fast where NumPy's own are)."""
import math

import numpy as np

from ..core.recording import defop
from ._util import value
from .arithmetic import mul, sub
from .axes import moveaxis
from .linalg import matmul
from .reductions import sum as _sum
from .shape import getitem, reshape, stack, transpose
from ._jvp import total

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


@_einsum.defjvp(rule="ty = sum over k of einsum(subscripts, *xs with x_k replaced by tx_k)")
def _einsum_jvp(F, tangents, y, *operands, subscripts, optimize=False):
    return total(*(None if t is None else F.einsum(*operands[:k], t, *operands[k + 1:], subscripts=subscripts,
                                                   optimize=optimize) for k, t in enumerate(tangents)))


def einsum(subscripts, *operands, optimize=False):
    """Einstein summation, like ``np.einsum``.

    Explicit (``"ij,jk->ik"``) or implicit (``"ij,jk"``: the letters used once,
    sorted) output, ellipses, repeated letters (``"ii->i"``: a diagonal), and
    NumPy's other form ``einsum(x, [0, 1], y, [1, 2], [0, 2])`` (operands each
    followed by its axis numbers, then optionally the output's).

    Parameters
    ----------
    subscripts : str or array_like or Tensor
        The subscripts, comma-separated per operand; or, in the sublist form, the
        first operand.
    *operands : array_like or Tensor
        The operands (in the sublist form: the axis lists interleaved with the
        rest of the operands, then optionally the output's axis list).
    optimize : bool or str, optional
        Passed to ``np.einsum`` for the contraction order (default False).

    Returns
    -------
    Tensor
        The contraction, with the output subscripts' axes.

    Notes
    -----
    Derivative: the subscripts are spelled out (ellipses as letters, the output
    explicit) and one ``einsum`` op is recorded; its rule: the gradient of each
    operand is the einsum of ``gy`` with the other operands back to that operand's
    subscripts (a repeated letter: onto the diagonal; a letter summed over in that
    operand alone: broadcast along it).

    Examples
    --------
    >>> a = ag.Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    >>> b = ag.Tensor(np.array([1.0, 10.0]), requires_grad=True)
    >>> y = ag.einsum("ij,j->i", a, b)
    >>> y
    Tensor([21. 43.], dtype=float64, op=einsum)
    >>> y.sum().backward()
    >>> a.grad
    array([[ 1., 10.],
           [ 1., 10.]])
    >>> b.grad
    array([4., 6.])
    >>> ag.einsum("ii", a)
    Tensor(5., dtype=float64, op=einsum)
    >>> ag.einsum(a, [0, 1], b, [1], [0])
    Tensor([21. 43.], dtype=float64, op=einsum)
    """
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
    """Sum of products over the given axes, like ``np.tensordot``.

    Computed as NumPy does: a transpose, a reshape and one ``matmul``.

    Parameters
    ----------
    a : array_like or Tensor
        The first operand.
    b : array_like or Tensor
        The second operand.
    axes : int or (sequence of int, sequence of int), optional
        An int ``n``: the last ``n`` axes of ``a`` with the first ``n`` of ``b``
        (default 2); or a pair of axis lists (or ints), summed pairwise.

    Returns
    -------
    Tensor
        The free axes of ``a`` followed by those of ``b``.

    Notes
    -----
    Derivative: by the chain rule through the ops it is built from (transpose,
    reshape, matmul). Sizes that do not match along the summed axes are a
    ValueError.

    Examples
    --------
    >>> a = ag.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    >>> b = ag.Tensor(np.ones((3, 2)), requires_grad=True)
    >>> y = ag.tensordot(a, b, axes=1)
    >>> y
    Tensor([[ 3.  3.]
     [12. 12.]], dtype=float64, op=reshape)
    >>> y.sum().backward()
    >>> a.grad
    array([[2., 2., 2.],
           [2., 2., 2.]])
    >>> ag.tensordot(a, a, axes=([0, 1], [0, 1]))
    Tensor(55., dtype=float64, op=reshape)
    """
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
    """Dot product of two arrays, like ``np.dot``.

    A product with scalars, the inner product of vectors, the matrix product, and
    for N-d ``a``, ``b`` the sum over the last axis of ``a`` and the
    second-to-last of ``b``.

    Parameters
    ----------
    a : array_like or Tensor
        The first operand.
    b : array_like or Tensor
        The second operand.

    Returns
    -------
    Tensor
        As ``np.dot(a, b)``.

    Notes
    -----
    Derivative: by the chain rule through ``mul`` (a scalar operand), ``matmul``
    (``b`` of at most 2 axes) or ``tensordot``.

    Examples
    --------
    >>> a = ag.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    >>> y = ag.dot(a, np.array([4.0, 5.0, 6.0]))
    >>> y
    Tensor(32., dtype=float64, op=matmul)
    >>> y.backward()
    >>> a.grad
    array([4., 5., 6.])
    """
    na, nb = np.ndim(value(a)), np.ndim(value(b))
    if na == 0 or nb == 0:
        return mul(a, b)
    if nb <= 2:
        return matmul(a, b)
    return tensordot(a, b, axes=([na - 1], [nb - 2]))


def inner(a, b):
    """Inner product over the last axes, like ``np.inner``.

    The sum over the last axes of ``a`` and ``b`` (a product when either is a
    scalar).

    Parameters
    ----------
    a : array_like or Tensor
        The first operand.
    b : array_like or Tensor
        The second operand; its last axis has the size of ``a``'s.

    Returns
    -------
    Tensor
        Of shape ``a.shape[:-1] + b.shape[:-1]``.

    Notes
    -----
    Derivative: by the chain rule through ``mul`` (a scalar operand) or
    ``tensordot``.

    Examples
    --------
    >>> a = ag.Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    >>> y = ag.inner(a, np.array([1.0, 10.0]))
    >>> y
    Tensor([21. 43.], dtype=float64, op=reshape)
    >>> y.sum().backward()
    >>> a.grad
    array([[ 1., 10.],
           [ 1., 10.]])
    """
    na, nb = np.ndim(value(a)), np.ndim(value(b))
    if na == 0 or nb == 0:
        return mul(a, b)
    return tensordot(a, b, axes=([na - 1], [nb - 1]))


def vdot(a, b):
    """Inner product of the flattened arrays, like ``np.vdot`` for real inputs.

    Parameters
    ----------
    a : array_like or Tensor
        The first operand.
    b : array_like or Tensor
        The second operand, with as many elements as ``a``.

    Returns
    -------
    Tensor
        A scalar.

    Notes
    -----
    Derivative: by the chain rule through ``reshape`` and ``matmul``.

    Examples
    --------
    >>> a = ag.Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    >>> y = ag.vdot(a, np.array([[1.0, 0.0], [0.0, 1.0]]))
    >>> y
    Tensor(5., dtype=float64, op=matmul)
    >>> y.backward()
    >>> a.grad
    array([[1., 0.],
           [0., 1.]])
    """
    return matmul(reshape(a, shape=(-1,)), reshape(b, shape=(-1,)))


def outer(a, b):
    """Outer product of the flattened arrays, like ``np.outer``.

    ``ravel(a)[:, None] * ravel(b)[None, :]``.

    Parameters
    ----------
    a : array_like or Tensor
        The first operand (flattened).
    b : array_like or Tensor
        The second operand (flattened).

    Returns
    -------
    Tensor
        Of shape ``(a.size, b.size)``.

    Notes
    -----
    Derivative: by the chain rule through ``reshape`` and ``mul``.

    Examples
    --------
    >>> a = ag.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    >>> y = ag.outer(a, np.array([1.0, 10.0, 100.0]))
    >>> y
    Tensor([[  1.  10. 100.]
     [  2.  20. 200.]], dtype=float64, op=mul)
    >>> y.sum().backward()
    >>> a.grad
    array([111., 111.])
    """
    return mul(reshape(a, shape=(-1, 1)), reshape(b, shape=(1, -1)))


def kron(a, b):
    """Kronecker product, like ``np.kron``.

    ``a`` and ``b`` are interleaved axis by axis by one broadcast product, then
    reshaped (the shorter shape is padded with leading 1s).

    Parameters
    ----------
    a : array_like or Tensor
        The first operand (the blocks' scales).
    b : array_like or Tensor
        The second operand (the block).

    Returns
    -------
    Tensor
        Of shape ``a.shape * b.shape`` elementwise.

    Notes
    -----
    Derivative: by the chain rule through ``reshape`` and ``mul``.

    Examples
    --------
    >>> a = ag.Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    >>> y = ag.kron(np.eye(2), a)
    >>> y
    Tensor([[1. 2. 0. 0.]
     [3. 4. 0. 0.]
     [0. 0. 1. 2.]
     [0. 0. 3. 4.]], dtype=float64, op=reshape)
    >>> y.sum().backward()
    >>> a.grad
    array([[2., 2.],
           [2., 2.]])
    """
    sa, sb = np.shape(value(a)), np.shape(value(b))
    n = max(len(sa), len(sb))
    sa, sb = (1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb
    a = reshape(a, shape=tuple(d for s in sa for d in (s, 1)))
    b = reshape(b, shape=tuple(d for s in sb for d in (1, s)))
    return reshape(mul(a, b), shape=tuple(p * q for p, q in zip(sa, sb)))


def trace(a, offset=0, axis1=0, axis2=1):
    """Sum along a diagonal, like ``np.trace``.

    ``sum(diagonal(a, offset, axis1, axis2), axis=-1)``.

    Parameters
    ----------
    a : array_like or Tensor
        At least 2-d.
    offset : int, optional
        The diagonal: above the main one when positive, below when negative
        (default 0).
    axis1 : int, optional
        The first axis of the planes (default 0).
    axis2 : int, optional
        The second axis of the planes (default 1).

    Returns
    -------
    Tensor
        ``a``'s other axes (a scalar for a matrix).

    Notes
    -----
    Derivative: by the chain rule through ``diagonal`` (a ``getitem``) and
    ``sum``: ``gy`` on the diagonal, 0 elsewhere.

    Examples
    --------
    >>> a = ag.Tensor(np.arange(9.0).reshape(3, 3), requires_grad=True)
    >>> y = ag.trace(a)
    >>> y
    Tensor(12., dtype=float64, op=sum)
    >>> y.backward()
    >>> a.grad
    array([[1., 0., 0.],
           [0., 1., 0.],
           [0., 0., 1.]])
    >>> ag.trace(a, offset=1)
    Tensor(6., dtype=float64, op=sum)
    """
    from .building import diagonal
    return _sum(diagonal(a, offset=offset, axis1=axis1, axis2=axis2), axis=-1)


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Cross product of 3-vectors, like ``np.cross``.

    The vectors lie along ``axisa`` of ``a`` and ``axisb`` of ``b`` (broadcast over
    the other axes), and the result along ``axisc``. NumPy's 2-vectors are
    deprecated there and not supported here (a ValueError).

    Parameters
    ----------
    a : array_like or Tensor
        The first vectors.
    b : array_like or Tensor
        The second vectors.
    axisa : int, optional
        The vector axis of ``a`` (default -1).
    axisb : int, optional
        The vector axis of ``b`` (default -1).
    axisc : int, optional
        The vector axis of the result (default -1).
    axis : int or None, optional
        If given, sets all three.

    Returns
    -------
    Tensor
        The cross products, of the broadcast shape.

    Notes
    -----
    Derivative: by the chain rule through the ops it is built from (moveaxis,
    getitem, mul, sub, stack).

    Examples
    --------
    >>> a = ag.Tensor(np.array([1.0, 0.0, 0.0]), requires_grad=True)
    >>> b = ag.Tensor(np.array([0.0, 1.0, 0.0]), requires_grad=True)
    >>> y = ag.cross(a, b)
    >>> y
    Tensor([0. 0. 1.], dtype=float64, op=transpose)
    >>> y[2].backward()
    >>> a.grad, b.grad
    (array([1., 0., 0.]), array([0., 1., 0.]))
    """
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
