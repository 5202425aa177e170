"""nets.distributed with real ranks (mpirun -n 2 on loopback); skipped without Open MPI and mpi4py."""
import importlib.util
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import nets
from nets import distributed

HOW = "install MPI: apt-get install openmpi-bin libopenmpi-dev; pip install mpi4py"
needs_mpi = pytest.mark.skipif(shutil.which("mpirun") is None or importlib.util.find_spec("mpi4py") is None,
                               reason=f"no mpirun or mpi4py: {HOW}")

GRAD = textwrap.dedent("""
    import numpy as np, nets, nets.distributed as d
    w = d.world()
    m = nets.MultiLayerNet([4, 3, 2])
    for i, p in enumerate(m.parameters()):
        p.data[...] = np.random.default_rng(i).normal(size=p.data.shape)
    x = np.random.default_rng(9).normal(size=(7, 4)).astype(np.float32); t = np.arange(7) % 2
    xs, ts = w.shard(x, t)
    m.criterion(m(xs), ts).backward()
    ps = list(m.parameters()); w.allreduce_grads(ps, len(xs), len(x))
    if w.is_root:
        np.save(__import__("sys").argv[1], np.concatenate([np.asarray(p.grad).ravel() for p in ps]))
""")


def test_a_plain_run_is_a_world_of_one():
    w = distributed.world()
    x = np.arange(5)
    assert (w.rank, w.size) == (0, 1)
    assert np.array_equal(w.shard(x, x)[0], x)


@needs_mpi
def test_two_ranks_allreduce_the_global_batch_gradient(tmp_path):
    script = tmp_path / "grad.py"
    script.write_text(GRAD)
    one, two = tmp_path / "one.npy", tmp_path / "two.npy"
    subprocess.run([sys.executable, script, one], check=True, timeout=60)
    subprocess.run(["mpirun", "--allow-run-as-root", "--oversubscribe", "-n", "2", sys.executable, script, two],
                   check=True, timeout=60)
    # NOTE: the two halves are summed in another order than one batch's sum: float32 rounding only.
    np.testing.assert_allclose(np.load(two), np.load(one), rtol=1e-5, atol=1e-6)
