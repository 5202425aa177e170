"""The "Coming from ..." pages (docs/coming-from/) say only true things about names.

Each page maps another system's names to this project's in Markdown tables whose
header has a column "This project".  In that column every code span is a name
written from one of four roots, ``ag.`` (autograd_np), ``nets.``, ``Tensor.``
(``ag.Tensor``) and ``Module.`` (``nets.Module``), optionally followed by a call
whose keywords (``nets.Conv2d(padding=)``) must be parameters of that callable;
a cell without a name says ``(none)``.  These tests resolve every name and check
every keyword, so a renamed function or argument fails here, and count the
mapped rows so that a page cannot lose its tables silently.  The other system's
column is checked the same way where that system is installed: PyTorch's names
(``torch.``) with torch, HIPS autograd's (names in its package ``autograd``) with autograd; DeZero and
the book are not packages to install, their names are the pages' word.
"""
import importlib
import inspect
import re
from pathlib import Path

import pytest

import autograd_np as ag
import nets

ROOT = Path(__file__).resolve().parents[2]
PAGES_DIR = ROOT / "docs" / "coming-from"
PAGES = ["index.md", "pytorch.md", "hips-autograd.md", "dezero.md", "the-book.md"]
OURS = "This project"
ROOTS = {"ag": ag, "nets": nets, "Tensor": ag.Tensor, "Module": nets.Module}
# the mapped rows each page holds today (a row with at least one name resolved): the least it may keep
MIN_ROWS = {"index.md": 22, "pytorch.md": 60, "hips-autograd.md": 19, "dezero.md": 53, "the-book.md": 36}
SPAN = re.compile(r"`([^`]+)`")
NAME = re.compile(r"^(?P<path>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(?:\((?P<args>[^()]*)\))?$")
KEYWORD = re.compile(r"(?:^|,)\s*([A-Za-z_]\w*)=")
NONE = "(none)"


def tables(text):
    """Every Markdown table of ``text``: (header cells, [row cells, ...])."""
    found, block = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            block.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif block:
            if len(block) >= 2 and set("".join(block[1])) <= set("-: "):
                found.append((block[0], block[2:]))
            block = []
    return found


def rows(page):
    """(peer cell, our cell) of every row of the page's map tables."""
    out = []
    for header, body in tables((PAGES_DIR / page).read_text(encoding="utf-8")):
        if OURS in header:
            ours = header.index(OURS)
            out += [(row[0], row[ours]) for row in body]
    return out


def resolve(path, roots):
    """The object a dotted ``path`` names from ``roots`` (its first part), importing
    submodules on the way when an attribute is missing; AssertionError naming the
    first part that does not resolve."""
    head, *rest = path.split(".")
    assert head in roots, f"{path}: names start with one of {sorted(roots)}"
    obj, where = roots[head], head
    for part in rest:
        where += "." + part
        if not hasattr(obj, part) and inspect.ismodule(obj):
            try:
                importlib.import_module(f"{obj.__name__}.{part}")
            except ImportError:
                pass
        assert hasattr(obj, part), f"{path}: {where} does not exist"
        obj = getattr(obj, part)
    return obj


def accepted(obj, keyword):
    """True when the callable ``obj`` takes ``keyword`` (by name or through **kwargs);
    None when its signature cannot be read (a C builtin)."""
    try:
        params = inspect.signature(obj).parameters
    except (TypeError, ValueError):
        return None
    return keyword in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def check_span(span, roots):
    """Resolve one code span of a map column; return its name.  Non-names (quoted
    strings, numbers) are skipped (None)."""
    if span[0] in "\"'0123456789-":
        return None
    m = NAME.match(span)
    assert m, f"`{span}`: write a name, optionally with its keywords: nets.Conv2d(padding=)"
    obj = resolve(m["path"], roots)
    for keyword in KEYWORD.findall(m["args"] or ""):
        assert accepted(obj, keyword) is not False, f"`{span}`: {m['path']} takes no keyword {keyword!r}"
    return m["path"]


