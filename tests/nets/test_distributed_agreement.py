"""Ranks that disagree on anything that decides the trajectory fail with RanksDisagree naming it.

One mpirun of 2 ranks runs every case in turn: rank 1 changes one thing (an optimizer setting,
a callback's argument, a label the old 1,000-row sample skipped, ...), both ranks call fit, and
each case must end in a RanksDisagree naming that field on both ranks, before any training (or,
for what only shows in the training itself, after the first epoch).  A RanksDisagree is raised
by every rank together, so the ranks stay in step and the next case runs in the same job.
The unit tests below check the descriptions themselves, without MPI.
"""
import json
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import nets
from nets.distributed import agreement

from .test_distributed import needs_mpi, ranks

AGREE = textwrap.dedent("""
    import json, sys, numpy as np, nets, nets.distributed as d
    import autograd_np as ag
    from nets.layers import Affine, BatchNorm, Dropout, ReLU
    from mpi4py import MPI
    rank = MPI.COMM_WORLD.Get_rank()
    other = rank == 1  # rank 1 is the odd one out
    (x, t), (xt, tt) = nets.datasets.load_digits()
    big_x, big_t = np.concatenate([x] * 2), np.concatenate([t] * 2)  # 2,874 rows: a 1,000-row sample skips odd ones
    x, t, xt, tt = x[:256], t[:256], xt[:64], tt[:64]

    class Net(nets.Module):  # a custom module: its recorded constructor arguments are its config
        def __init__(self, p=0.2, momentum=0.9, frozen=0.0, double=False):
            super().__init__()
            self.fc, self.bn, self.drop = Affine(64, 10, rng=0), BatchNorm(10, momentum=momentum), Dropout(p, rng=0)
            self.offset = ag.Tensor(np.full(10, frozen, np.float32))  # frozen: not a parameter, not broadcast
            self.double = double
        def forward(self, x):
            y = self.drop(self.bn(self.fc(x))) + self.offset
            return y * 2 if self.double else y

    def mlp(**kw):
        return nets.MultiLayerNet([64, 16, 10], rng=0, **kw)

    def adam(m, **kw):
        return nets.optim.Adam(m, lr=1e-2, **kw)

    def one(v0, v1):
        return v1 if other else v0

    def lr_from_rank(epoch, logs):  # reads the global rank: the code is the same on both ranks
        run_opt.lr = 0.01 * (1 + rank)

    def nudge(batch, logs):  # changes rank 1's weights only
        if rank == 1:
            run_model.fc1.W.data[0, 0] += 1.0

    CASES = {  # name: (model, optimizer maker, fit arguments), rank 1's differing
        "same": lambda: (mlp(), adam, {}),
        "lr": lambda: (mlp(), lambda m: nets.optim.Adam(m, lr=one(1e-2, 2e-2)), {}),
        "optimizer class": lambda: (mlp(), lambda m: one(nets.optim.Adam, nets.optim.RMSprop)(m, lr=1e-2), {}),
        "beta1": lambda: (mlp(), lambda m: adam(m, beta1=one(0.9, 0.8)), {}),
        "weight decay": lambda: (mlp(), lambda m: adam(m, weight_decay=one(0.0, 1e-4)), {}),
        "momentum": lambda: (mlp(), lambda m: nets.optim.Momentum(m, lr=0.1, momentum=one(0.9, 0.5)), {}),
        "optimizer state": lambda: (mlp(), lambda m: stepped(adam(m)), {}),
        "clip norm": lambda: (mlp(), adam, {"callbacks": [nets.GradientClipping(max_norm=one(1.0, 2.0))]}),
        "clip value": lambda: (mlp(), adam, {"callbacks": [nets.GradientClipping(max_value=one(1.0, 0.5))]}),
        "clipping on one rank": lambda: (mlp(), adam, {"callbacks": one([nets.GradientClipping(1.0)], [])}),
        "step size": lambda: (mlp(), adam, {"callbacks": [nets.StepLR(step_size=one(2, 3))]}),
        "patience": lambda: (mlp(), adam, {"callbacks": [nets.EarlyStopping(patience=one(2, 5))]}),
        "plateau factor": lambda: (mlp(), adam, {"callbacks": [nets.ReduceLROnPlateau(factor=one(0.5, 0.1))]}),
        "schedule function": lambda: (mlp(), adam, {"callbacks": [nets.LearningRateScheduler(
            one(lambda epoch, lr: lr * 0.9, lambda epoch, lr: lr * 0.5))]}),
        "schedule default": lambda: (mlp(), adam, {"callbacks": [nets.LearningRateScheduler(
            lambda epoch, lr, k=one(0.9, 0.5): lr * k)]}),
        "lambda callback": lambda: (mlp(), adam, {"callbacks": [nets.LambdaCallback(
            on_epoch_end=one(lambda e, logs: None, lambda e, logs: print(e)))]}),
        "criterion": lambda: (criterion(mlp()), adam, {}),
        "hidden size": lambda: (nets.MultiLayerNet([64, one(16, 32), 10], rng=0), adam, {}),
        "dropout": lambda: (mlp(dropout=one(0.1, 0.2)), adam, {}),
        "dtype": lambda: (mlp(dtype=one(np.float32, np.float64)), adam, {}),
        "custom dropout": lambda: (Net(p=one(0.2, 0.3)), adam, {}),
        "custom batch norm": lambda: (Net(momentum=one(0.9, 0.8)), adam, {}),
        "custom attribute": lambda: (Net(double=other), adam, {}),
        "frozen tensor": lambda: (Net(frozen=one(0.0, 1.0)), adam, {}),
        "batch size": lambda: (mlp(), adam, {"batch_size": one(32, 64)}),
        "shuffle": lambda: (mlp(), adam, {"shuffle": other}),
        "drop last": lambda: (mlp(), adam, {"batch_size": 30, "drop_last": other}),
        "seed": lambda: (mlp(), adam, {"seed": one(0, 1)}),
        "epochs": lambda: (mlp(), adam, {"epochs": one(2, 3)}),
        "eval batch size": lambda: (mlp(), adam, {"eval_batch_size": one(1000, 7)}),
        "compile": lambda: (mlp(), adam, {"compile": other}),
        "metric names": lambda: (mlp(), adam, {"metrics": one(["acc"], [])}),
        "metric function": lambda: (mlp(), adam, {"metrics": [nets.metrics.Metric(
            "top", one(lambda y, t: 1.0, lambda y, t: 0.0))]}),
        "a label the sample skipped": lambda: (mlp(), adam, {"train": (big_x, relabel(big_t, 7))}),
        "one pixel": lambda: (mlp(), adam, {"train": (repixel(big_x), big_t)}),
        "val labels": lambda: (mlp(), adam, {"val": (xt, relabel(tt, 5))}),
        "val on one rank": lambda: (mlp(), adam, {"val": one(None, (xt, tt))}),
        "checkpoint on one rank": lambda: (mlp(), adam, {"checkpoint": one(None, "ck-agree.npz")}),
        "tensor outside the model": lambda: outside(),
        "lr set from the rank": lambda: (mlp(), adam, {"callbacks": [
            nets.LambdaCallback(on_epoch_begin=lr_from_rank)]}),
        "weights changed on one rank": lambda: (mlp(), adam, {"callbacks": [nets.LambdaCallback(on_batch_end=nudge)]}),
    }

    def stepped(opt):
        if other:  # a moment left from training before this fit
            opt.state[0]["m"] = np.ones_like(opt.params[0].data)
        return opt

    def criterion(model):
        if other:
            model.criterion = lambda y, t: nets.Module.criterion(model, y, t) * 2
        return model

    def relabel(labels, row):
        labels = labels.copy()
        if other:
            labels[row] = (labels[row] + 1) % 10
        return labels

    def repixel(images):
        images = images.copy()
        if other:
            images[201, 33] += 1.0
        return images

    def outside():
        import autograd_np as ag
        scale = ag.Tensor(np.array(one(1.0, 1.5)), requires_grad=True)
        class Scaled(nets.MultiLayerNet):
            def forward(self, x):
                return super().forward(x) * scale
        m = Scaled([64, 16, 10], rng=0)
        return m, lambda model: nets.optim.Adam(m.parameters() + [scale], lr=1e-2), {}

    results = {}
    for name, make in CASES.items():
        model, make_opt, args = make()
        run_model, run_opt = model, make_opt(model)
        args = {"train": (x, t), "epochs": 2, "batch_size": 32, "seed": 0, "verbose": False, **args}
        train = args.pop("train")
        try:
            h = nets.fit(model, run_opt, train, (xt, tt), **args)
            results[name] = ["trained", len(h)]
        except d.RanksDisagree as exc:
            results[name] = [exc.field, str(exc)]
    json.dump(results, open(f"agree-{rank}.json", "w"))
""")

