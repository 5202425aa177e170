"""ag.viz.explore: the data an explorer page embeds (statistics, histograms, gradients, the
backward order of ag.explain, marks), its escaping of hostile names, its bounds and its arguments.
The page in a real browser: test_explore_browser.py."""
import base64
import gzip
import hashlib
import json
import re

import numpy as np
import pytest

import autograd_np as ag
from autograd_np.viz import explore_data, explore_views
from autograd_np.viz.explore_data import number, script_json, summary

HOSTILE = "</script><script>window.__pwned = 1</script><img src=x onerror=\"window.__pwned = 2\">'&amp;<!--"


def page_data(page):
    """The data a page embeds (plain JSON, or the gzipped payload), and its pictures {view: svg}."""
    text = page.html if hasattr(page, "html") else page
    body = re.search(r'<script type="([^"]+)" id="graph-data">(.*?)</script>', text, re.S)
    if body.group(1) == "application/json":
        views = dict(re.findall(r'<div class="view" data-view="([^"]+)" hidden>(.*?)</div>', text, re.S))
        return json.loads(body.group(2)), views
    packed = json.loads(gzip.decompress(base64.b64decode(body.group(2))))
    return packed["data"], packed["svgs"]


def by_name(data, name):
    (record,) = [e for e in data["elements"] if e.get("name") == name]
    return record


@pytest.fixture
def hostile_op():
    """An op whose name and rule are hostile (ops are user data too: ``defop``), for one test."""
    from autograd_np import core as engine
    name = HOSTILE.replace(" ", "")

    @ag.defop(name, HOSTILE + ";  gx = gy")
    def evil(x):
        return x + 0.0

    @evil.defvjp
    def _evil_vjp(F, gy, y, x):
        return gy

    evil.op_name = name
    yield evil
    del engine.OPS[name]
    delattr(engine.RAW_OPS, name)
    delattr(engine.GRAPH_OPS, name)


def small_net(seed=0, hostile=False):
    """x -> tanh(x @ W1 + b1) -> @ W2 -> softmax_cross_entropy, W1 used twice (a weight-decay term)."""
    rng = np.random.default_rng(seed)
    x = ag.Tensor(rng.standard_normal((6, 4)), name="x")
    W1 = ag.Tensor(rng.standard_normal((4, 5)), requires_grad=True, name=HOSTILE if hostile else "W1")
    b1 = ag.Tensor(rng.standard_normal(5), requires_grad=True, name="b1")
    W2 = ag.Tensor(rng.standard_normal((5, 3)), requires_grad=True, name="W2")
    h = ag.tanh(x @ W1 + b1)
    h.name = "h"
    loss = ag.softmax_cross_entropy(h @ W2, rng.integers(0, 3, 6)) + 0.01 * ag.sum(W1 * W1)
    loss.name = "loss"
    return {"x": x, "W1": W1, "b1": b1, "W2": W2, "h": h, "loss": loss}


def mlp(sizes=(4, 6, 3), batch=5, seed=0):
    nets = pytest.importorskip("nets")
    model = nets.MultiLayerNet(list(sizes), rng=seed, dtype=np.float64)
    rng = np.random.default_rng(seed)
    loss = model.loss(ag.Tensor(rng.random((batch, sizes[0])), name="x"), rng.integers(0, sizes[-1], batch))
    loss.name = "loss"
    return model, loss


# --- statistics and histograms -----------------------------------------------------------------
def arrays():
    rng = np.random.default_rng(1)
    mixed = rng.standard_normal(50)
    mixed[[3, 7]] = np.nan
    mixed[[9]] = np.inf
    mixed[[11]] = -np.inf
    return {"float64": rng.standard_normal((7, 3)), "float32": rng.standard_normal(40).astype(np.float32),
            "float16": rng.standard_normal(9).astype(np.float16), "int": rng.integers(-5, 9, 30),
            "uint8": rng.integers(0, 255, 12).astype(np.uint8), "bool": rng.random(10) > 0.5,
            "scalar": np.float64(2.5), "0-d": np.array(-1.0), "constant": np.full((3, 3), 7.0), "one": np.array([3.0]),
            "mixed": mixed, "all nan": np.full(4, np.nan), "huge": np.array([1e308, -1e308, 1e308]),
            "tiny": np.array([5e-324, 0.0, -5e-324]), "wide": np.concatenate([np.zeros(99), [1e6]])}


