"""Atomic writes and what a killed write leaves behind: the target is always intact, and the
temporary file is removed by the next save or load in that folder, never while its writer lives."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import nets
from nets import checkpoint as ckpt

ROOT = Path(__file__).resolve().parents[2]

# Saves a ~4 MB model over argv[1], but stops for good once the data is written: the write
# callback blocks before returning, as a process would that is killed mid-save.
KILLED_WRITER = """
import sys, time
import numpy as np
import nets
real_savez = np.savez
def savez_then_hang(f, **arrays):
    real_savez(f, **arrays)
    f.flush()
    print("written", flush=True)
    time.sleep(600)
np.savez = savez_then_hang
nets.MultiLayerNet([784, 1200, 10], rng=1).save(sys.argv[1])
"""


def temporaries(folder, target="model.npz"):
    return sorted(p for p in Path(folder).iterdir() if p.name.startswith(f".{target}.") and p.name.endswith(".tmp"))


def age(path, seconds=60):
    t = time.time() - seconds
    os.utime(path, (t, t), follow_symlinks=False)


@pytest.fixture
def killed_write(tmp_path):
    """A good model.npz, then a second save of it SIGKILLed mid-write: (target, its bytes, the temporary)."""
    target = tmp_path / "model.npz"
    nets.MultiLayerNet([784, 1200, 10], rng=0).save(target)
    before = target.read_bytes()
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(target)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.strip() == "written", proc.stderr.read()
        (tmp,) = temporaries(tmp_path)
        assert tmp.stat().st_size > 3_000_000  # a multi-megabyte partial checkpoint
        # while the writer lives, nothing removes its file, however old it looks
        age(tmp)
        assert ckpt.remove_stale_temporaries(target, older_than=0) == []
        nets.load(target)
        assert tmp.exists()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert tmp.exists()
    return target, before, tmp


def test_a_killed_write_leaves_the_target_intact_and_the_next_load_removes_its_temporary(killed_write):
    target, before, tmp = killed_write
    assert target.read_bytes() == before
    age(tmp, ckpt.STALE_AFTER + 1)
    np.testing.assert_array_equal(nets.load(target).fc1.W.data, nets.MultiLayerNet([784, 1200, 10], rng=0).fc1.W.data)
    assert not tmp.exists() and temporaries(target.parent) == []


def test_the_next_save_removes_it_too(killed_write):
    target, before, tmp = killed_write
    age(tmp, ckpt.STALE_AFTER + 1)
    nets.MultiLayerNet([4, 2]).save(target.parent / "other.npz")  # another save in that folder
    assert not tmp.exists()
    assert target.read_bytes() == before


def test_a_fresh_temporary_is_left_alone(killed_write):
    """Within STALE_AFTER seconds of its last write an unlocked temporary may be a writer that
    has not locked it yet: it stays until it is older."""
    target, _, tmp = killed_write
    os.utime(tmp)  # written just now
    nets.load(target)
    assert tmp.exists()
    age(tmp, ckpt.STALE_AFTER + 1)
    nets.load_state(target)
    assert not tmp.exists()


def test_a_write_in_progress_is_locked_against_cleaning(tmp_path):
    target = tmp_path / "model.npz"
    seen = []

    def write(f):
        f.write(b"x" * 1000)
        f.flush()
        (tmp,) = temporaries(tmp_path)
        age(tmp)
        seen.append(ckpt.remove_stale_temporaries(target, older_than=0))
        seen.append(tmp.exists())

    ckpt.atomic_write(target, write)
    assert seen == [[], True]
    assert target.read_bytes() == b"x" * 1000 and temporaries(tmp_path) == []


def test_only_our_own_temporaries_are_removed(tmp_path):
    target = tmp_path / "model.npz"
    nets.MultiLayerNet([4, 2]).save(target)
    ours = [".model.npz.abcd_123.tmp", ".checkpoint.npz.zz99zz99.tmp"]
    theirs = [".notes.txt.abcdefgh.tmp", ".model.npz.abc.tmp", "model.npz.abcdefgh.tmp", ".model.npz.ABCDEFGH.tmp",
              ".model.npz.abcdefgh.tmp.bak", "abcdefgh.tmp", ".model.npz.abcdefgh.temp"]
    for name in ours + theirs:
        (tmp_path / name).write_bytes(b"partial")
        age(tmp_path / name)
    (tmp_path / ".x.npz.folder00.tmp").mkdir()
    os.symlink(target, tmp_path / ".x.npz.symlink0.tmp")
    age(tmp_path / ".x.npz.symlink0.tmp")
    nets.load(target)
    left = {p.name for p in tmp_path.iterdir()}
    assert not left & set(ours)
    assert set(theirs) | {"model.npz", ".x.npz.folder00.tmp", ".x.npz.symlink0.tmp"} == left
    assert target.exists()


def test_cleaning_never_fails_a_load(tmp_path, monkeypatch):
    target = tmp_path / "model.npz"
    nets.MultiLayerNet([4, 2]).save(target)
    (tmp_path / ".model.npz.abcdefgh.tmp").write_bytes(b"partial")
    age(tmp_path / ".model.npz.abcdefgh.tmp")

    def no_unlink(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(os, "unlink", no_unlink)
    assert nets.load(target).sizes == [4, 2]
    assert (tmp_path / ".model.npz.abcdefgh.tmp").exists()


def test_saving_over_a_folder_fails_before_writing(tmp_path):
    (tmp_path / "model.npz").mkdir()
    with pytest.raises(IsADirectoryError, match="is a folder"):
        nets.MultiLayerNet([4, 2]).save(tmp_path / "model.npz")
    assert os.listdir(tmp_path) == ["model.npz"]
