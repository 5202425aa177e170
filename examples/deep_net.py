"""The seeds' deeper network (784-128-64-10, ReLU, He init, Adam, weight decay), rewritten with nets.

    python examples/deep_net.py                          # 8x8 digits (64-128-64-10), a few seconds
    python examples/deep_net.py --fashion --epochs 10    # Fashion-MNIST (784-128-64-10)
    python examples/deep_net.py --out runs/deep          # also save model.npz, history.json, curves.png
"""
import argparse
from pathlib import Path

import nets

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--fashion", action="store_true", help="Fashion-MNIST instead of the 8x8 digits")
parser.add_argument("--data-dir", default=None, help="folder of the Fashion-MNIST IDX files")
parser.add_argument("--epochs", type=int, default=20)
parser.add_argument("--batch-size", type=int, default=None, help="default 32 on the digits, 100 otherwise")
parser.add_argument("--lr", type=float, default=1e-3)
parser.add_argument("--weight-decay", type=float, default=1e-4, help="the seeds' 0.5 * lambda * sum(W**2)")
parser.add_argument("--dropout", type=float, default=0.0)
parser.add_argument("--batchnorm", action="store_true")
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--out", default=None, help="folder for model.npz, history.json and curves.png")
args = parser.parse_args()

if args.fashion:
    (x_train, t_train), (x_test, t_test) = nets.datasets.load_fashion_mnist(args.data_dir)
else:
    (x_train, t_train), (x_test, t_test) = nets.datasets.load_digits()

model = nets.MultiLayerNet([x_train.shape[1], 128, 64, 10], activation="relu", weight_decay=args.weight_decay,
                           dropout=args.dropout, batchnorm=args.batchnorm, rng=args.seed)
optimizer = nets.optim.Adam(model.parameters(), lr=args.lr)
history = nets.fit(model, optimizer, (x_train, t_train), (x_test, t_test), epochs=args.epochs,
                   batch_size=args.batch_size or (100 if args.fashion else 32), seed=args.seed)
print(f"final test accuracy {history.test_acc[-1]:.4f} (best {max(history.test_acc):.4f})")

if args.out:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model.save(out / "model.npz")
    history.to_json(out / "history.json")
    history.plot(out / "curves.png")
    print(f"wrote {out}/model.npz, history.json, curves.png")
