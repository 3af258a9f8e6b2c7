"""Embedding: the lookup, its gradient (finite differences and torch), bad ids, config and training."""

import json

import numpy as np
import pytest
from harness import RTOL, WRONG_SCALE, check_config_roundtrip, random_input, torch

import glassnet as gn
from glassnet import layers
from glassnet.gradcheck import compare_gradients, numeric_gradient

IDS = np.array([[1, 2, 0, 2], [3, 3, 3, 1], [0, 4, 2, 1]])  # repeated ids: their gradients must add up


def _layer64(**kwargs):
    layer = layers.Embedding(5, 3, dtype="float64", **kwargs)
    layer.build((None, *IDS.shape[1:]))
    return layer


def test_embedding_looks_up_rows_and_keeps_the_layer_dtype():
    layer = layers.Embedding(5, 3)
    y = layer(IDS)
    assert y.shape == (3, 4, 3) and y.dtype == np.float32 and layer.output_shape == (None, 4, 3)
    np.testing.assert_array_equal(y[1, 2], layer.params["embeddings"][3])
    # fit and predict hand the ids over as floats: whole numbers are the same ids
    np.testing.assert_array_equal(layer(IDS.astype(np.float32)), y)


def test_embedding_gradient_matches_finite_differences_and_a_wrong_one_fails():
    layer = _layer64()
    r = random_input((*IDS.shape, 3), 1)
    layer.forward(IDS)
    layer.backward(r)
    analytic = layer.grads["embeddings"].copy()
    numeric = numeric_gradient(lambda: float(np.sum(r * layer.forward(IDS))), layer.params["embeddings"])
    assert compare_gradients("embeddings", analytic, numeric, RTOL).passed
    assert not compare_gradients("embeddings", analytic * WRONG_SCALE, numeric, RTOL).passed
    layer.backward(r)  # backward overwrites its gradient, never accumulates
    np.testing.assert_array_equal(layer.grads["embeddings"], analytic)


def test_embedding_matches_torch():
    if torch is None:
        pytest.skip("torch is not installed: the PyTorch oracle comparison was skipped")
    layer = _layer64()
    r = random_input((*IDS.shape, 3), 1)
    y = layer.forward(IDS)
    layer.backward(r)
    table = torch.tensor(layer.params["embeddings"], requires_grad=True)
    y_t = torch.nn.functional.embedding(torch.tensor(IDS), table)
    (y_t * torch.tensor(r)).sum().backward()
    np.testing.assert_allclose(y, y_t.detach().numpy(), rtol=0, atol=0)
    np.testing.assert_allclose(layer.grads["embeddings"], table.grad.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("ids, message", [
    (np.array([[1, 5]]), "token id 5 is outside"),
    (np.array([[1, -1]]), "token id -1 is outside"),
    (np.array([[1.0, 2.5]]), "integer token ids"),
    (np.array([["a", "b"]]), "integer token ids"),
])
def test_embedding_refuses_bad_ids_naming_the_fix(ids, message):
    with pytest.raises(ValueError, match=message):
        layers.Embedding(5, 3)(ids)


def test_embedding_out_of_range_ids_in_fit_are_a_clear_error():
    model = gn.Sequential([layers.Embedding(5, 3, input_shape=(4,)), layers.GlobalAveragePooling1D(),
                           layers.Dense(1)], seed=0)
    model.compile("adam", "mse")
    with pytest.raises(ValueError, match="input_dim"):
        model.fit(IDS + 2, np.zeros(3), verbose=0)


def test_embedding_config_roundtrip_and_keras2_input_length():
    check_config_roundtrip(layers.Embedding(7, 2, mask_zero=True, embeddings_regularizer="l2"))
    layer = layers.Embedding(7, 2, input_length=4)
    assert layer.input_shape == (None, 4)
    model = gn.Sequential([layer, layers.Flatten(), layers.Dense(1)], seed=0)
    assert model.output_shape == (None, 1) and model.layers[1].output_shape == (None, 8)
    twin = type(layer).from_config(json.loads(json.dumps(layer.get_config())))
    assert twin.get_config() == layer.get_config()
    with pytest.raises(ValueError, match="input_length=4"):
        layers.Embedding(7, 2, input_length=4).build((None, 6))


def test_embedding_default_initializer_is_keras_uniform():
    layer = layers.Embedding(1000, 8)
    layer.build((None, 3))
    table = layer.params["embeddings"]
    assert np.abs(table).max() <= 0.05 and table.std() > 0.02


def test_embedding_mask_zero_marks_padding():
    layer = layers.Embedding(5, 3, mask_zero=True)
    np.testing.assert_array_equal(layer.compute_mask(IDS), IDS != 0)
    assert layers.Embedding(5, 3).compute_mask(IDS) is None


def test_embedding_model_learns_and_saves(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(1, 20, (64, 6))
    y = (x == 7).any(axis=1).astype(np.float32)  # does token 7 occur?
    model = gn.Sequential([layers.Embedding(20, 8, input_shape=(6,)), layers.GlobalMaxPooling1D(),
                           layers.Dense(1, activation="sigmoid")], seed=0)
    model.compile(gn.optimizers.Adam(0.05), "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=30, batch_size=16, verbose=0)
    assert history.history["accuracy"][-1] == 1.0
    model.save(tmp_path / "m.keras")
    np.testing.assert_array_equal(gn.load_model(tmp_path / "m.keras").predict(x), model.predict(x))


@pytest.mark.parametrize("ragged", [[[1, 2, 3], [4, 5]], np.array([[1, 2, 3], [4, 5]], dtype=object)],
                         ids=["lists", "object-array"])
def test_ragged_sequences_are_a_clear_error_naming_padding(ragged):
    model = gn.Sequential([layers.Embedding(10, 3), layers.LSTM(2)], seed=0)
    model.build((None, None))
    model.compile("adam", "mse")
    with pytest.raises(ValueError, match=r"x holds sequences of different lengths \(lengths 2 to 3\).*gn\.utils\.pad_sequences.*mask_zero"):
        model.predict(ragged)
    with pytest.raises(ValueError, match="different lengths"):
        model.fit(ragged, [0.0, 1.0], verbose=0)


@pytest.mark.parametrize("dtype", ["int32", "int64"])
def test_an_integer_input_declared_as_keras_code_does_feeds_an_embedding(dtype, tmp_path):
    """``keras.Input(shape=(None,), dtype="int64")`` before an Embedding ports unchanged: the ids are
    read as whole-number floats (as without the dtype), in a graph and in a Sequential, and saved."""
    ids = np.array([[1, 2, 0], [3, 0, 0]])
    inputs = gn.Input(shape=(None,), dtype=dtype, name="ids")
    outputs = gn.layers.Dense(1)(gn.layers.LSTM(2)(gn.layers.Embedding(5, 3, mask_zero=True)(inputs)))
    for model in (gn.Model(inputs, outputs, seed=0),
                  gn.Sequential([gn.layers.Input((3,), dtype=dtype), gn.layers.Embedding(5, 3), gn.layers.GRU(2)], seed=0)):
        model.compile("adam", "mse")
        model.fit(ids, np.zeros((2, model.output_shape[-1])), epochs=1, verbose=0)
        model.save(tmp_path / "m.glassnet")
        assert np.array_equal(gn.load_model(tmp_path / "m.glassnet").predict(ids, verbose=0), model.predict(ids, verbose=0))


def test_an_input_of_another_dtype_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="dtype must be 'float32', 'float64', 'string' .* or an integer type"):
        gn.Input(shape=(3,), dtype="complex64")
