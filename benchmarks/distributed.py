"""Data-parallel throughput: ``python -m benchmarks.distributed`` (``make bench-mpi``).

784-1024-1024-10 (ReLU, float32, SGD) at a global batch of 512, the step fit
takes (shard, forward, backward, one flat allreduce, optimizer step), in two
configurations launched in turn, round after round (the machine is shared):

* 1 rank with 2 BLAS threads (``OPENBLAS_NUM_THREADS=2``), no MPI;
* 2 ranks with 1 BLAS thread each (``mpirun -n 2``), 256 samples per rank.

Each launch times ``--steps`` steps after ``--warmup``; a step's parts are
compute (shard, forward and backward), allreduce (including the wait for the
slower rank) and the optimizer step.  The allreduce's pure transfer is timed
apart too: the same buffer after a barrier.  Writes
``benchmarks/results/distributed.json`` and ``distributed.md``.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

SIZES = [784, 1024, 1024, 10]
GLOBAL_BATCH = 512
RESULTS = Path(__file__).resolve().parent / "results"
ROOT = RESULTS.parents[1]


def _worker(args):
    import nets
    from nets import distributed

    world = distributed.world()
    model = nets.MultiLayerNet(SIZES, rng=0)
    opt = nets.optim.SGD(model.parameters(), lr=0.01)
    params = model.parameters()
    rng = np.random.default_rng(0)
    x = rng.random((GLOBAL_BATCH * 4, SIZES[0]), dtype=np.float32)
    t = rng.integers(0, SIZES[-1], len(x))
    parts = {"compute": [], "allreduce": [], "optimizer": [], "step": []}
    for i in range(args.warmup + args.steps):
        lo = (i % 4) * GLOBAL_BATCH
        xb, tb = x[lo:lo + GLOBAL_BATCH], t[lo:lo + GLOBAL_BATCH]
        if world.comm is not None:
            world.comm.Barrier()
        t0 = time.perf_counter()
        opt.zero_grad()
        xs, ts = world.shard(xb, tb)
        loss = model.criterion(model(xs), ts)
        loss.backward()
        t1 = time.perf_counter()
        world.allreduce_grads(params, len(xs), len(xb), float(loss.item()))
        t2 = time.perf_counter()
        opt.step()
        t3 = time.perf_counter()
        del loss
        if i >= args.warmup:
            for name, dt in (("compute", t1 - t0), ("allreduce", t2 - t1), ("optimizer", t3 - t2),
                             ("step", t3 - t0)):
                parts[name].append(dt)
    transfer = []
    if world.comm is not None:
        from mpi4py import MPI
        flat = np.zeros(sum(p.data.size for p in params) + 1, dtype=np.float32)
        for _ in range(args.steps):
            world.comm.Barrier()
            t0 = time.perf_counter()
            world.comm.Allreduce(MPI.IN_PLACE, flat)
            transfer.append(time.perf_counter() - t0)
    if world.is_root:
        out = {name: statistics.median(v) for name, v in parts.items()}
        out["transfer"] = statistics.median(transfer) if transfer else 0.0
        out["parameters"] = int(sum(p.data.size for p in params))
        print(json.dumps(out), flush=True)


def _launch(ranks: int, threads: int, args) -> dict:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": str(threads), "OMP_NUM_THREADS": str(threads),
           "MKL_NUM_THREADS": str(threads), "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "benchmarks.distributed", "--worker", "--steps", str(args.steps),
               "--warmup", str(args.warmup)]
    if ranks > 1:
        command = ["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-n", str(ranks),
                   "-x", "OPENBLAS_NUM_THREADS", "-x", "OMP_NUM_THREADS", "-x", "PYTHONPATH", *command]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"benchmarks.distributed: {' '.join(command[:6])}... failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


CONFIGS = {"1 rank x 2 BLAS threads": (1, 2), "2 ranks x 1 BLAS thread": (2, 1)}


def _table(rounds) -> str:
    """The round with the median throughput ratio, so the rows and the ratio agree, and the range."""
    one, two = CONFIGS
    ratios = [r[one]["step"] / r[two]["step"] for r in rounds]
    middle = sorted(range(len(rounds)), key=lambda i: ratios[i])[len(rounds) // 2]
    lines = ["| configuration | step (ms) | samples/s | compute (ms) | allreduce (ms) | optimizer (ms) | "
             "allreduce share | transfer alone (ms) |", "|---|---|---|---|---|---|---|---|"]
    for config in CONFIGS:
        r = rounds[middle][config]
        lines.append(f"| {config} | {r['step'] * 1e3:.1f} | {GLOBAL_BATCH / r['step']:,.0f} | "
                     f"{r['compute'] * 1e3:.1f} | {r['allreduce'] * 1e3:.2f} | {r['optimizer'] * 1e3:.2f} | "
                     f"{r['allreduce'] / r['step']:.1%} | {r['transfer'] * 1e3:.2f} |")
    lines.append("")
    lines.append(f"Round {middle + 1} of {len(rounds)}, the one with the median ratio (each number a median over "
                 f"its launch's timed steps): 2 ranks' throughput over 1 rank's {ratios[middle]:.3f}x; over all "
                 f"rounds {min(ratios):.3f}-{max(ratios):.3f}x. {rounds[0][one]['parameters']:,} parameters, "
                 f"global batch {GLOBAL_BATCH}.")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.distributed", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=5, help="launches of each configuration, interleaved")
    p.add_argument("--steps", type=int, default=30, help="timed steps per launch")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return _worker(args)
    if shutil.which("mpirun") is None:
        raise SystemExit("benchmarks.distributed needs Open MPI and mpi4py: apt-get install openmpi-bin "
                         "libopenmpi-dev; pip install mpi4py (make bench-mpi installs both)")
    rounds = []
    for r in range(args.rounds):
        rounds.append({config: _launch(ranks, threads, args) for config, (ranks, threads) in CONFIGS.items()})
        print(f"round {r + 1}/{args.rounds}: " + ", ".join(
            f"{c} {v['step'] * 1e3:.1f} ms" for c, v in rounds[-1].items()), flush=True)
    table = _table(rounds)
    print(table)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "distributed.json").write_text(json.dumps({"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                                                          "rounds": rounds}, indent=2) + "\n")
    (RESULTS / "distributed.md").write_text(table + "\n")


if __name__ == "__main__":
    main()
