"""Every ```python block of the README and of every page of the documentation site
(docs/**/*.md) runs: one test per page, the page's blocks in order in one namespace, in a
temporary folder; a failure names the page, the block and its line (tracebacks point at the
page's own lines).  Fences are checked too: a block that is not ```python must say what it is
(```text, ```bash, ```console, a MyST directive), so no example can slip past this test as a
```py or an unlabelled fence, and an unclosed fence fails."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>[^`]*)$")
# languages that would be Python but not run here: write ```python (runs) or ```text (does not)
LOOKALIKES = {"py", "py3", "python3", "ipython", "ipython3", "pycon", "python-repl", "sage"}
CODE_DIRECTIVES = {"{code-block}", "{code}", "{sourcecode}"}  # ```{code-block} python would not run either
# the pages whose examples are the point of the page: each must keep at least one python block
EXAMPLES = ["README.md", "docs/getting-started.md"] + [f"docs/guides/{name}.md" for name in (
    "engine", "gradient-checking", "debugging", "pictures", "transforms", "compile", "reliability",
    "adding-an-op", "nets", "pytorch-habits", "callbacks", "convnets", "sequence-models")]


def pages():
    """The README and every Markdown page of the site's source."""
    return [ROOT / "README.md"] + sorted(DOCS.rglob("*.md"))


def _closes(line, fence):
    text = line.strip()
    return len(text) >= len(fence) and set(text) == {fence[0]}


def fences(path):
    """[(info string, line of the opening fence (1-based), body)] of every fenced block of the
    page, the blocks inside a MyST directive's fence included; an unclosed fence raises."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found, stack = [], [(0, len(lines))]
    while stack:
        i, stop = stack.pop()
        while i < stop:
            match = FENCE.match(lines[i])
            if not match:
                i += 1
                continue
            fence, info, indent = match["fence"], match["info"].strip(), len(match["indent"])
            end = next((j for j in range(i + 1, stop) if _closes(lines[j], fence)), None)
            if end is None:
                raise AssertionError(f"{_name(path)}:{i + 1}: the fence {fence}{info} is never closed")
            body = [line[min(indent, len(line) - len(line.lstrip(" "))):] for line in lines[i + 1:end]]
            found.append((info, i + 1, "\n".join(body) + "\n"))
            if info.startswith("{"):  # a directive's body may hold fences of its own
                stack.append((i + 1, end))
            i = end + 1
    return sorted(found, key=lambda block: block[1])


def python_blocks(path):
    """[(line of the opening fence, source)] of the page's ```python blocks, in order."""
    return [(line, source) for info, line, source in fences(path) if info.split()[:1] == ["python"]]


def _name(path):
    path = Path(path)
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _mislabelled(info):
    """Why a fence's info string would hide Python from this test, or None."""
    words = info.split()
    if not words:
        return "a fence without a language: ```python runs, ```text or ```bash does not"
    if words[0].lower() in LOOKALIKES or (words[0].lower() == "python" and words[0] != "python"):
        return f"```{words[0]} is not run: write ```python (runs) or ```text (does not)"
    if words[0] in CODE_DIRECTIVES and len(words) > 1 and words[1].lower() in LOOKALIKES | {"python"}:
        return f"```{info} is not run: write ```python"
    return None


@pytest.mark.parametrize("page", pages(), ids=_name)
def test_every_fence_says_what_it_holds(page):
    bad = [f"{_name(page)}:{line}: {why}" for info, line, _ in fences(page) if (why := _mislabelled(info))]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("page", [p for p in pages() if python_blocks(p)], ids=_name)
def test_the_python_blocks_of_the_page_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the examples write graph.svg, model.npz and the like here
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace = {"__name__": "docs_example"}
    blocks = python_blocks(page)
    for k, (line, source) in enumerate(blocks, 1):
        code = compile("\n" * line + source, _name(page), "exec")  # line numbers are the page's
        try:
            exec(code, namespace)
        except Exception as exc:  # name the page and the block, keep the cause
            raise AssertionError(f"{_name(page)}: python block {k} of {len(blocks)} (fence at line {line}) "
                                 f"failed: {type(exc).__name__}: {exc}\n{source}") from exc


def test_the_pages_of_examples_keep_their_examples():
    """The parametrized test cannot shrink unseen: each page named here still has python blocks."""
    empty = [name for name in EXAMPLES if not python_blocks(ROOT / name)]
    assert not empty, f"no ```python block found in {empty}"


def test_the_fence_parser_sees_nested_indented_and_unclosed_blocks(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("text\n````{note}\n```python\nx = 1\n```\n````\n\n1. item\n\n   ```python\n   y = x\n   ```\n"
                    "~~~~text\n```python\nnot code\n~~~~\n", encoding="utf-8")
    assert python_blocks(page) == [(3, "x = 1\n"), (10, "y = x\n")]
    assert [info for info, _, _ in fences(page)] == ["{note}", "python", "python", "text"]
    page.write_text("```python\nx = 1\n", encoding="utf-8")
    with pytest.raises(AssertionError, match="never closed"):
        fences(page)
    assert [_mislabelled(i) is None for i in ("python", "text", "bash", "{toctree}", "{code-cell} ipython3")] == [True] * 5
    assert all(_mislabelled(i) for i in ("", "py", "Python", "pycon", "{code-block} python", "{code} py"))


@pytest.mark.parametrize("page", pages(), ids=_name)
def test_the_page_names_no_folder_of_this_machine(page):
    """A pasted log or traceback carries the machine's folders (/tmp/..., a home); the slow site
    test finds them in the built pages, this one in the sources, in make test."""
    found = [f"{_name(page)}:{n}: {line.strip()[:80]}" for n, line in enumerate(page.read_text(encoding="utf-8")
                                                                              .splitlines(), 1)
             if re.search(r"(?<![\w.])/(tmp|work|home|root)/", line)]
    assert not found, "\n".join(found)
