"""Training and prediction run ReLU after a following max pooling; nothing a user sees changes."""

import numpy as np
import pytest

import glassnet as gn
from glassnet import layers
from glassnet.models import fusion


def cnn(rank: int, activation: str = "relu", dtype: str = "float32") -> gn.Sequential:
    conv, pool = (layers.Conv2D, layers.MaxPooling2D) if rank == 2 else (layers.Conv1D, layers.MaxPooling1D)
    shape = (9, 9, 2) if rank == 2 else (17, 3)
    model = gn.Sequential([conv(6, 3, activation=activation, input_shape=shape, dtype=dtype), pool(dtype=dtype),
                           conv(5, 2, activation=activation, padding="same", dtype=dtype),
                           pool(padding="same", dtype=dtype), layers.Flatten(dtype=dtype),
                           layers.Dense(3, activation="softmax", dtype=dtype)], seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def data(model, n=24):
    rng = np.random.default_rng(1)
    # Centred inputs and small integers: many windows whose pre-activations are all <= 0 or tie.
    x = rng.integers(-2, 3, size=(n, *model.input_shape[1:])).astype("float32")
    return x, rng.integers(0, 3, n)


@pytest.mark.parametrize("rank", [1, 2])
def test_the_swapped_order_gives_the_same_bits_as_the_written_one(rank, monkeypatch):
    swapped, written = cnn(rank), cnn(rank)
    assert fusion.relu_then_max_pool(swapped.layers) == {0, 2}
    x, y = data(swapped)
    history = swapped.fit(x, y, epochs=3, batch_size=8, verbose=0)
    swapped_pred = swapped.predict(x)
    monkeypatch.setattr(fusion, "relu_then_max_pool", lambda layers: set())
    reference = written.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert history.history == reference.history
    assert all(np.array_equal(a, b) for a, b in zip(swapped.get_weights(), written.get_weights()))
    assert np.array_equal(swapped_pred, written.predict(x))


def test_only_relu_followed_by_max_pooling_is_swapped():
    assert fusion.relu_then_max_pool(cnn(2, "leaky_relu").layers) == set()  # ties could move
    model = gn.Sequential([layers.Conv2D(2, 3, activation="relu", input_shape=(16, 16, 1)),
                           layers.AveragePooling2D(), layers.Conv2D(2, 1), layers.MaxPooling2D(),
                           layers.Activation("relu"), layers.MaxPooling2D(), layers.Flatten()])
    assert fusion.relu_then_max_pool(model.layers) == set()


def test_the_swapped_model_passes_the_gradient_check():
    model = cnn(2, dtype="float64")
    x, y = data(model, n=4)
    x = x + np.random.default_rng(2).normal(scale=0.1, size=x.shape).astype("float32")  # no exact ties
    report = gn.gradcheck.check_gradients(model, x, y)
    assert report.passed, report
