"""nets.distributed and fit/CLI on real ranks (mpirun on loopback); skipped without Open MPI and mpi4py.

Tolerances: the ranks sum their shards' weighted gradients in another order than
one process sums the whole batch, so results agree to float rounding, not bits.
In float64 that is ~1e-13 per step (rtol 1e-9 after 3 epochs); in float32 ~1e-7
per step, and over the ~135 Adam steps of 3 digits epochs the weights moved
apart by 1.9e-6 at most when measured (atol 5e-5).  Runs on the same number of
ranks are bit-for-bit the same, resumed or not.
"""
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import nets
from nets import distributed

HOW = "install MPI: apt-get install openmpi-bin libopenmpi-dev; pip install mpi4py (or make test-mpi)"
needs_mpi = pytest.mark.skipif(shutil.which("mpirun") is None or importlib.util.find_spec("mpi4py") is None,
                               reason=f"no mpirun or mpi4py: {HOW}")
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}


def ranks(n, args, cwd, timeout=120, check=True):
    """Run ``args`` (after the python executable) on ``n`` ranks, or as a plain process for n=0."""
    launch = [] if n == 0 else ["mpirun", "--allow-run-as-root", "--oversubscribe", "-n", str(n)]
    done = subprocess.run([*launch, sys.executable, *map(str, args)], cwd=cwd, env=ENV, timeout=timeout,
                          capture_output=True, text=True)
    if check and done.returncode != 0:
        raise AssertionError(f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}")
    return done


def weights(path):
    return nets.load_state(path)


def assert_close_states(a, b, rtol, atol):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=rtol, atol=atol, err_msg=k)


def assert_same_history(a, b, rtol):
    a, b = json.loads(a.read_text()), json.loads(b.read_text())
    assert a.keys() == b.keys()
    for k in a:
        if k != "seconds":
            np.testing.assert_allclose(a[k], b[k], rtol=rtol, err_msg=k)


GRAD = textwrap.dedent("""
    import sys, numpy as np, nets, nets.distributed as d
    w = d.world()
    m = nets.MultiLayerNet([4, 3, 2], batchnorm=sys.argv[2] == "bn", dtype=np.float64)
    for i, p in enumerate(m.parameters()):
        p.data[...] = np.random.default_rng(i).normal(size=p.data.shape)
    x = np.random.default_rng(9).normal(size=(7, 4)); t = np.arange(7) % 2
    xs, ts = w.shard(x, t)
    m.criterion(m(xs), ts).backward()
    ps = list(m.parameters()); w.allreduce_grads(ps, len(xs), len(x))
    if w.is_root:
        np.save(sys.argv[1], np.concatenate([np.asarray(p.grad).ravel() for p in ps]))
""")


def test_a_plain_run_is_a_world_of_one():
    w = distributed.world()
    x = np.arange(5)
    assert (w.rank, w.size, w.is_root) == (0, 1, True)
    assert np.array_equal(w.shard(x, x)[0], x)
    assert w.allreduce_grads([], 3, 3, loss=2.5) == 2.5 and w.sum([1, 2]) == [1.0, 2.0]
    assert distributed.world(False).size == 1
    with pytest.raises(TypeError, match="distributed must be None, True, False"):
        distributed.world("yes")


def test_shards_cover_the_batch_once_and_differ_by_at_most_one():
    for size in (1, 2, 3, 5):
        for n in (0, 1, 4, 7, 32):
            parts = [distributed.World.__new__(distributed.World) for _ in range(size)]
            spans = []
            for r, w in enumerate(parts):
                w.comm, w.rank, w.size = None, r, size
                spans.append(w.shard_range(n))
            assert spans[0][0] == 0 and spans[-1][1] == n
            assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
            assert max(h - lo for lo, h in spans) - min(h - lo for lo, h in spans) <= 1


def test_the_environment_decides_the_world(monkeypatch):
    for name in distributed._ENV_SIZE:
        monkeypatch.delenv(name, raising=False)
    assert not distributed.in_mpi_environment()
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "1")
    assert not distributed.in_mpi_environment()
    monkeypatch.setenv("PMI_SIZE", "4")
    assert distributed.in_mpi_environment()


