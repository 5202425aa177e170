"""The documentation site (docs/, built by ``make docs`` into build/docs/).

Fast checks, without a build: every public name of the documented namespaces has a docstring (a
constant: a ``#:`` doc comment) and a place in the generated reference (docs/_ext/apigen.py writes it
from ``__all__``), and the reference's index lists every namespace.

The slow checks build the whole site as ``make docs`` does (warnings are errors, the notebooks are
executed), into a temporary folder, then read it: no warning, every internal link (``href``/``src`` and
its ``#anchor``) resolves, no page shows a path of this machine, the API pages show the real signatures,
the op table lists every registered op, each notebook is rendered with its outputs.
"""
import importlib.util
import inspect
import re
import subprocess
import sys
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
INSTALL = "make docs (or: .venv/bin/python -m pip install -e '.[docs]')"
DOC_TOOLS = ("sphinx", "pydata_sphinx_theme", "myst_parser", "myst_nb", "numpydoc", "sphinx_copybutton")
MACHINE_PATHS = ("/work/", "/tmp/", "/home/", "/root/")


sys.path.insert(0, str(DOCS / "_ext"))  # the site's extensions: their planning part needs no Sphinx
import apigen  # noqa: E402
import attrdocs  # noqa: E402

PLAN = apigen.plan()
ENTRIES = [e for entries in PLAN.values() for e in entries]


# --- the reference's source: complete, without a build ----------------------------------------------------

def test_the_reference_index_lists_every_namespace_in_order():
    index = (DOCS / "api" / "index.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```\{api-namespaces\}\n(.*?)^```$", index, flags=re.M | re.S)
    assert [line.strip() for block in blocks for line in block.splitlines() if line.strip()] == apigen.NAMESPACES


@pytest.mark.parametrize("namespace", apigen.NAMESPACES)
def test_every_public_name_has_a_docstring(namespace):
    missing = [e.name for e in PLAN[namespace] if e.own or e.kind == "module"
               if not apigen.docstring(e).strip()]
    assert not missing, f"{namespace}: public names without a docstring (a constant: a '#:' comment): {missing}"


def test_every_module_in_an_all_list_is_a_documented_namespace():
    orphans = [e.full for e in ENTRIES if e.kind == "module" and e.page not in apigen.NAMESPACES]
    assert not orphans, f"modules exported by a namespace but documented by none (apigen.NAMESPACES): {orphans}"


def test_every_public_name_appears_in_the_generated_reference(tmp_path):
    written = apigen.write(tmp_path, PLAN)
    assert {p.stem for p in tmp_path.glob("*.rst")} == set(written)
    for e in ENTRIES:
        listing = written[e.namespace]
        if e.kind == "module":
            assert f"* :doc:`{e.page}`: " in listing, e.full
            continue
        assert re.search(rf"^   ~?{re.escape(e.name if e.own else e.page)}$", listing, flags=re.M), \
            f"{e.full} is not in the table of {e.namespace}'s page"
        page = written[e.file]
        target = e if e.own else next(o for o in ENTRIES if o.own and o.page == e.page)
        assert f".. currentmodule:: {target.namespace}\n" in page, e.full
        assert re.search(rf"^\.\. auto(class|exception|function|data):: {re.escape(target.name)}$", page,
                         flags=re.M), f"{e.full}: no autodoc directive on its page"


def test_a_name_exported_twice_has_one_page():
    pages = [e.page for e in ENTRIES if e.own]
    assert len(pages) == len(set(pages))
    # nets.layers.Affine is nets.Affine: documented once, under nets, the first namespace exporting it
    affine = next(e for e in PLAN["nets.layers"] if e.name == "Affine")
    assert affine.page == "nets.Affine" and not affine.own


def test_a_name_that_differs_only_by_case_gets_its_own_file(tmp_path):
    written = apigen.write(tmp_path, PLAN)
    stems = [s.lower() for s in written]
    assert len(stems) == len(set(stems)), "two generated files differ only by case"
    if "Tensor" in apigen.resolve("autograd_np").__all__ and "tensor" in apigen.resolve("autograd_np").__all__:
        assert "autograd_np.Tensor-uppercase" in written and "autograd_np.tensor" in written


