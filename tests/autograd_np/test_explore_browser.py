"""The explorer page (ag.viz.explore) in a real browser: Debian's Chromium, headless, driven by
Playwright (the testing extra; it uses this browser and downloads none).  `make test` installs
Chromium first (`make chromium`, as root with apt); elsewhere these tests skip with that line.

Every page is opened from disk and checked for console errors, page errors, dialogs and
requests (none but the page's own file).  A screenshot of the small net's page is saved as
build/explorer.png; `python -m tests.autograd_np.test_explore_browser docs/explorer.png`
writes the pictures guide's picture (docs/guides/pictures.md) the same way."""
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

import autograd_np as ag

from .test_explore import HOSTILE, by_name, hostile_op, mlp, page_data, small_net  # noqa: F401 (a fixture)

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
INSTALL = "make chromium (apt-get install chromium) and pip install -e '.[testing]' (playwright)"
# as root Chromium needs --no-sandbox; the others keep it from calling home on this closed network
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-features=Translate,MediaRouter"]
VISIBLE = "#views > .view:not([hidden])"


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason=f"playwright is missing: {INSTALL}")
    if CHROMIUM is None:
        pytest.skip(f"Chromium is missing: {INSTALL}")
    with sync_api.sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


class Opened:
    """A page opened in the browser, with what it logged, raised, asked and requested."""

    def __init__(self, browser, path, ready=True):
        self.context = browser.new_context(viewport={"width": 1280, "height": 800})
        self.page = self.context.new_page()
        self.url, self.console, self.errors, self.dialogs, self.requests = path.as_uri(), [], [], [], []
        self.page.on("console", lambda m: self.console.append((m.type, m.text)))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("websocket", lambda w: self.requests.append(w.url))
        self.page.goto(self.url)
        if ready:
            self.page.wait_for_selector("body[data-ready]")
            assert self.page.evaluate("document.body.dataset.ready") == "1", self.page.inner_text("#panel")

    def stat(self, key):
        return float(self.page.inner_text(f'#panel [data-stat="{key}"]'))

    def click(self, element_id):
        self.page.click(f'{VISIBLE} g.node[data-name="{element_id}"]')

    def check_clean(self):
        """No console error or warning, no exception, no dialog, no request but the page itself."""
        assert [m for m in self.console if m[0] in ("error", "warning")] == []
        assert self.errors == [] and self.dialogs == []
        assert [u for u in self.requests if u != self.url] == []
        assert self.page.evaluate("window.__pwned") is None  # nothing from a name ran
        self.context.close()


@pytest.fixture
def opened(browser, tmp_path):
    pages = []

    def open_(page, name="graph.html"):
        pages.append(Opened(browser, page.save(tmp_path / name)))
        return pages[-1]
    yield open_
    for p in pages:
        p.check_clean()


def assert_close(shown, value):
    assert shown == pytest.approx(float(value), rel=1e-4, abs=1e-12)


def test_a_click_shows_the_nodes_numbers_and_a_hostile_name_as_text(opened):
    net = small_net(hostile=True)
    page = ag.viz.explore(net["loss"])
    data, _ = page_data(page)
    view = opened(page)
    net["loss"].backward(retain_graph=True)
    for name, key in ((HOSTILE, "W1"), ("W2", "W2"), ("h", "h")):
        view.click(by_name(data, name)["id"])
        assert view.page.inner_text('#panel [data-field="title"]') == name  # the name itself, as text
        t = net[key]
        for stat in ("min", "max", "mean", "std"):
            assert_close(view.stat(f"values.{stat}"), getattr(np, stat)(t.data))
        assert view.stat("values.size") == t.data.size and view.stat("values.nan") == 0
        grad = t.grad if t.is_leaf else None
        if grad is not None:
            for stat in ("min", "max", "mean", "std"):
                assert_close(view.stat(f"grad.{stat}"), getattr(np, stat)(grad))
        assert view.page.locator('#panel svg[data-hist="values"] rect.bar').count() == explore_data_bins()
    assert view.page.locator(f"{VISIBLE} g.node.selected").count() == 1
    assert view.page.locator("#panel img, #panel script").count() == 0


def explore_data_bins():
    from autograd_np.viz.explore_data import BINS
    return BINS


