"""``model.summary``, saving and loading any Module subclass (its constructor's arguments
recorded), errors that name the layer they come from, and ``History.plot`` without
matplotlib (issue 24)."""
import copy
import pickle
import sys

import numpy as np
import pytest

import autograd_np as ag
import nets
from nets.layers import ConfigError, Summary


# --- summary ---------------------------------------------------------------------------------------

def test_summary_of_a_network_as_a_table():
    model = nets.MultiLayerNet([64, 32, 10], batchnorm=True, rng=0)
    s = model.summary((4, 64))
    assert isinstance(s, Summary) and s.output_shape == "(4, 10)" and s.total_params == model.num_parameters()
    assert [(r.name, r.kind, r.output_shape, r.params) for r in s.rows] == [
        ("", "MultiLayerNet", "(4, 10)", 0), ("fc1", "Affine", "(4, 32)", 64 * 32 + 32),
        ("bn1", "BatchNorm", "(4, 32)", 64), ("act1", "ReLU", "(4, 32)", 0), ("fc2", "Affine", "(4, 10)", 330)]
    assert s.buffer_elements == 64 and s.nbytes == 4 * (model.num_parameters() + 64)
    text = str(s)
    assert repr(s) == text and text.splitlines()[0] == "MultiLayerNet summary: input (4, 64) float32"
    assert "  fc1 (Affine)" in text and "2,080" in text and "Total params: 2,474" in text
    assert "Buffers (not trained): 64" in text and "Size: 9.9 KB" in text
    html = s._repr_html_()
    assert html.count("<tr>") == 6 and "class='nets-summary'" in html and "fc1 (Affine)" in html


def test_summary_output_shapes_are_those_of_a_forward():
    """Every row's shape is the module's output on that input, recorded by hooking each call."""
    model = nets.Sequential(nets.Conv2d(1, 4, 3, pad=1, rng=0), nets.ReLU(), nets.MaxPool2d(2), nets.Flatten(),
                            nets.Linear(64, 10, rng=0), nets.SoftmaxWithLoss())
    s = model.summary([2, 1, 8, 8])
    x = np.zeros((2, 1, 8, 8), np.float32)
    shapes = []
    for layer in model.layers[:-1]:
        x = layer(x)
        shapes.append(str(x.shape))
    assert [r.output_shape for r in s.rows] == [shapes[-1], *shapes, "--"]  # the loss is not called by forward
    assert [r.depth for r in s.rows] == [0, 1, 1, 1, 1, 1, 1] and s.rows[5].label == "4 (Linear)"


class CalledTwice(nets.Module):
    def __init__(self):
        super().__init__()
        self.cell = nets.Linear(3, 3, rng=0)
        self.head = nets.Sequential(nets.Linear(3, 2, rng=1))
        self.unused = nets.Tanh()

    def forward(self, x, steps=4):
        for _ in range(steps):
            x = self.cell(x)
        return self.head(x), x


def test_summary_counts_calls_nested_modules_and_tuples():
    s = CalledTwice().summary((5, 3))
    rows = {r.name: r for r in s.rows}
    assert rows["cell"].calls == 4 and rows["cell"].output_shape == "(5, 3)" and "x4 calls" in str(s)
    assert rows["head.0"].depth == 2 and rows["head.0"].params == 8 and rows["head"].params == 0
    assert rows["unused"].output_shape == "--" and s.output_shape == "((5, 2), (5, 3))"
    assert s.total_params == 12 + 8


def test_summary_rows_of_a_list_attribute_sit_under_the_model():
    s = RecordedNet([3, 4, 2]).summary((1, 3))
    assert [(r.label, r.depth) for r in s.rows] == [("RecordedNet", 0), ("layers.0 (Linear)", 1),
                                                    ("layers.1 (Linear)", 1)]


def test_summary_counts_a_shared_parameter_once():
    model = CalledTwice()
    model.tied = nets.Linear(3, 3, rng=2)
    model.tied.weight = model.cell.weight  # tied weights: counted on the first row only
    model.other = model.cell  # the same module twice: listed once
    s = model.summary((1, 3))
    rows = {r.name: r for r in s.rows}
    assert s.total_params == model.num_parameters() == 12 + 8 + 3 and rows["tied"].params == 3
    assert "other" not in rows


class TwoInputs(nets.Module):
    def __init__(self):
        super().__init__()
        self.table = ag.Tensor(np.random.default_rng(0).standard_normal((10, 4)), requires_grad=True)
        self.fc = nets.Linear(4, 2)

    def forward(self, ids, weights):
        return self.fc(ag.embedding(ids, self.table) * weights[..., None])