@needs_mpi
def test_two_ranks_allreduce_the_global_batch_gradient(tmp_path):
    script = tmp_path / "grad.py"
    script.write_text(GRAD)
    ranks(0, [script, tmp_path / "one.npy", "plain"], tmp_path)
    ranks(2, [script, tmp_path / "two.npy", "plain"], tmp_path)
    # float64, two shards of 3 and 4 summed in another order than one batch of 7
    np.testing.assert_allclose(np.load(tmp_path / "two.npy"), np.load(tmp_path / "one.npy"), rtol=1e-12)


@needs_mpi
def test_batch_norm_statistics_are_per_rank(tmp_path):
    """With batch norm each rank normalises its shard by the shard's statistics: the step's
    gradient is the shard-weighted mean of the gradients of one process on each shard."""
    script = tmp_path / "grad.py"
    script.write_text(GRAD)
    ranks(2, [script, tmp_path / "two.npy", "bn"], tmp_path)
    halves = textwrap.dedent("""
        import numpy as np, nets
        x = np.random.default_rng(9).normal(size=(7, 4)); t = np.arange(7) % 2
        total = 0
        for lo, hi in ((0, 3), (3, 7)):
            m = nets.MultiLayerNet([4, 3, 2], batchnorm=True, dtype=np.float64)
            for i, p in enumerate(m.parameters()):
                p.data[...] = np.random.default_rng(i).normal(size=p.data.shape)
            m.criterion(m(x[lo:hi]), t[lo:hi]).backward()
            total = total + (hi - lo) / 7 * np.concatenate([np.asarray(p.grad).ravel() for p in m.parameters()])
        np.save("halves.npy", total)
    """)
    (tmp_path / "halves.py").write_text(halves)
    ranks(0, [tmp_path / "halves.py"], tmp_path)
    ranks(0, [script, tmp_path / "one.npy", "bn"], tmp_path)
    two, want, whole = (np.load(tmp_path / f) for f in ("two.npy", "halves.npy", "one.npy"))
    np.testing.assert_allclose(two, want, rtol=1e-12)
    assert not np.allclose(two, whole, rtol=1e-3)  # not synchronised: the whole batch's statistics differ


FIT = textwrap.dedent("""
    import json, sys, numpy as np, nets, nets.distributed as d
    out, kind, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    d._CHUNK = 4096  # a checkpoint goes over in many Bcasts (real ones are cut at 1 GiB)
    (x, t), (xt, tt) = nets.datasets.load_digits()
    if kind == "other-data" and d.world().rank == 1:
        x = x[::-1]
    model = nets.MultiLayerNet([64, 32, 10], dtype=np.float64, rng=0, dropout=0.2 if kind == "dropout" else 0.0,
                               batchnorm=kind == "bn")

    class Calls(nets.Callback):
        def __init__(self, root_only):
            self.root_only, self.batches = root_only, 0
        def on_batch_end(self, batch, logs=None):
            self.batches += 1
            if kind == "raise" and self.run.rank == 1 and self.run.epoch == 1 and batch == 3:
                raise RuntimeError("boom in a callback")
            if kind == "exit" and self.run.rank == 1 and batch == 5:
                import os; os._exit(7)

    calls = [Calls(False), Calls(True)]
    resume = "--resume" in sys.argv
    h = nets.fit(model, nets.optim.Adam(model, lr=1e-2), (x, t), (xt, tt), val=(xt[:100], tt[:100]),
                 epochs=epochs, batch_size=32, seed=3, callbacks=calls, checkpoint=out + "/ckpt.npz",
                 resume=resume, verbose=True)
    w = d.world()
    state = {k: v for k, v in model.state_dict().items()}
    np.savez(f"{out}/rank{w.rank}.npz", **state)
    json.dump({"calls": [c.batches for c in calls], "history": h.to_dict(), "size": w.size},
              open(f"{out}/rank{w.rank}.json", "w"))
""")


def fit_ranks(tmp_path, n, name, kind="plain", epochs=3, resume=False, check=True, timeout=120):
    script = tmp_path / "fit.py"
    script.write_text(FIT)
    out = tmp_path / name
    out.mkdir(exist_ok=True)
    done = ranks(n, [script, out, kind, epochs] + (["--resume"] if resume else []), tmp_path, timeout, check)
    return out, done


def state(out, rank=0):
    with np.load(out / f"rank{rank}.npz") as z:
        return {k: z[k] for k in z.files}


def info(out, rank=0):
    return json.loads((out / f"rank{rank}.json").read_text())


