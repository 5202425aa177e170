"""``Tensor``: a NumPy array that remembers the op which produced it.

A tensor holds its array (``_data``), its gradient (``grad``), whether it
requires grad, and, when a recorded op computed it, its ``Node``
(``graph.py``).  A node never points back at the tensor it made, so nothing
but the user keeps a tensor alive.  The array-like methods and operators are
here and in ``tensor_methods.py``; NumPy's functions and ufuncs reach the ops
through ``Tensor.__array_function__``/``__array_ufunc__``, which the interop
package (``autograd_np.interop``) installs.  ``backward()`` is
``gradients.backward``.
"""
from __future__ import annotations

import weakref

import numpy as np

from . import graph as _graph, gradients as _gradients, hooks as _hooks, modes as _modes, registry as _registry
from .errors import label
from .graph import WRITTEN, Node, _clock
from .registry import GRAPH_OPS
from .tensor_methods import TensorMethods

__all__ = ["Tensor"]


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
    # NumPy on tensors records: ufuncs, and an ndarray's operators (`arr @ t`), by NEP 13; functions
    # (`np.sum(t)`, `np.concatenate([t, u])`) by NEP 18. autograd_np.interop installs the two methods
    # (__array_ufunc__, __array_function__) when the package is imported: the core does not import it.

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
        _gradients.backward([self], None if grad is None else [grad], retain_graph=retain_graph)

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


_registry.Tensor = Tensor  # (the backward walk finds the class here)
