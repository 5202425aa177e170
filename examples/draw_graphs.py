"""Regenerate the graph pictures in docs/ with autograd_np.viz.

    python examples/draw_graphs.py                 # docs/*.svg
    python examples/draw_graphs.py --format png --out /tmp/pictures

Pictures (the same seed always gives the same drawing):

* ``two_layer_graph``: the README's quick-start example (x (100, 784) float32,
  W1 b1 W2 b2, sigmoid, softmax_cross_entropy).
* ``mlp_modules``: a MultiLayerNet 784-128-64-10, one box per layer (fc1, act1, ...).
* ``mlp_collapsed``: the same net, each layer drawn as one node.
* ``mlp_grads``: the same net with every tensor's gradient norm, coloured.
* ``deep_sigmoid_grads``: a deep sigmoid net with small weights, collapsed:
  the gradient norms fade towards the input (vanishing gradients, in blue).
* ``mlp_highlight``: ``check_graph`` on the net while relu's derivative is
  deliberately wrong; the failing nodes are marked red.
* ``anomaly_highlight``: ``detect_anomaly`` stops a backward pass at ``sqrt``,
  whose derivative is infinite at 0; the node is marked red, the message is
  the caption.
* ``fused_vs_composed``: softmax-with-loss as one fused op beside the same
  math composed of primitive ops, from the same logits.

The pictures are drawn from the repository's root folder, wherever the script is
run from: a picture shows a file path relative to the current folder (the
anomaly's creation line says ``examples/draw_graphs.py:<line>``), never the
machine's folders.
"""
import argparse
import contextlib
import os
import sys
from pathlib import Path

import numpy as np

import autograd_np as ag
import nets

ROOT = Path(__file__).resolve().parents[1]


def readme_two_layer(rng):
    """The README's quick-start graph, with a fixed seed."""
    x = ag.Tensor(rng.random((100, 784)).astype(np.float32))
    W1 = ag.Tensor(0.01 * rng.standard_normal((784, 50)), requires_grad=True, name="W1")
    b1 = ag.Tensor(np.zeros(50), requires_grad=True, name="b1")
    W2 = ag.Tensor(0.01 * rng.standard_normal((50, 10)), requires_grad=True, name="W2")
    b2 = ag.Tensor(np.zeros(10), requires_grad=True, name="b2")
    t = rng.integers(0, 10, size=100)
    h = ag.sigmoid(x @ W1 + b1)
    return ag.softmax_cross_entropy(h @ W2 + b2, t)


def mlp_loss(sizes=(784, 128, 64, 10), rng=None, **options):
    """One forward pass and loss of a MultiLayerNet on a random batch of 100."""
    rng = np.random.default_rng(0) if rng is None else rng
    model = nets.MultiLayerNet(list(sizes), rng=0, **options)
    x = ag.Tensor(rng.random((100, sizes[0]), dtype=np.float32), name="x")
    loss = model.loss(x, rng.integers(0, sizes[-1], 100))
    loss.name = "loss"
    return model, x, loss


def wrong_relu_report():
    """check_graph of the net while relu's derivative is wrong (restored afterwards)."""
    relu = ag.OPS["relu"]
    correct = relu.vjp
    relu.vjp = lambda F, gy, y, x: gy * (x > 0) * 2.0  # twice the true derivative
    try:
        model, x, loss = mlp_loss()
        report = ag.check_graph(loss)
    finally:
        relu.vjp = correct
    return loss, report


def anomaly_error():
    """(loss, AnomalyError): sqrt is fine at 0 in forward, its derivative is not."""
    rng = np.random.default_rng(0)
    x = ag.Tensor(rng.standard_normal((4, 3)), name="x")
    W = ag.Tensor(rng.standard_normal((3, 2)), requires_grad=True, name="W")
    with ag.detect_anomaly():
        loss = ag.sum(ag.sqrt(ag.relu(x @ W)))  # relu leaves zeros: 1 / (2 sqrt(0)) in backward
        loss.name = "loss"
        try:
            loss.backward()
        except ag.AnomalyError as err:
            return loss, err
    raise AssertionError("detect_anomaly did not stop the inf")


def fused_and_composed():
    """softmax_cross_entropy(z, t) and the same loss from primitives: -sum(t * (z - logsumexp(z))) / N."""
    rng = np.random.default_rng(0)
    z = ag.Tensor(rng.standard_normal((4, 3)), requires_grad=True, name="logits")
    t = np.eye(3)[[0, 2, 1, 0]]
    fused = ag.softmax_cross_entropy(z, t)
    fused.name = "fused"
    shifted = z - ag.max(z, axis=1, keepdims=True)
    log_probs = shifted - ag.log(ag.sum(ag.exp(shifted), axis=1, keepdims=True))
    composed = -ag.sum(log_probs * t) / len(t)
    composed.name = "composed"
    return fused, composed


def pictures():
    """name -> (tensor, draw options)."""
    out = {"two_layer_graph": (readme_two_layer(np.random.default_rng(0)), {})}
    _, _, loss = mlp_loss()
    out["mlp_modules"] = (loss, {})
    out["mlp_collapsed"] = (loss, {"collapse": True})
    out["mlp_grads"] = (loss, {"show_grads": True})
    _, _, deep = mlp_loss((784, 64, 64, 64, 64, 64, 10), activation="sigmoid", init=0.01)
    out["deep_sigmoid_grads"] = (deep, {"collapse": True, "show_grads": True})
    loss, report = wrong_relu_report()
    out["mlp_highlight"] = (loss, {"highlight": report})
    loss, err = anomaly_error()
    out["anomaly_highlight"] = (loss, {"highlight": err})
    out["fused_vs_composed"] = (fused_and_composed(), {})
    return out


@contextlib.contextmanager
def in_folder(folder):
    """Run the block with ``folder`` as the current directory (contextlib.chdir from Python 3.11)."""
    before = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs"), help="folder for the pictures (default docs/)")
    parser.add_argument("--format", default="svg", choices=("svg", "png", "pdf"))
    parser.add_argument("--keep-dot", action="store_true", help="keep the .dot text next to each picture")
    args = parser.parse_args(argv)
    out = Path(args.out).resolve()  # before moving to the root: --out is relative to where the script was run
    with in_folder(ROOT):  # paths in the pictures are shown relative to the root: the same text from anywhere
        for name, (tensors, options) in pictures().items():
            write(name, tensors, options, out, args.format, args.keep_dot)
    return 0


def write(name, tensors, options, out, format, keep_dot):
    """Render one picture into ``out`` and say what was written."""
    tensors = tensors if isinstance(tensors, tuple) else (tensors,)
    path = ag.viz.render(*tensors, path=out / f"{name}.{format}", keep_dot=keep_dot, **options)
    if path.suffix == ".dot":  # Graphviz is missing: render warned and kept the text
        print(f"wrote {path} (no picture: Graphviz's dot is missing)")
    else:
        print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
