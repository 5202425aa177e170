"""nets' layout (issue 21): subpackages by concern, their dependencies pointing one way.

* no import circle in nets, counting imports inside functions (``tests/import_graph.py``);
* each subpackage imports only the subpackages ``MAY_IMPORT`` lets it (a failure names the
  file, the line and the import);
* no file over 400 lines and no function over 80 (its docstring included);
* every package has a docstring, and each subpackage's says what it may import;
* ``import nets`` and ``python -m nets --help`` work in a fresh interpreter;
* the public API is what it was, the old module paths import (as the new modules themselves),
  and models, a training checkpoint and pickles made by nets before the layout change
  (``data/pre_layout``, see its ``make_fixtures.py``) load and compute what they did.
"""
import ast
import json
import os
import pickle
import shutil
import subprocess
import sys
import textwrap
import types
import warnings
from pathlib import Path

import numpy as np
import pytest

import nets
from nets import _moved

from ..import_graph import _targets, cycles, import_graph, modules, subpackage

ROOT = Path(__file__).resolve().parents[2]
NETS = ROOT / "nets"
DATA = Path(__file__).resolve().parent / "data" / "pre_layout"

# For each subpackage (and top-level module) of nets, the subpackages it may import; nets/__init__.py
# (the public API) may import them all.  Lower ones never import higher ones: what a lower one needs
# from above registers itself there (nets.layers.registry: architectures, config schemas, the writer).
MAY_IMPORT = {
    "util": set(),
    "layers": {"util"},
    "debug": {"util", "layers"},
    "models": {"util", "layers", "debug"},
    "io": {"util", "layers"},
    "distributed": {"util", "layers"},
    "training": {"util", "layers", "io", "distributed"},
    "cli": {"util", "layers", "debug", "models", "io", "distributed", "training"},
    "__main__": {"cli"},
    "_moved": set(),
}
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 80
# "path" or "path:function" -> why it may be longer.  Empty: every file and function fits.
ALLOWED_LONGER = {}


# --- imports ------------------------------------------------------------------------------------

def test_no_import_circle_in_nets():
    found = cycles(import_graph(NETS))
    assert not found, "import circles in nets (imports inside functions count):\n" + "\n".join(
        " <-> ".join(c) for c in found)


def _imports(root):
    """``(module, path, line, imported module)`` for every import of a nets module by another."""
    known = modules(root)
    for name, path in known.items():
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in sorted(_targets(name, path, node, known)):
                    yield name, path, node.lineno, target


def _against_the_table(root):
    """Every import of a subpackage the table does not allow, as ``file:line: a imports b (...)``."""
    bad = []
    for name, path, line, target in _imports(root):
        here, there = subpackage(name, "nets"), subpackage(target, "nets")
        if name == "nets" or here == there:
            continue
        if there not in MAY_IMPORT.get(here, ()):
            bad.append(f"{path.relative_to(root.parent)}:{line}: {name} imports {target} "
                       f"(nets.{here} may import {sorted(MAY_IMPORT.get(here, ())) or 'nothing of nets'})")
    return bad


def test_every_subpackage_imports_only_what_the_table_allows():
    bad = _against_the_table(NETS)
    assert not bad, "imports against the direction of the layout:\n" + "\n".join(bad)


def test_the_table_covers_every_subpackage_and_points_one_way():
    present = {subpackage(name, "nets") for name in modules(NETS)} - {""}
    assert present == set(MAY_IMPORT), f"subpackages without a row: {sorted(present - set(MAY_IMPORT))}; rows " \
                                       f"without a subpackage: {sorted(set(MAY_IMPORT) - present)}"
    for low, allowed in MAY_IMPORT.items():
        for high in allowed:
            assert low not in MAY_IMPORT[high], f"nets.{low} and nets.{high} may import each other"


