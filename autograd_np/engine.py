"""The engine core: ``Tensor``, graph recording, and reverse-mode backward.

How it works, in four sentences.  An ``Op`` is a NumPy forward function paired
with its vector-Jacobian product (VJP).  Calling an op on tensors runs the
forward on the raw arrays and, when some input requires grad (and recording is
on), stores the op, its inputs and its keyword parameters on the output tensor:
the output *is* the graph node.  ``backward`` walks the nodes newest first (a
topological order, kept in a heap; no recursion), calling each op's VJP and
reducing every gradient to its input's shape (NumPy broadcasting undone in one
place, here).  The VJPs are written once against a
namespace ``F`` of ops: on plain arrays for ordinary backward (fast), or on
tensors when ``create_graph=True`` so that gradients are themselves
differentiable.
"""
from __future__ import annotations

import contextvars
import heapq
import itertools
import operator
from types import SimpleNamespace

import numpy as np

from .errors import ShapeError, describe

__all__ = ["Tensor", "Op", "defop", "no_grad", "enable_grad", "is_grad_enabled",
           "backward", "grad", "value_and_grad", "OPS"]

_GRAD_ENABLED = contextvars.ContextVar("autograd_np_grad_enabled", default=True)
_ANOMALY = contextvars.ContextVar("autograd_np_anomaly", default=None)  # see anomaly.py
_anomaly_blocks = 0  # detect_anomaly blocks open in any thread: while 0, ops skip the check above
_node_counter = itertools.count()  # creation order of recorded nodes: a topological order
_creation_order = operator.attrgetter("_seq")
OPS: dict[str, "Op"] = {}  # every registered op, by name (the test table checks it)
RAW_OPS = SimpleNamespace()    # op name -> forward function on arrays: VJPs' F in a plain backward
GRAPH_OPS = SimpleNamespace()  # op name -> recording op: VJPs' F under create_graph=True


class no_grad:
    """Context manager (and decorator) that records no graph in its body.

    Per thread and per ``contextvars`` context, and nests::

        with ag.no_grad():
            W.data -= lr * W.grad
    """

    _state = False

    def __init__(self):
        self._tokens = []  # a stack, so one instance can be entered again while it is open

    def __enter__(self):
        self._tokens.append(_GRAD_ENABLED.set(self._state))

    def __exit__(self, *exc):
        _GRAD_ENABLED.reset(self._tokens.pop())

    def __call__(self, fn):
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)
        wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
        return wrapper


class enable_grad(no_grad):
    """Turn recording back on inside a ``no_grad`` block."""

    _state = True


def is_grad_enabled() -> bool:
    return _GRAD_ENABLED.get()


class Op:
    """A differentiable primitive: ``forward`` on arrays plus its ``vjp``.

    ``vjp(F, gy, y, *inputs, **params)`` returns one gradient per input (or a
    single value for one input; ``None`` where an input is not differentiable).
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
    """

    __slots__ = ("name", "forward", "vjp", "rule", "wants_needs", "save")

    def __init__(self, name, forward, rule):
        self.name, self.forward, self.rule, self.vjp, self.wants_needs = name, forward, rule, None, False
        self.save = None

    @property
    def __doc__(self):  # help(ag.sigmoid) shows the forward's docstring and the derivative rule
        return f"{self.forward.__doc__ or ''}\n\nDerivative: {self.rule}"

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
        if _anomaly_blocks and _ANOMALY.get() is not None:  # one global read when no block is open
            return _ANOMALY.get().run_op(self, args, params)
        record = False
        raw = []
        for a in args:
            if type(a) is Tensor:
                if a.requires_grad:
                    record = True
                raw.append(a.data)
            elif isinstance(a, np.generic):
                raw.append(a.item())  # a NumPy scalar must not upcast float32 data
            else:
                raw.append(a)
        recording = record and _GRAD_ENABLED.get()
        try:
            if recording and self.save is not None:
                data, saved = self.save(*raw, **params)
            else:
                data = self.forward(*raw, **params)
        except ShapeError:
            raise
        except (ValueError, TypeError, IndexError) as exc:
            raise ShapeError(f"{self.name}: cannot apply to {describe(raw)}: {exc}") from None
        out = Tensor.__new__(Tensor)
        out.data = data if type(data) is np.ndarray else np.asarray(data)
        out.grad = out.name = None
        if recording:
            out.requires_grad = True
            out._op, out._parents, out._ctx, out._seq = self, args, params, next(_node_counter)
            out._inputs = raw  # the arrays the VJP will need, as they were in the forward pass
            if self.save is not None:
                out._saved = saved
        else:
            out.requires_grad = False
            out._op = out._parents = out._inputs = out._ctx = None
        return out


