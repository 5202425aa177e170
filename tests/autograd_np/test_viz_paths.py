"""Pictures hold no machine path, and their captions fit inside them (issue 26).

``docs/anomaly_highlight.svg`` showed the full path of the anomaly's creation line
(``/work/main/examples/draw_graphs.py:76: ...``) in a caption one line long, cut
off at the right edge: Graphviz sized it with its own Helvetica metrics, and a
viewer's sans-serif is wider.  These tests regenerate every picture of
``examples/draw_graphs.py`` and read each one's text, and check the committed
pictures in ``docs/`` too.
"""
import html
import importlib.util
import linecache
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import autograd_np as ag
from autograd_np import viz
from autograd_np.viz import style

ROOT = Path(__file__).resolve().parents[2]
# folders that name a machine or a user: none may appear in a picture's text
MACHINE_FOLDERS = ("/work/", "/tmp/", "/home/", "/root/", "/Users/", "C:\\", "/private/", "/var/folders/")
# the widest sans-serif a viewer may substitute for Helvetica (DejaVu Sans, Verdana), in ems per
# character of a caption's text; Graphviz's own estimate is about 0.48
VIEWER_EM = 0.58
_TEXT = re.compile(r'<text text-anchor="(?P<anchor>\w+)" x="(?P<x>[-\d.]+)" y="[-\d.]+"[^>]*'
                   r'font-size="(?P<size>[\d.]+)"[^>]*>(?P<text>[^<]*)</text>')

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is missing (make installs it)")


def _script():
    spec = importlib.util.spec_from_file_location("draw_graphs", ROOT / "examples" / "draw_graphs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def texts(svg):
    """(anchor, x, font size, text) of every text element of an SVG written by dot."""
    return [(m["anchor"], float(m["x"]), float(m["size"]), html.unescape(m["text"])) for m in _TEXT.finditer(svg)]


def machine_paths(text, here=None):
    """The machine folders (and the current folder's path) found in ``text``."""
    found = [folder for folder in MACHINE_FOLDERS if folder in text]
    here = str(here or Path.cwd())
    if len(here) > 1 and here in text:
        found.append(here)
    return found


def caption_texts(svg):
    """The texts of the picture's own label (its caption and legend): those written before
    the first node, cluster or edge group."""
    start = svg.index('<g id="graph0"')
    end = svg.find('<g id="', start + 1)
    return texts(svg[start:end if end > 0 else len(svg)])


def overflowing(svg):
    """The caption's lines that a viewer's wider font would push past the picture's right
    edge: x + characters * VIEWER_EM * size beyond the width."""
    width = float(re.search(r'<svg width="([\d.]+)pt"', svg).group(1))
    shift = float(re.search(r'translate\(([-\d.]+) ', svg).group(1))
    return [text for anchor, x, size, text in caption_texts(svg)
            if anchor == "start" and shift + x + len(text.rstrip()) * VIEWER_EM * size > width]


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    """Every picture of examples/draw_graphs.py, drawn from a folder that is not the
    repository (as a user running the script from elsewhere): name -> SVG text."""
    out = tmp_path_factory.mktemp("pictures")
    before = os.getcwd()
    os.chdir(out)
    try:
        assert _script().main(["--out", "."]) == 0  # --out relative to where the script is run
    finally:
        os.chdir(before)
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(out.glob("*.svg"))}


@needs_dot
def test_every_picture_is_written_where_asked(pictures):
    assert sorted(pictures) == sorted(_script().pictures())


@needs_dot
@pytest.mark.parametrize("name", ["two_layer_graph", "mlp_modules", "mlp_collapsed", "mlp_grads",
                                  "deep_sigmoid_grads", "mlp_highlight", "anomaly_highlight", "fused_vs_composed"])
def test_no_picture_holds_a_machine_path_and_every_caption_fits(pictures, name):
    svg = pictures[name]
    assert not machine_paths(svg, ROOT), name
    assert not overflowing(svg), name
    for _, _, _, text in texts(svg):
        assert len(text) <= style.CAPTION_WIDTH or " " not in text.strip(), (name, text)  # long lines are wrapped


@needs_dot
def test_the_anomaly_caption_names_the_file_from_the_repository_root(pictures):
    lines = [text for _, _, _, text in texts(pictures["anomaly_highlight"])]
    where = [line for line in lines if "node created at" in line]
    assert len(where) == 1 and re.search(r"node created at examples/draw_graphs\.py:\d+: loss =", where[0]), lines
    assert any("relu leaves zeros" in line for line in lines)  # the rest of the source line, wrapped, not cut
    assert any(line.startswith("AnomalyError: sqrt (backward)") for line in lines)


@needs_dot
@pytest.mark.parametrize("name", ["two_layer_graph", "mlp_modules", "mlp_collapsed", "mlp_grads",
                                  "deep_sigmoid_grads", "mlp_highlight", "anomaly_highlight", "fused_vs_composed"])
def test_the_committed_pictures_say_what_the_script_draws_today(pictures, name):
    """docs/<name>.svg is current: the same texts, in the same order, as a fresh drawing
    (positions are left out: another Graphviz version may place the boxes otherwise).
    After changing the pictures' code: python examples/draw_graphs.py."""
    committed = (ROOT / "docs" / f"{name}.svg").read_text(encoding="utf-8")
    assert [t[3] for t in texts(committed)] == [t[3] for t in texts(pictures[name])]


