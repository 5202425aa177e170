"""Checkpoint metadata against its schema: every field of ``__nets__`` and ``__training__``
of the wrong type, out of range, missing, unexpected or nested too deep is a CheckpointError
naming the file and the field, and no architecture may declare more numbers than the file
holds.  Resuming checks the epoch against the run and the generators against the loader."""
import copy
import json

import numpy as np
import pytest

import nets
from .ckpt_craft import model_members, npy_bytes, write_zip

NAN = float("nan")
MLP = {"type": "MultiLayerNet", "sizes": [4, 3, 2], "activation": "relu", "weight_decay": 0.0, "dropout": 0.0,
       "batchnorm": False, "init": "he"}


def with_meta(tmp_path, **changes):
    return write_zip(tmp_path / "m.npz", model_members(meta_changes=changes))


def field_error(path, field, match=""):
    return f"^{path}: field '{field}': .*{match}"


@pytest.mark.parametrize("value", ["int8", "object", "int64", "bool", "float128", "complex64", "<f4", "Float32",
                                   "float32 ", "", 5, None, [], {"a": 1}, True])
def test_the_dtype_must_be_a_floating_dtype(tmp_path, value):
    path = with_meta(tmp_path, dtype=value)
    with pytest.raises(nets.CheckpointError, match=field_error(path, "dtype", r"is not a floating dtype "
                                                               r"\(float16, float32, float64\)")):
        nets.load(path)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_floating_dtypes_load(tmp_path, dtype):
    assert nets.load(with_meta(tmp_path, dtype=dtype)).fc1.W.dtype == np.dtype(dtype)


@pytest.mark.parametrize("field,value,match", [
    ("format", 2, "not a format this version reads"), ("format", "1", "not a format"), ("format", True, "not a format"),
    ("format", 1.0, "not a format"), ("format", ..., "missing"),
    ("kind", "weights", "is not one of model, training"), ("kind", 1, "is not a string"), ("kind", ..., "missing"),
    ("kind", "training", "but the file has no __training__ member"),
    ("class", 5, "is not a string"), ("class", "x" * 1000, "more than 256"), ("class", ..., "missing"),
    ("config", ..., "missing"), ("config", 5, "is not an object"), ("config", [], "is not an object"),
    ("config", "MultiLayerNet", "is not an object"), ("dtype", ..., "missing"),
    ("evil", 1, "unexpected field"),
])
def test_meta_fields(tmp_path, field, value, match):
    path = with_meta(tmp_path, **{field: value})
    want = field_error(path, "kind" if "training" == value else field, match)
    for load in (nets.load, nets.load_state):
        with pytest.raises(nets.CheckpointError, match=want):
            load(path)


