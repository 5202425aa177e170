"""The README's examples run, and its op table matches the one the tests use."""
import re
from pathlib import Path

from autograd_np.testing import ops_markdown

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_python_examples_run(tmp_path, monkeypatch):
    blocks = python_blocks()
    assert len(blocks) >= 5
    monkeypatch.chdir(tmp_path)  # the examples write graph.svg and the like here
    namespace = {"__name__": "readme"}
    for i, block in enumerate(blocks):
        try:
            exec(compile(block, f"README.md python block {i}", "exec"), namespace)
        except Exception as exc:  # name the block, keep the cause
            raise AssertionError(f"README python block {i} failed:\n{block}") from exc


def test_readme_op_table_is_current():
    text = README.read_text()
    table = re.search(r"<!-- ops-table-start -->\n(.*?)\n<!-- ops-table-end -->", text, flags=re.S).group(1)
    assert table == ops_markdown(), "regenerate it: python -m autograd_np.testing"


def test_readme_embeds_the_latest_benchmark_tables():
    from benchmarks import report
    latest = (README.parent / "benchmarks" / "results" / "latest.md").read_text()
    text = README.read_text()
    block = text.split(report.README_START, 1)[1].split(report.README_END, 1)[0]
    assert block.strip() == report.readme_block(latest)  # `make bench` rewrites both together
