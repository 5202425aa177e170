"""autograd_np.viz: the DOT text (no binary needed), a real render with `dot`, and the fallback without it."""
import doctest
import re
import shutil

import graphviz
import numpy as np
import pytest

import autograd_np as ag
from autograd_np import viz

NODE = re.compile(r"^\t((?:t|op|c)\d+) \[(.*)\]$", re.M)  # skips the graph/node/edge default lines
EDGE = re.compile(r"^\t(\w+) -> (\w+)$", re.M)


def nodes(dot):
    """Node id -> its attribute text."""
    return dict(NODE.findall(dot))


def edges(dot):
    return EDGE.findall(dot)


def node_labelled(dot, text):
    """The id and attribute text of the one node whose attributes contain ``text``."""
    found = [(node, attrs) for node, attrs in nodes(dot).items() if text in attrs]
    assert len(found) == 1, f"{len(found)} nodes contain {text!r}"
    return found[0]


def two_layer_net(seed=0):
    rng = np.random.default_rng(seed)
    p = {"x": ag.Tensor(rng.standard_normal((8, 4)).astype(np.float32), name="x"),
         "W1": ag.Tensor(rng.standard_normal((4, 5)).astype(np.float32), requires_grad=True, name="W1"),
         "b1": ag.Tensor(np.zeros(5, np.float32), requires_grad=True, name="b1"),
         "W2": ag.Tensor(rng.standard_normal((5, 3)).astype(np.float32), requires_grad=True, name="W2"),
         "b2": ag.Tensor(np.zeros(3, np.float32), requires_grad=True, name="b2"),
         "t": ag.Tensor(rng.integers(0, 3, 8), name="t")}
    h = ag.sigmoid(p["x"] @ p["W1"] + p["b1"])
    p["loss"] = ag.softmax_cross_entropy(h @ p["W2"] + p["b2"], p["t"])
    p["loss"].name = "loss"
    return p


def test_two_layer_net_has_one_node_per_tensor_and_op_and_edges_along_the_data():
    net = two_layer_net()
    dot = viz.to_dot(net["loss"])
    ids = list(nodes(dot))
    assert sum(i.startswith("t") for i in ids) == 12  # x W1 b1 t W2 b2, 5 intermediates, loss
    ops = sorted(re.search(r"label=(\w+)", nodes(dot)[i]).group(1) for i in ids if i.startswith("op"))
    assert ops == ["add", "add", "matmul", "matmul", "sigmoid", "softmax_cross_entropy"]
    assert not any(i.startswith("c") for i in ids)
    assert len(edges(dot)) == 17  # 2 + 2 + 1 + 2 + 2 + 2 inputs, one output edge per op
    w1, _ = node_labelled(dot, "<B>W1</B>")
    (source, matmul), = [e for e in edges(dot) if w1 in e]  # input tensor -> op, never into a leaf
    assert source == w1 and "label=matmul" in nodes(dot)[matmul]
    assert [dst for src, dst in edges(dot) if src == matmul] == [f"t{matmul[2:]}"]  # op -> its output


def test_labels_show_names_shapes_and_dtypes():
    dot = viz.to_dot(two_layer_net()["loss"])
    assert "(4, 5) float32" in node_labelled(dot, "<B>W1</B>")[1]
    assert "(8, 4) float32" in node_labelled(dot, "<B>x</B>")[1]
    assert "(8,) int64" in node_labelled(dot, "<B>t</B>")[1]
    assert "scalar float32" in node_labelled(dot, "<B>loss</B>")[1]
    assert dot.count("(8, 5) float32") == 3  # the unnamed hidden tensors still show their shape
    bare = viz.to_dot(two_layer_net()["loss"], show_shapes=False)
    assert "float32" not in bare and "<B>W1</B>" in bare


