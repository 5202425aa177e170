"""Real SIGKILLs of a process that writes a big training checkpoint in a loop, at random points.

After each kill the next save or load in that folder must leave no temporary file behind, and the
checkpoint must be the last complete one (its epoch is the last the writer finished, or the one it
was renaming into place when killed) and load intact.  Both ways of writing are killed: the
anonymous file (``O_TMPFILE``, linked and renamed when complete: a kill mid-write leaves nothing)
and the named temporary of systems without it (a kill leaves one, which the next save or load
removes at once: its writer is dead and holds no lock)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nets.io import checkpoint_atomic
from nets.io.checkpoint_format import TEMPORARY

ROOT = Path(__file__).resolve().parents[2]

# argv: folder, kills, seed, named (1: the named-temporary way).  A forked child writes checkpoints
# of epoch k*1000+1, +2, ... (W[0, 0] = epoch, to tell a torn file) and reports each one finished
# through a pipe; the parent kills it after a random delay, then does the next save or load.
KILLER = r"""
import json, os, random, signal, sys, time
from pathlib import Path
import numpy as np
import nets
from nets.io import checkpoint as ckpt, checkpoint_atomic

folder, kills, seed, named = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
if named:
    checkpoint_atomic._O_TMPFILE = None
target = folder / "ckpt.npz"
model = nets.MultiLayerNet([784, 1000, 10], rng=0)  # 0.8 M parameters
opt = nets.optim.Adam(model, lr=1e-3)
for i, p in enumerate(opt.params):  # Adam's moments: a checkpoint of about 9.5 MB
    opt.state[i] = {"m": np.ones_like(p.data), "v": np.ones_like(p.data)}
model.fc1.W.data[0, 0] = 0
ckpt.save_checkpoint(target, model, opt, epoch=0)

def temporaries():
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp"))

rng, done, records = random.Random(seed), 0, []
for k in range(kills):
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the writer: never returns
        os.close(read)
        epoch = k * 1000 + 1
        while True:
            model.fc1.W.data[0, 0] = epoch
            ckpt.save_checkpoint(target, model, opt, epoch=epoch)
            os.write(write, b"%d\n" % epoch)
            epoch += 1
    os.close(write)
    time.sleep(rng.uniform(0.0, 0.3))
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    with os.fdopen(read) as f:
        finished = [int(line) for line in f.read().split()]
    left = temporaries()
    data = target.read_bytes()  # the checkpoint the kill left (reading the bytes cleans nothing)
    ck = ckpt.load_checkpoint(target, data)
    on_disk, marker = ck["epoch"], float(ck["model_state"]["fc1.W"][0, 0])
    op = ("load_checkpoint", "save-other", "load", "save-same")[k % 4]
    if op == "load_checkpoint":
        ckpt.load_checkpoint(target)
    elif op == "save-other":
        nets.MultiLayerNet([4, 2]).save(folder / "other.npz")
    elif op == "load":
        nets.load(target)
    else:  # the next save of that very file
        model.fc1.W.data[0, 0] = on_disk
        ckpt.save_checkpoint(target, model, opt, epoch=on_disk)
    after_op = temporaries()
    records.append({"op": op, "left": left, "after": after_op, "epoch": on_disk, "marker": marker,
                    "finished": finished[-1] if finished else None, "previous": done})
    done = on_disk
print(json.dumps(records))
"""


def kill_writers(folder, kills, seed, named):
    done = subprocess.run([sys.executable, "-c", KILLER, str(folder), str(kills), str(seed), "1" if named else "0"],
                          cwd=ROOT, env={**os.environ, "OPENBLAS_NUM_THREADS": "1"}, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def check_records(records):
    for r in records:
        assert r["after"] == [], r  # the next save or load removed what the kill left
        assert r["marker"] == r["epoch"], r  # model and metadata of one and the same write
        if r["finished"] is None:  # killed before it finished any: the previous checkpoint, or this one's first
            assert r["epoch"] in (r["previous"], r["epoch"] // 1000 * 1000 + 1), r
        else:  # the last one finished, or the next one if the kill came between rename and report
            assert r["epoch"] in (r["finished"], r["finished"] + 1), r
    return sum(bool(r["left"]) for r in records)


@pytest.mark.parametrize("named", [False, True], ids=["anonymous", "named"])
def test_twenty_kills_mid_write_leave_no_temporary_and_an_intact_checkpoint(tmp_path, named):
    records = kill_writers(tmp_path, 20, seed=1, named=named)
    left = check_records(records)
    if named:  # the kills did land mid-write: otherwise this test proves nothing
        assert left >= 3, records
    assert sorted(p.name for p in tmp_path.iterdir()) in (["ckpt.npz"], ["ckpt.npz", "other.npz"])


@pytest.mark.slow
@pytest.mark.parametrize("named", [False, True], ids=["anonymous", "named"])
def test_a_hundred_kills(tmp_path, named):
    records = kill_writers(tmp_path, 100, seed=2, named=named)
    left = check_records(records)
    if named:
        assert left >= 15, records


def test_the_named_temporary_names_its_writer():
    m = TEMPORARY.match(checkpoint_atomic._temporary_name("ckpt.npz"))
    assert m is not None and m["target"] == "ckpt.npz" and int(m["pid"]) == os.getpid()
    assert m["host"] == checkpoint_atomic._HOST
