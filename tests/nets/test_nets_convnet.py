"""``ConvNet`` (conv, batch norm, ReLU and pooling blocks), ``--model convnet`` on the
command line, and PyTorch's ``padding=`` keyword and repr on the convolutional layers."""
import math

import numpy as np
import pytest

import nets
from nets.models.convnet import ConvNet
from nets.cli import main
from .ckpt_craft import model_members, write_zip

RNG = np.random.default_rng(24)
SMALL = {"input_dim": (1, 8, 8), "channels": (3, 4), "hidden_size": 6, "output_size": 3}


def test_convnet_layers_parameters_and_shapes():
    model = ConvNet(input_dim=(1, 28, 28), channels=(32, 64), hidden_size=128, dropout=0.3, rng=0)
    assert model.layer_names == ("conv1", "bn1", "relu1", "pool1", "conv2", "bn2", "relu2", "pool2", "flatten",
                                 "fc1", "relu", "drop", "fc2")
    shapes = {name: p.shape for name, p in model.named_parameters()}
    assert shapes["conv1.W"] == (32, 1, 3, 3) and shapes["conv2.W"] == (64, 32, 3, 3)
    assert shapes["fc1.W"] == (64 * 7 * 7, 128) and shapes["fc2.W"] == (128, 10) and shapes["bn2.gamma"] == (64,)
    assert model.conv1.pad == 1 and model.pool1.kernel_size == 2
    n_numbers = sum(math.prod(s) for s in shapes.values()) + 2 * (32 + 64)  # + the running statistics
    assert n_numbers == nets.layers.registry.SCHEMAS[ConvNet].size(model.config())
    x = RNG.random((3, 1, 28, 28)).astype(np.float32)
    y = model(x)
    assert y.shape == (3, 10) and y.dtype == np.float32


def test_convnet_takes_rows_as_the_mlps_do_and_refuses_other_shapes():
    model = ConvNet(**SMALL, rng=1).eval()
    x = RNG.random((5, 1, 8, 8)).astype(np.float32)
    assert np.array_equal(model(x.reshape(5, 64)).data, model(x).data)
    for bad, match in (((5, 63), "rows of 63 features do not fit input_dim"), ((5, 2, 8, 8), r"input of shape"),
                       ((5, 8, 8), "input of shape")):
        with pytest.raises(ValueError, match=f"ConvNet: {match}"):
            model(np.zeros(bad, np.float32))


def test_convnet_gradients_equal_central_differences():
    model = ConvNet(**SMALL, dropout=0.0, rng=2, dtype=np.float64)
    report = nets.gradient_check(model, RNG.standard_normal((4, 1, 8, 8)), np.array([0, 1, 2, 1]))
    assert report.ok, report


def test_convnet_saves_and_loads_and_its_config_is_checked(tmp_path):
    model = ConvNet(**SMALL, dropout=0.2, kernel_size=5, rng=3)
    x = RNG.random((2, 1, 8, 8)).astype(np.float32)
    model.save(tmp_path / "m.npz")
    loaded = nets.load(tmp_path / "m.npz")
    assert type(loaded) is ConvNet and loaded.config() == model.config()
    assert np.array_equal(loaded.eval()(x).data, model.eval()(x).data)
    config = dict(model.config(), kernel_size=4)
    path = write_zip(tmp_path / "bad.npz", model_members(meta_changes={"config": config}))
    with pytest.raises(nets.CheckpointError, match="field 'config.kernel_size': 4 is even"):
        nets.load(path)
    config = dict(model.config(), channels=[3, 4, 5, 6])  # 8 -> 4 -> 2 -> 1 -> 0
    path = write_zip(tmp_path / "deep.npz", model_members(meta_changes={"config": config}))
    with pytest.raises(nets.CheckpointError, match="4 blocks halve the 8x8 input to nothing"):
        nets.load(path)


