"""The seeds' networks: ``TwoLayerNet`` and the deeper ``MultiLayerNet``.

    net = nets.TwoLayerNet(input_size=784, hidden_size=50, output_size=10)
    grads = net.gradient(x_batch, t_batch)           # backprop through the graph
    for key in ("W1", "b1", "W2", "b2"):
        net.params[key] -= 0.1 * grads[key]          # the seeds' update loop works as is

    model = nets.MultiLayerNet([784, 128, 64, 10], activation="relu", weight_decay=1e-4)
    opt = nets.optim.Adam(model.parameters(), lr=1e-3)
"""
from __future__ import annotations

from collections.abc import Mapping, MutableMapping

import numpy as np

import autograd_np as ag

from ..debug.gradients import float64_copy
from ..layers import init as _init
from ..layers.basic import Affine, BatchNorm, Dropout, Flatten, activation as _activation, activation_config
from ..layers.conv import Conv2d, MaxPool2d
from ..layers.init import WEIGHT_BYTES
from ..layers.module import Module
from ..layers.registry import config_schema
from ..util import validate as _v
from ..util import fields as _fields
from ..util.fields import Bad

__all__ = ["TwoLayerNet", "MultiLayerNet", "SimpleConvNet", "ParamArrays", "BookInterface"]


class ParamArrays(MutableMapping):
    """``model.params``: parameter name -> the parameter's ndarray (``tensor.data``).

    Reading gives the array itself (not a copy), so ``params["W1"] -= lr * g``
    updates the model in place, as in the seeds; assigning an array of the same
    shape replaces the tensor's data (cast to its dtype).  The tensors
    themselves are ``model.tensors[name]``.
    """

    def __init__(self, tensors: dict):
        self._tensors = tensors

    def __getitem__(self, key):
        return self._tensors[key].data

    def __setitem__(self, key, value):
        t = self._tensors[key]
        value = np.asarray(value)
        if value.shape != t.shape:
            raise ValueError(f"params[{key!r}]: shape {value.shape} does not match the parameter's {t.shape}")
        t.data = value if value.dtype == t.dtype else value.astype(t.dtype)

    def __delitem__(self, key):
        raise TypeError("parameters cannot be removed")

    def __iter__(self):
        return iter(self._tensors)

    def __len__(self):
        return len(self._tensors)

    def __repr__(self):
        return "{" + ", ".join(f"{k!r}: array{v.shape}" for k, v in self.items()) + "}"


class BookInterface:
    """The book's network interface over a model's named tensors (``self.tensors``):
    ``params`` (the ndarrays themselves, see ``ParamArrays``), ``gradient`` by
    backprop and ``numerical_gradient`` by central differences."""

    @property
    def params(self) -> ParamArrays:
        return ParamArrays(self.tensors)

    def accuracy(self, x, t, batch_size: int = 100) -> float:
        """The book's ``accuracy(x, t, batch_size=100)``: computed ``batch_size`` rows at
        a time (a convolution's im2col rows for a whole test set would not fit), in
        eval mode under no_grad."""
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"accuracy: batch_size must be a positive integer, got {batch_size!r}")
        n = len(x)
        if n == 0:
            return 0.0
        hits = sum(Module.accuracy(self, x[i:i + batch_size], t[i:i + batch_size]) * len(x[i:i + batch_size])
                   for i in range(0, n, batch_size))
        return float(hits / n)

    def gradient(self, x, t) -> dict:
        """Gradients of ``loss(x, t)`` by backprop through the graph: name -> ndarray."""
        self.zero_grad()
        self.loss(x, t).backward()
        return {k: p.grad.copy() for k, p in self.tensors.items()}

    def numerical_gradient(self, x, t, eps=1e-4) -> dict:
        """The seeds' slow way: central differences of ``loss`` for every
        parameter element (``ag.numerical_gradient``).  For checking only.

        Computed on a float64 copy of the net, ``x`` and ``t`` (as
        ``nets.gradient_check`` does): in float32 the rounding of the loss
        alone is about as large as the gradients.  The net itself is not
        perturbed; the gradients come back in the parameters' dtype, like
        ``gradient``'s."""
        net, x, t = float64_copy(self, x, t)
        grads = {}
        with ag.no_grad():
            for key, p in net.tensors.items():
                num = ag.numerical_gradient(lambda _: net.loss(x, t).item(), p.data, eps)
                grads[key] = num.astype(self.tensors[key].dtype, copy=False)
        return grads


@config_schema(required={"input_size": _fields.size, "hidden_size": _fields.size, "output_size": _fields.size},
               optional={"weight_init_std": _init.config_check, "activation": activation_config},
               size=lambda c: (c["input_size"] + 1) * c["hidden_size"] + (c["hidden_size"] + 1) * c["output_size"])
