"""``Sequential``: layers applied one after another, the last one the criterion when it is a loss."""
from __future__ import annotations

from ..util.fields import MAX_LAYERS, array_of
from .module import Module
from .registry import config_schema, from_config

__all__ = ["Sequential"]


@config_schema(required={"layers": lambda v, f: array_of(v, f, lambda c, g: c, MAX_LAYERS)}, children="layers")
class Sequential(Module):
    """Layers applied one after another: ``Sequential(Affine(64, 32), ReLU(), Affine(32, 10))``.

    A trailing loss layer (``SoftmaxWithLoss``) is the criterion: ``forward``
    stops before it and ``loss(x, t)`` applies it.  Parameters are named by
    position: ``"0.W"``, ``"0.b"``, ``"2.W"``... ::

        model = nets.Sequential(nets.Affine(64, 32), nets.ReLU(), nets.Affine(32, 10),
                                nets.SoftmaxWithLoss())
        model.loss(x, t).backward()
    """

    def __init__(self, *layers):
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential: layers[{i}] is a {type(layer).__name__}, not a nets.Module")
        self.layers = list(layers)
        self.parameters()  # name them by position now: "0.W"

    def _named_children(self):
        for i, layer in enumerate(self.layers):
            yield str(i), layer

    def __len__(self):
        return len(self.layers)

    def __getitem__(self, i):
        return self.layers[i]

    def __iter__(self):
        return iter(self.layers)

    def append(self, layer):
        self.layers.append(layer)
        self.parameters()
        return self

    def _split(self):
        if self.layers and getattr(self.layers[-1], "is_loss", False):
            return self.layers[:-1], self.layers[-1]
        return self.layers, None

    def forward(self, x):
        body, _ = self._split()
        for layer in body:
            x = layer(x)
        return x

    def criterion(self, y, t):
        _, last = self._split()
        if last is None:
            return super().criterion(y, t)
        loss = last(y, t)
        reg = self.regularization()
        return loss if reg is None else loss + reg

    def config(self):
        return {"type": "Sequential", "layers": [layer.config() for layer in self.layers]}

    @classmethod
    def from_config(cls, config):
        return cls(*[from_config(c) for c in config["layers"]])
