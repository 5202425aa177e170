"""Convolutional layers and the book's SimpleConvNet: shapes and interface as the book has
them, gradients equal to central differences, batch norm per channel, save and load through
the checked schema, the command line's --model cnn, and module boxes in pictures."""
import numpy as np
import pytest

import autograd_np as ag
import nets
from nets.cli import main
from .ckpt_craft import model_members, write_zip

SMALL = {"input_dim": (1, 6, 6), "conv_param": {"filter_num": 2, "filter_size": 3, "pad": 0, "stride": 1},
         "hidden_size": 5, "output_size": 3}


def test_simple_conv_net_has_the_books_parameters_and_interface():
    net = nets.SimpleConvNet(input_dim=(1, 28, 28),
                             conv_param={"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1},
                             hidden_size=100, output_size=10, weight_init_std=0.01, rng=0)
    shapes = {k: v.shape for k, v in net.params.items()}
    assert shapes == {"W1": (30, 1, 5, 5), "b1": (30,), "W2": (30 * 12 * 12, 100), "b2": (100,),
                      "W3": (100, 10), "b3": (10,)}
    assert 0.009 < net.params["W1"].std() < 0.011  # weight_init_std, as the book draws them
    x = np.random.default_rng(0).random((3, 1, 28, 28)).astype(np.float32)
    t = np.array([1, 2, 3])
    assert net.predict(x).shape == (3, 10) and net.loss(x, t).shape == ()
    assert 0.0 <= net.accuracy(x, t, batch_size=2) <= 1.0
    grads = net.gradient(x, t)
    assert {k: g.shape for k, g in grads.items()} == shapes and all(g.dtype == np.float32 for g in grads.values())
    net.params["W1"] -= 0.1 * grads["W1"]  # the book's update works on the arrays themselves
    assert np.array_equal(net.conv1.W.data, net.params["W1"])


def test_simple_conv_net_gradient_equals_central_differences():
    net = nets.SimpleConvNet(**SMALL, weight_init_std="he", rng=1)
    x = np.random.default_rng(2).standard_normal((4, 1, 6, 6)).astype(np.float32)
    t = np.array([0, 1, 2, 1])
    grads, numerical = net.gradient(x, t), net.numerical_gradient(x, t)
    for key in grads:
        np.testing.assert_allclose(grads[key], numerical[key], rtol=1e-3, atol=1e-5, err_msg=key)


def test_the_books_accuracy_in_batches_equals_one_pass():
    net = nets.SimpleConvNet(**SMALL, rng=3)
    x = np.random.default_rng(4).random((23, 1, 6, 6)).astype(np.float32)
    t = np.random.default_rng(5).integers(0, 3, 23)
    assert net.accuracy(x, t, batch_size=5) == pytest.approx(nets.Module.accuracy(net, x, t))
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        net.accuracy(x, t, batch_size=0)


@pytest.mark.parametrize("kwargs,match", [
    ({"input_dim": (1, 4, 4), "conv_param": {"filter_size": 5, "pad": 0, "stride": 1, "filter_num": 2}},
     "leaves 0x0 of a 4x4 image"),
    ({"input_dim": (28, 28)}, r"input_dim must be \(channels, height, width\)"),
    ({"conv_param": {"filters": 3}}, r"unknown conv_param keys \['filters'\]"),
    ({"conv_param": {"filter_size": 5.5}}, r"filter_size must be an integer >= 1, got 5.5"),
    ({"hidden_size": 0}, r"hidden_size must be an integer >= 1, got 0"),
    ({"conv_param": {"pad": -1}}, r"pad must be an integer >= 0, got -1"),
])
def test_simple_conv_net_refuses_a_geometry_that_does_not_fit(kwargs, match):
    with pytest.raises(ValueError, match=match):
        nets.SimpleConvNet(**kwargs)


def test_conv2d_layer_is_the_engines_conv2d_and_names_a_channel_mismatch():
    layer = nets.Conv2d(2, 3, kernel_size=(3, 2), stride=2, pad=1, rng=0)
    x = np.random.default_rng(0).random((2, 2, 7, 6)).astype(np.float32)
    want = ag.conv2d(x, layer.W, layer.b, stride=2, pad=1).data
    assert np.array_equal(layer(x).data, want) and layer.W.shape == (3, 2, 3, 2)
    with pytest.raises(ag.ShapeError, match="conv2d"):
        layer(np.zeros((1, 5, 7, 6), np.float32))
    with pytest.raises(ValueError, match="stride must be an int >= 1"):
        nets.Conv2d(2, 3, 3, stride=0)


def test_pooling_layers_default_their_stride_to_the_kernel():
    x = np.arange(2 * 1 * 4 * 4, dtype=np.float32).reshape(2, 1, 4, 4)
    assert np.array_equal(nets.MaxPool2d(2)(x).data, x.reshape(2, 1, 2, 2, 2, 2).max(axis=(3, 5)))
    assert np.allclose(nets.AvgPool2d(2)(x).data, x.reshape(2, 1, 2, 2, 2, 2).mean(axis=(3, 5)))
    assert nets.MaxPool2d(3, stride=1)(x).shape == (2, 1, 2, 2)


def test_batch_norm_2d_normalizes_each_channel_over_batch_and_image():
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((8, 3, 5, 5)) * [[[[1.0]], [[4.0]], [[0.5]]]] + [[[[2.0]], [[-1.0]], [[7.0]]]])
    bn = nets.BatchNorm2d(3, momentum=0.9, dtype=np.float64)
    y = bn(x).data
    assert np.allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-10) and np.allclose(y.var(axis=(0, 2, 3)), 1, atol=1e-3)
    assert np.allclose(bn.running_mean, 0.1 * x.mean(axis=(0, 2, 3)))
    assert np.allclose(bn.running_var, 0.9 + 0.1 * x.var(axis=(0, 2, 3)), rtol=0.02)  # (the unbiased variance)
    bn.eval()
    want = (x - bn.running_mean[:, None, None]) / np.sqrt(bn.running_var[:, None, None] + bn.eps)
    assert np.allclose(bn(x).data, want)
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\): input of shape \(8, 4, 5, 5\)"):
        bn(np.zeros((8, 4, 5, 5)))


