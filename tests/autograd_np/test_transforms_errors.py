"""Every argument of every transform given something wrong raises a clear error
naming the transform, the argument and the shapes; Python reading batched values
inside vmap, ops without a batching rule, escaped batched tensors, and backward,
explain and pictures inside vmap all say what vmap cannot do."""
import re

import numpy as np
import pytest

import autograd_np as ag
from autograd_np import func

X = np.array([0.5, -1.0, 2.0])


def scalar(v):
    return ag.sum(ag.sin(v))


ARGNUM_TRANSFORMS = {"grad": func.grad, "value_and_grad": func.value_and_grad, "jacrev": ag.jacrev,
                     "jacfwd": ag.jacfwd, "jacobian": ag.jacobian, "hessian": ag.hessian}


@pytest.mark.parametrize("who", sorted(ARGNUM_TRANSFORMS))
@pytest.mark.parametrize("argnums,error,match", [
    (0.5, TypeError, "argnums must be an int or a non-empty tuple of ints, got 0.5"),
    (True, TypeError, "argnums must be an int"), ("0", TypeError, "argnums must be an int"),
    ((), TypeError, "non-empty tuple"), ((0, 0), ValueError, "names an argument twice"),
    (2, ValueError, "asks for argument 2, but f was called with 1 positional argument"),
    (-2, ValueError, "asks for argument -2"), ((0, 1.0), TypeError, "argnums must be an int")])
def test_argnums_that_do_not_fit(who, argnums, error, match):
    with pytest.raises(error, match=f"{who.replace('value_and_grad', 'value_and_grad')}: .*{match}"):
        ARGNUM_TRANSFORMS[who](scalar, argnums=argnums)(X)


@pytest.mark.parametrize("who", sorted(ARGNUM_TRANSFORMS))
@pytest.mark.parametrize("value,said", [
    (np.array([1, 2]), "an int64 array of shape \\(2,\\); only real floating-point"),
    (np.array([1j]), "a complex128 array of shape \\(1,\\); only real floating-point"),
    (np.array([True]), "a bool array of shape \\(1,\\); only real floating-point"),
    (ag.Tensor(np.array([1, 2])), "an int64 tensor of shape \\(2,\\); only real floating-point"),
    ("text", "a str; the differentiated arguments must be arrays, tensors or floats"),
    (None, "None, with no array to differentiate"), (3, "an int; the differentiated arguments"),
    ({"w": [np.array([1, 2])]}, "argument 0\\['w'\\]\\[0\\] is an int64 array")])
def test_differentiated_arguments_that_are_not_floating_point(who, value, said):
    with pytest.raises(TypeError, match=f"{who}: (argument 0 is )?.*{said}"):
        ARGNUM_TRANSFORMS[who](lambda v: 1.0)(value)


@pytest.mark.parametrize("who", ["grad", "value_and_grad"])
@pytest.mark.parametrize("f,match", [
    (lambda v: v * 2.0, "a real floating-point scalar \\(one element\\), got a float64 tensor of shape \\(3,\\)"),
    (lambda v: ag.sum(v).astype(int), "got an int64 tensor of shape \\(\\)"),
    (lambda v: (ag.sum(v), ag.sum(v)), "one scalar tensor, got 2 outputs"),
    (lambda v: "text", "output 0 of f is a str; f must return tensors or arrays")])
def test_grad_of_a_function_whose_output_is_not_a_scalar(who, f, match):
    with pytest.raises(TypeError, match=f"{who}: .*{match}"):
        ARGNUM_TRANSFORMS[who](f)(X)


def test_has_aux_needs_a_pair_and_f_a_function():
    with pytest.raises(TypeError, match="grad: with has_aux=True, f must return a pair \\(output, aux\\), got Tensor"):
        func.grad(scalar, has_aux=True)(X)
    with pytest.raises(TypeError, match="got tuple of 3"):
        func.grad(lambda v: (ag.sum(v), 1, 2), has_aux=True)(X)
    for transform, who in [(func.grad, "grad"), (ag.jacrev, "jacrev"), (ag.jacfwd, "jacfwd")]:
        with pytest.raises(TypeError, match=f"{who}: f must be a function, got an int"):
            transform(3)(X)
    with pytest.raises(TypeError, match="vmap: f must be a function"):
        ag.vmap(None)
    with pytest.raises(TypeError, match="jacrev: output 1\\[0\\] of f is int64; only real floating-point outputs"):
        ag.jacrev(lambda v: (v * 2, [ag.sum(v).astype(int)]))(X)


