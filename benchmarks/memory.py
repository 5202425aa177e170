"""Workload 4: memory.  Each measurement runs in a fresh process, so nothing
the other workloads allocated hides or inflates it.

* ``rss``: resident memory over 1,000 training steps after a short warm-up.  The
  peak RSS must not grow: a graph kept alive between steps would add a step's
  activations every step.
* ``peak``: tracemalloc's peak during one training step (NumPy reports its
  array allocations to tracemalloc), above what was live before the first step
  (parameters, batch, model objects).  What a contender keeps from one step to
  the next (the seeds' layers keep their last inputs and masks) counts.

* ``seeds``: the seeds' loop with ``nets.TwoLayerNet``, which appends to its
  list a loss that is never backpropagated after every update; RSS growth over
  10,000 steps, and so what one held loss costs.

    python -m benchmarks.memory rss --contender autograd_np --net 1b --steps 1000
    python -m benchmarks.memory seeds --steps 10000
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np

from . import contenders as C
from .data import training_batches
from .specs import MLPS, init_params

RSS_NET = "1b"
RSS_WARMUP = 20
PEAK_CONTENDERS = ["autograd_np", "autograd_np_compiled", "numpy", "autograd", "mygrad"]  # NumPy-based: tracemalloc sees them
FLAT_LIMIT = 1 << 20  # bytes of peak-RSS growth over the measured steps that still count as flat


def _rss_now():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _maxrss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def _model(name, net_key, n_batches):
    mods, skipped = C.load(only={name})
    if name not in mods:
        raise SystemExit(json.dumps({"skipped": skipped.get(name, "unknown contender")}))
    net = next(n for n in MLPS if n.key == net_key)
    batches, _ = training_batches(net.batch, n_batches)
    model = mods[name].MLP(net, init_params(net.sizes, net.init))
    return net, model, batches


def measure_rss(name, net_key, steps):
    net, model, batches = _model(name, net_key, 20)
    prepared = [model.prepare(x, t) for x, t in batches]
    for i in range(RSS_WARMUP):
        model.step(prepared[i % len(prepared)])
    gc.collect()
    rss0, max0, objs0 = _rss_now(), _maxrss(), len(gc.get_objects())
    trace = [(0, rss0)]
    every = max(1, steps // 50)
    for i in range(1, steps + 1):
        model.step(prepared[i % len(prepared)])
        if i % every == 0:
            trace.append((i, _rss_now()))
    gc.collect()
    rss1, max1, objs1 = _rss_now(), _maxrss(), len(gc.get_objects())
    steps_arr, rss_arr = np.array(trace, dtype=np.float64).T
    slope = float(np.polyfit(steps_arr, rss_arr, 1)[0]) if len(trace) > 2 else 0.0
    return {"contender": name, "net": net_key, "steps": steps, "warmup": RSS_WARMUP,
            "rss_start": rss0, "rss_end": rss1, "maxrss_start": max0, "maxrss_end": max1,
            "maxrss_growth": max1 - max0, "rss_slope_bytes_per_step": slope,
            "gc_objects_growth": objs1 - objs0, "flat": max1 - max0 <= FLAT_LIMIT,
            "trace": trace}


SEEDS_BYTES_PER_STEP = 4096  # what a held, never-backpropagated loss may cost (one step's activations: 359 KiB)


def measure_seeds_loop(steps):
    """The seeds' training loop with nets.TwoLayerNet 784-50-10 at batch 100:
    ``gradient()``, the update of ``params``, then ``train_loss_list.append(
    network.loss(x_batch, t_batch))``, a loss that is never backpropagated and
    is held to the end.  RSS growth after 100 steps of warm-up."""
    import nets
    net = next(n for n in MLPS if n.key == "1a")
    batches, _ = training_batches(net.batch, 50)
    network = nets.TwoLayerNet(784, 50, 10, rng=0)
    train_loss_list = []
    for i in range(steps + 100):
        if i == 100:
            gc.collect()
            rss0 = _rss_now()
        x_batch, t_batch = batches[i % len(batches)]
        grad = network.gradient(x_batch, t_batch)
        for key in ("W1", "b1", "W2", "b2"):
            network.params[key] -= 0.1 * grad[key]
        train_loss_list.append(network.loss(x_batch, t_batch))
    gc.collect()
    growth = _rss_now() - rss0
    values = np.array(train_loss_list)
    return {"steps": steps, "rss_growth": growth, "bytes_per_step": growth / steps,
            "flat": growth / steps <= SEEDS_BYTES_PER_STEP, "losses_dtype": str(values.dtype),
            "first_loss": float(values[0]), "last_loss": float(values[-1])}


def measure_peaks(names, net_keys):
    out = {}
    for net_key in net_keys:
        for name in names:
            try:
                net, model, batches = _model(name, net_key, 1)
            except SystemExit:
                continue
            x, t = batches[0]
            gc.collect()
            tracemalloc.start()
            model = type(model)(net, init_params(net.sizes, net.init))  # built under tracing
            batch = model.prepare(x, t)
            base = tracemalloc.get_traced_memory()[0]
            for _ in range(2):
                model.step(batch)
            tracemalloc.reset_peak()
            before = tracemalloc.get_traced_memory()[0]
            model.step(batch)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            out.setdefault(net_key, {})[name] = {"peak_bytes": peak - base, "held_between_steps": before - base}
    return out


# --- the driver side: one subprocess per measurement ----------------------

def _sub(args):
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, "-m", "benchmarks.memory", *args], cwd=root, env=env,
                          capture_output=True, text=True)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 and not lines:
        return {"error": proc.stderr.strip()[-2000:]}
    return json.loads(lines[-1])


def run(available: dict, steps: int, log=print) -> dict:
    out = {"rss": {}, "peak": {}}
    for name in ("autograd_np", "numpy"):
        if name in available:
            r = _sub(["rss", "--contender", name, "--net", RSS_NET, "--steps", str(steps)])
            out["rss"][name] = r
            if "maxrss_growth" in r:
                log(f"  4: {name}: peak RSS growth over {steps} steps of {RSS_NET}: "
                    f"{r['maxrss_growth'] / 1024:.0f} KiB, {r['gc_objects_growth']} objects")
    if "autograd_np" in available:
        seeds_steps = 10_000 if steps >= 1000 else 100
        out["seeds"] = r = _sub(["seeds", "--steps", str(seeds_steps)])
        if "rss_growth" in r:
            log(f"  4: the seeds' loop, {seeds_steps} held losses: RSS growth {r['rss_growth'] / 2 ** 20:.1f} MiB "
                f"({r['bytes_per_step']:.0f} B per step)")
    names = [n for n in PEAK_CONTENDERS if n in available]
    out["peak"] = _sub(["peak", "--contenders", ",".join(names), "--nets", ",".join(n.key for n in MLPS)])
    for key, per in out["peak"].items():
        if isinstance(per, dict) and "numpy" in per:
            for name, r in per.items():
                r["ratio_to_numpy"] = r["peak_bytes"] / per["numpy"]["peak_bytes"]
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=["rss", "peak", "seeds"])
    p.add_argument("--contender", default="autograd_np")
    p.add_argument("--contenders", default=",".join(PEAK_CONTENDERS))
    p.add_argument("--net", default=RSS_NET)
    p.add_argument("--nets", default=",".join(n.key for n in MLPS))
    p.add_argument("--steps", type=int, default=1000)
    a = p.parse_args(argv)
    if a.what == "rss":
        result = measure_rss(a.contender, a.net, a.steps)
    elif a.what == "seeds":
        result = measure_seeds_loop(a.steps)
    else:
        result = measure_peaks(a.contenders.split(","), a.nets.split(","))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
