"""Where autograd_np's time goes, against the hand-written reference.

    python -m benchmarks.profiling 1b                  # cProfile of autograd_np, 300 steps of workload 1b
    python -m benchmarks.profiling 2 --steps 2000      # the 200-op chain
    python -m benchmarks.profiling 1a --contender numpy --sort tottime --top 30
    python -m benchmarks.profiling 1a --decompose      # graph vs kernels vs reference, interleaved
    python -m benchmarks.profiling 2 --decompose       # the same per op of the chain, forward apart
    python -m benchmarks.profiling 6b --steps 30       # a convolutional net's step (workload 6)

``--decompose`` times, interleaved, (1) the autograd_np step, (2) the same
NumPy work done by calling the engine's registered forwards and VJPs directly
(``OPS[name].forward`` / ``.vjp``: no Tensor, no graph, no backward walk) and
(3) the hand-written reference.  (1) - (2) is the engine's graph overhead;
(2) - (3) is what its kernels do differently from the seeds' code.  cProfile
prints wall time per step with and without the profiler, so the profiler's
own overhead (large for many small calls) can be allowed for."""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time

import numpy as np

from . import contenders as C
from .data import training_batches
from .harness import Plan, fmt_time, interleave
from .specs import CHAIN_OPS, MLPS, chain_input, init_params

CNN_KEYS = ("6a", "6b")


def _step_fn(contender, workload):
    mods, skipped = C.load({contender})
    if contender not in mods:
        raise SystemExit(f"{contender}: {skipped.get(contender)}")
    mod = mods[contender]
    if workload == "2":
        run = mod.make_chain(CHAIN_OPS, chain_input())
        return lambda i: run()
    if workload in CNN_KEYS:
        return _cnn_step_fn(mod, workload)
    net = next(n for n in MLPS if n.key == workload)
    model = mod.MLP(net, init_params(net.sizes, net.init))
    batches = [model.prepare(x, t) for x, t in training_batches(net.batch, 20)[0]]
    return lambda i: model.step(batches[i % len(batches)])


def _cnn_step_fn(mod, workload):
    from .cnn import _images
    from .cnn_specs import CNNS, init_cnn_params
    if not hasattr(mod, "CNN"):
        raise SystemExit(f"{mod.NAME} has no convolutional step (workload 6)")
    spec = next(s for s in CNNS if s.key == workload)
    model = mod.CNN(spec, init_cnn_params(spec))
    batches = [model.prepare(x, t) for x, t in _images(training_batches(spec.batch, 6, seed=1)[0], spec)]
    return lambda i: model.step(batches[i % len(batches)])


class KernelsOnly:
    """The autograd_np step's NumPy work without the engine: every registered
    forward and VJP called by hand on arrays, in the order backward would."""

    def __init__(self, net, params):
        from autograd_np.core.registry import OPS, RAW_OPS
        self.F, self.lr = RAW_OPS, net.lr
        self.affine, self.act, self.loss = OPS["affine"], OPS[net.activation], OPS["softmax_cross_entropy"]
        self.params = [(W.copy(), b.copy()) for W, b in params]

    def step(self, batch):
        x, t = batch
        F, affine, act = self.F, self.affine, self.act
        saved, h, last = [], x, len(self.params) - 1
        for i, (W, b) in enumerate(self.params):
            a = affine.forward(h, W, b)
            saved.append((h, a))
            h = act.forward(a) if i < last else a
        loss, kept = self.loss.save(h, t)  # as a recorded call does (op.defsave)
        g = self.loss.vjp(F, np.ones_like(loss), loss, h, t, needs=[True, False], saved=kept)[0]
        grads = []
        for i in range(last, -1, -1):
            h_in, a = saved[i]
            if i < last:
                g = act.vjp(F, g, saved[i + 1][0], a)
            W, b = self.params[i]
            g, gW, gb = affine.vjp(F, g, a, h_in, W, b, needs=[i > 0, True, True])
            grads.append((gW, gb))
        for (W, b), (gW, gb) in zip(reversed(self.params), grads):
            W -= self.lr * gW
            b -= self.lr * gb


