"""The tables (printed, and as Markdown for results/latest.md), the targets, and the README's headline of them."""
from __future__ import annotations

from . import cnn_report
from .harness import fmt_time
from .specs import MLPS

ROWS = ["autograd_np", "autograd_np_compiled", "autograd_np_baseline", "nets", "numpy", "numpy_lean", "torch", "autograd", "mygrad", "blas_floor"]
LABELS = {"autograd_np": "autograd_np", "autograd_np_compiled": "autograd_np, ag.compile",
          "autograd_np_baseline": "autograd_np at eager-baseline (before the node split)",
          "nets": "nets (MultiLayerNet + SGD)", "numpy": "hand-written NumPy (ref)",
          "numpy_lean": "hand-written NumPy, no input gradient", "torch": "PyTorch eager",
          "autograd": "HIPS autograd", "mygrad": "MyGrad", "blas_floor": "BLAS floor (matmuls only)"}


def _ratio_cell(ratio, absolute):
    return f"{ratio:.2f}x ({absolute})"


def _fmt_bytes(n):
    return f"{n / 2 ** 20:.2f} MiB" if abs(n) >= 2 ** 20 else f"{n / 1024:.0f} KiB"


def main_table(res):
    """Rows = contenders; columns = workloads; cells = ratio to the reference (absolute)."""
    mlp, graph = res.get("mlp", {}), res.get("graph", {})
    peak = res.get("memory", {}).get("peak", {})
    e2e = res.get("e2e", {}).get("contenders", {})
    head = ["contender"] + [f"1{k[-1]}: step" for k in mlp] + (["2: per op"] if graph else []) \
        + [f"4: peak {k}" for k in peak if isinstance(peak.get(k), dict)] + (["5: e2e (acc)"] if e2e else [])
    rows = []
    for name in ROWS:
        if name in res.get("skipped", {}):
            rows.append([LABELS[name]] + ["skipped"] * (len(head) - 1))
            continue
        row = [LABELS[name]]
        for e in mlp.values():
            r = e.get("ratio_to_numpy", {}).get(name)
            row.append(_ratio_cell(r["ratio"], fmt_time(e["timings"][name]["median_s"])) if r else "-")
        if graph:
            r = graph.get("ratio_to_numpy", {}).get(name)
            row.append(_ratio_cell(r["ratio"], fmt_time(graph["per_op_s"][name])) if r else "-")
        for per in peak.values():
            if isinstance(per, dict):
                p = per.get(name)
                row.append(_ratio_cell(p["ratio_to_numpy"], _fmt_bytes(p["peak_bytes"]))
                           if p and "ratio_to_numpy" in p else "-")
        if e2e:
            c = e2e.get(name)
            base = e2e.get("torch", {}).get("train_s")
            row.append(f"{c['train_s'] / base:.2f}x vs torch ({c['train_s']:.1f} s, {c['test_accuracy']:.4f})"
                       if c and base else (f"{c['train_s']:.1f} s ({c['test_accuracy']:.4f})" if c else "-"))
        if any(cell != "-" for cell in row[1:]):
            rows.append(row)
    return head, rows


def bound_table(res):
    blas, mlp = res.get("blas", {}), res.get("mlp", {})
    keys = [k for k in mlp if k in blas]
    if not keys:
        return None
    head = ["contender"] + [f"{k}: bound / step" for k in keys]
    rows = [["FLOP bound at the step's shapes"] + [f"{fmt_time(blas[k]['bound_s'])} "
                                                    f"({blas[k]['gflops_at_shapes']:.1f} GFLOP/s)" for k in keys]]
    for name in ROWS:
        cells = [f"{blas[k]['fraction_of_step'][name]:.0%}" if name in blas[k].get("fraction_of_step", {})
                 else "-" for k in keys]
        if any(c != "-" for c in cells):
            rows.append([LABELS[name]] + cells)
    return head, rows


