"""autograd_np with ``ag.compile``: the same loss function as the autograd_np
contender, traced once and replayed; the same SGD update after it."""
from . import ag_np, apply_chain

NAME = "autograd_np_compiled"
LABEL = "autograd_np, ag.compile"


def setup():
    import autograd_np
    MLP.ag = CNN.ag = autograd_np
    return f"autograd_np {autograd_np.__version__} (ag.compile)"


class MLP(ag_np.MLP):
    ag = None

    def __init__(self, net, params):
        super().__init__(net, params)
        self.compiled = self.ag.compile(self.loss)

    def step(self, batch):
        self.compiled(*batch)  # forward and backward: .grad written
        with self.ag.no_grad():
            for p in self.params:
                p.data -= self.lr * p.grad
                p.grad = None

    def gradients(self, batch):
        for _ in range(3):  # the third call replays the schedule: that is what is checked
            for p in self.params:
                p.grad = None
            loss = self.compiled(*batch)
        grads = [p.grad for p in self.params]
        for p in self.params:
            p.grad = None
        return float(loss.data), grads


class CNN(ag_np.CNN):
    """Workload 6: the same loss, ``ag.compile``d; the same SGD update."""
    ag = None

    def __init__(self, spec, params):
        super().__init__(spec, params)
        self.compiled = self.ag.compile(self.loss)

    step, gradients = MLP.step, MLP.gradients


def make_chain(ops, x0):
    ag = MLP.ag
    fns = {"sigmoid": ag.sigmoid, "tanh": ag.tanh}
    x = ag.Tensor(x0.copy(), requires_grad=True)
    compiled = ag.compile(lambda v: ag.sum(apply_chain(v, ops, fns)))

    def run():
        compiled(x)
        g, x.grad = x.grad, None
        return g
    return run