def test_the_backward_slider_colours_nodes_in_explains_order(opened):
    net = small_net()
    page = ag.viz.explore(net["loss"])
    data, _ = page_data(page)
    steps = ag.explain(net["loss"], print_steps=False)
    view = opened(page)
    colour = {e["id"]: e.get("gradColor") for e in data["elements"]}
    op_of = {e["id"]: e.get("op") for e in data["elements"]}
    arrived_js = f"[...document.querySelectorAll('{VISIBLE} g.node.arrived')].map(g => g.dataset.name)"
    assert view.page.evaluate(arrived_js) == []
    view.page.focus("#slider")
    before = set()
    for k, step in enumerate(steps, 1):
        view.page.keyboard.press("ArrowRight")
        now = view.page.evaluate(f"[...document.querySelectorAll('{VISIBLE} g.node.current')].map(g => g.dataset.name)")
        assert len(now) == 1 and op_of[now[0]] == step.op and now[0] == data["steps"][k - 1]["id"]
        arrived = set(view.page.evaluate(arrived_js))
        assert arrived - before == set(data["steps"][k - 1]["done"])  # this step's node, and leaves it completed
        for name in arrived - before:
            fill = view.page.evaluate(f"document.querySelector('{VISIBLE} g.node[data-name=\"{name}\"] > polygon, "
                                      f"{VISIBLE} g.node[data-name=\"{name}\"] > path').getAttribute('fill')")
            assert fill == colour[name]
        assert f"step {k}/{len(steps)}: {step.op}" in view.page.inner_text("#step-text")
        before = arrived
    assert view.page.locator("#norms circle").count() == 1
    view.click(by_name(data, "b1")["id"])
    out = ROOT / "build" / "explorer.png"
    out.parent.mkdir(exist_ok=True)
    view.page.screenshot(path=str(out))
    view.page.focus("#slider")
    for _ in steps:
        view.page.keyboard.press("ArrowLeft")
    assert view.page.evaluate(arrived_js) == [] and "before backward" in view.page.inner_text("#step-text")


def test_search_folding_and_a_collapsed_compressed_page(opened):
    model, loss = mlp(sizes=(4, 6, 5, 3))
    page = ag.viz.explore(loss, compress=False)
    data, _ = page_data(page)
    members = [e["id"] for e in data["elements"] if any(m[0] == "fc2" for m in data["chains"][e.get("chain", 0)])]
    assert len(members) == 3  # fc2.W, fc2.b and their affine
    view = opened(page)
    view.page.fill("#search", "fc2")
    assert view.page.inner_text("#search-count").startswith("3 found")
    assert view.page.locator(f"{VISIBLE} g.node.match").count() == 3
    view.page.press("#search", "Enter")
    assert view.page.locator(f"{VISIBLE} g.node.selected").count() == 1
    cluster = view.page.locator(f"{VISIBLE} g.cluster[data-path='fc2']")
    cluster.dblclick(position={"x": 12, "y": 8})  # its label, inside the rounded corner
    hidden = view.page.evaluate(f"[...document.querySelectorAll('{VISIBLE} g.node')].filter(g => g.style.display "
                                "=== 'none').map(g => g.dataset.name)")
    assert {n for n in hidden if n.startswith("t")} == set(members)
    view.page.click("#unfold-all")
    assert view.page.evaluate(f"[...document.querySelectorAll('{VISIBLE} g.node')].every(g => !g.style.display)")

    page = ag.viz.explore(loss, collapse=True, compress=True)
    data, _ = page_data(page)
    small = opened(page, "small.html")
    fc1 = next(m for m in data["modules"] if m["path"] == "fc1")
    small.page.click(f'{VISIBLE} g.node[data-name="{fc1["id"]}"]')
    small.page.click(f'#panel button[data-open="{fc1["id"]}"]')
    w = by_name(data, "fc1.W")
    small.click(w["id"])
    assert_close(small.stat("values.mean"), next(p for p in model.parameters() if p.name == "fc1.W").data.mean())
    assert small.page.is_visible("#back")
    small.page.click("#back")
    assert small.page.locator(f"{VISIBLE}").get_attribute("data-view") == "main"