def memory_table(res):
    rss = res.get("memory", {}).get("rss", {})
    rows = []
    for name, r in rss.items():
        if "maxrss_growth" in r:
            rows.append([LABELS[name], f"{r['steps']} steps of {r['net']}", _fmt_bytes(r["maxrss_growth"]),
                         f"{r['rss_slope_bytes_per_step']:.0f} B/step", str(r["gc_objects_growth"]),
                         "flat" if r["flat"] else "GROWS"])
    if not rows:
        return None
    return ["contender", "run", "peak RSS growth", "RSS slope", "live objects growth", "verdict"], rows


# --- targets -----------------------------------------------------------------

def _get(d, *path):
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return None
        d = d[p]
    return d


def targets(res):
    """[(description, status, detail)] with status PASS, MISS or SKIP."""
    out = []

    def check(desc, value, limit, fmt, less_than=False, why_missing="not measured"):
        if value is None:
            out.append((desc, "SKIP", why_missing))
            return
        ok = value < limit if less_than else value <= limit
        out.append((desc, "PASS" if ok else "MISS", fmt(value)))

    for key, limit in (("1a", 1.10), ("1b", 1.10), ("1c", 1.03)):
        r = _get(res, "mlp", key, "ratio_to_numpy", "autograd_np")
        check(f"{key}: autograd_np step <= {limit:.2f}x hand-written NumPy", r and r["ratio"], limit,
              lambda v, r=r: f"{v:.3f}x (per-round ratios p25-p75 {r['round_p25']:.3f}-{r['round_p75']:.3f})")
        lean = _get(res, "mlp", key, "ratio_to_numpy_lean", "autograd_np")
        if lean:  # not a target: the same BLAS work on both sides
            out.append((f"{key}: autograd_np vs hand-written NumPy without the input gradient", "INFO",
                        f"{lean['ratio']:.3f}x (per-round ratios p25-p75 "
                        f"{lean['round_p25']:.3f}-{lean['round_p75']:.3f})"))
    for workload, keys in (("mlp", [n.key for n in MLPS]), ("graph", [None])):
        for key in keys:  # a wrong gradient is never a PASS, however fast
            check_ = _get(res, workload, *([key] if key else []), "consistency", "autograd_np")
            if check_ is not None and not check_["ok"]:
                out.append((f"{key or '2'}: autograd_np agrees with the reference", "MISS", str(check_)))
    for key, limit, strict in (("1a", 1.0, True), ("1b", 1.0, True), ("1c", 1.2, False)):
        r = _get(res, "mlp", key, "ratio_to_torch", "autograd_np")
        desc = (f"{key}: autograd_np faster than PyTorch eager" if strict
                else f"{key}: autograd_np within {limit}x of PyTorch eager")
        check(desc, r and r["ratio"], limit,
              lambda v, r=r: f"{v:.3f}x torch's time (p25-p75 {r['round_p25']:.3f}-{r['round_p75']:.3f})",
              less_than=strict, why_missing="torch skipped or 1 not run")
    for key in [n.key for n in MLPS] + ["2"]:  # the eager engine against itself before the node split
        path = ("graph",) if key == "2" else ("mlp", key)
        r = _get(res, *path, "ratio_to_autograd_np_baseline", "autograd_np")
        check(f"{key}: autograd_np no slower than at eager-baseline (<= 1.03x)", r and r["ratio"], 1.03,
              lambda v, r=r: f"{v:.3f}x (per-round ratios p25-p75 {r['round_p25']:.3f}-{r['round_p75']:.3f})",
              why_missing="the baseline contender did not set up (git tag eager-baseline)")
    for key, floor_limit, lean_limit in (("1a", 1.25, 0.95), ("1b", 1.25, 0.95), ("1c", 1.03, None)):
        r = _get(res, "mlp", key, "ratio_to_blas_floor", "autograd_np_compiled")
        check(f"{key}: ag.compile step <= {floor_limit:.2f}x the BLAS floor", r and r["ratio"], floor_limit,
              lambda v, r=r: f"{v:.3f}x (p25-p75 {r['round_p25']:.3f}-{r['round_p75']:.3f})",
              why_missing="the compiled contender or the BLAS floor not run")
        if lean_limit:
            r = _get(res, "mlp", key, "ratio_to_numpy_lean", "autograd_np_compiled")
            check(f"{key}: ag.compile step <= {lean_limit:.2f}x hand-written NumPy without the input gradient",
                  r and r["ratio"], lean_limit,
                  lambda v, r=r: f"{v:.3f}x (p25-p75 {r['round_p25']:.3f}-{r['round_p75']:.3f})",
                  why_missing="the compiled contender or the lean reference not run")
        tracing = _get(res, "mlp", key, "tracing_calls")
        check(f"{key}: ag.compile's tracing calls <= 3x an eager step", tracing and max(tracing["ratio_to_eager_step"][:2]),
              3.0, lambda v, t=tracing: "first two calls " + ", ".join(f"{x:.2f}x" for x in t["ratio_to_eager_step"][:2])
              + " of an eager step", why_missing="the compiled contender not run")
        guards = _get(res, "mlp", key, "guard_cost")
        if guards:
            out.append((f"{key}: ag.compile's guards per call (signature, program, per-call checks)", "INFO",
                        f"{fmt_time(guards['seconds'])} per call, {100 * guards['ratio_to_eager_step']:.2f}% of an "
                        "eager step"))
    r = _get(res, "graph", "ratio_to_numpy", "autograd_np_compiled")
    check("2: ag.compile cost per op <= 1.3x plain-NumPy floor", r and r["ratio"], 1.3,
          lambda v: f"{v:.2f}x ({fmt_time(res['graph']['per_op_s']['autograd_np_compiled'])}/op)",
          why_missing="the compiled contender not run")
    r = _get(res, "graph", "ratio_to_numpy", "autograd_np")
    check("2: graph overhead per op <= 2x plain-NumPy floor", r and r["ratio"], 2.0,
          lambda v: f"{v:.2f}x ({fmt_time(res['graph']['per_op_s']['autograd_np'])}/op vs "
                    f"{fmt_time(res['graph']['per_op_s']['numpy'])}/op)")
    rss = _get(res, "memory", "rss", "autograd_np")
    if rss and "maxrss_growth" in rss:
        out.append((f"4: autograd_np memory flat over {rss['steps']} steps", "PASS" if rss["flat"] else "MISS",
                    f"peak RSS growth {_fmt_bytes(rss['maxrss_growth'])}, "
                    f"{rss['gc_objects_growth']} more live objects"))
    else:
        out.append(("4: autograd_np memory flat over 1,000 steps", "SKIP", "not measured"))
    seeds = _get(res, "memory", "seeds")
    if seeds and "rss_growth" in seeds:
        out.append((f"4: the seeds' loop holds {seeds['steps']:,} logged losses: <= 4 KiB each (no activations)",
                    "PASS" if seeds["flat"] else "MISS",
                    f"RSS growth {_fmt_bytes(seeds['rss_growth'])}, {seeds['bytes_per_step']:.0f} B per loss "
                    f"(a step's activations: 359 KiB)"))
    for key in [n.key for n in MLPS]:
        c, e = _get(res, "memory", "peak", key, "autograd_np_compiled"), _get(res, "memory", "peak", key, "autograd_np")
        check(f"4: {key}: a compiled step's peak memory <= an eager one's", c and e and c["peak_bytes"] / e["peak_bytes"],
              1.0, lambda v, c=c, e=e: f"{v:.2f}x ({_fmt_bytes(c['peak_bytes'])} vs {_fmt_bytes(e['peak_bytes'])})",
              why_missing="not measured")
    for key in [n.key for n in MLPS]:
        p = _get(res, "memory", "peak", key, "autograd_np")
        check(f"4: {key}: one step's peak memory <= 1.3x hand-written NumPy", p and p.get("ratio_to_numpy"), 1.3,
              lambda v, p=p, key=key: f"{v:.2f}x ({_fmt_bytes(p['peak_bytes'])} vs "
                                      f"{_fmt_bytes(res['memory']['peak'][key]['numpy']['peak_bytes'])})")
    if "cnn" in res:
        cnn_report.targets(res, check, out)
    e2e = res.get("e2e", {})
    a, t = _get(e2e, "contenders", "autograd_np"), _get(e2e, "contenders", "torch")
    why = e2e.get("skipped") or ("a --quick smoke run" if e2e.get("quick") else "not run (--e2e)")
    if e2e.get("quick"):
        a = None
    check("5: end-to-end test accuracy >= 0.88", a and a["test_accuracy"], float("inf"),
          lambda v: f"{v:.4f}", why_missing=why)
    if out[-1][1] == "PASS" and a["test_accuracy"] < 0.88:
        out[-1] = (out[-1][0], "MISS", out[-1][2])
    check("5: end-to-end wall time < PyTorch's", a and t and a["train_s"] / t["train_s"], 1.0,
          lambda v: f"{v:.2f}x ({a['train_s']:.1f} s vs {t['train_s']:.1f} s; median epoch "
                    f"{a['median_epoch_s']:.2f} s vs {t['median_epoch_s']:.2f} s = "
                    f"{a['median_epoch_s'] / t['median_epoch_s']:.2f}x)", less_than=True,
          why_missing=why if not a else "torch skipped")
    return out