@pytest.mark.parametrize("primals,tangents,error,match", [
    (X, (X,), TypeError, "jvp: primals must be a tuple .* got a float64 array of shape \\(3,\\)"),
    ((X,), X, TypeError, "jvp: tangents must be a tuple"),
    ((X,), (X, X), ValueError, "jvp: 1 primals but 2 tangents"),
    (([X],), (X,), ShapeError := ag.ShapeError, "jvp: the tangents' structure differs from the primals'"),
    ((X,), (np.ones(2),), ag.ShapeError, "jvp: the tangent for argument 0 is a float64 array of shape \\(2,\\), "
                                           "but argument 0 is a float64 array of shape \\(3,\\)"),
    ((X,), (np.ones(3, np.float32),), ag.ShapeError, "tangent for argument 0 is a float32 array"),
    ((X,), ("abc",), TypeError, "jvp: the tangent for argument 0 is a str, not an array or tensor"),
    (({"a": X},), ({"a": np.ones(4)},), ag.ShapeError, "tangent for argument 0\\['a'\\] is a float64 array of "
                                                        "shape \\(4,\\)")])
def test_jvp_tangents_that_do_not_fit(primals, tangents, error, match):
    with pytest.raises(error, match=match):
        ag.jvp(lambda *a: a[0], primals, tangents)


@pytest.mark.parametrize("cotangent,error,match", [
    (np.ones(2), ag.ShapeError, "vjp: the cotangent for output is a float64 array of shape \\(2,\\), but output is "
                                "a float64 tensor of shape \\(3,\\)"),
    (np.ones(3, np.float32), ag.ShapeError, "cotangent for output is a float32 array"),
    ((np.ones(3),), ag.ShapeError, "vjp: the cotangent's structure \\(a tuple of 1\\) differs from f's output's"),
    ("abc", TypeError, "vjp: the cotangent for output is a str")])
def test_vjp_cotangents_that_do_not_fit(cotangent, error, match):
    _, pull = ag.vjp(lambda v: v * 2.0, X)
    with pytest.raises(error, match=match):
        pull(cotangent)


def test_vjp_and_hvp_need_their_primals():
    with pytest.raises(TypeError, match="vjp: no primals given"):
        ag.vjp(scalar)
    with pytest.raises(TypeError, match="hvp: primals must be a tuple"):
        ag.hvp(scalar, X, X)


@pytest.mark.parametrize("in_axes,args,match", [
    ((0,), (X, X), "vmap: in_axes: a tuple of 1 at the top does not match the argument's structure there "
                   "\\(a tuple of 2\\)"),
    (1, (X,), "in_axes says argument 0 is batched along axis 1, but it is a float64 array of shape \\(3,\\), "
              "which has 1 axes"),
    (-2, (X,), "batched along axis -2"),
    (0, (X, np.ones(4)), "different sizes along their in_axes: argument 0 has 3 \\(axis 0 of a float64 array of "
                         "shape \\(3,\\)\\); argument 1 has 4"),
    (None, (X,), "in_axes batch no argument"),
    ((0, 0), (X, 2.0), "argument 1 is batched along axis 0, but it is a float, which has no axes; give it None"),
    (0.5, (X,), "in_axes for argument 0 must be an int or None, got 0.5"),
    (({"a": 0},), ({"b": X},), "in_axes: a dict of 1 \\(keys \\['a'\\]\\) at \\[0\\] does not match")])
def test_vmap_in_axes_that_do_not_fit(in_axes, args, match):
    with pytest.raises((ag.VmapError, ValueError), match=match):
        ag.vmap(lambda *a: a[0], in_axes=in_axes)(*args)


