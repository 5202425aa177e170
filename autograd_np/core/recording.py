"""Recording: ``Op`` (a forward and its VJP), ``defop`` (registers one), and the
function that applies an op to tensors and records a ``Node`` when some input
requires grad and recording is on."""
from __future__ import annotations

import contextvars
import inspect

import numpy as np

from . import modes as _modes
from .tensor import Tensor
from .errors import ShapeError, describe
from .graph import Node, _clock
from .modes import GRAD_ENABLED as _GRAD_ENABLED
from .registry import GRAPH_OPS, OPS, RAW_OPS

__all__ = ["Op", "defop"]

_new = object.__new__  # a slotted instance without running __init__
_ndarray = np.ndarray
_NO_PARAMS = {}  # the params of every node recorded without keyword parameters (never written to)
# The innermost open vmap level (transforms.levels), which applies the ops called inside it; `interpreting`
# counts open levels in any thread (each also opens a modes block): while 0, apply reads no context variable.
INTERPRETER = contextvars.ContextVar("autograd_np_interpreter", default=None)
interpreting = 0


class Op:
    """A differentiable primitive: ``forward`` on arrays plus its ``vjp``.

    ``vjp(F, gy, y, *inputs, **params)`` returns one gradient per input (a
    single value for one input; ``None`` where an input gets no gradient).
    ``F`` holds the ops: raw array functions in a first-order backward, graph
    ops under ``create_graph=True``; ``gy``, ``y`` and ``inputs`` are arrays or
    tensors to match.  The VJP must not modify ``gy`` in place.  A VJP
    registered with ``defvjp(fn, needs=True)`` also receives ``needs``, one bool
    per input, and may skip (return ``None`` for) gradients nobody needs.

    ``defjvp(fn, rule=...)`` gives it a forward-mode rule, ``fn(F, tangents, y,
    *inputs, **params)`` returning the tangent of ``y`` (``tangents``: one per
    input, None for a zero one; None back for a zero tangent).  Without one,
    forward mode transposes the VJP (``transforms.forward``).

    ``defsave(fn)`` gives an op a second forward, used when the call is
    recorded: ``fn(*inputs, **params) -> (y, saved)``.  A plain backward passes
    ``saved=`` to the VJP, so work the forward did (softmax-with-loss: its
    probabilities) is not done again; under ``create_graph`` and in
    ``check_graph`` the VJP gets no ``saved`` and computes from the inputs.

    An op is applied by ``op.apply`` (see ``_applier``), the function that
    ``defop`` returns and ``ag.sigmoid`` is; calling the Op does the same.
    """

    __slots__ = ("name", "forward", "vjp", "rule", "wants_needs", "save", "apply", "state", "jvp", "jvp_rule")

    def __init__(self, name, forward, rule):
        self.name, self.forward, self.rule, self.wants_needs, self.save = name, forward, rule, False, None
        self.state, self.jvp, self.jvp_rule = (), None, None
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

    def defjvp(self, jvp=None, *, rule=None):
        if jvp is None:
            return lambda fn: self.defjvp(fn, rule=rule)
        self.jvp, self.jvp_rule = jvp, rule or getattr(jvp, "rule", None) or "hand-written"
        return jvp

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
    forward, name, required = op.forward, op.name, _required_inputs(op.forward)

    def apply(*args, **params):
        if _modes.blocks:  # some no_grad / enable_grad / detect_anomaly / vmap block is open (one global read else)
            if interpreting and (level := INTERPRETER.get()) is not None:  # inside vmap: its level batches it
                return level.run_op(op, args, params)
            if _modes.anomaly_blocks and _modes.ANOMALY.get() is not None:
                return _modes.ANOMALY.get().run_op(op, args, params)
            grad_on = _GRAD_ENABLED.get()
        else:
            grad_on = True
        if params:
            args, params = _arguments(name, required, args, params)
        record = False
        raw = []
        links = []
        for a in args:
            if type(a) is Tensor:
                raw.append(a._data)
                if a._requires_grad:
                    record = True
                    links.append(a._node or a)
                else:
                    links.append(a)
            elif type(a) is float or type(a) is _ndarray:
                raw.append(a)
                links.append(a)
            else:
                value, a = _plain_argument(a, name)
                raw.append(value)
                links.append(a)
        recording = record and grad_on
        extra = None
        try:
            if recording and op.save is not None:
                data, extra = op.save(*raw, **params)
            else:
                data = forward(*raw, **params)
        except (ValueError, TypeError, IndexError) as exc:
            raise _forward_error(name, raw, exc) from None
        if type(data) is not _ndarray:
            data = np.asarray(data)
        out = _new(Tensor)
        out._data = data
        out._grad = None
        if recording:
            dtype = data.dtype
            if dtype.kind != "f":
                recording = _records_non_float(name, data)
        if not recording:  # a leaf
            out._requires_grad = False
            out._node = out._name = out._constant = out._shares = None
            out._version = 0
            return out
        # separate statements: a tuple assignment builds and unpacks a tuple first
        node = Node()
        node.op = op
        node.inputs = links
        node.params = params or _NO_PARAMS  # one shared empty dict: a retained object fewer per node
        node.seq = next(_clock)
        node.shape = data.shape
        node.dtype = dtype
        node.out = data
        node.saved = raw
        if extra is not None:
            node.extra = extra
        node.name = node.module = node.where = None
        out._requires_grad = True
        out._node = node  # a recorded output reads its name and version from its node
        return out

    apply.__name__ = apply.__qualname__ = name
    return apply


