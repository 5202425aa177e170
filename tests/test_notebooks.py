"""The notebooks (examples/notebooks/): each runs in a fresh kernel without an error or a
warning and shows what its text says; the repository holds them without outputs; the README
links every one, in order; an executed notebook renders to one HTML page (make notebooks).

A notebook takes Fashion-MNIST when it is installed and the 8x8 digits otherwise.  The default
suite runs them on the digits (quicker: ``NETS_FASHION_MNIST_DIR`` names a folder that does
not exist, so loading Fashion-MNIST fails as on a machine without it), two at a time, each in
its own kernel with one BLAS thread; ``make test-slow`` runs them on Fashion-MNIST too.
"""
import importlib.util
import json
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "examples" / "notebooks"
_spec = importlib.util.spec_from_file_location("render_notebooks", FOLDER / "render.py")
render = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(render)
NOTEBOOKS = render.notebooks()

# a few things each notebook must show (the numbers are the seeds' and the book's)
SHOWS = {
    "01_forward_propagation.ipynb": ["[0.31682708 0.69627909]", "naive:    [nan nan nan]",
                                     "matmul: shapes (100, 784) and (50, 10) do not align", "graph recorded: False"],
    "02_losses_and_gradient_descent.ipynb": ["CEE 0.510825457099338 2.302584092994546", "0.9280682857864075",
                                             "[ 0.21924757  0.14356243 -0.36281   ]", "lr 10: [-2.58983747e+13",
                                             "all gradients agree (numerical vs engine"],
    "03_two_layer_net.ipynb": ["1000 iterations in", "<table class='nets-history'>"],
    "04_checking_backprop.ipynb": ["z1.grad == the seeds' da1: True", "a1.grad == the seeds' dz1: True",
                                   "2 of 4 disagree", "4 of 4 disagree", "all gradients agree (hand-written vs engine"],
    "05_seed004_deep_net.ipynb": ["{'W3': (), 'W2': (), 'W1': ()}", "shapes differ: seed (), engine (10, 64)",
                                  "all gradients agree (seed, fixed vs engine", "Epoch: 2, Time Spent"],
    "06_optimizers.ipynb": ["AdaGrad   after 30 steps", "the tensor paths match the book's"],
    "07_graphs_and_debugging.ipynb": ["1 failing", "0 failing", "sqrt (backward): floating-point error",
                                      "[True, True]", "<svg"],
    "08_training_with_callbacks.ipynb": ["| lr ", "test accuracy", "same weights: True", ">= 0.95 after epoch"],
    "09_text_model.ipynb": ["corpus: ", "bigram:  ", "SequenceLoader(", "test loss per character on",
                            "causal transformer", "--- sample of the LSTM:"],
}


def _run(path, env):
    try:
        return render.execute(path, env=env)
    except Exception as exc:  # reported by the test of that notebook
        return exc


def _execute_all(tmp_path, fashion: bool):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    env.pop("MPLBACKEND", None)  # the kernel's own inline backend
    env["NETS_MNIST_DIR"] = str(tmp_path / "no-mnist")  # the book's loader, as on a machine without MNIST
    if not fashion:
        env["NETS_FASHION_MNIST_DIR"] = str(tmp_path / "no-fashion-mnist")
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip((p.name for p in NOTEBOOKS), pool.map(lambda p: _run(p, env), NOTEBOOKS)))


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    return _execute_all(tmp_path_factory.mktemp("notebooks"), fashion=False)


def _outputs(nb):
    for cell in nb.cells:
        if cell.cell_type == "code":
            yield from cell.get("outputs", [])


def _text(output):
    if output.output_type == "stream":
        return output.text
    data = output.get("data", {})
    return "\n".join(str(data.get(kind, "")) for kind in ("text/plain", "text/html", "image/svg+xml"))


