"""The explorer page's bounds (make test-slow): the demo net's page and a 10,000-element graph's
page (collapsed by module) stay within their sizes.  Run with -s to print the sizes and
times that the pictures guide (docs/guides/pictures.md) quotes:

    .venv/bin/python -m pytest -m slow -s tests/autograd_np/test_explore_sizes.py

Times are printed, never asserted (they depend on the machine)."""
import time

import numpy as np
import pytest

import autograd_np as ag
from autograd_np.viz.layout import elements, walk

from .test_explore import page_data

nets = pytest.importorskip("nets")


def demo_loss():
    """The graph `make demo` draws: 64-256-128-10 ReLU, one forward pass and loss on 4 digits."""
    model = nets.MultiLayerNet([64, 256, 128, 10], rng=0)
    x = ag.Tensor(np.random.default_rng(0).random((4, 64)).astype(np.float32), name="x")
    loss = model.loss(x, np.array([1, 2, 3, 4]))
    loss.name = "loss"
    return loss


def big_loss(blocks=20, pairs=125, width=8):
    """20 blocks of 125 (Affine, Tanh) pairs: 10,005 graph elements."""
    rng = np.random.default_rng(0)
    body = [nets.Sequential(*[m for _ in range(pairs) for m in (nets.Affine(width, width, rng=rng), nets.Tanh())])
            for _ in range(blocks)]
    model = nets.Sequential(*body, nets.Affine(width, 3, rng=rng), nets.SoftmaxWithLoss())
    x = ag.Tensor(np.random.default_rng(1).random((4, width)).astype(np.float32), name="x")
    loss = model.loss(x, np.array([0, 1, 2, 0]))
    loss.name = "loss"
    return loss


def measure(loss, path):
    start = time.perf_counter()
    page = ag.viz.explore(loss, path=path)
    seconds = time.perf_counter() - start
    size = path.stat().st_size
    print(f"\n{path.name}: {len(walk(elements([loss])))} elements, {size:,} bytes, written in {seconds:.2f} s")
    return page, size


@pytest.mark.slow
def test_the_demo_nets_page_is_small(tmp_path):
    page, size = measure(demo_loss(), tmp_path / "demo.html")
    data, views = page_data(page)
    assert size < 100_000 and not data["collapsed"] and list(views) == ["main"]
    assert all("hist" in e["values"] for e in data["elements"])


@pytest.mark.slow
def test_a_10000_element_graph_gives_a_bounded_collapsed_page(tmp_path):
    loss = big_loss()
    page, size = measure(loss, tmp_path / "big.html")
    data, views = page_data(page)
    assert len(data["elements"]) == 10_005 and data["collapsed"] and len(data["steps"]) == 5_002
    assert size < 2_000_000 and 'type="application/gzip+base64"' in page.html
    drawn = sum(len(m["members"]) for m in data["modules"] if m["view"])
    assert 0 < drawn <= 1000 and sum("hist" in e["values"] for e in data["elements"]) == 2000