@needs_mpi
def test_three_ranks_train_as_one_process_in_float64(tmp_path):
    """Uneven shards (batch 32 on 3 ranks is 10+11+11; the last batch of 29 is 9+10+10)."""
    one, _ = fit_ranks(tmp_path, 0, "one")
    three, done = fit_ranks(tmp_path, 3, "three")
    assert_close_states(state(three), state(one), rtol=1e-9, atol=1e-12)
    for r in (1, 2):  # every rank holds the same model
        assert_close_states(state(three, r), state(three), rtol=0, atol=0)
    h1, h3 = info(one)["history"], info(three)["history"]
    for k in h1:
        if k != "seconds":
            np.testing.assert_allclose(h3[k], h1[k], rtol=1e-9, err_msg=k)
    assert [info(three, r)["history"]["seconds"] for r in range(3)] == [h3["seconds"]] * 3
    assert done.stdout.count("epoch 1/3") == 1  # rank 0 alone prints
    # every rank calls the plain callback on every batch, rank 0 alone the root-only one
    assert [info(three, r)["calls"] for r in range(3)] == [[135, 135], [135, 0], [135, 0]]


@needs_mpi
def test_dropout_and_batch_norm_keep_the_ranks_in_step_and_resume_exactly(tmp_path):
    for kind in ("dropout", "bn"):
        whole, _ = fit_ranks(tmp_path, 2, f"{kind}-whole", kind)
        part, _ = fit_ranks(tmp_path, 2, f"{kind}-part", kind, epochs=2)
        part, _ = fit_ranks(tmp_path, 2, f"{kind}-part", kind, epochs=3, resume=True)
        assert_close_states(state(whole, 1), state(whole), rtol=0, atol=0)
        assert_close_states(state(part), state(whole), rtol=0, atol=0)
        assert info(part)["history"]["val_loss"] == info(whole)["history"]["val_loss"]


@needs_mpi
def test_dropout_masks_differ_between_ranks(tmp_path):
    probe = textwrap.dedent("""
        import numpy as np, nets, nets.distributed as d
        w = d.world(); model = nets.MultiLayerNet([4, 8, 2], dropout=0.5, rng=0)
        import nets.training; mods = nets.training.random_modules(model)
        for m in mods.values():
            m.rng = np.random.default_rng(5)
        w.spread_generators(mods)
        draws = [m.rng.random(8).tolist() for m in mods.values()]
        got = w.comm.allgather(draws)
        if w.is_root:
            assert got[0] != got[1], got
            assert got[0][0] == np.random.default_rng(5).random(8).tolist()  # rank 0 keeps its stream
            print("ok")
    """)
    (tmp_path / "probe.py").write_text(probe)
    assert ranks(2, [tmp_path / "probe.py"], tmp_path).stdout.strip() == "ok"


@needs_mpi
def test_the_cli_on_two_ranks_trains_as_on_one_and_rank_0_writes(tmp_path):
    train = ["-m", "nets", "train", "--dataset", "digits", "--epochs", "3", "--seed", "0"]
    ranks(0, [*train, "--out", "one"], tmp_path)
    done = ranks(2, [*train, "--out", "two"], tmp_path)
    assert "data-parallel on 2 ranks" in done.stdout and done.stdout.count("test accuracy") == 1
    assert_close_states(weights(tmp_path / "two/model.npz"), weights(tmp_path / "one/model.npz"), rtol=0,
                        atol=5e-5)  # float32: see the module docstring
    assert_same_history(tmp_path / "two/history.json", tmp_path / "one/history.json", rtol=1e-4)
    assert len((tmp_path / "two/log.csv").read_text().splitlines()) == 4  # a header and 3 rows, written once


@needs_mpi
def test_a_checkpoint_resumes_across_rank_counts(tmp_path):
    one, _ = fit_ranks(tmp_path, 0, "one")
    for first, then, name in ((2, 0, "two-then-one"), (0, 2, "one-then-two")):
        fit_ranks(tmp_path, first, name, epochs=2)
        out, done = fit_ranks(tmp_path, then, name, epochs=3, resume=True)
        assert "resumed from" in done.stdout and "after epoch 2" in done.stdout
        assert info(out)["size"] == max(then, 1)
        assert_close_states(state(out), state(one), rtol=1e-9, atol=1e-12)
        h, want = info(out)["history"], info(one)["history"]
        np.testing.assert_allclose(h["val_loss"], want["val_loss"], rtol=1e-9)


