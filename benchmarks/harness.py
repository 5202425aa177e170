"""Timing and machine facts.

``interleave`` runs the contenders round by round (A B C, B C A, C A B, ...),
a few steps each per round, timing every step on its own, so that whatever the
shared machine does meanwhile (another process, a clock change) hits all alike.
A ratio between two contenders is taken from the same run, never across runs.
"""
from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Plan:
    warmup: int      # untimed steps per contender, interleaved too
    rounds: int
    per_round: int   # timed steps per contender per round
    # untimed steps of a contender when its turn comes, before the timed ones: the thread pools of
    # the one before it (OpenMP's and OpenBLAS's workers spin for a while after their last job)
    # otherwise take the cores during its first step, a cost neither has alone (workload 6: the
    # first call of BatchNorm2d after PyTorch's took 9.2 ms, the next ones 5.2 and 4.5)
    settle: int = 0


@dataclass
class Timing:
    samples: list = field(default_factory=list)       # seconds, every timed step
    round_medians: list = field(default_factory=list)

    @property
    def median(self):
        return statistics.median(self.samples)

    def quantile(self, q):
        return float(np.quantile(self.samples, q))

    def summary(self):
        return {"median_s": self.median, "p25_s": self.quantile(0.25), "p75_s": self.quantile(0.75),
                "min_s": min(self.samples), "n": len(self.samples), "round_medians_s": self.round_medians}


def interleave(runners: dict, plan: Plan) -> dict[str, Timing]:
    """``runners``: {name: fn(i)} where ``fn(i)`` does step ``i`` once.
    Returns {name: Timing} over ``plan.rounds * plan.per_round`` steps each."""
    names = list(runners)
    timings = {n: Timing() for n in names}
    clock = time.perf_counter
    step = {n: 0 for n in names}
    for r in range(-1, plan.rounds):  # round -1 is the warm-up
        k = len(names)
        for name in names[r % k:] + names[:r % k]:
            fn = runners[name]
            if r < 0:
                for _ in range(plan.warmup):
                    fn(step[name])
                    step[name] += 1
                continue
            for _ in range(plan.settle):
                fn(step[name])
                step[name] += 1
            this_round = []
            for _ in range(plan.per_round):
                i = step[name]
                t0 = clock()
                fn(i)
                this_round.append(clock() - t0)
                step[name] += 1
            timings[name].samples.extend(this_round)
            timings[name].round_medians.append(statistics.median(this_round))
    return timings


def ratio(a: Timing, b: Timing) -> dict:
    """a / b: the ratio of medians, and the spread of the per-round ratios (the
    rounds are paired: both ran within the same second)."""
    per_round = [x / y for x, y in zip(a.round_medians, b.round_medians)]
    return {"ratio": a.median / b.median,
            "round_p25": float(np.quantile(per_round, 0.25)), "round_p75": float(np.quantile(per_round, 0.75))}


def time_repeated(fn, plan: Plan) -> Timing:
    """One function timed alone (still warm-up, rounds, medians)."""
    return interleave({"fn": lambda i: fn()}, plan)["fn"]


# --- the machine -------------------------------------------------------------

def _busy_seconds():
    """CPU seconds spent busy by the whole machine so far (/proc/stat), or None."""
    try:
        with open("/proc/stat") as f:
            vals = [int(v) for v in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    return (sum(vals) - vals[3] - vals[4]) / os.sysconf("SC_CLK_TCK")  # minus idle and iowait


def _own_seconds():
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class OthersLoad:
    """Context manager: how many cores other processes kept busy meanwhile
    (machine-wide busy time minus ours, per second of wall time)."""

    def __enter__(self):
        self.t0, self.busy0, self.own0 = time.perf_counter(), _busy_seconds(), _own_seconds()
        return self

    def __exit__(self, *exc):
        wall = time.perf_counter() - self.t0
        busy = _busy_seconds()
        self.cores = (None if busy is None or wall <= 0
                      else max(0.0, (busy - self.busy0 - (_own_seconds() - self.own0)) / wall))


def wait_for_quiet(max_wait: float, threshold: float = 0.2, log=print) -> float | None:
    """Wait (up to ``max_wait`` seconds) until other processes use less than
    ``threshold`` cores over a 2-second look; return the last look's load."""
    deadline = time.monotonic() + max_wait
    announced = False
    while True:
        with OthersLoad() as load:
            time.sleep(2)
        if load.cores is None or load.cores < threshold or time.monotonic() >= deadline:
            return load.cores
        if not announced:
            log(f"  waiting up to {max_wait:.0f} s for the machine to quieten "
                f"(other processes use {load.cores:.2f} cores)")
            announced = True


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _blas_config():
    try:
        cfg = np.show_config(mode="dicts")
        deps = cfg.get("Build Dependencies", {})
        return {k: {kk: deps[k].get(kk) for kk in ("name", "version", "openblas configuration") if kk in deps[k]}
                for k in ("blas", "lapack") if k in deps}
    except Exception as exc:  # older NumPy: no dict mode
        return {"error": repr(exc)}


def _threadpools():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed"
    return [{k: info.get(k) for k in ("user_api", "internal_api", "prefix", "version", "num_threads",
                                      "threading_layer", "architecture")}
            for info in threadpool_info()]


def machine_info(contenders=None) -> dict:
    info = {
        "cpu": _cpu_model(),
        "cores_logical": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "blas": _blas_config(),
        "threadpools": _threadpools(),
        "loadavg_at_start": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "thread_env": {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
                       if k in os.environ},
    }
    if contenders:
        info["contenders"] = {name: getattr(mod, "VERSION", "") for name, mod in contenders.items()}
        if "torch" in contenders:
            import torch
            info["torch_threads"] = torch.get_num_threads()
            info["torch_interop_threads"] = torch.get_num_interop_threads()
    return info


def fmt_time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} us"
