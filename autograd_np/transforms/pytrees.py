"""Pytrees: arguments and results nested in tuples, lists and dicts (JAX's word).
A transform flattens them to a list of leaves (arrays, tensors, numbers), works
on the leaves, and builds the same structure back.  ``None`` is an empty tree."""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Tree", "flatten", "unflatten", "leaves", "tree_map", "broadcast_prefix", "path_name", "argument_name"]

_CONTAINERS = (tuple, list, dict)


@dataclass(frozen=True)
class Tree:
    """The structure of a pytree: ``kind`` is "leaf", "none", tuple, list or dict;
    ``keys`` the dict's keys in order; ``children`` the subtrees."""
    kind: object
    keys: tuple = ()
    children: tuple = ()

    @property
    def size(self):
        """How many leaves the structure holds."""
        if self.kind == "leaf":
            return 1
        return sum(c.size for c in self.children)


def flatten(tree):
    """(leaves, Tree) of a nested structure of tuples, lists and dicts (in key order
    as given); any other object, ``None`` excepted, is a leaf."""
    out = []
    return out, _flatten(tree, out)


def _flatten(tree, out):
    kind = type(tree)
    if tree is None:
        return Tree("none")
    if kind in (tuple, list):
        return Tree(kind, (), tuple(_flatten(v, out) for v in tree))
    if kind is dict:
        return Tree(dict, tuple(tree), tuple(_flatten(v, out) for v in tree.values()))
    out.append(tree)
    return Tree("leaf")


def unflatten(structure, leaves):
    """The tree of ``structure`` holding ``leaves`` in order."""
    it = iter(leaves)
    return _build(structure, it)


def _build(structure, it):
    if structure.kind == "leaf":
        return next(it)
    if structure.kind == "none":
        return None
    if structure.kind is dict:
        return {k: _build(c, it) for k, c in zip(structure.keys, structure.children)}
    return structure.kind(_build(c, it) for c in structure.children)


def leaves(tree):
    return flatten(tree)[0]


def tree_map(fn, tree):
    flat, structure = flatten(tree)
    return unflatten(structure, [fn(x) for x in flat])


def broadcast_prefix(prefix, tree, what):
    """``prefix`` (a value or a tree that is a prefix of ``tree``'s structure, JAX's
    ``in_axes`` rule) given per leaf of ``tree``: a list as long as its leaves.
    ``what`` names the argument in the error of a structure that does not fit."""
    out = []
    _broadcast(prefix, tree, out, what, "")
    return out


def _broadcast(prefix, tree, out, what, path):
    if type(prefix) in _CONTAINERS:
        if type(tree) is not type(prefix) or len(tree) != len(prefix) or \
                (type(tree) is dict and set(tree) != set(prefix)):
            raise ValueError(f"{what}: {_kind(prefix)} at {path or 'the top'} does not match the argument's "
                             f"structure there ({_kind(tree)}); give one value per argument, or one for all")
        items = prefix.items() if type(prefix) is dict else enumerate(prefix)
        for key, value in items:
            _broadcast(value, tree[key], out, what, f"{path}[{key!r}]")
        return
    out.extend([prefix] * len(leaves(tree)))


def _kind(value):
    if type(value) in _CONTAINERS:
        return f"a {type(value).__name__} of {len(value)}" + (f" (keys {sorted(map(str, value))})"
                                                               if type(value) is dict else "")
    return type(value).__name__


def path_name(structure, index, root="argument"):
    """A readable name of leaf ``index`` of ``structure``: ``root 1['w']`` below a tuple or
    list, ``root['w']`` below a dict, ``root`` for a lone leaf."""
    found, _ = _path(structure, index, "")
    if found and structure.kind in (tuple, list):
        position, _, rest = found[1:].partition("]")
        return f"{root} {position}{rest}"
    return root + (found or "")


def argument_name(args_structure, index):
    """The name of leaf ``index`` of a call's positional arguments: ``argument 1['w']``."""
    return path_name(args_structure, index, "argument")


def _path(structure, index, prefix):
    """(path or None, leaves used) finding leaf ``index`` below ``structure``."""
    if structure.kind == "leaf":
        return (prefix, 1) if index == 0 else (None, 1)
    if structure.kind == "none":
        return None, 0
    used = 0
    keys = structure.keys if structure.kind is dict else range(len(structure.children))
    for key, child in zip(keys, structure.children):
        found, n = _path(child, index - used, f"{prefix}[{key!r}]")
        if found is not None:
            return found, used + n
        used += n
    return None, used
