"""Argument sweep over the public surface of nets.

Every class exported by nets, nets.optim, nets.callbacks, nets.layers, nets.models,
nets.layers.conv, nets.training.data and nets.metrics is found by introspection, and every parameter
of its constructor (``inspect.signature``), of ``fit``, ``evaluate``, the clipping functions
and the data-set loaders has an entry in the table below: its valid domain, values outside
it and values inside it.  For every (parameter, bad value) pair the call must raise a
ValueError or TypeError whose message names the class (or function) and the parameter,
before anything is allocated or trained; every good value must be accepted.  A new public
class or parameter without an entry fails ``test_the_table_covers_the_public_surface``.
"""
import inspect
import math
import re

import numpy as np
import pytest

import autograd_np as ag
import nets
from nets import callbacks, datasets, layers, metrics, models, optim
from nets.layers import conv as conv_layers
from nets.training import data

NAN, INF = math.nan, math.inf
MODULES = (nets, optim, callbacks, layers, models, conv_layers, data, metrics)


class Fresh:
    """A value made anew for each call (an optimizer of another model...)."""

    def __init__(self, make, text):
        self.make, self.text = make, text

    def __repr__(self):
        return self.text


def resolved(value):
    return value.make() if isinstance(value, Fresh) else value


class Domain:
    """A parameter's valid values: ``text`` says which; ``bad`` are outside, ``good`` inside."""

    def __init__(self, text, bad, good=()):
        self.text, self.bad, self.good = text, list(bad), list(good)

    def __repr__(self):
        return self.text


def ints(low, huge_is_bad=False, optional=False):
    """Integers >= low; a huge count is refused where it would be allocated (a layer's size)."""
    bad = [low - 1, -5, 1.5, float(low + 1), True, NAN, INF, "3", [3]] + ([] if optional else [None])
    good = [low, low + 2, np.int64(low + 1)] + ([None] if optional else [])
    (bad if huge_is_bad else good).append(10 ** 12)
    return Domain(f"{'None or ' if optional else ''}int >= {low}" + (" (allocated)" if huge_is_bad else ""), bad, good)


def reals(low=None, high=None, low_open=False, high_open=False, optional=False, inf_ok=False):
    """Finite numbers in an interval (open or closed at each end)."""
    bad = [NAN, -INF, True, "0.5", [0.5], 10 ** 400] + ([] if inf_ok else [INF]) + ([] if optional else [None])
    good = ([None] if optional else []) + ([INF] if inf_ok else [])
    if low is not None:
        bad += [low - 1.0] + ([low] if low_open else [])
        good += [] if low_open else [low]
    if high is not None:
        bad += [high + 1.0, 1e300] + ([high] if high_open else [])
        good += [] if high_open else [high]
    inside = (low if low is not None else 0.0) + 0.5 * ((high if high is not None else 1.0) - (low or 0.0))
    good += [inside, np.float32(inside)] + ([1e300] if high is None else [])
    return Domain(f"number in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}", bad, good)


BOOL = Domain("bool", [1, 0, "yes", None, NAN, 2.0], [True, False, np.bool_(True)])
OPT_BOOL = Domain("None or bool", [1, "yes", NAN], [None, True, False])
SEED = Domain("None, int >= 0 or Generator", [-1, 1.5, True, NAN, "0", INF, [-1]],
              [None, 0, 7, 10 ** 30, np.random.default_rng(0), [1, 2]])
DTYPE = Domain("float dtype", [np.int32, int, "int64", None, "nonsense", bool], [np.float32, np.float64, "float64"])
INIT = Domain("'he', 'xavier' or std >= 0", ["glorot", NAN, INF, -0.1, None, True, [0.1]], ["he", "xavier", 0.01, 0])
ACTIVATION = Domain("relu | sigmoid | tanh", ["softmax", 1, None, ""], ["relu", "Sigmoid", "tanh"])
MODE = Domain("auto | min | max", ["maximum", 1, None], ["auto", "min", "max"])
MONITOR = Domain("None or a log name", [1, "", ["val_loss"]], [None, "val_loss", "loss"])
FUNCTION = Domain("a function", [1, "f", None], [lambda epoch, lr: lr])
PATH = Domain("a file path", [1, None, "", ".", b"log.csv"], ["log.csv", "runs/log.csv"])
WINDOW = Domain("int >= 1 or a pair", [0, -1, 1.5, True, NAN, "3", None, (3,), (3, 0), (3, 1.5)],
                [1, 2, (2, 1), [2, 2]])