# case: (the field named, words the message must hold: both ranks' values where they are short)
EXPECTED = {
    "lr": ("optimizer.lr", ["rank 0 has 0.01", "rank 1 has 0.02", "before training"]),
    "optimizer class": ("optimizer.class", ["nets.training.optim.Adam", "nets.training.optim.RMSprop"]),
    "beta1": ("optimizer.beta1", ["rank 0 has 0.9", "rank 1 has 0.8"]),
    "weight decay": ("optimizer.weight_decay", ["rank 0 has 0.0", "rank 1 has 0.0001"]),
    "momentum": ("optimizer.momentum", ["rank 0 has 0.9", "rank 1 has 0.5"]),
    "optimizer state": ("optimizer.state", ["[0].m"]),
    "clip norm": ("callbacks[0].GradientClipping.max_norm", ["rank 0 has 1.0", "rank 1 has 2.0"]),
    "clip value": ("callbacks[0].GradientClipping.max_value", ["rank 0 has 1.0", "rank 1 has 0.5"]),
    "clipping on one rank": ("callbacks", ["GradientClipping"]),
    "step size": ("callbacks[0].StepLR.step_size", ["rank 0 has 2", "rank 1 has 3"]),
    "patience": ("callbacks[0].EarlyStopping.patience", ["rank 0 has 2", "rank 1 has 5"]),
    "plateau factor": ("callbacks[0].ReduceLROnPlateau.factor", ["rank 0 has 0.5", "rank 1 has 0.1"]),
    "schedule function": ("callbacks[0].LearningRateScheduler.schedule", ["(code)"]),
    "schedule default": ("callbacks[0].LearningRateScheduler.schedule", ["(defaults[0])", "0.9", "0.5"]),
    "lambda callback": ("callbacks[0].LambdaCallback.on_epoch_end", ["(code)"]),
    "criterion": ("model.criterion", []),
    "hidden size": ("model.config", ["(sizes[1])", "rank 0 has 16", "rank 1 has 32"]),
    "dropout": ("model.config", ["(dropout)", "rank 0 has 0.1", "rank 1 has 0.2"]),
    "dtype": ("model.parameters", ["float32", "float64"]),
    # the custom Net records its constructor's arguments (its config): they differ first
    "custom dropout": ("model.config", ["(p)", "rank 0 has 0.2", "rank 1 has 0.3"]),
    "custom batch norm": ("model.config", ["(momentum)", "rank 0 has 0.9", "rank 1 has 0.8"]),
    "custom attribute": ("model.config", ["(double)", "rank 0 has false", "rank 1 has true"]),
    "frozen tensor": ("model.config", ["(frozen)", "rank 0 has 0.0", "rank 1 has 1.0"]),
    "batch size": ("fit.batch_size", ["rank 0 has 32", "rank 1 has 64"]),
    "shuffle": ("fit.shuffle", ["rank 0 has false", "rank 1 has true"]),
    "drop last": ("fit.drop_last", ["rank 0 has false", "rank 1 has true"]),
    "seed": ("fit.seed", ["rank 0 has 0", "rank 1 has 1"]),
    "epochs": ("fit.epochs", ["rank 0 has 2", "rank 1 has 3"]),
    "eval batch size": ("fit.eval_batch_size", ["rank 0 has 1000", "rank 1 has 7"]),
    "compile": ("fit.compile", ["rank 0 has false", "rank 1 has true"]),
    "metric names": ("fit.metrics", ['rank 0 has ["acc"]', "rank 1 has []"]),
    "metric function": ("fit.metrics", ["([0].attrs.fn.code)"]),
    "a label the sample skipped": ("data.train.t", ["array (2874,)"]),
    "one pixel": ("data.train.x", ["float32 array (2874, 64)"]),
    "val labels": ("data.val.t", []),
    "val on one rank": ("data.val", ['rank 0 has "absent"', 'rank 1 has "given"']),
    "checkpoint on one rank": ("fit.checkpoint", ["rank 0 has false", "rank 1 has true"]),
    "tensor outside the model": ("optimizer.params outside the model", []),
    "lr set from the rank": ("optimizer.lr", ["after epoch 1", "rank 0 has 0.01", "rank 1 has 0.02"]),
    "weights changed on one rank": ("model.fc1.W", ["after epoch 1"]),
}


