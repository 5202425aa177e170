"""autograd_np.viz: the DOT text (no binary needed), a real render with `dot`, and the fallback without it."""
import doctest
import re
import shutil
from pathlib import Path

import graphviz
import numpy as np
import pytest

import autograd_np as ag
from autograd_np import viz

NODE = re.compile(r"^\t((?:t|op|c)\d+(?:u\d+)?) \[(.*)\]$", re.M)  # skips the graph/node/edge default lines
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


def _unrolled(steps):
    """A weight shared by every step of an unrolled loop, as in a recurrent net."""
    w = ag.Tensor(np.ones(3), requires_grad=True, name="w")
    h = ag.Tensor(np.ones(3), name="h0")
    for _ in range(steps):
        h = ag.tanh(h * w)
    return ag.sum(h)


def test_a_widely_shared_tensor_is_drawn_beside_each_use():
    loss = _unrolled(20)  # w feeds 20 muls: more than max_fanout=16
    dot = viz.to_dot(loss)
    w, _ = node_labelled(dot, "used by 20 ops")
    copies = [n for n in nodes(dot) if n.startswith(w + "u")]
    assert len(copies) == 20 and all("<B>w</B>" in nodes(dot)[c] for c in copies)
    assert not [e for e in edges(dot) if e[0] == w]  # no long edges from the original
    into_muls = [e for e in edges(dot) if e[0] in copies]
    assert len(into_muls) == 20 and len({head for _, head in into_muls}) == 20
    full = viz.to_dot(loss, max_fanout=None)
    assert len([e for e in edges(full) if e[0] == w]) == 20 and "used by" not in full
    assert "used by" not in viz.to_dot(_unrolled(16))  # at the limit: one node with all its edges


def test_a_long_unrolled_loop_renders(tmp_path):
    assert shutil.which("dot"), "Graphviz's dot must be installed for this test: apt-get install graphviz"
    path = viz.render(_unrolled(300), path=tmp_path / "rnn.svg")  # one node with 300 edges: minutes in dot
    assert path.suffix == ".svg"
    assert len(re.findall(r"<title>t1u\d+</title>", path.read_text(encoding="utf-8"))) == 300


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
    before = viz.to_dot(net["loss"], show_grads=True)  # the picture computes the gradients itself
    assert all(net[name].grad is None for name in ["W1", "b1", "W2", "b2"])  # .grad is not touched
    assert before.count("|grad|") == 10  # 4 parameters, 5 intermediates, the loss; x and t have none
    net["loss"].backward()  # frees the graph: only the leaves' .grad is left to show
    dot = viz.to_dot(net["loss"], show_grads=True)
    for name in ["W1", "b1", "W2", "b2"]:
        norm = np.linalg.norm(net[name].grad)
        assert norm > 0
        assert f"|grad| = {norm:.4g}<" in node_labelled(dot, f"<B>{name}</B>")[1]
        assert f"|grad| = {norm:.4g}<" in node_labelled(before, f"<B>{name}</B>")[1]
    assert dot.count("|grad|") == 4  # x and t hold no gradient, intermediates are gone
    assert "leaves' .grad only (backward() freed the graph" in dot
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
    assert not (tmp_path / "net.dot").exists()  # the DOT text only when asked (keep_dot=True)
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
    monkeypatch.setattr(graphviz, "pipe", missing)  # what viz.render runs dot with
    monkeypatch.setattr(graphviz, "render", missing)  # what a Drawing's own render() runs dot with
    return calls