CONV_KERNEL = Domain(WINDOW.text + " (allocated)", WINDOW.bad + [10 ** 7], WINDOW.good)
OPT_WINDOW = Domain("None, int >= 1 or a pair", [0, 1.5, True, "2", (2, 0)], [None, 1, (1, 2), 10 ** 12])
CONV_PAD = Domain("int >= 0 or a pair", [-1, 1.5, True, NAN, "1", None, (1, -1)], [0, 1, (0, 2), 10 ** 6])
POOL_PAD = Domain("int in [0, kernel // 2] or a pair", [-1, 1.5, True, NAN, "1", None, 2, 10 ** 6, (0, 2)],
                  [0, 1, (1, 0)])
OPT_POOL_PAD = Domain("None, or " + POOL_PAD.text, [v for v in POOL_PAD.bad if v is not None], [None] + POOL_PAD.good)
SIZES = Domain("list of >= 2 ints >= 1 (allocated)",
               [[64.5, 10], [True, 10], [0, 10], [-1, 10], [NAN, 10], [10], "64,10", 64, [64, "10"], [10 ** 12, 10]],
               [[4, 3], (4, 3, 2), np.array([4, 2])])
BETAS = Domain("None or a pair of numbers in [0, 1)", [0.9, (0.9,), "ab", (0.9, 1.0), (-0.1, 0.9), (NAN, 0.9),
                                                       (True, 0.9), (0.9, 0.999, 0.5), ("0.9", 0.9), (0.9, INF)],
               [None, (0.8, 0.99), [0.5, 0.9], (0.0, 0.0), (np.float32(0.5), 0.9)])
MASK = Domain("None or a boolean array", [[0.5, 1.0], "abc", 3, [[2, 0]]], [None, [[True, False, True]], [[1, 0, 1]]])

X, T = np.random.default_rng(0).standard_normal((12, 3)).astype(np.float32), np.arange(12) % 2
MODEL = nets.MultiLayerNet([3, 2], rng=0)
W = ag.Tensor(np.ones(2), requires_grad=True)
PARAMS = Domain("None, a Module or tensors that require grad, each once",
                [0.1, "abc", [], [np.ones(2)], [ag.Tensor(np.ones(2))], [W, W], nets.ReLU()],
                [None, MODEL, MODEL.parameters(), [W]])
FIT_DATA = Domain("(x, t) or a DataLoader", [None, (X,), X, (X, T[:5]), (np.float32(1.0), T), "xt"])
OPT_FIT_DATA = Domain("None, (x, t) or a DataLoader", ["x", (X,), (X, T[:3]), 3], [None, (X, T)])


def conv(**kw):
    return {"filter_num": 2, "filter_size": 3, "pad": 1, "stride": 1, **kw}


def entry(base=None, **domains):
    """A row of the table: the required arguments (``base``) and each parameter's domain."""
    return {"base": base or {}, "domains": domains}