@pytest.fixture(scope="module")
def agreement_results(tmp_path_factory):
    folder = tmp_path_factory.mktemp("agree")
    (folder / "agree.py").write_text(AGREE)
    ranks(2, [folder / "agree.py"], folder, timeout=300)
    return [json.loads((folder / f"agree-{r}.json").read_text()) for r in (0, 1)]


@needs_mpi
def test_ranks_that_agree_train(agreement_results):
    assert [r["same"] for r in agreement_results] == [["trained", 2]] * 2


@needs_mpi
@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_each_field_that_differs_is_named_on_every_rank(agreement_results, case):
    field, words = EXPECTED[case]
    got = [r[case] for r in agreement_results]
    assert got[0] == got[1], got  # the same error on both ranks
    named, message = got[0]
    assert named == field, message
    assert message.startswith(f"distributed fit: the ranks disagree on {field}"), message
    for word in words:
        assert word in message, message


def test_every_case_is_checked():
    names = set(re.findall(r'^ {4}"([^"]+)": lambda', AGREE, flags=re.M))
    assert len(names) > 40 and names - {"same"} == set(EXPECTED)


# --- the descriptions, without MPI ------------------------------------------------------------------

def test_the_data_hash_covers_every_element_whatever_the_layout():
    rng = np.random.default_rng(0)
    a = rng.random((300, 7, 5)).astype(np.float32)
    want = agreement.array_digest(a)
    assert agreement.array_digest(np.asfortranarray(a)) == want  # same values, another layout
    assert agreement.array_digest(np.concatenate([a, a])[::2][:300]) != want  # other values
    view = np.concatenate([a, a], axis=1)[:, ::2]  # not contiguous: hashed in row blocks
    assert agreement.array_digest(view) == agreement.array_digest(np.ascontiguousarray(view))
    for index in [(0, 0, 0), (299, 6, 4), (150, 3, 2)]:  # any one element, first, last or inside
        b = a.copy()
        b[index] = np.nextafter(b[index], np.float32(2))
        assert agreement.array_digest(b) != want
    assert agreement.array_digest(a.astype(np.float64)) != want  # the dtype counts
    assert agreement.array_digest(a.reshape(300, 35)) != want  # and the shape


