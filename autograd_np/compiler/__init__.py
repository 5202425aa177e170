"""``ag.compile``: a training step traced once, replayed as flat generated code.

``step.py`` is the compiled function (the cache, the signature of a call, what
runs eagerly); ``reasons.py`` why; ``guards.py``, ``reach.py`` the signature
(arguments, and the Python state fn can reach); ``tracing.py`` and
``traced_array.py`` what fn receives while traced (stand-ins whose value reads
are seen); ``effects.py`` the side effects of a traced call; ``lowering.py``
the generated code; ``inline.py`` the buffered kernels.  It may import the
core.
"""
from .lowering import CompileError, Program
from .step import Compiled, CompileWarning, compile, eager_step

__all__ = ["compile", "Compiled", "CompileError", "CompileWarning", "Program", "eager_step"]