@pytest.mark.parametrize("name", list(arrays()))
def test_summary_matches_numpy(name):
    a = np.asarray(arrays()[name])
    s = summary(a, bins=10, first=4)
    flat = a.astype(np.float64).ravel()
    finite = flat[np.isfinite(flat)]
    assert s["size"] == a.size
    assert s.get("nan", 0) == np.isnan(flat).sum() and s.get("inf", 0) == np.isinf(flat).sum()
    assert s["first"] == [number(v) for v in flat[:4]]
    if not finite.size:
        assert "min" not in s and "hist" not in s
        return
    with np.errstate(all="ignore"):
        want = {"min": finite.min(), "max": finite.max(), "mean": finite.mean(), "std": finite.std()}
    for key, value in want.items():
        assert s[key] == number(value), key
    counts = s["hist"]["counts"]
    assert sum(counts) == finite.size
    if finite.min() < finite.max():
        scale = 1.0 if name not in ("huge", "tiny") else np.abs(finite).max()  # a range numpy cannot bin as it is
        assert counts == list(np.histogram(finite / scale, bins=10)[0])
    else:
        assert counts == [finite.size]


def test_summary_of_complex_takes_magnitudes_and_of_what_has_no_numbers_is_none():
    s = summary(np.array([3 + 4j, 0j]))
    assert s["of"] == "|values|" and s["max"] == 5.0 and s["min"] == 0.0
    assert summary(None) is None and summary(np.array(["a", "b"])) is None
    assert "first" not in summary(np.ones(3), detail=False) and "hist" not in summary(np.ones(3), detail=False)


@pytest.mark.parametrize("value, text", [(np.nan, "NaN"), (np.inf, "inf"), (-np.inf, "-inf"), (0.1234567, 0.12346),
                                         (-1e-300, -1e-300), (12345678, 12346000.0), (np.float32(0.1), 0.1)])
def test_numbers_are_rounded_and_nonfinite_ones_are_strings(value, text):
    assert number(value) == text


# --- escaping ------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", [HOSTILE, "</SCRIPT >", "<!--<script>", "a\u2028b\u2029c", "\"'\\`${x}", "]]>",
                                  "\x00\x1f", "e\u0301 \U0001f600"])
def test_script_json_cannot_end_or_change_its_element_and_round_trips(text):
    encoded = script_json({"name": text, "list": [text]})
    assert not set("<>&\u2028\u2029") & set(encoded)
    assert json.loads(encoded) == {"name": text, "list": [text]}


def test_hostile_names_go_into_the_page_as_data_only():
    net = small_net(hostile=True)
    nets = pytest.importorskip("nets")
    tag = nets.layers.ModulePath(HOSTILE, "Evil</b>")
    net["h"].node.module = tag
    page = ag.viz.explore(net["loss"], compress=False).html
    assert page.count("<script") == 2 and page.count("</script>") == 2  # the data and the page's own script
    assert HOSTILE not in page and "Evil</b>" not in page
    assert "<img" not in page and "onerror=\"" not in page and "<script>window" not in page
    data, views = page_data(page)
    assert by_name(data, HOSTILE)["kind"] == "param"
    assert [HOSTILE, "Evil</b>"] in [link for chain in data["chains"] for link in chain]
    text = "".join(views.values())
    assert "&lt;/script&gt;&lt;script&gt;" in text  # the picture shows it as text
    title = ag.viz.explore(net["loss"], title=HOSTILE, compress=False).html
    assert "<title>&lt;/script&gt;&lt;script&gt;" in title


def test_a_hostile_op_name_and_rule_go_into_the_page_as_data_only(hostile_op):
    w = ag.Tensor(np.ones(2), requires_grad=True, name="w")
    y = hostile_op(w)
    page = ag.viz.explore(ag.sum(y), compress=False).html
    assert page.count("<script") == 2 and hostile_op.op_name not in page and "<img" not in page
    data, views = page_data(page)
    assert data["rules"][hostile_op.op_name] == HOSTILE + ";  gx = gy"
    assert [e.get("op") for e in data["elements"]][1] == hostile_op.op_name
    assert "&lt;/script&gt;&lt;script&gt;" in views["main"]


def test_the_page_allows_only_its_own_script_and_no_request():
    page = ag.viz.explore(small_net()["loss"], compress=False).html
    policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page).group(1)
    assert "default-src 'none'" in policy and "unsafe-inline" not in policy.split("style-src")[0]
    script = page.rsplit("<script>", 1)[1].split("</script>", 1)[0]
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in policy
    outside = (page.split('<div class="view"', 1)[0] + script).replace('"http://www.w3.org/2000/svg"', "")
    assert not re.search(r"https?:|//[a-z]|url\(|src=|href=", outside)  # no address but the SVG namespace


