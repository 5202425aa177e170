"""Every public op has its real signature and a NumPy-style docstring (parameters,
returns, the derivative rule, an example), and its example runs: the docstrings
are the API reference."""
import doctest
import inspect
import re

import numpy as np
import pytest

import autograd_np as ag

PUBLIC = sorted(set(ag.ops.__all__))
_GENERIC = [inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD]


def _doc(name):
    return inspect.getdoc(getattr(ag, name)) or ""


def test_every_op_of_the_table_that_autograd_np_exports_is_checked():
    exported = {name for name in ag.OPS if getattr(ag, name, None) is not None}
    assert len(PUBLIC) > 100 and exported <= set(PUBLIC), sorted(exported - set(PUBLIC))


@pytest.mark.parametrize("name", PUBLIC)
def test_a_real_signature(name):
    fn = getattr(ag, name)
    params = list(inspect.signature(fn).parameters.values())
    assert [p.kind for p in params] != _GENERIC, f"ag.{name}{inspect.signature(fn)}: not its real signature"
    assert params, f"ag.{name} takes no parameters?"


@pytest.mark.parametrize("name", PUBLIC)
def test_a_numpy_style_docstring(name):
    doc = _doc(name)
    for section in ("Parameters\n----------\n", "Returns\n-------\n", "Examples\n--------\n"):
        assert section in doc, f"ag.{name}'s docstring has no {section.splitlines()[0]!r} section:\n{doc}"
    summary = doc.splitlines()[0]
    assert summary.strip() and summary[0].isupper() and summary.endswith("."), f"ag.{name}: summary line {summary!r}"
    documented = doc.split("Parameters\n----------\n", 1)[1].split("\n\n", 1)[0]
    for p in inspect.signature(getattr(ag, name)).parameters.values():
        shown = ("*" if p.kind is p.VAR_POSITIONAL else "**" if p.kind is p.VAR_KEYWORD else "") + p.name
        assert re.search(rf"^\**{re.escape(p.name)}\b", documented, re.M), \
            f"ag.{name}: parameter {shown!r} is not in Parameters:\n{documented}"
    op = ag.OPS.get(name)
    if op is not None:  # the op itself, or a function wrapping the op of its name: defop's rule
        assert f"Derivative: ``{op.rule}``" in doc, f"ag.{name}: the derivative rule is not in its docstring"
    else:
        assert "Derivative" in doc, f"ag.{name}: a composite says how its derivative comes (Notes: Derivative: ...)"


@pytest.mark.parametrize("name", PUBLIC)
def test_the_examples_run(name):
    fn = getattr(ag, name)
    tests = doctest.DocTestFinder(recurse=False).find(fn, name=f"ag.{name}", globs={"np": np, "ag": ag})
    examples = [e for t in tests for e in t.examples]
    assert examples, f"ag.{name}: no example"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for t in tests:
        runner.run(t, out=lambda text: pytest.fail(f"ag.{name}'s example failed:\n{text}"))
    assert runner.failures == 0