@needs_mpi
@pytest.mark.parametrize("kind, message", [
    ("raise", "rank 1 of 2: failed: RuntimeError: boom in a callback"),
    ("exit", r"Exit code:\s+7"),
    ("other-data", "the ranks disagree on data.train.x before training"),
])
def test_a_failing_rank_ends_the_job(tmp_path, kind, message):
    t0 = time.monotonic()
    _, done = fit_ranks(tmp_path, 2, kind, kind, check=False, timeout=90)
    assert done.returncode != 0
    assert time.monotonic() - t0 < 60, "the other rank waited too long"
    import re
    assert re.search(message, done.stderr + done.stdout), done.stderr


@needs_mpi
def test_a_cli_error_on_the_ranks_ends_the_job(tmp_path):
    (tmp_path / "ck").mkdir()
    (tmp_path / "ck/checkpoint.npz").write_bytes(b"PK junk")
    done = ranks(2, ["-m", "nets", "train", "--dataset", "digits", "--epochs", "2", "--out", "ck", "--resume"],
                 tmp_path, timeout=90, check=False)
    assert done.returncode != 0
    assert "nets: error: " in done.stderr and "checkpoint.npz" in done.stderr


class EchoComm:
    """A stand-in for rank 0 of 2 whose partner sends exactly what rank 0 sends: every
    collective is counted, so the number of allreduces per step can be checked anywhere."""

    def __init__(self):
        self.calls = []

    def Get_rank(self):  # noqa: N802 (mpi4py's names)
        return 0

    def Get_size(self):  # noqa: N802
        return 2

    def iprobe(self, source=None, tag=None):  # the failure notices: none ever arrives
        return False

    def isend(self, obj, dest=None, tag=None):
        return type("Done", (), {"Test": lambda self: True})()

    def Iallreduce(self, in_place, buf, op="SUM"):  # noqa: N802  (the meeting before each collective)
        self.calls.append(("meet", buf.size))
        return type("Done", (), {"Test": lambda self: True})()

    def Allreduce(self, in_place, buf, op="SUM"):  # noqa: N802
        self.calls.append(("Allreduce", buf.size))
        if op == "SUM":
            buf *= 2

    def Bcast(self, buf, root=0):  # noqa: N802
        self.calls.append(("Bcast", buf.size))

    def bcast(self, obj, root=0):
        self.calls.append(("bcast", None))
        return obj

    def allgather(self, obj):
        self.calls.append(("allgather", None))
        return [obj, obj]


def test_one_allreduce_per_step_holds_every_gradient_and_the_loss(monkeypatch):
    monkeypatch.setattr(distributed.World, "_mpi", staticmethod(
        lambda: type("MPI", (), {"IN_PLACE": None, "MAX": "MAX", "ANY_SOURCE": -1})))
    comm = EchoComm()
    world = distributed.World(comm)
    (x, t), (xt, tt) = nets.datasets.load_digits()
    model = nets.MultiLayerNet([64, 16, 10], rng=0, batchnorm=True)
    n_params = sum(p.data.size for p in model.parameters())
    per_batch = []
    seen = nets.LambdaCallback(on_batch_end=lambda b, logs: per_batch.append(len(comm.calls)))
    h = nets.fit(model, nets.optim.SGD(model, lr=0.1), (x[:200], t[:200]), (xt[:50], tt[:50]), epochs=2,
                 batch_size=50, seed=0, callbacks=[seen], verbose=False, distributed=world)
    n_grads = len(model.parameters())  # the gradients, then whether each rank has each, then the loss
    steps = [comm.calls[a:b] for a, b in zip(per_batch, per_batch[1:])]
    # within an epoch: one collective per step (after the ranks meet, in a non-blocking allreduce of 4 numbers)
    assert steps[:3] == [[("meet", 4), ("Allreduce", n_params + n_grads + 1)]] * 3
    gradient_reduces = [c for c in comm.calls if c == ("Allreduce", n_params + n_grads + 1)]
    assert len(gradient_reduces) == 8  # ...the flat buffer of every gradient and the loss, for each of 8 steps
    # the partner echoes rank 0, so the summed half-batch losses are the whole loss
    assert len(h) == 2 and np.isfinite(h.train_loss).all() and np.isfinite(h.test_loss).all()