def test_vmap_outputs_and_arguments_by_keyword():
    with pytest.raises(ag.VmapError, match="out_axes gives None for output, but it is batched"):
        ag.vmap(lambda v: v, out_axes=None)(X)
    with pytest.raises(ag.VmapError, match="output of f is a str"):
        ag.vmap(lambda v: "text")(X)
    with pytest.raises(TypeError, match="vmap: pass f's arguments by position"):
        ag.vmap(lambda v: v)(v=X)
    np.testing.assert_array_equal(ag.vmap(lambda v: 2.0, out_axes=None)(X), 2.0)  # unbatched: returned once


READS = {
    "float()": lambda v: v * float(v), "a comparison": lambda v: ag.where(v > 0, v, 0.0), "bool()": lambda v: v if v
    else v, "item()": lambda v: v * v.item(), "repr()": lambda v: repr(v) and v,
    "NumPy (np.asarray)": lambda v: np.asarray(v.data) * 2, ".sum": lambda v: v * v.data.sum(),
    "int()": lambda v: v * int(v), "iteration": lambda v: [x for x in v.data]}


@pytest.mark.parametrize("how", sorted(READS))
def test_python_reading_batched_values_is_refused(how):
    with pytest.raises(ag.VmapError, match=re.escape(f"vmap: {how} needs the values of a batched tensor (one "
                                                     "example's shape (), float64)")):
        ag.vmap(READS[how])(X)


def test_an_op_without_a_batching_rule_is_named():
    @ag.defop("test_unbatched", "y = x;  gx = gy")
    def unbatched(v):
        return v * 1.0

    unbatched.defvjp(lambda F, gy, y, v: gy)
    try:
        with pytest.raises(ag.VmapError, match="vmap: op 'test_unbatched' has no batching rule"):
            ag.vmap(unbatched)(X)
        np.testing.assert_allclose(ag.jvp(unbatched, (X,), (X,))[1], X)  # forward mode: the transposed VJP
    finally:
        del ag.OPS["test_unbatched"]


def test_backward_explain_pictures_and_escaped_tensors_inside_vmap():
    with pytest.raises(ag.VmapError, match="backward\\(\\) or ag.grad on a batched tensor inside vmap"):
        ag.vmap(lambda v: ag.sum(v * 2).backward())(X)
    with pytest.raises(ag.VmapError, match="ag.explain / ag.check_graph outside vmap"):
        ag.vmap(lambda v: ag.explain(ag.sum(v * 2)))(X)
    with pytest.raises(ag.VmapError, match="needs the values of a batched tensor"):
        ag.vmap(lambda v: ag.viz.to_dot(v * 2) and v)(X)
    with pytest.raises(ag.VmapError, match="op 'getitem' got a batched tensor in its argument 1"):
        ag.vmap(lambda m, i: m[(i,)])(np.ones((3, 2)), np.zeros(3, dtype=int))
    kept = []
    ag.vmap(lambda v: kept.append(v) or v)(X)
    with pytest.raises(ag.VmapError, match="this tensor escaped the vmap call that made it"):
        kept[0] * 2.0
    pulls = []
    ag.vmap(lambda v: pulls.append(ag.vjp(lambda u: u * v, v)[1]) or v)(X)
    with pytest.raises(ag.VmapError, match="vjp: this function was linearized inside a vmap and must be called "
                                           "inside that same vmap"):
        pulls[0](1.0)


@pytest.mark.parametrize("name", [n for n in func.__all__ if not isinstance(getattr(func, n), type)])
def test_each_transform_has_a_numpy_style_docstring_whose_examples_run(name):
    import doctest
    import inspect
    fn = getattr(func, name)
    doc = inspect.getdoc(fn)
    for section in ("Parameters\n----------\n", "Returns\n-------\n", "Examples\n--------\n"):
        assert section in doc, f"ag.func.{name}: no {section.split()[0]} section"
    documented = doc.split("Parameters\n----------\n", 1)[1].split("\n\n", 1)[0]
    for p in inspect.signature(fn).parameters.values():
        assert re.search(rf"^\**{re.escape(p.name)}\b", documented, re.M), f"ag.func.{name}: {p.name} undocumented"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in doctest.DocTestFinder(recurse=False).find(fn, name, globs={"np": np, "ag": ag}):
        assert test.examples and not runner.run(test).failed, f"ag.func.{name}: an example fails"