@pytest.mark.parametrize("kwargs,error,match", [
    ({"input_dim": (8, 8)}, ValueError, r"input_dim must be \(channels, height, width\)"),
    ({"input_dim": (1, 0, 8)}, ValueError, "input_dim height must be an integer >= 1, got 0"),
    ({"input_dim": (1, 8.0, 8)}, ValueError, "input_dim height must be an integer"),
    ({"channels": ()}, ValueError, "channels"),
    ({"channels": (3, 0)}, ValueError, "channels"),
    ({"channels": (3.5,)}, ValueError, "channels"),
    ({"channels": (1,) * 9, "input_dim": (1, 512, 512)}, ValueError, "at most 8"),
    ({"channels": (2, 2, 2, 2)}, ValueError, r"input_dim \(1, 8, 8\) is too small for 4 blocks"),
    ({"kernel_size": 4}, ValueError, "kernel_size must be odd"),
    ({"kernel_size": 0}, ValueError, "kernel_size must be an integer >= 1"),
    ({"kernel_size": True}, TypeError, "kernel_size must be an integer"),
    ({"hidden_size": 0}, ValueError, "hidden_size must be an integer >= 1, got 0"),
    ({"output_size": 2.0}, ValueError, "output_size must be an integer"),
    ({"dropout": 1.0}, ValueError, "dropout"),
    ({"dropout": float("nan")}, ValueError, "dropout"),
    ({"dropout": -0.1}, ValueError, "dropout"),
    ({"init": "bogus"}, ValueError, "init"),
    ({"init": -1.0}, ValueError, "init"),
    ({"rng": "seed"}, (TypeError, ValueError), "rng"),
    ({"dtype": np.int32}, (TypeError, ValueError), "dtype"),
    ({"hidden_size": 10 ** 12}, (ValueError, MemoryError), "ConvNet"),
])
def test_convnet_refuses_bad_arguments_naming_them(kwargs, error, match):
    with pytest.raises(error, match=match):
        ConvNet(**{**SMALL, **kwargs})


