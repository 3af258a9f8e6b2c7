"""Examples 04-06, 10 and 12 in a reduced run (a few hundred images, one epoch): the scripts work end to end.

The full figures come from running them by hand (see each script's docstring and the README).
"""

import re
from pathlib import Path

import pytest
from example_runner import figure, run_example
from shared_data import SHARED_DATA

FASHION = Path("/usr/share/datasets/fashion-mnist")



@pytest.mark.slow
@pytest.mark.parametrize("name", ["04_fashion_mnist_mlp.py", "05_fashion_mnist_cnn.py"])
def test_fashion_mnist_examples_reduced(name):
    if not FASHION.is_dir():
        pytest.skip("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
    out = run_example(name, "--limit", "300", "--epochs", "1")
    assert re.search(r"^Epoch 1/1 - ", out, re.MULTILINE)
    assert 0.0 <= figure(r"test accuracy: (\d\.\d+)", out) <= 1.0
    assert len(re.search(r"test accuracy per class: \[(.*)\]", out).group(1).split(",")) == 10


@pytest.mark.slow
def test_pneumonia_example_reduced():
    if not (SHARED_DATA / "pneumoniamnist_balanced.npz").exists():
        pytest.skip("../shared/data/pneumoniamnist_balanced.npz is absent")
    out = run_example("06_pneumonia_cnn.py", "--limit", "200", "--epochs", "1")
    assert re.search(r"^normal\s+\d+ \(\s*\d+\.\d%\)", out, re.MULTILINE)  # the class-balance table
    assert "class weights: {0: " in out
    assert 0.0 <= figure(r"ROC AUC: (\d\.\d+)", out) <= 1.0
    assert 0.0 <= figure(r"specificity \(normal cleared\): (\d\.\d+)", out) <= 1.0


@pytest.mark.slow
def test_pneumonia_residual_example_reduced():
    if not (SHARED_DATA / "pneumoniamnist_balanced.npz").exists():
        pytest.skip("../shared/data/pneumoniamnist_balanced.npz is absent")
    out = run_example("12_pneumonia_residual_cnn.py", "--limit", "200", "--epochs", "1")
    assert re.search(r"^Epoch 1/1 - ", out, re.MULTILINE)
    # the summary's "Connected to" column shows the shortcut: Add takes the block's input and its last conv
    assert re.search(r"^add \(Add\) .* conv2d\[0\]\[0\], conv2d_2\[0\]\[0\]$", out, re.MULTILINE)
    assert 0.0 <= figure(r"validation accuracy: (\d\.\d+)", out) <= 1.0
    assert 0.0 <= figure(r"test accuracy: \d\.\d+, ROC AUC: (\d\.\d+)", out) <= 1.0
    assert "3-CNN ensemble, as documented there: test accuracy 0.895, test ROC AUC 0.976" in out


@pytest.mark.slow
def test_mnist1d_example_reduced():
    pytest.importorskip("mnist1d", reason="pip install mnist1d")
    out = run_example("10_mnist1d_conv1d.py", "--limit", "300", "--epochs", "1")
    assert re.search(r"^Epoch 1/1 - ", out, re.MULTILINE)
    assert 0.0 <= figure(r"test accuracy: (\d\.\d+)", out) <= 1.0
