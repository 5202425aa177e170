"""Atomic writes and what a killed write leaves behind: the target is always intact; a write killed
mid-way leaves nothing (Linux's O_TMPFILE: the file has no name yet) or a temporary that the next
save or load in that folder removes at once; a live writer's file is never removed."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import nets
from nets.io import checkpoint as ckpt
from nets.io import checkpoint_atomic

ROOT = Path(__file__).resolve().parents[2]

# Saves a ~4 MB model over argv[1], but stops for good once the data is written: the write
# callback blocks before returning, as a process would that is killed mid-save.  argv[2] "named":
# the named temporary of systems without O_TMPFILE.
KILLED_WRITER = """
import sys, time
import numpy as np
import nets
from nets.io import checkpoint_atomic
if sys.argv[2] == "named":
    checkpoint_atomic._O_TMPFILE = None
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


def kill_mid_write(target, how):
    """Start a second save of ``target``, check what is there while it writes, SIGKILL it:
    the temporary it leaves (None when there is none)."""
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(target), how], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.strip() == "written", proc.stderr.read()
        seen = temporaries(target.parent)
        if how == "anonymous":  # 4 MB written, and no name for them in the folder
            assert seen == []
            tmp = None
        else:
            (tmp,) = seen
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
    return tmp


@pytest.fixture(params=["anonymous", "named"])
def killed_write(tmp_path, request):
    """A good model.npz, then a second save of it SIGKILLed mid-write: (target, its bytes, the temporary)."""
    target = tmp_path / "model.npz"
    nets.MultiLayerNet([784, 1200, 10], rng=0).save(target)
    before = target.read_bytes()
    tmp = kill_mid_write(target, request.param)
    assert temporaries(tmp_path) == ([] if tmp is None else [tmp])
    return target, before, tmp


def test_a_killed_write_leaves_the_target_intact_and_the_next_load_removes_its_temporary(killed_write):
    target, before, tmp = killed_write
    assert target.read_bytes() == before
    np.testing.assert_array_equal(nets.load(target).fc1.W.data, nets.MultiLayerNet([784, 1200, 10], rng=0).fc1.W.data)
    assert temporaries(target.parent) == []  # at once: its writer is dead


def test_the_next_save_removes_it_too(killed_write):
    target, before, tmp = killed_write
    nets.MultiLayerNet([4, 2]).save(target.parent / "other.npz")  # another save in that folder
    assert temporaries(target.parent) == []
    assert target.read_bytes() == before


def named(folder, name, pid=None, host=None, random="abcdefgh"):
    """A temporary file as atomic_write names them, for the writer ``pid`` on ``host``."""
    pid = os.getpid() if pid is None else pid
    path = Path(folder) / f".{name}.{pid}-{host or checkpoint_atomic._HOST}-{random}.tmp"
    path.write_bytes(b"partial")
    return path


def dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_who_wrote_a_temporary_decides_when_it_goes(tmp_path):
    """Unlocked and written just now: a dead writer's goes at once; a live one's (the instant before
    it locks), another host's and an old-style name's stay until STALE_AFTER seconds have passed."""
    target = tmp_path / "model.npz"
    nets.MultiLayerNet([4, 2]).save(target)
    dead = named(tmp_path, "model.npz", pid=dead_pid())
    live = named(tmp_path, "model.npz")
    other_host = named(tmp_path, "model.npz", pid=dead_pid(), host="0badf00d")
    old_style = tmp_path / ".model.npz.k3j2h1g0.tmp"
    old_style.write_bytes(b"partial")
    nets.load(target)
    assert not dead.exists() and live.exists() and other_host.exists() and old_style.exists()
    for path in (live, other_host, old_style):
        age(path, checkpoint_atomic.STALE_AFTER + 1)
    nets.load_state(target)
    assert temporaries(tmp_path) == []


def test_a_named_temporary_is_locked_from_before_its_name_to_the_rename(tmp_path, monkeypatch):
    """The anonymous file is locked before it gets a name: cleaning in the instant between its
    link and its rename leaves it alone, however old it looks."""
    target = tmp_path / "model.npz"
    seen, real_replace = [], os.replace

    def replace(src, dst, **kwargs):
        age(src)
        seen.append((Path(src).exists(), ckpt.remove_stale_temporaries(target, older_than=0)))
        return real_replace(src, dst, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    ckpt.atomic_write(target, lambda f: f.write(b"y" * 1000))
    assert seen == [(True, [])] and target.read_bytes() == b"y" * 1000 and temporaries(tmp_path) == []


def test_a_write_in_progress_is_locked_against_cleaning(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoint_atomic, "_O_TMPFILE", None)  # a named temporary from the start
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


def test_without_proc_the_anonymous_file_is_written_again_under_a_name(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoint_atomic, "_O_TMPFILE", checkpoint_atomic._O_TMPFILE)  # restored afterwards
    if checkpoint_atomic._O_TMPFILE is None:
        pytest.skip("no O_TMPFILE on this system: every write is named already")

    def no_proc(src, dst, **kwargs):
        raise FileNotFoundError(2, "No such file or directory", src)

    monkeypatch.setattr(os, "link", no_proc)
    calls = []
    target = tmp_path / "model.npz"
    ckpt.atomic_write(target, lambda f: calls.append(f.write(b"z" * 100)))
    assert calls == [100, 100] and target.read_bytes() == b"z" * 100 and temporaries(tmp_path) == []
    assert checkpoint_atomic._O_TMPFILE is None  # and named from now on
