"""The callbacks' part of a training checkpoint, against its schema: the ``callbacks`` field of
``__training__`` (type and JSON state, arrays as placeholders for ``callback/<i>.<j>`` members)
and history logs beyond the original five, each problem a CheckpointError naming the field."""
import copy
import json

import numpy as np
import pytest

import nets
from .ckpt_craft import npy_bytes, write_zip


@pytest.fixture(scope="module")
def saved(tmp_path_factory, digits):
    """A checkpoint of 2 epochs with early stopping (best weights) and a cosine schedule."""
    (x, t), (xt, tt) = digits
    path = tmp_path_factory.mktemp("run") / "ck.npz"
    model = nets.MultiLayerNet([64, 8, 10], rng=0)
    nets.fit(model, nets.optim.Adam(model.parameters()), (x[:200], t[:200]), val=(xt[:50], tt[:50]), epochs=2,
             batch_size=50, seed=0, checkpoint=path, verbose=False,
             callbacks=[nets.EarlyStopping(verbose=False), nets.CosineAnnealing()])
    with np.load(path, allow_pickle=False) as z:
        return path, {k: z[k] for k in z.files}, json.loads(str(z["__training__"]))


def rewrite(tmp_path, saved, change=None, members_change=None):
    _, arrays, training = saved
    training = copy.deepcopy(training)
    if change:
        change(training)
    arrays = dict(arrays)
    if members_change:
        members_change(arrays)
    members = [(f"{k}.npy", npy_bytes(v)) for k, v in arrays.items() if k != "__training__"]
    members.append(("__training__.npy", npy_bytes(np.array(json.dumps(training)))))
    return write_zip(tmp_path / "ck.npz", members)


def test_the_checkpoint_holds_the_callbacks_and_every_log(saved):
    path, arrays, training = saved
    kinds = [c["type"] for c in training["callbacks"]]
    assert kinds == ["EarlyStopping", "CosineAnnealing"]
    weights = training["callbacks"][0]["state"]["best_weights"]
    assert set(weights) == {"fc1.W", "fc1.b", "fc2.W", "fc2.b"} and weights["fc1.W"] == {"__array__": 0}
    assert arrays["callback/0.0"].shape == (64, 8)
    assert training["callbacks"][1]["state"] == {"base_lr": 0.001, "epochs": 2}
    assert set(training["history"]) >= {"train_loss", "val_loss", "val_acc", "lr", "seconds"}
    ck = nets.load_checkpoint(path)
    kind, state = ck["callbacks"][0]
    assert kind == "EarlyStopping" and state["best_weights"]["fc1.W"].shape == (64, 8)


def field(path, name, match):
    return f"^{path}: field '{name}': .*{match}"


@pytest.mark.parametrize("change,name,match", [
    (lambda tr: tr.update(callbacks=5), "callbacks", "is not a list"),
    (lambda tr: tr["callbacks"].append(7), r"callbacks\[2\]", "is not an object"),
    (lambda tr: tr["callbacks"][0].pop("type"), r"callbacks\[0\].type", "missing"),
    (lambda tr: tr["callbacks"][0].update(type=3), r"callbacks\[0\].type", "is not a string"),
    (lambda tr: tr["callbacks"][0].update(extra=1), r"callbacks\[0\].extra", "unexpected field"),
    (lambda tr: tr["callbacks"][1].update(state=[1]), r"callbacks\[1\].state", "is not an object"),
    (lambda tr: tr["callbacks"][0]["state"]["best_weights"].update({"fc1.W": {"__array__": -1}}),
     r"callbacks\[0\].state.best_weights.fc1.W.__array__", "out of range"),
    (lambda tr: tr["callbacks"][0]["state"]["best_weights"].update({"fc1.W": {"__array__": 0, "x": 1}}),
     r"callbacks\[0\].state.best_weights.fc1.W", "placeholder has other fields"),
    (lambda tr: tr["callbacks"][0]["state"].update(best="x" * 5000), r"callbacks\[0\].state.best", "more than 4096"),
    (lambda tr: tr["history"].update({"Val Loss": [1.0, 2.0]}), "history.Val Loss", "unexpected field"),
    (lambda tr: tr["history"].update(val_f1=[1.0]), "history", "its lists have different lengths"),
    (lambda tr: tr["history"].update(val_f1=["a", 1.0]), r"history.val_f1\[0\]", "is not a finite number"),
])
def test_bad_callback_and_history_fields_are_named(tmp_path, saved, change, name, match):
    ck = rewrite(tmp_path, saved, change)
    with pytest.raises(nets.CheckpointError, match=field(ck, name, match)):
        nets.load_checkpoint(ck)


def test_callback_arrays_and_placeholders_must_match(tmp_path, saved):
    ck = rewrite(tmp_path, saved, members_change=lambda a: a.pop("callback/0.0"))
    with pytest.raises(nets.CheckpointError, match=rf"^{ck}: field 'callback/0': names the array 0, but the file has "
                                                   r"no member 'callback/0.0.npy'"):
        nets.load_checkpoint(ck)
    ck = rewrite(tmp_path, saved, members_change=lambda a: a.update({"callback/0.9": np.zeros(2)}))
    with pytest.raises(nets.CheckpointError, match=r"member 'callback/0.9.npy': no callback state names it"):
        nets.load_checkpoint(ck)
    ck = rewrite(tmp_path, saved, members_change=lambda a: a.update({"callback/5.0": np.zeros(2)}))
    with pytest.raises(nets.CheckpointError, match=r"member 'callback/5.0.npy': callback index 5 but field "
                                                   r"'callbacks' lists 2"):
        nets.load_checkpoint(ck)
    ck = rewrite(tmp_path, saved, members_change=lambda a: a.update({"callback/x.0": np.zeros(2)}))
    with pytest.raises(nets.CheckpointError, match=r"member 'callback/x.0.npy': unexpected"):
        nets.load_checkpoint(ck)


def test_a_state_a_callback_refuses_names_the_file(tmp_path, saved, digits):
    ck = rewrite(tmp_path, saved, lambda tr: tr["callbacks"][0]["state"].update(wait=-1))
    (x, t), _ = digits
    model = nets.MultiLayerNet([64, 8, 10], rng=0)
    with pytest.raises(nets.CheckpointError, match=rf"^{ck}: field 'callbacks': EarlyStopping's saved state does not "
                                                   "fit: wait must be a non-negative integer"):
        nets.fit(model, nets.optim.Adam(model.parameters()), (x[:200], t[:200]), val=(x[:50], t[:50]), epochs=3,
                 checkpoint=ck, resume=True, verbose=False,
                 callbacks=[nets.EarlyStopping(verbose=False), nets.CosineAnnealing()])


def test_old_checkpoints_without_callbacks_still_load(tmp_path, saved):
    def old(training):
        del training["callbacks"]
        training["history"] = {k: v for k, v in training["history"].items()
                               if k in ("train_loss", "train_acc", "test_loss", "test_acc", "seconds")}
    ck = rewrite(tmp_path, saved, old, members_change=lambda a: [a.pop(k) for k in list(a) if k.startswith("callback/")])
    assert nets.load_checkpoint(ck)["callbacks"] == []