def test_summary_with_several_inputs_and_integer_ids():
    model = TwoInputs()
    with pytest.raises(ValueError, match="must be of integer"):  # floats are no token ids
        model.summary([(2, 5), (2, 5)])
    s = model.summary([(2, 5), (2, 5)], dtype=np.int64)
    assert s.output_shape == "(2, 5, 2)" and str(s).startswith("TwoInputs summary: inputs (2, 5), (2, 5) int64")


def test_summary_changes_nothing():
    model = nets.MultiLayerNet([8, 6, 3], dropout=0.5, batchnorm=True, rng=0)
    model.bn1.eval()  # a mixed mode is restored as it was
    before = model.state_dict()
    model.summary((4, 8))
    assert model.training and model.drop1.training and not model.bn1.training
    assert all(np.array_equal(before[k], v) for k, v in model.state_dict().items())  # no statistics moved
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize("shape,error", [((-1, 3), ValueError), ((2, 1.5), ValueError), ((True, 3), TypeError),
                                         ("2,3", TypeError), (None, TypeError), ((), ValueError),
                                         ((10 ** 9, 10 ** 9), ValueError), ([(2, 3), (2, -3)], ValueError)])
def test_summary_refuses_a_bad_input_shape(shape, error):
    with pytest.raises(error, match=r"summary: input_shape"):
        nets.MultiLayerNet([3, 2]).summary(shape)


@pytest.mark.parametrize("dtype", ["nonsense", np.complex128, object, np.str_])
def test_summary_refuses_a_bad_dtype(dtype):
    with pytest.raises(TypeError, match="summary: dtype"):
        nets.MultiLayerNet([3, 2]).summary((1, 3), dtype=dtype)


def test_summary_of_a_wrong_input_names_the_layer():
    with pytest.raises(ValueError, match=r"^fc1 \(Affine\): input \(1, 5\)"):
        nets.MultiLayerNet([3, 2]).summary((1, 5))


# --- saving any module -------------------------------------------------------------------------------

class RecordedNet(nets.Module):
    def __init__(self, sizes, act="relu", *extra, scale=1.0, dtype=np.float32, rng=None, **options):
        super().__init__()
        self.layers = [nets.Linear(a, b, rng=rng, dtype=dtype) for a, b in zip(sizes, sizes[1:])]
        self.act, self.extra, self.scale, self.options = act, extra, scale, options

    def forward(self, x):
        for layer in self.layers:
            x = nets.layers.activation(self.act)(layer(x))
        return x * self.scale


class ArgWrapper(nets.Module):
    def __init__(self, inner, copies=1):
        super().__init__()
        self.inner, self.copies = inner, copies

    def forward(self, x):
        return self.inner(x) * self.copies


def roundtrip(model, tmp_path, x):
    model.save(tmp_path / "m.npz")
    back = nets.load(tmp_path / "m.npz")
    assert type(back) is type(model) and back.config() == model.config()
    np.testing.assert_array_equal(back.predict(x).data, model.predict(x).data)
    return back


@pytest.mark.parametrize("make,config", [
    (lambda: RecordedNet([3, 4, 2]), {"sizes": [3, 4, 2]}),
    (lambda: RecordedNet((3, 2), "tanh", scale=np.float32(0.5)), {"sizes": [3, 2], "act": "tanh", "scale": 0.5}),
    (lambda: RecordedNet([3, 2], "sigmoid", 7, "x", dtype=np.float64), {"*args": [[3, 2], "sigmoid", 7, "x"],
                                                                 "dtype": "float64"}),
    (lambda: RecordedNet([np.int64(3), 2], rng=np.random.default_rng(0), note={"a": [1, None]}, flag=np.bool_(True)),
     {"sizes": [3, 2], "rng": None, "note": {"a": [1, None]}, "flag": True}),
    (lambda: RecordedNet([3, 2], rng=5, dtype="float64"), {"sizes": [3, 2], "rng": 5, "dtype": "float64"}),
])
def test_a_custom_module_saves_and_loads(make, config, tmp_path):
    model = make()
    assert model.config() == {"type": "RecordedNet", **config}
    back = roundtrip(model, tmp_path, np.ones((2, 3), np.float32))
    assert back.dtype == model.dtype


def test_modules_given_as_arguments_are_rebuilt(tmp_path):
    model = ArgWrapper(ArgWrapper(nets.Sequential(nets.Linear(3, 2, rng=0), nets.GELU()), copies=2), copies=3)
    back = roundtrip(model, tmp_path, np.ones((1, 3), np.float32))
    assert type(back.inner.inner) is nets.Sequential and back.inner.copies == 2


