"""How the reports show in a notebook: a short ``repr`` (never an array dump) and an HTML
table (``_repr_html_``); and ``viz.render`` picking the format from the file's suffix and
writing the DOT text only when asked."""
import shutil

import numpy as np
import pytest

import autograd_np as ag
from autograd_np import viz


def simple_net():
    rng = np.random.default_rng(0)
    x = ag.Tensor(rng.random((8, 5)))
    W = ag.Tensor(rng.standard_normal((5, 3)), requires_grad=True, name="W")
    return ag.softmax_cross_entropy(ag.tanh(x @ W), np.arange(8) % 3)


def test_check_graph_report_is_short_and_a_table():
    report = ag.check_graph(simple_net())
    assert repr(report) == "<GraphReport: 3 nodes, 0 failing>"
    assert repr(report[0]).startswith("<NodeCheck ok ")
    page = report._repr_html_()
    assert page.startswith("<table") and page.count("<tr") == 4 and "softmax_cross_entropy" in page
    assert "background:#ffd9d9" not in page


def test_check_graph_report_marks_failing_rows(monkeypatch):
    loss = simple_net()
    op = ag.OPS["tanh"]
    monkeypatch.setattr(op, "vjp", lambda F, gy, y, x: gy * 2.0)  # a wrong derivative
    report = ag.check_graph(loss)
    assert repr(report) == "<GraphReport: 3 nodes, 1 failing: tanh>"
    assert report._repr_html_().count("background:#ffd9d9") == 1


def test_explain_steps_are_short_and_show_their_arrays_as_a_table():
    W = ag.Tensor(np.array([[0.47355232, 0.9977393, 0.84668094], [0.85557411, 0.03563661, 0.69422093]]),
                  requires_grad=True, name="W")
    loss = ag.softmax_cross_entropy(np.array([0.6, 0.9]) @ W, np.array([0, 0, 1]))
    steps = ag.explain(loss, print_steps=False, values=True)
    assert repr(steps) == "<2 backward steps: softmax_cross_entropy -> matmul>"
    assert repr(steps[1]) == "<ExplainStep matmul out (3,) -> W (2, 3)>"
    assert str(steps) == "\n".join(str(s) for s in steps)
    page = steps._repr_html_()
    assert page.startswith("<table") and "0.2192" in page  # the seeds' dW[0, 0] = 0.21924757
    plain = ag.explain(loss, print_steps=False)._repr_html_()
    assert "upstream</th>" not in plain


@pytest.fixture
def net():
    return simple_net()


@pytest.mark.parametrize("name,fmt,head", [("g.png", "png", b"\x89PNG"), ("g.svg", "svg", b"<?xml"),
                                           ("g.PDF", "pdf", b"%PDF"), ("g", "svg", b"<?xml")])
def test_render_takes_the_format_from_the_suffix(tmp_path, net, name, fmt, head):
    assert shutil.which("dot"), "Graphviz's dot must be installed for this test: apt-get install graphviz"
    out = viz.render(net, path=tmp_path / name)
    assert out.suffix == f".{fmt}" and out.read_bytes().startswith(head)
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]  # no .dot beside it


def test_render_writes_the_dot_text_when_asked(tmp_path, net):
    out = viz.render(net, path=tmp_path / "g.png", keep_dot=True)
    assert out == tmp_path / "g.png" and (tmp_path / "g.dot").read_text() == viz.to_dot(net)
    dot = viz.render(net, path=tmp_path / "only.dot")
    assert dot.read_text() == viz.to_dot(net) and not (tmp_path / "only.svg").exists()
    assert viz.render(net, path=tmp_path / "net.v2", format="png") == tmp_path / "net.v2.png"


def test_render_refuses_contradictions_and_unknown_suffixes(tmp_path, net):
    with pytest.raises(ValueError, match=r"ends with .png but format='svg'"):
        viz.render(net, path=tmp_path / "g.png", format="svg")
    with pytest.raises(ValueError, match=r"unknown picture format '.gif2'"):
        viz.render(net, path=tmp_path / "g.gif2")
    with pytest.raises(ValueError, match=r"unknown format 'bmpx'"):
        viz.render(net, path=tmp_path / "g", format="bmpx")
    assert list(tmp_path.iterdir()) == []
