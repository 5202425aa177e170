"""autograd_np with its NumPy kernels only, where the ``numba`` extra is installed (the
path of a plain install and of ``AUTOGRAD_NP_KERNELS=numpy``): workload 6 times both."""
from . import ag_np

NAME = "autograd_np_numpy_kernels"
LABEL = "autograd_np, NumPy kernels only"


def setup():
    import autograd_np
    from autograd_np.ops import compiled_kernels
    if not compiled_kernels.enabled():
        raise ImportError("numba is not installed: the autograd_np row runs the NumPy kernels already")
    CNN.ag, CNN.kernels = autograd_np, compiled_kernels
    return f"autograd_np {autograd_np.__version__} (NumPy kernels)"


class CNN(ag_np.CNN):
    """Workload 6's step with ``compiled_kernels.using("numpy")``."""
    ag = kernels = None

    def step(self, batch):
        with self.kernels.using("numpy"):
            return ag_np.CNN.step(self, batch)

    def gradients(self, batch):
        with self.kernels.using("numpy"):
            return ag_np.CNN.gradients(self, batch)
