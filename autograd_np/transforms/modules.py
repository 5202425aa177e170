"""``functional_call``: a model (a ``nets`` module, or any object with
``named_parameters()``) run with the parameters given, as ``torch.func``'s: the
bridge from a model that holds its parameters to the transforms, which take
them as arguments (``vmap(grad(loss), in_axes=(None, 0, 0))(params, x, t)``:
per-example gradients)."""
from __future__ import annotations

from ..core import Tensor

__all__ = ["functional_call"]


def functional_call(module, params, *args, **kwargs):
    """Call a model with the parameters given instead of its own (as ``torch.func``'s).

    Parameters
    ----------
    module : nets module or bound method
        The model (or one of its methods, ``model.loss``: then that method is called).
    params : dict
        Parameter name, as ``module.named_parameters()`` gives it (``"fc1.W"``, ``"0.W"``),
        to an array or tensor.  Parameters not in it keep their own tensors.
    *args
        The call's positional arguments.
    **kwargs
        Its keyword arguments.

    Returns
    -------
    object
        What the call returns.  The module is left as it was, even when the call raises.

    Examples
    --------
    >>> class Scale:
    ...     def __init__(self):
    ...         self.w = ag.Tensor(np.array(2.0), requires_grad=True)
    ...     def named_parameters(self):
    ...         return [("w", self.w)]
    ...     def __call__(self, x):
    ...         return self.w * x
    >>> model = Scale()
    >>> ag.func.functional_call(model, {"w": ag.Tensor(5.0)}, 3.0)
    Tensor(15., dtype=float64)
    >>> model.w
    Tensor(2., dtype=float64, requires_grad=True)
    """
    call = module
    module = getattr(module, "__self__", module)  # a bound method: its module's parameters
    if not hasattr(module, "named_parameters"):
        raise TypeError(f"functional_call: {type(module).__name__} has no named_parameters(); pass a nets module "
                        "or one of its methods")
    if not isinstance(params, dict):
        raise TypeError(f"functional_call: params must be a dict of parameter name -> array or tensor, got "
                        f"{type(params).__name__}")
    known = dict(module.named_parameters())
    unknown = [k for k in params if k not in known]
    if unknown:
        raise KeyError(f"functional_call: {type(module).__name__} has no parameter {unknown[0]!r} (it has "
                       f"{', '.join(sorted(known)) or 'none'})")
    owners = _owners(module)
    swapped = []
    try:
        for name, value in params.items():
            owner, key = owners.get(name) or _owner(module, name)
            swapped.append((owner, key, _get(owner, key)))
            _set(owner, key, value)
        return call(*args, **kwargs)
    finally:
        for owner, key, old in reversed(swapped):
            _set(owner, key, old)


def _owners(module):
    """{parameter name: (the module holding it, its attribute)} for modules that list their
    sub-modules (``named_modules``, as nets' do, Sequential's positions included)."""
    if not hasattr(module, "named_modules"):
        return {}
    found = {}
    for prefix, sub in module.named_modules():
        for key, value in vars(sub).items():
            if isinstance(value, Tensor) and value.requires_grad:
                found[f"{prefix}.{key}" if prefix else key] = (sub, key)
    return found


def _owner(root, name):
    """(the object holding parameter ``name`` ("blocks.0.W"), the last key)."""
    *path, last = name.split(".")
    obj = root
    for part in path:
        obj = _get(obj, part)
    return obj, last


def _get(obj, key):
    if isinstance(obj, (list, tuple)):
        return obj[int(key)]
    if isinstance(obj, dict):
        return obj[key] if key in obj else obj[int(key)]
    return getattr(obj, key)


def _set(obj, key, value):
    if isinstance(obj, list):
        obj[int(key)] = value
    elif isinstance(obj, dict):
        obj[key if key in obj else int(key)] = value
    else:
        object.__setattr__(obj, key, value)  # (not the module's __setattr__: it would rename the tensor)
