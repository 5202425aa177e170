"""Workload 6's table and targets (``report.py`` renders them with the others)."""
from __future__ import annotations

from .harness import fmt_time

ROWS = ["autograd_np", "autograd_np_compiled", "autograd_np_numpy_kernels", "numpy", "torch", "torch_compiled"]
LABELS = {"autograd_np": "autograd_np", "autograd_np_compiled": "autograd_np, ag.compile",
          "autograd_np_numpy_kernels": "autograd_np, NumPy kernels only (numba installed, not used)",
          "numpy": "hand-written NumPy im2col (the book's layers)", "torch": "PyTorch eager",
          "torch_compiled": "PyTorch, torch.compile"}
OP_LIMITS = {"conv1": 1.8, "conv2": 1.8, "pool": 1.0, "bn": 1.0}


def table(res):
    """(head, rows): contenders x (6a step, 6b step, each op), cells the time and the ratio to
    PyTorch eager; None when workload 6 did not run."""
    cnn = res.get("cnn")
    if not cnn:
        return None
    nets, ops = cnn.get("nets", {}), cnn.get("ops", {})
    head = ["contender"] + [f"{k}: step" for k in nets] + [f"6: {k}" for k in ops]
    rows = []
    for name in ROWS:
        row = [LABELS[name]]
        for e in list(nets.values()) + list(ops.values()):
            t, r = e["timings"].get(name), e.get("ratio_to_torch", {}).get(name)
            if t is None:
                row.append("skipped" if name in e.get("skipped", {}) else "-")
            else:
                row.append(f"{r['ratio']:.2f}x ({fmt_time(t['median_s'])})" if r else fmt_time(t["median_s"]))
        if any(cell != "-" for cell in row[1:]):
            rows.append(row)
    return head, rows


def _spread(r):
    return f"p25-p75 {r['round_p25']:.3f}-{r['round_p75']:.3f}"


def targets(res, check, out):
    """Workload 6's targets through report's ``check(desc, value, limit, fmt, ...)``; INFO rows
    (epoch times from the step times) appended to ``out``."""
    cnn = res.get("cnn")
    if not cnn:
        check("6: CNN steps and ops against PyTorch", None, 0, str, why_missing="workload 6 not run")
        return
    per_epoch = cnn.get("steps_per_epoch", 600)
    for key, e in cnn["nets"].items():
        to_torch, to_numpy = e.get("ratio_to_torch", {}), e.get("ratio_to_numpy", {})
        for name, limit in (("autograd_np", 2.0), ("autograd_np_compiled", 1.6)):
            r = to_torch.get(name)
            check(f"{key}: {LABELS[name]} step <= {limit}x PyTorch eager", r and r["ratio"], limit,
                  lambda v, r=r: f"{v:.3f}x ({_spread(r)})", why_missing="torch or the contender not run")
            r = to_numpy.get(name)
            check(f"{key}: {LABELS[name]} step faster than the hand-written NumPy im2col step", r and r["ratio"], 1.0,
                  lambda v, r=r: f"{v:.3f}x its time ({_spread(r)})", less_than=True,
                  why_missing="the hand-written step not run")
        for name, c in e.get("consistency", {}).items():
            if not c["ok"]:  # a wrong gradient is never a PASS, however fast
                out.append((f"{key}: {LABELS.get(name, name)} agrees with the hand-written step", "MISS", str(c)))
        times = {n: t["median_s"] * per_epoch for n, t in e["timings"].items()}
        if times:
            out.append((f"{key}: {per_epoch} steps (a Fashion-MNIST epoch's training, from the step times)", "INFO",
                        ", ".join(f"{LABELS[n]} {times[n]:.1f} s" for n in ROWS if n in times)))
    for key, e in cnn["ops"].items():
        r, limit = e.get("ratio_to_torch", {}).get("autograd_np"), OP_LIMITS[key]
        check(f"6 {key}: {e['title']}, forward + backward <= {limit}x PyTorch", r and r["ratio"], limit,
              lambda v, r=r: f"{v:.3f}x ({_spread(r)})", why_missing="torch not run")
    numpy_only = {k: e.get("ratio_to_torch", {}).get("autograd_np_numpy_kernels") for k, e in
                  list(cnn["nets"].items()) + list(cnn["ops"].items())}
    if any(numpy_only.values()):  # (numba installed: what a plain install runs, beside it)
        out.append(("6: the NumPy kernels only, as a ratio to PyTorch eager", "INFO",
                    ", ".join(f"{k} {r['ratio']:.2f}x" for k, r in numpy_only.items() if r)))