@pytest.mark.parametrize("config,field,match", [
    ({"type": 5}, "config.type", "is not a string"),
    ({"sizes": [4, 2]}, "config.type", "missing"),
    ({"type": "Nope"}, "config.type", "unknown architecture type 'Nope'"),
    ({"type": "_Activation"}, "config.type", "unknown architecture type"),
    ({"type": "x" * 5000}, "config.type", "more than 256"),
    ({**MLP, "sizes": [4, "3", 2]}, r"config.sizes\[1\]", "is not an integer"),
    ({**MLP, "sizes": [4, 3.0, 2]}, r"config.sizes\[1\]", "is not an integer"),
    ({**MLP, "sizes": [4, True, 2]}, r"config.sizes\[1\]", "is not an integer"),
    ({**MLP, "sizes": [4, None, 2]}, r"config.sizes\[1\]", "is not an integer"),
    ({**MLP, "sizes": [4, 0, 2]}, r"config.sizes\[1\]", "out of range"),
    ({**MLP, "sizes": [4, -3, 2]}, r"config.sizes\[1\]", "out of range"),
    ({**MLP, "sizes": [4, 2 ** 40, 2]}, r"config.sizes\[1\]", "out of range"),
    ({**MLP, "sizes": [4, [3], 2]}, r"config.sizes\[1\]", "is not an integer"),
    ({**MLP, "sizes": [4]}, "config.sizes", "at least two"),
    ({**MLP, "sizes": []}, "config.sizes", "at least two"),
    ({**MLP, "sizes": "4,3,2"}, "config.sizes", "is not a list"),
    ({**MLP, "sizes": [1] * 20000}, "config.sizes", "more than 10000"),
    ({k: v for k, v in MLP.items() if k != "sizes"}, "config.sizes", "missing"),
    ({**MLP, "activation": "gelu"}, "config.activation", "is not one of relu, sigmoid, tanh"),
    ({**MLP, "activation": 3}, "config.activation", "is not a string"),
    ({**MLP, "dropout": 1.0}, "config.dropout", "must be < 1.0"),
    ({**MLP, "dropout": -0.1}, "config.dropout", "must be >= 0.0"),
    ({**MLP, "dropout": NAN}, "config.dropout", "not a finite number"),
    ({**MLP, "dropout": "0.1"}, "config.dropout", "is not a number"),
    ({**MLP, "weight_decay": -1}, "config.weight_decay", "must be >= 0.0"),
    ({**MLP, "weight_decay": float("inf")}, "config.weight_decay", "not a finite number"),
    ({**MLP, "batchnorm": "yes"}, "config.batchnorm", "is not true or false"),
    ({**MLP, "batchnorm": 1}, "config.batchnorm", "is not true or false"),
    ({**MLP, "init": "glorot"}, "config.init", "is not one of"),
    ({**MLP, "init": -1}, "config.init", "must be >= 0"),
    ({**MLP, "init": None}, "config.init", "is not a number"),
    ({**MLP, "evil": 1}, "config.evil", "unexpected field"),
    ({**MLP, "sizes": [4, 100_000_000, 2]}, "config", "the architecture needs 700000002 numbers but the file's "
                                                      "model arrays hold 23"),
    ({**MLP, "sizes": [4, 3, 2], "batchnorm": True}, "config", "needs 35 numbers .* hold 23"),
    ({"type": "Affine", "in_size": 10 ** 8, "out_size": 10 ** 8}, "config", "needs 10000000100000000 numbers"),
    ({"type": "Affine", "in_size": 4}, "config.out_size", "missing"),
    ({"type": "Affine", "in_size": 4, "out_size": 3, "init": "x"}, "config.init", "is not one of"),
    ({"type": "BatchNorm", "size": 10 ** 9}, "config", "needs 4000000000 numbers"),
    ({"type": "BatchNorm", "size": 3, "eps": 0}, "config.eps", "must be > 0.0"),
    ({"type": "BatchNorm", "size": 3, "momentum": 2}, "config.momentum", "must be <= 1.0"),
    ({"type": "Dropout", "p": 1}, "config.p", "must be < 1.0"),
    ({"type": "ReLU", "inplace": True}, "config.inplace", "unexpected field"),
    ({"type": "TwoLayerNet", "input_size": 4, "hidden_size": 10 ** 9, "output_size": 2}, "config",
     "needs 7000000002 numbers"),
    ({"type": "TwoLayerNet", "input_size": 4, "hidden_size": 3, "output_size": 2, "weight_init_std": "big"},
     "config.weight_init_std", "is not one of"),
    ({"type": "Sequential", "layers": 5}, "config.layers", "is not a list"),
    ({"type": "Sequential", "layers": [5]}, r"config.layers\[0\]", "is not an object"),
    ({"type": "Sequential", "layers": [{"type": "Affine", "in_size": 4, "out_size": 10 ** 9}]}, "config",
     "needs 5000000000 numbers"),
    ({"type": "Sequential", "layers": [{"type": "Sequential", "layers": [{"type": "BatchNorm", "size": "3"}]}]},
     r"config.layers\[0\].layers\[0\].size", "is not an integer"),
])
def test_config_fields(tmp_path, config, field, match):
    path = with_meta(tmp_path, config=config)
    with pytest.raises(nets.CheckpointError, match=field_error(path, field, match)):
        nets.load(path)