def test_parameters_data_outputs_and_ops_are_styled_apart():
    dot = viz.to_dot(two_layer_net()["loss"])
    fill = {name: re.search(r'fillcolor="([^"]+)"', node_labelled(dot, f"<B>{name}</B>")[1]).group(1)
            for name in ["W1", "b2", "x", "t", "loss"]}
    assert fill["W1"] == fill["b2"] == viz.PARAM_STYLE["fillcolor"]
    assert fill["x"] == fill["t"] == viz.DATA_STYLE["fillcolor"]
    assert fill["loss"] == viz.OUTPUT_STYLE["fillcolor"]
    assert len({fill["W1"], fill["x"], fill["loss"]}) == 3
    assert "penwidth=2" in node_labelled(dot, "<B>loss</B>")[1]
    assert all("shape=ellipse" in a for i, a in nodes(dot).items() if i.startswith("op"))
    assert all("shape=box" in a for i, a in nodes(dot).items() if i.startswith("t"))


def test_a_tensor_used_twice_is_one_node_with_two_edges():
    x = ag.Tensor(np.ones(3), requires_grad=True, name="x")
    dot = viz.to_dot(x * x)
    assert list(nodes(dot)) == ["t0", "t1", "op1"]
    assert edges(dot) == [("t0", "op1"), ("t0", "op1"), ("op1", "t1")]


def test_a_tensor_reached_by_two_paths_is_numbered_before_all_its_consumers():
    x = ag.Tensor(np.ones(3), requires_grad=True, name="x")
    c = ag.tanh(x)
    c.name = "c"
    out = c + c * 3.0  # c feeds add directly and through mul (reached first, via the first argument)
    dot = viz.to_dot(out)
    declared = [m.start() for m in NODE.finditer(dot)]
    position = dict(zip(nodes(dot), declared))
    for m in EDGE.finditer(dot):  # every edge joins nodes declared above it: inputs come first
        assert position[m.group(1)] < m.start() and position[m.group(2)] < m.start()
    assert node_labelled(dot, "<B>c</B>")[0] == "t1"
    assert sum(src == "t1" for src, _ in edges(dot)) == 2


def test_same_graph_gives_identical_dot_text():
    first, second = two_layer_net(), two_layer_net()
    assert first["loss"] is not second["loss"]
    assert viz.to_dot(first["loss"]) == viz.to_dot(second["loss"])
    for net in (first, second):
        net["loss"].backward()
    assert viz.to_dot(first["loss"], show_grads=True) == viz.to_dot(second["loss"], show_grads=True)


def test_show_grads_shows_each_gradients_l2_norm():
    net = two_layer_net()
    assert "|grad|" not in viz.to_dot(net["loss"], show_grads=True)  # no backward yet: nothing to show
    net["loss"].backward()
    dot = viz.to_dot(net["loss"], show_grads=True)
    for name in ["W1", "b1", "W2", "b2"]:
        norm = np.linalg.norm(net[name].grad)
        assert norm > 0
        assert f"|grad| = {norm:.4g}<" in node_labelled(dot, f"<B>{name}</B>")[1]
    assert dot.count("|grad|") == 4  # x and t hold no gradient
    assert "|grad|" not in viz.to_dot(net["loss"])


def test_array_constants_are_small_nodes_and_scalars_are_left_out():
    x = ag.Tensor(np.ones(3), requires_grad=True, name="x")
    shift = np.arange(3.0)
    dot = viz.to_dot(ag.mul(x, shift) * 2.0 + shift)
    consts = [i for i in nodes(dot) if i.startswith("c")]
    assert consts == ["c0"]  # the same array twice is one node; the 2.0 is not drawn
    assert "const" in nodes(dot)["c0"] and "(3,) float64" in nodes(dot)["c0"]
    assert [src for src, _ in edges(dot)].count("c0") == 2
    scaled = [dst for src, dst in edges(dot) if dst.startswith("op")]
    assert sorted(scaled.count(op) for op in set(scaled)) == [1, 2, 2]  # mul by 2.0 has one input edge