def test_without_dot_the_drawing_itself_renders_to_dot_text_and_displays_as_text(monkeypatch, tmp_path):
    # the example calls draw(loss).render("graph", format="svg") directly
    _hide_dot_from_path(monkeypatch, tmp_path)
    monkeypatch.chdir(tmp_path)
    loss = two_layer_net()["loss"]
    picture = viz.draw(loss)
    with pytest.warns(RuntimeWarning, match="dot.*not found.*apt-get install graphviz") as record:
        path = picture.render("graph", format="svg")  # no exception escapes
    assert len(record) == 1
    assert Path(path).read_text(encoding="utf-8") == picture.source
    assert not (tmp_path / "graph.svg").exists()
    shown = picture._repr_mimebundle_()  # what a notebook asks for
    assert list(shown) == ["text/plain"] and shown["text/plain"].startswith(picture.source)


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
    if calls is not None:  # the graphviz-raises variant really reached graphviz
        assert len(calls) == 1


# --- modules, collapse, show_grads, highlight -------------------------------------------------

ANY_NODE = re.compile(r"^\t+((?:t|op|c|m)\d+) \[(.*)\]$", re.M)  # nodes at any depth, module nodes too


def all_nodes(dot):
    return dict(ANY_NODE.findall(dot))


def clusters(dot):
    """Cluster name -> {"label": its label text, "nodes": ids declared directly in it, "parent": cluster or None}."""
    found, stack = {}, []
    for line in dot.splitlines():
        text = line.strip()
        opened = re.match(r'subgraph "?(cluster_[^"]*)"? \{$', text)
        if opened:
            found[opened.group(1)] = {"label": None, "nodes": [], "parent": stack[-1] if stack else None}
            stack.append(opened.group(1))
        elif text == "}" and stack:
            stack.pop()
        elif stack:
            node = re.match(r"((?:t|op|c|m)\d+) \[", text)
            if node:
                found[stack[-1]]["nodes"].append(node.group(1))
            elif "label=" in text:
                found[stack[-1]]["label"] = re.search(r"label=<(.*?)> labeljust=", text).group(1)
    return found


def op_of(dot, tensor_node):
    """The op node drawn into ``tensor_node`` and that op's name."""
    (op,) = [src for src, dst in edges(dot) if dst == tensor_node and src.startswith("op")]
    return op, re.search(r"label=(?:<<B>)?(\w+)", all_nodes(dot)[op]).group(1)


def output_of(op):
    return f"t{op[2:]}"


def mlp(sizes=(8, 6, 5, 3), batch=4, seed=0, **options):
    """A nets.MultiLayerNet (float64), its input tensor x, labels and loss (named "loss")."""
    nets = pytest.importorskip("nets")
    model = nets.MultiLayerNet(list(sizes), rng=seed, dtype=np.float64, **options)
    rng = np.random.default_rng(seed)
    x = ag.Tensor(rng.standard_normal((batch, sizes[0])), name="x")
    t = rng.integers(0, sizes[-1], batch)
    loss = model.loss(x, t)
    loss.name = "loss"
    return model, x, t, loss


def test_a_multilayernet_is_boxed_per_layer():
    model, x, t, loss = mlp()
    dot = viz.to_dot(loss)
    found = clusters(dot)
    assert list(found) == ["cluster_fc1", "cluster_act1", "cluster_fc2", "cluster_act2", "cluster_fc3"]
    assert [c["label"] for c in found.values()] == ["<B>fc1</B>  Affine", "<B>act1</B>  ReLU", "<B>fc2</B>  Affine",
                                                     "<B>act2</B>  ReLU", "<B>fc3</B>  Affine"]
    assert all(c["parent"] is None for c in found.values())
    labels = all_nodes(dot)
    for i in (1, 2, 3):  # each fc box: its W and b, the affine op and the affine's output
        inside = found[f"cluster_fc{i}"]["nodes"]
        assert sorted(re.search(r"<B>(fc\d\.\w)</B>", labels[n]).group(1) for n in inside
                      if "<B>fc" in labels[n]) == [f"fc{i}.W", f"fc{i}.b"]
        ops = [n for n in inside if n.startswith("op")]
        assert len(ops) == 1 and "label=affine" in labels[ops[0]] and output_of(ops[0]) in inside
        assert len(inside) == 4
    for i in (1, 2):
        inside = found[f"cluster_act{i}"]["nodes"]
        assert len(inside) == 2 and any("label=relu" in labels[n] for n in inside)
    in_boxes = {n for c in found.values() for n in c["nodes"]}
    outside = [n for n in labels if n not in in_boxes]  # x, the labels (a const), the loss op and the loss
    assert sorted(labels[n].split(" ")[0] for n in outside) == sorted(
        ["label=<<B>x</B><BR/><FONT", "label=<<B>const</B><BR/><FONT", "label=softmax_cross_entropy",
         "label=<<B>loss</B><BR/><FONT"])
    assert len(edges(dot)) == 19  # the same edges as without boxes
    flat = viz.to_dot(loss, modules=False)
    assert "subgraph" not in flat and sorted(edges(flat)) == sorted(edges(dot))
    assert flat == viz.to_dot(loss, modules=False)


