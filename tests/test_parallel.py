"""glassnet.parallel: elementwise work split over threads gives the bits of one thread."""

import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import glassnet as gn
from glassnet import layers, parallel


@pytest.fixture(autouse=True)
def follow_blas_afterwards():
    yield
    gn.config.set_num_threads(None)


def train(model_layers, x, y, threads):
    gn.config.set_num_threads(threads)
    model = gn.Sequential(model_layers, seed=3)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=32, epochs=2, verbose=0)
    return model.get_weights(), model.predict(x, batch_size=64)


def cnn_2d():
    return [layers.Conv2D(8, 3, padding="same", activation="relu", input_shape=(16, 16, 2)),
            layers.MaxPooling2D(), layers.Conv2D(8, 3, activation="relu"), layers.MaxPooling2D(),
            layers.Flatten(), layers.Dense(4, activation="softmax")]


def cnn_1d():
    return [layers.Conv1D(16, 5, activation="relu", input_shape=(400, 3)), layers.MaxPooling1D(3, strides=2),
            layers.Conv1D(16, 3, activation="relu"), layers.AveragePooling1D(),
            layers.Flatten(), layers.Dense(4, activation="softmax")]


@pytest.mark.parametrize("build, shape", [(cnn_2d, (64, 16, 16, 2)), (cnn_1d, (64, 400, 3))])
def test_training_is_bit_identical_on_one_and_two_threads(build, shape):
    rng = np.random.default_rng(0)
    # Rounded pixels make ties in the max-pooling windows, so the tie pass runs too.
    x = np.round(rng.random(shape, dtype=np.float32) * 4) / 4
    y = rng.integers(0, 4, shape[0])
    with threadpool_limits(1):
        one = train(build(), x, y, None)  # follows BLAS: one thread
        two = train(build(), x, y, 2)
    with threadpool_limits(2):
        two_blas = train(build(), x, y, None)  # follows BLAS: two threads
    for other in (two, two_blas):
        for a, b in zip(one[0], other[0]):
            assert a.tobytes() == b.tobytes()
        assert one[1].tobytes() == other[1].tobytes()


def test_over_batch_uses_the_threads_set_and_one_when_told():
    x = np.arange(64 * 4096, dtype=np.float32).reshape(64, 4096) - 1000  # 1 MiB: worth splitting
    seen = set()

    def relu(x, out):
        seen.add(threading.current_thread().name)
        np.maximum(x, 0, out=out)

    gn.config.set_num_threads(2)
    assert np.array_equal(parallel.over_batch(relu, x, out=np.empty_like(x)), np.maximum(x, 0))
    assert len(seen) == 2
    seen.clear()
    with threadpool_limits(1):
        gn.config.set_num_threads(None)  # follows BLAS, limited to one thread
        parallel.over_batch(relu, x, out=np.empty_like(x))
    assert seen == {threading.current_thread().name}


def test_small_batches_stay_on_the_calling_thread():
    seen = set()

    def copy(x, out):
        seen.add(threading.current_thread().name)
        out[...] = x

    gn.config.set_num_threads(2)
    parallel.over_batch(copy, np.ones((4, 10), np.float32), out=np.empty((4, 10), np.float32))
    assert seen == {threading.current_thread().name}


def test_bad_arguments_name_the_problem():
    with pytest.raises(ValueError, match="positive int or None"):
        gn.config.set_num_threads(0)
    with pytest.raises(ValueError, match="batch axis"):
        parallel.over_batch(np.add, np.ones((3, 2)), np.ones(2), out=np.empty((3, 2)))
