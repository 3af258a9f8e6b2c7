"""End to end: the networks of the issue learn what they should, within seconds."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import glassnet as gn
from glassnet import layers
from glassnet.datasets import sine_data, spiral_data


@pytest.fixture(autouse=True)
def _one_blas_thread():
    # On a busy shared machine OpenBLAS threads fighting over the cores make these small matrix
    # products many times slower; these tests check what the networks learn, not speed.
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def test_overfits_one_small_batch_to_near_zero_loss():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 8)).astype("float32")
    y = rng.integers(0, 4, size=16)  # random labels: only memorising can fit them
    model = gn.Sequential([layers.Dense(64, activation="relu", input_shape=(8,)),
                           layers.Dense(4, activation="softmax")], seed=0)
    model.compile(optimizer=gn.optimizers.Adam(learning_rate=0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    first_loss, _ = model.train_on_batch(x, y)
    for _ in range(300):
        loss, accuracy = model.train_on_batch(x, y)
    assert first_loss > 1.0
    assert loss < 1e-3 and accuracy == 1.0
    np.testing.assert_array_equal(model.predict(x).argmax(axis=1), y)


def test_spiral_data_is_the_books_problem():
    x, y = spiral_data(samples=100, classes=3, seed=0)
    assert x.shape == (300, 2) and x.dtype == np.float32
    np.testing.assert_array_equal(np.bincount(y), [100, 100, 100])
    radius = np.hypot(x[:, 0], x[:, 1])
    np.testing.assert_allclose(radius[:100], np.linspace(0, 1, 100), atol=1e-6)
    np.testing.assert_array_equal(spiral_data(100, 3, seed=0)[0], x)
    assert not np.array_equal(spiral_data(100, 3, seed=1)[0], x)
    # the arms interleave: no straight line separates class 0 from the rest
    from sklearn.linear_model import LogisticRegression

    linear = LogisticRegression().fit(x, y).score(x, y)
    assert linear < 0.7


@pytest.mark.slow
def test_spiral_dense_64_adam_reaches_90_percent():
    x, y = spiral_data(samples=100, classes=3, seed=0)
    model = gn.Sequential([layers.Dense(64, activation="relu", input_shape=(2,)),
                           layers.Dense(3, activation="softmax")], seed=0)
    model.compile(optimizer=gn.optimizers.Adam(learning_rate=0.05, decay=5e-5),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=1000, batch_size=300, verbose=0)
    assert history.history["accuracy"][-1] >= 0.90
    assert model.evaluate(x, y, return_dict=True)["accuracy"] >= 0.90


@pytest.mark.slow
def test_digits_mlp_reaches_97_percent_test_accuracy():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.data / 16.0).astype("float32")
    x_train, x_test, y_train, y_test = train_test_split(x, digits.target, test_size=0.25,
                                                        stratify=digits.target, random_state=0)
    model = gn.Sequential([layers.Dense(256, activation="relu", input_shape=(64,)),
                           layers.Dropout(0.2),
                           layers.Dense(10, activation="softmax")], seed=0)
    model.compile(optimizer=gn.optimizers.Adam(learning_rate=0.002), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=30, batch_size=32, validation_split=0.1, verbose=0,
              callbacks=[gn.callbacks.EarlyStopping(monitor="val_loss", patience=5)])
    loss, accuracy = model.evaluate(x_test, y_test)
    assert accuracy >= 0.97
    assert accuracy == np.mean(model.predict(x_test).argmax(axis=1) == y_test)


def test_sine_data_is_one_period():
    x, y = sine_data(1000)
    assert x.shape == y.shape == (1000, 1)
    assert x[0, 0] == 0 and x[-1, 0] == pytest.approx(0.999)
    np.testing.assert_allclose(y[:, 0], np.sin(2 * np.pi * np.arange(1000) / 1000), atol=1e-6)


@pytest.mark.slow
def test_sine_regression_reaches_a_low_error():
    x, y = sine_data(500)
    model = gn.Sequential([layers.Dense(64, activation="relu", input_shape=(1,)),
                           layers.Dense(64, activation="relu"),
                           layers.Dense(1)], seed=0)
    model.compile(optimizer=gn.optimizers.Adam(learning_rate=0.005, decay=1e-3), loss="mse")
    model.fit(x, y, epochs=80, batch_size=50, verbose=0)
    x_new = np.linspace(0.0005, 0.9995, 333, dtype="float32").reshape(-1, 1)  # between the training points
    mse = model.evaluate(x_new, np.sin(2 * np.pi * x_new))
    assert mse < 1e-3  # the target's variance is 0.5: R² > 0.998
