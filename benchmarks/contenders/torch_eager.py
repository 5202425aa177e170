"""PyTorch eager on the CPU, with as many intra-op threads as NumPy's BLAS has.

Written line for line like the autograd_np contender (fused ``addmm`` for the
affine map, ``cross_entropy`` for the loss, an SGD update under ``no_grad``),
which is also what ``nn.Linear`` + ``optim.SGD`` run underneath."""

from . import apply_chain

NAME = "torch"
LABEL = "PyTorch eager (CPU)"

torch = None
THREADS = 2


def setup():
    global torch
    import torch as _torch
    torch = _torch
    torch.set_num_threads(THREADS)
    return f"torch {torch.__version__} ({torch.get_num_threads()} threads)"


class MLP:
    def __init__(self, net, params):
        self.lr = net.lr
        self.act = {"sigmoid": torch.sigmoid, "relu": torch.relu}[net.activation]
        self.layers = [(torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True))
                       for W, b in params]
        self.params = [p for layer in self.layers for p in layer]

    def prepare(self, x, t):
        return torch.from_numpy(x), torch.from_numpy(t)

    def loss(self, x, t):
        h, last = x, len(self.layers) - 1
        for i, (W, b) in enumerate(self.layers):
            h = torch.addmm(b, h, W)
            if i < last:
                h = self.act(h)
        return torch.nn.functional.cross_entropy(h, t)

    def step(self, batch):
        self.loss(*batch).backward()
        with torch.no_grad():
            for p in self.params:
                p -= self.lr * p.grad
                p.grad = None

    def gradients(self, batch):
        loss = self.loss(*batch)
        loss.backward()
        grads = [p.grad.numpy() for p in self.params]
        for p in self.params:
            p.grad = None
        return loss.item(), grads

    def weights(self):
        return [p.detach().numpy() for p in self.params]


class CNN:
    """Workload 6 with torch.nn.functional (conv2d, batch_norm, relu, max_pool2d, addmm,
    cross_entropy), ``backward`` and an SGD update under ``no_grad``."""

    def __init__(self, spec, params):
        self.spec, self.lr = spec, spec.lr
        self.params = [torch.tensor(p, requires_grad=True) for p in params]
        self.stats = [(torch.zeros(c.out), torch.ones(c.out)) for c in spec.convs]

    def prepare(self, x, t):
        return torch.from_numpy(x), torch.from_numpy(t)

    def loss(self, x, t):
        F, it = torch.nn.functional, iter(self.params)
        h = x
        for conv, (mean, var) in zip(self.spec.convs, self.stats):
            h = F.conv2d(h, next(it), next(it), padding=conv.pad)
            if conv.bn:
                h = F.batch_norm(h, mean, var, next(it), next(it), training=True, momentum=0.1, eps=1e-5)
            h = F.max_pool2d(F.relu(h), 2)
        W1, b1, W2, b2 = it
        h = F.relu(torch.addmm(b1, h.flatten(1), W1))
        return F.cross_entropy(torch.addmm(b2, h, W2), t)

    step, gradients, weights = MLP.step, MLP.gradients, MLP.weights


def make_chain(ops, x0):
    fns = {"sigmoid": torch.sigmoid, "tanh": torch.tanh}
    x = torch.tensor(x0, requires_grad=True)

    def run():
        y = apply_chain(x, ops, fns)
        y.sum().backward()
        g, x.grad = x.grad, None
        return g.numpy()
    return run
