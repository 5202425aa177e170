"""Workload 6's hand-written NumPy reference: the book's convolutional layers
(``im2col``, ``col2im``, ``Convolution``, ``Pooling``) in the book's own style,
with the seeds' Relu, Affine and SoftmaxWithLoss (``contenders/reference.py``).

As in the book, ``Convolution.backward`` computes ``dx`` also for the first
layer (nobody uses it).  The book's ``BatchNormalization`` normalizes each of
the C*H*W features of an image separately; batch norm for convolutions is per
channel, so ``BatchNorm2d`` here moves the channels last and applies the
book's layer to the (N*H*W, C) rows, the way one would in the book's framework.
float32 throughout, integer labels."""
from collections import OrderedDict

import numpy as np

from .contenders.reference import Affine, Relu, SoftmaxWithLoss


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    N, C, H, W = input_data.shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    img = np.pad(input_data, [(0, 0), (0, 0), (pad, pad), (pad, pad)], "constant")
    col = np.zeros((N, C, filter_h, filter_w, out_h, out_w), dtype=input_data.dtype)
    for y in range(filter_h):
        y_max = y + stride * out_h
        for x in range(filter_w):
            x_max = x + stride * out_w
            col[:, :, y, x, :, :] = img[:, :, y:y_max:stride, x:x_max:stride]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(N * out_h * out_w, -1)


def col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    N, C, H, W = input_shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    col = col.reshape(N, out_h, out_w, C, filter_h, filter_w).transpose(0, 3, 4, 5, 1, 2)
    img = np.zeros((N, C, H + 2 * pad + stride - 1, W + 2 * pad + stride - 1), dtype=col.dtype)
    for y in range(filter_h):
        y_max = y + stride * out_h
        for x in range(filter_w):
            x_max = x + stride * out_w
            img[:, :, y:y_max:stride, x:x_max:stride] += col[:, :, y, x, :, :]
    return img[:, :, pad:H + pad, pad:W + pad]


class Convolution:
    def __init__(self, W, b, stride=1, pad=0):
        self.W, self.b, self.stride, self.pad = W, b, stride, pad
        self.x = self.col = self.col_W = self.dW = self.db = None

    def forward(self, x):
        FN, C, FH, FW = self.W.shape
        N, C, H, W = x.shape
        out_h = 1 + int((H + 2 * self.pad - FH) / self.stride)
        out_w = 1 + int((W + 2 * self.pad - FW) / self.stride)
        col = im2col(x, FH, FW, self.stride, self.pad)
        col_W = self.W.reshape(FN, -1).T
        out = np.dot(col, col_W) + self.b
        out = out.reshape(N, out_h, out_w, -1).transpose(0, 3, 1, 2)
        self.x, self.col, self.col_W = x, col, col_W
        return out

    def backward(self, dout):
        FN, C, FH, FW = self.W.shape
        dout = dout.transpose(0, 2, 3, 1).reshape(-1, FN)
        self.db = np.sum(dout, axis=0)
        self.dW = np.dot(self.col.T, dout)
        self.dW = self.dW.transpose(1, 0).reshape(FN, C, FH, FW)
        dcol = np.dot(dout, self.col_W.T)
        return col2im(dcol, self.x.shape, FH, FW, self.stride, self.pad)


