"""Each example runs as a user would run it, and prints the figures its docstring promises."""

import re

import pytest
from example_runner import EXAMPLES, figure, run_example


def test_examples_are_numbered_from_simplest():
    names = sorted(p.name for p in EXAMPLES.glob("*.py"))
    assert names[:3] == ["01_forward_by_hand.py", "02_spiral.py", "03_digits_mlp.py"]
    assert all(re.fullmatch(r"\d\d_\w+\.py", n) for n in names)
    numbers = [n[:2] for n in names]
    assert len(set(numbers)) == len(numbers), f"two examples share a number: {names}"


def test_01_forward_by_hand():
    out = run_example("01_forward_by_hand.py")
    assert "no activation: hidden = [5.0, 1.0], prediction = 9.000" in out
    assert figure(r"tanh: hidden = \[1\.0, 0\.762\], prediction = (\d+\.\d+)", out) == 1.238


@pytest.mark.slow
def test_02_spiral():
    out = run_example("02_spiral.py")
    assert re.findall(r"^Epoch (\d+)/1000", out, re.MULTILINE) == [str(e) for e in range(100, 1001, 100)]
    assert figure(r"training accuracy: (\d\.\d+)", out) >= 0.90
    assert figure(r"fresh spiral accuracy: (\d\.\d+)", out) >= 0.80


@pytest.mark.slow
def test_03_digits_mlp():
    out = run_example("03_digits_mlp.py")
    assert "Total params: 19,210" in out  # the summary: 64·256 + 256 + 256·10 + 10
    assert re.search(r"^training 1212 samples \[0: 120 \(9\.9%\), .*validation 135 samples", out, re.MULTILINE)
    assert figure(r"test accuracy: (\d\.\d+)", out) >= 0.97
