"""Model files written by an earlier glassnet (commit 9709d7f, before the single loop, the graphs'
flat weights and the array-module seam) still load, predict as they did and keep training.

tests/data/files_9709d7f/make_files.py wrote them, run on that commit's code."""

from pathlib import Path

import numpy as np
import pytest

import glassnet as gn

FILES = Path(__file__).parent / "data" / "files_9709d7f"
SAVED = np.load(FILES / "inputs_and_predictions.npz")


def inputs(name):
    return {"cnn": SAVED["x"], "lstm": SAVED["t"], "graph": [SAVED["xa"], SAVED["xb"]]}[name]


@pytest.mark.parametrize("name", ["cnn", "lstm", "graph"])
def test_a_file_from_an_earlier_version_loads_and_predicts_as_it_did(name):
    model = gn.load_model(FILES / f"{name}.glassnet")
    pred = model.predict(inputs(name))
    pred = np.concatenate(pred, axis=1) if isinstance(pred, list) else pred
    # The same arithmetic in the same order; only another CPU's BLAS kernels may round the last bit.
    np.testing.assert_allclose(pred, SAVED[f"pred_{name}"], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", ["cnn", "lstm", "graph"])
def test_a_file_from_an_earlier_version_keeps_training_from_its_optimizer_state(name):
    model = gn.load_model(FILES / f"{name}.glassnet")
    assert model.optimizer.iterations > 0  # the saved Adam state came back, not a fresh optimizer
    before = model.get_weights()
    x = inputs(name)
    y = {"cnn": np.array([0, 1, 2, 0]), "lstm": np.array([0, 1, 0, 1]),
         "graph": [np.array([0, 1, 0, 1]), np.zeros(4)]}[name]
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