def test_batch_norm_2d_gradients_equal_central_differences():
    rng = np.random.default_rng(1)
    model = nets.Sequential(nets.Conv2d(1, 2, 3, pad=1, rng=0, dtype=np.float64), nets.BatchNorm2d(2, dtype=np.float64),
                            nets.ReLU(), nets.AvgPool2d(2), nets.Flatten(), nets.Affine(8, 3, rng=1, dtype=np.float64))
    report = nets.gradient_check(model, rng.standard_normal((4, 1, 4, 4)), np.array([0, 1, 2, 0]))
    assert report.ok, report


def test_conv_models_save_and_load_through_the_schema(tmp_path):
    net = nets.SimpleConvNet(**SMALL, rng=0)
    net.save(tmp_path / "cnn.npz")
    loaded = nets.load(tmp_path / "cnn.npz")
    x = np.random.default_rng(0).random((2, 1, 6, 6)).astype(np.float32)
    assert type(loaded) is nets.SimpleConvNet and np.array_equal(loaded.predict(x).data, net.predict(x).data)
    seq = nets.Sequential(nets.Conv2d(1, 2, [3, 3], pad=[1, 0], rng=0), nets.BatchNorm2d(2), nets.ReLU(),
                          nets.MaxPool2d(2, stride=[1, 1]), nets.AvgPool2d(1), nets.Flatten(), nets.Affine(40, 3))
    loaded = nets.load(write_zip(tmp_path / "s.npz", model_members(seq)))
    assert loaded.config() == seq.config()


@pytest.mark.parametrize("config,field,match", [
    ({"type": "Conv2d", "in_channels": 3, "out_channels": 10 ** 6, "kernel_size": 100}, "config",
     "needs 30001000000 numbers"),
    ({"type": "Conv2d", "in_channels": 3, "out_channels": 4, "kernel_size": [3, 3, 3]}, "config.kernel_size", ""),
    ({"type": "Conv2d", "in_channels": 3, "out_channels": 4, "kernel_size": 3, "stride": 0}, "config.stride",
     r"0 is out of range \(1 to"),
    ({"type": "MaxPool2d", "kernel_size": 2, "pad": -1}, "config.pad", r"-1 is out of range \(0 to"),
    ({"type": "BatchNorm2d", "channels": 10 ** 9}, "config", "needs 4000000000 numbers"),
    ({"type": "SimpleConvNet", "input_dim": [1, 28, 28], "hidden_size": 10 ** 8, "output_size": 10,
      "conv_param": {"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1}}, "config", "numbers"),
    ({"type": "SimpleConvNet", "input_dim": [1, 28], "hidden_size": 4, "output_size": 10,
      "conv_param": {"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1}}, "config.input_dim", "need 3"),
    ({"type": "SimpleConvNet", "input_dim": [1, 28, 28], "hidden_size": 4, "output_size": 10,
      "conv_param": {"filter_num": 30, "filter_size": 5}}, "config.conv_param.pad", "missing"),
])
def test_a_conv_config_out_of_bounds_is_refused_before_anything_is_built(tmp_path, config, field, match):
    path = write_zip(tmp_path / "m.npz", model_members(meta_changes={"config": config}))
    with pytest.raises(nets.CheckpointError, match=f"^{path}: field '{field}': .*{match}"):
        nets.load(path)


def test_train_and_eval_a_cnn_from_the_command_line(tmp_path, capsys):
    assert main(["train", "--model", "cnn", "--dataset", "digits", "--epochs", "2", "--out", str(tmp_path),
                 "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "training SimpleConvNet conv 30x3x3 (pad 1), pool 2x2, 100, 10 on digits" in out
    accuracy = float(out.split("test accuracy ")[1].split()[0])
    assert accuracy > 0.85  # well above chance (0.1) after two epochs
    assert type(nets.load(tmp_path / "model.npz")) is nets.SimpleConvNet
    assert main(["eval", "--model", str(tmp_path / "model.npz"), "--dataset", "digits"]) == 0
    assert f"accuracy {accuracy:.4f}" in capsys.readouterr().out
    svg = (tmp_path / "graph.svg").read_text()
    assert "Conv2d" in svg and "MaxPool2d" in svg  # a box per layer


def test_the_command_line_refuses_mlp_options_with_the_cnn(tmp_path, capsys):
    assert main(["train", "--model", "cnn", "--dropout", "0.2", "--batchnorm", "--out", str(tmp_path)]) == 2
    assert "--batchnorm, --dropout: not used with --model cnn" in capsys.readouterr().err


def test_a_cnn_graph_has_a_box_per_layer():
    net = nets.SimpleConvNet(**SMALL, rng=0)
    loss = net.loss(ag.Tensor(np.zeros((2, 1, 6, 6), np.float32), name="x"), np.array([0, 1]))
    dot = ag.viz.to_dot(loss)
    for name, kind in [("conv1", "Conv2d"), ("pool1", "MaxPool2d"), ("flatten", "Flatten"), ("affine1", "Affine")]:
        assert name in dot and kind in dot
    collapsed = ag.viz.to_dot(loss, collapse=True)
    assert "conv1: Conv2d" in collapsed and "conv2d" not in collapsed.replace("Conv2d", "")