def _forward_error(name, raw, exc):
    """The error a failing forward raises, naming the op and its inputs: a ShapeError
    for values and shapes, a TypeError for a dtype or an argument of the wrong kind."""
    if isinstance(exc, ShapeError):
        return exc
    message = str(exc)
    if isinstance(exc, TypeError):
        return TypeError(message if message.startswith(f"{name}:") else
                         f"{name}: cannot apply to {describe(raw)}: {message}")
    return ShapeError(f"{name}: cannot apply to {describe(raw)}: {message}")


def _arguments(name, required, args, params):
    """(args, params) with the inputs given by keyword (``ag.mul(x, b=2.0)``) moved
    among the arguments, and tensors given as parameters (clip's bounds) as values."""
    if len(args) < len(required):
        args, params = _inputs_by_position(name, required, args, params)
    for value in params.values():
        kind = type(value)
        if kind is Tensor or (kind is not _ndarray and isinstance(value, _ndarray)):
            return args, _plain_params(name, params)
    return args, params


def _plain_argument(a, name):
    """(what the forward gets, what the node links) for an argument that is neither a
    tensor, a float nor an ndarray: a tuple or list (an index) with tensors as values,
    a NumPy scalar as a Python one (it must not upcast float32 data), an array subclass
    (ag.compile's traced argument: the op computes on the plain array; the graph links
    the object fn passed, which names the argument)."""
    kind = type(a)
    if kind is tuple or kind is list:
        a = _plain_sequence(a, name)
    elif isinstance(a, np.generic):
        a = a.item()
    elif kind is not _ndarray and isinstance(a, _ndarray):
        return _ndarray.view(a, _ndarray), a
    return a, a


def _required_inputs(forward):
    """The names of ``forward``'s positional parameters without a default: its
    inputs, which a caller may also pass by keyword (None for ``*xs`` ops)."""
    names = []
    for p in inspect.signature(forward).parameters.values():
        if p.kind is p.VAR_POSITIONAL:
            return ()
        if p.kind is p.POSITIONAL_OR_KEYWORD and p.default is p.empty:
            names.append(p.name)
    return tuple(names)


def _inputs_by_position(name, required, args, params):
    """``args`` completed with the inputs passed by keyword, in the forward's order,
    so that every input is a link the VJP gets a gradient slot for."""
    params = dict(params)
    args = list(args)
    for key in required[len(args):]:
        if key not in params:
            break
        args.append(params.pop(key))
    return tuple(args), params


def _plain_params(name, params):
    """Keyword parameters with tensors replaced by copies of their arrays (a bound
    of ``clip``): a parameter is a constant of the op, so a tensor that requires
    grad cannot be one."""
    plain = {}
    for key, value in params.items():
        if type(value) is Tensor:
            if value._requires_grad:
                raise TypeError(f"{name}: parameter {key!r} is a tensor that requires grad; parameters are "
                                "constants of the op (no gradient reaches them): pass value.detach() or "
                                "make it an input")
            value = np.array(value._data)
        elif isinstance(value, np.ndarray) and type(value) is not np.ndarray:
            value = np.ndarray.view(value, np.ndarray)  # an array subclass (ag.compile's traced argument): plain
        plain[key] = value
    return plain


