"""detect_anomaly: the first NaN/inf names its op, phase, inputs and line."""
import numpy as np
import pytest

import autograd_np as ag


def leaf(values):
    return ag.Tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


@pytest.mark.parametrize("make, op, code", [
    (lambda x: ag.log(x * 0), "log", "ag.log(x * 0)"),             # log(0)
    (lambda x: (x * 0) / (x * 0), "div", "(x * 0) / (x * 0)"),     # 0/0
    (lambda x: ag.exp(x * 1000.0), "exp", "ag.exp(x * 1000.0)"),   # overflow
])
def test_forward_anomalies_name_the_op_and_the_line(make, op, code):
    x = leaf([1.0, 2.0])
    with pytest.raises(ag.AnomalyError) as info:
        with ag.detect_anomaly():
            make(x)
    err = info.value
    assert err.op == op and err.phase == "forward"
    assert err.inputs and err.inputs[0][0] == (2,)
    assert "test_anomaly.py" in err.where and code in err.where  # the user's line that made the node
    assert f"{op} (forward)" in str(err)


def test_a_nan_that_appears_only_in_backward():
    x = leaf([0.0, 4.0])
    with ag.detect_anomaly():
        y = ag.sum(ag.sqrt(x))      # forward is fine: sqrt(0) = 0
        with pytest.raises(ag.AnomalyError) as info:
            y.backward()             # d sqrt / dx = 1 / (2 sqrt(x)) is inf at 0
    err = info.value
    assert err.op == "sqrt" and err.phase == "backward"
    assert "ag.sqrt(x)" in err.where


def test_a_nan_input_is_caught_at_the_first_op_that_outputs_it():
    x = leaf([np.nan, 1.0])
    with pytest.raises(ag.AnomalyError, match=r"mul \(forward\): the output contains NaN"):
        with ag.detect_anomaly():
            x * 2


def test_options_choose_what_counts():
    x = leaf([1.0])
    with ag.detect_anomaly(check_inf=False):
        y = ag.exp(x * 1000.0)      # inf allowed
    assert np.isinf(y.data).all()
    with pytest.raises(ag.AnomalyError):
        with ag.detect_anomaly(check_inf=False):
            (x * 0) / (x * 0)       # NaN still caught


def test_outside_the_block_nothing_is_checked_or_recorded():
    x = leaf([1.0])
    with np.errstate(all="ignore"):
        y = ag.log(x * 0)
    assert np.isneginf(y.data).all()
    assert y.node.where is None
    with ag.detect_anomaly():
        z = ag.tanh(x)
    assert "ag.tanh(x)" in z.node.where


def test_results_inside_the_block_are_unchanged():
    x = leaf([0.5, -1.5])
    with ag.detect_anomaly():
        y = ag.sum(ag.sigmoid(x) * x)
        y.backward()
    inside = x.grad.copy()
    x.zero_grad()
    ag.sum(ag.sigmoid(x) * x).backward()
    np.testing.assert_array_equal(inside, x.grad)


@pytest.mark.parametrize("filename,shown", [("/tmp/ipykernel_4242/3361835823.py", "<notebook cell>:2"),
                                            ("C:\\Temp\\ipykernel_7\\12.py", "<notebook cell>:2"),
                                            ("/home/u/ipykernel_helper.py", "/home/u/ipykernel_helper.py:2")])
def test_a_line_of_a_notebook_cell_is_called_a_cell(filename, shown):
    """Jupyter runs a cell from /tmp/ipykernel_PID/HASH.py: a folder the reader cannot open (and
    a machine path on every rendered page); a file that only looks alike keeps its path."""
    code = compile("x = ag.Tensor(np.array([1.0, 2.0]), requires_grad=True)\ny = ag.log(x - 5.0)\n", filename, "exec")
    with pytest.raises(ag.AnomalyError) as info:
        with ag.detect_anomaly():
            exec(code, {"ag": ag, "np": np})
    assert info.value.where.startswith(shown + ": ") and f"node created at {shown}: " in str(info.value)