def test_labels_with_quotes_and_angle_brackets_are_escaped():
    x = ag.Tensor(np.ones(2), requires_grad=True, name='say "hi" <b>&\\')
    y = ag.sum(x * x)
    y.name = "<y>"
    dot = viz.to_dot(y, show_shapes=False)
    assert '<B>say "hi" &lt;b&gt;&amp;\\</B>' in dot and "<B>&lt;y&gt;</B>" in dot
    svg = viz.draw(y, show_shapes=False).pipe(format="svg", encoding="utf-8")  # dot accepts the text
    assert "&lt;y&gt;" in svg and "&lt;b&gt;&amp;\\" in svg


def test_a_5000_op_chain_needs_no_recursion():
    z = ag.Tensor(np.ones(2), requires_grad=True, name="x")
    for _ in range(5000):
        z = ag.tanh(z)
    dot = viz.to_dot(z)
    assert len(nodes(dot)) == 2 * 5000 + 1 and len(edges(dot)) == 2 * 5000


def test_draw_returns_a_digraph_that_takes_graph_attributes():
    x = ag.Tensor(np.ones(2), requires_grad=True)
    picture = viz.draw(ag.tanh(x), graph_attr={"rankdir": "LR"})
    assert isinstance(picture, graphviz.Digraph) and hasattr(picture, "_repr_mimebundle_")
    assert "rankdir=LR" in picture.source and "rankdir=TB" not in picture.source
    with pytest.raises(TypeError, match="ndarray"):
        viz.draw(np.ones(2))


def test_docstring_examples_run():
    assert doctest.testmod(viz).failed == 0


def test_render_with_dot_writes_svg_and_png(tmp_path, recwarn):
    assert shutil.which("dot"), "Graphviz's dot must be installed for this test: apt-get install graphviz"
    net = two_layer_net()
    net["loss"].backward()
    path = viz.render(net["loss"], path=tmp_path / "net.svg", show_grads=True)
    assert path == tmp_path / "net.svg"
    svg = path.read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    for text in ["matmul", "sigmoid", "softmax_cross_entropy", "W1", "b1", "W2", "b2", "loss"]:
        assert f">{text}</text>" in svg
    assert (tmp_path / "net.dot").read_text(encoding="utf-8") == viz.to_dot(net["loss"], show_grads=True)
    png = viz.render(net["loss"], path=tmp_path / "net", format="png")
    assert png == tmp_path / "net.png" and png.read_bytes().startswith(b"\x89PNG")
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def _hide_dot_from_path(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))


def _make_graphviz_report_it_missing(monkeypatch, tmp_path):
    def missing(*args, **kwargs):
        calls.append(args)
        raise graphviz.ExecutableNotFound(["dot"])
    calls = []
    monkeypatch.setattr(graphviz, "render", missing)
    return calls


@pytest.mark.parametrize("hide", [_hide_dot_from_path, _make_graphviz_report_it_missing])
def test_without_dot_render_writes_dot_text_and_one_line_of_advice(monkeypatch, tmp_path, hide):
    calls = hide(monkeypatch, tmp_path)
    loss = two_layer_net()["loss"]
    with pytest.warns(RuntimeWarning) as record:
        path = viz.render(loss, path=tmp_path / "out" / "net.svg")  # no exception escapes
    assert path == tmp_path / "out" / "net.dot"
    assert path.read_text(encoding="utf-8") == viz.to_dot(loss)
    assert not (tmp_path / "out" / "net.svg").exists()
    assert len(record) == 1
    advice = str(record[0].message)
    assert "\n" not in advice and str(path) in advice
    for command in ["apt-get install graphviz", "brew install graphviz", "conda install graphviz"]:
        assert command in advice
    if calls is not None:  # the graphviz-raises variant really reached graphviz.render
        assert len(calls) == 1