def test_a_sequential_of_the_saved_layers_loads(tmp_path):
    model = nets.Sequential(nets.Affine(4, 3, rng=0), nets.BatchNorm(3), nets.Tanh(), nets.Dropout(0.2),
                            nets.Affine(3, 2, init=0.1, rng=1), nets.SoftmaxWithLoss())
    loaded = nets.load(write_zip(tmp_path / "s.npz", model_members(model)))
    assert loaded.config() == model.config()


def meta_text(tmp_path, text, member="__nets__"):
    members = [m for m in model_members() if m[0] != f"{member}.npy"] + [(f"{member}.npy", npy_bytes(np.array(text)))]
    return write_zip(tmp_path / "m.npz", members)


@pytest.mark.parametrize("text,match", [
    ("[" * 100_000 + "]" * 100_000, "JSON nested 100000 levels deep, more than 64"),
    ('{"format": 1, "config": ' + '{"a": ' * 5000 + "1" + "}" * 5000 + "}", "JSON nested 5001 levels deep"),
    ('{"format": 1, "format": 1}', "key 'format' appears twice"),
    ('{"format": ' + "1" * 5000 + "}", "corrupt metadata in '__nets__'.*digits"),
    ('{"format": 1', "corrupt metadata in '__nets__'"),
    ("", "corrupt metadata in '__nets__'"),
    ("not json", "corrupt metadata in '__nets__'"),
    ("[]", "is not an object"),
    ("null", "is not an object"),
    ('"text"', "is not an object"),
])
def test_json_that_is_too_deep_or_not_json(tmp_path, text, match):
    path = meta_text(tmp_path, text)
    with pytest.raises(nets.CheckpointError, match=match) as info:
        nets.load(path)
    assert str(info.value).startswith(f"{path}: ")


def test_brackets_inside_strings_do_not_count_as_nesting(tmp_path):
    model = nets.MultiLayerNet([4, 3, 2], rng=0)
    members = model_members(model, meta_changes={"class": "[[[[" * 50})
    assert nets.load(write_zip(tmp_path / "m.npz", members)).sizes == [4, 3, 2]


# --- __training__ -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def saved_run(tmp_path_factory, digits):
    """A checkpoint of 2 epochs with dropout (module generators) and Adam, and its parts."""
    (x, t), _ = digits
    path = tmp_path_factory.mktemp("run") / "ck.npz"
    model = nets.MultiLayerNet([64, 8, 10], rng=0, dropout=0.1)
    nets.fit(model, nets.optim.Adam(model.parameters()), (x[:200], t[:200]), epochs=2, batch_size=50, seed=0,
             checkpoint=path, verbose=False, progress=False)
    with np.load(path, allow_pickle=False) as z:
        return path, {k: z[k] for k in z.files}, json.loads(str(z["__training__"]))


def rewrite(tmp_path, saved_run, change):
    """The saved run's checkpoint with ``change(training_dict)`` applied."""
    _, arrays, training = saved_run
    training = copy.deepcopy(training)
    change(training)
    members = [(f"{k}.npy", npy_bytes(v)) for k, v in arrays.items() if k != "__training__"]
    members.append(("__training__.npy", npy_bytes(np.array(json.dumps(training)))))
    return write_zip(tmp_path / "ck.npz", members)


def setter(path, value):
    def change(training):
        node = training
        for key in path[:-1]:
            node = node[key]
        if value is ...:
            del node[path[-1]]
        else:
            node[path[-1]] = value
    return change


