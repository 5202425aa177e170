"""The seeds' training loop holds every loss it logs: 2,000 steps in flat memory
(a fresh process each, so RSS is this loop's own).  Slow: ``make test-slow``."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOOP = r"""
import json, os, sys
import numpy as np
sys.path.insert(0, {root!r})
import nets
pattern, steps = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(0)
x_train, t_train = rng.random((2000, 784), dtype=np.float32), rng.integers(0, 10, 2000)
net = nets.TwoLayerNet(784, 50, 10, rng=0)
train_loss_list = []
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
for i in range(steps):
    if i == 50:
        start = rss()
    batch_mask = rng.choice(2000, 100)
    x_batch, t_batch = x_train[batch_mask], t_train[batch_mask]
    if pattern == "seeds":  # the seeds: gradient(), update, then the loss for the plot
        grad = net.gradient(x_batch, t_batch)
        for key in ("W1", "b1", "W2", "b2"):
            net.params[key] -= 0.1 * grad[key]
        train_loss_list.append(net.loss(x_batch, t_batch))
    else:  # the loss logged is the one backpropagated
        loss = net.loss(x_batch, t_batch)
        train_loss_list.append(loss)
        net.zero_grad()
        loss.backward()
        for p in net.tensors.values():
            p.data -= 0.1 * p.grad
print(json.dumps({{"growth": rss() - start, "last": float(np.array(train_loss_list)[-1])}}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("pattern", ["seeds", "backward"])
def test_2000_steps_of_the_seeds_loop_grow_rss_by_under_20_mib(pattern, tmp_path):
    script = tmp_path / "loop.py"
    script.write_text(LOOP.format(root=str(ROOT)))
    out = subprocess.run([sys.executable, str(script), pattern, "2000"], capture_output=True, text=True,
                         timeout=600, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["growth"] < 20 * 2 ** 20, f"RSS grew by {result['growth'] / 2 ** 20:.1f} MiB"
    assert 0 < result["last"] < 2.5
