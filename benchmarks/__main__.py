"""Run the benchmarks: ``python -m benchmarks [--quick] [--e2e]``.

Full mode (the default) runs workloads 1-4 and writes
``benchmarks/results/<timestamp>.json``, ``latest.json`` and ``latest.md``;
``--e2e`` adds the end-to-end training run (minutes).  ``--quick`` is a smoke
run of every code path in well under a minute; it writes ``quick.json`` and
``quick.md`` and never replaces the latest full results."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from . import blas, cnn, contenders, end_to_end, graph, memory, mlp, report
from .harness import OthersLoad, Plan, machine_info, wait_for_quiet

WORKLOADS = ["mlp", "graph", "blas", "memory", "cnn", "e2e"]
PLANS = {  # (warm-up, rounds, steps per round)
    "full": {"mlp": Plan(10, 30, 5), "graph": Plan(20, 30, 20), "blas": Plan(5, 20, 10), "rss_steps": 1000,
             "cnn": Plan(3, 12, 3, settle=1)},
    "quick": {"mlp": Plan(1, 2, 1), "graph": Plan(1, 2, 2), "blas": Plan(1, 2, 1), "rss_steps": 30,
              "cnn": Plan(1, 2, 1)},
}
RESULTS = Path(__file__).resolve().parent / "results"
README = RESULTS.parents[1] / "README.md"  # shows results/latest.md's headline


def parse(argv):
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fast smoke run (numbers not meaningful)")
    p.add_argument("--e2e", action="store_true", help="also run workload 5, end-to-end training (minutes)")
    p.add_argument("--only", help=f"comma-separated workloads among {','.join(WORKLOADS)}")
    p.add_argument("--contenders", help="comma-separated contender names (default: all installed): "
                                        + ",".join(contenders.names()))
    p.add_argument("--out", type=Path, default=RESULTS, help="results directory (default: %(default)s)")
    p.add_argument("--wait", type=float, default=None, metavar="SECONDS",
                   help="before each workload, wait up to this long for other processes to go quiet "
                        "(default: 120 in full mode, 0 with --quick)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse(sys.argv[1:] if argv is None else argv)
    mode = "quick" if args.quick else "full"
    plan = PLANS[mode]
    chosen = args.only.split(",") if args.only else [w for w in WORKLOADS if w != "e2e" or args.e2e]
    unknown = set(chosen) - set(WORKLOADS)
    if unknown:
        raise SystemExit(f"unknown workloads: {', '.join(sorted(unknown))}")
    only = set(args.contenders.split(",")) if args.contenders else None
    if only:
        only |= {"numpy"}  # every ratio is to the reference
    available, skipped = contenders.load(only)
    log = lambda msg: print(msg, flush=True)
    res = {"command": "python -m benchmarks " + " ".join(sys.argv[1:] if argv is None else argv),
           "timestamp": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "quick": args.quick,
           "machine": machine_info(available), "skipped": skipped, "durations_s": {}, "others_load": {}}
    wait = args.wait if args.wait is not None else (0 if args.quick else 120)
    cores = res["machine"]["cores_usable"] or 1
    if res["machine"]["loadavg_at_start"] and res["machine"]["loadavg_at_start"][0] > 0.5 * cores:
        log(f"WARNING: load average {res['machine']['loadavg_at_start'][0]:.2f} on {cores} cores: another "
            "process is busy; multi-threaded contenders suffer most, so ratios are unreliable")
    for name, reason in skipped.items():
        log(f"skipped {name}: {reason}")
    run = {
        "mlp": lambda: mlp.run(available, plan["mlp"], log),
        "graph": lambda: graph.run(available, plan["graph"], log),
        "blas": lambda: blas.run(plan["blas"], res.get("mlp"), log),
        "memory": lambda: memory.run(available, plan["rss_steps"], log),
        "cnn": lambda: cnn.run(available, plan["cnn"], log),
        "e2e": lambda: end_to_end.run(available, args.quick, log),
    }
    for w in chosen:
        if wait:
            wait_for_quiet(wait, log=log)
        log(f"workload {w} ...")
        t0 = time.perf_counter()
        with OthersLoad() as load:
            res[w] = run[w]()
        res["durations_s"][w], res["others_load"][w] = time.perf_counter() - t0, load.cores
        if load.cores is not None and load.cores > 0.2:
            log(f"WARNING: other processes kept {load.cores:.2f} cores busy during workload {w}: "
                "its multi-threaded contenders (BLAS, torch) are slowed unevenly")
    res["loadavg_at_end"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    text = report.render(res)
    print("\n" + text)
    complete = not args.quick and not args.only and not args.contenders and args.e2e
    name = "quick" if args.quick else ("latest" if complete else "partial")
    args.out.mkdir(parents=True, exist_ok=True)
    payload = json.dumps(res, indent=1, default=str)
    if name == "latest":
        (args.out / f"{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(payload)
    (args.out / f"{name}.json").write_text(payload)
    (args.out / f"{name}.md").write_text(report.render(res, md=True))
    log(f"wrote {args.out / (name + '.json')} and {args.out / (name + '.md')}")
    if name == "latest" and args.out == RESULTS and report.embed_in_readme(report.render(res, md=True), README):
        log(f"updated the benchmark headline in {README}")
    return res


if __name__ == "__main__":
    main()