def test_any_array_has_a_hash():
    arrays = [np.array(3.0), np.zeros((0, 5)), np.zeros((4, 0, 3))[:, :, ::2], np.zeros(3, bool), np.array([1 + 2j]),
              np.array(["ab", "c"]), np.array([None, 1], dtype=object), np.array(["2020-01-01"], dtype="datetime64[D]"),
              np.zeros((3, 4)).T, np.zeros((2, 3), np.uint8)]
    hashes = [agreement.array_digest(a) for a in arrays]
    assert len(set(hashes)) == len(arrays) and all(len(h) == 32 for h in hashes)


def test_non_contiguous_data_is_hashed_in_bounded_pieces(monkeypatch):
    monkeypatch.setattr(agreement, "_CHUNK", 1000)
    seen = []
    real = np.ascontiguousarray
    monkeypatch.setattr(np, "ascontiguousarray", lambda a: seen.append(a.nbytes) or real(a))
    a = np.arange(40_000, dtype=np.float64).reshape(400, 100)[:, ::2]
    small = agreement.array_digest(a)
    monkeypatch.setattr(agreement, "_CHUNK", 1 << 24)
    assert small == agreement.array_digest(a) and max(seen[:-1]) <= 1000 and len(seen) > 40


def test_descriptions_are_the_same_in_every_process():
    """A set literal's order follows the string hash seed, a function's line and file do not
    count: two processes with other hash seeds describe the same objects alike."""
    code = textwrap.dedent("""
        import sys, nets
        from nets.distributed import agreement
        exec("\\n" * int(sys.argv[1]) + "def f(x, k=0.5):\\n    return x in {'a', 'b', 'c', 'd'} and k")
        cb = nets.LambdaCallback(on_epoch_end=f)
        print(agreement.digest(agreement.describe(cb)), agreement.digest(agreement.model_fields(
            nets.MultiLayerNet([4, 3, 2], dropout=0.5, batchnorm=True, rng=0))))
    """)
    outs = {subprocess.run([sys.executable, "-c", code, str(lines)], env={**os.environ, "PYTHONHASHSEED": str(seed)},
                           capture_output=True, text=True, check=True).stdout for seed, lines in ((1, 0), (2, 5))}
    assert len(outs) == 1, outs


