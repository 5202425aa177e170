"""Recording: ``Op`` (a forward and its VJP), ``defop`` (registers one), and the
function that applies an op to tensors and records a ``Node`` when some input
requires grad and recording is on."""
from __future__ import annotations

import numpy as np

from . import modes as _modes
from .engine import Tensor
from .errors import ShapeError, describe
from .graph import Node, _clock
from .modes import GRAD_ENABLED as _GRAD_ENABLED
from .registry import GRAPH_OPS, OPS, RAW_OPS

__all__ = ["Op", "defop"]

_new = object.__new__  # a slotted instance without running __init__
_ndarray = np.ndarray
_NO_PARAMS = {}  # the params of every node recorded without keyword parameters (never written to)


class Op:
    """A differentiable primitive: ``forward`` on arrays plus its ``vjp``.

    ``vjp(F, gy, y, *inputs, **params)`` returns one gradient per input (a
    single value for one input; ``None`` where an input gets no gradient).
    ``F`` holds the ops: raw array functions in a first-order backward, graph
    ops under ``create_graph=True``; ``gy``, ``y`` and ``inputs`` are arrays or
    tensors to match.  The VJP must not modify ``gy`` in place.  A VJP
    registered with ``defvjp(fn, needs=True)`` also receives ``needs``, one bool
    per input, and may skip (return ``None`` for) gradients nobody needs.

    ``defsave(fn)`` gives an op a second forward, used when the call is
    recorded: ``fn(*inputs, **params) -> (y, saved)``.  A plain backward passes
    ``saved=`` to the VJP, so work the forward did (softmax-with-loss: its
    probabilities) is not done again; under ``create_graph`` and in
    ``check_graph`` the VJP gets no ``saved`` and computes from the inputs.

    An op is applied by ``op.apply`` (see ``_applier``), the function that
    ``defop`` returns and ``ag.sigmoid`` is; calling the Op does the same.
    """

    __slots__ = ("name", "forward", "vjp", "rule", "wants_needs", "save", "apply")

    def __init__(self, name, forward, rule):
        self.name, self.forward, self.rule, self.wants_needs, self.save = name, forward, rule, False, None
        self.vjp = self._no_vjp
        self.apply = _applier(self)

    @property
    def __doc__(self):  # help(ag.OPS["sigmoid"]) shows the forward's docstring and the derivative rule
        return f"{self.forward.__doc__ or ''}\n\nDerivative: {self.rule}"

    def _no_vjp(self, *args, **params):
        raise NotImplementedError(f"backward: op {self.name!r} has no VJP; register one with "
                                  f"@{self.name}.defvjp (see defop)")

    @property
    def has_vjp(self):
        return self.vjp != self._no_vjp

    def defvjp(self, vjp=None, *, needs=False):
        if vjp is None:
            return lambda fn: self.defvjp(fn, needs=needs)
        self.vjp, self.wants_needs = vjp, needs
        return vjp

    def defsave(self, fn):
        self.save = fn
        return fn

    def __repr__(self):
        return f"<op {self.name}: {self.rule}>"

    def __call__(self, *args, **params):
        return self.apply(*args, **params)


def _applier(op):
    """The function that applies ``op``: runs the forward on the arrays and, when
    some input requires grad and recording is on, records a ``Node``.

    A closure per op rather than ``Op.__call__``: calling an instance costs
    CPython 3.11 almost twice what calling a function does, on every op."""
    forward, name = op.forward, op.name

    def apply(*args, **params):
        if _modes.anomaly_blocks and _modes.ANOMALY.get() is not None:  # one global read when no block is open
            return _modes.ANOMALY.get().run_op(op, args, params)
        record = False
        raw = []
        links = []
        for a in args:
            if type(a) is Tensor:
                raw.append(a._data)
                if a.requires_grad:
                    record = True
                    links.append(a._node or a)
                else:
                    links.append(a)
            else:
                if type(a) is not float and isinstance(a, np.generic):
                    a = a.item()  # a NumPy scalar must not upcast float32 data
                raw.append(a)
                links.append(a)
        recording = record and _GRAD_ENABLED.get()
        extra = None
        try:
            if recording and op.save is not None:
                data, extra = op.save(*raw, **params)
            else:
                data = forward(*raw, **params)
        except ShapeError:
            raise
        except (ValueError, TypeError, IndexError) as exc:
            raise ShapeError(f"{name}: cannot apply to {describe(raw)}: {exc}") from None
        if type(data) is not _ndarray:
            data = np.asarray(data)
        out = _new(Tensor)
        out._data = data
        out.grad = None
        if not recording:
            out.requires_grad = False
            out._node = out._name = None
            out._version = 0
            return out
        # separate statements: a tuple assignment builds and unpacks a tuple first
        node = Node()
        node.op = op
        node.inputs = links
        node.params = params or _NO_PARAMS  # one shared empty dict: a retained object fewer per node
        node.seq = next(_clock)
        node.shape = data.shape
        node.dtype = data.dtype
        node.out = data
        node.saved = raw
        if extra is not None:
            node.extra = extra
        node.name = node.module = node.where = None
        out.requires_grad = True
        out._node = node  # a recorded output reads its name and version from its node
        return out

    apply.__name__ = apply.__qualname__ = name
    return apply


def defop(name: str, rule: str):
    """Register ``fn`` (a function of arrays) as op ``name``; ``rule`` is its
    one-line derivative, shown by the docs.

    Returns the function that applies the op to tensors (``ag.sigmoid`` is
    one).  It carries the ``Op`` as ``.op`` and its ``defvjp`` / ``defsave``:
    attach the VJP with ``@fn.defvjp``."""

    def register(fn):
        if name in OPS:
            raise ValueError(f"defop: an op named {name!r} is already registered")
        op = Op(name, fn, rule)
        OPS[name] = op
        setattr(RAW_OPS, name, fn)
        apply = op.apply
        setattr(GRAPH_OPS, name, apply)
        for operator, op_name in Tensor.OPERATORS.items():
            if op_name == name:
                setattr(Tensor, operator, apply)
        apply.op, apply.defvjp, apply.defsave, apply.forward, apply.rule = op, op.defvjp, op.defsave, fn, rule
        apply.__doc__ = f"{fn.__doc__ or ''}\n\nDerivative: {rule}"
        apply.__module__ = fn.__module__
        return apply

    return register
