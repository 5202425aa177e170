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
``"inner.fc2"``; ``module._path``, a ``ModulePath``: ``nets.layers.calling``).  When a sub-module is
called while gradients are recorded, the graph nodes its forward creates are
tagged with that path (``node.module``), innermost module first, so
``ag.viz.draw`` can box them per layer.  The root model (a module not attached
to another) has the empty path and tags nothing: ops written directly in its
``forward`` (the ``ag.relu`` above) and in its loss stay untagged and are drawn
outside every box.
"""
from __future__ import annotations

from typing import Iterator

import autograd_np as ag

from . import calling as _calling
from .calling import accuracy, child_path, release_stale_losses, tagged_call, targets_like, track_loss
from .guard import CompileGuard
from .recorded import ConfigError, Recorded, rebuild, recorded_config
from .registry import REGISTRY, write_model
from .state import ModuleState
from .summary import summarize

__all__ = ["Module"]


def _in_nets(cls):
    return cls.__module__.split(".")[0] == "nets"


class Module(ModuleState, CompileGuard, Recorded):
    """Base class of layers and models.

    Subclasses define ``forward(self, *inputs)``; calling the module calls it.
    ``training`` is True after ``train()`` (the default) and False after
    ``eval()``; layers such as Dropout and BatchNorm read it.  The state dict
    (``state_dict``, ``load_state_dict``, buffers, ``astype``) comes from
    ``ModuleState`` (``nets.layers.state``), ``__compile_guard__`` from
    ``CompileGuard`` (``nets.layers.guard``) and the record of the constructor's
    arguments (the default ``config()``) from ``Recorded`` (``nets.layers.recorded``).
    """

    training: bool = True
    _path = ""  # ModulePath from the root, set when attached to a parent module ("" for the root)
    _unguarded = CompileGuard._unguarded | {"_init_args"}

    def __init_subclass__(cls, **kwargs):
        """Every subclass registers itself by name, so ``nets.load`` can rebuild it: those of nets,
        and the user's own unless the name is one of nets's (then saving it says to rename it).
        A user's subclass of a nets architecture that writes no ``config()`` of its own gets the
        recorded one: the inherited config would describe the nets class, and ``nets.load``
        would silently rebuild that class instead of the subclass."""
        super().__init_subclass__(**kwargs)
        taken = REGISTRY.get(cls.__name__)
        ours = _in_nets(cls)
        if ours or taken is None or not _in_nets(taken):
            REGISTRY[cls.__name__] = cls
        if not ours:
            for method in ("config", "from_config"):
                owner = next(k for k in cls.__mro__ if method in vars(k))
                if owner is not Module and _in_nets(owner):
                    setattr(cls, method, vars(Module)[method])

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

    def _name_modules(self):
        """Give every sub-module its ``ModulePath`` below this module's own path (``named_modules`` does it)."""
        for _ in self.named_modules():
            pass

    # --- calling ---------------------------------------------------------
    def forward(self, *inputs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *inputs, **kwargs):
        """``forward(*inputs)``.  In a sub-module, an error raised inside names the module (its
        path in the model, its class) and the shapes it got: ``fc1 (Affine): input (5, 784):
        ...`` (the model itself has no path: its own errors are left as raised)."""
        path = self._path
        if path:
            return tagged_call(self, path, inputs, kwargs)
        out = self.forward(*inputs, **kwargs)  # the root model (or a module used on its own): nothing to tag
        if _calling.WATCHERS:
            _calling.WATCHERS[-1](self, out)
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
        loss = ag.softmax_cross_entropy(y, targets_like(t, y))
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
        release_stale_losses(self)
        out = self.criterion(self(x), t)
        track_loss(self, out)
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
            children = [(f"{name}.{k}" if name else k, m, child_path(base, k, m)) for k, m in mod._named_children()]
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

    # --- checkpoints -------------------------------------------------------
    def config(self) -> dict:
        """JSON-able description from which ``from_config`` rebuilds this
        architecture (``{"type": ClassName, **kwargs}``).  Layers and models of
        ``nets`` define it; for any other module it is the arguments its
        constructor was given, recorded as it was made (``nets.layers.recorded``),
        or a ``ConfigError`` (a ``NotImplementedError``) saying which argument
        JSON cannot hold and what to do."""
        return recorded_config(self)

    @classmethod
    def from_config(cls, config: dict):
        """The module ``config`` (without its ``"type"``) describes: ``cls(**config)``, the
        modules given as arguments rebuilt first (see ``config``)."""
        return rebuild(cls, config)

    def save(self, path):
        """Write the architecture and weights to ``path`` (``.npz``), atomically.

        ``nets.load(path)`` returns an equal model.  See ``nets.io.checkpoint``.
        A module ``nets.load`` could not rebuild (``config()`` fails: an argument
        JSON cannot hold) is refused here, with the reason, before anything is
        written; its weights save with ``state_dict()`` or ``nets.save_checkpoint``."""
        try:
            self.config()
        except NotImplementedError as exc:
            raise ConfigError(f"{type(self).__name__}.save({str(path)!r}): {exc}") from None
        write_model(self, path)  # (nets.io.checkpoint's save_model: it registers itself)
        return path

    def summary(self, input_shape, dtype=None):
        """A table of every layer with its output shape and parameter count, after a
        forward on an input of ``input_shape`` (the batch axis included, as torchinfo's
        ``input_size``: ``(1, 64)``; a list of shapes for several inputs).  ``dtype``:
        the input's (default the parameters'; an integer dtype gives zeros, e.g. token
        ids).  Prints as text, renders as HTML in a notebook (``nets.layers.summary``)."""
        return summarize(self, input_shape, dtype)

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



Recorded.module = Module  # (nets.layers.recorded cannot import this file)
