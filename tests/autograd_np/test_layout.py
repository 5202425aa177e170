"""The folder is the architecture: autograd_np's subpackages, what each may import,
no import circles (counting imports inside functions), a core that reads in one
sitting, and the old module paths still importable."""
import ast
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import autograd_np as ag
from tests.import_graph import cycles, import_graph, modules, subpackage

ROOT = Path(ag.__file__).parent
GRAPH = import_graph(ROOT)

# subpackage -> the subpackages (of autograd_np) it may import: core <- ops <- everything else
ALLOWED = {
    "core": set(),
    "ops": {"core"},
    "interop": {"core", "ops"},
    "compiler": {"core"},
    "debug": {"core", "ops"},
    "viz": {"core", "debug"},
    "transforms": {"core", "ops"},
    "testing": {"core", "ops", "debug", "interop"},
    "_moved": set(),
}
SUBPACKAGES = {"core", "ops", "interop", "compiler", "debug", "viz", "transforms", "testing"}


def test_no_import_circles():
    found = cycles(GRAPH)
    assert not found, "import circles (imports inside functions count): " + "; ".join(" <-> ".join(c) for c in found)


def test_every_module_belongs_to_a_known_part():
    parts = {subpackage(m, "autograd_np") for m in GRAPH} - {""}
    assert parts <= set(ALLOWED), f"modules outside the layout's table: {sorted(parts - set(ALLOWED))}"
    top = {m for m in GRAPH if m.count(".") == 1 and subpackage(m, "autograd_np") not in SUBPACKAGES}
    assert top <= {"autograd_np._moved"}, f"flat modules at the top of the package: {sorted(top)}"


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if m != "autograd_np"))
def test_dependencies_point_one_way(module):
    part = subpackage(module, "autograd_np")
    for target in GRAPH[module]:
        other = subpackage(target, "autograd_np")
        assert other != "", f"{module} imports the package root ({target}): a circle through __init__"
        assert other == part or other in ALLOWED[part], \
            f"{module} ({part}) imports {target} ({other}); {part} may import only {sorted(ALLOWED[part])}"


@pytest.mark.parametrize("part", sorted(SUBPACKAGES))
def test_every_subpackage_says_what_it_is_and_may_import(part):
    doc = ast.get_docstring(ast.parse((ROOT / part / "__init__.py").read_text()))
    assert doc and len(doc.split()) >= 15, f"autograd_np.{part} has no docstring worth the name"
    if part not in ("ops", "testing"):
        assert "import" in doc, f"autograd_np.{part}'s docstring does not say what it may import"


def _functions(path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node.name, node.end_lineno - node.lineno + 1


@pytest.mark.parametrize("path", sorted((ROOT / "core").glob("*.py")), ids=lambda p: p.name)
def test_the_core_reads_in_one_sitting(path):
    lines = len(path.read_text().splitlines())
    assert lines <= 400, f"core/{path.name} is {lines} lines"
    long = [(name, n) for name, n in _functions(path) if n > 80]
    assert not long, f"core/{path.name}: functions over 80 lines: {long}"


def test_the_core_docstring_gives_the_reading_order():
    doc = ast.get_docstring(ast.parse((ROOT / "core" / "__init__.py").read_text()))
    order = [p.stem for p in (ROOT / "core").glob("*.py") if p.stem not in ("__init__", "display")]
    positions = {name: doc.find(f"{name}.py") for name in order}
    assert all(i >= 0 for i in positions.values()), f"core modules missing from the reading order: " \
        f"{[n for n, i in positions.items() if i < 0]}"


def test_the_core_is_imported_first_in_its_own_order():
    """Each core module imports only the core modules before it in the reading order."""
    doc = ast.get_docstring(ast.parse((ROOT / "core" / "__init__.py").read_text()))
    names = [m.split(".")[-1] for m in modules(ROOT) if m.startswith("autograd_np.core.")]
    rank = {name: doc.find(f"{name}.py") for name in names}
    for name in names:
        for target in GRAPH[f"autograd_np.core.{name}"]:
            other = target.split(".")[-1]
            if target.startswith("autograd_np.core.") and rank[name] >= 0 and rank[other] >= 0:
                assert rank[other] < rank[name], f"core/{name}.py imports {other}.py, which comes after it"


def test_a_fresh_process_gets_numpy_dispatch_from_import_autograd_np_alone():
    code = ("import numpy as np, autograd_np as ag\n"
            "t = ag.Tensor(np.ones(3), requires_grad=True)\n"
            "y = np.sum(np.exp(t))\n"
            "assert type(y) is ag.Tensor and y.requires_grad, type(y)\n"
            "y.backward(); assert np.allclose(t.grad, np.e)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("old", sorted(ag._moved.MOVED))
def test_an_old_module_path_still_imports_or_names_the_new_one(old):
    code = (f"import warnings, importlib\nwarnings.simplefilter('error')\n"
            f"try:\n    importlib.import_module('autograd_np.{old}')\n"
            f"except (DeprecationWarning, ImportError) as e:\n    print(type(e).__name__, e)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    new = f"autograd_np.{ag._moved.MOVED[old]}"
    assert new in done.stdout, (done.stdout, done.stderr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if old not in ("gradcheck", "explain"):
            import importlib
            assert importlib.import_module(f"autograd_np.{old}") is importlib.import_module(new)
