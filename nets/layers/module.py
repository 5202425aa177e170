"""``Module``, the base of every layer and model, and ``Sequential``.

A module is a plain Python object.  Its parameters are the ``ag.Tensor``
attributes that require grad; its sub-modules are the attributes that are
modules, or lists / tuples / dicts of modules.  Nothing has to be registered::

    import autograd_np as ag
    import nets

    class Net(nets.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nets.Affine(64, 32)
            self.fc2 = nets.Affine(32, 10)

        def forward(self, x):
            return self.fc2(ag.relu(self.fc1(x)))

    net = Net()
    [name for name, _ in net.named_parameters()]   # ['fc1.W', 'fc1.b', 'fc2.W', 'fc2.b']
    loss = net.loss(x, t)                            # softmax cross-entropy of net(x)
    loss.backward()                                  # every parameter's .grad is set

Buffers (arrays saved with the model but not trained, e.g. BatchNorm's running
statistics) are declared with ``register_buffer``.

Every sub-module knows its path from the root model (``"fc1"``, ``"blocks.0"``,
``"inner.fc2"``; ``module._path``, a ``ModulePath``).  When a sub-module is
called while gradients are recorded, the graph nodes its forward creates are
tagged with that path (``node.module``), innermost module first, so
``ag.viz.draw`` can box them per layer.  The root model (a module not attached
to another) has the empty path and tags nothing: ops written directly in its
``forward`` (the ``ag.relu`` above) and in its loss stay untagged and are drawn
outside every box.
"""
from __future__ import annotations

import functools
import operator
import weakref
from collections import OrderedDict
from typing import Iterator

import numpy as np

import autograd_np as ag

from autograd_np import core as _engine
from autograd_np.core import graph as _graph
from autograd_np.compiler.guards import Same as _Same, key as _key
from autograd_np.compiler.reach import Key as _Key

from ..util.fields import MAX_LAYERS, array_of
from .registry import REGISTRY, config_schema, from_config, register, write_model

_Tensor, _Node = ag.Tensor, ag.Node

__all__ = ["Module", "Sequential", "StateDictError", "register", "from_config", "REGISTRY", "ModulePath"]


class StateDictError(KeyError):
    """A state dict does not fit the module (missing / unexpected key, wrong shape)."""

    def __str__(self):  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class ModulePath(str):
    """A sub-module's path from the root model, e.g. ``"fc1"`` or ``"block2.bn"``: a ``str``.

    The tag ``nets`` puts on graph nodes (``node.module``).  It also carries
    ``kind`` (the module's class name, ``"Affine"``) and ``parent`` (the
    enclosing module's ``ModulePath``, or ``""`` under the root); ``chain`` is
    ``((path, kind), ...)`` from the outermost attached module down to this one,
    which ``ag.viz.draw`` uses to nest its boxes and label them "fc1: Affine"."""

    def __new__(cls, path, kind, parent=""):
        self = super().__new__(cls, path)
        self.kind, self.parent = kind, parent
        return self

    @property
    def chain(self):
        links, tag = [], self
        while isinstance(tag, ModulePath):
            links.append((str(tag), tag.kind))
            tag = tag.parent
        return tuple(reversed(links))

    def __reduce__(self):  # copy / deepcopy / pickle keep the extra fields
        return type(self), (str(self), self.kind, self.parent)


_tag_calls = 0  # module calls that tagged nodes so far (any thread); see Module.__call__


def _tag_nodes(out, path, start, inner=True):
    """Set ``node.module = path`` on the untagged graph nodes behind ``out`` (tensors or a
    node) created at or after clock reading ``start`` (by the forward that just returned).
    Tagged nodes of inner modules are walked through but keep their tag: the innermost
    module wins.  ``inner=False`` says no module call tagged anything meanwhile, so every
    node found is this module's."""
    outs = out if isinstance(out, (tuple, list)) else (out,)
    stack = [n for n in (o.node if type(o) is _Tensor else o for o in outs) if type(n) is _Node and n.seq >= start]
    seen = set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if not inner or node.module is None:
            node.module = path
        for p in node.inputs:
            if type(p) is _Node and p.seq >= start:
                stack.append(p)


