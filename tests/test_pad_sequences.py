"""gn.utils.pad_sequences: keras.utils.pad_sequences' arguments and defaults (pad and cut in
front), and padded ragged token lists feeding a masked recurrent model."""

import numpy as np
import pytest

import glassnet as gn

RAGGED = [[4, 7], [3, 9, 9, 2], [5]]


@pytest.mark.parametrize("padding, truncating, expected", [
    ("pre", "pre", [[0, 4, 7], [9, 9, 2], [0, 0, 5]]),
    ("post", "pre", [[4, 7, 0], [9, 9, 2], [5, 0, 0]]),
    ("pre", "post", [[0, 4, 7], [3, 9, 9], [0, 0, 5]]),
    ("post", "post", [[4, 7, 0], [3, 9, 9], [5, 0, 0]]),
])
def test_pads_and_cuts_at_the_side_asked(padding, truncating, expected):
    out = gn.utils.pad_sequences(RAGGED, maxlen=3, padding=padding, truncating=truncating)
    assert out.dtype == np.int32 and out.tolist() == expected


def test_defaults_to_the_longest_and_pads_steps_of_features_with_value():
    assert gn.utils.pad_sequences(RAGGED).tolist() == [[0, 0, 4, 7], [3, 9, 9, 2], [0, 0, 0, 5]]
    steps = [np.ones((2, 3)), np.full((1, 3), 2.0)]
    out = gn.utils.pad_sequences(steps, dtype="float32", padding="post", value=-1.0)
    assert out.shape == (2, 2, 3) and out[1, 1].tolist() == [-1.0] * 3 and out[1, 0].tolist() == [2.0] * 3
    assert gn.utils.pad_sequences([[], [1]]).tolist() == [[0], [1]]


@pytest.mark.parametrize("sequences, kwargs, match", [
    (RAGGED, {"padding": "left"}, "padding must be 'pre' or 'post'"),
    (["a cat", "a dog"], {}, "sequences\\[0\\] is str .*TextVectorization"),
    ([np.ones((2, 3)), np.ones((2, 4))], {}, "steps of the sequences differ in shape"),
    (RAGGED, {"maxlen": -1}, "maxlen must be >= 0"),
])
def test_bad_arguments_are_named(sequences, kwargs, match):
    with pytest.raises(ValueError, match=match):
        gn.utils.pad_sequences(sequences, **kwargs)


def test_padded_ids_with_a_mask_predict_what_each_sequence_alone_does():
    model = gn.Sequential([gn.layers.Embedding(10, 4, mask_zero=True), gn.layers.LSTM(3)], seed=0)
    model.build((None, 4))
    padded = gn.utils.pad_sequences(RAGGED)
    for row, sequence in zip(model.predict(padded, verbose=0), RAGGED):
        alone = gn.Sequential([gn.layers.Embedding(10, 4, mask_zero=True), gn.layers.LSTM(3)], seed=0)
        alone.build((None, len(sequence)))
        alone.set_weights(model.get_weights())
        np.testing.assert_allclose(row, alone.predict(np.array([sequence]), verbose=0)[0], rtol=1e-6, atol=1e-7)