SMALL_CNN = {"input_dim": (1, 8, 8), "conv_param": conv(), "hidden_size": 4, "output_size": 3}
NO_ARGS = entry()
CLASSES = {
    nets.Module: NO_ARGS, nets.Sigmoid: NO_ARGS, nets.ReLU: NO_ARGS, nets.Tanh: NO_ARGS, nets.Identity: NO_ARGS,
    nets.Flatten: NO_ARGS, nets.SoftmaxWithLoss: NO_ARGS, nets.Callback: NO_ARGS,
    nets.Sequential: entry(layers=Domain("nets.Module items", [3, "x", None], [nets.ReLU()])),
    nets.Affine: entry({"in_size": 3, "out_size": 2}, in_size=ints(1, True), out_size=ints(1, True), init=INIT,
                       rng=SEED, dtype=DTYPE),
    nets.Dropout: entry(p=reals(0.0, 1.0, high_open=True), rng=SEED, mask=MASK),
    nets.BatchNorm: entry({"size": 3}, size=ints(1, True), momentum=reals(0.0, 1.0), eps=reals(0.0, low_open=True),
                          dtype=DTYPE),
    nets.BatchNorm2d: entry({"channels": 3}, channels=ints(1, True), momentum=reals(0.0, 1.0),
                            eps=reals(0.0, low_open=True), dtype=DTYPE),
    nets.Conv2d: entry({"in_channels": 1, "out_channels": 2, "kernel_size": 3}, in_channels=ints(1, True),
                       out_channels=ints(1, True), kernel_size=CONV_KERNEL, stride=WINDOW, pad=CONV_PAD, init=INIT,
                       rng=SEED, dtype=DTYPE,
                       padding=Domain("None, int >= 0 or a pair", [-1, 1.5, True, NAN, "1", (1, -1)],
                                      [None, 0, 1, (0, 2), 10 ** 6])),
    nets.MaxPool2d: entry({"kernel_size": 2}, kernel_size=WINDOW, stride=OPT_WINDOW, pad=POOL_PAD, padding=OPT_POOL_PAD),
    nets.AvgPool2d: entry({"kernel_size": 2}, kernel_size=WINDOW, stride=OPT_WINDOW, pad=POOL_PAD, padding=OPT_POOL_PAD),
    nets.TwoLayerNet: entry({"input_size": 3, "hidden_size": 4, "output_size": 2}, input_size=ints(1, True),
                            hidden_size=ints(1, True), output_size=ints(1, True), weight_init_std=INIT,
                            activation=ACTIVATION, rng=SEED, dtype=DTYPE),
    nets.MultiLayerNet: entry({"sizes": [3, 4, 2]}, sizes=SIZES, activation=ACTIVATION, weight_decay=reals(0.0),
                              dropout=reals(0.0, 1.0, high_open=True), batchnorm=BOOL,
                              init=Domain("None or " + INIT.text, INIT.bad[:-3] + [True], [None] + INIT.good),
                              rng=SEED, dtype=DTYPE),
    nets.SimpleConvNet: entry(SMALL_CNN,
                              input_dim=Domain("(channels, height, width) ints >= 1 (allocated)",
                                               [(1, 8), (1, 8.5, 8), (0, 8, 8), (True, 8, 8), 8, "1,8,8",
                                                (1, 10 ** 7, 10 ** 7)], [(1, 8, 8), [2, 6, 7]]),
                              conv_param=Domain("dict of filter_num, filter_size, pad, stride", [
                                  conv(filter_size=2.5), conv(pad=-1), conv(stride=0), conv(filter_num=True),
                                  {"filters": 3}, [3, 3], conv(filter_size=11), conv(filter_num=10 ** 12)],
                                  [None, conv(pad=0), {"filter_num": 3}]),
                              hidden_size=ints(1, True), output_size=ints(1, True), weight_init_std=INIT, rng=SEED,
                              dtype=DTYPE),
    nets.DataLoader: entry({"x": X, "t": T},
                           x=Domain("an array with a row per sample", ["abc", 3, None, X[:5], [["a"]]],
                                    [X, X.tolist()]),
                           t=Domain("an array with a row per sample", ["abc", T[:5], None], [T, T.astype(np.float32)]),
                           batch_size=ints(1), shuffle=BOOL, drop_last=BOOL, rng=SEED),
    nets.History: entry(logs=Domain("None or a dict log name -> numbers",
                                    [3, "abc", {"train_loss": "abc"}, {"Loss": [1.0]}, {"train_loss": [None]}],
                                    [None, {"train_loss": [1.0, 0.5]}, {"val_acc": np.array([0.5])}]),
                        lists=Domain("log name=numbers", [3, "abc", [None], [True]], [[1.0], (0.5, NAN)])),
    nets.EarlyStopping: entry(monitor=MONITOR, patience=ints(1), min_delta=reals(0.0), mode=MODE,
                              restore_best_weights=BOOL, verbose=BOOL),
    nets.ReduceLROnPlateau: entry(monitor=MONITOR, factor=reals(0.0, 1.0, True, True), patience=ints(1),
                                  min_delta=reals(0.0), cooldown=ints(0), min_lr=reals(0.0), mode=MODE, verbose=BOOL),
    callbacks.LRSchedule: entry(per_batch=BOOL),
    nets.StepLR: entry({"step_size": 2}, step_size=ints(1), gamma=reals(0.0, low_open=True), per_batch=BOOL),
    nets.CosineAnnealing: entry(epochs=ints(1, optional=True), min_lr=reals(0.0), warmup=ints(0), per_batch=BOOL),
    nets.LearningRateScheduler: entry({"schedule": lambda epoch, lr: lr}, schedule=FUNCTION),
    nets.GradientClipping: entry({"max_norm": 1.0, "max_value": 1.0},
                                 max_norm=reals(0.0, low_open=True, optional=True),
                                 max_value=reals(0.0, low_open=True, optional=True)),
    nets.CSVLogger: entry({"path": "log.csv"}, path=PATH),
    nets.JSONLogger: entry({"path": "log.jsonl"}, path=PATH),
    nets.LambdaCallback: entry(hooks=Domain("hook name=function", [3, "f", None], [print])),
    metrics.Metric: entry({"name": "top2", "fn": lambda y, t: 0.0},
                          name=Domain("a lower-case metric name", [1, "", "Top2", "loss", None], ["top2", "r2"]),
                          fn=FUNCTION, higher_is_better=BOOL),
    optim.Optimizer: entry({"params": MODEL}, params=PARAMS, lr=reals(0.0, low_open=True), weight_decay=reals(0.0)),
    optim.SGD: entry({"params": MODEL}, params=PARAMS, lr=reals(0.0, low_open=True), weight_decay=reals(0.0)),
    optim.Momentum: entry({"params": MODEL}, params=PARAMS, lr=reals(0.0, low_open=True),
                          momentum=reals(0.0, 1.0, high_open=True), weight_decay=reals(0.0)),
    optim.AdaGrad: entry({"params": MODEL}, params=PARAMS, lr=reals(0.0, low_open=True), eps=reals(0.0),
                         weight_decay=reals(0.0)),
    optim.RMSprop: entry({"params": MODEL}, params=PARAMS, lr=reals(0.0, low_open=True),
                         decay_rate=reals(0.0, 1.0, high_open=True), eps=reals(0.0), weight_decay=reals(0.0)),
    optim.Adam: entry({"params": MODEL}, params=PARAMS, lr=reals(0.0, low_open=True),
                      beta1=reals(0.0, 1.0, high_open=True), beta2=reals(0.0, 1.0, high_open=True), eps=reals(0.0),
                      weight_decay=reals(0.0), betas=BETAS),
}
# PyTorch's names (issue 24)
AXIS = Domain("int in [-64, 63]", [64, -65, 1.5, True, "0", None, NAN, [0]], [-1, 0, 63, -64, np.int64(1)])
CLASSES.update({
    nets.Linear: entry({"in_features": 3, "out_features": 2}, in_features=ints(1, True), out_features=ints(1, True),
                       bias=BOOL, rng=SEED, dtype=DTYPE),
    nets.LeakyReLU: entry(negative_slope=reals()), nets.SiLU: NO_ARGS, nets.MSELoss: NO_ARGS,
    nets.GELU: entry(approximate=Domain("none | tanh", ["exact", "Tanh", "", 1, None], ["none", "tanh"])),
    nets.Softplus: entry(beta=reals(0.0, low_open=True), threshold=reals(0.0, low_open=True)),
    nets.Softmax: entry(dim=AXIS), nets.LogSoftmax: entry(dim=AXIS),
    optim.AdamW: entry({"params": MODEL}, params=PARAMS, lr=reals(0.0, low_open=True),
                       beta1=reals(0.0, 1.0, high_open=True), beta2=reals(0.0, 1.0, high_open=True), eps=reals(0.0),
                       weight_decay=reals(0.0), betas=BETAS),
})
# the convolutional and sequence models (issue 24's other parts)
FRACTION = reals(0.0, 1.0, high_open=True)
NONLINEARITY = Domain("tanh | relu", ["sigmoid", "Tanh", "", 1, None], ["tanh", "relu"])


