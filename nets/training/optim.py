"""Optimizers: SGD, Momentum, AdaGrad, RMSprop, Adam (the seeds' update rules).

Each takes the parameters (a list of tensors, or a Module) and updates them
in place from their ``.grad`` under ``ag.no_grad()``::

    opt = nets.optim.Adam(model.parameters(), lr=1e-3)
    for x, t in loader:
        opt.zero_grad()
        model.loss(x, t).backward()
        opt.step()

The book's form works too: an optimizer made without parameters, then
``update(params, grads)`` with two dicts name -> array (the seeds'
``network.params`` and ``network.gradient(x, t)``), updating the arrays in
place::

    optimizer = nets.optim.Momentum(lr=0.01)
    grads = network.gradient(x_batch, t_batch)
    optimizer.update(network.params, grads)

``lr`` is a plain attribute: the schedules in ``nets.callbacks`` set it
between epochs (or batches), and ``state_dict`` saves its current value.

``weight_decay`` (every optimizer) adds ``weight_decay * p`` to each
gradient, i.e. an L2 penalty ``0.5 * weight_decay * sum(p ** 2)`` on every
parameter.  ``p.grad`` is never modified (gradients may alias each other);
the update writes into ``p.data``.  ``state_dict()`` / ``load_state_dict()``
save and restore the hyper-parameters, step count and per-parameter state
(velocities, moments), so training resumes exactly.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

import autograd_np as ag

from ..util import validate as _v

__all__ = ["Optimizer", "SGD", "Momentum", "AdaGrad", "RMSprop", "Adam", "OPTIMIZERS", "create"]


def _parameter_list(params, who):
    """The tensors to optimize, from a Module, an iterable of tensors, or None (the book's
    ``update(params, grads)``); each must require grad and appear once."""
    if isinstance(params, (int, float)) and not isinstance(params, bool):
        raise TypeError(f"{who}: params (the first argument) are the parameters; give the learning rate "
                        f"by name: {who}(lr={params!r})")
    if params is None:
        return []
    module = hasattr(params, "parameters") and callable(params.parameters)
    if module:
        params = params.parameters()
    if isinstance(params, (str, bytes, Mapping, ag.Tensor)) or not hasattr(params, "__iter__"):
        raise TypeError(f"{who}: params must be a Module or a list of ag.Tensor with requires_grad=True (or None "
                        f"for update(params, grads)), got {params!r:.80}")
    params = list(params)
    if not params:
        raise ValueError(f"{who}: params is empty{' (the module has no parameters)' if module else ''}: nothing "
                         "to optimize (make it without params for the book's update(params, grads))")
    seen = {}
    for i, p in enumerate(params):
        if not isinstance(p, ag.Tensor) or not p.requires_grad:
            raise TypeError(f"{who}: params[{i}] must be an ag.Tensor with requires_grad=True, got "
                            f"{type(p).__name__}")
        if id(p) in seen:  # it would be stepped twice per step
            raise ValueError(f"{who}: params[{i}] is params[{seen[id(p)]}] again; give each parameter once")
        seen[id(p)] = i
    return params


class Optimizer:
    """Base class: holds ``params``, ``lr``, ``weight_decay`` and a step count ``t``.

    Subclasses list their per-parameter state names in ``slots`` and
    implement ``update_param(i, p, g)`` (``g`` includes weight decay),
    writing into ``p.data`` in place.  ``params=None`` makes an optimizer for
    the book's ``update(params, grads)``, which binds it to those dicts' keys
    on its first call."""

    slots: tuple = ()
    hyper: tuple = ("lr", "weight_decay")

    def __init__(self, params=None, lr: float = 0.01, weight_decay: float = 0.0):
        who = type(self).__name__
        self._keys = None  # the dict keys, for update(params, grads)
        self.params = _parameter_list(params, who)
        self.lr = _v.number(lr, "lr", who, low=0.0, low_open=True)
        self.weight_decay = _v.number(weight_decay, "weight_decay", who, low=0.0)
        self.t = 0
        self.state = [{} for _ in self.params]

    def _hyper(self, value, name, **domain):
        """A hyper-parameter of a subclass, checked (``domain`` as ``_validate.number``'s)."""
        return _v.number(value, name, type(self).__name__, **domain)

    def _slot(self, i, name, p):
        s = self.state[i]
        if name not in s or s[name].shape != p.shape or s[name].dtype != p.dtype:
            s[name] = np.zeros_like(p.data)
        return s[name]

    def zero_grad(self):
        """Forget every parameter's gradient (``p.grad = None``)."""
        for p in self.params:
            p.grad = None

    def step(self):
        """One update of every parameter that has a gradient."""
        self._apply([(i, p, p.grad) for i, p in enumerate(self.params)])

    def _apply(self, items):
        self.t += 1
        with ag.no_grad():
            for i, p, g in items:
                if g is None:
                    continue
                g = np.asarray(g.data if isinstance(g, ag.Tensor) else g)
                if g.dtype != p.dtype:
                    g = g.astype(p.dtype)
                if self.weight_decay:
                    g = g + p.dtype.type(self.weight_decay) * p.data  # a new array: p.grad stays as it was
                self.update_param(i, p, g)

    def update(self, params, grads):
        """The book's call: ``optimizer.update(params, grads)``, dicts name -> array.

        Each ``params[key]`` is updated in place from ``grads[key]`` (the
        arrays of a ``TwoLayerNet``'s ``params`` through their tensors, so the
        engine sees the write).  The first call binds the optimizer to the
        dicts' keys; later calls need the same keys.  Values may be tensors too."""
        if not isinstance(params, Mapping) or not isinstance(grads, Mapping):
            raise TypeError(f"{type(self).__name__}.update(params, grads) takes two dicts name -> array "
                            "(the book's form); with tensors, call step() after backward()")
        targets = self._bind(params)
        missing = [k for k in self._keys if k not in grads]
        if missing:
            raise KeyError(f"{type(self).__name__}.update: grads has no {', '.join(map(repr, missing))}")
        for key, p in zip(self._keys, targets):
            if np.shape(grads[key]) != p.shape:
                raise ValueError(f"{type(self).__name__}.update: grads[{key!r}] has shape {np.shape(grads[key])} "
                                 f"but params[{key!r}] has shape {p.shape}")
        self._apply([(i, p, grads[key]) for i, (key, p) in enumerate(zip(self._keys, targets))])

    def _bind(self, params):
        keys = list(params.keys())
        if self._keys is None:
            if self.params:
                raise TypeError(f"{type(self).__name__} was made with parameters: call step() after backward(), "
                                "or make it without them, e.g. Momentum(lr=0.01), for update(params, grads)")
            self._keys = keys
        elif keys != self._keys:
            raise KeyError(f"{type(self).__name__}.update: params has the keys {keys}, but this optimizer was first "
                           f"used with {self._keys}")
        tensors = getattr(params, "tensors", None)  # a TwoLayerNet's ParamArrays: update its tensors
        if tensors is None and hasattr(params, "_tensors"):
            tensors = params._tensors
        targets = []
        for key in keys:
            value = params[key]
            if isinstance(value, ag.Tensor):
                targets.append(value)
            elif tensors is not None and key in tensors:
                targets.append(tensors[key])
            else:
                targets.append(_ArraySlot(params, key))
        while len(self.state) < len(targets):
            self.state.append({})
        return targets

    def update_param(self, i, p, g):
        """Update parameter ``p`` (index ``i``) in place from its gradient ``g``."""
        raise NotImplementedError

    # --- state -------------------------------------------------------------
    def state_dict(self) -> dict:
        """``{"type", "hyper": {...}, "t", "state": {"<i>.<slot>": array}}``, all copies."""
        arrays = {}
        for i, s in enumerate(self.state):
            for name, arr in s.items():
                arrays[f"{i}.{name}"] = arr.copy()
        return {"type": type(self).__name__, "hyper": {h: getattr(self, h) for h in self.hyper},
                "t": self.t, "n_params": len(self.state), "state": arrays}

    def load_state_dict(self, sd: dict):
        """Restore from ``state_dict()``; raises ValueError naming what does not fit."""
        if sd.get("type") != type(self).__name__:
            raise ValueError(f"{type(self).__name__}.load_state_dict: the state is from a {sd.get('type')} optimizer")
        if self._keys is not None and not self.params:
            raise ValueError(f"{type(self).__name__}.load_state_dict: an optimizer used with update(params, grads) "
                             "restores its state only when made with the parameters")
        if int(sd.get("n_params", len(self.params))) != len(self.params):
            raise ValueError(f"{type(self).__name__}.load_state_dict: the state is for {sd['n_params']} parameters, "
                             f"this optimizer has {len(self.params)}")
        new = [{} for _ in self.params]
        for key, arr in sd.get("state", {}).items():
            i, name = key.split(".", 1)
            i = int(i)
            if not 0 <= i < len(self.params) or name not in self.slots:
                raise ValueError(f"{type(self).__name__}.load_state_dict: unexpected state key {key!r}")
            p = self.params[i]
            if np.shape(arr) != p.shape:
                raise ValueError(f"{type(self).__name__}.load_state_dict: state {key!r} has shape {np.shape(arr)} "
                                 f"but parameter {i} ({p.name}) has shape {p.shape}")
            new[i][name] = np.array(arr, dtype=p.dtype, copy=True)
        for h, v in sd.get("hyper", {}).items():
            if h in self.hyper:
                setattr(self, h, v)
        self.t = int(sd.get("t", 0))
        self.state = new
        return self

    def __repr__(self):
        hyper = ", ".join(f"{h}={getattr(self, h)}" for h in self.hyper)
        n = len(self.params) if self.params or self._keys is None else len(self._keys)
        return f"{type(self).__name__}({n} params, {hyper})"


class _ArraySlot:
    """``params[key]`` of a plain dict, seen as a parameter.  An array is updated in place
    (the caller's array, the book's ``network.params[key]``, is the one that changes); a
    Python float (the book's ``params['x'] = -7.0``) is replaced by the new float, as the
    book's ``params[key] -= lr * grads[key]`` does."""

    __slots__ = ("mapping", "key")

    def __init__(self, mapping, key):
        self.mapping, self.key = mapping, key
        value = mapping[key]
        kind = np.asarray(value).dtype.kind if isinstance(value, (np.ndarray, float, np.floating)) else None
        if kind != "f":
            raise TypeError(f"update: params[{key!r}] must be a floating-point NumPy array, a float or a tensor, "
                            f"got {type(value).__name__}"
                            f"{' of ' + str(value.dtype) if isinstance(value, np.ndarray) else ''}")

    @property
    def data(self):
        value = self.mapping[self.key]
        return value if isinstance(value, np.ndarray) else np.array(value, dtype=np.float64)

    @data.setter
    def data(self, value):
        old = self.mapping[self.key]
        if isinstance(old, np.ndarray):
            if value is not old:
                old[...] = value
        else:
            self.mapping[self.key] = float(value)

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def shape(self):
        return np.shape(self.mapping[self.key])

    name = property(lambda self: self.key)


class SGD(Optimizer):
    """Stochastic gradient descent: ``p -= lr * g``."""

    def __init__(self, params=None, lr: float = 0.01, weight_decay: float = 0.0):
        super().__init__(params, lr, weight_decay)

    def update_param(self, i, p, g):
        p.data -= p.dtype.type(self.lr) * g


class Momentum(Optimizer):
    """Momentum SGD: ``v = momentum * v - lr * g;  p += v``."""

    slots = ("v",)
    hyper = ("lr", "momentum", "weight_decay")

    def __init__(self, params=None, lr: float = 0.01, momentum: float = 0.9, weight_decay: float = 0.0):
        super().__init__(params, lr, weight_decay)
        self.momentum = self._hyper(momentum, "momentum", low=0.0, high=1.0, high_open=True)

    def update_param(self, i, p, g):
        v = self._slot(i, "v", p)
        f = p.dtype.type
        v *= f(self.momentum)
        v -= f(self.lr) * g
        p.data += v


class AdaGrad(Optimizer):
    """AdaGrad: ``h += g * g;  p -= lr * g / (sqrt(h) + eps)``."""

    slots = ("h",)
    hyper = ("lr", "eps", "weight_decay")

    def __init__(self, params=None, lr: float = 0.01, eps: float = 1e-7, weight_decay: float = 0.0):
        super().__init__(params, lr, weight_decay)
        self.eps = self._hyper(eps, "eps", low=0.0)

    def update_param(self, i, p, g):
        h = self._slot(i, "h", p)
        f = p.dtype.type
        h += g * g
        p.data -= f(self.lr) * g / (np.sqrt(h) + f(self.eps))


class RMSprop(Optimizer):
    """RMSprop: ``h = decay * h + (1 - decay) * g * g;  p -= lr * g / (sqrt(h) + eps)``."""

    slots = ("h",)
    hyper = ("lr", "decay_rate", "eps", "weight_decay")

    def __init__(self, params=None, lr: float = 0.001, decay_rate: float = 0.99, eps: float = 1e-7,
                 weight_decay: float = 0.0):
        super().__init__(params, lr, weight_decay)
        self.decay_rate = self._hyper(decay_rate, "decay_rate", low=0.0, high=1.0, high_open=True)
        self.eps = self._hyper(eps, "eps", low=0.0)

    def update_param(self, i, p, g):
        h = self._slot(i, "h", p)
        f = p.dtype.type
        h *= f(self.decay_rate)
        h += f(1 - self.decay_rate) * g * g
        p.data -= f(self.lr) * g / (np.sqrt(h) + f(self.eps))


class Adam(Optimizer):
    """Adam with bias correction (step count ``t`` from 1)::

        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        p -= lr * (m / (1 - beta1 ** t)) / (sqrt(v / (1 - beta2 ** t)) + eps)
    """

    slots = ("m", "v")
    hyper = ("lr", "beta1", "beta2", "eps", "weight_decay")

    def __init__(self, params=None, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 weight_decay: float = 0.0):
        super().__init__(params, lr, weight_decay)
        self.beta1 = self._hyper(beta1, "beta1", low=0.0, high=1.0, high_open=True)
        self.beta2 = self._hyper(beta2, "beta2", low=0.0, high=1.0, high_open=True)
        self.eps = self._hyper(eps, "eps", low=0.0)

    def update_param(self, i, p, g):
        m, v = self._slot(i, "m", p), self._slot(i, "v", p)
        f = p.dtype.type
        m *= f(self.beta1)
        m += f(1 - self.beta1) * g
        v *= f(self.beta2)
        v += f(1 - self.beta2) * (g * g)
        # p -= lr * mhat / (sqrt(vhat) + eps), with as few temporaries as possible
        denom = np.sqrt(v * f(1.0 / (1 - self.beta2 ** self.t)))
        denom += f(self.eps)
        step = m * f(self.lr / (1 - self.beta1 ** self.t))
        step /= denom
        p.data -= step


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adagrad": AdaGrad, "rmsprop": RMSprop, "adam": Adam}
DEFAULT_LR = {"sgd": 0.1, "momentum": 0.01, "adagrad": 0.01, "rmsprop": 0.001, "adam": 0.001}


def create(name: str, params, lr=None, **kwargs) -> Optimizer:
    """An optimizer by name ("sgd", "momentum", "adagrad", "rmsprop", "adam"),
    with a sensible default ``lr`` when None."""
    key = name.lower() if isinstance(name, str) else None
    if key not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}: use one of {', '.join(OPTIMIZERS)}")
    return OPTIMIZERS[key](params, lr=DEFAULT_LR[key] if lr is None else lr, **kwargs)
