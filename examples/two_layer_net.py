"""The seeds' two-layer network (784-50-10 sigmoid, plain SGD on mini-batches), rewritten with nets.

The seeds' loop is kept as it was: ``net.gradient`` now back-propagates
through the engine's graph instead of hand-written layer backward methods,
and ``net.params[key] -= lr * grad[key]`` still updates the weights in place.

    python examples/two_layer_net.py                     # 8x8 digits (built in), a few seconds
    python examples/two_layer_net.py --fashion --iters 6000
"""
import argparse
import time

import numpy as np

import nets

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--fashion", action="store_true", help="Fashion-MNIST instead of the 8x8 digits")
parser.add_argument("--data-dir", default=None, help="folder of the Fashion-MNIST IDX files")
parser.add_argument("--iters", type=int, default=2000, help="mini-batch updates (the seeds: 10000)")
parser.add_argument("--batch-size", type=int, default=100)
parser.add_argument("--hidden", type=int, default=50)
parser.add_argument("--lr", type=float, default=None, help="default 0.5 on the digits, 0.1 (the seeds') otherwise")
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

if args.fashion:
    (x_train, t_train), (x_test, t_test) = nets.datasets.load_fashion_mnist(args.data_dir, one_hot_label=True)
else:
    (x_train, t_train), (x_test, t_test) = nets.datasets.load_digits(one_hot_label=True)
lr = args.lr or (0.1 if args.fashion else 0.5)

network = nets.TwoLayerNet(input_size=x_train.shape[1], hidden_size=args.hidden, output_size=10, rng=args.seed)

# verify backprop: backprop vs numerical gradients on 3 samples, in float64
nets.gradient_check(network, x_train[:3], t_train[:3], max_elements=200 if args.fashion else None)

rng = np.random.default_rng(args.seed)
report_every = max(args.iters // 10, 1)
start = time.perf_counter()
for i in range(args.iters):
    batch_mask = rng.choice(len(x_train), args.batch_size)
    x_batch, t_batch = x_train[batch_mask], t_train[batch_mask]
    grad = network.gradient(x_batch, t_batch)       # backprop through the graph
    for key in ("W1", "b1", "W2", "b2"):
        network.params[key] -= lr * grad[key]       # the seeds' update, unchanged
    if (i + 1) % report_every == 0 or i + 1 == args.iters:
        print(f"iter {i + 1:5d}: loss {network.loss(x_batch, t_batch).item():.4f}  "
              f"train acc {network.accuracy(x_train, t_train):.4f}  test acc {network.accuracy(x_test, t_test):.4f}")
print(f"final test accuracy {network.accuracy(x_test, t_test):.4f} in {time.perf_counter() - start:.1f}s")
