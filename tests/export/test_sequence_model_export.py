"""A text model trained on Jane Austen's novels, saved, loaded and exported: ONNX Runtime gives
predict's numbers on real, padded token sequences at batch sizes 1 and 37."""

import re
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from onnx_helpers import onnx, run_onnx
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
