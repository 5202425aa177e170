"""A model's training step compiled with ``ag.compile``: traced once, replayed
as flat code (see ``autograd_np/compiler.py``).

    step = nets.compile_step(model)
    for x, t in loader:
        opt.zero_grad()
        loss, y = step(x, t)     # forward, criterion, backward into the parameters' .grad
        opt.step()

Dropout draws its masks and BatchNorm updates its running statistics inside
their ops, so a replay draws and updates exactly as an eager step does.  The
step re-traces when any state of the model changes (``Module.__compile_guard__``:
train/eval mode, a layer, parameter, running statistic or generator replaced,
a layer's settings), and on whatever ``ag.compile`` itself guards (the shapes
and dtypes of the batch and of the parameters).
"""
from __future__ import annotations

import autograd_np as ag

from ..layers.module import Module

__all__ = ["compile_step"]


def compile_step(model: Module, check: bool = False, strict: bool = False):
    """``step(x, t) -> (loss, y)``: ``y = model(x)``, ``loss = model.criterion(y, t)``,
    then ``loss.backward()``, compiled.  ``loss`` and ``y`` are copies (tensors
    cut from the graph).  The model's whole state is guarded
    (``Module.__compile_guard__``): a layer replaced, a parameter replaced by
    another tensor, ``train()``/``eval()``, ``Dropout.p`` or ``.mask`` changed,
    a running statistic or generator replaced: the step traces again.
    ``check=True`` also runs eagerly and raises ``ag.CompileError`` on any
    difference (for debugging); ``strict=True`` raises it instead of running
    eagerly."""

    if not isinstance(model, Module):
        raise TypeError(f"compile_step: model must be a nets.Module, got {type(model).__name__}")

    def train_step(x, t):
        y = model(x)
        return model.criterion(y, t), y

    step = ag.compile(train_step, check=check, strict=strict, guard_modules=[model])
    step.model = model
    return step
