"""Sequence layers in model files, summaries and the registry: a saved model predicts the same after loading."""

import numpy as np
import pytest

import glassnet as gn
from glassnet import layers
from glassnet._registry import lookup

IDS = np.array([[3, 1, 4, 1, 5, 0], [9, 2, 6, 0, 0, 0], [5, 3, 5, 8, 9, 7]])


@pytest.mark.parametrize("make", [
    lambda: layers.SimpleRNN(3, dropout=0.1, go_backwards=True),
    lambda: layers.LSTM(3, recurrent_dropout=0.1, kernel_regularizer="l2"),
    lambda: layers.GRU(3, return_sequences=True),
    lambda: layers.Bidirectional(layers.LSTM(3), merge_mode="sum"),
], ids=["SimpleRNN", "LSTM", "GRU", "Bidirectional"])
def test_saved_sequence_model_loads_and_predicts_the_same(make, tmp_path):
    model = gn.Sequential([layers.Embedding(10, 4, mask_zero=True, input_shape=(6,)), make(),
                           layers.Dense(2, activation="softmax")], seed=1)
    model.compile("adam", "categorical_crossentropy")
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = gn.load_model(path)
    assert loaded.get_config() == model.get_config()
    np.testing.assert_array_equal(loaded.predict(IDS), model.predict(IDS))


def test_summary_counts_as_keras():
    model = gn.Sequential([layers.Embedding(100, 5, input_shape=(7,)), layers.Bidirectional(layers.LSTM(8)),
                           layers.Dense(1)], seed=0)
    lines = []
    model.summary(print_fn=lines.append)
    text = lines[0]
    # Keras: Embedding 100·5 = 500; Bidirectional(LSTM(8)) 2·4·(8·5 + 8·8 + 8) = 896; Dense 17
    assert "(None, 7, 5)" in text and "500" in text and "(None, 16)" in text and "896" in text
    assert "Total params: 1,413" in text


@pytest.mark.parametrize("name", ["Embedding", "SimpleRNN", "LSTM", "GRU", "Masking", "Bidirectional",
                                  "TimeDistributed"])
def test_sequence_layers_are_registered_and_public(name):
    assert lookup("layer", name) is getattr(gn.layers, name)