EDGES = textwrap.dedent("""
    import sys, numpy as np, nets, nets.distributed as d
    from nets.layers import Affine
    from mpi4py import MPI
    case, rank = sys.argv[1], MPI.COMM_WORLD.Get_rank()
    (x, t), (xt, tt) = nets.datasets.load_digits()

    def say(*words):  # a file per rank: mpirun may interleave the ranks' output within lines
        open(f"said-{rank}.txt", "w").write(" ".join(map(str, (rank, *words))))

    class TwoHeads(nets.Module):  # the second head is never used: it has no gradient
        def __init__(self):
            super().__init__()
            self.a = Affine(64, 10, rng=0, dtype=np.float64)
            self.unused = Affine(64, 10, rng=1, dtype=np.float64)
            self.register_buffer("constant", np.full(3, 0.1))
        def forward(self, x):
            return self.a(x)

    class StopNow(nets.Callback):
        root_only = True
        def on_epoch_end(self, epoch, logs=None):
            self.run.stop_training = epoch == 1

    def fit(model, **kw):
        return nets.fit(model, nets.optim.Adam(model, lr=1e-2, weight_decay=1e-2), (x[:300], t[:300]), epochs=4,
                        batch_size=32, seed=0, verbose=False, **kw)
    try:
        if case == "unused":
            m = TwoHeads(); fit(m)
            say(np.abs(m.unused.W.data - TwoHeads().unused.W.data).max(), m.constant.tolist() == [0.1] * 3)
        elif case == "empty-checkpoint":
            open("empty.npz", "w").close(); fit(nets.MultiLayerNet([64, 8, 10]), checkpoint="empty.npz", resume=True)
        elif case == "callbacks-differ":
            fit(nets.MultiLayerNet([64, 8, 10]), callbacks=[nets.EarlyStopping()] if rank == 0 else [])
        elif case == "root-stops":
            say(len(fit(nets.MultiLayerNet([64, 8, 10], rng=0), callbacks=[StopNow()])))
        elif case == "stuck":  # rank 1 never reaches the next collective
            import time
            hang = nets.LambdaCallback(on_batch_end=lambda b, logs: time.sleep(600) if rank == 1 and b == 2 else None)
            fit(nets.MultiLayerNet([64, 8, 10]), callbacks=[hang])
        elif case == "sys-exit":  # SystemExit skips sys.excepthook
            leave = nets.LambdaCallback(on_batch_end=lambda b, logs: sys.exit(3) if rank == 1 and b == 2 else None)
            fit(nets.MultiLayerNet([64, 8, 10]), callbacks=[leave])
        elif case == "outside-tensor":  # the optimizer also steps a tensor the model does not own
            import autograd_np as ag
            scale = ag.Tensor(np.array(1.0), requires_grad=True, name="scale")
            class Scaled(nets.MultiLayerNet):
                def forward(self, x):
                    return super().forward(x) * scale
            m = Scaled([64, 8, 10], rng=0, dtype=np.float64)
            opt = nets.optim.Adam(m.parameters() + [scale], lr=1e-2)
            nets.fit(m, opt, (x[:300], t[:300]), epochs=2, batch_size=32, seed=0, verbose=False)
            say(repr(float(scale.data)))
        elif case == "world-given":
            class Boom(nets.MultiLayerNet):
                calls = 0
                def forward(self, x):
                    Boom.calls += 1
                    if rank == 1 and Boom.calls == 5:
                        raise RuntimeError("boom on rank 1")
                    return super().forward(x)
            fit(Boom([64, 8, 10]), distributed=d.World(MPI.COMM_WORLD))
    except (ValueError, nets.CheckpointError) as exc:  # caught by the user: every rank must have it
        say("caught", type(exc).__name__, str(exc)[:60])
""")


def edge(tmp_path, case, n=2, check=True):
    (tmp_path / "edges.py").write_text(EDGES)
    for f in tmp_path.glob("said-*.txt"):
        f.unlink()
    return ranks(n, [tmp_path / "edges.py", case], tmp_path, timeout=60, check=check)


def rank_lines(done, folder):
    return sorted(f.read_text() for f in folder.glob("said-*.txt"))


