"""Anomaly mode: find the op where a NaN or an inf first appears.

    with ag.detect_anomaly():
        loss = model_loss(...)
        loss.backward()

Inside the block every op's output and every gradient sent in backward is
checked, and NumPy floating-point warnings inside ops (overflow, division by
zero, invalid values) become errors.  The first bad value raises
``AnomalyError`` naming the op, forward or backward, its input shapes and
dtypes, and the line of your code that created the node.  Creation stacks are
recorded only inside the block, so ordinary runs pay nothing for this.
"""
from __future__ import annotations

import re
import traceback
from pathlib import Path

import numpy as np

from .. import core as engine
from ..core import modes

__all__ = ["detect_anomaly", "AnomalyError"]

_PACKAGE_DIR = str(Path(__file__).resolve().parent.parent)  # autograd_np/, not only debug/


class AnomalyError(FloatingPointError):
    """A NaN or inf (or a floating-point error) in an op's forward or backward.

    Attributes: ``op`` (name), ``phase`` ("forward" or "backward"), ``inputs``
    (``(shape, dtype)`` per input), ``where`` (the user's line that created the
    node, "file:line: code"), ``node`` (the graph ``Node``, when the op was
    recorded), ``tensor`` (a forward anomaly's output tensor)."""

    def __init__(self, message, op, phase, inputs, where, node=None, tensor=None):
        super().__init__(message)
        self.op, self.phase, self.inputs, self.where, self.node, self.tensor = op, phase, inputs, where, node, tensor


# Jupyter runs each cell from a temporary file (/tmp/ipykernel_PID/HASH.py): its folder
# names nothing the reader can open, so the cell is called a cell.
_NOTEBOOK_CELL = re.compile(r"[/\\]ipykernel_\d+[/\\][^/\\]+\.py\Z")


def _user_frame():
    """The innermost stack frame outside autograd_np (and nets), as "file:line: code"
    ("<notebook cell>:line: code" in Jupyter)."""
    for frame in reversed(traceback.extract_stack()[:-1]):
        if not frame.filename.startswith(_PACKAGE_DIR) and "/nets/" not in frame.filename:
            filename = "<notebook cell>" if _NOTEBOOK_CELL.search(frame.filename) else frame.filename
            return f"{filename}:{frame.lineno}: {(frame.line or '').strip()}"
    return "<unknown>"


def _describe_inputs(values):
    described = []
    for v in values:
        v = v.data if isinstance(v, engine.Tensor) else v
        if isinstance(v, np.ndarray):
            described.append((v.shape, str(v.dtype)))
    return described


def _bad_values(array, check_nan, check_inf):
    array = np.asarray(array)
    if array.dtype.kind not in "fc":
        return None
    if check_nan and np.isnan(array).any():
        return "NaN"
    if check_inf and np.isinf(array).any():
        return "inf"
    return None


class _Checker:
    """The state of one ``detect_anomaly`` block; the engine calls it per op."""

    def __init__(self, check_nan, check_inf):
        self.check_nan, self.check_inf = check_nan, check_inf
        # warnings become FloatingPointError; what counts follows the options
        self.errstate = {"invalid": "raise" if check_nan else "ignore",
                         "over": "raise" if check_inf else "ignore",
                         "divide": "raise" if check_inf else "ignore", "under": "ignore"}

    def _error(self, what, op_name, phase, inputs, where, node=None, tensor=None):
        shapes = ", ".join(f"{s} {d}" for s, d in inputs) or "no array inputs"
        return AnomalyError(f"{op_name} ({phase}): {what}\n  inputs: {shapes}\n  node created at {where}",
                            op_name, phase, inputs, where, node, tensor)

    def run_op(self, op, args, params):
        where = _user_frame()
        token = modes.ANOMALY.set(None)  # run the ordinary op path once, without re-entering here
        try:
            with np.errstate(**self.errstate):
                out = op(*args, **params)
        except FloatingPointError as exc:
            raise self._error(f"floating-point error: {exc}", op.name, "forward",
                              _describe_inputs(args), where) from None
        finally:
            modes.ANOMALY.reset(token)
        if out.node is not None:
            out.node.where = where
        bad = _bad_values(out.data, self.check_nan, self.check_inf)
        if bad:
            raise self._error(f"the output contains {bad}", op.name, "forward", _describe_inputs(args), where,
                              out.node, out)
        return out

    def run_vjp(self, node, vjp, args, params):
        try:
            with np.errstate(**self.errstate):
                return vjp(*args, **params)
        except FloatingPointError as exc:
            raise self._backward_error(node, f"floating-point error: {exc}") from None

    def check_gradient(self, node, index, grad):
        bad = _bad_values(grad.data if isinstance(grad, engine.Tensor) else grad, self.check_nan, self.check_inf)
        if bad:
            raise self._backward_error(node, f"the gradient sent to input {index} contains {bad}")

    def _backward_error(self, node, what):
        where = node.where or "<outside detect_anomaly: creation line not recorded>"
        inputs = [(tuple(p.shape), str(p.dtype)) for p in node.inputs
                  if isinstance(p, (engine.Node, engine.Tensor, engine.Constant, np.ndarray))]
        return self._error(what, node.op.name, "backward", inputs, where, node)


class detect_anomaly:
    """Context manager: raise ``AnomalyError`` at the first NaN/inf in forward or backward.

    ``check_nan`` and ``check_inf`` choose what counts as an anomaly.  Per thread
    and per context, like ``no_grad``."""

    def __init__(self, check_nan=True, check_inf=True):
        self.checker = _Checker(check_nan, check_inf)

    def __enter__(self):
        self._token = modes.ANOMALY.set(self.checker)
        modes.anomaly_blocks += 1
        modes.count_block(1)
        return self

    def __exit__(self, *exc):
        modes.anomaly_blocks -= 1
        modes.count_block(-1)
        modes.ANOMALY.reset(self._token)
