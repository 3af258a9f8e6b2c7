"""Sequence models in ONNX Runtime: a text model trained on Jane Austen's novels, saved, loaded and
exported, and the networks of examples 13-15 on real inputs (passages, characters, CO2 weeks), at
batch sizes 1 and 37."""

import re
import runpy
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from onnx_helpers import assert_onnx_matches_predict, onnx, randomize, run_onnx
from shared_data import SHARED_DATA

import glassnet as gn
from glassnet import layers

AUSTEN = SHARED_DATA / "austen_books.csv.gz"
LENGTH = 12  # tokens per line, padded with id 0 at the end
VOCAB = 300  # the most frequent words; id 1 for any other, 0 for padding


@pytest.fixture(scope="module")
def lines():
    """(token ids (N, LENGTH) int64, labels (N, 1)): lines of Emma (0) and Persuasion (1)."""
    if not AUSTEN.exists():
        pytest.skip(f"{AUSTEN} is absent")
    df = pd.read_csv(AUSTEN).dropna()
    df = pd.concat([df[df.book == book].iloc[200:900] for book in ("emma", "persuasion")])
    words = [re.findall(r"[a-z']+", text.lower()) for text in df.text]
    vocabulary = {w: i + 2 for i, (w, _) in enumerate(Counter(w for ws in words for w in ws).most_common(VOCAB))}
    ids = np.zeros((len(words), LENGTH), dtype=np.int64)
    for row, ws in zip(ids, words):
        tokens = [vocabulary.get(w, 1) for w in ws[:LENGTH]]
        row[:len(tokens)] = tokens
    order = np.random.default_rng(0).permutation(len(ids))
    return ids[order], (df.book.to_numpy() == "persuasion").astype("float32")[order, None]


def test_a_trained_saved_and_loaded_text_model_exports_the_same_numbers(lines, tmp_path):
    ids, labels = lines
    assert (ids[:, -1] == 0).any() and (ids[:, -1] != 0).any()  # padded lines and full ones
    model = gn.Sequential([
        layers.Embedding(VOCAB + 2, 8, mask_zero=True, input_shape=(LENGTH,)),
        layers.Bidirectional(layers.LSTM(8, return_sequences=True, dropout=0.2)),
        layers.GRU(8, recurrent_dropout=0.2), layers.Dense(1, activation="sigmoid")], seed=0)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(ids[:1000], labels[:1000], batch_size=50, epochs=2, verbose=0)
    model.save(tmp_path / "austen.glassnet")
    gn.load_model(tmp_path / "austen.glassnet").export(tmp_path / "austen.onnx")
    proto = onnx.load(str(tmp_path / "austen.onnx"))
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.INT64  # token ids
    held_out = ids[1000:]
    for n in (1, 37):
        np.testing.assert_allclose(run_onnx(proto, [held_out[:n]])[0], model.predict(held_out[:n]),
                                   rtol=1e-5, atol=1e-5)


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def austen_text():
    if not AUSTEN.exists():
        pytest.skip(f"{AUSTEN} is absent")
    return pd.read_csv(AUSTEN).dropna()


def test_which_novel_model_takes_raw_passages(austen_text):  # examples/13_austen_which_novel.py's own build
    build = runpy.run_path(str(EXAMPLES / "13_austen_which_novel.py"))["glassnet_model"]
    texts = austen_text.text.to_numpy(dtype=object)
    model = build(texts[:3000], 6)
    randomize(model)
    passages = np.array([" ".join(texts[i:i + 10]) for i in range(5000, 5000 + 37 * 10, 10)], dtype=object)
    for n in (1, 37):
        assert_onnx_matches_predict(model, passages[:n])


def test_character_lstm_on_real_character_ids(austen_text):  # examples/14_austen_char_lm.py's network
    text = "\n".join(austen_text.text.iloc[:4000])
    chars = sorted(set(text))
    lookup = {c: i + 1 for i, c in enumerate(chars)}
    ids = np.array([lookup[c] for c in text[:37 * 64]], dtype=np.int64).reshape(37, 64)
    model = gn.Sequential([layers.Embedding(len(chars) + 1, 32, input_shape=(64,)),
                           layers.LSTM(128, return_sequences=True),
                           layers.Dense(len(chars) + 1, activation="softmax")], seed=0)
    # The layers' own initial weights (orthogonal recurrent kernel): weights drawn at N(0, 0.5)
    # make a 128-unit recurrence chaotic over 64 steps, where float32 rounding grows past 1e-5.
    model.layers[1].params["bias"][...] = np.random.default_rng(0).normal(0, 0.5, 4 * 128)
    for n in (1, 37):
        assert_onnx_matches_predict(model, ids[:n])


def test_co2_forecaster_on_real_windows():  # examples/15_co2_forecast.py's network
    co2 = pytest.importorskip("statsmodels.datasets.co2").load_pandas().data["co2"].interpolate().to_numpy()
    scaled = ((co2 - co2.mean()) / co2.std()).astype("float32")
    windows = np.stack([scaled[i:i + 156] for i in range(0, 37 * 20, 20)])[..., None]
    model = gn.Sequential([layers.Conv1D(16, 5, strides=2, activation="relu", input_shape=(156, 1)),
                           layers.GRU(32), layers.Dense(104)], seed=0)
    randomize(model)
    for n in (1, 37):
        assert_onnx_matches_predict(model, windows[:n])
