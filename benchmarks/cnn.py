"""Workload 6: convolutional nets.  One training step (forward, backward, SGD) of
the book's SimpleConvNet and of a two-block net with batch norm, float32, batch
100, Fashion-MNIST images; then the ops those steps spend their time in, forward
and backward alone.  Every contender starts from the same weights and sees the
same batches; a consistency check against the hand-written NumPy step runs first.
Ratios are to PyTorch eager, from the same interleaved run."""
from __future__ import annotations

import numpy as np

from .cnn_specs import CNNS, OPS, init_cnn_params
from .data import training_batches
from .harness import Plan, interleave, ratio

N_BATCHES = 20
CHECK_STEPS = 2


def _images(batches, spec):
    return [(np.ascontiguousarray(x.reshape(len(x), *spec.image)), t) for x, t in batches]


def _rel(a, b, floor=1e-30):
    """The largest difference relative to the largest value, or to ``floor`` when that is
    larger (a convolution's bias before batch norm has a gradient of 0 up to rounding)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), floor))


def consistency(models, reference, batches, tol=3e-2):
    """Each contender's loss and gradients on one batch, and its weights after a few steps,
    against the hand-written step's (float32 through batch norm, whose backward divides by
    the batch's standard deviation: gradients differ by up to about 1% between correct
    implementations; a wrong one is off by far more)."""
    ref_loss, ref_grads = reference["fresh"]().gradients(batches[0])
    ref = reference["fresh"]()
    for b in batches[:CHECK_STEPS]:
        ref.step(b)
    report = {}
    for name, fresh in models.items():
        m = fresh()
        prepared = [m.prepare(*b) for b in batches[:CHECK_STEPS]]
        loss, grads = m.gradients(prepared[0])
        m = fresh()
        for b in prepared:
            m.step(b)
        floor = 1e-2 * max(float(np.max(np.abs(r))) for r in ref_grads)  # 1% of the largest gradient
        entry = {"loss_rel_diff": abs(loss - ref_loss) / abs(ref_loss),
                 "grad_rel_diff": max(_rel(g, r, floor) for g, r in zip(grads, ref_grads)),
                 "weights_rel_diff": max(_rel(w, r, 1e-2 * max(float(np.max(np.abs(v))) for v in ref.weights()))
                                         for w, r in zip(m.weights(), ref.weights()))}
        entry["ok"] = all(v < tol for v in entry.values())
        report[name] = entry
    return report


def _step_runners(contenders, spec, params, batches, log):
    """{name: (runner, fresh model maker)}; a contender that fails to build or take its first
    step (torch.compile without a compiler) is skipped, with the reason."""
    runners, fresh, skipped = {}, {}, {}
    for name, mod in contenders.items():
        if not hasattr(mod, "CNN"):
            continue
        try:
            model = mod.CNN(spec, params)
            prepared = [model.prepare(x, t) for x, t in batches]
            model.step(prepared[0])
        except Exception as exc:  # noqa: BLE001  (reported, never hidden)
            skipped[name] = f"{type(exc).__name__}: {exc}"[:300]
            log(f"  {spec.key}: {name} skipped: {skipped[name]}")
            continue
        runners[name] = (lambda m, b: lambda i: m.step(b[i % len(b)]))(model, prepared)
        fresh[name] = (lambda mod: lambda: mod.CNN(spec, params))(mod)
    return runners, fresh, skipped


def _nets(contenders, plan, log):
    results = {}
    for spec in CNNS:
        params = init_cnn_params(spec)
        batches, source = training_batches(spec.batch, N_BATCHES, seed=1)
        batches = _images(batches, spec)
        runners, fresh, skipped = _step_runners(contenders, spec, params, batches, log)
        check = {}
        if "numpy" in fresh:
            others = {n: f for n, f in fresh.items() if n not in ("numpy", "torch_compiled")}
            check = consistency(others, {"fresh": fresh["numpy"]}, batches)
        log(f"  {spec.key}: {spec.title}: {len(runners)} contenders x {plan.rounds} rounds x {plan.per_round} steps")
        timings = interleave(runners, plan)
        entry = {"title": spec.title, "data": source, "timings": {n: t.summary() for n, t in timings.items()},
                 "consistency": check, "skipped": skipped}
        for base in ("torch", "numpy"):
            if base in timings:
                entry[f"ratio_to_{base}"] = {n: ratio(t, timings[base]) for n, t in timings.items()}
        results[spec.key] = entry
    return results


def _op_runner(framework, op, ag=None, torch=None):
    """Forward and backward of one op alone (the upstream gradient: a fixed array in the
    output's own memory layout, as the net's next layer hands it back)."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal(op.x_shape).astype(np.float32)
    if framework == "autograd_np" and op.kind == "bn":  # as a convolution leaves it: channel-major memory
        x = np.ascontiguousarray(x.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)
    c = op.x_shape[1]
    W = (rng.standard_normal((op.out, c, op.kernel, op.kernel)) * 0.1).astype(np.float32)
    b, gamma, beta = np.zeros(op.out, np.float32), np.ones(c, np.float32), np.zeros(c, np.float32)
    if framework == "autograd_np":
        xt = ag.Tensor(x, requires_grad=op.input_grad)
        ps = [ag.Tensor(a, requires_grad=True) for a in (W, b, gamma, beta)]
        stats = np.zeros(c, np.float32), np.ones(c, np.float32)
        fn = {"conv": lambda: ag.conv2d(xt, ps[0], ps[1], pad=op.pad), "pool": lambda: ag.max_pool2d(xt, 2),
              "bn": lambda: ag.batch_norm(xt, ps[2], ps[3], running_mean=stats[0], running_var=stats[1])}[op.kind]
        gy = fn().data.copy(order="K")
    else:
        F = torch.nn.functional
        xt = torch.tensor(x, requires_grad=op.input_grad)
        ps = [torch.tensor(a, requires_grad=True) for a in (W, b, gamma, beta)]
        stats = torch.zeros(c), torch.ones(c)
        fn = {"conv": lambda: F.conv2d(xt, ps[0], ps[1], padding=op.pad), "pool": lambda: F.max_pool2d(xt, 2),
              "bn": lambda: F.batch_norm(xt, stats[0], stats[1], ps[2], ps[3], training=True)}[op.kind]
        gy = fn().detach().clone()

    def run(_):
        fn().backward(gy)
        xt.grad = None
        for p in ps:
            p.grad = None
    return run