@pytest.mark.parametrize("path", sorted((ROOT / "docs").glob("*.svg")), ids=lambda p: p.name)
def test_the_committed_pictures_hold_no_machine_path_and_fit(path):
    svg = path.read_text(encoding="utf-8")
    assert not machine_paths(svg, ROOT)
    assert not overflowing(svg)


@pytest.mark.parametrize("path", sorted((ROOT / "docs").glob("*.png")), ids=lambda p: p.name)
def test_the_committed_screenshots_hold_no_machine_path_in_their_metadata(path):
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG")
    assert not machine_paths(data.decode("latin-1"), ROOT)


# shown_paths: every kind of path a message may hold, against the expected text

CASES = [
    # (text, current folder, expected)
    ("created at /repo/examples/a.py:76: y = f(x)", "/repo", "created at examples/a.py:76: y = f(x)"),
    ("created at /elsewhere/pkg/a.py:3: y", "/repo", "created at a.py:3: y"),
    ("at /tmp/ipykernel_1/123.py:4: z = w", "/home/me", "at 123.py:4: z = w"),
    ("at /home/me/proj/sub/b.py:9:", "/home/me/proj", "at sub/b.py:9:"),
    ("at /home/me/proj/b.py:9:", "/", "at b.py:9:"),  # the root folder: everything is inside it
    ("two: /a/b/c.py:1 and /a/d/e.py:2", "/a", "two: b/c.py:1 and d/e.py:2"),
    ("(/x/y/z.py:5)", "/q", "(z.py:5)"),
    ("'/x/y/z.py'", "/q", "'z.py'"),
    ("at C:\\Users\\me\\proj\\net.py:7: y", "/q", "at net.py:7: y"),
    ("1 / (2 sqrt(0)) in backward", "/q", "1 / (2 sqrt(0)) in backward"),  # division, not a path
    ("x/y and a/b/c", "/q", "x/y and a/b/c"),  # relative paths stay
    ("NaN/inf", "/q", "NaN/inf"),
    ("see https://example.org/a/b.html", "/q", "see https://example.org/a/b.html"),
    ("/single", "/q", "/single"),  # one component: not a file of the machine
    ("", "/q", ""),
]


@pytest.mark.parametrize("text, cwd, expected", CASES)
def test_shown_paths_shortens_absolute_paths_only(text, cwd, expected):
    assert style.shown_paths(text, cwd=cwd) == expected


@pytest.mark.parametrize("width", [20, 40, style.CAPTION_WIDTH])
@pytest.mark.parametrize("note", ["AnomalyError: sqrt (backward): floating-point error: divide by zero encountered "
                                  "in divide", "  node created at some/file.py:76: loss = ag.sum(ag.sqrt(ag.relu("
                                  "x @ W)))  # relu leaves zeros: 1 / (2 sqrt(0)) in backward", "short",
                                  "  inputs: (4, 2) float64", "x" * 100])
def test_caption_lines_wrap_without_losing_a_word(note, width):
    lines = style.caption_lines(note, width)
    assert all(len(line) <= width for line in lines) or len(note) <= width
    assert "".join(lines).replace(" ", "") == note.replace(" ", "")  # every character kept, in order
    indent = note[:len(note) - len(note.lstrip())]
    assert lines[0].startswith(indent) and all(line.startswith(indent + "    ") for line in lines[1:])


def _anomaly_at(filename):
    """An AnomalyError whose node was created by code compiled as ``filename`` (its line
    put where the traceback module reads source lines)."""
    source = "loss = ag.sum(ag.sqrt(ag.relu(x @ W)))\n"
    linecache.cache[filename] = (len(source), None, [source], filename)
    code = compile(source, filename, "exec")
    space = {"ag": ag, "x": ag.Tensor(-np.ones((2, 3))), "W": ag.Tensor(np.ones((3, 2)), requires_grad=True)}
    with ag.detect_anomaly():
        exec(code, space)
        with pytest.raises(ag.AnomalyError) as info:
            space["loss"].backward()
    return space["loss"], info.value


@pytest.mark.parametrize("folder", ["/tmp/user_1234/notebooks", "/home/someone/project", "/root/work"])
def test_an_anomaly_drawn_anywhere_shows_only_the_file_name(folder, tmp_path, monkeypatch):
    loss, err = _anomaly_at(f"{folder}/script.py")
    assert folder in err.where  # the error itself keeps the full path (a terminal links it)
    monkeypatch.chdir(tmp_path)
    dot = viz.to_dot(loss, highlight=err)
    assert "script.py:1: loss = ag.sum" in dot and not machine_paths(dot, tmp_path)


def test_an_anomaly_in_the_current_folder_shows_the_relative_path(tmp_path, monkeypatch):
    loss, err = _anomaly_at(str(tmp_path / "src" / "train.py"))
    monkeypatch.chdir(tmp_path)
    dot = viz.to_dot(loss, highlight=err)
    assert "src/train.py:1: loss" in dot and str(tmp_path) not in dot


def test_every_caption_cell_reserves_room_for_a_wider_font():
    long = "word " * 40
    label = style.caption([long, "short"], legend=False)
    widths = {int(w) for w in re.findall(r'WIDTH="(\d+)"', label)}
    longest = max(len(line) for line in style.caption_lines(long))
    assert widths == {int(np.ceil(longest * style.CAPTION_POINTS * style.CHAR_EM))}
    assert style.CHAR_EM >= VIEWER_EM