def _release_stale_losses(model):
    """Release the graphs of ``model``'s earlier losses that can no longer be
    backpropagated (a parameter changed since); forget those that are gone.
    Nothing to look at when no tensor was written since the last look."""
    refs = vars(model).get("_loss_graphs")
    if not refs or _graph.last_write() <= vars(model).get("_loss_graphs_checked", 0):
        return
    keep = []
    for ref in refs:
        node = ref()
        if node is not None and not node.freed and not _engine.release_stale(node):
            keep.append(ref)
    refs[:] = keep
    object.__setattr__(model, "_loss_graphs_checked", _graph.clock())


def _track_loss(model, out):
    if type(out) is _Tensor and out.node is not None:
        refs = vars(model).get("_loss_graphs")
        if refs is None:
            refs = []
            object.__setattr__(model, "_loss_graphs", refs)  # plain state: no parameter naming
        refs.append(weakref.ref(out.node))


def _child_path(parent, key, child):
    """The ``ModulePath`` of ``child``, attribute ``key`` of a module at path ``parent``:
    the child's current one when nothing changed (so tags stay identical), else a new one."""
    full = f"{parent}.{key}" if parent else key
    old = vars(child).get("_path")
    if (isinstance(old, ModulePath) and old == full and old.kind == type(child).__name__
            and (old.parent is parent or not (old.parent or parent))):
        return old
    return ModulePath(full, type(child).__name__, parent)


