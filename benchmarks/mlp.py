"""Workload 1: one training step of an MLP (forward, backward, SGD update) on
Fashion-MNIST batches in float32, every contender from the same weights on the
same batches.  Before timing, a consistency check makes sure each contender
computes the same thing as the reference, in float32."""
from __future__ import annotations

import numpy as np

from .data import training_batches
from .harness import Plan, interleave, ratio
from .specs import MLPS, init_params

N_BATCHES = 50      # cycled through by the timed steps
CHECK_STEPS = 3


def _rel(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30))


def consistency(contenders, net, params, batches, tol=2e-3):
    """Each contender against the reference, from fresh copies of the weights:
    the loss and gradients of one batch (and their dtype: float32 everywhere),
    then the weights after a few SGD steps."""
    ref_mod = contenders["numpy"]
    ref = ref_mod.MLP(net, params)
    ref_loss, ref_grads = ref.gradients(ref.prepare(*batches[0]))
    ref_run = ref_mod.MLP(net, params)
    for x, t in batches[:CHECK_STEPS]:
        ref_run.step(ref_run.prepare(x, t))
    ref_delta = [w - w0 for w, w0 in zip(ref_run.weights(), (p for layer in params for p in layer))]
    report = {}
    for name, mod in contenders.items():
        if not hasattr(mod, "MLP") or not hasattr(mod.MLP, "gradients"):
            continue  # workload 6's torch.compile contender has no MLP
        m = mod.MLP(net, params)
        loss, grads = m.gradients(m.prepare(*batches[0]))
        dtypes = sorted({str(np.asarray(g).dtype) for g in grads})
        m = mod.MLP(net, params)
        for x, t in batches[:CHECK_STEPS]:
            m.step(m.prepare(x, t))
        delta = [np.asarray(w) - w0 for w, w0 in zip(m.weights(), (p for layer in params for p in layer))]
        entry = {"loss": loss, "loss_rel_diff": abs(loss - ref_loss) / abs(ref_loss),
                 "grad_rel_diff": max(_rel(g, r) for g, r in zip(grads, ref_grads)),
                 "update_rel_diff": max(_rel(d, r) for d, r in zip(delta, ref_delta)),
                 "grad_dtypes": dtypes,
                 "weight_dtypes": sorted({str(np.asarray(w).dtype) for w in m.weights()})}
        entry["ok"] = (entry["loss_rel_diff"] < tol and entry["grad_rel_diff"] < tol
                       and entry["update_rel_diff"] < tol
                       and dtypes == ["float32"] and entry["weight_dtypes"] == ["float32"])
        report[name] = entry
    return report


def _tracing_calls(mod, net, params, batches, eager_median, repeats=9):
    """The first two calls of a fresh compiled step (the tracing ones), against an eager
    step: the median over ``repeats`` fresh steps (one alone is at the machine's mercy)."""
    import time
    seconds = [[], [], []]
    for _ in range(repeats):
        model = mod.MLP(net, params)
        prepared = [model.prepare(x, t) for x, t in batches[:3]]
        for i, batch in enumerate(prepared):
            t0 = time.perf_counter()
            model.step(batch)
            seconds[i].append(time.perf_counter() - t0)
    medians = [float(np.median(s)) for s in seconds]
    return {"seconds": medians, "ratio_to_eager_step": [s / eager_median for s in medians], "repeats": repeats}


def _guard_cost(mod, net, params, batches, eager_median, calls=20000):
    """What a compiled call checks before it replays (signature, the program's own
    guards, the per-call conditions), per call, against an eager step."""
    import time
    model = mod.MLP(net, params)
    batch = model.prepare(*batches[0])
    for _ in range(3):
        model.step(batch)
    compiled = model.compiled
    program = compiled.program(*batch)
    t0 = time.perf_counter()
    for _ in range(calls):
        compiled._signature(batch)
        compiled._transient(batch)
        program.still_valid()
    per_call = (time.perf_counter() - t0) / calls
    return {"seconds": per_call, "ratio_to_eager_step": per_call / eager_median}


def run(contenders: dict, plan: Plan, log=print) -> dict:
    results = {}
    for net in MLPS:
        params = init_params(net.sizes, net.init)
        batches, source = training_batches(net.batch, N_BATCHES, seed=0)
        check = consistency(contenders, net, params, batches) if "numpy" in contenders else {}
        runners = {}
        for name, mod in contenders.items():
            if not hasattr(mod, "MLP"):
                continue
            model = mod.MLP(net, params)
            prepared = [model.prepare(x, t) for x, t in batches]
            runners[name] = (lambda m, b: lambda i: m.step(b[i % len(b)]))(model, prepared)
        log(f"  {net.key}: {net.title}: {len(runners)} contenders x "
            f"{plan.rounds} rounds x {plan.per_round} steps")
        timings = interleave(runners, plan)
        entry = {"title": net.title, "sizes": net.sizes, "activation": net.activation, "batch": net.batch,
                 "init": net.init, "lr": net.lr, "data": source, "matmul_flops": net.flops(),
                 "timings": {n: t.summary() for n, t in timings.items()}, "consistency": check}
        if "autograd_np_compiled" in contenders and "autograd_np" in timings:
            entry["tracing_calls"] = _tracing_calls(contenders["autograd_np_compiled"], net, params, batches,
                                                    timings["autograd_np"].median)
            entry["guard_cost"] = _guard_cost(contenders["autograd_np_compiled"], net, params, batches,
                                              timings["autograd_np"].median)
        for base in ("numpy", "numpy_lean", "torch", "autograd_np_baseline", "blas_floor"):
            if base in timings:
                entry[f"ratio_to_{base}"] = {n: ratio(t, timings[base]) for n, t in timings.items()}
        results[net.key] = entry
    return results