@pytest.mark.parametrize("svg", ['<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
                                 '<svg xmlns="http://www.w3.org/2000/svg"><g onclick="x()"/></svg>',
                                 '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
                                 '<a xlink:href="javascript:x()"><text>t</text></a></svg>',
                                 '<svg xmlns="http://www.w3.org/2000/svg"><foreignObject/></svg>',
                                 '<svg xmlns="http://www.w3.org/2000/svg"><image href="x.png"/></svg>'])
def test_a_picture_holding_anything_but_drawing_is_refused(svg):
    with pytest.raises(RuntimeError, match="refusing to embed"):
        explore_views.clean_svg(svg)


# --- the data of a graph ---------------------------------------------------------------------------
def test_every_element_has_its_values_and_gradient_statistics():
    net = small_net()
    data, _ = page_data(ag.viz.explore(net["loss"]))
    assert net["W1"].grad is None  # explore leaves .grad alone and keeps the graph
    net["loss"].backward(retain_graph=True)
    for name in ("W1", "b1", "W2", "x", "h", "loss"):
        record, t = by_name(data, name), net[name]
        assert record["shape"] == list(t.shape) and record["dtype"] == str(t.dtype)
        assert {k: record["values"][k] for k in ("min", "max", "mean", "std")} == \
            {k: number(getattr(np, k)(t.data)) for k in ("min", "max", "mean", "std")}
        counts = list(np.histogram(t.data, bins=explore_data.BINS)[0]) if t.data.size > 1 else [1]
        assert record["values"]["hist"]["counts"] == counts
    for name in ("W1", "b1", "W2"):
        grad, record = net[name].grad, by_name(data, name)
        assert record["grad"]["mean"] == number(grad.mean()) and record["grad"]["std"] == number(grad.std())
        assert record["gradNorm"] == number(np.linalg.norm(grad))
    assert "grad" not in by_name(data, "x")
    h = by_name(data, "h")
    assert h["op"] == "tanh" and data["rules"]["tanh"] == net["h"].node.op.rule
    assert [data["elements"][int(i[1:])]["op"] for i in h["inputs"]] == ["add"]


@pytest.mark.parametrize("build", ["small", "mlp", "shared", "chain"])
def test_backward_steps_are_explains_in_order(build):
    if build == "small":
        loss = small_net()["loss"]
    elif build == "mlp":
        loss = mlp()[1]
    elif build == "shared":  # one tensor feeding several ops at several depths
        w = ag.Tensor(np.linspace(-1, 1, 4), requires_grad=True, name="w")
        a = ag.sin(w) * w
        loss = ag.sum(ag.exp(a) * w + a)
    else:
        w = ag.Tensor(np.ones(3), requires_grad=True, name="w")
        y = w
        for _ in range(30):
            y = ag.tanh(y) * 1.1
        loss = ag.sum(y)
    data, _ = page_data(ag.viz.explore(loss))
    steps = ag.explain(loss, print_steps=False)
    ops = {e["id"]: e.get("op") for e in data["elements"]}
    assert [ops[s["id"]] for s in data["steps"]] == [s.op for s in steps]
    assert [s["norm"] for s in data["steps"]] == [number(s.upstream_norm) for s in steps]
    assert [[norm for _, norm in s["sent"]] for s in data["steps"]] == \
        [[number(norm) for _, _, norm in s.sent] for s in steps]
    seen = [i for s in data["steps"] for i in s["done"]]
    assert len(seen) == len(set(seen))  # each gradient is complete once
    last = {}
    for k, s in enumerate(data["steps"]):
        assert s["done"][0] == s["id"]
        for target, _ in s["sent"]:
            if ops[target] is None:
                last[target] = k
    assert {i: k for k, s in enumerate(data["steps"]) for i in s["done"][1:]} == last  # a leaf: after its last send


def test_no_backward_without_a_scalar_output_or_after_backward():
    w = ag.Tensor(np.ones(3), requires_grad=True, name="w")
    data, _ = page_data(ag.viz.explore(ag.tanh(w)))
    assert data["steps"] == [] and "not scalars" in data["gradNote"]
    loss = ag.sum(ag.tanh(w))
    loss.backward()
    data, _ = page_data(ag.viz.explore(loss))
    assert data["steps"] == [] and "freed the graph" in data["gradNote"]
    assert by_name(data, "w")["grad"]["mean"] == number(w.grad.mean())  # the leaves' .grad still shows