def test_every_documented_function_has_a_real_signature():
    bare = []
    for e in ENTRIES:
        if e.own and e.kind == "function":
            # an op applier's or a decorator's wrapper, as help(ag.sum) showed before (*args, **params)
            if str(inspect.signature(e.obj)) in ("(*args, **params)", "(*args, **kwargs)"):
                bare.append(e.full)
    assert not bare, f"functions whose signature is a wrapper's (*args, **kwargs): {bare}"


def test_constant_docs_are_read_from_their_comments():
    source = ('#: the first\n#: and more\nA = 1\nB = 2  #: trailing\nC = 3\n"""after C"""\n'
              'D = "#x"  # a plain comment\n# above E,\n# two lines\nE: int = 5\n\nF = 6\n'
              'G = {  # trailing on the first line\n    "a": 1,  # not this one\n}\n')
    assert attrdocs.attribute_docs(source) == {"A": "the first and more", "B": "trailing", "C": "after C",
                                             "D": "a plain comment", "E": "above E, two lines",
                                             "G": "trailing on the first line"}


# --- the built site ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def site(tmp_path_factory):
    missing = [m for m in DOC_TOOLS if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed: {INSTALL}")
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html",
                           "-d", str(out / "doctrees"), str(DOCS), str(out / "html")],
                          cwd=ROOT, capture_output=True, text=True, timeout=3600)
    return proc, out / "html"


def _built(site):
    proc, html = site
    assert proc.returncode == 0, f"the build failed:\n{proc.stderr[-6000:]}"
    return html


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("href", "src"):
            if attrs.get(key):
                self.links.append(attrs[key])
        for key in ("id", "name"):
            if attrs.get(key):
                self.ids.add(attrs[key])


def _parse(path, cache={}):
    if path not in cache:
        parser = _Links()
        parser.feed(path.read_text(encoding="utf-8"))
        cache[path] = parser
    return cache[path]


def _broken(page, link, html):
    """Why ``link`` on ``page`` does not resolve (None when it does); links leaving the site are not ours."""
    parts = urlsplit(link)
    if parts.scheme or parts.netloc or link.startswith("#") and len(link) == 1:
        return None
    target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
    if target.is_dir():
        target = target / "index.html"
    if not target.is_file() or html.resolve() not in target.parents:
        return f"{link}: no file {target.relative_to(html.resolve()) if html.resolve() in target.parents else target}"
    if parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in _parse(target).ids:
        return f"{link}: no anchor #{parts.fragment} in {target.name}"
    return None


def test_the_link_check_finds_what_is_broken(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.html").write_text('<p id="top"><a href="sub/b.html#here">ok</a><a href="#top">ok</a>'
                                     '<img src="sub/b.html"><a href="https://example.org/x#y">away</a>'
                                     '<a href="sub/b.html#gone">1</a><a href="c.html">2</a><a href="#none">3</a>'
                                     '<a href="../outside.html">4</a><a href="sub/">5</a></p>')
    (tmp_path / "sub" / "b.html").write_text('<h1 id="here">b</h1><a name="old"></a><a href="../a.html#top">ok</a>')
    page = tmp_path / "a.html"
    found = [why for link in _parse(page).links if (why := _broken(page, link, tmp_path))]
    assert [why.split(":")[0] for why in found] == ["sub/b.html#gone", "c.html", "#none", "../outside.html",
                                                    "sub/"]
    assert not [link for link in _parse(tmp_path / "sub" / "b.html").links
                if _broken(tmp_path / "sub" / "b.html", link, tmp_path)]


@pytest.mark.slow
def test_the_site_builds_without_a_warning(site):
    proc, _ = site
    warnings = [line for line in proc.stderr.splitlines() if re.search(r"\b(WARNING|ERROR|CRITICAL):", line)]
    assert proc.returncode == 0 and not warnings, "\n".join(warnings[:40]) or proc.stderr[-6000:]


@pytest.mark.slow
def test_every_internal_link_resolves(site):
    html = _built(site)
    pages = sorted(p for p in html.rglob("*.html") if "_static" not in p.relative_to(html).parts)  # not the
    assert len(pages) > len(ENTRIES) // 2  # theme's templates; the reference's pages are there
    broken = [f"{page.relative_to(html)}: {why}" for page in pages for link in _parse(page).links
              if (why := _broken(page, link, html))]
    assert not broken, f"{len(broken)} broken links:\n" + "\n".join(broken[:30])


