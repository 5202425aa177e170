"""Shared helpers at the bottom of nets: the argument checks of every public constructor and
function (``validate``: the value, its name and the caller in one message), the checks of
JSON fields read from files (``fields``: checkpoint metadata and the config schemas the
layers and models declare) and how much memory this process may still allocate
(``memory``).  Imports nothing else of nets, so any other subpackage may import it."""