def test_the_table_catches_an_import_against_the_direction(tmp_path):
    """The check can fail: a copy of nets where the layers import the training code."""
    copy = tmp_path / "nets"
    shutil.copytree(NETS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    module = copy / "layers" / "module.py"
    module.write_text(module.read_text() + "\n\ndef _late():\n    from ..training import fit\n    return fit\n")
    graph = import_graph(copy)
    assert "nets.training" in graph["nets.layers.module"]
    assert cycles(graph), "layers -> training -> layers is a circle"
    line = len(module.read_text().splitlines()) - 1
    assert _against_the_table(copy) == [f"nets/layers/module.py:{line}: nets.layers.module imports nets.training "
                                        "(nets.layers may import ['util'])"]


# --- sizes --------------------------------------------------------------------------------------

def _python_files():
    return sorted(NETS.rglob("*.py"))


def test_no_file_over_400_lines():
    long = {str(p.relative_to(ROOT)): n for p in _python_files()
            if (n := len(p.read_text().splitlines())) > MAX_FILE_LINES}
    long = {p: n for p, n in long.items() if p not in ALLOWED_LONGER}
    assert not long, f"files over {MAX_FILE_LINES} lines: {long}"


def test_no_function_over_80_lines():
    long = {}
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                where = f"{path.relative_to(ROOT)}:{node.name}"
                if n > MAX_FUNCTION_LINES and where not in ALLOWED_LONGER:
                    long[f"{where} (line {node.lineno})"] = n
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines (docstring included): {long}"


def test_every_allowance_is_still_needed_and_says_why():
    for where, why in ALLOWED_LONGER.items():
        assert isinstance(why, str) and len(why) > 20, f"{where}: say why it may be longer"
        assert (ROOT / where.split(":")[0]).is_file(), f"{where}: no such file"


# --- docstrings ---------------------------------------------------------------------------------

def test_every_package_has_a_docstring():
    for init in NETS.rglob("__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text()))
        assert doc and len(doc.split()) >= 10, f"{init.relative_to(ROOT)}: no docstring saying what it holds"


@pytest.mark.parametrize("sub", sorted(s for s in MAY_IMPORT if (NETS / s / "__init__.py").is_file()))
def test_each_subpackage_docstring_says_what_it_may_import(sub):
    doc = " ".join(ast.get_docstring(ast.parse((NETS / sub / "__init__.py").read_text())).split())
    assert "import" in doc.lower(), f"nets.{sub}: the docstring does not say what it may import"
    if "every other subpackage" in doc:
        assert MAY_IMPORT[sub] == set(MAY_IMPORT) - {sub, "__main__", "_moved"}
        return
    missing = [f"nets.{other}" for other in sorted(MAY_IMPORT[sub]) if f"nets.{other}" not in doc]
    assert not missing, f"nets.{sub}: the docstring does not name {missing}, which it may import"


# --- a fresh interpreter ------------------------------------------------------------------------

def _python(*args, code=None):
    argv = [sys.executable, *args] + (["-c", textwrap.dedent(code)] if code else [])
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_import_nets_in_a_fresh_interpreter_uses_no_old_path():
    out = _python(code="""
        import sys, warnings
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            import nets
        print(len(nets.__all__), [str(w.message) for w in caught if "moved to" in str(w.message)],
              "nets.cli" in sys.modules)
    """)
    assert out.split() == [str(len(nets.__all__)), "[]", "False"], out


def test_python_m_nets_help():
    out = _python("-m", "nets", "--help")
    assert out.startswith("usage: python -m nets") and "{train,eval,gradcheck,graph,text}" in out, out


# --- the public API and the old paths -----------------------------------------------------------

PUBLIC_API = ["init", "optim", "datasets", "Module", "Sequential", "StateDictError", "register", "from_config",
              "accuracy", "Affine", "Sigmoid", "ReLU", "Tanh", "Identity", "Flatten", "SoftmaxWithLoss", "Dropout",
              "BatchNorm", "TwoLayerNet", "MultiLayerNet", "DataLoader", "CheckpointError", "load", "load_state",
              "save_checkpoint", "load_checkpoint", "History", "fit", "compile_step", "evaluate", "plot_history",
              "gradient_check", "GradientCheckReport", "GradientCheckRow", "DatasetError", "metrics", "callbacks",
              "compare_grads", "GradComparison", "Callback", "LambdaCallback", "EarlyStopping", "StepLR",
              "CosineAnnealing", "LearningRateScheduler", "ReduceLROnPlateau", "GradientClipping", "clip_grad_norm",
              "clip_grad_value", "CSVLogger", "JSONLogger", "distributed", "SimpleConvNet", "Conv2d", "MaxPool2d",
              "AvgPool2d", "BatchNorm2d"]  # nets.__all__ before the layout change
MODULE_ATTRIBUTES = ("optim", "callbacks", "datasets", "metrics", "init", "distributed")

# The __all__ of every module nets had before the layout change: each name is still there under the old path.
OLD_MODULES = {
    "_memory": ["available_memory"],
    "_validate": ["integer", "number", "optional_number", "flag", "optional_flag", "choice", "seed", "function",
                  "path", "float_dtype", "text", "allocation", "int_list", "MAX_ELEMENTS"],
    "agreement": ["describe", "array_digest", "data_fields", "model_fields", "run_fields", "state_fields", "digest",
                  "show", "message", "locate"],
    "callbacks": ["Callback", "FitRun", "CallbackList", "EarlyStopping", "LRSchedule", "StepLR", "CosineAnnealing",
                  "LearningRateScheduler", "ReduceLROnPlateau", "GradientClipping", "clip_grad_norm",
                  "clip_grad_value", "CSVLogger", "JSONLogger", "LambdaCallback"],
    "checkpoint": ["CheckpointError", "atomic_write", "remove_stale_temporaries", "save_model", "load", "load_state",
                   "save_checkpoint", "load_checkpoint", "FORMAT", "STALE_AFTER"],
    "checkpoint_atomic": ["atomic_write", "remove_stale_temporaries", "STALE_AFTER"],
    "checkpoint_format": ["CheckpointError", "read_archive", "is_temporary", "TEXT_MEMBERS", "MAX_TOTAL_BYTES",
                          "MAX_DEFLATE_RATIO", "MAX_MEMBERS", "MAX_HEADER_BYTES", "MAX_TEXT_BYTES"],
    "checkpoint_schema": ["parse_json", "check_meta", "check_training", "config_size", "FLOAT_DTYPES",
                          "MAX_JSON_DEPTH", "MAX_EPOCHS"],
    "cli": ["main", "build_parser", "UsageError"],
    "cli_args": ["UsageError", "layers", "integer", "real", "seed", "path_text", "check_model_size", "output_folder",
                 "output_file", "available_memory", "MAX_SEED", "MAX_PARAMETERS", "MAX_LAYERS"],
    "cli_models": ["ARCHITECTURES", "check_cnn_args", "conv_param", "build", "describe", "input_features",
                   "shaped_input"],
    "compiled": ["compile_step"],
    "conv_layers": ["Conv2d", "MaxPool2d", "AvgPool2d", "BatchNorm2d"],
    "data": ["DataLoader"],
    "datasets": ["DatasetError", "read_idx", "load_mnist", "load_fashion_mnist", "load_digits", "load", "find_mnist",
                 "find_fashion_mnist", "mnist_folders", "fashion_mnist_folders", "FASHION_MNIST_DIR", "MNIST_DIR",
                 "DATA_HOME", "MNIST_ENV", "FASHION_MNIST_ENV", "DATASETS", "to_one_hot", "MAX_IDX_BYTES"],
    "distributed": ["World", "world", "in_mpi_environment", "active", "RanksDisagree", "RankFailed", "guard_fit",
                    "check_data", "check_run"],
    "gradient_check": ["GradientCheckRow", "GradientCheckReport", "gradient_check", "float64_copy", "compare_grads",
                       "GradComparison", "GradComparisonRow"],
    "history": ["History", "plot_history"],
    "init": ["rng_of", "check_init", "std_for", "normal", "he", "xavier", "zeros", "weights"],
    "layers": ["Affine", "Sigmoid", "ReLU", "Tanh", "Identity", "Flatten", "SoftmaxWithLoss", "Dropout", "BatchNorm",
               "activation", "ACTIVATIONS", "check_batch_norm"],
    "metrics": ["Metric", "accuracy", "mean_squared_error", "mean_absolute_error", "get", "resolve", "default_for",
                "METRICS"],
    "models": ["TwoLayerNet", "MultiLayerNet", "SimpleConvNet", "ParamArrays", "BookInterface"],
    "module": ["Module", "Sequential", "StateDictError", "register", "from_config", "REGISTRY", "ModulePath",
               "accuracy"],
    "optim": ["Optimizer", "SGD", "Momentum", "AdaGrad", "RMSprop", "Adam", "OPTIMIZERS", "create"],
    "rendezvous": ["Rendezvous", "RankFailed", "every_rank", "NOTICE_TAG"],
    "training": ["History", "fit", "evaluate", "plot_history", "random_modules"],
}
# nets._validate's fit checks need Module, BatchNorm and World: they moved up to nets.training.arguments
# (nets._validate was private); import them from there.


def test_the_public_api_is_unchanged():
    """Nothing of the API before the layout is gone or renamed (new names come after it)."""
    assert nets.__all__[:len(PUBLIC_API)] == PUBLIC_API
    for name in PUBLIC_API:
        assert getattr(nets, name) is not None, name
    for name in MODULE_ATTRIBUTES:
        assert isinstance(getattr(nets, name), types.ModuleType), name
    assert callable(nets.gradient_check) and nets.init is nets.layers.init and nets.optim is nets.training.optim


def test_every_old_module_is_listed():
    assert set(_moved.MOVED) | {"layers", "models", "training", "cli", "distributed"} == set(OLD_MODULES)


def test_the_old_module_paths_import_in_a_fresh_interpreter():
    """Each old path is the new module itself (one module object: the same classes and globals),
    with its old names; internal ones warn naming the new place, public ones do not; the package's
    attributes that were modules still are after ``import nets``."""
    report = json.loads(_python(code=f"""
        import importlib, json, warnings
        import nets
        out = {{}}
        for old, names in {OLD_MODULES!r}.items():
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                module = importlib.import_module("nets." + old)
                also = importlib.import_module("nets." + old)
            new = nets._moved.new_name("nets." + old) or "nets." + old
            out[old] = {{"same": module is importlib.import_module(new) and also is module,
                        "spec": module.__spec__.name == module.__name__,
                        "missing": [n for n in names if not hasattr(module, n)],
                        "warned": [str(w.message) for w in caught if w.category is DeprecationWarning]}}
        from nets.callbacks.base import EarlyStopping
        from nets.gradient_check import compare_grads
        import nets.gradient_check
        out["submodule"] = EarlyStopping is nets.EarlyStopping and compare_grads is nets.compare_grads
        out["function kept"] = nets.gradient_check is nets.debug.gradient_check
        print(json.dumps(out))
    """))
    assert report.pop("submodule") and report.pop("function kept")
    for old, got in report.items():
        assert got["same"] and got["spec"], (old, got)
        assert not got["missing"], f"nets.{old} lost {got['missing']}"
        quiet = old in _moved.PUBLIC or old not in _moved.MOVED or old == "gradient_check"
        if quiet:
            assert not got["warned"], (old, got["warned"])
        else:
            assert len(got["warned"]) == 1 and f"moved to {_moved.new_name('nets.' + old)}" in got["warned"][0], old


def test_the_old_modules_are_attributes_of_nets_as_before():
    """After ``import nets``, ``nets.checkpoint`` was there: it still is (imported on first use, warning)."""
    out = _python(code="""
        import warnings
        import nets
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            same = [nets.checkpoint is nets.io.checkpoint, nets.conv_layers is nets.layers.conv,
                    nets.datasets is nets.io.datasets, nets.history.History is nets.History]
        print(all(same), [str(w.message).split(";")[0] for w in caught if w.category is DeprecationWarning])
    """)
    assert out.strip() == ("True ['nets.checkpoint moved to nets.io.checkpoint', 'nets.conv_layers moved to "
                           "nets.layers.conv', 'nets.history moved to nets.training.history']"), out
    with pytest.raises(AttributeError, match="no attribute 'not_a_module'"):
        nets.not_a_module


# --- files made before the layout change --------------------------------------------------------

def _data():
    """The problem make_fixtures.py trained on (the same draws)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((24, 4)).astype(np.float32)
    images = rng.standard_normal((24, 1, 6, 6)).astype(np.float32)
    return x, images, rng.integers(0, 3, 24)


@pytest.mark.parametrize("name", ["mlp", "two_layer", "simple_conv", "sequential"])
def test_a_model_saved_before_the_layout_loads_and_predicts_as_it_did(name):
    x, images, t = _data()
    model = nets.load(DATA / f"{name}.npz")
    expected = np.load(DATA / "expected.npz")[name]
    y = model.predict(x if name in ("mlp", "two_layer") else images).data
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)
    assert not np.allclose(y, 0)  # (a model that learnt something: a real comparison)


def test_a_training_checkpoint_saved_before_the_layout_resumes_to_the_same_history(tmp_path):
    x, _, t = _data()
    shutil.copy(DATA / "training.npz", tmp_path / "training.npz")
    model = nets.MultiLayerNet([4, 5, 3], batchnorm=True, dropout=0.2, weight_decay=0.01, rng=0)
    history = nets.fit(model, nets.optim.Adam(model, lr=0.01), (x, t), (x, t), epochs=3, batch_size=8, seed=0,
                       verbose=False, checkpoint=tmp_path / "training.npz", resume=True,
                       callbacks=[nets.EarlyStopping(patience=5), nets.CosineAnnealing(epochs=3)])
    uninterrupted = json.loads((DATA / "history_3_epochs.json").read_text())
    assert len(history) == 3
    for key, values in uninterrupted.items():
        np.testing.assert_allclose(history[key], values, rtol=1e-5, atol=1e-7, err_msg=key)


def test_pickles_naming_the_old_modules_load():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # (nets.module, nets.history, nets.data: warned once)
        objects = pickle.loads((DATA / "objects.pkl").read_bytes())
    model, opt = objects["model"], objects["optimizer"]
    assert type(model) is nets.MultiLayerNet and type(opt) is nets.optim.Adam
    assert type(model.fc1._path) is nets.layers.ModulePath and model.fc1._path.chain == (("fc1", "Affine"),)
    assert opt.params[0] is model.parameters()[0]  # one graph of objects, as pickled
    assert type(objects["history"]) is nets.History and len(objects["history"]) == 1
    assert type(objects["loader"]) is nets.DataLoader and len(objects["loader"]) == 5
    assert type(objects["callback"]) is nets.EarlyStopping and objects["callback"].patience == 3
    x, _, t = _data()
    np.testing.assert_allclose(model.predict(x).data, objects["expected"], rtol=1e-5, atol=1e-6)
    model.loss(x, t).backward()  # and it trains
    opt.step()
    assert all(p.grad is not None for p in model.parameters())


def test_every_architecture_of_nets_declares_its_config_schema():
    """What the checkpoint schema checks comes from the layers and models themselves: each one
    nets defines (but the private bases) has its schema in the registry."""
    from nets.layers.registry import REGISTRY, SCHEMAS
    ours = {name for name, cls in REGISTRY.items() if cls.__module__.startswith("nets.") and not name.startswith("_")}
    assert ours == {cls.__name__ for cls in SCHEMAS}
    assert {"Affine", "Conv2d", "Sequential", "MultiLayerNet", "SimpleConvNet", "TwoLayerNet"} <= ours
