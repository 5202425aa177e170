"""Recording on or off: ``no_grad``, ``enable_grad``, ``is_grad_enabled``; and
the state of anomaly mode (``anomaly.py``), which ops and backward consult.

The switches are ``contextvars`` variables, so they are per thread and per
asyncio task, and blocks nest.  Ops read ``GRAD_ENABLED`` once per call.
"""
from __future__ import annotations

import contextvars

__all__ = ["no_grad", "enable_grad", "is_grad_enabled", "GRAD_ENABLED"]

GRAD_ENABLED = contextvars.ContextVar("autograd_np_grad_enabled", default=True)
ANOMALY = contextvars.ContextVar("autograd_np_anomaly", default=None)  # the open detect_anomaly's checker
anomaly_blocks = 0  # detect_anomaly blocks open in any thread: while 0, ops skip reading ANOMALY


class no_grad:
    """Context manager (and decorator) that records no graph in its body.

    Per thread and per ``contextvars`` context, and nests::

        with ag.no_grad():
            W.data -= lr * W.grad
    """

    _state = False

    def __init__(self):
        self._tokens = []  # a stack, so one instance can be entered again while it is open

    def __enter__(self):
        self._tokens.append(GRAD_ENABLED.set(self._state))

    def __exit__(self, *exc):
        GRAD_ENABLED.reset(self._tokens.pop())

    def __call__(self, fn):
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)
        wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
        return wrapper


class enable_grad(no_grad):
    """Turn recording back on inside a ``no_grad`` block."""

    _state = True


def is_grad_enabled() -> bool:
    return GRAD_ENABLED.get()
