"""PyTorch with ``torch.compile`` (workload 6 only): the same loss function as the
PyTorch eager contender, compiled by TorchInductor; ``backward`` through it and the
same SGD update.  Compiling happens at the first steps (the warm-up); where
torch.compile cannot build its CPU kernels the workload reports the contender as
skipped, with the error."""
from . import torch_eager

NAME = "torch_compiled"
LABEL = "PyTorch, torch.compile"


def setup():
    version = torch_eager.setup()
    import torch
    if not hasattr(torch, "compile"):
        raise ImportError("this torch has no torch.compile")
    return f"{version}, torch.compile"


class CNN(torch_eager.CNN):
    def __init__(self, spec, params):
        import torch
        super().__init__(spec, params)
        # static shapes: both nets share the code of CNN.loss, and the second one compiled with
        # dynamic shapes fails in Inductor ("Cannot convert expression to float", torch 2.13)
        self.loss = torch.compile(self.loss, dynamic=False)