def test_boxes_nest_and_plain_string_tags_work():
    nets = pytest.importorskip("nets")

    class Block(nets.Module):
        def __init__(self):
            super().__init__()
            self.fc = nets.Affine(3, 3, rng=0, dtype=np.float64)
            self.act = nets.Tanh()

        def forward(self, x):
            return self.act(self.fc(x)) + x  # the add belongs to the block itself

    class Net(nets.Module):
        def __init__(self):
            super().__init__()
            self.blocks = [Block(), Block()]

        def forward(self, x):
            for b in self.blocks:
                x = b(x)
            return ag.sum(x)

    out = Net()(ag.Tensor(np.ones((2, 3)), name="x"))
    dot = viz.to_dot(out)
    found = clusters(dot)
    assert set(found) == {f"cluster_blocks.{i}{sub}" for i in (0, 1) for sub in ("", ".fc", ".act")}
    assert found["cluster_blocks.1.fc"]["parent"] == "cluster_blocks.1"
    assert found["cluster_blocks.0"]["label"] == "<B>blocks.0</B>  Block"
    labels = all_nodes(dot)

    def ops_in(cluster):
        return [re.search(r"label=(\w+)", labels[n]).group(1) for n in found[cluster]["nodes"] if n.startswith("op")]

    assert ops_in("cluster_blocks.0") == ["add"]  # the block's own op; its layers' ops are one level down
    assert ops_in("cluster_blocks.0.fc") == ["affine"] and ops_in("cluster_blocks.1.act") == ["tanh"]
    in_boxes = {n for c in found.values() for n in c["nodes"]}
    assert [re.search(r"label=(\w+)", a).group(1) for n, a in labels.items()
            if n.startswith("op") and n not in in_boxes] == ["sum"]  # the root's own op is outside

    w = ag.Tensor(np.ones(2), requires_grad=True, name="w")
    h = ag.tanh(w)
    h.node.module = "layer"  # any string tag: one flat box, labelled with the string
    dot = viz.to_dot(ag.sum(h))
    assert clusters(dot) == {"cluster_layer": {"label": "<B>layer</B>", "nodes": ["t1", "op1"], "parent": None}}
    assert "subgraph" not in viz.to_dot(ag.sum(h), modules=False)


def test_collapse_draws_one_node_per_module():
    model, x, t, loss = mlp()
    dot = viz.to_dot(loss, collapse=True)
    labels = all_nodes(dot)
    modules = {n: re.search(r"<B>(.*?)</B>", a).group(1) for n, a in labels.items() if n.startswith("m")}
    assert list(modules.values()) == ["fc1: Affine", "act1: ReLU", "fc2: Affine", "act2: ReLU", "fc3: Affine"]
    ops = [re.search(r"label=(\w+)", a).group(1) for n, a in labels.items() if n.startswith("op")]
    assert ops == ["softmax_cross_entropy"]  # affine and relu are inside the module nodes
    assert not any("fc1.W" in a for a in labels.values())  # parameters too ...
    assert "W (8, 6) float64" in labels["m0"] and "out (4, 6) float64" in labels["m0"]  # ... listed in the label
    chain = [("t0", "m0"), ("m0", "m1"), ("m1", "m2"), ("m2", "m3"), ("m3", "m4")]
    assert edges(dot)[:5] == chain
    assert ("m4", "op12") in edges(dot) and len(edges(dot)) == 8  # + labels -> op, op -> loss
    assert "subgraph" not in dot
    with pytest.raises(ValueError, match="modules=False"):
        viz.draw(loss, collapse=True, modules=False)


