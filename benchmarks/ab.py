"""A/B: the engine's overhead in this tree against another revision, in one interleaved run.

    python -m benchmarks.ab <git revision>     (e.g. HEAD~5, a tag, a commit)

Checks the revision out into a temporary worktree and times, in fresh processes
alternating between the two trees, a step of workloads 1a and 1b (eager and
ag.compile) and the 200-op chain of workload 2.  BLAS runs on one thread and
the time is the process's CPU time: the question is the Python overhead the
engine adds, and a multi-threaded matmul's scheduling on a shared 2-core
machine swings a step by 20% either way.  Prints the medians and their ratios.
"""
from __future__ import annotations

import ast
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

_CODE = r'''
import sys, time, numpy as np
sys.path.insert(0, sys.argv[1]); sys.path.insert(1, sys.argv[2])
from benchmarks.specs import MLPS, init_params
from benchmarks.data import training_batches
from benchmarks.contenders import ag_np, ag_compiled
import autograd_np as ag
ag_np.setup(); ag_compiled.setup()
out = {}
def median_step(step, batches, rounds=40, per=10):
    times = []
    for r in range(rounds):
        t0 = time.process_time()
        for i in range(per):
            step(batches[i % len(batches)])
        times.append((time.process_time() - t0) / per)
    return float(np.median(times))
for net in MLPS[:2]:
    params = init_params(net.sizes, net.init)
    data, _ = training_batches(net.batch, 10, seed=0)
    for name, mod in (("eager", ag_np), ("compiled", ag_compiled)):
        model = mod.MLP(net, params)
        batches = [model.prepare(x, t) for x, t in data]
        for b in batches[:4]:
            model.step(b)
        out[f"{net.key} {name}"] = median_step(model.step, batches)
x = ag.Tensor(np.random.default_rng(0).standard_normal((64, 64)), requires_grad=True)
def chain(_):
    h = x
    for i in range(200):
        h = ag.sigmoid(h) if i % 2 else ag.tanh(h)
    ag.sum(h).backward()
    x.grad = None
out["2 per op"] = median_step(chain, [None], rounds=15, per=2) / 201
print(out)
'''


def main(revision: str, rounds: int = 4) -> None:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        other = Path(tmp) / "other"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(other), revision], cwd=ROOT, check=True)
        try:
            results = {}
            for _ in range(rounds):
                for label, tree in ((revision, other), ("this tree", ROOT)):
                    done = subprocess.run([sys.executable, "-c", _CODE, str(tree), str(ROOT)], capture_output=True,
                                          text=True, env=env, cwd=tmp, check=True)
                    for key, value in ast.literal_eval(done.stdout.strip().splitlines()[-1]).items():
                        results.setdefault(key, {}).setdefault(label, []).append(value)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(other)], cwd=ROOT, check=False)
    print(f"CPU time per step (median of {rounds} alternating processes), one BLAS thread")
    for key, by in results.items():
        a, b = np.median(by[revision]), np.median(by["this tree"])
        print(f"  {key:12s} {revision}: {a * 1e6:8.1f} us   this tree: {b * 1e6:8.1f} us   ratio {b / a:.3f}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m benchmarks.ab <git revision>")
    main(sys.argv[1])
