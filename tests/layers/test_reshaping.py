"""Input, Flatten, Reshape, RepeatVector and Permute: shapes, the backward that undoes forward, and clear errors."""

import numpy as np
import pytest
from harness import check_layer

import glassnet as gn
from glassnet import layers


@pytest.mark.parametrize("layer, input_shape, torch_fn", [
    (layers.Input((5,)), (3, 5), lambda x, p: x),
    (layers.Input((2, 3)), (4, 2, 3), lambda x, p: x),
    (layers.Flatten(), (3, 2, 4), lambda x, p: x.flatten(1)),
    (layers.Flatten(), (3, 2, 2, 3), lambda x, p: x.flatten(1)),
    (layers.Flatten(), (3, 5), lambda x, p: x),
    (layers.Reshape((3, 4)), (2, 12), lambda x, p: x.reshape(2, 3, 4)),
    (layers.Reshape((-1, 2)), (2, 3, 4), lambda x, p: x.reshape(2, 6, 2)),
    (layers.Reshape((4, -1)), (2, 12), lambda x, p: x.reshape(2, 4, 3)),
    (layers.Reshape((12,)), (2, 3, 4), lambda x, p: x.reshape(2, 12)),
    (layers.RepeatVector(4), (3, 5), lambda x, p: x[:, None, :].expand(3, 4, 5)),
    (layers.Permute((2, 1)), (3, 4, 5), lambda x, p: x.permute(0, 2, 1)),
    (layers.Permute((3, 1, 2)), (2, 3, 4, 5), lambda x, p: x.permute(0, 3, 1, 2)),
])
def test_reshaping_contract(layer, input_shape, torch_fn):
    check_layer(layer, input_shape, torch_fn)


@pytest.mark.parametrize("layer, input_shape, output_shape", [
    (layers.Flatten(), (None, 2, 3, 4), (None, 24)),
    (layers.Flatten(), (None, None, 3), (None, None)),
    (layers.Reshape((-1,)), (None, 2, 3), (None, 6)),
    (layers.Reshape((2, -1, 3)), (None, 12), (None, 2, 2, 3)),
])
def test_compute_output_shape(layer, input_shape, output_shape):
    assert layer.compute_output_shape(input_shape) == output_shape


def test_input_declares_the_model_input_shape():
    model = gn.Sequential([layers.Input((4,)), layers.Dense(2)])
    assert model.built and model.input_shape == (None, 4) and model.output_shape == (None, 2)
    assert layers.Input(7).get_config()["shape"] == [7]


@pytest.mark.parametrize("target", [(-1, -1), (0, 4), (-2, 3)])
def test_reshape_rejects_bad_target_shapes(target):
    with pytest.raises(ValueError, match="positive with at most one -1"):
        layers.Reshape(target)


@pytest.mark.parametrize("target, input_shape", [((5,), (None, 12)), ((5, -1), (None, 12)), ((2, 2), (None, 3, 3))])
def test_reshape_rejects_a_size_mismatch(target, input_shape):
    with pytest.raises(ValueError, match="Reshape"):
        layers.Reshape(target).build(input_shape)


@pytest.mark.parametrize("shape", [(0,), (3, -1), (-4,)])
def test_input_rejects_non_positive_dimensions(shape):
    with pytest.raises(ValueError, match="must be positive integers"):
        layers.Input(shape)


def test_flatten_then_dense_in_a_model_trains():
    x = np.random.default_rng(0).standard_normal((16, 2, 3)).astype("float32")
    y = x.reshape(16, -1).sum(axis=1, keepdims=True)
    model = gn.Sequential([layers.Input((2, 3)), layers.Flatten(), layers.Dense(1)], seed=0)
    model.compile(optimizer=gn.optimizers.Adam(learning_rate=0.05), loss="mse")
    before = model.evaluate(x, y)
    model.fit(x, y, epochs=60, batch_size=16, verbose=0)
    assert model.evaluate(x, y) < 0.01 * before


def test_repeat_vector_and_permute_refuse_what_they_cannot_take():
    with pytest.raises(ValueError, match=r"RepeatVector takes one vector per sample, \(N, D\); got inputs of shape"):
        layers.RepeatVector(3)(np.zeros((2, 4, 5)))
    with pytest.raises(ValueError, match="n must be a positive integer"):
        layers.RepeatVector(0)
    with pytest.raises(ValueError, match=r"Permute dims must be a permutation of 1..2"):
        layers.Permute((0, 1))
    with pytest.raises(ValueError, match=r"Permute\(dims=\[2, 1\]\) takes inputs of 2 axes per sample"):
        layers.Permute((2, 1))(np.zeros((2, 3, 4, 5)))


def test_an_lstm_autoencoder_as_keras_writes_it_trains_and_saves(tmp_path):
    # encoder -> RepeatVector(T) -> decoder with return_sequences -> TimeDistributed(Dense)
    x = np.random.default_rng(0).random((32, 6, 2)).astype("float32")
    model = gn.Sequential([layers.LSTM(4, input_shape=(6, 2)), layers.RepeatVector(6),
                           layers.LSTM(4, return_sequences=True), layers.TimeDistributed(layers.Dense(2))], seed=0)
    model.compile("adam", "mse")
    losses = model.fit(x, x, epochs=5, verbose=0).history["loss"]
    assert losses[-1] < losses[0]
    model.save(tmp_path / "autoencoder.glassnet")
    np.testing.assert_array_equal(gn.load_model(tmp_path / "autoencoder.glassnet").predict(x), model.predict(x))