def _joined(outputs):
    """The outputs' text: a stream's consecutive chunks as one (a busy kernel can flush one
    print in two chunks: "same weights:" and " True"), other outputs a line apart."""
    parts = []
    for prev, o in zip([None] + outputs[:-1], outputs):
        same_stream = prev is not None and o.output_type == prev.output_type == "stream" and o.name == prev.name
        parts.append(("" if same_stream else "\n") + _text(o))
    return "".join(parts)


def test_stream_chunks_of_one_print_are_joined():
    from nbformat.v4 import new_output
    chunks = [new_output("stream", name="stdout", text="same weights:"), new_output("stream", name="stdout", text=" True\n"),
              new_output("execute_result", data={"text/plain": "4"})]
    assert "same weights: True" in _joined(chunks) and "True\n\n4" in _joined(chunks)


def test_every_notebook_is_checked():
    assert [p.name for p in NOTEBOOKS] == sorted(SHOWS)


def check_notebook(nb, path):
    if isinstance(nb, Exception):
        raise nb
    outputs = list(_outputs(nb))
    errors = [o for o in outputs if o.output_type == "error"]
    assert not errors, f"{path.name}: {errors[0].ename}: {errors[0].evalue}"
    noise = [o.text for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    assert not noise, f"{path.name} wrote to stderr (a warning?): {noise[0][:300]}"
    shown = _joined(outputs)
    for snippet in SHOWS[path.name]:
        assert snippet in shown, f"{path.name} does not show {snippet!r}"
    return shown


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_notebook_runs_and_shows_what_it_says(executed, path):
    shown = check_notebook(executed[path.name], path)
    if "load_fashion_mnist" in path.read_text():
        assert "digits" in shown  # without Fashion-MNIST, the notebook says it took the digits


@pytest.mark.slow
def test_the_notebooks_run_on_fashion_mnist(tmp_path):
    import nets
    if nets.datasets.find_fashion_mnist() is None:
        pytest.skip("Fashion-MNIST is not installed (make fashion-mnist)")
    runs = _execute_all(tmp_path, fashion=True)
    for path in NOTEBOOKS:
        check_notebook(runs[path.name], path)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_repository_holds_the_notebook_without_outputs(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    assert "widgets" not in nb["metadata"]
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, \
                f"{path.name}: strip the outputs (python examples/notebooks/render.py --strip)"
    assert nb["cells"][0]["cell_type"] == "markdown" and "".join(nb["cells"][0]["source"]).startswith("# ")


def test_the_readme_links_every_notebook_in_order():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    linked = re.findall(r"\]\((examples/notebooks/[0-9]{2}_[a-z0-9_]+\.ipynb)\)", readme)
    assert linked == [f"examples/notebooks/{p.name}" for p in NOTEBOOKS]


def test_an_executed_notebook_renders_as_one_html_page(executed, tmp_path):
    nb = executed["07_graphs_and_debugging.ipynb"]
    if isinstance(nb, Exception):
        pytest.skip("the notebook itself fails (its own test says why)")
    page = render.to_html(nb, tmp_path / "07.html").read_text(encoding="utf-8")
    assert page.count('data-mime-type="image/svg+xml"') >= 4 and "data:image/png;base64," in page  # embedded
    assert re.search(r"<table class=[\"']ag-report[\"']>", page) and "check_graph: 4 nodes, 1 failing" in page
    assert list(tmp_path.iterdir()) == [tmp_path / "07.html"]


def test_strip_removes_what_an_execution_added(executed, tmp_path):
    import nbformat
    nb = executed["01_forward_propagation.ipynb"]
    if isinstance(nb, Exception):
        pytest.skip("the notebook itself fails (its own test says why)")
    path = tmp_path / "01.ipynb"
    nbformat.write(nb, path)
    assert any(c.get("outputs") for c in nb.cells if c.cell_type == "code")
    assert render.strip(path) is True and render.strip(path) is False
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in cells if c["cell_type"] == "code")
    assert ["".join(c["source"]) for c in cells] == [c.source for c in nb.cells]  # the text is kept