def defop(name: str, rule: str):
    """Register ``fn`` (a function of arrays) as op ``name``; ``rule`` is its
    one-line derivative, shown by the docs.  Attach the VJP with ``@op.defvjp``."""

    def register(fn):
        if name in OPS:
            raise ValueError(f"defop: an op named {name!r} is already registered")
        op = Op(name, fn, rule)
        OPS[name] = op
        setattr(RAW_OPS, name, fn)
        setattr(GRAPH_OPS, name, op)
        return op

    return register


class Tensor:
    """A NumPy array that remembers the op which produced it.

    ``Tensor(data, requires_grad=False, name=None, dtype=None)``.  ``data`` is
    the array (``.data``); after ``backward`` a tensor that requires grad holds
    ``.grad``, an array of its shape and dtype.  Numbers and arrays mix freely
    with tensors on either side of every operator.
    """

    # _saved is set only by ops with defsave; _debug and _module only by diagnostics (anomaly mode,
    # nets modules): read those two with getattr
    __slots__ = ("data", "grad", "requires_grad", "name", "_op", "_parents", "_inputs", "_ctx", "_seq",
                 "_saved", "_debug", "_module")
    __array_ufunc__ = None  # make `ndarray @ Tensor` defer to Tensor.__rmatmul__

    def __init_subclass__(cls, **kwargs):
        # the hot paths test `type(x) is Tensor` (faster than isinstance); a subclass would be
        # silently treated as a constant, so refuse it loudly instead
        raise TypeError("autograd_np.Tensor cannot be subclassed; wrap a Tensor in your own class instead")

    def __init__(self, data, requires_grad=False, name=None, dtype=None):
        if isinstance(data, Tensor):
            data = data.data
        self.data = np.array(data, dtype=dtype) if dtype is not None or not isinstance(data, np.ndarray) else data
        if requires_grad and self.data.dtype.kind not in "fc":
            raise TypeError(f"Tensor{'' if name is None else ' ' + repr(name)}: dtype {self.data.dtype} "
                            "cannot require grad; only floating-point tensors are differentiable")
        self.requires_grad = bool(requires_grad)
        self.name, self.grad = name, None
        self._op = self._parents = self._inputs = self._ctx = None

    # --- array-like properties -------------------------------------------
    shape = property(lambda self: self.data.shape)
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)
    T = property(lambda self: _ops.transpose(self))
    is_leaf = property(lambda self: self._op is None)

    @property
    def op_name(self):
        return None if self._op is None else self._op.name

    @property
    def parents(self):
        """The tensors this one was computed from (empty for a leaf)."""
        return tuple(p for p in (self._parents or ()) if isinstance(p, Tensor))

    def __len__(self):
        return len(self.data)

    def __iter__(self):  # rows, as a NumPy array iterates; each one is a getitem node
        return (self[i] for i in range(len(self.data)))

    def __array__(self, dtype=None, copy=None):
        return self.data if dtype is None else self.data.astype(dtype)

    def item(self):
        return self.data.item()

    def numpy(self):
        return self.data

    def detach(self):
        """A new leaf sharing this tensor's data, cut from the graph."""
        return Tensor(self.data, name=self.name)

    def zero_grad(self):
        self.grad = None

    def __repr__(self):
        extra = f", name={self.name!r}" if self.name else ""
        extra += f", op={self._op.name}" if self._op else (", requires_grad=True" if self.requires_grad else "")
        return f"Tensor({np.array2string(self.data, precision=4, threshold=20)}, dtype={self.dtype}{extra})"

    def backward(self, grad=None, retain_graph=False):
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that
        requires grad.  ``grad`` (same shape as self) is required unless self
        holds a single element.  Without ``retain_graph`` the graph is freed."""
        backward([self], None if grad is None else [grad], retain_graph=retain_graph)

    # --- operators (all defined in autograd_np.ops) -----------------------
    def __add__(self, o): return _ops.add(self, o)
    def __radd__(self, o): return _ops.add(o, self)
    def __sub__(self, o): return _ops.sub(self, o)
    def __rsub__(self, o): return _ops.sub(o, self)
    def __mul__(self, o): return _ops.mul(self, o)
    def __rmul__(self, o): return _ops.mul(o, self)
    def __truediv__(self, o): return _ops.div(self, o)
    def __rtruediv__(self, o): return _ops.div(o, self)
    def __pow__(self, o): return _ops.power(self, o)
    def __rpow__(self, o): return _ops.power(o, self)
    def __matmul__(self, o): return _ops.matmul(self, o)
    def __rmatmul__(self, o): return _ops.matmul(o, self)
    def __neg__(self): return _ops.neg(self)
    def __getitem__(self, index): return _ops.getitem(self, index)

    # Comparisons are not differentiable: they return plain boolean arrays.
    def __lt__(self, o): return self.data < _raw(o)
    def __le__(self, o): return self.data <= _raw(o)
    def __gt__(self, o): return self.data > _raw(o)
    def __ge__(self, o): return self.data >= _raw(o)
    def __eq__(self, o): return self.data == _raw(o)
    def __ne__(self, o): return self.data != _raw(o)
    __hash__ = object.__hash__

    # --- methods mirroring the functions in autograd_np.ops -----------------
    def sum(self, axis=None, keepdims=False): return _ops.sum(self, axis=axis, keepdims=keepdims)
    def mean(self, axis=None, keepdims=False): return _ops.mean(self, axis=axis, keepdims=keepdims)
    def max(self, axis=None, keepdims=False): return _ops.max(self, axis=axis, keepdims=keepdims)
    def min(self, axis=None, keepdims=False): return _ops.min(self, axis=axis, keepdims=keepdims)
    def reshape(self, *shape): return _ops.reshape(self, shape[0] if len(shape) == 1 else shape)
    def transpose(self, *axes): return _ops.transpose(self, axes[0] if len(axes) == 1 else (axes or None))
    def astype(self, dtype): return _ops.astype(self, dtype)
    def exp(self): return _ops.exp(self)
    def log(self): return _ops.log(self)
    def sqrt(self): return _ops.sqrt(self)
    def abs(self): return _ops.abs(self)
    def sigmoid(self): return _ops.sigmoid(self)
    def relu(self): return _ops.relu(self)
    def tanh(self): return _ops.tanh(self)
    def softmax(self, axis=-1): return _ops.softmax(self, axis=axis)
    def log_softmax(self, axis=-1): return _ops.log_softmax(self, axis=axis)
    def clip(self, lo, hi): return _ops.clip(self, lo, hi)


def _raw(x):
    return x.data if isinstance(x, Tensor) else x


# --- backward -----------------------------------------------------------------

def _toposort(roots):
    """Nodes reachable from ``roots`` that need a VJP, outputs first (for the
    diagnostics, which want the whole graph; backward itself uses a heap).

    Every node is created after its inputs, so sorting the reachable nodes by
    creation number (newest first) is a topological order.  The search uses an
    explicit stack: deep chains never hit the recursion limit."""
    nodes = [r for r in roots if r._op is not None]
    seen = {id(r) for r in nodes}
    stack = list(nodes)
    while stack:
        for p in stack.pop()._parents:
            if type(p) is Tensor and p._op is not None and id(p) not in seen:
                seen.add(id(p))
                nodes.append(p)
                stack.append(p)
    nodes.sort(key=_creation_order, reverse=True)
    return nodes


def _seed(out, g, create_graph):
    if g is None:
        if out.data.size != 1:
            raise RuntimeError(f"backward: output has shape {out.shape}; a non-scalar output needs "
                               "an explicit grad (grad_outputs) of that shape")
        # shared and read-only in a plain backward; under create_graph it may come back as a result
        g = np.ones(out.data.shape, out.data.dtype) if create_graph else _one(out.data.shape, out.data.dtype)
    elif np.shape(g) != out.shape:
        raise ShapeError(f"backward: grad of shape {np.shape(g)} does not match output of shape {out.shape}")
    elif not (create_graph and isinstance(g, Tensor)):  # a Tensor seed stays one only for create_graph
        g = np.asarray(_raw(g), dtype=out.dtype)
    return Tensor(g) if create_graph and not isinstance(g, Tensor) else g


_ONES = {}  # (shape, dtype) -> read-only 1: the seed of every scalar loss (VJPs never write to gy)


def _one(shape, dtype):
    one = _ONES.get((shape, dtype))
    if one is None:
        one = _ONES[shape, dtype] = np.ones(shape, dtype)
        one.flags.writeable = False
    return one


def _run(outputs, grad_outputs, retain_graph, create_graph, wanted=(), trace=None):
    """Back-propagate; return ({tensor: gradient} for the leaves and ``wanted``, [leaves]).

    Dicts are keyed by the tensors themselves: their hash is their identity, and
    a dict compares a key by identity before ``==`` (which is elementwise here).
    ``trace``, a list, receives ``(node, upstream_grad, input_index, input_grad)``
    for every gradient sent (``ag.explain`` reads it)."""
    for out in outputs:
        if not out.requires_grad:
            raise RuntimeError("backward: the output does not require grad (no input requires grad, "
                               "or it was computed under no_grad)")
    F = GRAPH_OPS if create_graph else RAW_OPS
    grads = {}
    if grad_outputs is not None and len(grad_outputs) != len(outputs):
        raise ValueError(f"backward: {len(outputs)} outputs but {len(grad_outputs)} grad_outputs")
    for out, g in zip(outputs, grad_outputs or [None] * len(outputs)):
        g = _seed(out, g, create_graph)
        grads[out] = grads[out] + g if out in grads else g
    # Pending nodes in a max-heap on creation number: every consumer of a node was
    # created after it, so by the time a node comes off the heap all of its
    # gradient has arrived.  A node enters the heap with the first gradient sent to
    # it, so the walk visits only what the outputs depend on, without recursion.
    heap, leaves = [], []
    for out in dict.fromkeys(outputs):  # each output once
        if out._op is None:
            leaves.append(out)
        else:
            heap.append((-out._seq, out))
    heapq.heapify(heap)
    found = {}
    wanted = {t for t in wanted if type(t) is Tensor}  # (arrays are unhashable, and get no gradient)
    pop = grads.pop
    checker = _ANOMALY.get() if _anomaly_blocks else None
    push, next_node = heapq.heappush, heapq.heappop
    with (enable_grad() if create_graph else no_grad()):
        while heap:
            node = next_node(heap)[1]
            g = pop(node)
            if wanted and node in wanted:
                found[node] = g
            op, parents, params = node._op, node._parents, node._ctx
            if node._inputs is None:
                raise RuntimeError(f"backward: the graph through op {op.name!r} was already freed by "
                                   "an earlier backward(); pass retain_graph=True to that first call")
            if op.wants_needs:
                needs = []  # a plain loop: half the cost of a list comprehension on 3.11
                for p in parents:
                    needs.append(type(p) is Tensor and p.requires_grad)
                params = {**params, "needs": needs}
            if op.save is not None and not create_graph:  # what the forward already computed
                params = {**params, "saved": node._saved}
            if checker is not None:  # anomaly mode: floating-point errors in the VJP name this node
                args = (F, g, node, *parents) if create_graph else (F, g, node.data, *node._inputs)
                input_grads = checker.run_vjp(node, op.vjp, args, params)
            elif create_graph:
                input_grads = op.vjp(F, g, node, *parents, **params)
            else:
                input_grads = op.vjp(F, g, node.data, *node._inputs, **params)
            if type(input_grads) is not tuple:
                input_grads = (input_grads,)
            i = -1
            for p, gp in zip(parents, input_grads):
                i += 1
                if gp is None or type(p) is not Tensor or not p.requires_grad:
                    continue
                data = p.data
                if gp.shape != data.shape:  # undo NumPy broadcasting, for every op
                    gp = F.sum_to(gp, shape=data.shape)
                if gp.dtype is not data.dtype and gp.dtype != data.dtype:
                    gp = F.astype(gp, dtype=data.dtype)
                if checker is not None:
                    checker.check_gradient(node, i, gp)
                if trace is not None:
                    trace.append((node, g, i, gp))
                if p in grads:
                    grads[p] = grads[p] + gp
                else:
                    grads[p] = gp
                    if p._op is None:
                        leaves.append(p)
                    else:
                        push(heap, (-p._seq, p))
            if not retain_graph:
                node._inputs = None  # drop the saved inputs; the structure stays for pictures
                if op.save is not None:
                    node._saved = None
    found.update(grads)  # what is left are the leaves' gradients
    return found, leaves


def _own_array(g):
    """A gradient handed to the user: a writeable ndarray (a VJP may return a
    read-only broadcast view, as sum's does, or a NumPy scalar for 0-d input)."""
    if type(g) is not np.ndarray:
        return np.array(g)
    return g if g.flags.writeable else g.copy()


def backward(outputs, grad_outputs=None, retain_graph=False):
    """``Tensor.backward`` for several outputs at once: accumulates into ``.grad``."""
    grads, leaves = _run(outputs, grad_outputs, retain_graph, create_graph=False)
    for leaf in leaves:
        g = grads[leaf]
        # a new array, never in place: gradients may alias each other (x + y)
        leaf.grad = _own_array(g if leaf.grad is None else leaf.grad + g)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """Gradients of ``outputs`` with respect to ``inputs``, as a list of tensors.

    Does not touch ``.grad``.  With ``create_graph=True`` the returned tensors
    are part of a new graph, so they can be differentiated again (second
    derivatives).  An input the outputs do not depend on raises, unless
    ``allow_unused=True`` (then its gradient is ``None``).
    """
    single_out = isinstance(outputs, Tensor)
    outputs = [outputs] if single_out else list(outputs)
    if grad_outputs is not None and single_out and not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs]
    single_in = isinstance(inputs, Tensor)
    inputs = [inputs] if single_in else list(inputs)
    retain = create_graph if retain_graph is None else retain_graph
    found, _ = _run(outputs, grad_outputs, retain, create_graph, wanted=inputs)
    result = []
    for i, x in enumerate(inputs):
        g = found.get(x) if type(x) is Tensor else None
        if g is None and not allow_unused:
            raise RuntimeError(f"grad: input {i} ({x.name or tuple(x.shape)}) is not used to compute the outputs; "
                               "pass allow_unused=True to get None for it")
        result.append(g if g is None or isinstance(g, Tensor) else Tensor(_own_array(g)))
    return result[0] if single_in else result


def value_and_grad(fn, argnums=0):
    """``value_and_grad(fn)(*args) -> (value, gradient(s))``, the functional form.

    ``argnums`` (int or tuple) picks the arguments to differentiate; they may be
    arrays or tensors.  Gradients are returned as arrays.
    """
    many = isinstance(argnums, (tuple, list))
    nums = tuple(argnums) if many else (argnums,)

    def wrapped(*args):
        args = list(args)
        for i in nums:
            args[i] = Tensor(_raw(args[i]), requires_grad=True)
        value = fn(*args)
        gs = grad(value, [args[i] for i in nums])
        gs = [g.data for g in gs]
        return value.data, (tuple(gs) if many else gs[0])

    return wrapped


from . import ops as _ops  # noqa: E402  (ops need Tensor and defop, defined above)