def chain_kernels_only(x0):
    """Workload 2's NumPy work without the engine: each op's registered forward,
    then its VJP in reverse order, called by hand on arrays."""
    from autograd_np.core.registry import OPS, RAW_OPS
    steps = [(OPS[name], c) for name, c in CHAIN_OPS]

    def run():
        x, saved = x0, []
        for op, c in steps:
            args = (x,) if c is None else (x, c)
            y = op.forward(*args)
            saved.append((op, y, args))
            x = y
        g = np.ones_like(x)
        for op, y, args in reversed(saved):
            extra = {"needs": [True, False]} if op.wants_needs else {}
            g = op.vjp(RAW_OPS, g, y, *args, **extra)
            g = g[0] if type(g) is tuple else g
        return g
    return run


def chain_forward_only(x0):
    """Workload 2 through autograd_np, forward (recording) only: no backward."""
    import autograd_np as ag
    from .contenders import apply_chain
    x = ag.Tensor(x0.copy(), requires_grad=True)
    fns = {"sigmoid": ag.sigmoid, "tanh": ag.tanh}
    return lambda: ag.sum(apply_chain(x, CHAIN_OPS, fns))


def decompose_chain(plan):
    mods, _ = C.load({"autograd_np", "numpy"})
    x0 = chain_input()
    runs = {"autograd_np": mods["autograd_np"].make_chain(CHAIN_OPS, x0), "forward only": chain_forward_only(x0),
            "kernels only": chain_kernels_only(x0), "reference": mods["numpy"].make_chain(CHAIN_OPS, x0)}
    timings = interleave({name: (lambda f: lambda i: f())(f) for name, f in runs.items()}, plan)
    per_op = {name: t.median / len(CHAIN_OPS) for name, t in timings.items()}
    print(f"2: {len(CHAIN_OPS)}-op chain on {chain_input().shape}; per op, medians of "
          f"{plan.rounds * plan.per_round} interleaved runs")
    for name, t in per_op.items():
        print(f"  {name:14s} {t * 1e6:6.2f} us  {t / per_op['reference']:.3f}x reference")
    ag, fwd, k = per_op["autograd_np"], per_op["forward only"], per_op["kernels only"]
    print(f"  per op: engine overhead {(ag - k) * 1e6:.2f} us (recording + backward walk), "
          f"backward walk with its kernels {(ag - fwd) * 1e6:.2f} us, kernels {k * 1e6:.2f} us")


def decompose(workload, plan):
    if workload == "2":
        return decompose_chain(plan)
    net = next(n for n in MLPS if n.key == workload)
    mods, _ = C.load({"autograd_np", "numpy"})
    params = init_params(net.sizes, net.init)
    data = training_batches(net.batch, 20)[0]
    models = {"autograd_np": mods["autograd_np"].MLP(net, params), "kernels only": KernelsOnly(net, params),
              "reference": mods["numpy"].MLP(net, params)}
    runners = {name: (lambda m: lambda i: m.step(data[i % len(data)]))(m) for name, m in models.items()}
    timings = interleave(runners, plan)
    ref = timings["reference"].median
    print(f"{workload}: {net.title}; medians of {plan.rounds * plan.per_round} interleaved steps")
    for name, t in timings.items():
        print(f"  {name:14s} {fmt_time(t.median):>10s}  {t.median / ref:.3f}x reference")
    ag, k = timings["autograd_np"].median, timings["kernels only"].median
    print(f"  graph overhead (autograd_np - kernels only): {fmt_time(ag - k)} per step; "
          f"kernels vs reference: {fmt_time(k - ref)}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("workload", choices=[n.key for n in MLPS] + ["2", *CNN_KEYS])
    p.add_argument("--contender", default="autograd_np")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--sort", default="tottime", choices=["tottime", "cumulative", "ncalls"])
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--decompose", action="store_true", help="graph overhead vs kernels vs reference")
    a = p.parse_args(argv)
    if a.decompose:
        if a.workload in CNN_KEYS:
            raise SystemExit("--decompose: MLP workloads and the op chain only")
        return decompose(a.workload, Plan(10, 40, 5))
    step = _step_fn(a.contender, a.workload)
    for i in range(20):
        step(i)
    t0 = time.perf_counter()
    for i in range(a.steps):
        step(i)
    plain = (time.perf_counter() - t0) / a.steps
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    for i in range(a.steps):
        step(i)
    prof.disable()
    profiled = (time.perf_counter() - t0) / a.steps
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats(a.sort).print_stats(a.top)
    print(f"{a.contender} {a.workload}: {plain * 1e6:.1f} us/step plain, {profiled * 1e6:.1f} us/step profiled "
          f"({a.steps} steps); per-step figures below are totals / {a.steps}")
    print(out.getvalue())


if __name__ == "__main__":
    main()
