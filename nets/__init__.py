"""nets: layers, models, optimizers, data and training built on autograd_np.

Every gradient comes from the engine's graph: layers are composed of
``autograd_np`` ops and have no hand-written backward. ::

    import nets
    (x, t), (xt, tt) = nets.datasets.load_digits()
    model = nets.MultiLayerNet([64, 128, 64, 10], activation="relu")
    opt = nets.optim.Adam(model.parameters(), lr=1e-3)
    history = nets.fit(model, opt, (x, t), (xt, tt), epochs=30, batch_size=32, seed=0)
    model.save("model.npz"); model = nets.load("model.npz")

Subpackages, each importing only those before it: ``nets.util`` (argument
checks), ``nets.layers`` (Module, Sequential, the layers, ``nets.init``),
``nets.debug`` (gradient_check, compare_grads), ``nets.models`` (TwoLayerNet,
MultiLayerNet, SimpleConvNet), ``nets.io`` (checkpoints, ``nets.datasets``),
``nets.distributed`` (data parallelism under mpirun), ``nets.training`` (fit,
evaluate, History, DataLoader, ``nets.optim``, ``nets.callbacks``,
``nets.metrics``) and ``nets.cli`` (``python -m nets``).  The old module paths
(``nets.module``, ``nets.checkpoint``, ...) still import (``nets._moved``).
"""
from . import _moved
from .layers import init
from .layers import (Module, Sequential, StateDictError, register, from_config, accuracy, Affine, Sigmoid, ReLU,
                     Tanh, Identity, Flatten, SoftmaxWithLoss, Dropout, BatchNorm, Conv2d, MaxPool2d, AvgPool2d,
                     BatchNorm2d)
from .layers import (Linear, LeakyReLU, GELU, SiLU, Softplus, Softmax, LogSoftmax, CrossEntropyLoss, MSELoss,
                     ConfigError)
from .debug import gradient_check, GradientCheckReport, GradientCheckRow, compare_grads, GradComparison
from .models import TwoLayerNet, MultiLayerNet, SimpleConvNet, ConvNet
from .io import datasets, CheckpointError, load, load_state, save_checkpoint, load_checkpoint, DatasetError
from . import distributed
from .training import optim, metrics, callbacks
from .training import DataLoader, History, fit, evaluate, plot_history, compile_step
from .training.callbacks import (Callback, LambdaCallback, EarlyStopping, StepLR, CosineAnnealing,
                                 LearningRateScheduler, ReduceLROnPlateau, GradientClipping, clip_grad_norm,
                                 clip_grad_value, CSVLogger, JSONLogger)
from .layers import Embedding, LayerNorm, RNN, LSTM, GRU, MultiheadAttention, TransformerEncoderLayer
from .training import SequenceLoader
from .io import text

_moved.install()

__all__ = ["init", "optim", "datasets", "Module", "Sequential", "StateDictError", "register", "from_config",
           "accuracy", "Affine", "Sigmoid", "ReLU", "Tanh", "Identity", "Flatten", "SoftmaxWithLoss", "Dropout",
           "BatchNorm", "TwoLayerNet", "MultiLayerNet", "DataLoader", "CheckpointError", "load", "load_state",
           "save_checkpoint", "load_checkpoint", "History", "fit", "compile_step", "evaluate", "plot_history",
           "gradient_check", "GradientCheckReport", "GradientCheckRow", "DatasetError", "metrics", "callbacks",
           "compare_grads", "GradComparison", "Callback", "LambdaCallback", "EarlyStopping", "StepLR",
           "CosineAnnealing", "LearningRateScheduler", "ReduceLROnPlateau", "GradientClipping", "clip_grad_norm",
           "clip_grad_value", "CSVLogger", "JSONLogger", "distributed", "SimpleConvNet", "Conv2d", "MaxPool2d",
           "AvgPool2d", "BatchNorm2d"]
__all__ += ["Linear", "LeakyReLU", "GELU", "SiLU", "Softplus", "Softmax", "LogSoftmax", "CrossEntropyLoss", "MSELoss",
            "ConfigError"]  # PyTorch's names (issue 24)
__all__ += ["Embedding", "LayerNorm", "RNN", "LSTM", "GRU", "MultiheadAttention", "TransformerEncoderLayer",
            "SequenceLoader", "text"]  # sequence models and text (issue 24)


def __getattr__(name):
    """``nets.checkpoint``, ``nets.module``...: the old modules as attributes, as after ``import nets`` before."""
    if name in _moved.MOVED:
        import importlib
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'nets' has no attribute {name!r}")