def test_check_graph_failures_and_anomalies_are_marked(wrong_square_op):
    rng = np.random.default_rng(0)
    W = ag.Tensor(rng.standard_normal((3, 4)), requires_grad=True, name="W")
    h = ag.tanh(ag.Tensor(rng.standard_normal((2, 3)), name="x") @ W)
    bad = wrong_square_op(h)
    bad.name = "bad"
    loss = ag.mean(ag.exp(bad * 0.1) + h)
    data, _ = page_data(ag.viz.explore(loss, highlight=ag.check_graph(loss)))
    assert [e.get("name") for e in data["elements"] if "marks" in e] == ["bad"]
    assert by_name(data, "bad")["marks"][0] == "check_graph: FAIL"
    assert any(n.startswith("check_graph: 7 nodes checked, 1 failing") for n in data["notes"])
    w = ag.Tensor(np.array([0.0, 2.0]), requires_grad=True, name="w")
    root = ag.sqrt(w * w)
    root.name = "root"
    y = ag.sum(root)
    with pytest.raises(ag.AnomalyError) as caught:
        with ag.detect_anomaly():
            y.backward(retain_graph=True)
    data, _ = page_data(ag.viz.explore(y, highlight=caught.value))
    assert by_name(data, "root")["marks"][0] == "AnomalyError in backward"
    assert data["notes"][0].startswith("AnomalyError: sqrt (backward)")


def test_creation_lines_recorded_by_detect_anomaly_are_shown():
    w = ag.Tensor(np.ones(2), requires_grad=True, name="w")
    with ag.detect_anomaly():
        y = ag.tanh(w)
    y.name = "y"
    data, _ = page_data(ag.viz.explore(ag.sum(y)))
    assert by_name(data, "y")["where"].startswith(__file__)
    assert "where" not in by_name(data, "w")


# --- big graphs ----------------------------------------------------------------------------------
def test_a_graph_over_max_nodes_is_collapsed_with_insides_within_budget():
    nets = pytest.importorskip("nets")
    body = [nets.Sequential(*[m for _ in range(4) for m in (nets.Affine(3, 3, rng=i), nets.Tanh())]) for i in range(3)]
    model = nets.Sequential(*body, nets.Affine(3, 2, rng=9), nets.SoftmaxWithLoss())
    loss = model.loss(np.ones((2, 3)), np.array([0, 1]))
    plain, views = page_data(ag.viz.explore(loss))
    assert not plain["collapsed"] and list(views) == ["main"]
    data, views = page_data(ag.viz.explore(loss, max_nodes=20, max_drawn=40, max_histograms=10))
    assert data["collapsed"] and len(data["elements"]) == len(plain["elements"])
    sizes = {m["path"]: len(m["members"]) for m in data["modules"]}
    assert sizes["0"] == sizes["1"] == 16  # 4 x (W, b, affine, tanh)
    drawn = [m["id"] for m in data["modules"] if m["view"]]
    assert set(views) == {"main", *drawn} and sum(len(m["members"]) for m in data["modules"] if m["view"]) <= 40
    assert any("not drawn inside" in n for n in data["notes"])
    grouped = {e["id"] for e in data["elements"] if "group" in e}
    assert grouped == {i for m in data["modules"] for i in m["members"]}
    assert sum("hist" in e["values"] for e in data["elements"]) == 10
    assert all("hist" in e["values"] for e in data["elements"] if "group" not in e)  # the drawn ones first
    for key, svg in views.items():  # every picture names the elements it shows
        names = set(re.findall(r"<title>(t\d+|m\d+)</title>", svg))
        assert names and names <= {e["id"] for e in data["elements"]} | {m["id"] for m in data["modules"]}


def test_compressed_and_plain_pages_hold_the_same_data():
    loss = mlp()[1]
    plain, small = ag.viz.explore(loss, compress=False), ag.viz.explore(loss, compress=True)
    assert page_data(plain) == page_data(small) and len(small.html) < len(plain.html)
    assert 'class="view"' not in small.html and 'class="view"' in plain.html