class TwoLayerNet(BookInterface, Module):
    """The seeds' two-layer net: affine -> sigmoid -> affine -> softmax-with-loss.

    ``TwoLayerNet(input_size, hidden_size, output_size, weight_init_std=0.01,
    activation="sigmoid", rng=None, dtype=np.float32)``.  Parameters ``W1 b1
    W2 b2``; ``.params`` maps those names to their **ndarrays** (see
    ``ParamArrays``), ``.tensors`` to the ``ag.Tensor`` objects.

    ``predict(x)`` gives the scores (logits; softmax is monotonic, so argmax
    is unchanged), ``loss(x, t)`` the cross-entropy tensor, ``accuracy(x, t)``
    a float, ``gradient(x, t)`` a dict of ndarrays by backprop and
    ``numerical_gradient(x, t)`` the same by central differences (slow; for
    checking).  ``t`` may be labels or one-hot rows.
    """

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01, activation="sigmoid",
                 rng=None, dtype=np.float32):
        super().__init__()
        who = "TwoLayerNet"
        self.sizes = tuple(_v.integer(v, name, who) for v, name in ((input_size, "input_size"),
                                                                     (hidden_size, "hidden_size"),
                                                                     (output_size, "output_size")))
        self.weight_init_std, self.activation_name = weight_init_std, activation
        i, h, o = self.sizes
        std = _init.std_for(weight_init_std, i, "weight_init_std", who), _init.std_for(weight_init_std, h,
                                                                                     "weight_init_std", who)
        rng, dtype = _init.rng_of(rng, "rng", who), _v.float_dtype(dtype, "dtype", who)
        _activation(activation, who)
        _v.allocation(who, f"input_size={i}, hidden_size={h} and output_size={o}", i * h + h * o, WEIGHT_BYTES)
        W1, W2 = (_init.normal(shape, s, rng, dtype, who, "weight_init_std") for shape, s in (((i, h), std[0]),
                                                                                            ((h, o), std[1])))
        self.W1 = ag.Tensor(W1, requires_grad=True, name="W1")
        self.b1 = ag.Tensor(np.zeros(h, dtype=dtype), requires_grad=True, name="b1")
        self.W2 = ag.Tensor(W2, requires_grad=True, name="W2")
        self.b2 = ag.Tensor(np.zeros(o, dtype=dtype), requires_grad=True, name="b2")
        self.act = _activation(activation, who)

    @property
    def tensors(self) -> dict:
        return {"W1": self.W1, "b1": self.b1, "W2": self.W2, "b2": self.b2}

    def forward(self, x):
        x = np.asanyarray(x, dtype=self.W1.dtype) if not isinstance(x, ag.Tensor) else x  # (see layers._as_input)
        return ag.affine(self.act(ag.affine(x, self.W1, self.b1)), self.W2, self.b2)

    def config(self):
        i, h, o = self.sizes
        return {"type": "TwoLayerNet", "input_size": i, "hidden_size": h, "output_size": o,
                "weight_init_std": self.weight_init_std, "activation": self.activation_name}


def _mlp_size(c):
    """The numbers a MultiLayerNet config holds (its schema's size)."""
    sizes = c["sizes"]
    if len(sizes) < 2:
        raise Bad("sizes", f"{len(sizes)} size(s): at least two are needed (inputs and outputs)")
    total = sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))
    if c.get("batchnorm"):
        total += 4 * sum(sizes[1:-1])
    return total


@config_schema(required={"sizes": lambda v, f: _fields.array_of(v, f, _fields.size, _fields.MAX_LAYERS)},
               optional={"activation": activation_config, "weight_decay": lambda v, f: _fields.number(v, f, lo=0.0),
                         "dropout": _fields.fraction, "batchnorm": _fields.boolean, "init": _init.config_check},
               size=_mlp_size)
