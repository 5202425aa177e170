"""Training: ``fit`` and ``evaluate``, the optimizers (``optim``), callbacks (``callbacks``),
metrics (``metrics``), ``History``, ``DataLoader`` and compiled steps (``compile_step``).
Imports ``nets.layers``, ``nets.io`` (training checkpoints), ``nets.distributed`` (a fit
over MPI ranks) and ``nets.util``; never the command line."""
from . import callbacks, metrics, optim
from .compiled import compile_step
from .bptt import SequenceLoader
from .data import DataLoader
from .evaluation import evaluate
from .fitting import fit, random_modules
from .history import History, plot_history

__all__ = ["fit", "evaluate", "History", "plot_history", "random_modules", "compile_step", "DataLoader", "optim",
           "callbacks", "metrics"]
__all__ += ["SequenceLoader"]  # truncated BPTT (nets.training.bptt)