def _numpy_kernels(run):
    from autograd_np.ops import compiled_kernels

    def numpy_run(i):
        with compiled_kernels.using("numpy"):
            run(i)
    return numpy_run


def _ops(contenders, plan, log):
    results = {}
    ag = contenders["autograd_np"].MLP.ag if "autograd_np" in contenders else None
    torch = contenders["torch"].torch if "torch" in contenders else None
    for op in OPS:
        runners = {}
        if ag is not None:
            runners["autograd_np"] = _op_runner("autograd_np", op, ag=ag)
        if "autograd_np_numpy_kernels" in contenders:  # (numba installed: the NumPy kernels beside it)
            runners["autograd_np_numpy_kernels"] = _numpy_kernels(_op_runner("autograd_np", op, ag=ag))
        if torch is not None:
            runners["torch"] = _op_runner("torch", op, torch=torch)
        log(f"  {op.key}: {op.title}: {len(runners)} contenders x {plan.rounds} rounds x {plan.per_round} calls")
        timings = interleave(runners, plan)
        entry = {"title": op.title, "timings": {n: t.summary() for n, t in timings.items()}}
        if "torch" in timings:
            entry["ratio_to_torch"] = {n: ratio(t, timings["torch"]) for n, t in timings.items()}
        results[op.key] = entry
    return results


def run(contenders: dict, plan: Plan, log=print) -> dict:
    return {"nets": _nets(contenders, plan, log), "ops": _ops(contenders, plan, log),
            "steps_per_epoch": 60000 // CNNS[0].batch}