class MultiLayerNet(Module):
    """The seeds' deeper fully connected net, e.g. 784-128-64-10.

    ``MultiLayerNet(sizes=[784, 128, 64, 10], activation="relu", weight_decay=0.0,
    dropout=0.0, batchnorm=False, init=None, rng=None, dtype=np.float32)``.
    Each hidden layer is ``Affine [-> BatchNorm] -> activation [-> Dropout]``;
    the last is a plain ``Affine`` giving the logits.  Layers are attributes
    ``fc1, bn1, act1, drop1, fc2, ...``, so parameters are named ``fc1.W``,
    ``fc1.b``, ``bn1.gamma``...  ``init`` defaults to He for ReLU and Xavier
    otherwise.  ``weight_decay`` (lambda) adds the seeds' L2 term
    ``0.5 * lambda * sum(W ** 2)`` over the weights (not biases) to the loss.
    """

    def __init__(self, sizes=(784, 128, 64, 10), activation="relu", weight_decay=0.0, dropout=0.0,
                 batchnorm=False, init=None, rng=None, dtype=np.float32):
        super().__init__()
        who = "MultiLayerNet"
        sizes = _v.int_list(sizes, "sizes", who, min_len=2)
        _activation(activation, who)  # validates the name
        self.sizes, self.activation_name = sizes, activation
        self.weight_decay = _v.number(weight_decay, "weight_decay", who, low=0.0)
        self.dropout = _v.number(dropout, "dropout", who, low=0.0, high=1.0, high_open=True)
        self.batchnorm = _v.flag(batchnorm, "batchnorm", who)
        if init is not None:
            _init.check_init(init, "init", who)
        self.init = init if init is not None else ("he" if activation.lower() == "relu" else "xavier")
        rng, dtype = _init.rng_of(rng, "rng", who), _v.float_dtype(dtype, "dtype", who)
        _v.allocation(who, f"sizes={sizes}", sum(a * b for a, b in zip(sizes, sizes[1:])), WEIGHT_BYTES)
        order = []
        n = len(sizes) - 1
        for i in range(1, n + 1):
            setattr(self, f"fc{i}", Affine(sizes[i - 1], sizes[i], init=self.init, rng=rng, dtype=dtype))
            order.append(f"fc{i}")
            if i == n:
                break
            if self.batchnorm:
                setattr(self, f"bn{i}", BatchNorm(sizes[i], dtype=dtype))
                order.append(f"bn{i}")
            setattr(self, f"act{i}", _activation(activation, who))
            order.append(f"act{i}")
            if self.dropout > 0:
                seed = int(rng.integers(2 ** 63))
                setattr(self, f"drop{i}", Dropout(self.dropout, rng=seed))
                order.append(f"drop{i}")
        self.layer_names = tuple(order)

    @property
    def layers(self):
        return [getattr(self, name) for name in self.layer_names]

    def forward(self, x):
        for name in self.layer_names:
            x = getattr(self, name)(x)
        return x

    def regularization(self):
        if self.weight_decay == 0.0:
            return None
        total = None
        for i in range(1, len(self.sizes)):
            W = getattr(self, f"fc{i}").W
            term = ag.sum(W * W)
            total = term if total is None else total + term
        return total * (0.5 * self.weight_decay)

    def extra_repr(self):
        return "-".join(map(str, self.sizes))

    def config(self):
        return {"type": "MultiLayerNet", "sizes": list(self.sizes), "activation": self.activation_name,
                "weight_decay": self.weight_decay, "dropout": self.dropout, "batchnorm": self.batchnorm,
                "init": self.init}


