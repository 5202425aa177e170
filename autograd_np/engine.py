"""The engine: ``Tensor`` and reverse-mode backward.

How it works.  Calling an op on tensors (``recording.py``) runs its forward on
the raw arrays and, when some input requires grad (and recording is on),
records a ``Node`` (``graph.py``): the op, one link per argument, and the
arrays the VJP will need.  The output ``Tensor`` holds its array and its node;
a node never points back at the tensor it made, so nothing but the user keeps
a tensor alive.  ``backward`` walks the nodes newest first (a topological
order; no recursion), checks that no array a VJP needs was written to since,
calls each VJP, reduces every gradient to its input's shape (NumPy
broadcasting undone here, once for every op) and then releases the node's
arrays, so that after ``backward()`` the graph is metadata only: what is
needed to draw it and to say it was freed.  The VJPs are written once against
a namespace ``F`` of ops: raw array functions in a plain backward (fast), or
recording ops when ``create_graph=True``, so that gradients are themselves
differentiable.
"""
from __future__ import annotations

import heapq
import threading

import numpy as np

from . import modes as _modes
from .errors import ShapeError, freed_message, label, modified_message, vjp_result_error
from .graph import STALE, WRITTEN, Constant, Node, _clock, clock, graph_nodes
from .modes import enable_grad, no_grad
from .registry import GRAPH_OPS, OPS, RAW_OPS

__all__ = ["Tensor", "backward", "grad", "release_stale", "graph_nodes", "clock", "Node", "Constant",
           "OPS", "RAW_OPS", "GRAPH_OPS"]

_new = object.__new__  # a slotted instance without running __init__
_GRAD_LOCK = threading.Lock()  # .grad accumulation: backward from several threads adds up


