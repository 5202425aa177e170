"""Workload 5: end to end.  Train MultiLayerNet([784, 256, 128, 10]) (ReLU, He
init) with Adam (lr 1e-3, batch 100) for 10 epochs on Fashion-MNIST, then
measure test accuracy; the same model in PyTorch (nn.Linear layers, same
initial weights, torch.optim.Adam) on the same batches.  The two train epoch
by epoch in turn, so drift on the machine hits both alike; the wall time is the
sum of the training epochs (batch gathering included, evaluation not).  The
median epoch is recorded too: on a shared machine one stalled epoch (another
process taking a core from a multi-threaded contender) can dominate the sum.

The autograd_np side uses ``nets`` (MultiLayerNet and nets.optim.Adam) when it
is importable and complete, else autograd_np ops with the small Adam below
(the result says which)."""
from __future__ import annotations

import math
import time

import numpy as np

from .data import fashion_mnist_available, load_fashion_mnist
from .specs import init_params

SIZES = (784, 256, 128, 10)
LR, BATCH, EPOCHS = 1e-3, 100, 10
BETAS, EPS = (0.9, 0.999), 1e-8


class Adam:
    """Adam as torch.optim.Adam computes it (same bias corrections, same eps
    placement), on autograd_np tensors, in float32."""

    def __init__(self, params, lr=LR, betas=BETAS, eps=EPS):
        self.params, self.lr, self.betas, self.eps, self.t = params, lr, betas, eps, 0
        self.m = [np.zeros_like(p.data) for p in params]
        self.v = [np.zeros_like(p.data) for p in params]

    def step(self):
        self.t += 1
        b1, b2 = self.betas
        step_size = self.lr / (1 - b1 ** self.t)
        c2 = math.sqrt(1 - b2 ** self.t)
        for p, m, v in zip(self.params, self.m, self.v):
            g = p.grad
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * (g * g)
            denom = np.sqrt(v)
            denom /= c2
            denom += self.eps
            p.data -= step_size * (m / denom)

    def zero_grad(self):
        for p in self.params:
            p.grad = None


class AgTrainer:
    """autograd_np ops + the Adam above (the fallback when nets is not ready)."""

    def __init__(self, params):
        import autograd_np as ag
        self.ag = ag
        self.layers = [(ag.Tensor(W.copy(), requires_grad=True), ag.Tensor(b.copy(), requires_grad=True))
                       for W, b in params]
        self.opt = Adam([p for layer in self.layers for p in layer])
        self.implementation = "autograd_np ops + benchmark Adam (nets not used)"

    def logits(self, x):
        h = x
        for i, (W, b) in enumerate(self.layers):
            h = self.ag.affine(h, W, b)
            if i < len(self.layers) - 1:
                h = self.ag.relu(h)
        return h

    def step(self, x, t):
        self.ag.softmax_cross_entropy(self.logits(x), t).backward()
        self.opt.step()
        self.opt.zero_grad()

    def predict(self, x):
        with self.ag.no_grad():
            return np.argmax(self.logits(x).data, axis=1)


class NetsTrainer(AgTrainer):
    """nets.MultiLayerNet + nets.optim.Adam, with the shared initial weights
    when its parameters are [W1, b1, W2, b2, ...] of our shapes."""

    def __init__(self, params):
        import autograd_np as ag
        import nets
        self.ag = ag
        self.model = nets.MultiLayerNet(list(SIZES), activation="relu")
        own = list(self.model.parameters())
        flat = [p for layer in params for p in layer]
        same_init = len(own) == len(flat) and all(o.data.shape == p.shape for o, p in zip(own, flat))
        if same_init:
            for o, p in zip(own, flat):
                o.data[...] = p
        self.opt = nets.optim.Adam(own, lr=LR)
        self.implementation = ("nets.MultiLayerNet + nets.optim.Adam"
                               + ("" if same_init else " (nets' own initial weights)"))

    def logits(self, x):
        return self.model(x)

    def step(self, x, t):
        self.model.loss(x, t).backward()
        self.opt.step()
        self.opt.zero_grad()


