"""The small things issue 24 found: notebook 7's highlight cell draws the graph the report
checked (so the failing op is red, not "not in this picture"), the README's first example
leaves no stray ``graph`` file, and the demo's list of files is the one ``train`` writes
(and the command-line guide, docs/guides/cli.md, shows)."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
CLI_GUIDE = ROOT / "docs" / "guides" / "cli.md"
NOTEBOOK = ROOT / "examples" / "notebooks" / "07_graphs_and_debugging.ipynb"


def _python(code, cwd):
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_notebook_7_highlights_the_failing_op_of_the_graph_it_checked(tmp_path):
    """The cells up to the highlight run in a fresh interpreter (they register an op of their own)."""
    cells = ["".join(c["source"]) for c in json.loads(NOTEBOOK.read_text())["cells"] if c["cell_type"] == "code"]
    last = next(i for i, c in enumerate(cells) if "highlight=report" in c)
    *body, expression = cells[last].rstrip().splitlines()
    code = "\n".join(cells[:last] + body) + f"\n_drawing = {expression}\nprint(_drawing.source)\n"
    source = _python(code, tmp_path)
    assert "1 failing: my_softplus" in source and "not in this picture" not in source
    assert source.count('color="#c00000"') >= 1  # the failing op, in red


def test_the_first_readme_example_leaves_only_its_picture(tmp_path):
    first = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)[0]
    assert "ag.viz" in first
    _python(first, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) in (["graph.svg"], ["graph.dot"])  # .dot: no Graphviz here


def test_the_demo_lists_every_file_train_writes(tmp_path):
    out = _python("import sys; from nets.cli import main; sys.exit(main(['train', '--dataset', 'digits', "
                  "'--epochs', '1', '--out', 'run']))", tmp_path)
    listed = re.search(r"wrote run/: (.*)$", out, flags=re.M).group(1).split(", ")
    assert sorted(listed) == sorted(p.name for p in (tmp_path / "run").iterdir())
    text = CLI_GUIDE.read_text(encoding="utf-8")
    demo = re.search(r"wrote runs/demo/: (.*)$", text, flags=re.M).group(1).split(", ")
    assert demo == listed
    sentence = re.search(r"`train` writes (.*?) into `--out`", text, flags=re.S).group(1)
    assert sorted(re.findall(r"`([^`]+)`", sentence)) == sorted(listed)