def divisible(name, by):
    """An int >= 1 that ``by`` divides (a model width split into heads), allocated."""
    return Domain(f"int >= 1 divisible by {by} (allocated)", [0, -1, 1.5, True, NAN, "4", None, by + 1, 10 ** 12],
                  [by, 2 * by, np.int64(3 * by)])


def heads(width):
    return Domain(f"int in [1, {width}] dividing {width}", [0, -1, 1.5, True, "2", None, 3, 2 * width],
                  [1, 2, width, np.int64(2)])


RECURRENT = dict(input_size=ints(1, True), hidden_size=ints(1, True), num_layers=ints(1, True), bias=BOOL,
                 batch_first=BOOL, dropout=FRACTION, rng=SEED, dtype=DTYPE)
SMALL_CONVNET = {"input_dim": (1, 8, 8), "channels": (2,), "hidden_size": 4, "output_size": 3}
CLASSES.update({
    nets.ConvNet: entry(SMALL_CONVNET,
                        input_dim=Domain("(channels, height, width) ints >= 1 (allocated)",
                                         [(1, 8), (1, 8.5, 8), (0, 8, 8), (True, 8, 8), 8, "1,8,8", (1, 1, 1),
                                          (1, 10 ** 7, 10 ** 7)], [(1, 8, 8), [2, 6, 7]]),
                        channels=Domain("ints >= 1, one per block (allocated)",
                                        [[0], [2.5], [True], "2", 2, [NAN], [], [10 ** 12], [2] * 5],
                                        [(2,), [3, 4], np.array([2])]),
                        kernel_size=Domain("odd int >= 1", [2, 0, -1, 1.5, True, NAN, "3", None, 10 ** 7],
                                           [1, 3, 5, np.int64(3)]),
                        hidden_size=ints(1, True), output_size=ints(1, True), dropout=FRACTION, init=INIT, rng=SEED,
                        dtype=DTYPE),
    nets.Embedding: entry({"num_embeddings": 5, "embedding_dim": 3}, num_embeddings=ints(1, True),
                          embedding_dim=ints(1, True),
                          padding_idx=Domain("None or int in [-5, 4]", [5, -6, 1.5, True, "0", NAN, [0]],
                                             [None, 0, 4, -5, np.int64(2)]), rng=SEED, dtype=DTYPE),
    nets.LayerNorm: entry({"normalized_shape": 4},
                          normalized_shape=Domain("int or ints >= 1 (allocated)",
                                                  [0, -1, 1.5, True, "4", None, [4, 0], [10 ** 12], [1] * 65],
                                                  [4, (2, 3), [4], np.int64(3)]),
                          eps=reals(0.0, low_open=True), elementwise_affine=BOOL, bias=BOOL, dtype=DTYPE),
    nets.RNN: entry({"input_size": 3, "hidden_size": 4}, nonlinearity=NONLINEARITY, **RECURRENT),
    nets.LSTM: entry({"input_size": 3, "hidden_size": 4}, **RECURRENT),
    nets.GRU: entry({"input_size": 3, "hidden_size": 4}, **RECURRENT),
    nets.MultiheadAttention: entry({"embed_dim": 4, "num_heads": 2}, embed_dim=divisible("embed_dim", 2),
                                   num_heads=heads(4), dropout=FRACTION, bias=BOOL, batch_first=BOOL, rng=SEED,
                                   dtype=DTYPE),
    nets.TransformerEncoderLayer: entry({"d_model": 4, "nhead": 2, "dim_feedforward": 8},
                                        d_model=divisible("d_model", 2), nhead=heads(4),
                                        dim_feedforward=ints(1, True), dropout=FRACTION,
                                        activation=Domain("relu | gelu", ["tanh", "RELU", "", 1, None],
                                                          ["relu", "gelu"]),
                                        layer_norm_eps=reals(0.0, low_open=True), batch_first=BOOL, norm_first=BOOL,
                                        bias=BOOL, rng=SEED, dtype=DTYPE),
    models.CharLSTM: entry({"vocab_size": 5, "embedding_dim": 3, "hidden_size": 4}, vocab_size=ints(1, True),
                           embedding_dim=ints(1, True), hidden_size=ints(1, True), num_layers=ints(1, True),
                           dropout=FRACTION, rng=SEED, dtype=DTYPE),
    models.CharTransformer: entry({"vocab_size": 5, "context": 8, "d_model": 4, "nhead": 2, "num_layers": 1,
                                   "dim_feedforward": 8}, vocab_size=ints(1, True), context=ints(1, True),
                                  d_model=divisible("d_model", 2), nhead=heads(4), num_layers=ints(1, True),
                                  dim_feedforward=ints(1, True), dropout=FRACTION, rng=SEED, dtype=DTYPE),
    nets.SequenceLoader: entry({"tokens": np.arange(5000) % 7},
                               tokens=Domain("a 1-d array of integer ids >= 0, enough for one chunk per stream",
                                             [np.ones(5000), "abc", None, np.arange(10), [[1, 2]], 3,
                                              -(np.arange(5000) % 7)], [np.arange(5000), list(range(3000))]),
                               batch_size=Domain("int >= 1 (the tokens fill a chunk per stream)",
                                                 [0, -5, 1.5, 2.0, True, NAN, INF, "3", [3], None, 10 ** 12],
                                                 [1, 3, np.int64(2)]),
                               seq_len=Domain("int >= 1 (the tokens fill a chunk per stream)",
                                              [0, -5, 1.5, 2.0, True, NAN, INF, "3", [3], None, 10 ** 12],
                                              [1, 16, np.int64(2)])),
})
# The keyword a ``**kwargs`` parameter is tried with (its messages name that keyword).
VAR_KEYWORD = {(nets.LambdaCallback, "hooks"): "on_epoch_end", (nets.History, "lists"): "train_loss"}
# Public classes that take no configuration from users: results, exceptions, fit's machinery.
NOT_CONFIGURED = {
    nets.StateDictError: "an exception", nets.CheckpointError: "an exception", nets.DatasetError: "an exception",
    nets.GradientCheckReport: "a result of gradient_check", nets.GradientCheckRow: "a row of gradient_check's result",
    nets.GradComparison: "a result of compare_grads", callbacks.FitRun: "made by fit for its callbacks",
    callbacks.CallbackList: "made by fit from its callbacks argument",
    models.ParamArrays: "the view model.params returns", layers.ModulePath: "the tag nets puts on graph nodes", models.BookInterface: "a mixin without a constructor",
    nets.ConfigError: "an exception", layers.Summary: "a result of Module.summary", layers.SummaryRow: "a row of a Summary",
}


