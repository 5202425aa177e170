"""Recording on or off: ``no_grad``, ``enable_grad``, ``is_grad_enabled``; and
the state of anomaly mode (``anomaly.py``), which ops and backward consult.

The switches are ``contextvars`` variables, so they are per thread and per
asyncio task, and blocks nest.  Ops read ``GRAD_ENABLED`` once per call.
"""
from __future__ import annotations

import contextvars
import functools
import inspect
import threading

__all__ = ["no_grad", "enable_grad", "is_grad_enabled", "GRAD_ENABLED"]

GRAD_ENABLED = contextvars.ContextVar("autograd_np_grad_enabled", default=True)
ANOMALY = contextvars.ContextVar("autograd_np_anomaly", default=None)  # the open detect_anomaly's checker
anomaly_blocks = 0  # detect_anomaly blocks open in any thread: while 0, ops skip reading ANOMALY
# no_grad / enable_grad / detect_anomaly blocks open in any thread: while 0, recording is on
# everywhere and anomaly mode off, so an op reads neither context variable
blocks = 0
_blocks_lock = threading.Lock()


def count_block(delta):
    """A block that changes the grad or anomaly mode opened (+1) or closed (-1)."""
    global blocks
    with _blocks_lock:
        blocks += delta
tracers = []  # ag.compile's tracers watching a call (any thread): told of tensor values read in Python


def value_read(tensor, how=None):
    """Tell the open tracers of this thread that Python code read ``tensor``'s values
    (``how``: what read them, for the message, e.g. ``"float()"``)."""
    for tracer in tracers:
        if tracer.thread == threading.get_ident():
            tracer.value_read(tensor, how)


def grad_used(tensor, value, write):
    """Tell the open tracers of this thread that Python read or assigned ``tensor.grad``."""
    for tracer in tracers:
        if tracer.thread == threading.get_ident():
            tracer.grad_used(tensor, value, write)


def nested_call(name):
    """Tell the open tracers of this thread that fn called another compiled step."""
    for tracer in tracers:
        if tracer.thread == threading.get_ident():
            tracer.nested_call(name)


def backward_called(outputs, into_grad):
    """Tell the open tracers of this thread that a backward ran (``into_grad``: it
    writes ``.grad``, as ``Tensor.backward`` does; else ``ag.grad``)."""
    for tracer in tracers:
        if tracer.thread == threading.get_ident():
            tracer.backward_called(outputs, into_grad)


class no_grad:
    """Context manager (and decorator) that records no graph in its body.

    Per thread and per ``contextvars`` context, and nests::

        with ag.no_grad():
            W.data -= lr * W.grad

        @ag.no_grad            # or @ag.no_grad(); a generator function works too:
        def predict(x): ...    # each step of the generator runs in the mode
    """

    _state = False

    def __new__(cls, fn=None):
        self = super().__new__(cls)
        self._tokens = []  # a stack, so one instance can be entered again while it is open
        if fn is not None:  # bare @no_grad: decorate at once
            if not callable(fn):
                raise TypeError(f"{cls.__name__}() takes a function to decorate, or nothing; got {type(fn).__name__}")
            return self(fn)
        return self

    def __init__(self, fn=None):
        pass

    def __enter__(self):
        count_block(1)
        self._tokens.append(GRAD_ENABLED.set(self._state))

    def __exit__(self, *exc):
        GRAD_ENABLED.reset(self._tokens.pop())
        count_block(-1)

    def __call__(self, fn):
        mode = type(self)
        if inspect.isgeneratorfunction(fn):
            def wrapper(*args, **kwargs):
                return _in_mode(mode, fn(*args, **kwargs))
        else:
            def wrapper(*args, **kwargs):
                with mode():
                    return fn(*args, **kwargs)
        functools.update_wrapper(wrapper, fn)
        return wrapper


class enable_grad(no_grad):
    """Turn recording back on inside a ``no_grad`` block."""

    _state = True


def _in_mode(mode, gen):
    """Drive generator ``gen``, each of its steps (send, throw, close) inside ``mode()``."""
    try:
        with mode():
            response = gen.send(None)
        while True:
            try:
                request = yield response
            except GeneratorExit:
                with mode():
                    gen.close()
                raise
            except BaseException as exc:  # noqa: BLE001  (thrown into us: thrown into gen)
                with mode():
                    response = gen.throw(exc)
            else:
                with mode():
                    response = gen.send(request)
    except StopIteration as stop:
        return stop.value


def is_grad_enabled() -> bool:
    """Whether ops record the graph here: False inside ``no_grad()``, True inside ``enable_grad()``
    and outside both (as ``torch.is_grad_enabled``)."""
    return GRAD_ENABLED.get()
