"""Shared helpers at the bottom of nets: the argument checks every public constructor and
function uses (``validate``: a value, its name and the caller, in one message) and how much
memory this process may still allocate (``memory``).  Imports nothing else of nets, so any
other subpackage may import it."""
