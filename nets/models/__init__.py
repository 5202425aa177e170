"""Models: the seeds' networks, ``TwoLayerNet``, ``MultiLayerNet`` and the book's
``SimpleConvNet``; ``ConvNet`` (blocks of conv, batch norm, ReLU and pooling); and
``BookInterface`` / ``ParamArrays`` (the seeds' ``params``, ``gradient`` and
``numerical_gradient`` over a model's tensors).  Imports ``nets.layers``,
``nets.util`` and ``nets.debug`` (the float64 copy a numerical gradient is taken on)."""
from .networks import BookInterface, MultiLayerNet, ParamArrays, SimpleConvNet, TwoLayerNet
from .text import CharLSTM, CharTransformer, generate, ngram_baselines, text_loss
from .convnet import ConvNet

__all__ = ["TwoLayerNet", "MultiLayerNet", "SimpleConvNet", "ConvNet", "ParamArrays", "BookInterface"]
__all__ += ["CharLSTM", "CharTransformer", "text_loss", "generate", "ngram_baselines"]  # text models (issue 24)