def test_a_long_graph_without_modules_is_listed_not_drawn():
    w = ag.Tensor(np.ones(2), requires_grad=True, name="w")
    y = w
    for _ in range(60):
        y = ag.sin(y)
    data, views = page_data(ag.viz.explore(ag.sum(y), max_drawn=50))
    assert views == {} and "over max_drawn=50" in data["notes"][0] and len(data["elements"]) == 62


def test_without_dot_the_page_lists_the_nodes_and_says_how_to_install(monkeypatch):
    monkeypatch.setattr(explore_views.shutil, "which", lambda name: None)
    with pytest.warns(RuntimeWarning, match="apt-get install graphviz"):
        page = ag.viz.explore(small_net()["loss"])
    data, views = page_data(page)
    assert views == {} and "Graphviz's dot is missing" in data["notes"][-1] and len(data["elements"]) == 13


# --- the object, the file, the notebook --------------------------------------------------------
def test_save_writes_the_page_and_a_notebook_shows_it_in_a_sandboxed_iframe(tmp_path):
    net = small_net(hostile=True)
    page = ag.viz.explore(net["loss"], path=tmp_path / "sub" / "graph")
    assert page.path == tmp_path / "sub" / "graph.html" and page.path.read_text() == page.html
    frame = page._repr_html_()
    assert frame.startswith('<iframe srcdoc="') and 'sandbox="allow-scripts"' in frame
    srcdoc = frame.split('srcdoc="', 1)[1].split('" sandbox=', 1)[0]
    assert '"' not in srcdoc and "<" not in srcdoc  # an attribute value: quotes and brackets escaped
    import html
    assert html.unescape(srcdoc) == page.html
    assert "bytes at" in repr(page) and page.seconds > 0


def bad_arguments():
    w = ag.Tensor(np.ones(2), requires_grad=True)
    y = ag.sum(w * w)
    return [((), {}, TypeError, "give the tensors"), ((np.ones(2),), {}, TypeError, "expected Tensors"),
            ((y,), {"collapse": "yes"}, ValueError, "collapse must be"), ((y,), {"collapse": 2}, ValueError, "collapse"),
            ((y,), {"compress": 1}, ValueError, "compress must be"),
            ((y,), {"collapse": True, "modules": False}, ValueError, "cannot be combined"),
            *[((y,), {name: value}, ValueError, f"{name} must be an integer")
              for name in ("max_nodes", "max_drawn", "max_histograms", "bins")
              for value in (-1, 1.5, float("nan"), True, "3", 10 ** 8, None)],
            ((y,), {"max_nodes": 0}, ValueError, "max_nodes"), ((y,), {"bins": 0}, ValueError, "bins")]


@pytest.mark.parametrize("args, kwargs, error, message", bad_arguments())
def test_bad_arguments_are_refused_by_name(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        ag.viz.explore(*args, **kwargs)


def test_zero_budgets_still_give_a_page():
    data, views = page_data(ag.viz.explore(mlp()[1], max_histograms=0, max_drawn=0, collapse=True))
    assert not any("hist" in e["values"] for e in data["elements"])
    assert views == {} and "over max_drawn=0" in data["notes"][0]


# --- the command line -------------------------------------------------------------------------
def test_nets_graph_html_writes_the_page(tmp_path, capsys, monkeypatch):
    from nets.cli import main
    monkeypatch.chdir(tmp_path)
    assert main(["graph", "--layers", "4,3,2", "--batch", "3", "--html"]) == 0
    assert "wrote graph.html" in capsys.readouterr().out
    data, views = page_data((tmp_path / "graph.html").read_text())
    assert by_name(data, "fc1.W")["shape"] == [4, 3] and len(data["steps"]) == 4 and "main" in views
    assert main(["graph", "--layers", "4,3,2", "--out", "g.HTML", "--collapse"]) == 0
    assert page_data((tmp_path / "g.html").read_text())[0]["collapsed"]
    assert main(["graph", "--html", "--out", "g.png"]) == 2
    assert "--html writes an HTML page, not a .png picture" in capsys.readouterr().err


def test_train_writes_the_page_next_to_the_picture(tmp_path, capsys):
    from nets.cli import main
    out = tmp_path / "run"
    assert main(["train", "--layers", "64,8,10", "--epochs", "1", "--quiet", "--out", str(out)]) == 0
    assert "graph.html" in capsys.readouterr().out
    data, _ = page_data((out / "graph.html").read_text())
    assert by_name(data, "loss")["kind"] == "output" and data["title"].startswith("64-8-10 relu")