class Module:
    """Base class of layers and models.

    Subclasses define ``forward(self, *inputs)``; calling the module calls it.
    ``training`` is True after ``train()`` (the default) and False after
    ``eval()``; layers such as Dropout and BatchNorm read it.
    """

    training: bool = True
    _path = ""  # ModulePath from the root, set when attached to a parent module ("" for the root)
    # attributes that are not state a forward reads (bookkeeping, the outputs of the latest call):
    # left out of __compile_guard__; a subclass adds its own
    _unguarded = frozenset({"_path", "_loss_graphs", "_loss_graphs_checked"})

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__module__.split(".")[0] == "nets":
            REGISTRY[cls.__name__] = cls

    def __init__(self):
        self.training = True

    def __setattr__(self, key, value):
        object.__setattr__(self, key, value)
        # name parameters as soon as they are attached ("fc1.W"); named_parameters()
        # renames from the root again, e.g. after a list of modules was appended to
        if isinstance(value, ag.Tensor) and value.requires_grad:
            value.name = key
        elif isinstance(value, Module):
            self._name_modules()
            for name, p in value.named_parameters():
                p.name = f"{key}.{name}"
        elif isinstance(value, (list, tuple)) and any(isinstance(v, Module) for v in value):
            self._name_modules()
            for i, v in enumerate(value):
                if isinstance(v, Module):
                    for name, p in v.named_parameters():
                        p.name = f"{key}.{i}.{name}"
        elif isinstance(value, dict) and any(isinstance(v, Module) for v in value.values()):
            self._name_modules()

    def __compile_guard__(self):
        """The state a compiled step depends on (``ag.compile`` makes it part of the
        signature): for this module and every sub-module, its class and every
        attribute: tensors, arrays, generators, modules and functions by identity
        (a parameter replaced by another tensor counts), numbers and strings by
        value (``training``, ``p``, ``mask`` set or cleared), lists and dicts item
        by item, plain objects (a config) by their attributes.  Recomputed only
        when one of those objects is not the same as on the last call (however it
        was set: ``setattr``, ``vars(m)[...]``, a list item); else the last one."""
        cache = _GUARDS.get(self)
        if cache is not None and _same_objects(cache[0], cache[1]):
            return cache[2]
        plan, key = [], []
        for _, m in self.named_modules():
            space = vars(m)
            names = tuple(k for k in space if k not in m._unguarded)
            plan.append((space, _getter(names)))
            items = []
            for k in names:
                items.append((k, _state_key(space[k], plan)))
            key.append((type(m), tuple(items)))
        key = _Key(tuple(key))  # (its hash once: a signature is looked up on every compiled call)
        _GUARDS[self] = (plan, _objects_of(plan), key)
        return key

    def _name_modules(self):
        """Give every sub-module its ``ModulePath`` below this module's own path (``named_modules`` does it)."""
        for _ in self.named_modules():
            pass

    # --- calling ---------------------------------------------------------
    def forward(self, *inputs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *inputs, **kwargs):
        path = self._path
        if not path:  # the root model (or a module used on its own): nothing to tag
            return self.forward(*inputs, **kwargs)
        global _tag_calls
        start = _engine.clock()  # nodes made by this forward get numbers >= start
        calls = _tag_calls
        try:
            out = self.forward(*inputs, **kwargs)
        except Exception as exc:  # an AnomalyError's node is tagged too, so its picture shows the module
            node = getattr(exc, "node", None)
            if type(node) is _Node:
                _tag_nodes(node, path, start)
                _tag_calls += 1
            raise
        _tag_nodes(out, path, start, _tag_calls != calls)
        _tag_calls += 1
        return out

    def predict(self, x, *, training: bool | None = False, grad: bool = False):
        """The model's output (logits / scores) for ``x``, for inference.

        By default in eval mode (no dropout, BatchNorm's running statistics)
        and under ``no_grad`` (no graph is recorded), like ``accuracy``; the
        module's own mode is restored afterwards.  ``training=True`` runs it in
        training mode, ``training=None`` in whatever mode the module is in, and
        ``grad=True`` records the graph (to differentiate the output)."""
        was_training = self.training
        if training is not None:
            self.train(bool(training))
        try:
            if grad:
                return self(x)
            with ag.no_grad():
                return self(x)
        finally:
            if training is not None:
                self.train(was_training)

    def criterion(self, y, t):
        """The training objective from outputs ``y`` and targets ``t``:
        softmax cross-entropy (integer labels or one-hot) plus ``regularization()``."""
        loss = ag.softmax_cross_entropy(y, _targets_like(t, y))
        reg = self.regularization()
        return loss if reg is None else loss + reg

    def regularization(self):
        """A penalty added to the loss (e.g. weight decay); None for none."""
        return None

    def loss(self, x, t):
        """``criterion(self(x), t)``: a scalar tensor to call ``backward()`` on.

        A loss you never backpropagate (one kept for a plot, as the seeds'
        ``train_loss_list.append(network.loss(x, t))`` does) keeps its graph's
        activations while you hold it, until the model's parameters change:
        then backward through it could only fail, and the next ``loss()`` call
        releases its arrays (``ag.engine.release_stale``), so such a list costs
        a few hundred bytes per loss, not the activations."""
        _release_stale_losses(self)
        out = self.criterion(self(x), t)
        _track_loss(self, out)
        return out

    def accuracy(self, x, t):
        """Fraction of rows of ``x`` whose arg-max output matches ``t`` (labels or
        one-hot), computed in eval mode (no dropout, BatchNorm's running
        statistics) under no_grad; the previous mode is restored."""
        was_training = self.training
        self.eval()
        try:
            with ag.no_grad():
                y = self(x)
        finally:
            self.train(was_training)
        return accuracy(y, t)

    # --- discovery -------------------------------------------------------
    def _named_children(self) -> Iterator[tuple[str, "Module"]]:
        """Direct sub-modules, found among the attributes (lists, tuples and dicts too)."""
        for key, value in vars(self).items():
            if isinstance(value, Module):
                yield key, value
            elif isinstance(value, (list, tuple)):
                for i, v in enumerate(value):
                    if isinstance(v, Module):
                        yield f"{key}.{i}", v
            elif isinstance(value, dict):
                for k, v in value.items():
                    if isinstance(v, Module):
                        yield f"{key}.{k}", v

    def _own_parameters(self) -> Iterator[tuple[str, ag.Tensor]]:
        for key, value in vars(self).items():
            if isinstance(value, ag.Tensor) and value.requires_grad:
                yield key, value

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, "Module"]]:
        """``(name, module)`` for this module (name ``""``) and every sub-module, depth first.

        On the way every sub-module's path (``_path``: this module's path, then
        the names down to it) is refreshed; the root's path is ``""``."""
        seen = set()
        stack = [(prefix, self, None)]
        while stack:
            name, mod, path = stack.pop()
            if id(mod) in seen:
                continue
            seen.add(id(mod))
            if path is not None:
                object.__setattr__(mod, "_path", path)
            yield name, mod
            base = mod._path
            children = [(f"{name}.{k}" if name else k, m, _child_path(base, k, m)) for k, m in mod._named_children()]
            stack.extend(reversed(children))

    def modules(self) -> Iterator["Module"]:
        for _, m in self.named_modules():
            yield m

    def named_parameters(self) -> Iterator[tuple[str, ag.Tensor]]:
        """``(name, tensor)`` for every parameter, e.g. ``("fc1.W", <Tensor>)``.

        Each tensor's ``.name`` is set to its name here (shown in errors and graphs)."""
        seen = set()
        for mname, mod in self.named_modules():
            for pname, p in mod._own_parameters():
                if id(p) in seen:
                    continue
                seen.add(id(p))
                full = f"{mname}.{pname}" if mname else pname
                p.name = full
                yield full, p

    def parameters(self) -> list[ag.Tensor]:
        """The parameters as a list (the order is fixed: attribute order, depth first)."""
        return [p for _, p in self.named_parameters()]

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

    # --- modes -----------------------------------------------------------
    def train(self, mode: bool = True):
        """Training mode for this module and every sub-module; returns self."""
        for m in self.modules():
            m.training = mode
        return self

    def eval(self):
        """Evaluation mode (Dropout off, BatchNorm uses running statistics); returns self."""
        return self.train(False)

    def zero_grad(self):
        for p in self.parameters():
            p.grad = None

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

    # --- state -------------------------------------------------------------
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

    # --- checkpoints -------------------------------------------------------
    def config(self) -> dict:
        """JSON-able description from which ``from_config`` rebuilds this
        architecture (``{"type": ClassName, **kwargs}``).  Layers and models of
        ``nets`` define it; a custom module that does not cannot be rebuilt
        by ``nets.load`` (its weights still load with ``load_state_dict``)."""
        raise NotImplementedError(f"{type(self).__name__} does not define config(); nets.load cannot rebuild it")

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def save(self, path):
        """Write the architecture and weights to ``path`` (``.npz``), atomically.

        ``nets.load(path)`` returns an equal model.  See ``nets.io.checkpoint``."""
        write_model(self, path)  # (nets.io.checkpoint's save_model: it registers itself)
        return path

    # --- display -----------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self):
        children = list(self._named_children())
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not children:
            return head + ")"
        lines = [head]
        for name, m in children:
            sub = repr(m).replace("\n", "\n  ")
            lines.append(f"  ({name}): {sub}")
        return "\n".join(lines) + "\n)"