def test_collapse_keeps_a_parameter_used_outside_its_module_and_boxes_outer_levels():
    model, x, t, loss = mlp(weight_decay=0.1)  # the L2 term uses every fc.W outside the fc modules
    dot = viz.to_dot(loss, collapse=True)
    labels = all_nodes(dot)
    w1, _ = [(n, a) for n, a in labels.items() if "<B>fc1.W</B>" in a][0]
    m_fc1 = [n for n, a in labels.items() if "fc1: Affine" in a][0]
    targets = [dst for src, dst in edges(dot) if src == w1]
    assert m_fc1 in targets and any("label=mul" in labels[d] for d in targets if d.startswith("op"))
    assert "b (6,) float64" in labels[m_fc1] and "W (8, 6)" not in labels[m_fc1]

    nets = pytest.importorskip("nets")
    seq = nets.Sequential(nets.Sequential(nets.Affine(3, 4, rng=0), nets.ReLU()), nets.Affine(4, 2, rng=1))
    out = ag.sum(seq(ag.Tensor(np.ones((2, 3), np.float32), name="x")))
    two = viz.to_dot(out, collapse=2)  # the inner Sequential is a box around two module nodes
    found = clusters(two)
    assert list(found) == ["cluster_0"] and len(found["cluster_0"]["nodes"]) == 2  # "1: Affine" is a node
    assert [re.search(r"<B>(.*?)</B>", all_nodes(two)[n]).group(1) for n in found["cluster_0"]["nodes"]] == [
        "0.0: Affine", "0.1: ReLU"]
    assert "1: Affine" in two
    one = viz.to_dot(out, collapse=True)
    assert "0: Sequential" in one and "0.0: Affine" not in one and "1: Affine" in one


