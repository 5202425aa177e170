"""Layers: the ``Module`` base of every layer and model (calling, sub-module discovery,
state dicts, the compile guard), ``Sequential``, the layers (``Affine``, activations,
``Dropout``, ``BatchNorm``, convolutions and pooling; PyTorch's ``Linear``, activations
and loss names), ``model.summary`` (``summary``), the default ``config()`` that records a
module's constructor arguments (``recorded``), the weight initializers
(``nets.init``) and the architecture registry ``nets.load`` rebuilds models from.  Imports
``nets.util`` only: what sits above (models, checkpoints, training) registers itself here
(``Module`` subclasses fill the registry as they are defined) instead of being imported."""
from . import init
from .basic import (ACTIVATIONS, Affine, BatchNorm, Dropout, Flatten, Identity, ReLU, Sigmoid, SoftmaxWithLoss,
                    Tanh, activation, check_batch_norm)
from .conv import AvgPool2d, BatchNorm2d, Conv2d, MaxPool2d
from .calling import ModulePath, accuracy
from .module import Module
from .registry import REGISTRY, from_config, register
from .sequential import Sequential
from .state import StateDictError
from .activations import GELU, LeakyReLU, LogSoftmax, SiLU, Softmax, Softplus
from .linear import Linear
from .losses import CrossEntropyLoss, MSELoss
from .recorded import ConfigError
from .summary import Summary, SummaryRow
from .embedding import Embedding, LayerNorm
from .recurrent import GRU, LSTM, RNN
from .attention import MultiheadAttention, TransformerEncoderLayer, causal_mask

__all__ = ["Module", "Sequential", "StateDictError", "register", "from_config", "REGISTRY", "ModulePath", "accuracy",
           "Affine", "Sigmoid", "ReLU", "Tanh", "Identity", "Flatten", "SoftmaxWithLoss", "Dropout", "BatchNorm",
           "activation", "ACTIVATIONS", "check_batch_norm", "Conv2d", "MaxPool2d", "AvgPool2d", "BatchNorm2d", "init",
           "Linear", "LeakyReLU", "GELU", "SiLU", "Softplus", "Softmax", "LogSoftmax", "CrossEntropyLoss", "MSELoss",
           "ConfigError", "Summary", "SummaryRow"]
__all__ += ["Embedding", "LayerNorm", "RNN", "LSTM", "GRU", "MultiheadAttention", "TransformerEncoderLayer",
            "causal_mask"]  # sequence models (issue 24)