@config_schema(required={"layers": lambda v, f: array_of(v, f, lambda c, g: c, MAX_LAYERS)}, children="layers")
class Sequential(Module):
    """Layers applied one after another: ``Sequential(Affine(64, 32), ReLU(), Affine(32, 10))``.

    A trailing loss layer (``SoftmaxWithLoss``) is the criterion: ``forward``
    stops before it and ``loss(x, t)`` applies it.  Parameters are named by
    position: ``"0.W"``, ``"0.b"``, ``"2.W"``...

        model = nets.Sequential(nets.Affine(64, 32), nets.ReLU(), nets.Affine(32, 10),
                                nets.SoftmaxWithLoss())
        model.loss(x, t).backward()
    """

    def __init__(self, *layers):
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential: layers[{i}] is a {type(layer).__name__}, not a nets.Module")
        self.layers = list(layers)
        self.parameters()  # name them by position now: "0.W"

    def _named_children(self):
        for i, layer in enumerate(self.layers):
            yield str(i), layer

    def __len__(self):
        return len(self.layers)

    def __getitem__(self, i):
        return self.layers[i]

    def __iter__(self):
        return iter(self.layers)

    def append(self, layer):
        self.layers.append(layer)
        self.parameters()
        return self

    def _split(self):
        if self.layers and getattr(self.layers[-1], "is_loss", False):
            return self.layers[:-1], self.layers[-1]
        return self.layers, None

    def forward(self, x):
        body, _ = self._split()
        for layer in body:
            x = layer(x)
        return x

    def criterion(self, y, t):
        _, last = self._split()
        if last is None:
            return super().criterion(y, t)
        loss = last(y, t)
        reg = self.regularization()
        return loss if reg is None else loss + reg

    def config(self):
        return {"type": "Sequential", "layers": [layer.config() for layer in self.layers]}

    @classmethod
    def from_config(cls, config):
        return cls(*[from_config(c) for c in config["layers"]])


