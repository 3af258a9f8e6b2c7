"""Masks over time steps: Masking, Embedding(mask_zero=True), and the layers and models that honour them."""

import numpy as np
import pytest
from harness import check_layer, random_input

import glassnet as gn
from glassnet import layers
from glassnet.gradcheck import compare_gradients, numeric_gradient

TOKENS = np.array([[3, 1, 4, 1], [5, 9, 2, 6]])


def _pad(ids, before, after):
    return np.pad(ids, ((0, 0), (before, after)))


def test_masking_zeroes_and_marks_padded_steps():
    x = random_input((2, 4, 3))
    x[0, 2:] = 0.0
    y = layers.Masking()(x)
    np.testing.assert_array_equal(layers.Masking().compute_mask(x), [[True, True, False, False], [True] * 4])
    np.testing.assert_array_equal(y, x)
    x[1, 1] = -1.0
    np.testing.assert_array_equal(layers.Masking(mask_value=-1.0).compute_mask(x)[1], [True, False, True, True])
    np.testing.assert_array_equal(layers.Masking(mask_value=-1.0)(x)[1, 1], 0.0)


def test_masking_contract():
    check_layer(layers.Masking(mask_value=0.5), (3, 4, 2))  # no entry equals 0.5: the mask is all True


@pytest.mark.parametrize("recurrent", [layers.SimpleRNN, layers.LSTM, layers.GRU], ids=lambda c: c.__name__)
@pytest.mark.parametrize("before, after", [(0, 3), (3, 0), (2, 1)], ids=["post", "pre", "both"])
def test_padding_changes_nothing_in_a_sequential_model(recurrent, before, after):
    model = gn.Sequential([layers.Embedding(10, 4, mask_zero=True), layers.Dropout(0.5), layers.Dense(5),
                           recurrent(3), layers.Dense(1)], seed=0)
    model.build((None, None))
    np.testing.assert_allclose(model.predict(_pad(TOKENS, before, after)), model.predict(TOKENS), rtol=1e-6)


@pytest.mark.parametrize("pooling", [layers.GlobalAveragePooling1D, layers.GlobalMaxPooling1D],
                         ids=lambda c: c.__name__)
def test_padding_changes_nothing_through_global_pooling(pooling):
    model = gn.Sequential([layers.Embedding(10, 4, mask_zero=True), pooling(), layers.Dense(1)], seed=0)
    model.build((None, None))
    np.testing.assert_allclose(model.predict(_pad(TOKENS, 1, 3)), model.predict(TOKENS), rtol=1e-6)


def test_masking_layer_before_a_recurrent_layer():
    x = random_input((2, 4, 3)).astype(np.float32)
    padded = np.concatenate([x, np.zeros((2, 3, 3), np.float32)], axis=1)
    model = gn.Sequential([layers.Masking(), layers.LSTM(5, return_sequences=True), layers.GlobalAveragePooling1D(),
                           layers.Dense(1)], seed=0)
    model.build((None, None, 3))
    np.testing.assert_allclose(model.predict(padded), model.predict(x), rtol=1e-6)


def test_padding_changes_nothing_in_a_graph_model():
    inputs = gn.Input((None,))
    h = layers.Embedding(10, 4, mask_zero=True)(inputs)
    h = layers.GRU(3, return_sequences=True)(h)
    outputs = layers.Dense(1)(layers.GlobalMaxPooling1D()(h))
    model = gn.Model(inputs, outputs, seed=0)
    np.testing.assert_allclose(model.predict(_pad(TOKENS, 0, 2)), model.predict(TOKENS), rtol=1e-6)


def test_a_masked_model_trains_and_its_whole_gradient_checks():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 7, 32)
    ids = rng.integers(1, 6, (32, 6)) * (np.arange(6) < lengths[:, None])  # right-padded with 0
    y = (ids == 3).any(axis=1).astype(np.float64)[:, None]
    model = gn.Sequential([layers.Embedding(6, 4, mask_zero=True, input_shape=(6,), dtype="float64"),
                           layers.LSTM(4, dtype="float64"), layers.Dense(1, activation="sigmoid", dtype="float64")],
                          seed=0)
    model.compile(gn.optimizers.Adam(0.05), "binary_crossentropy", metrics=["accuracy"])
    assert gn.gradcheck.check_gradients(model, ids[:8], y[:8]).passed
    history = model.fit(ids, y, epochs=40, batch_size=8, verbose=0)
    assert history.history["accuracy"][-1] >= 0.95


@pytest.mark.parametrize("recurrent", [layers.SimpleRNN, layers.LSTM, layers.GRU], ids=lambda c: c.__name__)
def test_explain_and_diagnose_run_on_a_recurrent_model(recurrent):
    ids = np.array([[1, 2, 0, 0], [3, 1, 2, 4]])
    model = gn.Sequential([layers.Embedding(5, 3, mask_zero=True, input_shape=(4,)), recurrent(2),
                           layers.Dense(2, activation="softmax")], seed=0)
    model.compile("adam", "sparse_categorical_crossentropy")
    lines = []
    report = model.explain(ids, np.array([0, 1]), print_fn=lines.append)
    text = "\n".join(map(str, lines))
    assert model.layers[1].name in text and model.layers[0].name in text
    assert report is not None
    model.fit(ids, np.array([0, 1]), epochs=2, verbose=0, diagnose=True)


@pytest.mark.parametrize("pooling", [layers.GlobalAveragePooling1D, layers.GlobalMaxPooling1D],
                         ids=lambda c: c.__name__)
def test_masked_global_pooling_gradients(pooling):
    layer = pooling(dtype="float64")
    x = random_input((3, 5, 2))
    mask = np.array([[1, 1, 0, 0, 0], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0]], bool)
    y = layer.forward(x, mask=mask)
    expected = x[0, :2].mean(axis=0) if pooling is layers.GlobalAveragePooling1D else x[0, :2].max(axis=0)
    np.testing.assert_allclose(y[0], expected, rtol=1e-15)
    np.testing.assert_array_equal(y[2], 0.0)  # masked throughout
    r = random_input(y.shape, 1)
    dx = layer.backward(r)
    numeric = numeric_gradient(lambda: float(np.sum(r * layer.forward(x, mask=mask))), x)
    assert compare_gradients("input", dx, numeric, 1e-7).passed
    assert np.all(dx[~mask] == 0)


def test_a_mask_of_the_wrong_shape_in_pooling_is_a_clear_error():
    with pytest.raises(ValueError, match=r"mask must be a boolean array \(N, T\) = \(2, 4\)"):
        layers.GlobalAveragePooling1D().forward(np.ones((2, 4, 3)), mask=np.ones((2, 3), bool))


def test_explain_shows_each_recurrent_layers_own_formula():
    from glassnet.diagnostics.explain import formula

    assert "c_t = f c_{t-1} + i g" in formula(layers.LSTM(2))
    assert "h_t = z h_{t-1} + (1 - z) n" in formula(layers.GRU(2))
    assert formula(layers.SimpleRNN(2)).startswith("h_t = act(")
