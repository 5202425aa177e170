"""MyGrad: tensors, ``backward``, the SGD update on ``.data``."""

from . import apply_chain

NAME = "mygrad"
LABEL = "MyGrad"

mg = None


def setup():
    global mg
    import mygrad
    mg = mygrad
    return f"mygrad {mg.__version__}"


class MLP:
    def __init__(self, net, params):
        from mygrad.nnet.activations import relu, sigmoid
        from mygrad.nnet.losses import softmax_crossentropy
        self.lr, self.xent = net.lr, softmax_crossentropy
        self.act = {"sigmoid": sigmoid, "relu": relu}[net.activation]
        self.layers = [(mg.Tensor(W.copy()), mg.Tensor(b.copy())) for W, b in params]
        self.params = [p for layer in self.layers for p in layer]

    def prepare(self, x, t):
        return x, t

    def loss(self, x, t):
        h, last = x, len(self.layers) - 1
        for i, (W, b) in enumerate(self.layers):
            h = mg.matmul(h, W) + b
            if i < last:
                h = self.act(h)
        return self.xent(h, t)

    def step(self, batch):
        self.loss(*batch).backward()  # also clears the graph, unlocking the arrays
        for p in self.params:
            p.data -= self.lr * p.grad
            p.null_grad()

    def gradients(self, batch):
        loss = self.loss(*batch)
        loss.backward()
        grads = [p.grad for p in self.params]
        for p in self.params:
            p.null_grad()
        return loss.item(), grads

    def weights(self):
        return [p.data for p in self.params]


def make_chain(ops, x0):
    from mygrad.nnet.activations import sigmoid
    fns = {"sigmoid": sigmoid, "tanh": mg.tanh}
    x = mg.Tensor(x0.copy())

    def run():
        y = apply_chain(x, ops, fns)
        mg.sum(y).backward()
        g = x.grad
        x.null_grad()
        return g
    return run