FIT = entry({"train": (X, T), "epochs": 1, "batch_size": 4},
            model=Domain("a nets.Module", [None, "model", lambda x: x]),
            optimizer=Domain("an optimizer of the model's parameters", [
                None, "adam", Fresh(lambda: optim.SGD(nets.MultiLayerNet([3, 2], rng=1)), "another model's SGD"),
                Fresh(lambda: optim.SGD(lr=0.1), "SGD for update(params, grads)")]),
            train=FIT_DATA, test=OPT_FIT_DATA, val=OPT_FIT_DATA, epochs=ints(1), batch_size=ints(1),
            seed=Domain("None or int >= 0", [-1, 1.5, True, NAN, "0"]), shuffle=BOOL, drop_last=BOOL,
            callbacks=Domain("None, a Callback or a list of them", [3, "cb", [3], [lambda: 0]]),
            metrics=Domain("None, names or Metrics", ["f1", 3, ["acc", "acc"], [3]]), progress=OPT_BOOL,
            verbose=BOOL, checkpoint=Domain("None or a file path", [3, "", b"ckpt.npz"]),
            resume=Domain("bool; True needs a checkpoint", BOOL.bad + [True]), eval_batch_size=ints(1),
            log=Domain("None or a function", [3, "print"]), compile=BOOL,
            distributed=Domain("None, a bool or a World", [1, "yes", 2.0]))
