"""The command line, ``python -m nets`` (train, eval, gradcheck, graph): see
``nets.cli.program`` for the commands and their options.  The top of nets: imports every other
subpackage, and nothing imports it (but ``nets/__main__.py``)."""
from .args import UsageError
from .program import COMMANDS, DEFAULTS, build_parser, cmd_eval, cmd_gradcheck, cmd_graph, cmd_train, main, write_graph

__all__ = ["main", "build_parser", "UsageError", "write_graph", "DEFAULTS", "COMMANDS", "cmd_train", "cmd_eval",
           "cmd_gradcheck", "cmd_graph"]
