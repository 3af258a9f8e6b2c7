"""Models that take raw strings: a TextVectorization first, fit and predict on text, and the
vocabulary carried through save and load_model as plain data."""

import json

import numpy as np
import pytest

import glassnet as gn
from glassnet.saving import container

TEXTS = np.array(["a wonderful film, great acting", "dull and boring", "great fun, a joy", "awful, boring plot",
                  "great great film", "bad", "a joy to watch", "boring and bad acting"], dtype=object)
LABELS = np.array([1, 0, 1, 0, 1, 0, 1, 0])
QUERIES = ["a great joy", "boring bad plot", "never seen words"]


def _vectorizer(mode):
    layer = gn.layers.TextVectorization(output_mode=mode, ngrams=2)
    layer.adapt(TEXTS)
    return layer


def _sequential(mode):
    model = gn.Sequential([_vectorizer(mode), gn.layers.Dense(1, activation="sigmoid")], seed=0)
    model.compile(optimizer=gn.optimizers.Adam(0.1), loss="binary_crossentropy", metrics=["accuracy"])
    return model


@pytest.mark.parametrize("mode", ["multi_hot", "count", "tf_idf"])
def test_sequential_fits_on_strings_and_predicts_raw_strings_after_load(tmp_path, mode):
    model = _sequential(mode)
    history = model.fit(TEXTS, LABELS, epochs=30, batch_size=4, verbose=0)
    assert history.history["accuracy"][-1] == 1.0
    before = model.predict(QUERIES)
    assert before.shape == (3, 1) and before[0, 0] > 0.5 > before[1, 0]
    model.save(tmp_path / "m.glassnet")
    loaded = gn.load_model(tmp_path / "m.glassnet")
    np.testing.assert_array_equal(loaded.predict(QUERIES), before)
    assert loaded.layers[0].get_vocabulary() == model.layers[0].get_vocabulary()


def test_the_vocabulary_is_stored_as_json_in_the_model_file(tmp_path):
    model = _sequential("tf_idf")
    model.fit(TEXTS, LABELS, epochs=1, verbose=0)
    model.save(tmp_path / "m.glassnet")
    doc, tensors = container.decode((tmp_path / "m.glassnet").read_bytes(), "m", (container.MODEL_FORMAT,))
    config = doc["model"]["config"]["layers"][0]["config"]
    assert config["vocabulary"] == model.layers[0].get_vocabulary()
    np.testing.assert_array_equal(np.float32(config["idf_weights"]), model.layers[0].idf_weights)
    json.dumps(doc)  # plain data only


@pytest.mark.parametrize("shape", [(1,), ()])
def test_graph_model_with_a_string_input(tmp_path, shape):
    inputs = gn.Input(shape=shape, dtype="string", name="review")
    outputs = gn.layers.Dense(1, activation="sigmoid")(_vectorizer("multi_hot")(inputs))
    model = gn.Model(inputs, outputs, seed=0)
    model.compile(optimizer=gn.optimizers.Adam(0.1), loss="binary_crossentropy", metrics=["accuracy"])
    x = TEXTS.reshape(-1, 1) if shape else TEXTS
    model.fit(x, LABELS, epochs=30, batch_size=4, verbose=0, validation_data=(TEXTS, LABELS))
    assert model.evaluate(TEXTS, LABELS, return_dict=True)["accuracy"] == 1.0
    before = model.predict(QUERIES)
    np.testing.assert_array_equal(model.predict({"review": QUERIES}), before)
    model.save(tmp_path / "g.glassnet")
    np.testing.assert_array_equal(gn.load_model(tmp_path / "g.glassnet").predict(QUERIES), before)


def test_same_seed_same_weights_on_text():
    weights = []
    for _ in range(2):
        model = _sequential("count")
        model.fit(TEXTS, LABELS, epochs=3, batch_size=3, verbose=0, validation_split=0.25)
        weights.append(model.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


def test_strings_to_a_model_without_text_layer_are_refused_with_the_fix():
    model = gn.Sequential([gn.layers.Dense(1, input_shape=(1,))], seed=0)
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match="TextVectorization"):
        model.fit(TEXTS.reshape(-1, 1), LABELS.astype(float), verbose=0)
    with pytest.raises(ValueError, match="TextVectorization"):
        model.predict(TEXTS.reshape(-1, 1))


def test_a_string_input_needs_a_text_layer_next():
    with pytest.raises(ValueError, match="cannot read the string input"):
        gn.layers.Dense(2)(gn.Input(shape=(1,), dtype="string"))
    with pytest.raises(ValueError, match="cannot read the string input"):
        gn.Sequential([gn.layers.Input(shape=(1,), dtype="string"), gn.layers.Dense(2)])


def test_non_strings_to_a_text_model_are_refused():
    model = _sequential("multi_hot")
    with pytest.raises(ValueError, match=r"x\[1\] is float"):
        model.predict(["fine", np.nan])
    with pytest.raises(ValueError, match=r"x\[0\] is a list"):
        model.fit([["a", "list"], ["of", "tokens", "!"]], [0, 1], verbose=0)


def test_a_function_standardize_works_but_is_refused_for_saving(tmp_path):
    layer = gn.layers.TextVectorization(output_mode="multi_hot", standardize=lambda s: s.upper())
    layer.adapt(TEXTS)
    model = gn.Sequential([layer, gn.layers.Dense(1)], seed=0)
    assert model.predict(QUERIES).shape == (3, 1)
    with pytest.raises(ValueError, match="standardize=.*never holds code"):
        model.save(tmp_path / "m.glassnet")
    assert not (tmp_path / "m.glassnet").exists()


def test_explain_diagnose_and_a_nested_text_model_take_strings():
    model = _sequential("multi_hot")
    model.fit(TEXTS, LABELS, epochs=2, verbose=0, diagnose=True, validation_split=0.25)
    lines = []
    model.explain(TEXTS[:4], LABELS[:4], print_fn=lines.append)
    report = "\n".join(lines)
    assert "text_vectorization" in report and "gradient norms: input none (raw strings)" in report
    outer = gn.Sequential([model, gn.layers.Dense(1)], seed=0)
    assert outer.predict(QUERIES).shape == (3, 1)


def test_a_string_input_model_file_names_its_float_type(tmp_path):
    model = gn.Sequential([gn.layers.Input(shape=(), dtype="string"),
                           gn.layers.TextVectorization(output_mode="count", vocabulary=["a", "b"]),
                           gn.layers.Dense(2)], seed=0)
    model.save(tmp_path / "m.glassnet")
    assert gn.saving.inspect(tmp_path / "m.glassnet")["dtype"] == "float32"
    np.testing.assert_array_equal(gn.load_model(tmp_path / "m.glassnet").predict(["a b b"]), model.predict(["a b b"]))


def test_a_graph_skips_the_input_gradient_of_the_layer_after_a_text_vectorization():
    class RecordingDense(gn.layers.Dense):
        asked = []

        def backward_logits(self, grad):  # the output layer: its sigmoid is fused with the loss
            self.asked.append(self.needs_input_grad)
            return super().backward_logits(grad)

    inputs = gn.Input(shape=(1,), dtype="string")
    dense = RecordingDense(1, activation="sigmoid")
    model = gn.Model(inputs, dense(_vectorizer("multi_hot")(inputs)), seed=0)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(TEXTS, LABELS, epochs=1, batch_size=8, verbose=0)
    assert RecordingDense.asked == [False]  # dL/dx of (N, vocabulary) would be one wasted matrix product
