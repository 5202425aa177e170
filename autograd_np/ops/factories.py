"""Tensors made from nothing, under PyTorch's names: ``tensor``, ``zeros``, ``ones``,
``full``, ``arange``, ``randn`` and ``rand``.

Each returns a new leaf (nothing is recorded).  The dtypes are NumPy's, not
PyTorch's: floats default to float64 (``torch.zeros`` gives float32), integers
to int64; pass ``dtype=np.float32`` for a float32 model's inputs.  Shapes come
as PyTorch takes them, ``zeros(2, 3)`` or ``zeros((2, 3))``.  The random ones
draw from ``generator``: a seed, a ``numpy.random.Generator``, or None for
fresh entropy (there is no global seed to set).  Every argument is checked, and
a refusal names the function and the argument."""
from __future__ import annotations

import math
import numbers

import numpy as np

from ..core import Tensor

__all__ = ["tensor", "zeros", "ones", "full", "arange", "randn", "rand"]


def _flag(value, name, who):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"ag.{who}: {name} must be True or False, got {value!r:.60}")
    return bool(value)


def _dtype(dtype, who, floating=False):
    """``dtype`` as a NumPy dtype (None stays None); numbers only, floats for ``floating``."""
    if dtype is None:
        return None
    try:
        dt = np.dtype(dtype)
    except (TypeError, ValueError):
        raise TypeError(f"ag.{who}: dtype {dtype!r:.60} is not a NumPy dtype") from None
    kinds = "f" if floating else "biufc"
    if dt.kind not in kinds:
        wanted = "a floating-point dtype (np.float32, np.float64)" if floating else "a numeric or bool dtype"
        raise TypeError(f"ag.{who}: dtype must be {wanted}, got {dt}")
    return dt


def _shape(shape, who):
    """PyTorch's two spellings, ``f(2, 3)`` and ``f((2, 3))``, as a tuple of ints >= 0."""
    if not shape:
        raise TypeError(f"ag.{who}: no shape given; pass one, e.g. {who}(2, 3), or () for a 0-d tensor")
    if len(shape) == 1 and not isinstance(shape[0], (numbers.Number, np.generic)):
        shape = shape[0]
    try:
        dims = tuple(shape)
    except TypeError:
        raise TypeError(f"ag.{who}: shape must be integers or a sequence of them, got {shape!r:.60}") from None
    for i, d in enumerate(dims):
        if isinstance(d, (bool, np.bool_)) or not isinstance(d, (numbers.Integral, np.integer)):
            raise TypeError(f"ag.{who}: shape[{i}] must be an integer, got {d!r:.40} (shape {dims!r:.80})")
        if d < 0:
            raise ValueError(f"ag.{who}: shape[{i}] is {d}: sizes are >= 0 (shape {dims!r:.80})")
    return tuple(int(d) for d in dims)


def _allocated(make, who, what):
    """``make()``, a refusal naming ``who`` and ``what`` instead of NumPy's MemoryError."""
    try:
        return make()
    except (MemoryError, ValueError, OverflowError) as exc:
        raise ValueError(f"ag.{who}: {what} does not fit in memory ({type(exc).__name__}: {exc})") from None


def _leaf(array, requires_grad, who):
    if _flag(requires_grad, "requires_grad", who) and array.dtype.kind != "f":
        raise TypeError(f"ag.{who}: requires_grad=True needs floating-point values, these are {array.dtype} "
                        "(pass dtype=np.float64 or np.float32)")
    return Tensor(array, requires_grad=requires_grad)


def _generator(generator, who):
    if isinstance(generator, np.random.Generator):
        return generator
    if generator is not None and (isinstance(generator, (bool, np.bool_))
                                  or not isinstance(generator, (numbers.Integral, np.integer)) or generator < 0):
        raise TypeError(f"ag.{who}: generator must be None, a seed (an integer >= 0) or a numpy.random.Generator, "
                        f"got {generator!r:.60}")
    return np.random.default_rng(None if generator is None else int(generator))