EVALUATE = entry({"data": X, "t": T}, model=Domain("a nets.Module", [None, "model"]),
                 data=Domain("(x, t), a DataLoader, or x with t", [None, "abc", 3]),
                 t=Domain("None or targets, one per row", [T[:5], "abc"]), batch_size=ints(1),
                 metrics=Domain("None, names or Metrics", ["f1", 3, [3]]), return_dict=BOOL)
TENSORS = Domain("a Module, a tensor or tensors", [3, "abc", [np.ones(2)]])
FUNCTIONS = {
    nets.fit: FIT, nets.evaluate: EVALUATE,
    nets.clip_grad_norm: entry({"params": [W], "max_norm": 1.0}, params=TENSORS,
                               max_norm=reals(0.0, low_open=True, inf_ok=True)),
    nets.clip_grad_value: entry({"params": [W], "clip_value": 1.0}, params=TENSORS,
                                clip_value=reals(0.0, low_open=True, inf_ok=True)),
    datasets.load_digits: entry(normalize=BOOL, flatten=BOOL, one_hot_label=BOOL,
                                test_size=Domain("int in [1, 1796]", [0, 1797, 1.5, True, None, "3"]),
                                seed=Domain("int >= 0", [-1, 1.5, True, None]), dtype=DTYPE),
    datasets.load_mnist: entry(path=Domain("None or a folder path", [3, b"dir", ""]), normalize=BOOL, flatten=BOOL,
                               one_hot_label=BOOL, dtype=DTYPE),
    layers.activation: entry({"name": "relu"}, name=Domain("relu | sigmoid | tanh", ["softmax", 1, None]),
                             who=Domain("the caller's name", [])),
}
SHAPE = Domain("int or ints >= 1 (allocated)", [(2, -1), (2, 1.5), (0, 3), "23", None, True, (10 ** 12, 10 ** 6)],
               [(2, 3), [4], 5])
