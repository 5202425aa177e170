"""The command line, ``python -m nets`` (train, eval, gradcheck, graph; see ``nets.cli.program``
for the commands and their options): ``parser`` reads the arguments (checked by ``args``),
``data`` loads the data set, ``train`` and ``commands`` run the commands, ``architectures``
builds the models.  The top of nets: imports every other subpackage, and nothing imports it
(but ``nets/__main__.py``)."""
from .args import UsageError
from .commands import cmd_eval, cmd_gradcheck, cmd_graph
from .data import DEFAULTS
from .parser import build_parser
from .program import COMMANDS, main
from .train import cmd_train, write_graph

__all__ = ["main", "build_parser", "UsageError", "write_graph", "DEFAULTS", "COMMANDS", "cmd_train", "cmd_eval",
           "cmd_gradcheck", "cmd_graph"]