def _plain_sequence(items, name):
    """A tuple or list argument (an index tuple, a list of numbers) with its tensors
    replaced by copies of their arrays; a tensor that requires grad cannot hide in
    one (the op would treat it as a constant and its gradient would be lost)."""
    if not any(type(v) is Tensor or type(v) is tuple or type(v) is list or isinstance(v, np.ndarray) for v in items):
        return items
    out = []
    for v in items:
        if isinstance(v, np.ndarray) and type(v) is not np.ndarray:
            v = np.ndarray.view(v, np.ndarray)  # an array subclass (ag.compile's traced argument): plain
        elif type(v) is Tensor:
            if v._requires_grad:
                raise TypeError(f"{name}: a tensor that requires grad inside a {type(items).__name__} argument "
                                "would lose its gradient; pass it as an input of its own (to combine several, "
                                "use ag.stack or ag.concatenate)")
            v = np.array(v._data)  # a copy: later writes to the tensor cannot reach the recorded op
        elif type(v) is tuple or type(v) is list:
            v = _plain_sequence(v, name)
        out.append(v)
    return type(items)(out)


def _records_non_float(name, data):
    """Whether an output of dtype other than real floating point is recorded: an
    integer or boolean one is a constant for differentiation (as a cast to int is
    in PyTorch), a complex one is refused (complex gradients are not supported)."""
    if data.dtype.kind == "c":
        raise TypeError(f"{name}: the output is complex ({data.dtype}) and an input requires grad; complex "
                        "differentiation is not supported (use real and imaginary parts as real tensors)")
    return False


def defop(name: str, rule: str, *, state=(), replace=False):
    """Register ``fn`` (a function of arrays) as op ``name``; ``rule`` is its
    one-line derivative, shown by the docs.  ``state``: the names of keyword
    parameters whose objects the forward changes (a generator it draws from,
    running statistics it updates): ``ag.compile`` keeps them by identity and
    its check mode saves and restores them.  ``replace=True`` registers the op
    again under a name already taken (re-running a notebook cell); graphs
    recorded before keep the op they were made with.

    Returns the function that applies the op to tensors (``ag.sigmoid`` is
    one).  It carries the ``Op`` as ``.op`` and its ``defvjp`` / ``defsave``:
    attach the VJP with ``@fn.defvjp``."""

    def register(fn):
        if name in OPS and not replace:
            raise ValueError(f"defop: an op named {name!r} is already registered (pass replace=True to "
                             "register it again, as when a notebook cell runs twice)")
        op = Op(name, fn, rule)
        op.state = tuple(state)
        OPS[name] = op
        setattr(RAW_OPS, name, fn)
        apply = op.apply
        setattr(GRAPH_OPS, name, apply)
        for operator, op_name in Tensor.OPERATORS.items():
            if op_name == name:
                setattr(Tensor, operator, apply)
        apply.op, apply.defvjp, apply.defsave, apply.forward, apply.rule = op, op.defvjp, op.defsave, fn, rule
        apply.defjvp = op.defjvp
        apply.__doc__ = with_derivative(fn.__doc__, rule)
        apply.__module__, apply.__qualname__ = fn.__module__, fn.__qualname__
        apply.__signature__ = inspect.signature(fn)  # help(), editors and the docs see the real parameters
        return apply

    return register


def with_derivative(doc, rule):
    """An op's NumPy-style docstring with its derivative rule in its Notes section
    (one place says the rule: ``defop``'s ``rule``), before its Examples."""
    doc = inspect.cleandoc(doc or "")
    line = f"Derivative: ``{rule}``."
    if "\nNotes\n-----\n" in doc:
        return doc.replace("\nNotes\n-----\n", f"\nNotes\n-----\n{line}\n\n", 1)
    if "\nExamples\n--------\n" in doc:
        return doc.replace("\nExamples\n--------\n", f"\nNotes\n-----\n{line}\n\nExamples\n--------\n", 1)
    return f"{doc}\n\nNotes\n-----\n{line}"


# --- the state an op changes (defop's state=) -------------------------------------

def state_of(node):
    """The objects ``node``'s op changes when it runs (its ``state`` parameters)."""
    return [node.params[k] for k in node.op.state if node.params.get(k) is not None]


def snapshot(objects):
    """Copies of the states of ``objects`` (a generator's, an array's values), for restore()."""
    return [o.bit_generator.state if hasattr(o, "bit_generator") else
            np.array(o, copy=True) if isinstance(o, np.ndarray) else None for o in objects]


def states_equal(a, b):
    """Equality of two saved states (nested dicts of numbers and arrays)."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(states_equal(a[k], b[k]) for k in a)
    return np.array_equal(a, b, equal_nan=True) if isinstance(a, np.ndarray) else a == b


def restore(objects, states):
    """Put back what ``snapshot`` saved."""
    for o, state in zip(objects, states):
        if state is None:
            continue
        if hasattr(o, "bit_generator"):
            o.bit_generator.state = state
        else:
            o[...] = state
