"""Recurrent states in graph models: ``return_state`` gives a list of tensors, ``initial_state``
takes tensors (Keras' encoder-decoder), and gradients flow back through the states (the ONNX export:
tests/export/test_graph_state_export.py)."""

import contextlib
import io

import numpy as np
import pytest

import glassnet as gn
from glassnet import layers

RNG = np.random.default_rng(5)
X_ENC = RNG.normal(size=(4, 5, 3))
X_DEC = RNG.normal(size=(4, 3, 2))
Y = RNG.integers(0, 3, (4, 3))


def encoder_decoder(cell=layers.LSTM, dtype="float32"):
    enc_in, dec_in = gn.Input((5, 3), name="enc_in", dtype=dtype), gn.Input((3, 2), name="dec_in", dtype=dtype)
    _, *states = cell(4, return_state=True, dtype=dtype, name="encoder")(enc_in)
    dec = cell(4, return_sequences=True, dtype=dtype, name="decoder")(dec_in, initial_state=states)
    return gn.Model([enc_in, dec_in], layers.Dense(3, activation="softmax", dtype=dtype)(dec), seed=0)


def test_return_state_gives_the_output_and_each_state_as_tensors():
    x = gn.Input((5, 3))
    lstm = layers.LSTM(4, return_state=True)
    out, h, c = lstm(x)
    assert (out.shape, h.shape, c.shape) == ((None, 4), (None, 4), (None, 4))
    model = gn.Model(x, [out, h, c], seed=0)
    for got, expected in zip(model.predict(X_ENC), lstm(X_ENC.astype("float32"))):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("cell", [layers.LSTM, layers.GRU, layers.SimpleRNN])
def test_a_decoder_starts_from_the_encoders_states(cell):
    model = encoder_decoder(cell)
    encoder, decoder = model.get_layer("encoder"), model.get_layer("decoder")
    _, *states = encoder(X_ENC.astype("float32"))
    expected = decoder(X_DEC.astype("float32"), initial_state=states)
    values = {}
    model.forward([X_ENC.astype("float32"), X_DEC.astype("float32")], values=values)
    np.testing.assert_array_equal(values[id(model.outputs[0].node.inputs[0])], expected)


@pytest.mark.parametrize("cell", [layers.LSTM, layers.GRU])
def test_gradients_flow_back_through_the_states(cell):
    model = encoder_decoder(cell, dtype="float64")
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    result = gn.gradcheck.check_gradients(model, [X_ENC, X_DEC], Y)
    assert result.passed, result
    # the encoder reaches the loss only through the states it hands the decoder
    assert np.abs(model.get_layer("encoder").grads["kernel"]).max() > 1e-4


def test_an_encoder_decoder_saves_and_loads(tmp_path):
    model = encoder_decoder()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit([X_ENC, X_DEC], Y, epochs=2, verbose=0)
    model.save(tmp_path / "seq2seq.glassnet")
    loaded = gn.load_model(tmp_path / "seq2seq.glassnet")
    np.testing.assert_array_equal(loaded.predict([X_ENC, X_DEC]), model.predict([X_ENC, X_DEC]))


def bidirectional_encoder_decoder(dtype="float32"):
    """Keras' translation model with a bidirectional encoder: its two directions' states, joined,
    start the decoder (twice as wide)."""
    enc_in, dec_in = gn.Input((5, 3), name="enc_in", dtype=dtype), gn.Input((3, 2), name="dec_in", dtype=dtype)
    _, h_f, c_f, h_b, c_b = layers.Bidirectional(layers.LSTM(4, return_state=True, dtype=dtype), dtype=dtype,
                                                 name="encoder")(enc_in)
    h, c = layers.Concatenate(dtype=dtype)([h_f, h_b]), layers.Concatenate(dtype=dtype)([c_f, c_b])
    dec = layers.LSTM(8, return_sequences=True, dtype=dtype, name="decoder")(dec_in, initial_state=[h, c])
    return gn.Model([enc_in, dec_in], layers.Dense(3, activation="softmax", dtype=dtype)(dec), seed=0)


def test_a_bidirectional_encoder_hands_its_states_to_the_decoder(tmp_path):
    model = bidirectional_encoder_decoder(dtype="float64")
    assert [t.shape for t in model.get_layer("encoder").nodes[0].outputs] == [(None, 8)] + [(None, 4)] * 4
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    result = gn.gradcheck.check_gradients(model, [X_ENC, X_DEC], Y)
    assert result.passed, result
    # the encoder reaches the loss only through the states
    assert np.abs(model.get_layer("encoder").grads["backward_kernel"]).max() > 1e-4
    model = bidirectional_encoder_decoder()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit([X_ENC, X_DEC], Y, epochs=2, verbose=0)
    model.save(tmp_path / "seq2seq.glassnet")
    loaded = gn.load_model(tmp_path / "seq2seq.glassnet")
    np.testing.assert_array_equal(loaded.predict([X_ENC, X_DEC]), model.predict([X_ENC, X_DEC]))


def test_a_bidirectional_decoder_starts_from_two_encoders_states():
    enc_in, dec_in = gn.Input((5, 3), dtype="float64"), gn.Input((3, 2), dtype="float64")
    _, *ahead = layers.LSTM(4, return_state=True, dtype="float64")(enc_in)
    _, *behind = layers.LSTM(4, return_state=True, go_backwards=True, dtype="float64")(enc_in)
    dec = layers.Bidirectional(layers.LSTM(4, return_sequences=True, dtype="float64"), dtype="float64",
                               name="decoder")(dec_in, initial_state=[*ahead, *behind])
    model = gn.Model([enc_in, dec_in], layers.Dense(3, activation="softmax", dtype="float64")(dec), seed=0)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    result = gn.gradcheck.check_gradients(model, [X_ENC, X_DEC], Y)
    assert result.passed, result
    with pytest.raises(ValueError, match=r"initial_state must be a list of 4 tensor\(s\) of shapes"):
        layers.Bidirectional(layers.LSTM(4))(dec_in, initial_state=ahead)


def test_bidirectional_without_merging_gives_both_directions():
    x = gn.Input((5, 3), dtype="float64")
    forward, backward = layers.Bidirectional(layers.GRU(3, return_sequences=True, dtype="float64"),
                                             merge_mode=None, dtype="float64")(x)
    assert forward.shape == backward.shape == (None, 5, 3)
    y = layers.Dense(3, activation="softmax", dtype="float64")(forward)  # the backward half unused
    model = gn.Model(x, y, seed=0)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    assert gn.gradcheck.check_gradients(model, X_ENC, RNG.integers(0, 3, (4, 5))).passed


def test_initial_state_of_the_wrong_shape_is_refused():
    x, h = gn.Input((5, 3)), gn.Input((7,))
    with pytest.raises(ValueError, match=r"initial_state must be a list of 2 tensor\(s\) of shape \(None, 4\)"):
        layers.LSTM(4)(x, initial_state=[h, h])


def test_inspect_names_the_states_a_call_reads(tmp_path):
    from glassnet.cli import main

    encoder_decoder().save(tmp_path / "seq2seq.glassnet")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["inspect", str(tmp_path / "seq2seq.glassnet")])
    assert code == 0 and "<- dec_in[0], encoder[0][1], encoder[0][2]" in out.getvalue()
