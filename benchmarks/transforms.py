"""The function transforms' costs against their targets (issue 23):

* ``jvp`` of a function: at most about 3x its forward pass;
* ``hvp`` (forward over reverse): at most about 5x a gradient;
* a Jacobian of R^n -> R^m: at most min(n, m) passes plus a constant (one pass:
  the function's gradient, a forward and a backward), by rows or columns in one
  batched pass (vmap over the VJP or the JVP) and, for comparison, in a loop;
* per-example gradients, ``vmap(grad(loss), in_axes=(None, 0, 0))``, against a
  Python loop of the same gradients.

``python -m benchmarks.transforms`` (a quiet machine: it waits up to a minute for
one) prints the table and writes ``results/transforms.{md,json}``; ``--quick`` is a
smoke run of every case (numbers not meaningful, nothing written).  The functions
are float64 MLPs (tanh layers of width 128) on a batch of 32 rows.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

import autograd_np as ag
from autograd_np.transforms import jacobians

from .harness import Plan, interleave, machine_info, ratio, wait_for_quiet

RESULTS = Path(__file__).resolve().parent / "results"
PLANS = {"full": Plan(5, 15, 5), "quick": Plan(1, 2, 1)}


def mlp(n_in, n_out, width=128, depth=3, seed=0):
    """(params, f(params, x)): a tanh MLP, float64."""
    rng = np.random.default_rng(seed)
    sizes = [n_in] + [width] * depth + [n_out]
    params = [rng.standard_normal((a, b)) / np.sqrt(a) for a, b in zip(sizes, sizes[1:])]

    def f(ws, x):
        for w in ws[:-1]:
            x = ag.tanh(x @ w)
        return x @ ws[-1]
    return params, f


def _case(name, runners, target, plan, numerator, denominator, scale=1.0):
    """Time ``runners`` interleaved; the ratio numerator / (denominator * scale) against ``target``."""
    timings = interleave(runners, plan)
    r = ratio(timings[numerator], timings[denominator])
    value = r["ratio"] / scale
    return {"case": name, "value": value, "target": target, "p25": r["round_p25"] / scale,
            "p75": r["round_p75"] / scale, "medians_ms": {k: t.median * 1e3 for k, t in timings.items()}}


def jvp_case(plan):
    ws, f = mlp(64, 64)
    x, t = np.random.default_rng(1).standard_normal((2, 32, 64))
    forward = lambda i: f(ws, x)  # noqa: E731  (a forward on arrays: nothing recorded)
    tangent = lambda i: ag.jvp(lambda v: f(ws, v), (x,), (t,))  # noqa: E731
    return _case("jvp / forward pass", {"forward": forward, "jvp": tangent}, "<= ~3", plan, "jvp", "forward")


def hvp_case(plan):
    ws, f = mlp(64, 1)
    x = np.random.default_rng(2).standard_normal((32, 64))
    v = [np.random.default_rng(3).standard_normal(w.shape) for w in ws]
    loss = lambda p: ag.sum(f(p, x))  # noqa: E731
    gradient = ag.func.grad(loss)
    runners = {"grad": lambda i: gradient(ws), "hvp": lambda i: ag.hvp(loss, (ws,), (v,))}
    return _case("hvp / gradient", runners, "<= ~5", plan, "hvp", "grad")


def jacobian_cases(plan):
    """J of R^n -> R^m for a tall, a wide and a square function: time / (min(n, m) * one gradient)."""
    out = []
    for n, m in [(256, 8), (8, 256), (64, 64)]:
        ws, f = mlp(n, m, width=64)
        x = np.random.default_rng(4).standard_normal(n)
        fn = lambda v, ws=ws, f=f: f(ws, v)  # noqa: E731
        gradient = ag.func.grad(lambda v, fn=fn: ag.sum(fn(v)))
        runners = {"one pass": lambda i, g=gradient, x=x: g(x), "jacobian": lambda i, fn=fn, x=x: ag.jacobian(fn)(x),
                   "jacobian, loop": lambda i, fn=fn, x=x: _looped(ag.jacobian, fn, x)}
        case = _case(f"jacobian R^{n} -> R^{m} / (min(n, m) passes)", runners, "<= 1 + a constant", plan,
                     "jacobian", "one pass", scale=min(n, m))
        case["vmap / loop"] = case["medians_ms"]["jacobian"] / case["medians_ms"]["jacobian, loop"]
        out.append(case)
    return out


def _looped(transform, fn, x):
    """The transform with its rows or columns in a Python loop (vmap off)."""
    saved, jacobians.LOOP_BELOW = jacobians.LOOP_BELOW, sys.maxsize
    try:
        return transform(fn)(x)
    finally:
        jacobians.LOOP_BELOW = saved


def per_example_case(plan):
    ws, f = mlp(32, 10, width=64)
    rng = np.random.default_rng(5)
    x, labels = rng.standard_normal((64, 32)), rng.integers(0, 10, 64)
    loss = lambda p, xi, ti: ag.softmax_cross_entropy(f(p, xi[None]), ti[None])  # noqa: E731
    per = ag.vmap(ag.func.grad(loss), in_axes=(None, 0, 0))
    gradient = ag.func.grad(loss)
    runners = {"vmap(grad)": lambda i: per(ws, x, labels),
               "loop of grad": lambda i: [gradient(ws, x[k], labels[k]) for k in range(len(x))]}
    return _case("per-example gradients, batch 64: vmap / loop", runners, "< 1", plan, "vmap(grad)", "loop of grad")


def table(cases):
    lines = ["| case | measured | target | per-round p25-p75 | medians (ms) |", "|---|---|---|---|---|"]
    for c in cases:
        medians = ", ".join(f"{k} {v:.3g}" for k, v in c["medians_ms"].items())
        extra = f" (vmap / loop {c['vmap / loop']:.2f})" if "vmap / loop" in c else ""
        lines.append(f"| {c['case']} | {c['value']:.2f}{extra} | {c['target']} | {c['p25']:.2f}-{c['p75']:.2f} | "
                     f"{medians} |")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.transforms", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="smoke run of every case (numbers not meaningful)")
    p.add_argument("--wait", type=float, default=60.0, help="seconds to wait for a quiet machine (default 60)")
    args = p.parse_args(argv)
    plan = PLANS["quick" if args.quick else "full"]
    load = None if args.quick else wait_for_quiet(args.wait)
    cases = [jvp_case(plan), hvp_case(plan), *jacobian_cases(plan), per_example_case(plan)]
    text = table(cases)
    print(text)
    if not args.quick:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "transforms.md").write_text(text + "\n")
        (RESULTS / "transforms.json").write_text(json.dumps({"machine": machine_info(), "others_load": load,
                                                             "cases": cases}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