class TorchTrainer:
    def __init__(self, params):
        import torch
        from torch import nn
        self.torch = torch
        layers = []
        for i, (W, b) in enumerate(params):
            lin = nn.Linear(*W.shape)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(W.T))
                lin.bias.copy_(torch.from_numpy(b))
            layers += [lin, nn.ReLU()] if i < len(params) - 1 else [lin]
        self.model = nn.Sequential(*layers)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=LR, betas=BETAS, eps=EPS)
        self.implementation = f"torch {torch.__version__}: nn.Sequential(nn.Linear, nn.ReLU) + torch.optim.Adam"

    def step(self, x, t):
        loss = self.torch.nn.functional.cross_entropy(self.model(self.torch.from_numpy(x)),
                                                      self.torch.from_numpy(t))
        loss.backward()
        self.opt.step()
        self.opt.zero_grad(set_to_none=True)

    def predict(self, x):
        with self.torch.no_grad():  # a copy: torch warns about read-only arrays (ours are shared)
            return self.model(self.torch.from_numpy(x.copy())).argmax(dim=1).numpy()


def _ag_trainer(params):
    """NetsTrainer when nets works; else AgTrainer, with the reason."""
    try:
        trainer = NetsTrainer(params)
        trainer.step(np.zeros((2, SIZES[0]), np.float32), np.zeros(2, np.int64))  # a smoke step
        trainer = NetsTrainer(params)  # fresh state after the smoke step
        return trainer
    except Exception as exc:  # nets not written yet, or its API differs: say so, do not guess further
        trainer = AgTrainer(params)
        trainer.implementation += f"; nets unusable: {type(exc).__name__}: {exc}"[:300]
        return trainer


def run(available: dict, quick: bool, log=print) -> dict:
    if not fashion_mnist_available():
        return {"skipped": "Fashion-MNIST files not found (apt-get install dataset-fashion-mnist)"}
    x, t = load_fashion_mnist("train")
    x_test, t_test = load_fashion_mnist("test")
    epochs = EPOCHS
    if quick:  # a smoke run of the code path: 1 epoch on 3,000 images; its numbers mean nothing
        x, t, epochs = x[:3000], t[:3000], 1
    params = init_params(SIZES, "he", seed=0)
    trainers = {}
    if "autograd_np" in available:
        trainers["autograd_np"] = _ag_trainer(params)
    if "torch" in available:
        trainers["torch"] = TorchTrainer(params)
    rng = np.random.default_rng(0)
    times = {n: [] for n in trainers}
    for epoch in range(epochs):
        order = rng.permutation(len(x))
        batches = [order[i:i + BATCH] for i in range(0, len(x) - BATCH + 1, BATCH)]
        names = list(trainers)
        names = names[epoch % len(names):] + names[:epoch % len(names)]  # alternate who goes first
        for name in names:
            tr = trainers[name]
            t0 = time.perf_counter()
            for idx in batches:
                tr.step(x[idx], t[idx])
            times[name].append(time.perf_counter() - t0)
        log(f"  5: epoch {epoch + 1}/{epochs}: " + ", ".join(f"{n} {times[n][-1]:.1f} s" for n in trainers))
    out = {"epochs": epochs, "batch": BATCH, "lr": LR, "sizes": SIZES, "quick": quick, "contenders": {}}
    for name, tr in trainers.items():
        t0 = time.perf_counter()
        acc = float(np.mean(tr.predict(x_test) == t_test))
        out["contenders"][name] = {"implementation": tr.implementation, "train_s": sum(times[name]),
                                   "median_epoch_s": float(np.median(times[name])),
                                   "epoch_s": times[name], "eval_s": time.perf_counter() - t0,
                                   "test_accuracy": acc}
    if {"autograd_np", "torch"} <= set(trainers):
        a, t = out["contenders"]["autograd_np"], out["contenders"]["torch"]
        out["ratio_to_torch"] = a["train_s"] / t["train_s"]
        out["median_epoch_ratio_to_torch"] = a["median_epoch_s"] / t["median_epoch_s"]
    return out
