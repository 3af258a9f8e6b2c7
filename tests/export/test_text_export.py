"""Models that take raw strings, exported to ONNX: ONNX Runtime vectorizes Jane Austen's lines as
``predict`` does (the settings that export), refuses the others with what to do, and
``include_text_vectorization=False`` exports the rest with the layer's config in the metadata."""

import json

import numpy as np
import pandas as pd
import pytest
from onnx_helpers import assert_onnx_matches_predict, onnx, run_onnx
from shared_data import SHARED_DATA

import glassnet as gn
from glassnet import layers
from glassnet.export import ExportError
from glassnet.export.converters.text import LOWER_LOCALE, OTHER_WHITESPACE

AUSTEN = SHARED_DATA / "austen_books.csv.gz"


@pytest.fixture(scope="module")
def lines():
    """Non-empty lines of the six novels: 3,000 to adapt on, the rest to vectorize."""
    if not AUSTEN.exists():
        pytest.skip(f"{AUSTEN} is absent")
    text = pd.read_csv(AUSTEN)["text"].dropna().astype(str)
    return text[text.str.strip() != ""].to_numpy(dtype=object)


def text_model(lines, dense: bool = True, **settings):
    vectorizer = layers.TextVectorization(**settings)
    vectorizer.adapt(lines[:3000])
    head = [layers.Dense(4, activation="softmax")] if dense else []
    model = gn.Sequential([layers.Input((1,), dtype="string", name="line"), vectorizer, *head], seed=0)
    for layer in model.layers:  # a bias of zeros would hide a dropped Add
        for value in layer.params.values():
            value[...] = np.random.default_rng(0).normal(0, 0.5, value.shape)
    return model


EXPORTED = {
    "int-default": dict(output_sequence_length=20),  # lower_and_strip_punctuation
    "tf_idf-default-bigrams": dict(output_mode="tf_idf", ngrams=2, max_tokens=1500),
    "count-strip-whole-line": dict(standardize="strip_punctuation", split=None, output_mode="count"),
    "int-lower": dict(standardize="lower", output_sequence_length=20),  # cut and padded
    "int-ragged": dict(standardize=None),  # as wide as the batch's longest line
    "int-ngrams": dict(standardize="lower", ngrams=(1, 3), output_sequence_length=40),
    "count": dict(standardize="lower", output_mode="count", max_tokens=800),
    "multi_hot-padded": dict(standardize="lower", output_mode="multi_hot", max_tokens=900, pad_to_max_tokens=True),
    "count-whole-line": dict(standardize="lower", split=None, output_mode="count"),
}


@pytest.mark.parametrize("case", sorted(EXPORTED))
def test_onnx_runtime_vectorizes_austen_as_predict(lines, case):
    settings = EXPORTED[case]
    model = text_model(lines, dense=settings.get("output_mode", "int") != "int", **settings)
    proto = None
    for batch in (lines[5000:5001], lines[6000:6037]):
        proto = assert_onnx_matches_predict(model, batch.reshape(-1, 1), proto)
    assert [i.name for i in proto.graph.input] == ["line"]
    assert {(o.domain, o.version) for o in proto.opset_import} == {("", gn.export.TEXT_OPSET), ("ai.onnx.ml", 3)}
    assert proto.ir_version == gn.export.TEXT_IR_VERSION


@pytest.mark.parametrize("standardize", ["lower", None])
def test_every_whitespace_python_splits_on_splits_the_same(standardize):
    spaces = "".join(OTHER_WHITESPACE)
    assert len(OTHER_WHITESPACE) == 28 and " " not in spaces  # with the space: str.isspace's 29
    texts = np.array([text for c in OTHER_WHITESPACE
                      for text in (f"{c}Emma{c}{c}Knightley {c}", f"Mr.\tWoodhouse\n\n{c}said{c}", "", spaces,
                                   " Harriet ")],
                     dtype=object).reshape(-1, 1)
    vectorizer = layers.TextVectorization(standardize=standardize, output_mode="int")
    vectorizer.adapt(texts[:40])
    model = gn.Sequential([vectorizer], seed=0)
    model.build((None, 1))
    assert_onnx_matches_predict(model, texts)


def test_lowercasing_matches_python_except_the_two_documented_characters():
    """The converter's claim: C.UTF-8 lowers every character as str.lower, except U+0130 (İ) and a
    word-final capital sigma (a rule of context, not of the character)."""
    from onnx import TensorProto, helper

    chars = np.array([chr(c) for c in range(0x10000) if not 0xD800 <= c < 0xE000], dtype=object)
    node = helper.make_node("StringNormalizer", ["x"], ["y"], case_change_action="LOWER", locale=LOWER_LOCALE)
    graph = helper.make_graph([node], "lower", [helper.make_tensor_value_info("x", TensorProto.STRING, [None])],
                              [helper.make_tensor_value_info("y", TensorProto.STRING, [None])])
    lowered = run_onnx(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)]), [chars])[0]
    assert [c for c, low in zip(chars, lowered) if c.lower() != low] == ["\u0130"]
    assert run_onnx(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)]),
                    [np.array(["ΟΔΟΣ"], dtype=object)])[0][0] == "οδοσ" != "ΟΔΟΣ".lower()