@pytest.mark.parametrize("page", PAGES)
def test_every_name_in_this_projects_column_exists(page):
    mapped = 0
    for peer, ours in rows(page):
        names = [check_span(span, ROOTS) for span in SPAN.findall(ours)]
        assert any(names) or ours == NONE, f"{page}: the row of {peer!r} names nothing (write {NONE})"
        mapped += any(names)
    assert mapped >= MIN_ROWS[page], f"{page}: {mapped} mapped rows, expected at least {MIN_ROWS[page]}"


def peer_names(page, prefix, implicit=False):
    """The code spans of the page's peer column that start with ``prefix`` (every span,
    with ``prefix`` put in front, when the page's first column leaves it ``implicit``)."""
    spans = [span for peer, _ in rows(page) for span in SPAN.findall(peer)]
    return [prefix + span for span in spans] if implicit else [span for span in spans if span.startswith(prefix)]


def test_pytorchs_names_exist_in_pytorch():
    torch = pytest.importorskip("torch")
    spans = peer_names("pytorch.md", "torch.")
    assert len(spans) >= 80
    for span in spans:
        check_span(span, {"torch": torch})


def test_hips_autograds_names_exist_in_hips_autograd():
    autograd = pytest.importorskip("autograd")
    assert hasattr(autograd, "elementwise_grad")  # HIPS autograd, not another package of that name
    spans = peer_names("hips-autograd.md", "autograd.", implicit=True)  # the column says `grad`: autograd.grad
    assert len(spans) >= 25
    for span in spans:
        check_span(span, {"autograd": autograd})


# the checker itself: it must refuse what is wrong

@pytest.mark.parametrize("span", ["ag.no_such_function", "nets.Conv2d(paddding=)", "nets.optim.Adam(betas2=)",
                                  "Tensor.sizee", "Module.save_weights", "torch.Tensor.view", "np.sum",
                                  "nets.Linear(in, out", "ag.func.nope"])
def test_the_checker_refuses_a_wrong_name_or_keyword(span):
    with pytest.raises(AssertionError):
        check_span(span, ROOTS)


@pytest.mark.parametrize("span, name", [("ag.func.grad(argnums=)", "ag.func.grad"), ("nets.Conv2d(padding=)",
                                        "nets.Conv2d"), ("nets.Conv2d(in_channels, out_channels, kernel_size, "
                                        "stride=, pad=)", "nets.Conv2d"), ("Tensor.view", "Tensor.view"),
                                        ("ag.viz.render(path=, show_shapes=)", "ag.viz.render"),
                                        ('"he"', None), ("Module.load_state_dict(strict=)", "Module.load_state_dict")])
def test_the_checker_accepts_a_right_name(span, name):
    assert check_span(span, ROOTS) == name


def test_tables_are_read_cell_by_cell():
    text = "| A | This project | C |\n|---|---|---|\n| `x` | `ag.sum`, `ag.mean` | d |\n\n| no | table |\n"
    assert tables(text) == [(["A", "This project", "C"], [["`x`", "`ag.sum`, `ag.mean`", "d"]])]


@pytest.mark.parametrize("page", PAGES)
def test_relative_links_lead_to_pages(page):
    """Links to other pages of the site (../guides/engine.md) point at files that exist."""
    text = (PAGES_DIR / page).read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)#:]+\.md)(?:#[^)]*)?\)", text)
    for link in links:
        assert (PAGES_DIR / link).resolve().exists(), f"{page}: {link} does not exist"
    toctree = re.search(r"```\{toctree\}\n(.*?)```", text, re.S)
    for entry in (toctree.group(1).splitlines() if toctree else []):
        if entry.strip() and not entry.startswith(":"):
            assert (PAGES_DIR / f"{entry.strip()}.md").exists(), f"{page}: toctree entry {entry} does not exist"
