"""The benchmark suite runs end to end in its quick mode, its contenders agree
on the numbers before anything is timed, and missing peers are skipped, not faked."""
import json

import pytest

from benchmarks import contenders, report
from benchmarks.__main__ import main
from benchmarks.contenders import ag_baseline
from benchmarks.specs import MLPS


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    res = main(["--quick", "--only", "mlp,graph,blas,memory", "--contenders", "autograd_np,autograd_np_compiled,autograd_np_baseline,nets,numpy_lean,blas_floor", "--out", str(out)])
    return res, out


def test_every_mlp_contender_matches_the_hand_written_reference(quick_run):
    res, _ = quick_run
    for net in MLPS:
        checks = res["mlp"][net.key]["consistency"]
        assert set(checks) >= {"autograd_np", "autograd_np_compiled", "nets", "numpy", "numpy_lean"}
        assert ("autograd_np_baseline" in checks) == ag_baseline.available()
        for name, check in checks.items():
            assert check["ok"], (net.key, name, check)
            assert check["grad_rel_diff"] < 1e-4 and check["grad_dtypes"] == ["float32"]


def test_the_op_chain_gradient_matches_the_plain_numpy_one(quick_run):
    res, _ = quick_run
    check = res["graph"]["consistency"]["autograd_np"]
    assert check["ok"] and check["dtype"] == "float32"
    assert res["graph"]["per_op_s"]["autograd_np"] > 0


def test_memory_probe_and_targets_are_reported(quick_run):
    res, out = quick_run
    assert res["memory"]["rss"]["autograd_np"]["flat"] is True
    table = (out / "quick.md").read_text()
    assert "graph overhead per op" in table and "| autograd_np |" in table
    saved = json.loads((out / "quick.json").read_text())
    assert saved["machine"]["cores_usable"] >= 1 and "numpy" in saved["machine"]


def test_a_peer_that_is_not_installed_is_skipped_with_the_install_command(monkeypatch):
    def missing():
        raise ImportError("No module named 'mygrad'")
    mod = __import__("benchmarks.contenders.mygrad_", fromlist=["setup"])
    monkeypatch.setattr(mod, "setup", missing)
    available, skipped = contenders.load({"mygrad", "numpy"})
    assert "mygrad" not in available and "numpy" in available
    assert "pip install mygrad" in skipped["mygrad"]


def test_a_wrong_gradient_is_never_a_pass(quick_run):
    res, _ = quick_run
    res = {**res, "mlp": {**res["mlp"], "1a": {**res["mlp"]["1a"], "consistency": {
        **res["mlp"]["1a"]["consistency"], "autograd_np": {"ok": False, "grad_rel_diff": 0.5}}}}}
    misses = [row for row in report.targets(res) if row[1] == "MISS" and "agrees with the reference" in row[0]]
    assert [row[0] for row in misses] == ["1a: autograd_np agrees with the reference"]


def test_the_eager_engine_is_compared_with_its_baseline_and_the_seeds_loop_is_measured(quick_run):
    res, out = quick_run
    if ag_baseline.available():
        for key in [n.key for n in MLPS]:
            assert "autograd_np" in res["mlp"][key]["ratio_to_autograd_np_baseline"]
        assert "autograd_np" in res["graph"]["ratio_to_autograd_np_baseline"]
    else:  # a checkout without the history: the report says why the comparison is missing
        assert "not in the git history" in res["skipped"]["autograd_np_baseline"]
    seeds = res["memory"]["seeds"]
    assert seeds["steps"] == 100 and seeds["losses_dtype"] == "float32" and seeds["rss_growth"] >= 0
    text = (out / "quick.md").read_text()
    assert "no slower than at eager-baseline" in text and "the seeds' loop holds" in text


def test_the_compiled_step_is_measured_against_its_targets(quick_run):
    res, out = quick_run
    for net in MLPS:
        entry = res["mlp"][net.key]
        assert entry["consistency"]["autograd_np_compiled"]["ok"]
        assert len(entry["tracing_calls"]["seconds"]) == 3 and "autograd_np_compiled" in entry["ratio_to_blas_floor"]
    assert res["graph"]["consistency"]["autograd_np_compiled"]["ok"]
    text = (out / "quick.md").read_text()
    assert "ag.compile step <= 1.25x the BLAS floor" in text and "ag.compile cost per op <= 1.3x" in text


def test_the_mlp_workload_passes_over_contenders_of_other_workloads_only():
    """workload 6's torch.compile contender has CNN and no MLP: the MLP consistency check
    (which runs every contender, not the quick run's chosen few) skips it instead of failing
    (make bench stopped there with AttributeError)."""
    from benchmarks import mlp
    from benchmarks.contenders import reference, torch_compiled
    from benchmarks.specs import init_params
    import numpy as np

    assert not hasattr(torch_compiled, "MLP")
    net = MLPS[0]
    params = init_params(net.sizes, net.init)
    rng = np.random.default_rng(0)
    batches = [(rng.standard_normal((8, net.sizes[0])).astype(np.float32),
                rng.integers(0, net.sizes[-1], 8)) for _ in range(3)]
    checks = mlp.consistency({reference.NAME: reference, torch_compiled.NAME: torch_compiled}, net, params, batches)
    assert set(checks) == {reference.NAME} and checks[reference.NAME]["ok"]


def test_settle_steps_run_untimed_when_each_contenders_turn_comes():
    """Plan.settle: that many untimed calls before a contender's timed ones in every
    round, in the rotation's order; only the timed calls are samples."""
    from benchmarks.harness import Plan, interleave
    calls = []
    runners = {name: (lambda i, name=name: calls.append((name, i))) for name in "ab"}
    timings = interleave(runners, Plan(warmup=1, rounds=2, per_round=2, settle=1))
    assert [len(t.samples) for t in timings.values()] == [4, 4]
    assert calls == [("b", 0), ("a", 0),                      # warm-up (the rotation of round -1)
                     ("a", 1), ("a", 2), ("a", 3), ("b", 1), ("b", 2), ("b", 3),  # round 0: settle, 2 timed
                     ("b", 4), ("b", 5), ("b", 6), ("a", 4), ("a", 5), ("a", 6)]  # round 1 starts with b
