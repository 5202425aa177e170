"""The seeds' programs rewritten with nets (examples/) run end to end with small settings."""
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_example(name, *argv):
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / name), *argv], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def final_accuracy(out):
    return float(re.search(r"final test accuracy (\d\.\d+)", out).group(1))


def test_two_layer_net_example():
    out = run_example("two_layer_net.py", "--iters", "300", "--hidden", "30")
    assert "all gradients agree" in out  # the seeds' "verify backprop" step
    assert final_accuracy(out) > 0.8


def test_deep_net_example(tmp_path):
    out = run_example("deep_net.py", "--epochs", "3", "--out", str(tmp_path))
    assert "epoch 3/3" in out
    assert final_accuracy(out) > 0.9
    assert (tmp_path / "model.npz").exists() and (tmp_path / "curves.png").exists()
