"""Optimizers: SGD, Momentum, AdaGrad, RMSprop, Adam (the seeds' update rules) and AdamW.

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

``weight_decay`` (every optimizer but AdamW) adds ``weight_decay * p`` to each
gradient, i.e. an L2 penalty ``0.5 * weight_decay * sum(p ** 2)`` on every
parameter; ``AdamW`` decays the weights themselves instead (PyTorch's
``torch.optim.AdamW``).  ``Adam`` and ``AdamW`` take PyTorch's ``betas=(0.9, 0.999)``
as well as ``beta1`` and ``beta2``.  ``p.grad`` is never modified (gradients may alias each other);
the update writes into ``p.data``.  ``state_dict()`` / ``load_state_dict()``
save and restore the hyper-parameters, step count and per-parameter state
(velocities, moments), so training resumes exactly.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

import autograd_np as ag

from ..util import validate as _v
from .optim_params import ArraySlot as _ArraySlot, parameter_list as _parameter_list

__all__ = ["Optimizer", "SGD", "Momentum", "AdaGrad", "RMSprop", "Adam", "AdamW", "OPTIMIZERS", "create"]


class Optimizer:
    """Base class: holds ``params``, ``lr``, ``weight_decay`` and a step count ``t``.

    Subclasses list their per-parameter state names in ``slots`` and
    implement ``update_param(i, p, g)`` (``g`` includes weight decay),
    writing into ``p.data`` in place.  ``params=None`` makes an optimizer for
    the book's ``update(params, grads)``, which binds it to those dicts' keys
    on its first call."""

    slots: tuple = ()
    hyper: tuple = ("lr", "weight_decay")
    decoupled_decay = False  # True: update_param applies weight_decay itself (AdamW), not added to the gradient

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
        self._check_has_params("zero_grad")
        for p in self.params:
            p.grad = None

    def step(self):
        """One update of every parameter that has a gradient."""
        self._check_has_params("step")
        self._apply([(i, p, p.grad) for i, p in enumerate(self.params)])

    def _check_has_params(self, call):
        """An optimizer made without parameters (for the book's ``update``) has nothing to step:
        refused, so a loop of ``zero_grad(); backward(); step()`` does not train nothing silently."""
        if self.params:
            return
        who = type(self).__name__
        if self._keys is not None:
            raise RuntimeError(f"{who}.{call}(): this optimizer was made without parameters and is used with the "
                               f"book's update(params, grads); keep calling update(params, grads)")
        raise RuntimeError(f"{who}.{call}(): this optimizer has no parameters to update (it was made without "
                           f"them, for the book's update(params, grads)); give them: {who}(model.parameters(), "
                           f"lr={self.lr:g})")

    def _apply(self, items):
        self.t += 1
        with ag.no_grad():
            for i, p, g in items:
                if g is None:
                    continue
                g = np.asarray(g.data if isinstance(g, ag.Tensor) else g)
                if g.dtype != p.dtype:
                    g = g.astype(p.dtype)
                if self.weight_decay and not self.decoupled_decay:
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
    """Adam with bias correction (step count ``t`` from 1).

    The update of each parameter ``p`` from its gradient ``g``::

        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        p -= lr * (m / (1 - beta1 ** t)) / (sqrt(v / (1 - beta2 ** t)) + eps)
    """

    slots = ("m", "v")
    hyper = ("lr", "beta1", "beta2", "eps", "weight_decay")

    def __init__(self, params=None, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 weight_decay: float = 0.0, *, betas=None):
        super().__init__(params, lr, weight_decay)
        beta1, beta2 = self._betas(betas, beta1, beta2)
        self.beta1 = self._hyper(beta1, "beta1", low=0.0, high=1.0, high_open=True)
        self.beta2 = self._hyper(beta2, "beta2", low=0.0, high=1.0, high_open=True)
        self.eps = self._hyper(eps, "eps", low=0.0)

    def _betas(self, betas, beta1, beta2):
        """PyTorch's ``betas=(beta1, beta2)``: a pair, given instead of ``beta1`` and ``beta2``."""
        if betas is None:
            return beta1, beta2
        who = type(self).__name__
        if isinstance(betas, (str, bytes)) or not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"{who}: betas must be a pair (beta1, beta2) of numbers in [0, 1), got {betas!r:.60}")
        if (beta1, beta2) != (0.9, 0.999):
            raise TypeError(f"{who}: betas={tuple(betas)!r:.60} and beta1={beta1!r:.20}, beta2={beta2!r:.20} given; "
                            "give one or the other")
        for name, value in zip(("betas[0]", "betas[1]"), betas):
            self._hyper(value, name, low=0.0, high=1.0, high_open=True)
        return betas

    def update_param(self, i, p, g):
        if self.decoupled_decay and self.weight_decay:  # AdamW: the weights decay before the step, as PyTorch's
            p.data *= p.dtype.type(1 - self.lr * self.weight_decay)
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


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter), as ``torch.optim.AdamW``:
    before each step ``p *= 1 - lr * weight_decay``, then Adam's update from the
    gradient alone (no L2 term added to it).  ``weight_decay`` defaults to 0.01, as
    PyTorch's; it decays every parameter given (biases too: pass a list without them
    to spare them).  A parameter whose gradient is None is skipped, decay included;
    as in ``Adam``, the bias correction counts the optimizer's steps ``t`` (PyTorch
    counts each parameter's own, which differs only for one skipped at some step)."""

    decoupled_decay = True

    def __init__(self, params=None, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 weight_decay: float = 0.01, *, betas=None):
        super().__init__(params, lr, beta1, beta2, eps, weight_decay, betas=betas)


#: The optimizers by the names ``create`` and the command line (``--optimizer adam``) take.
OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adagrad": AdaGrad, "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW}
DEFAULT_LR = {"sgd": 0.1, "momentum": 0.01, "adagrad": 0.01, "rmsprop": 0.001, "adam": 0.001, "adamw": 0.001}


def create(name: str, params, lr=None, **kwargs) -> Optimizer:
    """An optimizer by name ("sgd", "momentum", "adagrad", "rmsprop", "adam", "adamw"),
    with a sensible default ``lr`` when None."""
    key = name.lower() if isinstance(name, str) else None
    if key not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}: use one of {', '.join(OPTIMIZERS)}")
    return OPTIMIZERS[key](params, lr=DEFAULT_LR[key] if lr is None else lr, **kwargs)