def softmax_ce_grads(x, t, model):
    """Every tensor's gradient of the mean softmax cross-entropy of a 2-layer ReLU MLP, by hand in NumPy."""
    W1, b1, W2, b2 = model.fc1.W.data, model.fc1.b.data, model.fc2.W.data, model.fc2.b.data
    z = x @ W1 + b1
    h = np.maximum(z, 0)
    y = h @ W2 + b2
    p = np.exp(y - y.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    gy = (p - np.eye(y.shape[1])[t]) / len(x)
    gh = gy @ W2.T
    gz = gh * (z > 0)
    return {"y": gy, "h": gh, "z": gz, "W2": h.T @ gy, "b2": gy.sum(0), "W1": x.T @ gz, "b1": gz.sum(0)}


def test_show_grads_norms_match_a_hand_written_backward_and_colour_the_boxes():
    model, x, t, loss = mlp(sizes=(5, 4, 3), batch=6)
    expected = {k: np.linalg.norm(v) for k, v in softmax_ce_grads(x.data, t, model).items()}
    dot = viz.to_dot(loss, show_grads=True)
    found = clusters(dot)
    labels = all_nodes(dot)

    def tensor_made_by(cluster):
        (op,) = [n for n in found[cluster]["nodes"] if n.startswith("op")]
        return labels[output_of(op)]

    shown = {"z": tensor_made_by("cluster_fc1"), "h": tensor_made_by("cluster_act1"),
             "y": tensor_made_by("cluster_fc2")}
    for key in ["W1", "b1", "W2", "b2"]:  # fc1.W ... drawn inside their boxes
        (shown[key],) = [a for a in labels.values() if f"<B>fc{key[1]}.{key[0]}</B>" in a]
    for key, attrs in shown.items():
        norm = float(re.search(r"\|grad\| = ([0-9.e+-]+)<", attrs).group(1))
        assert norm == pytest.approx(expected[key], rel=1e-3), key
        fill = re.search(r'fillcolor="(#\w{6})"', attrs).group(1)
        want = viz.grad_color(expected[key])
        assert all(abs(int(fill[i:i + 2], 16) - int(want[i:i + 2], 16)) <= 1 for i in (1, 3, 5)), (key, fill, want)
    assert "|grad| = 1<" in node_labelled(dot, "<B>loss</B>")[1]
    assert "|grad|" not in node_labelled(dot, "<B>x</B>")[1]  # data has no gradient
    assert "gradient norms of d(loss)/d(tensor), computed for this picture" in dot
    assert "gradient L2 norm:" in dot  # the colour legend
    assert model.fc1.W.grad is None  # the picture's backward leaves .grad alone
    loss.backward(retain_graph=True)
    assert viz.to_dot(loss, show_grads=True) == dot  # the same numbers after a retained backward


def test_grad_color_runs_from_blue_through_white_to_red():
    def rgb(c):
        return tuple(int(c[i:i + 2], 16) for i in (1, 3, 5))
    tiny, small, healthy, big, huge = (rgb(viz.grad_color(v)) for v in (1e-9, 1e-5, 1e-2, 1e2, 1e6))
    assert tiny[2] > tiny[0] + 100 and small[2] > small[0]  # blue: vanishing
    assert healthy == (255, 255, 255)
    assert big[0] > big[2] + 100 and huge[0] > huge[1] > huge[2]  # orange to red: exploding
    assert viz.grad_color(0.0) == viz.grad_color(1e-30) == viz.GRAD_SCALE[0][1]
    assert viz.grad_color(float("nan")) == viz.grad_color(float("inf")) == viz.NONFINITE_FILL
    blues = [rgb(viz.grad_color(10.0 ** e))[2] - rgb(viz.grad_color(10.0 ** e))[0] for e in range(-8, 5)]
    assert blues == sorted(blues, reverse=True)  # monotone: bluer as the norm shrinks


def test_nan_and_inf_tensors_are_filled_red():
    x = ag.Tensor(np.array([1.0, -1.0, 4.0]), requires_grad=True, name="x")
    with np.errstate(invalid="ignore"):
        y = ag.log(x)  # log(-1) = NaN
    y.name = "y"
    out = ag.sum(y)
    dot = viz.to_dot(out)
    assert f'fillcolor="{viz.NONFINITE_FILL}"' in node_labelled(dot, "<B>y</B>")[1]
    assert "contains NaN" in node_labelled(dot, "<B>y</B>")[1]
    assert viz.NONFINITE_FILL not in node_labelled(dot, "<B>x</B>")[1]
    w = ag.Tensor(np.array([0.0, 1.0]), requires_grad=True, name="w")
    r = ag.sqrt(w)
    r.name = "r"
    dot = viz.to_dot(ag.sum(r), show_grads=True)  # d sqrt(w)/dw = inf at 0
    assert "grad contains inf" in node_labelled(dot, "<B>w</B>")[1]
    assert f'fillcolor="{viz.NONFINITE_FILL}"' in node_labelled(dot, "<B>w</B>")[1]
    assert viz.NONFINITE_FILL not in node_labelled(dot, "<B>r</B>")[1]


def marked(dot):
    return {n for n, a in all_nodes(dot).items() if f'color="{viz.MARK_COLOR}"' in a}


def test_highlight_marks_exactly_the_node_check_graph_fails(wrong_square_op):
    rng = np.random.default_rng(0)
    W = ag.Tensor(rng.standard_normal((3, 4)), requires_grad=True, name="W")
    h = ag.tanh(ag.Tensor(rng.standard_normal((2, 3)), name="x") @ W)
    bad = wrong_square_op(h)
    loss = ag.mean(ag.exp(bad * 0.1) + h)
    report = ag.check_graph(loss)
    assert [row.node for row in report.failures] == [bad.node]
    dot = viz.to_dot(loss, highlight=report)
    (op,) = [n for n, a in all_nodes(dot).items() if n.startswith("op") and "test_wrong_square" in a]
    assert op_of(dot, output_of(op)) == (op, "test_wrong_square")
    assert marked(dot) == {op, output_of(op)}  # the op and the tensor it made, nothing else
    assert "check_graph: FAIL" in all_nodes(dot)[op] and "penwidth=3" in all_nodes(dot)[op]
    assert f"derivative error {report.failures[0].max_abs_error:.2e}" in all_nodes(dot)[op]
    assert "check_graph: 7 nodes checked, 1 failing: test_wrong_square" in dot
    with pytest.raises(ag.GraphCheckError) as err:
        ag.check_graph(loss, raise_on_failure=True)
    assert viz.to_dot(loss, highlight=err.value) == dot  # the error carries the same report
    assert marked(viz.to_dot(loss, highlight=[r for r in report if r.passed])) == set()


def test_highlight_marks_the_module_of_a_failing_node_when_collapsed(wrong_square_op):
    nets = pytest.importorskip("nets")

    class Square(nets.Module):
        def forward(self, x):
            return wrong_square_op(x)

    model = nets.Sequential(nets.Affine(3, 4, rng=0, dtype=np.float64), Square(), nets.Affine(4, 2, rng=1,
                                                                                          dtype=np.float64))
    loss = model.loss(np.ones((2, 3)), np.array([0, 1]))
    report = ag.check_graph(loss)
    dot = viz.to_dot(loss, highlight=report, collapse=True)
    (module,) = marked(dot)
    label = all_nodes(dot)[module]
    assert "1: Square" in label and "test_wrong_square: check_graph: FAIL" in label


def test_highlight_an_anomaly_error():
    w = ag.Tensor(np.array([0.0, 2.0]), requires_grad=True, name="w")
    root = ag.sqrt(w * w)
    y = ag.sum(root * 3.0)
    with pytest.raises(ag.AnomalyError) as caught:
        with ag.detect_anomaly():
            y.backward(retain_graph=True)
    err = caught.value
    assert err.node is root.node and err.phase == "backward"
    dot = viz.to_dot(y, highlight=err)
    (op,) = [n for n, a in all_nodes(dot).items() if n.startswith("op") and "sqrt" in a]
    assert marked(dot) == {op, output_of(op)}
    assert "AnomalyError in backward" in all_nodes(dot)[op]
    assert "AnomalyError: sqrt (backward): floating-point error: divide by zero" in dot  # the caption

    with pytest.raises(ag.AnomalyError) as caught:  # a forward error: no output node exists
        with ag.detect_anomaly():
            ag.log(w - 1.0)
    assert caught.value.node is None
    dot = viz.to_dot(w * 2.0, highlight=caught.value)
    assert marked(dot) == set()
    assert "AnomalyError: log (forward)" in dot and "no node: the error came before its output existed" in dot


def test_highlight_takes_tensors_and_refuses_other_things():
    x = ag.Tensor(np.ones(2), requires_grad=True, name="x")
    y = ag.tanh(x)
    dot = viz.to_dot(ag.sum(y), highlight=y)
    assert marked(dot) == {"op1", "t1"} and "penwidth=3" in all_nodes(dot)["t1"]  # the tensor and its op
    with pytest.raises(TypeError, match="highlight takes"):
        viz.draw(y, highlight=[1, 2])


def variants():
    return {"modules": {}, "collapse": {"collapse": True}, "show_grads": {"show_grads": True},
            "collapse_grads": {"collapse": True, "show_grads": True}, "highlight": "report"}


@pytest.mark.parametrize("variant", list(variants()))
def test_each_variant_is_deterministic_and_renders_with_dot(variant, tmp_path, recwarn):
    assert shutil.which("dot"), "Graphviz's dot must be installed for this test: apt-get install graphviz"
    texts = []
    for _ in range(2):
        model, x, t, loss = mlp(batchnorm=True, dropout=0.3)
        options = variants()[variant]
        if options == "report":
            options = {"highlight": ag.check_graph(loss)}
        texts.append(viz.to_dot(loss, **options))
    assert texts[0] == texts[1]  # same graph, same text
    path = viz.render(loss, path=tmp_path / f"{variant}.svg", **options)
    assert path == tmp_path / f"{variant}.svg"
    svg = path.read_text(encoding="utf-8")
    assert "<svg" in svg and ">loss</text>" in svg
    if variant.startswith("collapse"):
        assert ">fc1: Affine</text>" in svg and ">bn1: BatchNorm</text>" in svg and ">drop1: Dropout</text>" in svg
    else:
        assert ">fc1</text>" in svg and ">bn1</text>" in svg and ">affine</text>" in svg
    if "grads" in variant:
        assert "|grad| = " in svg and "gradient L2 norm:" in svg
    if variant == "highlight":
        assert f"check_graph: {len(options['highlight'])} nodes checked, 0 failing" in svg
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


SNAPSHOT_MODULES = """digraph autograd {
	graph [nodesep=0.3 nslimit=1 rankdir=TB ranksep=0.3]
	node [fontname=Helvetica fontsize=11 height=0.3]
	edge [arrowsize=0.6 color="#505050"]
	t0 [label=<<B>x</B>> color="#808080" fillcolor="#e9e9e9" shape=box style=filled]
	subgraph cluster_fc1 {
		color="#adb5bd" fillcolor="#f1f3f5" fontname=Helvetica fontsize=10 label=<<B>fc1</B>  Affine> labeljust=l style="rounded,filled"
		t1 [label=<<B>fc1.W</B>> color="#1c5aa6" fillcolor="#cfe2ff" shape=box style="rounded,filled"]
		t2 [label=<<B>fc1.b</B>> color="#1c5aa6" fillcolor="#cfe2ff" shape=box style="rounded,filled"]
		t3 [label="" color="#606060" shape=box style=rounded]
		op3 [label=affine color="#a08000" fillcolor="#fff3bf" fontsize=10 ordering=in shape=ellipse style=filled]
	}
	subgraph cluster_act1 {
		color="#adb5bd" fillcolor="#ebfbee" fontname=Helvetica fontsize=10 label=<<B>act1</B>  ReLU> labeljust=l style="rounded,filled"
		t4 [label="" color="#606060" shape=box style=rounded]
		op4 [label=relu color="#a08000" fillcolor="#fff3bf" fontsize=10 ordering=in shape=ellipse style=filled]
	}
	subgraph cluster_fc2 {
		color="#adb5bd" fillcolor="#f1f3f5" fontname=Helvetica fontsize=10 label=<<B>fc2</B>  Affine> labeljust=l style="rounded,filled"
		t5 [label=<<B>fc2.W</B>> color="#1c5aa6" fillcolor="#cfe2ff" shape=box style="rounded,filled"]
		t6 [label=<<B>fc2.b</B>> color="#1c5aa6" fillcolor="#cfe2ff" shape=box style="rounded,filled"]
		t7 [label="" color="#606060" shape=box style=rounded]
		op7 [label=affine color="#a08000" fillcolor="#fff3bf" fontsize=10 ordering=in shape=ellipse style=filled]
	}
	t8 [label=<<B>loss</B>> color="#d9480f" fillcolor="#ffd8a8" penwidth=2 shape=box style="rounded,filled,bold"]
	op8 [label=softmax_cross_entropy color="#a08000" fillcolor="#fff3bf" fontsize=10 ordering=in shape=ellipse style=filled]
	c0 [label=<<B>const</B>> color="#909090" fontsize=9 shape=box style=dashed]
	t0 -> op3
	t1 -> op3
	t2 -> op3
	op3 -> t3
	t3 -> op4
	op4 -> t4
	t4 -> op7
	t5 -> op7
	t6 -> op7
	op7 -> t7
	t7 -> op8
	c0 -> op8
	op8 -> t8
}
"""

SNAPSHOT_COLLAPSED = """digraph autograd {
	graph [nodesep=0.3 nslimit=1 rankdir=TB ranksep=0.3]
	node [fontname=Helvetica fontsize=11 height=0.3]
	edge [arrowsize=0.6 color="#505050"]
	t0 [label=<<B>x</B>> color="#808080" fillcolor="#e9e9e9" shape=box style=filled]
	m0 [label=<<B>fc1: Affine</B><BR/><FONT POINT-SIZE="9">W</FONT><BR/><FONT POINT-SIZE="9">b</FONT>> color="#495057" fillcolor="#f1f3f5" penwidth=1.5 shape=box style="rounded,filled,bold"]
	m1 [label=<<B>act1: ReLU</B>> color="#495057" fillcolor="#ebfbee" penwidth=1.5 shape=box style="rounded,filled,bold"]
	m2 [label=<<B>fc2: Affine</B><BR/><FONT POINT-SIZE="9">W</FONT><BR/><FONT POINT-SIZE="9">b</FONT>> color="#495057" fillcolor="#f1f3f5" penwidth=1.5 shape=box style="rounded,filled,bold"]
	t8 [label=<<B>loss</B>> color="#d9480f" fillcolor="#ffd8a8" penwidth=2 shape=box style="rounded,filled,bold"]
	op8 [label=softmax_cross_entropy color="#a08000" fillcolor="#fff3bf" fontsize=10 ordering=in shape=ellipse style=filled]
	c0 [label=<<B>const</B>> color="#909090" fontsize=9 shape=box style=dashed]
	t0 -> m0
	m0 -> m1
	m1 -> m2
	m2 -> op8
	c0 -> op8
	op8 -> t8
}
"""


def test_dot_snapshots_of_a_small_multilayernet():
    """The exact text for a 4-3-2 MultiLayerNet: boxes, and one node per module. Update on purpose only."""
    model, x, t, loss = mlp(sizes=(4, 3, 2), batch=2)
    assert viz.to_dot(loss, show_shapes=False) == SNAPSHOT_MODULES
    assert viz.to_dot(loss, collapse=True, show_shapes=False) == SNAPSHOT_COLLAPSED


def test_the_docs_pictures_script_draws_every_picture(tmp_path):
    """examples/draw_graphs.py regenerates docs/*.svg; the README and the site show docs/two_layer_graph.svg."""
    import importlib.util
    root = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location("draw_graphs", root / "examples" / "draw_graphs.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.main(["--out", str(tmp_path)]) == 0
    names = ["two_layer_graph", "mlp_modules", "mlp_collapsed", "mlp_grads", "deep_sigmoid_grads", "mlp_highlight",
             "anomaly_highlight", "fused_vs_composed"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{n}.svg" for n in names)  # no .dot left over
    assert ">check_graph: 6 nodes checked, 2 failing: relu</text>" in (tmp_path / "mlp_highlight.svg").read_text()
    assert ag.OPS["relu"].vjp.__name__ != "<lambda>"  # the deliberately wrong derivative was put back
    anomaly = (tmp_path / "anomaly_highlight.svg").read_text()
    assert "sqrt (backward)" in anomaly and anomaly.count(viz.MARK_COLOR) >= 1
    both = (tmp_path / "fused_vs_composed.svg").read_text()
    assert ">fused</text>" in both and ">composed</text>" in both and ">logits</text>" in both
    assert (root / "docs" / "two_layer_graph.svg").exists()
