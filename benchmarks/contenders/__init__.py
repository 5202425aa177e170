"""The contenders.  Each module has NAME, LABEL, ``setup()`` (imports its
framework, returns a version string, raises ImportError when it is not
installed) and implements what its workloads need:

* ``MLP(net, params)`` with ``prepare(x, t) -> batch``, ``step(batch)`` (forward,
  backward, SGD update: the timed unit), ``gradients(batch) -> (loss, [grads])``
  and ``weights()`` (both for the consistency check, never timed);
* ``make_chain(ops, x0) -> run`` where ``run()`` does the op chain's forward and
  backward and returns the gradient of its sum with respect to ``x0``;
* ``CNN(spec, params)`` (workload 6, ``cnn_specs``), with the methods of ``MLP``.
"""
from importlib import import_module

ORDER = ["ag_np", "ag_compiled", "ag_numpy_kernels", "ag_baseline", "nets_", "reference", "reference_lean", "torch_eager", "torch_compiled",
         "hips", "mygrad_", "blas_floor"]
PEER_PACKAGES = {"torch": "torch==2.13.0", "autograd": "autograd", "mygrad": "mygrad"}


def names():
    """Every contender's NAME, in table order."""
    return [import_module(f"{__name__}.{modname}").NAME for modname in ORDER]


def load(only=None):
    """(available, skipped): {name: module} of contenders that set up, and
    {name: reason} for those that did not (a peer not installed is skipped, never faked)."""
    available, skipped = {}, {}
    for modname in ORDER:
        mod = import_module(f"{__name__}.{modname}")
        if only and mod.NAME not in only:
            continue
        try:
            mod.VERSION = mod.setup()
        except (ImportError, AttributeError) as exc:
            skipped[mod.NAME] = (f"not installed ({exc}); pip install {PEER_PACKAGES[mod.NAME]}"
                                 if mod.NAME in PEER_PACKAGES else f"not usable: {exc}")
            continue
        available[mod.NAME] = mod
    return available, skipped


def apply_chain(x, ops, unary):
    """Workload 2's forward in any framework: ``("mul", c)`` and ``("add", c)`` by a
    Python constant, any other name through ``unary[name]``."""
    for name, c in ops:
        if name == "mul":
            x = x * c
        elif name == "add":
            x = x + c
        else:
            x = unary[name](x)
    return x
