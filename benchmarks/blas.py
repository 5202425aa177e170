"""Workload 3: the BLAS limit.  Sustained GFLOP/s of ``np.matmul`` in float32
at exactly the shapes and layouts of each MLP step (``x.T @ gy`` and
``gy @ W.T`` take transposed views, as every contender does), and a large
square product for the machine's best case.  The sum of the per-shape times
is the FLOP-count lower bound of a step; each contender's step time is then
reported as the fraction of it that the bound accounts for (1.0 = nothing but
BLAS time)."""
from __future__ import annotations

import numpy as np

from .harness import Plan, interleave
from .specs import MLPS

SQUARE = 1024


def _operands(m, k, n, what, rng):
    """Arrays of the product's shape with the layout the step uses."""
    if "x.T@gy" in what:   # a = x.T: a transposed (F-ordered) view
        a = rng.random((k, m), dtype=np.float32).T
        b = rng.standard_normal((k, n)).astype(np.float32)
    elif "gy@W.T" in what:  # b = W.T
        a = rng.standard_normal((m, k)).astype(np.float32)
        b = rng.standard_normal((n, k)).astype(np.float32).T
    else:
        a = rng.random((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n)).astype(np.float32)
    return a, b


def run(plan: Plan, mlp_results: dict | None = None, log=print) -> dict:
    rng = np.random.default_rng(2)
    out = {}
    a = rng.random((SQUARE, SQUARE), dtype=np.float32)
    b = rng.random((SQUARE, SQUARE), dtype=np.float32)
    square = interleave({"sq": lambda i: np.matmul(a, b)},
                        Plan(plan.warmup, max(2, plan.rounds // 4), plan.per_round))["sq"]
    out["square"] = {"shape": SQUARE, "median_s": square.median,
                     "gflops": 2 * SQUARE ** 3 / square.median / 1e9}
    log(f"  3: np.matmul float32 {SQUARE}^3: {out['square']['gflops']:.1f} GFLOP/s")
    for net in MLPS:
        shapes = net.matmul_shapes()
        runners = {}
        for m, k, n, what in shapes:
            x, y = _operands(m, k, n, what, rng)
            runners[what] = (lambda x, y: lambda i: np.matmul(x, y))(x, y)
        timings = interleave(runners, plan)
        rows = [{"what": what, "m": m, "k": k, "n": n, "median_s": timings[what].median,
                 "gflops": 2 * m * k * n / timings[what].median / 1e9} for m, k, n, what in shapes]
        bound = sum(r["median_s"] for r in rows)
        entry = {"matmuls": rows, "flops": net.flops(), "bound_s": bound,
                 "gflops_at_shapes": net.flops() / bound / 1e9,
                 "bound_at_square_peak_s": net.flops() / (out["square"]["gflops"] * 1e9)}
        if mlp_results and net.key in mlp_results:
            entry["fraction_of_step"] = {name: bound / t["median_s"]
                                         for name, t in mlp_results[net.key]["timings"].items()}
        out[net.key] = entry
        log(f"  3: {net.key}: {entry['gflops_at_shapes']:.1f} GFLOP/s at the step's shapes, "
            f"bound {bound * 1e3:.3f} ms")
    return out