@pytest.mark.parametrize("path,value,match", [
    (("epoch",), -1, "out of range"), (("epoch",), True, "is not an integer"), (("epoch",), 1.5, "is not an integer"),
    (("epoch",), "2", "is not an integer"), (("epoch",), None, "is not an integer"),
    (("epoch",), 10 ** 30, "out of range"),
    (("epoch",), ..., "missing"), (("evil",), 1, "unexpected field"),
    (("rng",), 5, "is not an object"), (("rng",), ..., "missing"), (("rng", "evil"), {}, "unexpected field"),
    (("rng", "loader"), 5, "is not an object"), (("rng", "loader"), {}, "missing"),
    (("rng", "loader", "bit_generator"), "MT19937", "is not one of PCG64, PCG64DXSM"),
    (("rng", "loader", "bit_generator"), 7, "is not a string"),
    (("rng", "loader", "state"), [1, 2], "is not an object"),
    (("rng", "loader", "state", "state"), -1, "out of range"),
    (("rng", "loader", "state", "state"), 2 ** 128, "out of range"),
    (("rng", "loader", "state", "state"), 1.5, "is not an integer"),
    (("rng", "loader", "state", "inc"), 2, "must be odd"),
    (("rng", "loader", "state", "inc"), ..., "missing"),
    (("rng", "loader", "has_uint32"), 2, "out of range"),
    (("rng", "loader", "uinteger"), 2 ** 32, "out of range"),
    (("rng", "loader", "extra"), 1, "unexpected field"),
    (("rng", "modules"), [], "is not an object"),
    (("rng", "modules", "drop1"), {}, "missing"),
    (("rng", "modules", "drop1", "state", "state"), -5, "out of range"),
    (("history",), 5, "is not an object"), (("history",), ..., "missing"),
    (("history", "train_loss"), "1,2", "is not a list"),
    (("history", "train_loss"), ["a", 1], "is not a finite number"),
    (("history", "train_loss"), [True, 1], "is not a finite number"),
    (("history", "train_loss"), [float("inf"), 1], "is not a finite number"),
    (("history", "train_loss"), [None, 1], "is not a finite number"),
    (("history", "train_loss"), [1.0], "its lists have different lengths"),
    (("history", "bogus"), [], "unexpected field"),
    (("optimizer",), 5, "is not an object"), (("optimizer", "type"), 5, "is not a string"),
    (("optimizer", "t"), -1, "out of range"), (("optimizer", "t"), 0.5, "is not an integer"),
    (("optimizer", "n_params"), -1, "out of range"), (("optimizer", "n_params"), ..., "missing"),
    (("optimizer", "hyper"), [], "is not an object"),
    (("optimizer", "hyper", "lr"), -1, "must be > 0.0"), (("optimizer", "hyper", "lr"), 0, "must be > 0.0"),
    (("optimizer", "hyper", "lr"), NAN, "not a finite number"), (("optimizer", "hyper", "lr"), "0.1", "not a number"),
    (("optimizer", "hyper", "beta1"), 1.0, "must be < 1.0"), (("optimizer", "hyper", "eps"), -1e-8, "must be >= 0"),
    (("optimizer", "hyper", "weight_decay"), float("-inf"), "not a finite number"),
    (("optimizer", "hyper", "__class__"), 1, "is not a hyper-parameter name"),
])
def test_training_fields(tmp_path, saved_run, path, value, match):
    ck = rewrite(tmp_path, saved_run, setter(path, value))
    with pytest.raises(nets.CheckpointError, match=f"^{ck}: field '[^']*': .*{match}"):
        nets.load_checkpoint(ck)


def test_optimizer_arrays_must_fit_the_optimizer_field(tmp_path, saved_run):
    ck = rewrite(tmp_path, saved_run, setter(("optimizer", "n_params"), 1))
    with pytest.raises(nets.CheckpointError, match=r"member 'optim/1.m.npy': parameter index 1 but field "
                                                   "'optimizer.n_params' is 1"):
        nets.load_checkpoint(ck)
    ck = rewrite(tmp_path, saved_run, setter(("optimizer",), None))
    with pytest.raises(nets.CheckpointError, match="optimizer state without an 'optimizer' field"):
        nets.load_checkpoint(ck)
    _, arrays, training = saved_run
    members = [(f"{k}.npy", npy_bytes(v)) for k, v in arrays.items()]
    for bad, match in [("optim/0.m.npy", "optimizer state of dtype int64"), ("optim/x.m.npy", "unexpected"),
                       ("optim/01.m.npy", "unexpected"), ("optim/0..npy", "unexpected")]:
        extra = [m for m in members if m[0] != bad] + [(bad, npy_bytes(np.zeros((64, 8), dtype=np.int64)))]
        with pytest.raises(nets.CheckpointError, match=match):
            nets.load_checkpoint(write_zip(tmp_path / "o.npz", extra))


