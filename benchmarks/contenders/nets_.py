"""nets, the toolkit on autograd_np: MultiLayerNet and nets.optim.SGD, as its
README trains a model (``model.loss(x, t).backward(); opt.step(); opt.zero_grad()``)."""
NAME = "nets"
LABEL = "nets (MultiLayerNet + optim.SGD)"

nets = None


def setup():
    global nets
    import nets as _nets
    nets = _nets
    nets.MultiLayerNet, nets.optim.SGD  # noqa: B018  (an unfinished nets is skipped, with the reason)
    return "nets (this repository)"


class MLP:
    def __init__(self, net, params):
        self.model = nets.MultiLayerNet(list(net.sizes), activation=net.activation)
        own = self.model.parameters()
        flat = [p for layer in params for p in layer]
        if [p.shape for p in own] != [p.shape for p in flat]:
            raise ValueError("nets.MultiLayerNet's parameters are not [W1, b1, W2, b2, ...]")
        for p, value in zip(own, flat):
            p.data[...] = value  # the shared initial weights
        self.opt = nets.optim.SGD(own, lr=net.lr)

    def prepare(self, x, t):
        return x, t

    def step(self, batch):
        self.model.loss(*batch).backward()
        self.opt.step()
        self.opt.zero_grad()

    def gradients(self, batch):
        loss = self.model.loss(*batch)
        loss.backward()
        grads = [p.grad for p in self.model.parameters()]
        self.opt.zero_grad()
        return float(loss.data), grads

    def weights(self):
        return [p.data for p in self.model.parameters()]