class Tensor:
    """A NumPy array that remembers the op which produced it.

    ``Tensor(data, requires_grad=False, name=None, dtype=None)``.  ``data`` is
    the array (``.data``); after ``backward`` a tensor that requires grad holds
    ``.grad``, an array of its shape and dtype.  Numbers and arrays mix freely
    with tensors on either side of every operator.  A tensor computed by a
    recorded op has a ``node`` (see ``Node``); a leaf has ``node is None``.

    Assigning ``.data`` (``w.data -= lr * g`` included) counts as a write: a
    backward through an op that used the old values raises instead of
    returning a gradient computed from the new ones.
    """

    __slots__ = ("_data", "grad", "requires_grad", "_node", "_name", "_version")
    __array_ufunc__ = None  # make `ndarray @ Tensor` defer to Tensor.__rmatmul__

    def __init_subclass__(cls, **kwargs):
        # the hot paths test `type(x) is Tensor` (faster than isinstance); a subclass would be
        # silently treated as a constant, so refuse it loudly instead
        raise TypeError("autograd_np.Tensor cannot be subclassed; wrap a Tensor in your own class instead")

    def __init__(self, data, requires_grad=False, name=None, dtype=None):
        if isinstance(data, Tensor):
            data = data._data
        self._data = np.array(data, dtype=dtype) if dtype is not None or type(data) is not np.ndarray else data
        if requires_grad and self._data.dtype.kind != "f":
            raise TypeError(f"Tensor{'' if name is None else ' ' + repr(name)}: dtype {self._data.dtype} "
                            "cannot require grad; only real floating-point tensors are differentiable")
        self.requires_grad = bool(requires_grad)
        self._name, self.grad, self._node, self._version = name, None, None, 0

    @property
    def data(self):
        return self._data

    @data.setter
    def data(self, value):
        # any write, `w.data -= g` included (Python assigns the result back)
        if self._node is None:
            self._version = next(_clock)
        elif self._node.saved is not None:
            self._node.saved = WRITTEN
        self._data = value if type(value) is np.ndarray else np.asarray(value)

    @property
    def name(self):
        return self._name if self._node is None else self._node.name

    @name.setter
    def name(self, value):
        if self._node is None:
            self._name = value
        else:
            self._node.name = value

    # --- array-like properties -------------------------------------------
    shape = property(lambda self: self._data.shape)
    dtype = property(lambda self: self._data.dtype)
    ndim = property(lambda self: self._data.ndim)
    size = property(lambda self: self._data.size)
    T = property(lambda self: GRAPH_OPS.transpose(self))
    node = property(lambda self: self._node, doc="The ``Node`` that computed this tensor (None for a leaf).")
    is_leaf = property(lambda self: self._node is None)

    @property
    def op_name(self):
        return None if self._node is None else self._node.op.name

    def __len__(self):
        return len(self._data)

    def __iter__(self):  # rows, as a NumPy array iterates; each one is a getitem node
        return (self[i] for i in range(len(self._data)))

    def __array__(self, dtype=None, copy=None):
        return self._data if dtype is None else self._data.astype(dtype)

    def _one_element(self, kind):
        if self._data.size != 1:
            raise TypeError(f"{kind}(): only a tensor with one element converts to a Python {kind}; "
                            f"this one has shape {self.shape}")
        return self._data.item()

    def __float__(self):
        return float(self._one_element("float"))

    def __int__(self):
        return int(self._one_element("int"))

    def __bool__(self):
        return bool(self._one_element("bool"))

    def item(self):
        return self._data.item()

    def numpy(self):
        return self._data

    def detach(self):
        """A new leaf sharing this tensor's data, cut from the graph."""
        return Tensor(self._data, name=self.name)

    def zero_grad(self):
        self.grad = None

    def __repr__(self):
        name = self.name
        extra = f", name={name!r}" if name else ""
        extra += f", op={self._node.op.name}" if self._node else (", requires_grad=True" if self.requires_grad else "")
        return f"Tensor({np.array2string(self._data, precision=4, threshold=20)}, dtype={self.dtype}{extra})"

    def backward(self, grad=None, retain_graph=False):
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that
        requires grad.  ``grad`` (same shape as self) is required unless self
        holds a single element.  Without ``retain_graph`` the graph is freed."""
        backward([self], None if grad is None else [grad], retain_graph=retain_graph)

    # --- operators (every op is in autograd_np.ops, registered in GRAPH_OPS) ---
    # ``t * u`` calls the op itself: ``defop`` binds each operator listed here to its op
    # when the op is registered (a method forwarding to it would cost every operator
    # one more Python call).  The reflected forms swap the arguments, so they forward.
    OPERATORS = {"__add__": "add", "__sub__": "sub", "__mul__": "mul", "__truediv__": "div",
                 "__pow__": "power", "__matmul__": "matmul", "__neg__": "neg", "__getitem__": "getitem"}
    def __radd__(self, o): return GRAPH_OPS.add(o, self)
    def __rsub__(self, o): return GRAPH_OPS.sub(o, self)
    def __rmul__(self, o): return GRAPH_OPS.mul(o, self)
    def __rtruediv__(self, o): return GRAPH_OPS.div(o, self)
    def __rpow__(self, o): return GRAPH_OPS.power(o, self)
    def __rmatmul__(self, o): return GRAPH_OPS.matmul(o, self)

    # Comparisons are not differentiable: they return plain boolean arrays.
    def __lt__(self, o): return self._data < _raw(o)
    def __le__(self, o): return self._data <= _raw(o)
    def __gt__(self, o): return self._data > _raw(o)
    def __ge__(self, o): return self._data >= _raw(o)
    def __eq__(self, o): return self._data == _raw(o)
    def __ne__(self, o): return self._data != _raw(o)
    __hash__ = object.__hash__

    # --- methods mirroring the functions in autograd_np.ops -----------------
    def sum(self, axis=None, keepdims=False): return GRAPH_OPS.sum(self, axis=axis, keepdims=keepdims)
    def mean(self, axis=None, keepdims=False): return GRAPH_OPS.mean(self, axis=axis, keepdims=keepdims)
    def max(self, axis=None, keepdims=False): return GRAPH_OPS.max(self, axis=axis, keepdims=keepdims)
    def min(self, axis=None, keepdims=False): return -GRAPH_OPS.max(-self, axis=axis, keepdims=keepdims)
    def reshape(self, *shape): return GRAPH_OPS.reshape(self, shape=shape[0] if len(shape) == 1 else shape)
    def transpose(self, *axes): return GRAPH_OPS.transpose(self, axes=axes[0] if len(axes) == 1 else (axes or None))
    def astype(self, dtype): return GRAPH_OPS.astype(self, dtype=dtype)
    def exp(self): return GRAPH_OPS.exp(self)
    def log(self): return GRAPH_OPS.log(self)
    def sqrt(self): return GRAPH_OPS.sqrt(self)
    def abs(self): return GRAPH_OPS.abs(self)
    def sigmoid(self): return GRAPH_OPS.sigmoid(self)
    def relu(self): return GRAPH_OPS.relu(self)
    def tanh(self): return GRAPH_OPS.tanh(self)
    def softmax(self, axis=-1): return GRAPH_OPS.softmax(self, axis=axis)
    def log_softmax(self, axis=-1): return GRAPH_OPS.log_softmax(self, axis=axis)
    def clip(self, lo, hi): return GRAPH_OPS.clip(self, lo=lo, hi=hi)


def _raw(x):
    return x._data if type(x) is Tensor else x


def _key(t):
    """What the graph knows a tensor by: its node, or the tensor itself for a leaf."""
    return t._node or t


def release_stale(output) -> bool:
    """Let go of the arrays of the graph behind ``output`` (a tensor or a node) if
    a leaf it used was written after ``output`` was made: backward through it
    could then only raise.  Returns True when it released them.  Holding such a
    graph then costs what a graph after ``backward()`` costs (metadata only);
    backward through it raises, saying why.  nets models call it on the losses
    of their earlier ``loss()`` calls, so that a list of logged losses that are
    never backpropagated (the seeds' loop) holds no activations."""
    node = output._node if type(output) is Tensor else output
    if type(node) is not Node or node.freed:
        return False
    nodes = graph_nodes([node])
    if not any(type(link) is Tensor and link._version > node.seq for n in nodes for link in n.inputs):
        return False
    memo = {}
    for n in nodes:
        if type(n.saved) is list:
            n.saved, n.out, n.extra = STALE, None, None
            links = n.inputs
            for i, link in enumerate(links):
                if not (type(link) is Tensor and link.requires_grad):
                    links[i] = _released(link, memo)
    return True


# --- backward -----------------------------------------------------------------

def _seed(out, g, create_graph):
    if g is None:
        if out._data.size != 1:
            raise RuntimeError(f"backward: output has shape {out.shape}; a non-scalar output needs "
                               "an explicit grad (grad_outputs) of that shape")
        # shared and read-only in a plain backward; under create_graph it may come back as a result
        return Tensor(np.ones(out.shape, out.dtype)) if create_graph else _one(out.shape, out.dtype)
    if np.shape(g) != out.shape:
        raise ShapeError(f"backward: grad of shape {np.shape(g)} does not match output of shape {out.shape}")
    if create_graph:
        return g if type(g) is Tensor else Tensor(np.array(g, dtype=out.dtype))
    return np.asarray(_raw(g), dtype=out.dtype)  # backward() never hands the caller's array out as a .grad


_ONES = {}  # (shape, dtype) -> read-only 1: the seed of every scalar loss (VJPs never write to gy)


def _one(shape, dtype):
    one = _ONES.get((shape, dtype))
    if one is None:
        one = _ONES[shape, dtype] = np.ones(shape, dtype)
        one.flags.writeable = False
    return one


def _as_tensor(link, value):
    """An op argument as the VJP sees it under create_graph: a tensor for graph elements."""
    if type(link) is Node:
        t = _new(Tensor)
        t._data, t.grad, t.requires_grad, t._node, t._name, t._version = link.out, None, True, link, None, 0
        return t
    return link if type(link) is Tensor else value


def _slow_vjp(node, g, F, params, create_graph, checker):
    """The VJP call under create_graph (tensors in, tensors out) or anomaly mode."""
    op = node.op
    if create_graph:
        args = (F, g, _as_tensor(node, None), *map(_as_tensor, node.inputs, node.saved))
    else:
        args = (F, g, node.out, *node.saved)
        if op.save is not None:
            params = {**params, "saved": node.extra}
    if checker is not None:  # anomaly mode: floating-point errors in the VJP name this node
        return checker.run_vjp(node, op.vjp, args, params)
    return op.vjp(*args, **params)


def _run(outputs, grad_outputs, retain_graph, create_graph, wanted=(), trace=None):
    """Back-propagate; return ({graph key: gradient} for the leaves and ``wanted``, [leaves]).

    A graph key is a node, or a leaf tensor (``_key``).  Dicts are keyed by
    them: their hash is their identity, and a dict compares a key by identity
    before ``==`` (which is elementwise for tensors).  ``trace``, a list,
    receives ``(node, upstream_grad, input_index, input_grad)`` for every
    gradient sent (``ag.explain`` reads it)."""
    for out in outputs:
        if not out.requires_grad:
            raise RuntimeError("backward: the output does not require grad (no input requires grad, "
                               "or it was computed under no_grad)")
    if grad_outputs is not None and len(grad_outputs) != len(outputs):
        raise ValueError(f"backward: {len(outputs)} outputs but {len(grad_outputs)} grad_outputs")
    F = GRAPH_OPS if create_graph else RAW_OPS
    grads = {}
    # Pending nodes: the newest in ``nxt``, the others in a max-heap on creation
    # number.  Every consumer of a node was created after it, so by the time a node
    # is taken all of its gradient has arrived.  A node becomes pending with the
    # first gradient sent to it, so the walk visits only what the outputs depend
    # on, without recursion; a chain (each node feeding one node) never touches
    # the heap.
    heap, leaves = [], []
    for out, g in zip(outputs, grad_outputs or [None] * len(outputs)):
        g, key = _seed(out, g, create_graph), _key(out)
        if key in grads:
            grads[key] = grads[key] + g
            continue
        grads[key] = g
        if type(key) is Node:
            heap.append((-key.seq, key))
        else:
            leaves.append(key)
    heapq.heapify(heap)
    found, released, nxt = {}, {}, None
    wanted = {_key(t) for t in wanted if type(t) is Tensor}  # (arrays are unhashable, and get no gradient)
    pop, push, next_node = grads.pop, heapq.heappush, heapq.heappop
    checker = _modes.ANOMALY.get() if _modes.anomaly_blocks else None
    slow = create_graph or checker is not None
    watch = checker is not None or trace is not None
    with (enable_grad() if create_graph else no_grad()):
        while True:
            if nxt is not None and (not heap or nxt.seq > -heap[0][0]):
                node, nxt = nxt, None
            elif heap:
                node = next_node(heap)[1]
            else:
                break
            g = pop(node)
            if wanted and node in wanted:
                found[node] = g
            saved = node.saved
            if type(saved) is not list:
                raise RuntimeError(freed_message(node))
            op, params = node.op, node.params
            if op.wants_needs:
                needs = []  # a plain loop: half the cost of a list comprehension on 3.11
                for p in node.inputs:
                    needs.append(type(p) is Node or (type(p) is Tensor and p.requires_grad))
                params = {**params, "needs": needs}
            if slow:
                input_grads = _slow_vjp(node, g, F, params, create_graph, checker)
            elif op.save is not None:  # what the forward already computed
                input_grads = op.vjp(F, g, node.out, *saved, saved=node.extra, **params)
            else:
                input_grads = op.vjp(F, g, node.out, *saved, **params)
            links = node.inputs
            if type(input_grads) is not tuple:  # one gradient: right for an op of one input
                input_grads = (input_grads,)
                if len(links) != 1:
                    raise vjp_result_error(node, input_grads, 0, None)
            elif len(input_grads) != len(links):
                raise vjp_result_error(node, input_grads, 0, None)
            i = -1
            try:
                for link, gp in zip(links, input_grads):
                    i += 1
                    kind = type(link)
                    if kind is Node:
                        if gp is None:
                            continue
                        shape = link.shape
                        dtype = link.dtype
                    elif kind is Tensor:
                        if link._version > node.seq:  # the op saw values that have changed since
                            raise RuntimeError(modified_message(node, i))
                        if not link.requires_grad:  # a data tensor: no gradient
                            if not retain_graph:
                                links[i] = _released(link, released)
                            continue
                        if gp is None:
                            continue
                        data = link._data
                        shape = data.shape
                        dtype = data.dtype
                    else:  # a constant: no gradient
                        if not retain_graph and kind is not float and kind is not int:
                            links[i] = _released(link, released)
                        continue
                    if gp.shape != shape:  # undo NumPy broadcasting, for every op
                        gp = _unbroadcast(F, gp, shape, node, i)
                    if gp.dtype is not dtype and gp.dtype != dtype:
                        gp = F.astype(gp, dtype=dtype)
                    if watch:
                        _watch(checker, trace, node, g, i, gp)
                    if link in grads:
                        grads[link] = grads[link] + gp
                    elif kind is Node:
                        grads[link] = gp
                        if nxt is None:
                            nxt = link
                        elif link.seq > nxt.seq:
                            push(heap, (-nxt.seq, nxt))
                            nxt = link
                        else:
                            push(heap, (-link.seq, link))
                    else:
                        grads[link] = gp
                        leaves.append(link)
            except (ValueError, AttributeError) as exc:
                raise vjp_result_error(node, input_grads, i, exc) from None
            if not retain_graph:  # drop what only the VJP needed (constants went above)
                node.saved = node.out = node.extra = None
    found.update(grads)  # what is left are the leaves' gradients
    return found, leaves


def _watch(checker, trace, node, g, index, gp):
    """Anomaly mode's check of a gradient sent, and explain's record of it."""
    if checker is not None:
        checker.check_gradient(node, index, gp)
    if trace is not None:
        trace.append((node, g, index, gp))


def _released(link, memo):
    """What a released node keeps of a constant input: a ``Constant`` record for a
    data tensor or an array (their description, not their values; one record per
    value, so a picture still shows one box for it), the input itself otherwise."""
    kept = memo.get(id(link))
    if kept is not None:
        return kept[0]
    if type(link) is Tensor:
        const = Constant(link._data, link.name, True)
    elif isinstance(link, np.ndarray):
        const = Constant(link, None, False)
    else:
        return link  # numbers, indices, shapes: small, kept as they are
    memo[id(link)] = (const, link)  # the value stays alive for the walk: ids stay unique
    return const


def _unbroadcast(F, gp, shape, node, index):
    """``gp`` summed down to ``shape``, or a ShapeError when no broadcast of
    ``shape`` has ``gp``'s shape (a VJP returning the wrong shape)."""
    have = tuple(gp.shape)
    lead = len(have) - len(shape)
    if lead < 0 or any(n != 1 and n != m for n, m in zip(shape, have[lead:])):
        raise ShapeError(f"backward: the VJP of op {node.op.name!r} returned a gradient of shape {have} for "
                         f"input {index} ({label(node.inputs[index])}), which cannot be reduced to that "
                         f"input's shape {shape}")
    return F.sum_to(gp, shape=shape)


def _owned(g, handed, leaf):
    """A gradient handed to the user: a writeable ndarray of its own memory,
    shared with no other gradient handed out (``handed``: their ids) and not
    the leaf's own data (a VJP may return a read-only broadcast view, a view of
    another gradient, the same array for two inputs as add's does, or a NumPy
    scalar for 0-d input)."""
    if type(g) is not np.ndarray or g.base is not None or id(g) in handed or not g.flags.writeable \
            or (leaf is not None and g is leaf._data):
        g = np.array(g)
    handed.add(id(g))
    return g


def backward(outputs, grad_outputs=None, retain_graph=False):
    """``Tensor.backward`` for several outputs at once: accumulates into ``.grad``."""
    grads, leaves = _run(outputs, grad_outputs, retain_graph, create_graph=False)
    handed = {id(_raw(g)) for g in grad_outputs or ()}  # the caller's seeds: copied if they reach a leaf
    with _GRAD_LOCK:  # threads sharing a leaf: every contribution counts
        for leaf in leaves:
            g = grads[leaf]
            # a new array, never in place: the old .grad may be held by the user
            leaf.grad = _owned(g if leaf.grad is None else leaf.grad + g, handed, leaf)


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
    result, handed = [], set()
    for i, x in enumerate(inputs):
        g = found.get(_key(x)) if type(x) is Tensor else None
        if g is None and not allow_unused:
            raise RuntimeError(f"grad: input {i} ({label(x)}) is not used to compute the outputs; "
                               "pass allow_unused=True to get None for it")
        if g is not None and type(g) is not Tensor:
            g = Tensor(_owned(g, handed, x if x.is_leaf else None))
        result.append(g)
    return result[0] if single_in else result