def test_a_subclass_of_a_nets_model_loads_as_itself(tmp_path):
    class Doubled(nets.MultiLayerNet):
        def forward(self, x):
            return super().forward(x) * 2

    class Stack(nets.Sequential):
        pass
    roundtrip(Doubled([3, 4, 2], rng=0, dtype=np.float64), tmp_path, np.ones((2, 3)))
    back = roundtrip(Stack(nets.Linear(3, 2), nets.ReLU()), tmp_path, np.ones((2, 3), np.float32))
    assert [type(layer) for layer in back] == [nets.Linear, nets.ReLU]


def test_a_dataclass_module_saves_and_loads(tmp_path):
    import dataclasses

    @dataclasses.dataclass(eq=False)
    class DataclassNet(nets.Module):
        size: int = 3
        act: str = "tanh"

        def __post_init__(self):
            super().__init__()
            self.fc = nets.Linear(self.size, 2, rng=0)

        def forward(self, x):
            return nets.layers.activation(self.act)(self.fc(x))
    model = DataclassNet(4)
    assert model.config() == {"type": "DataclassNet", "size": 4}
    roundtrip(model, tmp_path, np.ones((1, 4), np.float32))


def test_a_module_class_shows_its_constructors_signature():
    import inspect

    class Plain(nets.Module):
        def forward(self, x):
            return x
    assert str(inspect.signature(nets.Module)) == str(inspect.signature(Plain)) == "()"
    assert str(inspect.signature(RecordedNet)).startswith("(sizes, act='relu', *extra")


def test_the_record_is_a_snapshot_and_survives_copies():
    sizes = [3, 2]
    model = RecordedNet(sizes)
    sizes.append(9)
    assert model.config()["sizes"] == [3, 2]
    assert copy.deepcopy(model).config() == model.config() == pickle.loads(pickle.dumps(model)).config()


class ArgHolder(nets.Module):
    def __init__(self, value=None, **more):
        super().__init__()
        self.value = value


@pytest.mark.parametrize("value,words", [
    (np.ones(3), "argument 'value' is a numpy.ndarray"), (lambda x: x, "argument 'value' is a builtins.function"),
    (ag.Tensor(np.ones(2)), "argument 'value' is a autograd_np"), ([1, object()], r"argument 'value'\[1\]"),
    ({1: "a"}, "a dict with the key 1"), ({"__module_config__": 1}, "'__module_config__' is reserved"),
    (ArgHolder(np.ones(2)), "argument 'value' is a module that cannot be described"), (open, "builtin_function"),
])
def test_an_argument_json_cannot_hold_is_refused_at_save_time(value, words, tmp_path):
    model = ArgHolder(value)
    with pytest.raises(ConfigError, match=r"ArgHolder.save\('.*h.npz'\): ArgHolder.config\(\): nets.load could not "
                                          rf"rebuild it: .*{words}.*define config\(\)"):
        model.save(tmp_path / "h.npz")
    assert not (tmp_path / "h.npz").exists()
    assert isinstance(ConfigError(), NotImplementedError)  # (checkpoints during fit still save the weights)


def test_a_bad_value_among_star_args_is_named():
    with pytest.raises(ConfigError, match=r"argument \*extra\[1\] is a numpy.ndarray"):
        RecordedNet([3, 2], "relu", 7, np.ones(2)).config()
    with pytest.raises(ConfigError, match=r"argument 'sizes' is a numpy.ndarray"):
        RecordedNet(np.array([3, 2]), "relu", 7).config()


def test_an_argument_named_type_is_refused():
    with pytest.raises(ConfigError, match="an argument named 'type'"):
        ArgHolder(type=3).config()


def test_a_class_named_like_one_of_nets_is_refused_at_save_time(tmp_path):
    class Linear(nets.Module):
        def forward(self, x):
            return x
    with pytest.raises(ConfigError, match="'Linear' is nets's own nets.layers.linear.Linear: rename your class"):
        Linear().save(tmp_path / "l.npz")
    assert nets.layers.REGISTRY["Linear"] is nets.Linear


def test_a_class_redefined_under_the_same_name(tmp_path):
    def define(scale):
        class Twice(nets.Module):
            def forward(self, x):
                return x * scale
        return Twice
    first, second = define(1), define(2)
    with pytest.raises(ConfigError, match="'Twice' now names .*defined after this one"):
        first().save(tmp_path / "t.npz")
    second().save(tmp_path / "t.npz")
    assert type(nets.load(tmp_path / "t.npz")) is second