def test_punctuation_is_stripped_as_the_regex_strips_it():
    from glassnet.export.converters.text import PUNCTUATION

    assert "".join(PUNCTUATION) == "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"  # all of ASCII's, Keras' set
    texts = np.array([[f"{p}Emma{p}{p}Wood{p}house {p} {p}{p} said{p}"] for p in PUNCTUATION]
                     + [["".join(PUNCTUATION)], [""], ["--"], ["Mr. Knightley--\"well-bred,\" she said;"]],
                     dtype=object)
    for settings in (dict(output_mode="int"), dict(split=None, output_mode="int"), dict(output_mode="count")):
        vectorizer = layers.TextVectorization(**settings)
        vectorizer.adapt(texts[:20])
        model = gn.Sequential([layers.Input((1,), dtype="string"), vectorizer], seed=0)
        assert_onnx_matches_predict(model, texts)


@pytest.mark.parametrize("settings, named", [
    ({"split": "character"}, "split='character' cuts strings into characters"),
    ({"standardize": str.upper}, "standardize is a Python function"),
])
def test_settings_without_an_exact_export_are_refused_with_what_to_do(settings, named):
    vectorizer = layers.TextVectorization(name="words", output_mode="count", **settings)
    vectorizer.adapt(["Emma Woodhouse, handsome, clever, and rich"])
    model = gn.Sequential([vectorizer, layers.Dense(2)], seed=0)
    model.build((None,))
    with pytest.raises(ExportError, match=f"TextVectorization 'words' .*{named}.*"
                                          r"model.export\(path, include_text_vectorization=False\).*"
                                          "retrain with settings that export"):
        gn.export.to_onnx(model)


def vectorize_from_metadata(proto, texts):
    """What a deployer does with a file exported without its TextVectorization: rebuild the
    layer from the JSON in metadata_props, vectorize, feed the ONNX input it names."""
    entries = json.loads({p.key: p.value for p in proto.metadata_props}["text_vectorization"])
    (entry,) = entries.values()
    layer = getattr(gn.layers, entry["class_name"]).from_config(entry["config"])
    return {entry["onnx_input"]: layer(texts)}


def test_without_text_vectorization_the_graph_takes_its_output_and_the_metadata_rebuilds_it(lines):
    model = text_model(lines, output_mode="tf_idf", max_tokens=500)
    proto = gn.export.to_onnx(model, include_text_vectorization=False)
    vectorizer = model.layers[1]
    assert [i.name for i in proto.graph.input] == [vectorizer.name]
    entries = json.loads({p.key: p.value for p in proto.metadata_props}["text_vectorization"])
    config = entries[vectorizer.name]["config"]
    assert config["vocabulary"] == vectorizer.get_vocabulary()
    assert config["standardize"] == "lower_and_strip_punctuation"
    assert config["output_mode"] == "tf_idf" and config["ngrams"] is None
    np.testing.assert_array_equal(np.float32(config["idf_weights"]), vectorizer.idf_weights)
    assert [(o.domain, o.version) for o in proto.opset_import] == [("", gn.export.OPSET)]  # no string operator
    for texts in (lines[7000:7001], lines[7000:7037]):
        feeds = vectorize_from_metadata(proto, texts)
        got = run_onnx(proto, list(feeds.values()))[0]
        np.testing.assert_allclose(got, model.predict(texts), rtol=1e-5, atol=1e-5)


def test_a_graph_model_without_text_vectorization_keeps_its_other_inputs(lines):
    vectorizer = layers.TextVectorization(output_mode="int", output_sequence_length=8, name="ids")
    vectorizer.adapt(lines[:500])
    text, extra = gn.Input((1,), dtype="string", name="line"), gn.Input((3,), name="extra")
    model = gn.Model([text, extra], {"ids": vectorizer(text), "score": layers.Dense(2)(extra)}, seed=0)
    proto = gn.export.to_onnx(model, include_text_vectorization=False)
    assert [i.name for i in proto.graph.input] == ["ids", "extra"]
    x = [lines[:37].reshape(-1, 1), np.random.default_rng(0).normal(size=(37, 3)).astype("float32")]
    expected = model.predict(x)
    got = run_onnx(proto, [vectorizer(x[0]), x[1]])
    np.testing.assert_array_equal(got[0], expected["ids"])
    np.testing.assert_allclose(got[1], expected["score"], rtol=1e-5, atol=1e-5)
    inside = gn.export.to_onnx(model)  # and with it: the strings go in
    assert [i.name for i in inside.graph.input] == ["line", "extra"]
    np.testing.assert_array_equal(run_onnx(inside, x)[0], expected["ids"])


def test_include_text_vectorization_false_without_one_is_refused():
    model = gn.Sequential([layers.Dense(2, input_shape=(3,))], seed=0)
    with pytest.raises(ExportError, match="no TextVectorization.*without that option"):
        gn.export.to_onnx(model, include_text_vectorization=False)


def test_a_saved_text_model_exports_from_its_file(lines, tmp_path):
    model = text_model(lines, standardize="lower", output_mode="multi_hot", max_tokens=300)
    model.save(tmp_path / "m.glassnet")
    gn.load_model(tmp_path / "m.glassnet").export(tmp_path / "m.onnx")
    proto = onnx.load(str(tmp_path / "m.onnx"))
    texts = lines[9000:9037].reshape(-1, 1)
    np.testing.assert_allclose(run_onnx(proto, [texts])[0], model.predict(texts), rtol=1e-5, atol=1e-5)
