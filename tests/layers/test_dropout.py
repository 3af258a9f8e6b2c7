"""Dropout: identity at inference, inverted scaling and one shared mask while training."""

import numpy as np
import pytest
from harness import check_layer

import glassnet as gn
from glassnet import layers


def _dropout(rate, seed=0, dtype="float64"):
    layer = layers.Dropout(rate, dtype=dtype)
    layer.rng = np.random.default_rng(seed)
    return layer


@pytest.mark.parametrize("rate", [0.0, 0.3, 0.9])
def test_dropout_contract_at_inference(rate):
    check_layer(layers.Dropout(rate), (4, 5), lambda x, p: x)


@pytest.mark.parametrize("rate", [0.0, 0.25, 0.5])
def test_dropout_contract_while_training(rate):
    # The checker reseeds the generator before every forward, so each pass has the same mask.
    check_layer(layers.Dropout(rate), (6, 7), training=True)


def test_dropout_is_identity_at_inference():
    x = np.random.default_rng(0).standard_normal((8, 5))
    layer = _dropout(0.5)
    y = layer(x)
    np.testing.assert_array_equal(y, x)
    np.testing.assert_array_equal(layer.backward(x), x)


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
def test_dropout_drops_the_expected_share_and_scales_survivors(rate):
    x = np.ones((200, 500))
    y = _dropout(rate)(x, training=True)
    dropped = np.mean(y == 0)
    # 100,000 Bernoulli draws: the share's standard deviation is below 0.0016.
    assert abs(dropped - rate) < 0.01
    np.testing.assert_allclose(y[y != 0], 1 / (1 - rate))
    assert abs(y.mean() - 1) < 0.03  # inverted scaling keeps the expected value


def test_dropout_backward_uses_the_forward_mask():
    x = np.random.default_rng(0).standard_normal((10, 20))
    layer = _dropout(0.5)
    y = layer(x, training=True)
    grad = np.random.default_rng(1).standard_normal(x.shape)
    dx = layer.backward(grad)
    kept = y != 0
    np.testing.assert_array_equal(dx == 0, ~kept)
    np.testing.assert_allclose(dx[kept], 2 * grad[kept])


def test_dropout_same_seed_same_mask_new_draw_each_call():
    x = np.ones((4, 50))
    a, b = _dropout(0.5, seed=3)(x, training=True), _dropout(0.5, seed=3)(x, training=True)
    np.testing.assert_array_equal(a, b)
    layer = _dropout(0.5, seed=3)
    assert not np.array_equal(layer(x, training=True), layer(x, training=True))


def test_dropout_in_models_with_the_same_seed_trains_to_identical_weights():
    x = np.random.default_rng(0).standard_normal((32, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("float32")

    def train():
        model = gn.Sequential([layers.Dense(8, activation="relu", input_shape=(4,)), layers.Dropout(0.5),
                               layers.Dense(1, activation="sigmoid")], seed=7)
        model.compile(optimizer="sgd", loss="binary_crossentropy")
        model.fit(x, y, epochs=2, batch_size=8, verbose=0)
        return model.get_weights()

    for a, b in zip(train(), train()):
        np.testing.assert_array_equal(a, b)


def test_dropout_keeps_float32():
    y = _dropout(0.5, dtype="float32")(np.ones((3, 4), dtype=np.float32), training=True)
    assert y.dtype == np.float32


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5, "0.5", None, True, np.float64(1.0)])
def test_dropout_rejects_rates_outside_zero_one(rate):
    with pytest.raises(ValueError, match=r"Dropout rate must be in \[0, 1\)"):
        layers.Dropout(rate)


@pytest.mark.parametrize("rate", [0, 0.5, np.float32(0.25), np.float64(0.1)])
def test_dropout_accepts_python_and_numpy_rates(rate):
    assert layers.Dropout(rate).get_config()["rate"] == pytest.approx(float(rate))


def test_dropout_does_not_mutate_its_input():
    x = np.ones((3, 4))
    _dropout(0.5)(x, training=True)
    np.testing.assert_array_equal(x, 1)