def test_train_a_convnet_from_the_command_line_and_evaluate_it(tmp_path, capsys):
    assert main(["train", "--model", "convnet", "--dataset", "digits", "--epochs", "2", "--dropout", "0.2",
                 "--out", str(tmp_path), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "training ConvNet conv 32x3x3 bn relu pool 2x2, 128, dropout 0.2, 10 on digits" in out
    accuracy = float(out.split("test accuracy ")[1].split()[0])
    assert accuracy > 0.85
    model = nets.load(tmp_path / "model.npz")
    assert type(model) is ConvNet and model.channels == (32,) and model.dropout == 0.2
    assert main(["eval", "--model", str(tmp_path / "model.npz"), "--dataset", "digits"]) == 0
    assert f"accuracy {accuracy:.4f}" in capsys.readouterr().out


@pytest.mark.parametrize("flags,named", [(["--layers", "64,10"], "--layers"), (["--batchnorm"], "--batchnorm"),
                                         (["--activation", "tanh"], "--activation"),
                                         (["--weight-decay", "0.1"], "--weight-decay")])
def test_the_command_line_refuses_mlp_options_with_the_convnet(tmp_path, capsys, flags, named):
    assert main(["train", "--model", "convnet", *flags, "--out", str(tmp_path)]) == 2
    assert f"{named}: not used with --model convnet (ConvNet" in capsys.readouterr().err


def test_channels_sets_the_convnets_blocks_from_the_command_line(tmp_path, capsys):
    """--channels 4,6 on 8x8 digits: two blocks (the default on images this small is one)."""
    assert main(["train", "--model", "convnet", "--channels", "4,6", "--dataset", "digits", "--epochs", "1",
                 "--out", str(tmp_path), "--quiet"]) == 0
    assert "training ConvNet conv 4x3x3 bn relu pool 2x2, conv 6x3x3 bn relu pool 2x2, 128, 10" in \
        capsys.readouterr().out
    assert nets.load(tmp_path / "model.npz").channels == (4, 6)


@pytest.mark.parametrize("value,says", [("", "--channels is empty"), ("32,,64", "empty size (item 2)"),
                                        ("32,x", "comma-separated integers like 32,64"), ("0", "positive sizes"),
                                        ("-3", "comma-separated integers"), ("3.5", "comma-separated integers"),
                                        (",".join(["2"] * 9), "9 sizes, more than 8"),
                                        ("1" + "0" * 13, "comma-separated integers")])
def test_channels_refuses_what_is_not_a_list_of_block_sizes(tmp_path, capsys, value, says):
    assert main(["train", "--model", "convnet", "--channels", value, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--channels" in err and says in err


def test_channels_that_halve_the_image_to_nothing_are_refused_naming_channels(tmp_path, capsys):
    assert main(["train", "--model", "convnet", "--channels", "2,2,2,2", "--dataset", "digits", "--out",
                 str(tmp_path), "--quiet"]) != 0
    assert "channels" in capsys.readouterr().err


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_channels_is_refused_with_the_other_models(tmp_path, capsys, model):
    assert main(["train", "--model", model, "--channels", "8", "--out", str(tmp_path)]) == 2
    assert f"--channels: only --model convnet has blocks of filters (--model {model} does not)" in \
        capsys.readouterr().err


# --- PyTorch's padding= and the repr (issue 24) --------------------------------------------------

@pytest.mark.parametrize("layer,kwargs", [(nets.Conv2d, {"in_channels": 2, "out_channels": 3, "kernel_size": 3}),
                                          (nets.MaxPool2d, {"kernel_size": 3, "stride": 1}),
                                          (nets.AvgPool2d, {"kernel_size": 2})])
@pytest.mark.parametrize("pad", [1, (1, 0), [0, 1]])
def test_padding_is_pytorchs_name_for_pad(layer, kwargs, pad):
    a, b = layer(**kwargs, pad=pad), layer(**kwargs, padding=pad)
    if hasattr(a, "W"):
        b.W.data[...] = a.W.data
    x = RNG.random((2, 2, 6, 7)).astype(np.float32)
    assert np.array_equal(a(x).data, b(x).data) and a.config() == b.config()
    assert repr(a) == repr(b) and f"pad={list(pad) if not isinstance(pad, int) else pad}" in repr(a)
    with pytest.raises(TypeError, match=f"{layer.__name__}: got both pad=.* and padding=.*: give one"):
        layer(**kwargs, pad=pad, padding=pad)


@pytest.mark.parametrize("layer,args", [(nets.Conv2d, (2, 3, 3)), (nets.MaxPool2d, (2,)), (nets.AvgPool2d, (2,))])
@pytest.mark.parametrize("bad", [-1, 1.5, "1", None, (1, 2, 3), True])
def test_a_bad_padding_is_refused_naming_padding(layer, args, bad):
    if bad is None:  # padding=None is "not given": pad's default applies
        assert layer(*args, padding=None).pad == 0
        return
    with pytest.raises(ValueError, match=f"{layer.__name__}: padding must be an int >= 0 or a pair of them"):
        layer(*args, padding=bad)


def test_the_repr_shows_stride_and_padding_when_they_are_not_the_defaults():
    assert repr(nets.Conv2d(1, 16, 3, pad=1)) == "Conv2d(1, 16, kernel_size=3, pad=1)"
    assert repr(nets.Conv2d(1, 16, 3, stride=2, padding=1)) == "Conv2d(1, 16, kernel_size=3, stride=2, pad=1)"
    assert repr(nets.Conv2d(1, 16, (3, 2))) == "Conv2d(1, 16, kernel_size=[3, 2])"
    assert repr(nets.MaxPool2d(2)) == "MaxPool2d(kernel_size=2)"
    assert repr(nets.MaxPool2d(3, stride=1, padding=1)) == "MaxPool2d(kernel_size=3, stride=1, pad=1)"
    assert repr(nets.AvgPool2d(2, padding=[1, 0])) == "AvgPool2d(kernel_size=2, pad=[1, 0])"
