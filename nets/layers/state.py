"""A module's arrays: parameters and buffers by name (``state_dict``, ``load_state_dict``),
buffers (``register_buffer``), the dtype (``astype``)."""
from __future__ import annotations

from collections import OrderedDict
from typing import Iterator

import numpy as np

__all__ = ["StateDictError", "ModuleState"]


class StateDictError(KeyError):
    """A state dict does not fit the module (missing / unexpected key, wrong shape)."""

    def __str__(self):  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""



class ModuleState:
    """The state-dict part of ``Module`` (its base class): it reads ``named_parameters``
    and ``named_modules``, which ``Module`` defines."""

    def register_buffer(self, name: str, array):
        """Keep ``array`` as attribute ``name``, saved in ``state_dict`` but not trained."""
        buffers = vars(self).setdefault("_buffer_names", [])
        if name not in buffers:
            buffers.append(name)
        setattr(self, name, np.asarray(array))

    def named_buffers(self) -> Iterator[tuple[str, np.ndarray]]:
        for mname, mod in self.named_modules():
            for b in vars(mod).get("_buffer_names", ()):
                yield (f"{mname}.{b}" if mname else b), getattr(mod, b)

    def num_parameters(self) -> int:
        return int(sum(p.size for p in self.parameters()))

    @property
    def dtype(self):
        ps = self.parameters()
        return ps[0].dtype if ps else np.dtype(np.float32)

    def astype(self, dtype):
        """Convert every parameter and floating buffer to ``dtype`` in place; returns self.

        ``model.astype(np.float64)`` before a gradient check.  The parameter
        tensors stay the same objects (optimizers keep working); grads are cleared."""
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            dtype = None
        if dtype is None or dtype.kind != "f":
            raise TypeError(f"{type(self).__name__}.astype: dtype must be a floating-point dtype (np.float32, "
                            f"np.float64), got {dtype!r}")
        for p in self.parameters():
            p.data = p.data.astype(dtype)
            p.grad = None
        for mname, mod in self.named_modules():
            for b in vars(mod).get("_buffer_names", ()):
                arr = getattr(mod, b)
                if arr.dtype.kind == "f":
                    setattr(mod, b, arr.astype(dtype))
        return self

    def state_dict(self) -> "OrderedDict[str, np.ndarray]":
        """Copies of every parameter and buffer array, by name."""
        out = OrderedDict()
        for name, p in self.named_parameters():
            out[name] = p.data.copy()
        for name, b in self.named_buffers():
            out[name] = np.array(b, copy=True)
        return out

    def load_state_dict(self, state, strict: bool = True):
        """Copy arrays from ``state`` (name -> array) into the parameters and buffers.

        Raises ``StateDictError`` naming the key on a missing or unexpected
        key (with ``strict``) or a shape mismatch; nothing is changed then.
        Values are cast to each parameter's current dtype."""
        params = dict(self.named_parameters())
        owners = {}
        for mname, mod in self.named_modules():
            for b in vars(mod).get("_buffer_names", ()):
                owners[f"{mname}.{b}" if mname else b] = (mod, b)
        expected = list(params) + list(owners)
        if strict:
            missing = [k for k in expected if k not in state]
            unexpected = [k for k in state if k not in params and k not in owners]
            if missing or unexpected:
                parts = []
                if missing:
                    parts.append("missing key(s) " + ", ".join(repr(k) for k in missing))
                if unexpected:
                    parts.append("unexpected key(s) " + ", ".join(repr(k) for k in unexpected))
                raise StateDictError(f"load_state_dict for {type(self).__name__}: " + "; ".join(parts))
        for k in expected:  # check every shape before changing anything
            if k not in state:
                continue
            current = params[k].data if k in params else getattr(*owners[k])
            got = np.shape(state[k])
            if got != current.shape:
                raise StateDictError(f"load_state_dict for {type(self).__name__}: key {k!r} has shape {got} "
                                     f"in the state dict but {current.shape} in the model")
        for k, p in params.items():
            if k in state:
                p.data = np.array(state[k], dtype=p.dtype, copy=True)
                p.grad = None
        for k, (mod, b) in owners.items():
            if k in state:
                old = getattr(mod, b)
                setattr(mod, b, np.array(state[k], dtype=old.dtype, copy=True))
        return self
