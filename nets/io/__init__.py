"""Files: model and training checkpoints (``checkpoint``: save and load; ``checkpoint_format``:
the ``.npz`` archive read without trusting it; ``checkpoint_schema``: its JSON metadata checked
field by field; ``checkpoint_atomic``: atomic writes) and the data sets (``datasets``: IDX files
such as MNIST and Fashion-MNIST, scikit-learn's digits).  Imports ``nets.layers`` (the
architecture registry a checkpoint is rebuilt from, never a layer or model class by name)
and ``nets.util``."""
from . import datasets
from .checkpoint import CheckpointError, load, load_checkpoint, load_state, save_checkpoint, save_model
from .datasets import DatasetError

__all__ = ["CheckpointError", "load", "load_state", "save_checkpoint", "load_checkpoint", "save_model",
           "DatasetError", "datasets"]
