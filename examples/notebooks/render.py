"""Execute the notebooks and write them as HTML pages, to read without Jupyter.

    python examples/notebooks/render.py                 # all of them -> build/notebooks/*.html
    python examples/notebooks/render.py --out DIR 03    # those whose name starts with 03
    python examples/notebooks/render.py --strip         # remove outputs in place (after Jupyter)

``make notebooks`` runs this.  The notebooks in the repository have no outputs;
each is executed here in a fresh kernel (in a temporary folder, so the files a
notebook writes land nowhere in the tree), then converted with nbconvert's HTML
exporter: one self-contained page per notebook, pictures embedded.  The test
suite (``tests/test_notebooks.py``) uses ``execute`` too.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CELL_TIMEOUT = 300  # seconds per cell


def notebooks(prefixes=()):
    """The notebooks, in their order (by file name), optionally those starting with ``prefixes``."""
    found = sorted(HERE.glob("[0-9][0-9]_*.ipynb"))
    return [p for p in found if not prefixes or any(p.name.startswith(x) for x in prefixes)]


def execute(path, timeout=CELL_TIMEOUT, workdir=None, env=None):
    """``path`` executed in a fresh ``python3`` kernel, cell by cell; returns the notebook node.
    ``env`` (a dict) is the kernel's environment instead of this process's.  A failing cell
    raises ``nbclient.exceptions.CellExecutionError`` (with the cell and its traceback)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="nets-notebook-") as tmp:
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(workdir or tmp)}})
        client.execute(**({} if env is None else {"env": env}))
    return nb


def to_html(nb, path):
    """Write the executed notebook ``nb`` as one HTML page at ``path``."""
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    Path(path).write_text(body, encoding="utf-8")
    return Path(path)


def strip(path):
    """Remove ``path``'s outputs, execution counts and widget state in place, as the
    repository keeps notebooks; returns whether the file changed."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    before = nbformat.writes(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.metadata.pop("widgets", None)
    after = nbformat.writes(nb)
    if after != before:
        Path(path).write_text(after, encoding="utf-8")
    return after != before


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebook name prefixes (default: all)")
    parser.add_argument("--out", default=str(ROOT / "build" / "notebooks"), help="folder for the HTML pages")
    parser.add_argument("--strip", action="store_true", help="remove the outputs in place instead of rendering")
    args = parser.parse_args(argv)
    paths = notebooks(args.names)
    if not paths:
        print(f"no notebook matches {args.names}", file=sys.stderr)
        return 1
    if args.strip:
        for path in paths:
            print(f"{path.name}: {'stripped' if strip(path) else 'no outputs'}")
        return 0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for path in paths:
        t0 = time.perf_counter()
        page = to_html(execute(path), out / path.with_suffix(".html").name)
        print(f"{page}  ({time.perf_counter() - t0:.1f}s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
