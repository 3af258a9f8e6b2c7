"""timeseries_dataset_from_array: Keras' documented windows, a plain-loop oracle, and training on it."""

import numpy as np
import pytest

import glassnet as gn
from glassnet.datasets import timeseries_dataset_from_array


def _windows_by_loop(data, targets, length, stride, rate, start, end):
    """The oracle: every window written out one at a time, as the docstring defines them."""
    xs, ys, t = [], [], start
    while t + (length - 1) * rate < end and (targets is None or t < len(targets)):
        xs.append([data[t + k * rate] for k in range(length)])
        if targets is not None:
            ys.append(targets[t])
        t += stride
    return np.array(xs), (None if targets is None else np.array(ys))


def test_keras_documented_example_sampling_rate_and_stride():
    # keras.utils.timeseries_dataset_from_array's docstring: indices 0..98, sequence_length=10,
    # sampling_rate=2, sequence_stride=3.
    x, y = timeseries_dataset_from_array(np.arange(99), None, sequence_length=10, sampling_rate=2,
                                         sequence_stride=3, batch_size=None)
    assert y is None
    np.testing.assert_array_equal(x[0], np.arange(0, 20, 2))
    np.testing.assert_array_equal(x[1], np.arange(3, 23, 2))
    np.testing.assert_array_equal(x[2], np.arange(6, 26, 2))
    np.testing.assert_array_equal(x[-1], np.arange(78, 98, 2))


def test_keras_documented_example_targets_pair_with_the_window_start():
    data = np.arange(100)
    source = timeseries_dataset_from_array(data[:-10], data[10:], sequence_length=10)
    inputs, targets = source[0]
    np.testing.assert_array_equal(inputs[0], data[:10])
    assert targets[0] == data[10]
    assert sum(len(source[i][0]) for i in range(len(source))) == 81


@pytest.mark.parametrize("length, stride, rate, start, end, batch", [
    (5, 1, 1, None, None, 7), (4, 3, 2, 5, 90, 16), (1, 1, 1, 0, 10, 3), (6, 2, 3, 10, None, 128)])
def test_batches_match_the_loop_oracle(length, stride, rate, start, end, batch):
    rng = np.random.default_rng(0)
    data = rng.normal(size=(100, 3)).astype(np.float32)
    targets = rng.normal(size=(95, 2))
    source = timeseries_dataset_from_array(data, targets, length, sequence_stride=stride, sampling_rate=rate,
                                           batch_size=batch, start_index=start, end_index=end)
    x = np.concatenate([source[i][0] for i in range(len(source))])
    y = np.concatenate([source[i][1] for i in range(len(source))])
    ex, ey = _windows_by_loop(data, targets, length, stride, rate, start or 0, end or 100)
    np.testing.assert_array_equal(x, ex)
    np.testing.assert_array_equal(y, ey)
    assert x.dtype == np.float32 and x.shape[1:] == (length, 3)
    assert all(len(source[i][0]) == batch for i in range(len(source) - 1))


def test_shuffle_covers_every_window_once_and_repeats_with_the_seed():
    data = np.arange(50)
    def order(seed):
        source = timeseries_dataset_from_array(data, data, 4, batch_size=8, shuffle=True, seed=seed)
        return np.concatenate([source[i][1] for i in range(len(source))])
    first = order(3)
    assert sorted(first.tolist()) == list(range(47)) and first.tolist() != list(range(47))
    np.testing.assert_array_equal(order(3), first)
    source = timeseries_dataset_from_array(data, data, 4, batch_size=8, shuffle=True, seed=3)
    source.on_epoch_end()  # a new order every epoch
    assert np.concatenate([source[i][1] for i in range(len(source))]).tolist() != first.tolist()


def test_fit_evaluate_predict_on_windows():
    t = np.arange(400, dtype=np.float32)
    series = np.sin(t / 6)[:, None]
    length = 12
    train = timeseries_dataset_from_array(series, series[length:, 0], length, batch_size=32, end_index=300,
                                          shuffle=True, seed=0)
    test = timeseries_dataset_from_array(series, series[length:, 0], length, batch_size=64, start_index=300)
    model = gn.Sequential([gn.layers.Input((length, 1)), gn.layers.Flatten(), gn.layers.Dense(1)], seed=0)
    model.compile(optimizer=gn.optimizers.Adam(0.01), loss="mse")
    model.fit(train, epochs=40, verbose=0)
    assert model.evaluate(test, verbose=0) < 1e-3  # the next value of a sine is linear in the last ones
    x, y = timeseries_dataset_from_array(series, None, length, batch_size=None, start_index=300)
    assert model.predict(x).shape == (len(x), 1)
    predicted = model.predict(timeseries_dataset_from_array(series, None, length, batch_size=10, start_index=300))
    np.testing.assert_allclose(predicted, model.predict(x), rtol=1e-6)


@pytest.mark.parametrize("kwargs, match", [
    ({"sequence_length": 0}, "sequence_length must be a positive integer"),
    ({"sequence_stride": -1}, "sequence_stride"),
    ({"sampling_rate": 1.5}, "sampling_rate"),
    ({"batch_size": 0}, "batch_size"),
    ({"start_index": 30}, r"start_index must be an integer in \[0, 20\]"),
    ({"start_index": 10, "end_index": 5}, "must be below end_index"),
    ({"sequence_length": 25}, "no window fits"),
    ({"sequence_length": 5, "sampling_rate": 5}, "no window fits"),
])
def test_bad_arguments_are_refused(kwargs, match):
    args = {"sequence_length": 3, **kwargs}
    with pytest.raises(ValueError, match=match):
        timeseries_dataset_from_array(np.arange(20.0), None, **args)


def test_empty_data_is_refused():
    with pytest.raises(ValueError, match="data is empty"):
        timeseries_dataset_from_array(np.zeros((0, 2)), None, 3)