def tensor(data, dtype=None, requires_grad=False):
    """A new leaf tensor holding a copy of ``data``, as ``torch.tensor``.

    Parameters
    ----------
    data : array_like or Tensor
        Numbers: a scalar, a (nested) list, an array, or a tensor (its values
        are copied and cut from its graph, as ``torch.tensor(t)`` does; use
        ``ag.array`` to keep the graph).
    dtype : data-type, optional
        The dtype (default: NumPy's choice for ``data``: float64 for Python
        floats, int64 for Python ints).
    requires_grad : bool, optional
        Make it a parameter whose ``.grad`` backward fills (floating point
        only; default False).

    Returns
    -------
    Tensor
        A leaf that shares no memory with ``data``.

    Raises
    ------
    TypeError
        For data that are not numbers (strings, objects), a bad ``dtype`` or
        ``requires_grad`` on integers.
    ValueError
        For ragged lists.

    Notes
    -----
    Derivative: none recorded: a new leaf.

    Examples
    --------
    >>> w = ag.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> (w * w).sum().backward()
    >>> w.grad
    array([[2., 4.],
           [6., 8.]])
    >>> ag.tensor([1, 2, 3]).dtype
    dtype('int64')
    """
    dt = _dtype(dtype, "tensor")
    values = data.data if isinstance(data, Tensor) else data  # (.data: a value read, for ag.compile)
    try:
        array = np.array(values, dtype=dt, copy=True)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"ag.tensor: data cannot be read as an array of numbers ({exc})") from None
    if array.dtype.kind not in "biufc":
        raise TypeError(f"ag.tensor: data must be numbers (bool, integers, floats or complex), got {array.dtype} "
                        f"values from {type(data).__name__}")
    return _leaf(array, requires_grad, "tensor")


def zeros(*shape, dtype=None, requires_grad=False):
    """A new tensor of zeros, as ``torch.zeros`` (NumPy's default dtype).

    Parameters
    ----------
    *shape : int or sequence of int
        The shape, as ``zeros(2, 3)`` or ``zeros((2, 3))``; sizes >= 0.
    dtype : data-type, optional
        The dtype (default float64, NumPy's; PyTorch's is float32).
    requires_grad : bool, optional
        Make it a parameter (floating point only; default False).

    Returns
    -------
    Tensor
        A leaf of that shape.

    Notes
    -----
    Derivative: none recorded: a new leaf.

    Examples
    --------
    >>> ag.zeros(2, 3).shape
    (2, 3)
    >>> b = ag.zeros(3, dtype=np.float32, requires_grad=True)
    >>> (b + 1.0).sum().backward(); b.grad
    array([1., 1., 1.], dtype=float32)
    """
    return _filled(shape, 0, dtype, requires_grad, "zeros")


def ones(*shape, dtype=None, requires_grad=False):
    """A new tensor of ones, as ``torch.ones`` (NumPy's default dtype).

    Parameters
    ----------
    *shape : int or sequence of int
        The shape, as ``ones(2, 3)`` or ``ones((2, 3))``; sizes >= 0.
    dtype : data-type, optional
        The dtype (default float64, NumPy's; PyTorch's is float32).
    requires_grad : bool, optional
        Make it a parameter (floating point only; default False).

    Returns
    -------
    Tensor
        A leaf of that shape.

    Notes
    -----
    Derivative: none recorded: a new leaf.

    Examples
    --------
    >>> ag.ones((2, 2), dtype=np.int64)
    Tensor([[1 1]
     [1 1]], dtype=int64)
    """
    return _filled(shape, 1, dtype, requires_grad, "ones")


def full(shape, fill_value, dtype=None, requires_grad=False):
    """A new tensor of ``shape`` filled with ``fill_value``, as ``torch.full``.

    Parameters
    ----------
    shape : int or sequence of int
        The shape; sizes >= 0.
    fill_value : scalar
        The value (a number; NaN and inf are allowed, as in NumPy).
    dtype : data-type, optional
        The dtype (default: NumPy's for ``fill_value``: int64 for an int,
        float64 for a float).
    requires_grad : bool, optional
        Make it a parameter (floating point only; default False).

    Returns
    -------
    Tensor
        A leaf of that shape.

    Notes
    -----
    Derivative: none recorded: a new leaf.

    Examples
    --------
    >>> ag.full((2, 3), 0.5).data
    array([[0.5, 0.5, 0.5],
           [0.5, 0.5, 0.5]])
    """
    if not isinstance(fill_value, (numbers.Number, np.generic)) or isinstance(fill_value, (str, bytes)):
        raise TypeError(f"ag.full: fill_value must be a number, got {fill_value!r:.60}")
    return _filled((shape,), fill_value, dtype, requires_grad, "full")


def _filled(shape, value, dtype, requires_grad, who):
    dims, dt = _shape(shape, who), _dtype(dtype, who)
    if dt is None and who != "full":
        dt = np.dtype(np.float64)
    array = _allocated(lambda: np.full(dims, value, dtype=dt), who, f"shape {dims}")
    return _leaf(array, requires_grad, who)