def test_nan_in_the_history_is_kept(tmp_path, saved_run):
    def with_test_metrics(training):
        training["history"].update(test_loss=[NAN, 1.0], test_acc=[0.5, 0.5])
    ck = rewrite(tmp_path, saved_run, with_test_metrics)
    history = nets.History.from_dict(nets.load_checkpoint(ck)["history"])
    assert np.isnan(history.test_loss[0]) and history.test_acc == [0.5, 0.5]


# --- resuming --------------------------------------------------------------------------------

def resume(ck, digits, epochs=3, model=None):
    (x, t), _ = digits
    model = model or nets.MultiLayerNet([64, 8, 10], rng=0, dropout=0.1)
    return nets.fit(model, nets.optim.Adam(model.parameters()), (x[:200], t[:200]), epochs=epochs, batch_size=50,
                    seed=0, checkpoint=ck, resume=True, verbose=False, progress=False)


def test_a_checkpoint_after_more_epochs_than_asked_is_refused(tmp_path, saved_run, digits):
    ck = rewrite(tmp_path, saved_run, lambda tr: None)
    before = ck.read_bytes()
    with pytest.raises(nets.CheckpointError, match=f"^{ck}: saved after epoch 2, but this run asks for 1 epochs"):
        resume(ck, digits, epochs=1)
    assert ck.read_bytes() == before  # nothing trained, nothing written
    assert len(resume(ck, digits, epochs=2)) == 2  # exactly as many: nothing more to train
    assert ck.read_bytes() == before
    assert len(resume(ck, digits, epochs=3)) == 3


@pytest.mark.parametrize("epoch", [0, 1, 3, 5])
def test_a_history_that_does_not_match_the_epoch_is_refused(tmp_path, saved_run, digits, epoch):
    ck = rewrite(tmp_path, saved_run, setter(("epoch",), epoch))
    with pytest.raises(nets.CheckpointError, match=f"^{ck}: "):
        resume(ck, digits, epochs=6)


def test_generator_states_of_another_kind_are_refused_before_anything_changes(tmp_path, saved_run, digits):
    def dxsm(training):
        training["rng"]["loader"]["bit_generator"] = "PCG64DXSM"
    ck = rewrite(tmp_path, saved_run, dxsm)
    model = nets.MultiLayerNet([64, 8, 10], rng=5, dropout=0.1)
    weights = model.fc1.W.data.copy()
    with pytest.raises(nets.CheckpointError, match=f"^{ck}: field 'rng.loader': does not fit this run's PCG64"):
        resume(ck, digits, model=model)
    np.testing.assert_array_equal(model.fc1.W.data, weights)


def test_a_checkpoint_path_that_is_a_folder_fails_before_training(tmp_path, digits):
    (x, t), _ = digits
    (tmp_path / "ck.npz").mkdir()
    model = nets.MultiLayerNet([64, 8, 10], rng=0)
    opt = nets.optim.SGD(model.parameters(), lr=0.1)
    for resume_ in (False, True):
        with pytest.raises(nets.CheckpointError, match="ck.npz: is a folder"):
            nets.fit(model, opt, (x, t), epochs=1, checkpoint=tmp_path / "ck.npz", resume=resume_, verbose=False)
    assert opt.t == 0


def test_save_refuses_what_load_would_refuse(tmp_path):
    model = nets.MultiLayerNet([4, 3, 2])
    for epoch, match in [(-1, "field 'epoch': -1 is out of range"), (True, "field 'epoch': true is not an integer"),
                         (1.5, "is not an integer")]:
        with pytest.raises(nets.CheckpointError, match=match):
            nets.save_checkpoint(tmp_path / "c.npz", model, epoch=epoch)
    with pytest.raises(nets.CheckpointError, match="field 'rng.loader.state': missing"):
        nets.save_checkpoint(tmp_path / "c.npz", model, rng_states={"loader": {"bit_generator": "MT19937"}})
    assert not (tmp_path / "c.npz").exists()
