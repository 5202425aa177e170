"""The arguments of a transform: which are differentiated (``argnums``), their
leaves (arrays and tensors in tuples, lists and dicts), tangents and cotangents
checked against them, and results given back as the caller's kind (arrays for
arrays; tensors when a tensor was passed or a result is part of a graph)."""
from __future__ import annotations

import numpy as np

from ..core import Tensor
from ..core.errors import ShapeError
from .levels import current
from .pytrees import Tree, flatten, path_name, unflatten

__all__ = ["Differentiated", "check_like", "give", "arrays_only", "describe"]


def describe(x):
    """``a float64 array of shape (3,)``: for messages."""
    if type(x) is Tensor:
        what = f"{x.dtype} tensor of shape {x.shape}"
    elif isinstance(x, np.ndarray):
        what = f"{x.dtype} array of shape {x.shape}"
    else:
        what = "None" if x is None else type(x).__name__
    return what if x is None else ("an " if what[0] in "aeiou" else "a ") + what


def _argnums(argnums, count, who):
    """``argnums`` as a tuple of non-negative ints, and whether a single one was given."""
    single = isinstance(argnums, (int, np.integer)) and not isinstance(argnums, bool)
    nums = (argnums,) if single else argnums
    if not isinstance(nums, (tuple, list)) or not nums or \
            not all(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in nums):
        raise TypeError(f"{who}: argnums must be an int or a non-empty tuple of ints, got {argnums!r}")
    out = []
    for i in nums:
        if not -count <= i < count:
            raise ValueError(f"{who}: argnums {argnums!r} asks for argument {i}, but f was called with {count} "
                             "positional argument" + ("" if count == 1 else "s"))
        out.append(int(i) % count)
    if len(set(out)) != len(out):
        raise ValueError(f"{who}: argnums {argnums!r} names an argument twice")
    return tuple(out), single


class Differentiated:
    """The differentiated arguments of one call: their leaves, how to put variables in
    their places (``rebuild``), and how to shape per-leaf results like them (``shape``)."""

    def __init__(self, args, argnums, who):
        self.args, self.who = tuple(args), who
        self.nums, self.single = _argnums(argnums, len(self.args), who)
        self.trees, self.leaves, self.names = [], [], []
        for i in self.nums:
            flat, tree = flatten(self.args[i])
            if not flat:
                raise TypeError(f"{who}: argument {i} is {describe(self.args[i])}, with no array to differentiate; "
                                "differentiate with respect to arrays, tensors or floats (argnums)")
            self.trees.append(tree)
            for k, leaf in enumerate(flat):
                name = path_name(tree, k, f"argument {i}")
                self.leaves.append(_differentiable(leaf, name, who))
                self.names.append(name)

    def rebuild(self, variables):
        args, it = list(self.args), iter(variables)
        for i, tree in zip(self.nums, self.trees):
            args[i] = unflatten(tree, [next(it) for _ in range(tree.size)])
        return tuple(args)

    def shape(self, per_leaf):
        """Per-leaf results in the arguments' structure: one tree for an int argnums, a tuple of them else."""
        it = iter(per_leaf)
        trees = [unflatten(tree, [next(it) for _ in range(tree.size)]) for tree in self.trees]
        return trees[0] if self.single else tuple(trees)

    @property
    def structure(self):
        return self.trees[0] if self.single else Tree(tuple, (), tuple(self.trees))


def _differentiable(x, name, who):
    """A leaf to differentiate: a real floating-point array, tensor or number."""
    if isinstance(x, (float, np.floating)) and not isinstance(x, bool):
        return np.asarray(x)
    if type(x) is Tensor or isinstance(x, np.ndarray):
        if x.dtype.kind != "f":
            raise TypeError(f"{who}: {name} is {describe(x)}; only real floating-point arguments can be "
                            "differentiated (pass it as float, or leave it out of argnums)")
        return x
    raise TypeError(f"{who}: {name} is {describe(x)}; the differentiated arguments must be arrays, tensors or "
                    "floats (in tuples, lists or dicts)")


def check_like(values, references, names, who, what):
    """Tangents or cotangents, one per reference tensor: each of its shape and dtype
    (a number takes the reference's dtype); None stays None (zero)."""
    out = []
    for v, ref, name in zip(values, references, names):
        if v is None:
            out.append(None)
            continue
        if isinstance(v, (int, float, np.number)) and not isinstance(v, bool):
            v = np.asarray(v, dtype=ref.dtype)
        if not (type(v) is Tensor or isinstance(v, np.ndarray)):
            raise TypeError(f"{who}: the {what} for {name} is {describe(v)}, not an array or tensor")
        if tuple(v.shape) != tuple(ref.shape) or v.dtype != ref.dtype:
            raise ShapeError(f"{who}: the {what} for {name} is {describe(v)}, but {name} is {describe(ref)}; they "
                             "must have the same shape and dtype")
        out.append(v)
    return out


def arrays_only(tree):
    """Whether no tensor is among the leaves (results are then given as arrays)."""
    return not any(type(x) is Tensor for x in flatten(tree)[0])


def give(x, arrays):
    """A result as the caller's kind: at the bottom level, an array when the caller
    passed arrays only and it is not part of a graph; else a tensor."""
    if type(x) is Tensor:
        if arrays and not x._requires_grad and current() is None and isinstance(x._data, np.ndarray):
            return x._data
        return x
    if isinstance(x, np.generic):  # (NumPy's arithmetic on 0-d arrays gives scalars)
        x = np.asarray(x)
    if isinstance(x, np.ndarray) and not arrays:
        return Tensor(x)
    return x