NAME = Domain("the argument's name in messages", [])
FUNCTIONS.update({
    nets.init.rng_of: entry(rng=SEED, name=NAME, who=NAME),
    nets.init.check_init: entry({"init": "he"}, init=INIT, name=NAME, who=NAME),
    nets.init.std_for: entry({"init": "he", "fan_in": 3}, init=INIT, fan_in=ints(1), name=NAME, who=NAME),
    nets.init.normal: entry({"shape": (2, 3), "std": 0.1}, shape=Domain(SHAPE.text, SHAPE.bad[:2] + SHAPE.bad[3:]),
                            std=Domain("std in [0, finfo(dtype).max / 64]", reals(0.0).bad + [1e300],
                                       [0, 0.5, np.float32(2.0)]), rng=SEED, dtype=DTYPE, who=NAME, name=NAME),
    nets.init.he: entry({"shape": (2, 3)}, shape=SHAPE, rng=SEED, dtype=DTYPE),
    nets.init.xavier: entry({"shape": (2, 3)}, shape=SHAPE, rng=SEED, dtype=DTYPE),
    nets.init.weights: entry({"shape": (2, 3)}, shape=SHAPE, init=INIT, rng=SEED, dtype=DTYPE, who=NAME),
    nets.init.zeros: entry({"shape": (2, 3)}, shape=Domain(SHAPE.text, SHAPE.bad[:2] + SHAPE.bad[3:]), dtype=DTYPE),
})
FUNCTIONS.update({
    nets.gradient_check: entry({"model": MODEL, "x": X[:2], "t": T[:2], "verbose": False},
                               model=Domain("a nets.Module", [None, "net", [MODEL]]),
                               x=Domain("an array", []), t=Domain("targets", []),
                               eps=reals(0.0, 1.0, low_open=True, high_open=True), tol=reals(0.0),
                               max_elements=Domain("None or int >= 1", [0, -1, 1.5, True, "3"], [None, 1, 5]),
                               seed=SEED, verbose=BOOL),
    nets.compare_grads: entry({"mine": {"W": np.ones(2)}, "engine": {"W": np.ones(2)}},
                              mine=Domain("a dict of arrays", []), engine=Domain("a dict, module or tensors", []),
                              rtol=reals(0.0), atol=reals(0.0),
                              labels=Domain("two strings", [("a",), "ab", (1, 2), None], [("a", "b"), ["x", "y"]]),
                              verbose=BOOL),
})
FIT_MODEL_ARGS = ("model", "optimizer")


# --- the table against the code --------------------------------------------------------------

def public_classes():
    found = set()
    for module in MODULES:
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if inspect.isclass(obj) and obj.__module__.startswith("nets"):
                found.add(obj)
    return found


def parameters(fn):
    """Every parameter of a class's constructor or a function, but ``self``."""
    return list(inspect.signature(fn).parameters.values())


def test_the_table_covers_the_public_surface():
    classes = public_classes()
    missing = classes - set(CLASSES) - set(NOT_CONFIGURED)
    assert not missing, f"public classes without an entry in the argument table: {sorted(c.__name__ for c in missing)}"
    assert not (set(CLASSES) | set(NOT_CONFIGURED)) - classes, "table entries for classes that are not public"
    functions = {getattr(nets.init, name) for name in nets.init.__all__}
    assert not functions - set(FUNCTIONS), "nets.init functions without an entry in the argument table"
    for fn, row in [*CLASSES.items(), *FUNCTIONS.items()]:
        names = {p.name for p in parameters(fn)}
        assert names == set(row["domains"]), (f"{fn.__name__}: the table has {sorted(row['domains'])}, the "
                                              f"signature {sorted(names)}")


def cases(table, good):
    out = []
    for fn, row in table.items():
        for name, domain in row["domains"].items():
            for i, value in enumerate(domain.good if good else domain.bad):
                out.append(pytest.param(fn, name, value, id=f"{fn.__name__}-{name}-{i}"))
    return out


