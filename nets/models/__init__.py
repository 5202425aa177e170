"""Models: the seeds' networks, ``TwoLayerNet``, ``MultiLayerNet`` and the book's
``SimpleConvNet``, and ``BookInterface`` / ``ParamArrays`` (the seeds' ``params``,
``gradient`` and ``numerical_gradient`` over a model's tensors).  Imports ``nets.layers``,
``nets.util`` and ``nets.debug`` (the float64 copy a numerical gradient is taken on)."""
from .networks import BookInterface, MultiLayerNet, ParamArrays, SimpleConvNet, TwoLayerNet

__all__ = ["TwoLayerNet", "MultiLayerNet", "SimpleConvNet", "ParamArrays", "BookInterface"]