def _conv_geometry(input_dim, conv_param):
    """SimpleConvNet's checked ``(input_dim, conv_param, out_h, out_w)``: the convolution's output size."""
    if conv_param is not None and not isinstance(conv_param, Mapping):
        raise TypeError(f"SimpleConvNet: conv_param must be a dict such as {{'filter_num': 30, 'filter_size': 5, "
                        f"'pad': 0, 'stride': 1}}, got {conv_param!r:.80}")
    conv = {"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1, **(conv_param or {})}
    unknown = set(conv) - {"filter_num", "filter_size", "pad", "stride"}
    if unknown:
        raise ValueError(f"SimpleConvNet: unknown conv_param keys {sorted(unknown)}")
    if not isinstance(input_dim, (tuple, list)) or len(input_dim) != 3:
        raise ValueError(f"SimpleConvNet: input_dim must be (channels, height, width), got {input_dim!r:.80}")
    dims = tuple(_v.integer(v, f"input_dim {name}", "SimpleConvNet")
                 for v, name in zip(input_dim, ("channels", "height", "width")))
    conv = {k: _v.integer(v, f"conv_param {k}", "SimpleConvNet", low=0 if k == "pad" else 1) for k, v in conv.items()}
    _, h, w = dims
    size, stride, pad = conv["filter_size"], conv["stride"], conv["pad"]
    out_h, out_w = (h + 2 * pad - size) // stride + 1, (w + 2 * pad - size) // stride + 1
    if out_h < 2 or out_w < 2:
        raise ValueError(f"SimpleConvNet: conv_param {conv} and input_dim {dims}: a {size}x{size} filter (pad {pad}, "
                         f"stride {stride}) leaves {out_h}x{out_w} of a {h}x{w} image: too small for the 2x2 pooling")
    return dims, conv, out_h, out_w


def _conv_param_config(v, field):
    _fields.mapping(v, field, required=("filter_num", "filter_size", "pad", "stride"))
    for key, lo in (("filter_num", 1), ("filter_size", 1), ("pad", 0), ("stride", 1)):
        _fields.integer(v[key], f"{field}.{key}", lo=lo, hi=_fields.MAX_UNITS)
    return v


def _simple_conv_size(c):
    """The numbers a SimpleConvNet config holds (its schema's size)."""
    channels, height, width = c["input_dim"]
    conv = c["conv_param"]
    n, k, pad, stride = conv["filter_num"], conv["filter_size"], conv["pad"], conv["stride"]
    out_h, out_w = (height + 2 * pad - k) // stride + 1, (width + 2 * pad - k) // stride + 1
    if out_h < 2 or out_w < 2:
        raise Bad("conv_param", f"a {k}x{k} filter leaves {out_h}x{out_w} of the {height}x{width} input")
    pooled = n * (out_h // 2) * (out_w // 2)
    h, o = c["hidden_size"], c["output_size"]
    return n * channels * k * k + n + (pooled + 1) * h + (h + 1) * o


@config_schema(required={"input_dim": lambda v, f: _fields.exactly(_fields.array_of(v, f, _fields.size, 3), f, 3),
                         "conv_param": _conv_param_config, "hidden_size": _fields.size, "output_size": _fields.size},
               optional={"weight_init_std": _init.config_check}, size=_simple_conv_size)
class SimpleConvNet(BookInterface, Module):
    """The book's convolutional net: conv -> ReLU -> 2x2 max-pool -> affine -> ReLU
    -> affine -> softmax-with-loss, on the graph.

    ``SimpleConvNet(input_dim=(1, 28, 28), conv_param={"filter_num": 30,
    "filter_size": 5, "pad": 0, "stride": 1}, hidden_size=100, output_size=10,
    weight_init_std=0.01, rng=None, dtype=np.float32)``, the book's arguments
    (``weight_init_std`` a number, or "he" / "xavier").  Parameters ``W1 b1``
    (the convolution's, W1 of shape (filter_num, C, size, size)), ``W2 b2``,
    ``W3 b3``; ``params``, ``predict``, ``loss``, ``accuracy``, ``gradient`` and
    ``numerical_gradient`` as ``TwoLayerNet``'s.  Input: NCHW images, e.g.
    ``load_mnist(flatten=False)``.
    """

    def __init__(self, input_dim=(1, 28, 28), conv_param=None, hidden_size=100, output_size=10,
                 weight_init_std=0.01, rng=None, dtype=np.float32):
        super().__init__()
        self.input_dim, self.conv_param, out_h, out_w = _conv_geometry(input_dim, conv_param)
        self.hidden_size = _v.integer(hidden_size, "hidden_size", "SimpleConvNet")
        self.output_size = _v.integer(output_size, "output_size", "SimpleConvNet")
        self.weight_init_std = init = weight_init_std
        _init.check_init(init, "weight_init_std", "SimpleConvNet")
        rng, dtype = _init.rng_of(rng, "rng", "SimpleConvNet"), _v.float_dtype(dtype, "dtype", "SimpleConvNet")
        c, conv = self.input_dim[0], self.conv_param
        size, stride, pad = conv["filter_size"], conv["stride"], conv["pad"]
        pooled = conv["filter_num"] * (out_h // 2) * (out_w // 2)
        weights = conv["filter_num"] * c * size * size + pooled * self.hidden_size + self.hidden_size * self.output_size
        _v.allocation("SimpleConvNet", f"input_dim={input_dim!r}, conv_param={conv}, hidden_size={hidden_size} and "
                      f"output_size={output_size}",
                      weights, WEIGHT_BYTES)
        self.conv1 = Conv2d(c, conv["filter_num"], size, stride=stride, pad=pad, init=init, rng=rng, dtype=dtype)
        self.relu1, self.pool1, self.flatten = _activation("relu"), MaxPool2d(2), Flatten()
        self.affine1 = Affine(pooled, self.hidden_size, init=init, rng=rng, dtype=dtype)
        self.relu2 = _activation("relu")
        self.affine2 = Affine(self.hidden_size, self.output_size, init=init, rng=rng, dtype=dtype)

    @property
    def tensors(self) -> dict:
        return {"W1": self.conv1.W, "b1": self.conv1.b, "W2": self.affine1.W, "b2": self.affine1.b,
                "W3": self.affine2.W, "b3": self.affine2.b}

    def forward(self, x):
        x = self.pool1(self.relu1(self.conv1(x)))
        return self.affine2(self.relu2(self.affine1(self.flatten(x))))

    def extra_repr(self):
        conv = self.conv_param
        return f"input_dim={self.input_dim}, {conv['filter_num']} filters of {conv['filter_size']}"

    def config(self):
        return {"type": "SimpleConvNet", "input_dim": list(self.input_dim), "conv_param": dict(self.conv_param),
                "hidden_size": self.hidden_size, "output_size": self.output_size,
                "weight_init_std": self.weight_init_std}
