"""Workload 6 (convolutional nets) runs in the quick mode: every contender agrees with the
book-style hand-written NumPy step before it is timed, and the table and targets are written
(about half a minute: ``make test-slow``); a contender that disagrees is a MISS, however fast."""
import pytest

from benchmarks import report
from benchmarks.__main__ import main
from benchmarks.cnn_specs import CNNS, init_cnn_params


@pytest.fixture(scope="module")
def cnn_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench_cnn")
    res = main(["--quick", "--only", "cnn", "--contenders", "autograd_np,autograd_np_compiled,numpy", "--out", str(out)])
    return res, out


@pytest.mark.slow
def test_every_cnn_contender_agrees_with_the_hand_written_step(cnn_run):
    res, _ = cnn_run
    for spec in CNNS:
        checks = res["cnn"]["nets"][spec.key]["consistency"]
        assert set(checks) == {"autograd_np", "autograd_np_compiled"}
        assert all(c["ok"] for c in checks.values()), checks
        assert set(res["cnn"]["nets"][spec.key]["timings"]) == {"autograd_np", "autograd_np_compiled", "numpy"}


@pytest.mark.slow
def test_the_cnn_table_and_targets_are_written(cnn_run):
    res, out = cnn_run
    text = (out / "quick.md").read_text()
    assert "6: convolutional nets, float32, batch 100" in text
    for row in ("6a: autograd_np step faster than the hand-written NumPy im2col step",
                "6b: autograd_np, ag.compile step <= 1.6x PyTorch eager", "6 conv2: conv 32->64",
                "6 pool: max-pool 2x2", "6b: 600 steps (a Fashion-MNIST epoch's training"):
        assert row in text, row
    assert set(res["cnn"]["ops"]) == {"conv1", "conv2", "pool", "bn"}


def test_a_cnn_contender_with_wrong_gradients_is_a_miss():
    timing = {"median_s": 0.01}
    entry = {"timings": {"autograd_np": timing, "torch": timing}, "skipped": {},
             "ratio_to_torch": {"autograd_np": {"ratio": 1.0, "round_p25": 1.0, "round_p75": 1.0}},
             "consistency": {"autograd_np": {"ok": False, "grad_rel_diff": 0.5}}}
    rows = report.targets({"cnn": {"nets": {"6b": entry}, "ops": {}, "steps_per_epoch": 600}})
    found = {d: s for d, s, _ in rows}
    assert found["6b: autograd_np agrees with the hand-written step"] == "MISS"
    assert found["6b: autograd_np step <= 2.0x PyTorch eager"] == "PASS"  # fast, but the MISS above stands


def test_every_contender_starts_from_the_same_float32_weights():
    for spec in CNNS:
        a, b = init_cnn_params(spec), init_cnn_params(spec)
        assert all(x.dtype.name == "float32" and (x == y).all() for x, y in zip(a, b))
        assert a[-4].shape == (spec.flat_features(), spec.hidden)
