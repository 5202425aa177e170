"""Made these files with nets as it was before the subpackages (commit 32c897f, modules such as
nets.module, nets.layers, nets.history side by side), for tests/nets/test_nets_layout.py:
saved models and a training checkpoint must load after the layout change, and pickles that
name the old module paths must unpickle.

    git archive 32c897f nets | tar -x -C /tmp/old && cd /tmp/old && \
        python /path/to/tests/nets/data/pre_layout/make_fixtures.py /path/to/tests/nets/data/pre_layout
"""
import json
import pickle
import sys
from pathlib import Path

import numpy as np

import nets

OUT = Path(sys.argv[1])


def data():
    """The same small problem the test rebuilds: 24 rows of 4 features (and 6x6 images), 3 classes."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((24, 4)).astype(np.float32)
    images = rng.standard_normal((24, 1, 6, 6)).astype(np.float32)
    t = rng.integers(0, 3, 24)
    return x, images, t


def models():
    conv = {"filter_num": 2, "filter_size": 3, "pad": 1, "stride": 1}
    return {
        "mlp": nets.MultiLayerNet([4, 5, 3], batchnorm=True, dropout=0.2, weight_decay=0.01, rng=0),
        "two_layer": nets.TwoLayerNet(4, 5, 3, rng=1),
        "simple_conv": nets.SimpleConvNet(input_dim=(1, 6, 6), conv_param=conv, hidden_size=4, output_size=3,
                                          weight_init_std="he", rng=2),
        "sequential": nets.Sequential(nets.Conv2d(1, 2, 3, pad=1, rng=3), nets.BatchNorm2d(2), nets.ReLU(),
                                      nets.AvgPool2d(2), nets.Flatten(), nets.Affine(18, 3, rng=4), nets.Dropout(0.1),
                                      nets.SoftmaxWithLoss()),
    }


def main():
    x, images, t = data()
    expected = {}
    for name, model in models().items():
        inputs = x if name in ("mlp", "two_layer") else images
        nets.fit(model, nets.optim.Adam(model, lr=0.01), (inputs, t), epochs=2, batch_size=8, seed=0, verbose=False)
        model.save(OUT / f"{name}.npz")
        expected[name] = model.predict(inputs).data
    np.savez(OUT / "expected.npz", **expected)
    # a training checkpoint after 2 of 3 epochs, and the history of the uninterrupted 3 epochs
    run = dict(epochs=3, batch_size=8, seed=0, verbose=False, callbacks=[nets.EarlyStopping(patience=5),
                                                                         nets.CosineAnnealing()])
    model = models()["mlp"]
    history = nets.fit(model, nets.optim.Adam(model, lr=0.01), (x, t), (x, t), **run)
    (OUT / "history_3_epochs.json").write_text(json.dumps({k: v for k, v in history.to_dict().items()
                                                           if k != "seconds"}))
    model = models()["mlp"]
    run.update(epochs=2, checkpoint=OUT / "training.npz", callbacks=[nets.EarlyStopping(patience=5),
                                                                     nets.CosineAnnealing(epochs=3)])
    nets.fit(model, nets.optim.Adam(model, lr=0.01), (x, t), (x, t), **run)
    # pickles naming nets.module, nets.layers, nets.models, nets.optim, nets.history, nets.data, nets.callbacks.base
    model = models()["mlp"]
    opt = nets.optim.Adam(model, lr=0.01)
    history = nets.fit(model, opt, (x, t), epochs=1, batch_size=8, seed=0, verbose=False)
    objects = {"model": model, "optimizer": opt, "history": history, "loader": nets.DataLoader(x, t, batch_size=5),
               "callback": nets.EarlyStopping(patience=3), "expected": model.predict(x).data}
    (OUT / "objects.pkl").write_bytes(pickle.dumps(objects))


if __name__ == "__main__":
    main()
