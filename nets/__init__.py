"""nets: layers, models, optimizers, data and training built on autograd_np.

Every gradient comes from the engine's graph: layers are composed of
``autograd_np`` ops and have no hand-written backward.

    import nets
    (x, t), (xt, tt) = nets.datasets.load_digits()
    model = nets.MultiLayerNet([64, 128, 64, 10], activation="relu")
    opt = nets.optim.Adam(model.parameters(), lr=1e-3)
    history = nets.fit(model, opt, (x, t), (xt, tt), epochs=30, batch_size=32, seed=0)
    model.save("model.npz"); model = nets.load("model.npz")

Modules: ``nets.module`` (Module, Sequential), ``nets.layers``,
``nets.models``, ``nets.conv_layers``, ``nets.init``, ``nets.optim``, ``nets.datasets``,
``nets.data`` (DataLoader), ``nets.training`` (fit, evaluate), ``nets.history`` (History),
``nets.distributed`` (data parallelism under mpirun),
``nets.callbacks`` (EarlyStopping, schedules, clipping, loggers),
``nets.metrics``, ``nets.checkpoint``, ``nets.gradient_check``
(gradient_check, compare_grads), ``nets.cli`` (``python -m nets``).
"""
from . import init, optim, datasets, metrics, callbacks, distributed
from .module import Module, Sequential, StateDictError, register, from_config, accuracy
from .layers import Affine, Sigmoid, ReLU, Tanh, Identity, Flatten, SoftmaxWithLoss, Dropout, BatchNorm
from .models import TwoLayerNet, MultiLayerNet, SimpleConvNet
from .conv_layers import Conv2d, MaxPool2d, AvgPool2d, BatchNorm2d
from .data import DataLoader
from .checkpoint import CheckpointError, load, load_state, save_checkpoint, load_checkpoint
from .training import History, fit, evaluate, plot_history
from .compiled import compile_step
from .gradient_check import gradient_check, GradientCheckReport, GradientCheckRow, compare_grads, GradComparison
from .callbacks import (Callback, LambdaCallback, EarlyStopping, StepLR, CosineAnnealing, LearningRateScheduler,
                        ReduceLROnPlateau, GradientClipping, clip_grad_norm, clip_grad_value, CSVLogger, JSONLogger)
from .datasets import DatasetError

__all__ = ["init", "optim", "datasets", "Module", "Sequential", "StateDictError", "register", "from_config",
           "accuracy", "Affine", "Sigmoid", "ReLU", "Tanh", "Identity", "Flatten", "SoftmaxWithLoss", "Dropout",
           "BatchNorm", "TwoLayerNet", "MultiLayerNet", "DataLoader", "CheckpointError", "load", "load_state",
           "save_checkpoint", "load_checkpoint", "History", "fit", "compile_step", "evaluate", "plot_history", "gradient_check",
           "GradientCheckReport", "GradientCheckRow", "DatasetError", "metrics", "callbacks", "compare_grads",
           "GradComparison", "Callback", "LambdaCallback", "EarlyStopping", "StepLR", "CosineAnnealing",
           "LearningRateScheduler", "ReduceLROnPlateau", "GradientClipping", "clip_grad_norm", "clip_grad_value",
           "CSVLogger", "JSONLogger", "distributed", "SimpleConvNet", "Conv2d", "MaxPool2d", "AvgPool2d", "BatchNorm2d"]
