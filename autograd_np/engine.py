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
import weakref

import numpy as np

from . import graph as _graph, hooks as _hooks, modes as _modes
from . import numpy_api as _numpy_api
from .errors import ShapeError, freed_message, label, modified_message, vjp_result_error
from .graph import STALE, WRITTEN, Constant, Node, _clock, clock, graph_nodes
from .modes import enable_grad, no_grad
from .registry import GRAPH_OPS, OPS, RAW_OPS
from .tensor_methods import TensorMethods

__all__ = ["Tensor", "backward", "grad", "release_stale", "graph_nodes", "clock", "Node", "Constant",
           "OPS", "RAW_OPS", "GRAPH_OPS",
           # the surface the compiler, explain and viz read backward through:
           "graph_key", "run_backward", "unbroadcast", "first_gradient", "ones_seed", "owned_gradient", "GRAD_LOCK"]

_new = object.__new__  # a slotted instance without running __init__
GRAD_LOCK = threading.Lock()  # .grad accumulation: backward from several threads adds up


class Tensor(TensorMethods):
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

    # _constant: the record a released graph keeps of this (data) tensor, set on the first release;
    # _shares: the tensor or node whose array detach() shares (a write through either counts for both)
    __slots__ = ("_data", "_grad", "_requires_grad", "_node", "_name", "_version", "_constant", "_shares",
                 "__weakref__")
    # NumPy on tensors records (numpy_api.py): ufuncs, and an ndarray's operators (`arr @ t`), by NEP 13;
    # functions (`np.sum(t)`, `np.concatenate([t, u])`) by NEP 18; unsupported ones raise TypeError
    __array_ufunc__ = _numpy_api.array_ufunc
    __array_function__ = _numpy_api.array_function

    def __init_subclass__(cls, **kwargs):
        # the hot paths test `type(x) is Tensor` (faster than isinstance); a subclass would be
        # silently treated as a constant, so refuse it loudly instead
        raise TypeError("autograd_np.Tensor cannot be subclassed; wrap a Tensor in your own class instead")

    def __init__(self, data, requires_grad=False, name=None, dtype=None):
        if isinstance(data, Tensor):
            data = np.array(data._data, dtype=dtype)  # a copy: two tensors never share one array unknowingly
        elif type(data) is list or type(data) is tuple or (type(data) is np.ndarray and data.dtype.kind == "O"):
            _refuse_graph_elements(data)  # NumPy would read their values: the gradient would be lost
        self._data = np.array(data, dtype=dtype) if dtype is not None or type(data) is not np.ndarray else data
        self._name, self._grad, self._node, self._version = name, None, None, 0
        self._constant = self._shares = None  # (set on leaves: a getattr of an unset slot raises inside)
        self._requires_grad = False
        self.requires_grad = requires_grad

    @property
    def grad(self):
        """The accumulated gradient (an array of this tensor's shape and dtype), or None."""
        if _modes.tracers:  # ag.compile is tracing: Python looking at a gradient is Python a replay skips
            _modes.grad_used(self, None, write=False)
        return self._grad

    @grad.setter
    def grad(self, value):
        if _modes.tracers:
            _modes.grad_used(self, value, write=True)
        self._grad = value

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        value = bool(value)
        if value and self._data.dtype.kind != "f":
            raise TypeError(f"Tensor{'' if self.name is None else ' ' + repr(self.name)}: dtype {self._data.dtype} "
                            "cannot require grad; only real floating-point tensors are differentiable")
        if self._node is not None and not value:
            raise ValueError("requires_grad: a tensor computed by a recorded op requires grad; use detach() "
                             "for a copy cut from the graph")
        self._requires_grad = value

    @property
    def data(self):
        if _modes.tracers:  # ag.compile is tracing: Python reading values is Python a replay skips
            _modes.value_read(self, ".data")
        return self._data

    @data.setter
    def data(self, value):
        # any write, `w.data -= g` included (Python assigns the result back)
        value = value if type(value) is np.ndarray else np.asarray(value)
        if self._requires_grad and value.dtype.kind != "f":
            raise TypeError(f"data: a tensor that requires grad holds real floating-point numbers, not {value.dtype}; "
                            f"cast first (.astype(np.float32))")
        node = self._node
        if node is None:
            self._version = _graph._last_write = next(_clock)
            shared = self._shares  # (every leaf has the slot set)
        else:
            if node.saved is not None:
                node.saved = WRITTEN
            shared = None
        if shared is not None:  # a detach() twin: the array is the other one's too
            if type(shared) is Node:
                if type(shared.saved) is list:
                    shared.saved = WRITTEN
            else:
                shared._version = _graph._last_write = next(_clock)
        self._data = value

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
        """The values for NumPy (``np.asarray(t)``): a read-only view, since a write
        through it would bypass the version check of ``.data`` assignments (and
        corrupt a gradient silently); ``copy=True`` or another dtype gives a copy.
        A dtype NumPy's ``same_kind`` rule does not allow (float to int) raises."""
        if _modes.tracers:
            _modes.value_read(self, "np.asarray()")
        data = self._data
        if self._requires_grad and data.size != 1:
            # NumPy asks for the values where it computes without us (a list of tensors, an argument it does
            # not dispatch on, an ndarray method): the gradient would be lost without a word, so refuse,
            # as PyTorch does; one element (a loss, for a plot or a list of losses) gives its value
            raise TypeError(f"np.asarray() of a tensor that requires grad ({label(self)}, shape {data.shape}): "
                            "NumPy would compute with its values and the gradient would be lost. Use ag ops "
                            "(ag.stack for a list of tensors), or t.detach() / t.data / t.numpy() for the values")
        if copy or (dtype is not None and np.dtype(dtype) != data.dtype):
            if dtype is not None and not np.can_cast(data.dtype, dtype, "same_kind"):
                # NumPy asks for integers where it wants an index or a count (np.take, np.repeat) and
                # would refuse float arrays there; a silent truncation would hide the mistake
                raise TypeError(f"np.asarray(tensor, dtype={np.dtype(dtype)}): NumPy asked for {np.dtype(dtype)} "
                                f"values of a {data.dtype} tensor (an index, a count?); a cast that loses "
                                f"information is not done implicitly: pass t.astype(...) or t.data.astype(...)")
            if copy is False:
                raise ValueError(f"np.asarray(tensor, dtype={np.dtype(dtype)}, copy=False): a cast from "
                                 f"{data.dtype} needs a copy")
            return np.array(data, dtype=dtype, copy=True)
        view = data.view()
        view.flags.writeable = False
        return view

    def __format__(self, spec):  # f"{loss:.4f}" for a one-element tensor
        return format(self._one_element("format"), spec) if spec else repr(self)

    def __round__(self, ndigits=None):
        return round(self._one_element("round"), ndigits)

    def __copy__(self):
        return self._copied()

    def __deepcopy__(self, memo):
        return self._copied()

    def __reduce__(self):
        self._copied()  # the same refusal for a graph tensor
        return (_rebuild_tensor, (self._data, self._requires_grad, self.name, self.grad))

    def _copied(self):
        """A new leaf with copies of the data and gradient (copy, deepcopy, pickle);
        a tensor of a graph is refused: its copy would not be part of the graph."""
        if self._node is not None:
            raise TypeError("a tensor computed by a recorded op cannot be copied or pickled (the copy would not "
                            "be part of the graph); copy its values, t.detach(), or copy the leaves")
        return _rebuild_tensor(self._data.copy(), self._requires_grad, self.name,
                               None if self.grad is None else np.array(self.grad))

    def _one_element(self, kind):
        if _modes.tracers:
            _modes.value_read(self, f"{kind}()")
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
        return self._one_element("item") if self._data.size == 1 else self._data.item()

    def numpy(self):
        """The values: the array itself for a tensor that needs no gradient; for one
        that requires grad, a read-only view (a write through it would bypass the
        version check and corrupt a gradient; assign ``.data`` instead)."""
        if _modes.tracers:
            _modes.value_read(self, ".numpy()")
        if not self._requires_grad:
            return self._data
        view = self._data.view()
        view.flags.writeable = False
        return view

    def detach(self):
        """A new leaf sharing this tensor's data, cut from the graph.  An assignment
        to either one's ``.data`` counts as a write to both (backward checks it)."""
        twin = Tensor(self._data, name=self.name)
        twin._shares = self._node or self
        return twin

    def zero_grad(self):
        self.grad = None

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` (a leaf of real floating point only); returns self."""
        self.requires_grad = requires_grad
        return self

    def register_hook(self, hook):
        """Call ``hook(grad)`` with this tensor's gradient during backward, before it
        is used: for a computed tensor once all of it has arrived (before its op's
        VJP), for a leaf before it goes into ``.grad``.  ``grad`` is read-only (an
        array; a tensor under ``create_graph``); a hook returning a value replaces
        the gradient with it (same shape).  Returns a handle: ``handle.remove()``."""
        if not self._requires_grad:
            raise RuntimeError("register_hook: this tensor does not require grad, so no gradient reaches it")
        return _hooks.register(self._node or self, hook)

    def retain_grad(self):
        """Keep this computed tensor's gradient in ``.grad`` after backward (a leaf
        keeps it anyway).  Accumulates across backward calls, as a leaf's does."""
        if self._node is None or getattr(self, "_retaining", False):
            return
        ref = weakref.ref(self)

        def keep(g):
            t = ref()
            if t is not None:
                g = np.array(g.data if type(g) is Tensor else g)
                t.grad = g if t.grad is None else t.grad + g
        self.register_hook(keep)

    def __repr__(self):
        if _modes.tracers:
            _modes.value_read(self, "repr()")
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
    # one more Python call).  The reflected forms swap the arguments, so they forward
    # (in TensorMethods, with the methods mirroring the ops: t.sum(), t.reshape(), ...).
    OPERATORS = {"__add__": "add", "__sub__": "sub", "__mul__": "mul", "__truediv__": "div",
                 "__pow__": "power", "__matmul__": "matmul", "__neg__": "neg", "__getitem__": "getitem",
                 "__abs__": "abs", "__mod__": "remainder", "__floordiv__": "floor_divide"}

    # Comparisons are not differentiable: they return plain boolean arrays.
    def __lt__(self, o): return _values(self) < _raw(o)
    def __le__(self, o): return _values(self) <= _raw(o)
    def __gt__(self, o): return _values(self) > _raw(o)
    def __ge__(self, o): return _values(self) >= _raw(o)
    def __eq__(self, o): return _values(self) == _raw(o)
    def __ne__(self, o): return _values(self) != _raw(o)
    __hash__ = object.__hash__


def _raw(x):
    return x._data if type(x) is Tensor else x


def _refuse_graph_elements(items):
    """Raise when a (nested) list, tuple or object array holds a tensor that requires grad:
    ``Tensor([w, w])`` would be a leaf holding copies of the values, cut from ``w``'s graph."""
    for v in (items.flat if type(items) is np.ndarray else items):
        kind = type(v)
        if kind is Tensor:
            if v._requires_grad:
                raise TypeError("Tensor(data): data holds a tensor that requires grad; a new Tensor is a leaf "
                                "with copies of the values, so its gradient would never reach that tensor. Use "
                                "ag.stack([...]) or ag.array([...]) to combine tensors in the graph, or "
                                "t.detach() for the values")
        elif kind is list or kind is tuple or (kind is np.ndarray and v.dtype.kind == "O"):
            _refuse_graph_elements(v)


def _values(t):
    """``t``'s array for Python to look at (comparisons): a value read, as far as ag.compile is concerned."""
    if _modes.tracers:
        _modes.value_read(t, "a comparison")
    return t._data


def _rebuild_tensor(data, requires_grad, name, grad):
    t = Tensor(data, requires_grad=requires_grad, name=name)
    t.grad = grad
    return t


def graph_key(t):
    """What the graph knows a tensor by: its node, or the tensor itself for a leaf."""
    return t._node or t


def release_stale(output) -> bool:
    """Let go of the arrays of the nodes behind ``output`` (a tensor or a node)
    that no backward can go through any more: those that used a leaf written
    since, and those computed from them.  Returns True when ``output``'s own
    node was released.  Nodes not affected (a part of the graph that another,
    valid loss shares) keep their arrays.  A released node costs what a node
    after ``backward()`` costs (metadata only); backward through it raises,
    naming the tensor that changed.  nets models call this on the losses of
    their earlier ``loss()`` calls, so that a list of logged losses that are
    never backpropagated (the seeds' loop) holds no activations."""
    node = output._node if type(output) is Tensor else output
    if type(node) is not Node or node.freed:
        return False
    tainted, memo = {}, {}
    for n in reversed(graph_nodes([node])):  # inputs before the nodes made from them
        changed = [link for link in n.inputs if type(link) is Tensor and link._version > n.seq]
        if changed or any(type(link) is Node and link in tainted for link in n.inputs):
            tainted[n] = changed or next(tainted[link] for link in n.inputs if type(link) is Node and link in tainted)
    for n, changed in tainted.items():
        if type(n.saved) is list:
            n.saved, n.out, n.extra = STALE.because(changed), None, None
            links = n.inputs
            for i, link in enumerate(links):
                if not (type(link) is Tensor and link._requires_grad):
                    links[i] = _released(link, memo)
    return node in tainted


# --- backward -----------------------------------------------------------------

def _seed(out, g, create_graph):
    if g is None:
        if out._data.size != 1:
            raise RuntimeError(f"backward: output has shape {out.shape}; a non-scalar output needs "
                               "an explicit grad (grad_outputs) of that shape")
        # shared and read-only in a plain backward; under create_graph it may come back as a result
        return Tensor(np.ones(out.shape, out.dtype)) if create_graph else ones_seed(out.shape, out.dtype)
    if np.shape(g) != out.shape:
        raise ShapeError(f"backward: grad of shape {np.shape(g)} does not match output of shape {out.shape}")
    value = _raw(g)
    if not (isinstance(value, (np.ndarray, np.generic, int, float, list)) and np.result_type(value).kind in "biuf"):
        raise TypeError(f"backward: grad must be an array of real numbers of the output's shape {out.shape}, "
                        f"got {type(g).__name__}" + (f" of {np.result_type(value)}"
                                                      if isinstance(value, (np.ndarray, np.generic)) else ""))
    if create_graph:
        return g if type(g) is Tensor else Tensor(np.array(g, dtype=out.dtype))
    return np.asarray(value, dtype=out.dtype)  # backward() never hands the caller's array out as a .grad


_ONES = {}  # (shape, dtype) -> read-only 1: the seed of every scalar loss (VJPs never write to gy)


def ones_seed(shape, dtype):
    one = _ONES.get((shape, dtype))
    if one is None:
        one = _ONES[shape, dtype] = np.ones(shape, dtype)
        one.flags.writeable = False
    return one


def _as_tensor(link, value):
    """An op argument as the VJP sees it under create_graph: a tensor for graph elements."""
    if type(link) is Node:
        t = _new(Tensor)
        t._data, t._grad, t._requires_grad, t._node, t._name, t._version = link.out, None, True, link, None, 0
        return t
    return link if type(link) is Tensor else value


def _slow_vjp(node, g, F, params, create_graph, checker):
    """The VJP call under create_graph (tensors in, tensors out) or anomaly mode."""
    op = node.op
    if create_graph:
        for i, link in enumerate(node.inputs):  # the VJP reads the leaves themselves: check them first
            if type(link) is Tensor and link._version > node.seq:
                raise RuntimeError(modified_message(node, i))
        args = (F, g, _as_tensor(node, None), *map(_as_tensor, node.inputs, node.saved))
    else:
        args = (F, g, node.out, *node.saved)
        if op.save is not None:
            params = {**params, "saved": node.extra}
    if checker is not None:  # anomaly mode: floating-point errors in the VJP name this node
        return checker.run_vjp(node, op.vjp, args, params)
    return op.vjp(*args, **params)


def run_backward(outputs, grad_outputs, retain_graph, create_graph, wanted=(), trace=None):
    """Back-propagate; return ({graph key: gradient} for the leaves and ``wanted``, [leaves]).

    A graph key is a node, or a leaf tensor (``graph_key``).  Dicts are keyed by
    them: their hash is their identity, and a dict compares a key by identity
    before ``==`` (which is elementwise for tensors).  ``trace``, a list,
    receives ``(node, upstream_grad, input_index, input_grad)`` for every
    gradient sent (``ag.explain`` reads it)."""
    if _modes.tracers:  # a backward inside a step ag.compile traces
        _modes.backward_called(outputs, into_grad=not wanted and trace is None)
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
        g, key = _seed(out, g, create_graph), graph_key(out)
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
    wanted = {graph_key(t) for t in wanted if type(t) is Tensor}  # (arrays are unhashable, and get no gradient)
    pop, push, next_node = grads.pop, heapq.heappush, heapq.heappop
    checker = _modes.ANOMALY.get() if _modes.anomaly_blocks else None
    slow = create_graph or checker is not None
    watch = checker is not None or trace is not None
    hooks_on = _hooks.active
    with (enable_grad() if create_graph else no_grad()):
        while True:
            if nxt is not None and (not heap or nxt.seq > -heap[0][0]):
                node, nxt = nxt, None
            elif heap:
                node = next_node(heap)[1]
            else:
                break
            g = pop(node)
            if hooks_on:
                g = _hooks.apply(node, g)
            if wanted and node in wanted:
                found[node] = g
            saved = node.saved
            if type(saved) is not list:
                raise RuntimeError(freed_message(node))
            op, params = node.op, node.params
            if op.wants_needs:
                needs = []  # a plain loop: half the cost of a list comprehension on 3.11
                for p in node.inputs:
                    needs.append(type(p) is Node or (type(p) is Tensor and p._requires_grad))
                params = {**params, "needs": needs}
            try:
                if slow:
                    input_grads = _slow_vjp(node, g, F, params, create_graph, checker)
                elif op.save is not None:  # what the forward already computed
                    input_grads = op.vjp(F, g, node.out, *saved, saved=node.extra, **params)
                else:
                    input_grads = op.vjp(F, g, node.out, *saved, **params)
            except Exception as exc:  # (free in 3.11 until raised) say whose VJP it was
                exc.add_note(f"(raised in the VJP of op {op.name!r}, output {label(node)}"
                             + (f", created at {node.where})" if node.where else ")"))
                raise
            links = node.inputs
            if type(input_grads) is tuple:
                if len(input_grads) != len(links):
                    raise vjp_result_error(node, input_grads, 0, None)
            elif len(links) == 1:
                input_grads = (input_grads,)
            else:  # a list; or one gradient, the first input's (right when the others are constants: a shape)
                input_grads = _as_gradients(node, input_grads)
            gp = None
            try:
                for link, gp in zip(links, input_grads):
                    kind = type(link)
                    if kind is Node:
                        if gp is None:
                            continue
                        shape = link.shape
                        dtype = link.dtype
                    elif kind is Tensor:
                        if link._version > node.seq:  # the op saw values that have changed since
                            raise RuntimeError(modified_message(node, _position(links, link)))
                        if not link._requires_grad:  # a data tensor: no gradient
                            if not retain_graph:
                                _release_link(links, link, released)
                            continue
                        if gp is None:
                            continue
                        data = link._data
                        shape = data.shape
                        dtype = data.dtype
                    else:  # a constant: no gradient
                        if not retain_graph and kind is not float and kind is not int:
                            _release_link(links, link, released)
                        continue
                    if gp.shape != shape:  # undo NumPy broadcasting, for every op
                        gp = unbroadcast(F, gp, shape, node, _position(input_grads, gp))
                    if gp.dtype is not dtype and gp.dtype != dtype:
                        gp = F.astype(gp, dtype=dtype)
                    if watch:
                        _watch(checker, trace, node, g, _position(links, link), gp)
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
                raise vjp_result_error(node, input_grads, _position(input_grads, gp), exc) from None
            if not retain_graph:  # drop what only the VJP needed (constants went above)
                node.saved = node.out = node.extra = None
    found.update(grads)  # what is left are the leaves' gradients
    return found, leaves


def _position(items, item):
    """The index of ``item`` in ``items`` by identity (for messages and traces: the
    hot loop keeps no counter); the first when an object appears twice."""
    for i, x in enumerate(items):
        if x is item:
            return i
    return 0


def _release_link(links, link, memo):
    """Replace every occurrence of the constant ``link`` among a node's inputs by what a
    released graph keeps of it."""
    kept = _released(link, memo)
    for i, x in enumerate(links):
        if x is link:
            links[i] = kept


def _as_gradients(node, result):
    """A VJP's result, not a tuple, as one gradient per input: a list as a tuple; a
    single gradient as the first input's (see first_gradient)."""
    if type(result) is list:
        result = tuple(result)
        if len(result) != len(node.inputs):
            raise vjp_result_error(node, result, 0, None)
        return result
    return first_gradient(node, result)


def first_gradient(node, gx):
    """A VJP's single gradient for an op of several inputs, as one per input: the
    first input's, and None for the others, which must not need one (``reshape(x,
    shape)``); a differentiable one would lose its gradient, so that raises."""
    for i, link in enumerate(node.inputs[1:], 1):
        if type(link) is Node or (type(link) is Tensor and link._requires_grad):
            raise vjp_result_error(node, (gx,), i, None)
    return (gx,) + (None,) * (len(node.inputs) - 1)


def _watch(checker, trace, node, g, index, gp):
    """Anomaly mode's check of a gradient sent, and explain's record of it."""
    if checker is not None:
        checker.check_gradient(node, index, gp)
    if trace is not None:
        trace.append((node, g, index, gp))


def _released(link, memo):
    """What a released node keeps of a constant input: for a data tensor, its
    ``Constant`` record (one per tensor, kept on it, so that every picture shows
    one box for it); for an array, one record per array (``memo``); for a
    tuple or list (an index), the same with its arrays replaced; the input
    itself for numbers and the like."""
    if type(link) is Tensor:
        const = link._constant
        if const is None or const.shape != link._data.shape or const.dtype != link._data.dtype \
                or const.name != link.name:
            const = link._constant = Constant(link._data, link.name, True)
        return const
    if isinstance(link, np.ndarray):
        kept = memo.get(id(link))
        if kept is None:
            kept = memo[id(link)] = (Constant(link, None, False), link)  # the value stays alive: ids stay unique
        return kept[0]
    if type(link) is tuple or type(link) is list:
        return type(link)(_released(v, memo) for v in link)
    return link  # numbers, slices, shapes: small, kept as they are


def unbroadcast(F, gp, shape, node, index):
    """``gp`` summed down to ``shape``, or a ShapeError when no broadcast of
    ``shape`` has ``gp``'s shape (a VJP returning the wrong shape)."""
    have = tuple(gp.shape)
    lead = len(have) - len(shape)
    if lead < 0 or any(n != 1 and n != m for n, m in zip(shape, have[lead:])):
        raise ShapeError(f"backward: the VJP of op {node.op.name!r} returned a gradient of shape {have} for "
                         f"input {index} ({label(node.inputs[index])}), which cannot be reduced to that "
                         f"input's shape {shape}")
    return F.sum_to(gp, shape=shape)


def owned_gradient(g, handed, leaf):
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
    grads, leaves = run_backward(outputs, grad_outputs, retain_graph, create_graph=False)
    handed = {id(_raw(g)) for g in grad_outputs or ()}  # the caller's seeds: copied if they reach a leaf
    if _hooks.active:  # (outside the lock: a hook may itself call backward)
        grads = {leaf: _hooks.apply(leaf, grads[leaf]) for leaf in leaves}
    with GRAD_LOCK:  # threads sharing a leaf: every contribution counts
        for leaf in leaves:
            g = grads[leaf]
            # a new array, never in place: the old .grad may be held by the user
            old = leaf._grad
            leaf._grad = owned_gradient(g if old is None else old + g, handed, leaf)


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
    found, _ = run_backward(outputs, grad_outputs, retain, create_graph, wanted=inputs)
    result = []
    handed = {id(g) for g in grad_outputs or ()} | {id(_raw(g)) for g in grad_outputs or ()}  # the caller's seeds
    for i, x in enumerate(inputs):
        g = found.get(graph_key(x)) if type(x) is Tensor else None
        if g is None and not allow_unused:
            what = "an array, not a tensor: only tensors get gradients" if type(x) is not Tensor else \
                "is not used to compute the outputs"
            raise RuntimeError(f"grad: input {i} ({label(x)}) {what}; pass allow_unused=True to get None for it")
        if g is not None:
            if type(g) is not Tensor:
                g = Tensor(owned_gradient(g, handed, x if x.is_leaf else None))
            elif id(g) in handed:  # the same graph tensor for two inputs, or the caller's seed
                g = GRAPH_OPS.mul(g, 1.0)
            handed.add(id(g))
        result.append(g)
    return result[0] if single_in else result
