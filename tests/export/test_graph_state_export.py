"""Graph models with recurrent states exported to ONNX: return_state's tensors as outputs or as
another layer's initial_state (an encoder-decoder), Bidirectional(merge_mode=None)."""

import numpy as np
import pytest
from onnx_helpers import assert_onnx_matches_predict, randomize

import glassnet as gn
from glassnet import layers

RNG = np.random.default_rng(11)


def encoder_input(masked: bool):
    """The encoder's input, and what it reads: token ids through a masking Embedding, or features."""
    if masked:
        enc_in = gn.Input((6,), name="enc_ids")
        return enc_in, layers.Embedding(9, 3, mask_zero=True)(enc_in)
    enc_in = gn.Input((6, 3), name="enc_in")
    return enc_in, enc_in


def encoder_decoder(cell, masked: bool = False, go_backwards: bool = False):
    enc_in, x = encoder_input(masked)
    dec_in = gn.Input((4, 2), name="dec_in")
    _, *states = cell(5, return_state=True, name="encoder")(x)
    dec = cell(5, return_sequences=True, go_backwards=go_backwards, name="decoder")(dec_in, initial_state=states)
    return gn.Model([enc_in, dec_in], [layers.Dense(3)(dec), *states], seed=0)


def inputs(model, batch: int):
    enc = model.inputs[0]
    if len(enc.shape) == 2:  # token ids, padded anywhere; one sample all padding
        ids = RNG.integers(1, 9, (batch, enc.shape[1])) * (RNG.random((batch, enc.shape[1])) > 0.3)
        ids[0] = 0
        first = ids  # int64, as an exported Embedding input takes them
    else:
        first = RNG.normal(size=(batch, *enc.shape[1:])).astype("float32")
    return [first, RNG.normal(size=(batch, 4, 2)).astype("float32")]


@pytest.mark.parametrize("cell", [layers.LSTM, layers.GRU, layers.SimpleRNN], ids=lambda c: c.__name__)
@pytest.mark.parametrize("variant", ["plain", "masked", "backwards"])
def test_an_encoder_decoder_exports_with_its_states(cell, variant):
    model = encoder_decoder(cell, masked=variant == "masked", go_backwards=variant == "backwards")
    randomize(model)
    proto = None
    for batch in (1, 7):
        proto = assert_onnx_matches_predict(model, inputs(model, batch), proto)


def test_bidirectional_without_merging_exports_both_directions():
    x = gn.Input((6, 3))
    forward, backward = layers.Bidirectional(layers.GRU(4, return_sequences=True), merge_mode=None)(x)
    model = gn.Model(x, [forward, layers.GlobalAveragePooling1D()(backward)], seed=0)
    randomize(model)
    assert_onnx_matches_predict(model, [RNG.normal(size=(5, 6, 3)).astype("float32")])


@pytest.mark.parametrize("backward_layer", [None, "its own"], ids=["mirrored", "own-backward-layer"])
@pytest.mark.parametrize("masked", [False, True], ids=["plain", "masked"])
def test_a_bidirectional_encoder_exports_its_states(backward_layer, masked):
    # One ONNX bidirectional operator for mirror copies, two single-direction ones otherwise.
    enc_in, x = encoder_input(masked)
    dec_in = gn.Input((4, 2), name="dec_in")
    own = None if backward_layer is None else layers.LSTM(5, return_state=True, go_backwards=True,
                                                          recurrent_activation="hard_sigmoid")
    _, h_f, c_f, h_b, c_b = layers.Bidirectional(layers.LSTM(5, return_state=True), backward_layer=own)(x)
    h, c = layers.Concatenate()([h_f, h_b]), layers.Concatenate()([c_f, c_b])
    dec = layers.LSTM(10, return_sequences=True)(dec_in, initial_state=[h, c])
    model = gn.Model([enc_in, dec_in], [layers.Dense(3)(dec), h_b], seed=0)
    randomize(model)
    proto = None
    for batch in (1, 6):
        proto = assert_onnx_matches_predict(model, inputs(model, batch), proto)


def test_a_bidirectional_layer_started_from_states_exports():
    enc_in, dec_in = gn.Input((6, 3), name="enc_in"), gn.Input((4, 2), name="dec_in")
    _, *ahead = layers.GRU(5, return_state=True)(enc_in)
    _, *behind = layers.GRU(5, return_state=True, go_backwards=True)(enc_in)
    dec = layers.Bidirectional(layers.GRU(5, return_sequences=True))(dec_in, initial_state=[*ahead, *behind])
    model = gn.Model([enc_in, dec_in], layers.Dense(3)(dec), seed=0)
    randomize(model)
    assert_onnx_matches_predict(model, inputs(model, 5))