@pytest.mark.slow
def test_a_10000_element_page_opens_collapsed(opened):
    from .test_explore_sizes import big_loss
    page = ag.viz.explore(big_loss())
    data, _ = page_data(page)
    view = opened(page, "big.html")
    assert view.page.locator(f"{VISIBLE} g.node").count() < 60  # 22 modules and a few tensors
    first, last = data["modules"][0], data["modules"][-3]
    view.click(last["id"])
    assert view.page.locator("#panel button[data-open]").count() == 0  # over the budget: listed, not drawn
    assert view.page.locator("#panel li").count() >= 300
    view.click(first["id"])
    view.page.click(f'#panel button[data-open="{first["id"]}"]')
    assert view.page.locator(f"{VISIBLE} g.node").count() > 500
    view.page.focus("#slider")
    view.page.keyboard.press("End")
    assert f"step {len(data['steps'])}/{len(data['steps'])}" in view.page.inner_text("#step-text")


def test_findings_are_marked_and_a_hostile_op_shows_as_text(opened, wrong_square_op, hostile_op):
    rng = np.random.default_rng(0)
    W = ag.Tensor(rng.standard_normal((3, 4)), requires_grad=True, name="W")
    h = ag.tanh(ag.Tensor(rng.standard_normal((2, 3)), name="x") @ W)
    bad = wrong_square_op(h)
    bad.name = "bad"
    evil = hostile_op(bad)
    loss = ag.mean(ag.exp(evil * 0.1) + h)
    page = ag.viz.explore(loss, highlight=ag.check_graph(loss))
    data, _ = page_data(page)
    view = opened(page)
    assert view.page.inner_text("#findings") == "1 marked node"
    view.page.click("#findings")
    assert view.page.inner_text('#panel [data-field="title"]') == "bad"
    assert view.page.inner_text("#panel .mark").startswith("check_graph: FAIL")
    marked = view.page.evaluate(f"[...document.querySelectorAll('{VISIBLE} g.node.marked')].map(g => g.dataset.name)")
    assert marked == [by_name(data, "bad")["id"]]
    evil_id = next(e["id"] for e in data["elements"] if e.get("op") == hostile_op.op_name)
    view.click(evil_id)
    assert view.page.inner_text('#panel td[data-field="op"]') == hostile_op.op_name
    assert view.page.text_content('#panel td[data-field="derivative"]') == HOSTILE + ";  gx = gy"


def test_the_notebook_iframe_runs_the_page_sandboxed(browser, tmp_path):
    net = small_net(hostile=True)
    page = ag.viz.explore(net["loss"])
    host = tmp_path / "notebook.html"
    host.write_text(f"<!DOCTYPE html><html><body><h1>a notebook</h1>{page._repr_html_()}</body></html>")
    view = Opened(browser, host, ready=False)
    frame = view.page.frame_locator("iframe")
    frame.locator('body[data-ready="1"]').wait_for()
    W2 = by_name(page_data(page)[0], "W2")["id"]
    frame.locator(f'{VISIBLE} g.node[data-name="{W2}"]').click()
    shown = float(frame.locator('#panel [data-stat="values.mean"]').inner_text())
    assert_close(shown, net["W2"].data.mean())
    view.check_clean()


def write_docs_picture(path):
    """The pictures guide's picture: the demo-sized net's page, a node clicked, backward half-way."""
    nets = pytest.importorskip("nets")
    model = nets.MultiLayerNet([64, 32, 16, 10], rng=0)
    rng = np.random.default_rng(0)
    loss = model.loss(ag.Tensor(rng.random((4, 64)).astype(np.float32), name="x"), np.array([1, 2, 3, 4]))
    loss.name = "loss"
    page = ag.viz.explore(loss, title="64-32-16-10 relu: one forward pass and loss")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        target = Path(path).resolve().with_suffix(".html")
        view = Opened(chromium, page.save(target))
        data, _ = page_data(page)
        view.click(by_name(data, "fc2.W")["id"])
        view.page.focus("#slider")
        for _ in range(4):
            view.page.keyboard.press("ArrowRight")
        view.page.screenshot(path=str(path))
        view.check_clean()
        chromium.close()
        target.unlink()


if __name__ == "__main__":
    write_docs_picture(sys.argv[1] if len(sys.argv) > 1 else "docs/explorer.png")
