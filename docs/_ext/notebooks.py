"""Sphinx extension: the notebooks of examples/notebooks/ as pages of the site, executed by the build.

The notebooks stay where the tests and ``make notebooks`` use them.  When the builder starts, each
``NN_*.ipynb`` is copied into docs/notebooks/ (git ignores the copies: docs/notebooks/.gitignore), with one
cell added under its title saying how the docs build runs it; myst-nb then executes the copy (conf.py:
``nb_execution_mode = "force"``), so the outputs on the site are those of the code as it is.  A copy is
rewritten only when its text would change, so an incremental build re-executes only the notebooks that
changed; copies whose original is gone are removed.
"""
from __future__ import annotations

import json
from pathlib import Path

PATTERN = "[0-9][0-9]_*.ipynb"


def build_note(nb: dict, name: str) -> str:
    """The text of the cell added under the title: how this build ran the notebook (conf.py sets the
    environment the kernels inherit), and how to run its full version."""
    code = "\n".join("".join(cell["source"]) for cell in nb["cells"] if cell["cell_type"] == "code")
    ran = ["in a fresh kernel with one BLAS thread"]
    if "load_fashion_mnist" in code:
        ran.append("on the 8x8 digits that ship with scikit-learn instead of Fashion-MNIST (as the test "
                   "suite runs it: the numbers below are the digits')")
    if "load_fortunes" in code:
        ran.append("on the Zen of Python instead of Debian's fortunes (the build names a fortune folder that "
                   "does not exist, hence the message below): a few hundred characters, enough to run every "
                   "step, too few to learn much")
    return (":::{note}\n"
            f"This page was executed when the site was built (`make docs`), {', '.join(ran)}: a short "
            f"run, to keep the build to a few minutes. The notebook itself is `examples/notebooks/{name}`: open it in Jupyter, "
            "or run `make notebooks` for every notebook as HTML pages, on Fashion-MNIST and Debian's "
            "fortunes when installed (`make fashion-mnist fortunes`).\n:::")


def page_for(path: Path) -> str:
    """The notebook at ``path`` as the site's copy: the note inserted after the first (title) cell."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    note = {"cell_type": "markdown", "metadata": {}, "source": build_note(nb, path.name).splitlines(keepends=True)}
    if (nb["nbformat"], nb["nbformat_minor"]) >= (4, 5):
        note["id"] = "docs-build-note"  # cell ids: nbformat 4.5 on
    nb["cells"].insert(1, note)
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def sync(source: Path, target: Path) -> list[str]:
    """Copy ``source``'s notebooks into ``target`` (see the module's docstring); returns their names."""
    names = []
    for path in sorted(source.glob(PATTERN)):
        page, out = page_for(path), target / path.name
        if not out.is_file() or out.read_text(encoding="utf-8") != page:
            out.write_text(page, encoding="utf-8")
        names.append(path.name)
    for stale in target.glob(PATTERN):
        if stale.name not in names:
            stale.unlink()
    return names


def _builder_inited(app):
    docs = Path(app.srcdir)
    names = sync(docs.parent / "examples" / "notebooks", docs / "notebooks")
    if not names:
        raise RuntimeError(f"notebooks extension: no {PATTERN} in examples/notebooks/")


def setup(app):
    app.connect("builder-inited", _builder_inited)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