_GUARDS = weakref.WeakKeyDictionary()  # root module -> (plan, its objects then, key): __compile_guard__'s cache


def _state_key(value, plan):
    """An attribute's part of ``__compile_guard__``: modules, tensors, arrays and
    functions by identity, numbers and strings by value, lists, tuples and dicts
    item by item, plain objects by their state (``ag.guards.key``).  ``plan``
    collects the containers and objects whose contents the fast path compares."""
    if isinstance(value, (list, tuple)):
        plan.append((value, _items))
        return (type(value),) + tuple(_state_key(v, plan) for v in value)
    if isinstance(value, dict):
        plan.append((value, _items))
        return (dict,) + tuple((k, _state_key(v, plan)) for k, v in value.items())
    if isinstance(value, (Module, ag.Tensor, np.ndarray)) or callable(value):
        return _Same(value)
    if hasattr(value, "__dict__") and not isinstance(value, type):  # a plain object (a config): one level
        plan.append((vars(value), _getter(tuple(vars(value)))))
    return _key(value)


def _objects_of(plan):
    """Every object the plan looks at, in order (compared by identity): for a
    container its items, for a module's or plain object's attributes their values
    by name (and how many there are: one added is a change)."""
    out = []
    add, extend = out.append, out.extend
    for holder, get in plan:
        add(len(holder))
        extend(get(holder))
    return out


def _items(holder):
    return holder.values() if isinstance(holder, dict) else holder


@functools.lru_cache(maxsize=1024)
def _getter(names):
    """``holder -> (holder[name] for name in names)``, at C speed (a missing name: a KeyError)."""
    if not names:
        return lambda h: ()
    get = operator.itemgetter(*names)
    return (lambda h: (get(h),)) if len(names) == 1 else get


def _same_objects(plan, objects):
    try:
        now = _objects_of(plan)
    except KeyError:  # an attribute was deleted
        return False
    return len(now) == len(objects) and all(map(operator.is_, now, objects))


def _targets_like(t, y):
    """One-hot float targets in the logits' dtype; labels unchanged."""
    tv = t.data if isinstance(t, ag.Tensor) else np.asarray(t)
    if tv.dtype.kind == "f" and tv.dtype != y.dtype:
        return tv.astype(y.dtype)
    return t


def accuracy(y, t) -> float:
    """Fraction of rows where ``argmax(y)`` equals the label (``t`` labels or one-hot)."""
    yv = y.data if isinstance(y, ag.Tensor) else np.asarray(y)
    tv = t.data if isinstance(t, ag.Tensor) else np.asarray(t)
    if tv.ndim == yv.ndim and tv.ndim > 1:
        tv = np.argmax(tv, axis=-1)
    pred = np.argmax(yv, axis=-1)
    return float(np.mean(pred == tv)) if pred.size else 0.0