class Pooling:
    def __init__(self, pool_h, pool_w, stride=2, pad=0):
        self.pool_h, self.pool_w, self.stride, self.pad = pool_h, pool_w, stride, pad
        self.x = self.arg_max = None

    def forward(self, x):
        N, C, H, W = x.shape
        out_h = int(1 + (H - self.pool_h) / self.stride)
        out_w = int(1 + (W - self.pool_w) / self.stride)
        col = im2col(x, self.pool_h, self.pool_w, self.stride, self.pad)
        col = col.reshape(-1, self.pool_h * self.pool_w)
        arg_max = np.argmax(col, axis=1)
        out = np.max(col, axis=1)
        out = out.reshape(N, out_h, out_w, C).transpose(0, 3, 1, 2)
        self.x, self.arg_max = x, arg_max
        return out

    def backward(self, dout):
        dout = dout.transpose(0, 2, 3, 1)
        pool_size = self.pool_h * self.pool_w
        dmax = np.zeros((dout.size, pool_size), dtype=dout.dtype)
        dmax[np.arange(self.arg_max.size), self.arg_max.flatten()] = dout.flatten()
        dmax = dmax.reshape(dout.shape + (pool_size,))
        dcol = dmax.reshape(dmax.shape[0] * dmax.shape[1] * dmax.shape[2], -1)
        return col2im(dcol, self.x.shape, self.pool_h, self.pool_w, self.stride, self.pad)


class BatchNormalization:
    """The book's layer (training mode) on rows (N, D)."""

    def __init__(self, gamma, beta, eps=1e-5):
        self.gamma, self.beta, self.eps = gamma, beta, eps
        self.xc = self.xn = self.std = self.dgamma = self.dbeta = None

    def forward(self, x):
        mu = x.mean(axis=0)
        xc = x - mu
        var = np.mean(xc ** 2, axis=0)
        std = np.sqrt(var + self.eps)
        xn = xc / std
        self.xc, self.xn, self.std = xc, xn, std
        return self.gamma * xn + self.beta

    def backward(self, dout):
        batch_size = dout.shape[0]
        self.dbeta = dout.sum(axis=0)
        self.dgamma = np.sum(self.xn * dout, axis=0)
        dxn = self.gamma * dout
        dxc = dxn / self.std
        dstd = -np.sum((dxn * self.xc) / (self.std * self.std), axis=0)
        dvar = 0.5 * dstd / self.std
        dxc += (2.0 / batch_size) * self.xc * dvar
        dmu = np.sum(dxc, axis=0)
        return dxc - dmu / batch_size


class BatchNorm2d(BatchNormalization):
    """Per channel: the book's layer on the (N*H*W, C) rows, channels moved last and back."""

    def forward(self, x):
        N, C, H, W = x.shape
        rows = super().forward(x.transpose(0, 2, 3, 1).reshape(-1, C))
        return rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)

    def backward(self, dout):
        N, C, H, W = dout.shape
        rows = super().backward(dout.transpose(0, 2, 3, 1).reshape(-1, C))
        return rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)


class ConvNet:
    """The layers of a ``cnn_specs.CNNSpec`` in an OrderedDict, the book's ``gradient``."""

    def __init__(self, spec, params):
        self.layers, self.grad_of, it = OrderedDict(), [], iter(params)
        for i, conv in enumerate(spec.convs, 1):
            self.layers[f"Conv{i}"] = layer = Convolution(next(it), next(it), 1, conv.pad)
            self.grad_of += [(layer, "dW"), (layer, "db")]
            if conv.bn:
                self.layers[f"BN{i}"] = bn = BatchNorm2d(next(it), next(it))
                self.grad_of += [(bn, "dgamma"), (bn, "dbeta")]
            self.layers[f"Relu{i}"], self.layers[f"Pool{i}"] = Relu(), Pooling(2, 2, stride=2)
        self.layers["Affine1"] = fc1 = Affine(next(it), next(it))
        self.layers["Relu"], self.layers["Affine2"] = Relu(), Affine(next(it), next(it))
        self.grad_of += [(fc1, "dW"), (fc1, "db"), (self.layers["Affine2"], "dW"), (self.layers["Affine2"], "db")]
        self.last_layer = SoftmaxWithLoss()

    def gradient(self, x, t):
        for layer in self.layers.values():
            x = layer.forward(x)
        loss = self.last_layer.forward(x, t)
        dout = self.last_layer.backward(1)
        for layer in reversed(self.layers.values()):
            dout = layer.backward(dout)
        return loss, [getattr(layer, name) for layer, name in self.grad_of]