def test_what_a_description_tells_apart():
    def same(a, b):  # what the ranks compare: the digests of the descriptions
        return agreement.digest(agreement.describe(a)) == agreement.digest(agreement.describe(b))
    assert not same(0.1, np.float32(0.1)) and not same(1, True) and not same(1, 1.0) and same(np.nan, float("nan"))
    assert not same(0.0, -0.0)
    assert not same(lambda x: x + 1, lambda x: x + 2)  # code
    assert not same(lambda x, k=1: x, lambda x, k=2: x)  # defaults
    assert not same(np.zeros(3), np.zeros(3, np.float32)) and not same(np.zeros(100), np.ones(100))
    assert same({"b": 1, "a": [2, 3]}, {"a": [2, 3], "b": 1})  # key order does not count
    loop = {}
    loop["self"] = loop
    assert "cycle" in json.dumps(agreement.describe(loop))  # no endless recursion

    class Opaque:
        __slots__ = ()

        def __repr__(self):
            return f"<at {id(self)}>"  # an address: never part of a description
    assert same(Opaque(), Opaque())


def test_the_message_says_where_a_field_differs_and_groups_the_ranks():
    a = {"class": "Dropout", "settings": {"p": 0.5, "mask": None}}
    b = {"class": "Dropout", "settings": {"p": 0.2, "mask": None}}
    digests = [{"m": "x"}, {"m": "y"}, {"m": "x"}]
    text = agreement.message(["m", "n"], [a, b, a], digests, "before training", "")
    assert text.startswith("distributed fit: the ranks disagree on m (settings.p) before training: "
                           "ranks 0, 2 have 0.5; rank 1 has 0.2 (also: n); every rank must")
    assert agreement.locate([1, {"k": [2, 3]}], [1, {"k": [2, 4]}])[0] == (1, "k", 1)