# --- rendering -----------------------------------------------------------------

def render_text(head, rows):
    widths = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()
    return "\n".join([line(head), line(["-" * w for w in widths])] + [line(r) for r in rows])


def render_md(head, rows):
    return "\n".join(["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
                     + ["| " + " | ".join(str(c) for c in r) + " |" for r in rows])


def render(res, md=False):
    fn = render_md if md else render_text
    m = res["machine"]
    parts = []
    title = "autograd_np benchmarks" + (" (--quick smoke run: numbers are not meaningful)" if res["quick"] else "")
    parts.append(("## " if md else "") + title)
    blas = m.get("blas", {}).get("blas", {})
    parts.append(f"{m['cpu']}, {m['cores_usable']} cores; Python {m['python']}, NumPy {m['numpy']} "
                 f"({blas.get('name', '?')} {blas.get('version', '')}), "
                 + (f"torch threads {m['torch_threads']}; " if "torch_threads" in m else "")
                 + f"{res['command']}; {res['timestamp']}")
    others = {w: c for w, c in res.get("others_load", {}).items() if c is not None}
    if others:
        parts.append("Cores kept busy by other processes during each workload (0 = a quiet machine): "
                     + ", ".join(f"{w} {c:.2f}" for w, c in others.items())
                     + ("  -- NOTE: above 0.2 the multi-threaded contenders' times are unreliable"
                        if max(others.values()) > 0.2 else ""))
    parts.append("Cells: a ratio to the hand-written NumPy reference (the absolute value in brackets). "
                 "1x: median time of one training step (forward + backward + SGD), contenders interleaved round "
                 "by round; 2: median time per op of a 200-op chain, interleaved too; 4: tracemalloc peak bytes "
                 "of one step; 5: wall time of the end-to-end training run, as a ratio to PyTorch's.")
    head, rows = main_table(res)
    parts.append(fn(head, rows))
    if res.get("skipped"):
        parts.append("Skipped: " + "; ".join(f"{LABELS.get(k, k)}: {v}" for k, v in res["skipped"].items()))
    bt = bound_table(res)
    if bt:
        parts.append("3: the FLOP-count lower bound (np.matmul's measured time at every matmul shape of the step) "
                     "as a fraction of each contender's step time"
                     + (f"; np.matmul peak {res['blas']['square']['gflops']:.1f} GFLOP/s at 1024^3" if "square" in res["blas"] else ""))
        parts.append(fn(*bt))
    mt = memory_table(res)
    if mt:
        parts.append("4: memory over training steps (fresh process each)")
        parts.append(fn(*mt))
    ct = cnn_report.table(res)
    if ct:
        parts.append("6: convolutional nets, float32, batch 100: median time of one training step (6a, 6b) and of "
                     "one op's forward + backward (the rest), contenders interleaved, as a ratio to PyTorch eager")
        parts.append(fn(*ct))
        skipped = {f"{k} {n}": why for k, e in res["cnn"]["nets"].items() for n, why in e.get("skipped", {}).items()}
        if skipped:
            parts.append("6 skipped: " + "; ".join(f"{k}: {v}" for k, v in skipped.items()))
    e2e = res.get("e2e", {})
    for name, c in e2e.get("contenders", {}).items():
        parts.append(f"5: {name}: {c['implementation']}")
    bad = [f"{key} {n}" for key, e in res.get("mlp", {}).items()
           for n, c in e.get("consistency", {}).items() if not c["ok"]]
    bad += [f"2 {n}" for n, c in res.get("graph", {}).get("consistency", {}).items() if not c["ok"]]
    if bad:
        parts.append("CONSISTENCY CHECK FAILED (different results from the reference): " + ", ".join(bad))
    tg = targets(res)
    parts.append(fn(["target", "status", "measured"], [list(t) for t in tg]))
    return "\n\n".join(parts) + "\n"


README_START, README_END = "<!-- benchmarks/results/latest.md: start -->", "<!-- benchmarks/results/latest.md: end -->"
PERFORMANCE_PAGE = "docs/guides/performance.md"  # the site's page that includes the whole of latest.md
STATUSES = ("PASS", "MISS", "SKIP", "INFO")


def _headline_parts(md: str) -> dict:
    """The paragraphs of ``latest.md`` the README's headline is made of, by what
    each starts with; a ``ValueError`` names those missing."""
    paragraphs = [p.strip() for p in md.strip().split("\n\n") if p.strip()]
    is_part = {"machine": lambda p: not p.startswith(("#", "|", "Cells:")), "legend": lambda p: p.startswith("Cells:"),
               "table": lambda p: p.startswith("| contender |"), "targets": lambda p: p.startswith("| target | status |")}
    found = {part: next((p for p in paragraphs if test(p)), None) for part, test in is_part.items()}
    missing = [part for part, p in found.items() if p is None]
    if missing:
        raise ValueError(f"benchmarks/results/latest.md has no {', '.join(missing)} paragraph: "
                         f"the README's benchmark headline is made of them")
    return found


def target_counts(targets_table: str) -> dict:
    """How many rows of the Markdown target table have each status."""
    statuses = [row.split("|")[2].strip() for row in targets_table.splitlines()[2:]]
    unknown = sorted(set(statuses) - set(STATUSES))
    if unknown:
        raise ValueError(f"the target table has rows of unknown status {unknown}")
    return {s: statuses.count(s) for s in STATUSES}


def readme_block(md: str) -> str:
    """The README's benchmark headline, made from ``latest.md``: the machine and
    command of the run, the first table (each contender's ratio to the
    hand-written NumPy step per workload) with its legend, workload 6's table
    (the convolutional nets against PyTorch) when the run has it, and how many
    targets passed. The whole file is on the site's Performance page (an include)."""
    parts = _headline_parts(md)
    counts = target_counts(parts["targets"])
    tally = ", ".join(f"{counts[s]} {s}" for s in ("PASS", "MISS", "SKIP") if counts[s])
    paragraphs = [p.strip() for p in md.strip().split("\n\n")]
    cnn = [p for p in paragraphs if p.startswith(("6: convolutional nets", "| contender | 6a"))]  # absent before it
    return "\n\n".join([
        f"The last full run: {parts['machine']}", parts["legend"], parts["table"], *cnn,
        f"Targets: {tally} ({counts['INFO']} more rows are for information). Every target, and the memory, "
        f"FLOP-bound and convolution tables: [Performance]({PERFORMANCE_PAGE})."])


def embed_in_readme(md: str, readme) -> bool:
    """Replace the README's block between the markers with the headline of
    ``md`` (``readme_block``); False if the README has no such block (nothing
    is written then)."""
    text = readme.read_text(encoding="utf-8")
    if README_START not in text or README_END not in text:
        return False
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    readme.write_text(f"{head}{README_START}\n{readme_block(md)}\n{README_END}{tail}", encoding="utf-8")
    return True