def arange(start, end=None, step=1, dtype=None, requires_grad=False):
    """Evenly spaced values in ``[start, end)``, as ``torch.arange`` (and ``np.arange``).

    Parameters
    ----------
    start : number
        The first value; alone, the end (then the values start at 0).
    end : number, optional
        The end, excluded.
    step : number, optional
        The spacing (default 1; not 0).
    dtype : data-type, optional
        The dtype (default: NumPy's: int64 for ints, float64 when any argument
        is a float).
    requires_grad : bool, optional
        Make it a parameter (floating point only; default False).

    Returns
    -------
    Tensor
        A 1-d leaf of ``ceil((end - start) / step)`` values (none when that
        is <= 0).

    Notes
    -----
    Derivative: none recorded: a new leaf.

    Examples
    --------
    >>> ag.arange(5)
    Tensor([0 1 2 3 4], dtype=int64)
    >>> ag.arange(0.0, 1.0, 0.25).data
    array([0.  , 0.25, 0.5 , 0.75])
    """
    for name, v in (("start", start), ("end", start if end is None else end), ("step", step)):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
            raise TypeError(f"ag.arange: {name} must be a real number, got {v!r:.60}")
        if not math.isfinite(v):
            raise ValueError(f"ag.arange: {name} must be finite, got {v}")
    if step == 0:
        raise ValueError("ag.arange: step must not be 0")
    if end is None:  # arange(5): from 0 to 5
        start, end = 0, start
    dt = _dtype(dtype, "arange")
    count = max(0, math.ceil((end - start) / step))
    array = _allocated(lambda: np.arange(start, end, step, dtype=dt), "arange", f"{count} values")
    return _leaf(array, requires_grad, "arange")


def randn(*shape, generator=None, dtype=None, requires_grad=False):
    """Standard normal samples (mean 0, standard deviation 1), as ``torch.randn``.

    Parameters
    ----------
    *shape : int or sequence of int
        The shape, as ``randn(2, 3)`` or ``randn((2, 3))``; sizes >= 0.
    generator : None, int or numpy.random.Generator, optional
        Where the samples come from: a seed (the same seed, the same values), a
        Generator (advanced by the draw), or None (fresh entropy).
    dtype : data-type, optional
        A floating-point dtype (default float64; PyTorch's is float32).
    requires_grad : bool, optional
        Make it a parameter (default False).

    Returns
    -------
    Tensor
        A leaf of that shape.

    Notes
    -----
    Derivative: none recorded: a new leaf.

    Examples
    --------
    >>> a, b = ag.randn(2, 3, generator=0), ag.randn((2, 3), generator=0)
    >>> a.shape, bool((a == b).all())
    ((2, 3), True)
    """
    return _random(shape, generator, dtype, requires_grad, "randn")


def rand(*shape, generator=None, dtype=None, requires_grad=False):
    """Uniform samples in ``[0, 1)``, as ``torch.rand``.

    Parameters
    ----------
    *shape : int or sequence of int
        The shape, as ``rand(2, 3)`` or ``rand((2, 3))``; sizes >= 0.
    generator : None, int or numpy.random.Generator, optional
        Where the samples come from: a seed (the same seed, the same values), a
        Generator (advanced by the draw), or None (fresh entropy).
    dtype : data-type, optional
        A floating-point dtype (default float64; PyTorch's is float32).
    requires_grad : bool, optional
        Make it a parameter (default False).

    Returns
    -------
    Tensor
        A leaf of that shape.

    Notes
    -----
    Derivative: none recorded: a new leaf.

    Examples
    --------
    >>> u = ag.rand(1000, generator=np.random.default_rng(0), dtype=np.float32)
    >>> u.dtype, bool((u.data >= 0).all() and (u.data < 1).all())
    (dtype('float32'), True)
    """
    return _random(shape, generator, dtype, requires_grad, "rand")


def _random(shape, generator, dtype, requires_grad, who):
    dims, dt = _shape(shape, who), _dtype(dtype, who, floating=True) or np.dtype(np.float64)
    rng = _generator(generator, who)
    draw = rng.standard_normal if who == "randn" else rng.random
    if dt in (np.float32, np.float64):  # drawn in that dtype directly: no float64 temporary
        array = _allocated(lambda: draw(dims, dtype=dt), who, f"shape {dims}")
    else:
        array = _allocated(lambda: draw(dims).astype(dt), who, f"shape {dims}")
        if who == "rand":  # float16 rounds the draws just below 1 up to 1: [0, 1) excludes it
            array[array >= 1] = np.nextafter(dt.type(1), dt.type(0))
    return _leaf(array, requires_grad, who)