@needs_mpi
def test_a_parameter_without_gradient_and_a_constant_buffer_stay_as_they_are(tmp_path):
    # one process leaves an unused parameter alone (no gradient: no weight decay, no Adam step)
    assert rank_lines(edge(tmp_path, "unused", n=3), tmp_path) == ["0 0.0 True", "1 0.0 True", "2 0.0 True"]


@needs_mpi
def test_an_error_on_rank_0_alone_is_raised_on_every_rank(tmp_path):
    lines = rank_lines(edge(tmp_path, "empty-checkpoint"), tmp_path)
    assert lines == ["0 caught CheckpointError empty.npz: empty file, not a checkpoint"] * 1 + \
        ["1 caught CheckpointError empty.npz: empty file, not a checkpoint"]


@needs_mpi
def test_ranks_that_disagree_on_callbacks_fail_together_and_a_root_only_stop_stops_all(tmp_path):
    lines = rank_lines(edge(tmp_path, "callbacks-differ"), tmp_path)
    assert [line[:22] for line in lines] == ["0 caught RanksDisagree", "1 caught RanksDisagree"]
    assert "the ranks disagree on callbacks" in lines[0]
    assert rank_lines(edge(tmp_path, "root-stops"), tmp_path) == ["0 2", "1 2"]


@needs_mpi
def test_a_world_passed_to_fit_still_aborts_on_a_failing_rank(tmp_path):
    t0 = time.monotonic()
    done = edge(tmp_path, "world-given", check=False)
    assert done.returncode != 0 and "rank 1 of 2: failed: RuntimeError: boom on rank 1" in done.stderr
    assert time.monotonic() - t0 < 30


@needs_mpi
def test_sys_exit_on_one_rank_ends_the_job(tmp_path):
    t0 = time.monotonic()
    done = edge(tmp_path, "sys-exit", check=False)
    assert done.returncode != 0 and "rank 1 of 2: SystemExit 3 during a distributed fit" in done.stderr
    assert time.monotonic() - t0 < 30  # not the watchdog's 1800 s


@needs_mpi
def test_a_stuck_rank_times_the_others_out(tmp_path, monkeypatch):
    monkeypatch.setitem(ENV, "NETS_MPI_TIMEOUT", "2")
    t0 = time.monotonic()
    done = edge(tmp_path, "stuck", check=False)
    assert done.returncode != 0
    assert "rank 0 of 2: waited more than 2 s in Allreduce: another rank is stuck or gone" in done.stderr
    assert time.monotonic() - t0 < 30


def test_the_timeout_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("NETS_MPI_TIMEOUT", raising=False)
    assert distributed._timeout_from_env() == distributed.DEFAULT_TIMEOUT
    monkeypatch.setenv("NETS_MPI_TIMEOUT", "0")
    assert distributed._timeout_from_env() is None
    monkeypatch.setenv("NETS_MPI_TIMEOUT", "2.5")
    assert distributed._timeout_from_env() == 2.5
    for bad in ("soon", "-1", "nan"):
        monkeypatch.setenv("NETS_MPI_TIMEOUT", bad)
        with pytest.raises(ValueError, match="NETS_MPI_TIMEOUT"):
            distributed._timeout_from_env()


@needs_mpi
def test_cli_ranks_given_different_arguments_say_so_in_one_line(tmp_path):
    train = [sys.executable, "-m", "nets", "train", "--dataset", "digits", "--out", "runs", "--epochs"]
    done = subprocess.run(["mpirun", "--allow-run-as-root", "--oversubscribe", "-n", "1", *train, "2", ":",
                           "-n", "1", *train, "1"], cwd=tmp_path, env=ENV, timeout=60, capture_output=True, text=True)
    assert done.returncode != 0
    assert "nets: error: rank 1 of 2: distributed fit: the ranks disagree on fit.epochs before training: " \
        "rank 0 has 2; rank 1 has 1" in done.stderr
    assert "Traceback" not in done.stderr


@needs_mpi
def test_a_tensor_the_optimizer_steps_outside_the_model_is_averaged_too(tmp_path):
    one = rank_lines(edge(tmp_path, "outside-tensor", n=1), tmp_path)
    two = rank_lines(edge(tmp_path, "outside-tensor"), tmp_path)
    values = [float(line.split()[1]) for line in one + two]
    assert len(values) == 3 and values[1] == values[2]  # both ranks hold the same value
    np.testing.assert_allclose(values[1], values[0], rtol=1e-9)  # and one process's
