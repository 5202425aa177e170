"""Workload 2: graph overhead.  A chain of 200 small elementwise ops on a
(10, 10) float32 array, forward and backward; the time per op against the
plain-NumPy floor (the same NumPy calls, hand-written backward, no graph)."""
from __future__ import annotations

import numpy as np

from .harness import Plan, interleave, ratio
from .specs import CHAIN_LENGTH, CHAIN_OPS, CHAIN_PATTERN, CHAIN_SHAPE, chain_input


def run(contenders: dict, plan: Plan, log=print) -> dict:
    x0 = chain_input()
    runners, check = {}, {}
    expected = contenders["numpy"].make_chain(CHAIN_OPS, x0)() if "numpy" in contenders else None
    for name, mod in contenders.items():
        if not hasattr(mod, "make_chain"):
            continue
        run_chain = mod.make_chain(CHAIN_OPS, x0)
        if expected is not None:
            g = np.asarray(run_chain())
            err = float(np.max(np.abs(g - expected)) / np.max(np.abs(expected)))
            check[name] = {"grad_rel_diff": err, "dtype": str(g.dtype),
                           "ok": err < 1e-3 and g.dtype == np.float32}
        runners[name] = (lambda f: lambda i: f())(run_chain)
    log(f"  2: {CHAIN_LENGTH}-op chain on {CHAIN_SHAPE}: {len(runners)} contenders x "
        f"{plan.rounds} rounds x {plan.per_round} runs")
    timings = interleave(runners, plan)
    out = {"ops": CHAIN_LENGTH, "shape": CHAIN_SHAPE, "pattern": [p[0] + ("" if p[1] is None else f" {p[1]}")
                                                                  for p in CHAIN_PATTERN],
           "timings": {n: t.summary() for n, t in timings.items()},
           "per_op_s": {n: t.median / CHAIN_LENGTH for n, t in timings.items()},
           "consistency": check}
    if "numpy" in timings:
        out["ratio_to_numpy"] = {n: ratio(t, timings["numpy"]) for n, t in timings.items()}
    if "autograd_np_baseline" in timings:
        out["ratio_to_autograd_np_baseline"] = {n: ratio(t, timings["autograd_np_baseline"])
                                                for n, t in timings.items()}
    return out
