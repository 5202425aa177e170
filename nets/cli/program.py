"""``python -m nets``: train, evaluate and gradient-check networks from the shell.

    python -m nets train --dataset digits                       # the demo: ~97-98 % in seconds
    python -m nets train --dataset fashion-mnist --layers 784,256,128,10 --epochs 10 --out runs/fashion
    python -m nets train --dataset fashion-mnist --val 5000 --schedule cosine --early-stopping 4 --clip-norm 5
    python -m nets eval --model runs/digits/model.npz --dataset digits
    python -m nets gradcheck --layers 64,32,10 --batchnorm --explain
    python -m nets graph --layers 784,128,64,10 --collapse --show-grads --out graph.svg
    python -m nets text --model lstm --minutes 3                # a character-level language model (nets.cli.text)

``train`` writes into ``--out`` (default ``runs/<dataset>``): ``model.npz``,
``checkpoint.npz`` (after every epoch; ``--resume`` continues from it),
``history.json``, ``log.csv`` (one row per epoch), ``curves.png`` (loss and
accuracy) and ``graph.svg`` (the graph of one forward pass and loss;
``graph.dot`` text when Graphviz's ``dot`` is missing).  ``--val N`` holds the
last N training images out as a validation set, which ``--early-stopping
PATIENCE`` (restoring the best epoch's weights) and ``--schedule plateau``
watch; ``--schedule step|cosine|plateau`` sets the learning rate per epoch and
``--clip-norm X`` clips the gradients' global norm (``nets.callbacks``).
``gradcheck`` exits with 1 when a gradient disagrees (``--explain`` also prints
the backward pass step by step, ``ag.explain``, on 2 samples).
``graph`` draws a model's graph (one forward pass and loss on a random batch,
no data set needed) with ``autograd_np.viz``: a box per layer, or one node per
layer with ``--collapse``, gradient norms with ``--show-grads``; the picture's
format follows ``--out``'s suffix (.svg, .png, .pdf or .dot).

Under ``mpirun -n K`` ``train`` is data-parallel (``nets.distributed``): rank
0 prints and writes the files, and a failure on any rank ends the job.

Every argument is checked before any training (``nets.cli.args``): numbers
must be finite and in range (``--seed`` from 0 to 2**32 - 1, numpy's legacy
seed range), ``--layers`` has no empty items and a size that fits the memory,
output folders are created and probed with a test file, and output files
that are folders are refused.  Bad arguments, data sets and checkpoints print
one line ``nets: error: ...`` on stderr and exit with status 2; a diverging
run, a file that cannot be written or memory running out, one line and
status 1.
"""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np

from .. import distributed as _distributed
from ..io.checkpoint import CheckpointError
from ..io.datasets import DatasetError
from ..layers import StateDictError
from .args import UsageError
from .commands import cmd_eval, cmd_gradcheck, cmd_graph
from .parser import build_parser
from .text import cmd_text
from .train import cmd_train

__all__ = ["main", "COMMANDS"]


#: The subcommands of ``python -m nets``, by name: the function that runs each.
COMMANDS = {"train": cmd_train, "eval": cmd_eval, "gradcheck": cmd_gradcheck, "graph": cmd_graph, "text": cmd_text}


def _one_line(text) -> str:
    return " ".join(str(text).split()) or "(no message)"


def _os_message(exc: OSError) -> str:
    """``path: reason`` for an OSError (permissions, a full disk, a path that cannot be)."""
    where = " -> ".join(str(f) for f in (exc.filename, exc.filename2) if f is not None)
    reason = exc.strerror or str(exc) or type(exc).__name__
    return f"{where}: {reason}" if where else reason


def _say(message):
    world = _distributed.active()
    where = f"rank {world.rank} of {world.size}: " if world is not None and world.size > 1 else ""
    print(f"nets: error: {where}{_one_line(message)}", file=sys.stderr)


def _lenient_output():
    """Paths that are not valid UTF-8 (undecodable bytes from the shell) print escaped, not as a traceback."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError, OSError):
            pass


def main(argv=None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); returns the exit status.

    Expected failures print one line ``nets: error: ...`` on stderr: bad arguments, data
    sets and checkpoints (status 2); a diverging run, files that cannot be written, memory
    (status 1).  Ctrl-C gives status 130.  Anything else is a bug and shows its traceback.
    Under mpirun a failure on any rank ends every rank (MPI_Abort), so none waits forever."""
    if argv is None:
        _lenient_output()
    status = _run(argv)
    world = _distributed.active()
    if status != 0 and world is not None and world.size > 1:
        world.abort(f"python -m nets ended with status {status}", status)
    return status


def _run(argv) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            raise UsageError("choose a command: train, eval, gradcheck, graph or text (see python -m nets --help)")
        # NumPy's overflow warnings would add lines to stderr; a diverging fit says so itself
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return COMMANDS[args.command](args)
    except (UsageError, DatasetError, CheckpointError, StateDictError, _distributed.RanksDisagree) as exc:
        _say(exc)
        return 2
    except (FloatingPointError, _distributed.RankFailed) as exc:  # (another rank failed: it says why)
        _say(exc)
        return 1
    except MemoryError as exc:
        _say(f"out of memory{': ' + str(exc) if str(exc) else ''}")
        return 1
    except BrokenPipeError:  # stdout closed early (python -m nets ... | head): nothing more to say
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 1
    except OSError as exc:
        _say(_os_message(exc))
        return 1
    except subprocess.CalledProcessError as exc:  # Graphviz's dot failed
        detail = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        _say(f"{exc.cmd[0] if exc.cmd else 'a program'} failed with status {exc.returncode}: {detail}")
        return 1
    except KeyboardInterrupt:
        print("nets: interrupted", file=sys.stderr)
        return 130