@pytest.mark.slow
def test_no_page_shows_a_path_of_this_machine(site):
    html = _built(site)
    found = [f"{page.relative_to(html)}: {path}" for page in html.rglob("*.html")
             for path in MACHINE_PATHS if path in page.read_text(encoding="utf-8")]
    assert not found, "\n".join(found[:30])


def _text(page: Path) -> str:
    return re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8"))


def _signature_line(page: Path, full: str) -> str:
    """The text of the signature line (``<dt ... id="full">``) of the object ``full`` on ``page``."""
    found = re.search(rf'<dt class="sig sig-object py" id="{re.escape(full)}">(.*?)</dt>',
                      page.read_text(encoding="utf-8"), flags=re.S)
    return unescape(re.sub(r"<[^>]+>", "", found.group(1))) if found else ""


@pytest.mark.slow
def test_the_api_pages_show_the_real_signatures(site):
    html = _built(site) / "api" / "generated"
    wrong = []
    for e in ENTRIES:
        if e.own and e.kind in ("function", "class", "exception"):
            try:
                params = list(inspect.signature(e.obj).parameters)
            except (TypeError, ValueError):  # a class without a Python signature
                continue
            shown = _signature_line(html / f"{e.file}.html", e.page)
            wrong += [f"{e.full}: no {p} in {shown!r}" for p in params if p not in shown]
            if "args" not in params and "*args" in shown:
                wrong.append(f"{e.full}: a wrapper's signature {shown!r}")
    assert not wrong, f"signatures that differ from the objects': {wrong[:30]}"
    sum_line = _signature_line(html / "autograd_np.sum.html", "autograd_np.sum")
    assert re.search(r"autograd_np\.sum\(x, axis=None, keepdims=False\)", sum_line), sum_line
    conv_line = _signature_line(html / "nets.Conv2d.html", "nets.Conv2d")
    assert "nets.Conv2d(in_channels, out_channels, kernel_size, stride=1, pad=0" in conv_line, conv_line
    assert "dtype=np.float32" in conv_line, conv_line  # defaults as written, not their repr


@pytest.mark.slow
def test_the_op_table_lists_every_registered_op(site):
    import autograd_np as ag
    from autograd_np.testing import COMPOSITE_SPECS, OP_SPECS

    page = (_built(site) / "api" / "ops.html").read_text(encoding="utf-8")
    cells = set(re.findall(r"<code[^>]*><span class=\"pre\">([^<]+)</span></code>", page)) | \
        set(re.findall(r"<code[^>]*>([^<]+)</code>", page))
    missing = [name for name in [*OP_SPECS, *COMPOSITE_SPECS] if name not in cells]
    assert not missing, f"ops missing from the op table: {missing}"
    assert set(ag.OPS) <= set(OP_SPECS) | set(COMPOSITE_SPECS)
    assert 'href="generated/autograd_np.sum.html' in page  # a public op links to its API page


@pytest.mark.slow
def test_every_notebook_is_rendered_with_its_outputs(site):
    from tests.test_notebooks import SHOWS  # what each notebook must show, run as the docs build runs it

    html = _built(site) / "notebooks"
    notebooks = sorted((ROOT / "examples" / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert [nb.name for nb in notebooks] == sorted(SHOWS)
    for nb in notebooks:
        page = (html / f"{nb.stem}.html").read_text(encoding="utf-8")
        assert "cell_output" in page, f"{nb.name}: no output on its page"
        text = unescape(_text(html / f"{nb.stem}.html"))
        assert "This page was executed when the site was built" in text
        missing = [s for s in SHOWS[nb.name] if not s.startswith("<") and s not in text]
        assert not missing, f"{nb.name}: its page does not show {missing}"


def test_every_op_table_row_is_five_cells_where_markdown_renders_it():
    """GitHub-style tables split a row at every unescaped ``|``, even inside a code span:
    ops_markdown escapes them (divisor \\|b\\|), and the site's table reads them back."""
    from autograd_np.testing import ops_markdown
    table = ops_markdown()
    body = table.splitlines()[2:]
    for line in body:
        cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
        assert len(cells) == 5, line
    optable = pytest.importorskip("optable", reason="the op table extension needs Sphinx: make docs installs it")
    rows = optable.rows(table)
    assert len(rows) == len(body)
    assert any("|b|" in row[-1] for row in rows) and not any("\\|" in cell for row in rows for cell in row)