def test_fit_checkpoints_still_save_a_module_that_cannot_be_described(tmp_path):
    model = ArgHolder(np.ones(1))
    model.fc = nets.Linear(3, 2, rng=0)
    model.forward = lambda x: model.fc(x)
    x, t = np.ones((8, 3), np.float32), np.arange(8) % 2
    nets.fit(model, nets.optim.SGD(model, lr=0.1), (x, t), epochs=1, batch_size=4, verbose=False,
             checkpoint=tmp_path / "c.npz")
    assert nets.load_checkpoint(tmp_path / "c.npz")["config"] is None
    with pytest.raises(nets.CheckpointError, match="holds no architecture"):
        nets.load(tmp_path / "c.npz")
    fresh = ArgHolder(np.ones(1))
    fresh.fc = nets.Linear(3, 2, rng=1)
    fresh.load_state_dict(nets.load_state(tmp_path / "c.npz"))  # the weights load into one built by hand
    np.testing.assert_array_equal(fresh.fc.weight.data, model.fc.weight.data)


# --- errors that name the layer ------------------------------------------------------------------

def test_the_issues_example():
    with pytest.raises(ag.ShapeError) as err:
        nets.MultiLayerNet([64, 32, 10]).loss(np.ones((5, 784)), np.zeros(5, int))
    assert str(err.value).startswith("fc1 (Affine): input (5, 784): affine: x (5, 784), W (64, 32)")


class Deep(nets.Module):
    def __init__(self):
        super().__init__()
        self.block = nets.Sequential(nets.Linear(4, 3), nets.Sequential(nets.ReLU(), nets.Linear(5, 2)))

    def forward(self, x):
        return self.block(x)


def test_the_innermost_layer_is_named_by_its_full_path_once():
    with pytest.raises(ValueError) as err:
        Deep()(np.ones((2, 4), np.float32))
    message = str(err.value)
    assert message.startswith("block.1.1 (Linear): input (2, 3): ") and message.count("(Linear)") == 1


class Picky(nets.Module):
    def forward(self, x, mask):
        if mask is None:
            raise KeyError("mask")
        raise ag.AnomalyError("boom", "op", "forward", [], "here")


class HoldsPicky(nets.Module):
    def __init__(self):
        super().__init__()
        self.picky = Picky()

    def forward(self, x, mask=None):
        if x.ndim == 3:
            raise RuntimeError("the model's own error")
        return self.picky(x, mask)


def test_what_cannot_take_a_prefix_and_the_models_own_errors():
    with pytest.raises(KeyError) as err:  # KeyError's text is the repr of its key: a note instead
        HoldsPicky()(np.ones(3), None)
    assert err.value.args == ("mask",) and "(raised in picky (Picky), inputs (3,), NoneType)" in err.value.__notes__
    with pytest.raises(ag.AnomalyError) as err:
        HoldsPicky()(np.ones((2, 2)), np.ones(2))
    assert str(err.value) == "picky (Picky): inputs (2, 2), (2,): boom" and err.value.phase == "forward"
    with pytest.raises(RuntimeError) as err:  # the model itself has no path: its errors are left as raised
        HoldsPicky()(np.ones((1, 1, 1)))
    assert str(err.value) == "the model's own error" and not getattr(err.value, "__notes__", [])
    with pytest.raises(ValueError, match=r"^affine: x \(3, 5\)"):
        nets.Affine(4, 2)(np.ones((3, 5)))


def test_an_error_caught_inside_the_model_is_left_as_it_was_raised():
    class Fallback(nets.Module):
        def __init__(self):
            super().__init__()
            self.wide, self.narrow = nets.Linear(5, 2), nets.Linear(4, 2)

        def forward(self, x):
            try:
                return self.wide(x)
            except ValueError as exc:
                self.seen = str(exc)
                return self.narrow(x)
    model = Fallback()
    assert model(np.ones((1, 4), np.float32)).shape == (1, 2) and model.seen.startswith("wide (Linear): input (1, 4)")


# --- History.plot without matplotlib ----------------------------------------------------------------

def test_plot_without_matplotlib_says_what_to_install(monkeypatch, tmp_path):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib raises ModuleNotFoundError
    history = nets.History(train_loss=[1.0, 0.5])
    for call in (lambda: history.plot(), lambda: history.plot(tmp_path / "c.png"), lambda: nets.plot_history(history)):
        with pytest.raises(ModuleNotFoundError, match=r"matplotlib, which is not installed: pip install matplotlib"):
            call()
    assert list(tmp_path.iterdir()) == []