def call(fn, name, value):
    row = {**CLASSES, **FUNCTIONS}[fn]
    kwargs = dict(row["base"])
    keyword = VAR_KEYWORD.get((fn, name), name)
    param = next(p for p in parameters(fn) if p.name == name)
    if param.kind is inspect.Parameter.VAR_POSITIONAL:
        return fn(value, **kwargs)
    kwargs[keyword] = resolved(value)
    if fn is nets.fit:
        model = nets.MultiLayerNet([3, 2], rng=0)
        kwargs = {"model": model, "optimizer": optim.SGD(model, lr=0.1), "verbose": False, **kwargs}
    if fn is nets.evaluate:
        kwargs.setdefault("model", MODEL)
    return fn(**kwargs)


def named(message, fn, keyword):
    who = fn.__name__
    word = rf"(?<![A-Za-z0-9_]){re.escape(keyword)}(?![A-Za-z0-9_])"
    if fn is nets.Sequential:
        word = r"layers\[0\]"
    return who in message and re.search(word, message) is not None


@pytest.mark.parametrize("fn,name,value", cases({**CLASSES, **FUNCTIONS}, good=False))
def test_a_bad_argument_is_refused_naming_it(fn, name, value):
    with pytest.raises((ValueError, TypeError)) as err:
        call(fn, name, value)
    keyword = VAR_KEYWORD.get((fn, name), name)
    assert named(str(err.value), fn, keyword), f"{fn.__name__}({name}={value!r}): {err.value}"


@pytest.mark.parametrize("fn,name,value", cases(CLASSES, good=True))
def test_a_good_argument_is_accepted(fn, name, value):
    obj = call(fn, name, value)
    assert isinstance(obj, fn)


@pytest.mark.parametrize("fn,name,value", cases({f: row for f, row in FUNCTIONS.items()
                                                 if f.__module__ == "nets.layers.init"}, good=True))
def test_a_good_argument_of_an_initializer_is_accepted(fn, name, value):
    call(fn, name, value)


def test_fit_checks_everything_before_training():
    """No bad argument of fit reaches the model or a callback: the weights are unchanged, no hook ran."""
    calls = []
    spy = nets.LambdaCallback(on_train_begin=lambda logs: calls.append("begin"),
                              on_batch_begin=lambda batch, logs: calls.append("batch"))
    for name, domain in FIT["domains"].items():
        if name in ("callbacks",) + FIT_MODEL_ARGS:
            continue
        for value in domain.bad:
            model = nets.MultiLayerNet([3, 2], rng=0)
            before = {k: v.copy() for k, v in model.state_dict().items()}
            kwargs = {**FIT["base"], "verbose": False, "callbacks": [spy], name: resolved(value)}
            with pytest.raises((ValueError, TypeError)):
                nets.fit(model, optim.SGD(model, lr=0.1), **kwargs)
            assert calls == [], f"fit({name}={value!r}) ran {calls}"
            assert all(np.array_equal(before[k], v) for k, v in model.state_dict().items()), name


def test_fit_takes_numpy_scalars_and_valid_values():
    model = nets.MultiLayerNet([3, 2], rng=0)
    h = nets.fit(model, optim.SGD(model, lr=np.float32(0.1)), (X, T), (X, T), epochs=np.int64(2),
                 batch_size=np.int32(4), seed=np.int64(0), shuffle=np.bool_(True), progress=None, verbose=False,
                 eval_batch_size=5, metrics=["acc"], log=print, compile=False, distributed=False)
    assert len(h) == 2


def test_huge_sizes_are_refused_before_allocating():
    """Sizes whose weights cannot fit: a ValueError naming the arguments and the memory, never MemoryError."""
    for make in (lambda: nets.Affine(10 ** 12, 10), lambda: nets.Affine(10 ** 6, 10 ** 6),
                 lambda: nets.MultiLayerNet([10, 10 ** 7, 10 ** 6]), lambda: nets.Conv2d(10 ** 4, 10 ** 4, 10 ** 2),
                 lambda: nets.TwoLayerNet(10 ** 6, 10 ** 6, 10), lambda: nets.BatchNorm(10 ** 13),
                 lambda: nets.SimpleConvNet((1, 10 ** 5, 10 ** 5), hidden_size=100)):
        with pytest.raises(ValueError, match="memory"):
            make()


def test_a_huge_convolution_pad_fails_clearly_at_the_forward():
    """Conv2d's pad has no bound without the input (PyTorch's has none either): the op refuses it."""
    layer = nets.Conv2d(1, 1, 3, pad=10 ** 6, rng=0)
    with pytest.raises((ValueError, TypeError), match="pad"):
        layer(np.ones((1, 1, 4, 4), np.float32))
