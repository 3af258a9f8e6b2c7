"""Time-step masks through graph models: merging layers combine their inputs' masks (Keras 3's
rules), and a model used as a layer takes its input's mask and hands its output's on."""

import numpy as np
import pytest

import glassnet as gn
from glassnet import layers

N, T, V = 5, 6, 7
RNG = np.random.default_rng(3)
IDS_A = RNG.integers(1, V, (N, T)) * (RNG.random((N, T)) > 0.3)  # 0 = padding, holes anywhere
IDS_B = RNG.integers(1, V, (N, T)) * (RNG.random((N, T)) > 0.3)
KEPT_A, KEPT_B = IDS_A != 0, IDS_B != 0


def test_merge_masks_follow_keras_rules():
    x = [np.zeros((N, T, 2)), np.zeros((N, T, 2))]
    assert layers.Add().compute_mask(x, None) is None
    np.testing.assert_array_equal(layers.Add().compute_mask(x, [KEPT_A, None]), KEPT_A)
    np.testing.assert_array_equal(layers.Multiply().compute_mask(x, [KEPT_A, KEPT_B]), KEPT_A & KEPT_B)
    np.testing.assert_array_equal(layers.Concatenate(axis=1).compute_mask(x, [KEPT_A, None]),
                                  np.concatenate([KEPT_A, np.ones((N, T), bool)], axis=1))
    np.testing.assert_array_equal(layers.Concatenate().compute_mask(x, [KEPT_A, KEPT_B]), KEPT_A | KEPT_B)
    assert layers.Dot(axes=2).compute_mask(x, [KEPT_A, KEPT_B]) is None


def _two_embeddings():
    a, b = gn.Input((T,), name="a"), gn.Input((T,), name="b")
    return a, b, layers.Embedding(V, 3, mask_zero=True)(a), layers.Embedding(V, 3, mask_zero=True)(b)


@pytest.mark.parametrize("merge, mask", [
    (lambda: layers.Add(), KEPT_A & KEPT_B),
    (lambda: layers.Average(), KEPT_A & KEPT_B),
    (lambda: layers.Concatenate(), KEPT_A | KEPT_B),
], ids=["Add", "Average", "Concatenate-features"])
def test_a_recurrent_layer_after_a_merge_skips_the_combined_padding(merge, mask):
    a, b, ea, eb = _two_embeddings()
    merged = merge()([ea, eb])
    lstm = layers.LSTM(4)
    model = gn.Model([a, b], lstm(merged), seed=0)
    values = {}
    model.forward([IDS_A.astype("float32"), IDS_B.astype("float32")], values=values)
    np.testing.assert_array_equal(values[id(model.outputs[0])], lstm.forward(values[id(merged)], mask=mask))


def test_concatenating_along_time_joins_the_masks():
    a, b, ea, eb = _two_embeddings()
    joined = layers.Concatenate(axis=1)([ea, eb])
    gru = layers.GRU(4, return_sequences=True)
    model = gn.Model([a, b], layers.GlobalAveragePooling1D()(gru(joined)), seed=0)
    values = {}
    y = model.forward([IDS_A.astype("float32"), IDS_B.astype("float32")], values=values)[0]
    mask = np.concatenate([KEPT_A, KEPT_B], axis=1)
    steps = gru.forward(values[id(joined)], mask=mask)
    np.testing.assert_allclose(y, (steps * mask[..., None]).sum(1) / mask.sum(1, keepdims=True), rtol=1e-6)


def _flat_and_nested(nest):
    """The same layers twice: as one Sequential, and with the recurrent part nested as a model."""
    embedding, lstm, pooling = layers.Embedding(V, 3, mask_zero=True), layers.LSTM(4, return_sequences=True), \
        layers.GlobalAveragePooling1D()
    flat = gn.Sequential([layers.Input((T,)), embedding, lstm, pooling], seed=0)
    ids = gn.Input((T,))
    nested = gn.Model(ids, pooling(nest(lstm)(embedding(ids))), seed=0)
    return flat, nested


def _inner_graph(lstm):
    x = gn.Input((T, 3))
    return gn.Model(x, lstm(x), name="inner")


@pytest.mark.parametrize("nest", [lambda lstm: gn.Sequential([layers.Input((T, 3)), lstm], name="inner"),
                                  _inner_graph], ids=["Sequential", "Model"])
def test_a_nested_model_takes_its_input_mask_and_hands_its_output_mask_on(nest):
    flat, nested = _flat_and_nested(nest)
    np.testing.assert_array_equal(nested.predict(IDS_A), flat.predict(IDS_A))


def test_a_nested_model_that_makes_a_mask_hands_it_on():
    inner = gn.Sequential([layers.Input((T,)), layers.Embedding(V, 3, mask_zero=True)], name="embed")
    ids = gn.Input((T,))
    lstm = layers.LSTM(4)
    model = gn.Model(ids, lstm(inner(ids)), seed=0)
    expected = lstm.forward(inner.predict(IDS_A), mask=KEPT_A)
    np.testing.assert_array_equal(model.predict(IDS_A), expected)


def test_labels_at_padded_steps_do_not_change_training_through_a_merge():
    y = RNG.integers(0, 3, (N, T))
    kept = KEPT_A & KEPT_B
    weights = []
    for labels in (y, np.where(kept, y, (y + 1) % 3)):
        a, b, ea, eb = _two_embeddings()
        out = layers.Dense(3, activation="softmax")(layers.GRU(4, return_sequences=True)(layers.Add()([ea, eb])))
        model = gn.Model([a, b], out, seed=0)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit([IDS_A, IDS_B], labels, epochs=2, batch_size=2, verbose=0)
        weights.append(model.get_weights())
    for p, q in zip(*weights):
        np.testing.assert_array_equal(p, q)


def test_symbolic_mask_argument_is_refused_with_the_way_masks_flow():
    # Used to fail with "float() argument must be ... not 'SymbolicTensor'".
    x = gn.Input((5, 3))
    m = gn.Input((5,))
    with pytest.raises(TypeError, match=r"'rnn_m'.*mask=.*Embedding\(\.\.\., mask_zero=True\).*Masking"):
        gn.layers.LSTM(4, name="rnn_m")(x, mask=m)
