"""TextVectorization: scikit-learn's CountVectorizer as the oracle for tokens, n-grams and counts;
Keras' own rules (reserved indices, vocabulary order, its tf-idf formula) checked directly."""

import gzip
import string

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import CountVectorizer

import glassnet as gn
from shared_data import SHARED_DATA

TextVectorization = gn.layers.TextVectorization

AUSTEN = SHARED_DATA / "austen_books.csv.gz"
FALLBACK = ["It is a truth universally acknowledged, that a single man in possession of a good fortune,",
            "must be in want of a wife. However little known the feelings or views of such a man may be",
            "on his first entering a neighbourhood, this truth is so well fixed in the minds of the",
            "surrounding families, that he is considered the rightful property of some one or other",
            "of their daughters. \"My dear Mr. Bennet,\" said his lady to him one day, \"have you heard",
            "that Netherfield Park is let at last?\" Mr. Bennet replied that he had not."]


def _lines(n=300):
    """Real prose: the first non-empty lines of Pride and Prejudice (a fixed excerpt when absent)."""
    if not AUSTEN.exists():
        return np.array(FALLBACK, dtype=object)
    with gzip.open(AUSTEN, "rt") as f:
        books = pd.read_csv(f)
    text = books.loc[books.book == "prideprejudice", "text"].dropna()
    return text[text.str.strip() != ""].iloc[:n].to_numpy(dtype=object)


def _keras_standardize(s):
    # An independent spelling of "lower_and_strip_punctuation": Python's string.punctuation is
    # the same 32 characters as Keras' regex.
    return s.lower().translate(str.maketrans("", "", string.punctuation))


def _sklearn_counts(texts, queries, ngram_range=(1, 1), analyzer="word"):
    vec = CountVectorizer(preprocessor=_keras_standardize, token_pattern=r"\S+", lowercase=False,
                          ngram_range=ngram_range, analyzer=analyzer)
    vec.fit(texts)
    return vec, vec.transform(queries).toarray()


def _in_sklearn_order(vec, layer_output, layer):
    vocab = layer.get_vocabulary()
    columns = [vocab.index(t) for t in vec.get_feature_names_out()]
    return layer_output[:, columns]


def test_count_mode_matches_count_vectorizer_on_real_prose():
    texts = _lines()
    layer = TextVectorization(output_mode="count")
    layer.adapt(texts)
    vec, expected = _sklearn_counts(texts, texts)
    out = layer(texts)
    assert layer.vocabulary_size() == len(vec.vocabulary_) + 1  # + the OOV index 0
    np.testing.assert_array_equal(_in_sklearn_order(vec, out, layer), expected)
    assert not out[:, 0].any()  # every adapted token is known


def test_vocabulary_is_ordered_by_count_then_token_reversed_as_keras():
    texts = _lines()
    layer = TextVectorization(output_mode="multi_hot")
    layer.adapt(texts)
    vec, counts = _sklearn_counts(texts, texts)
    total = dict(zip(vec.get_feature_names_out(), counts.sum(axis=0)))
    vocab = layer.get_vocabulary()[1:]
    keys = [(total[t], t) for t in vocab]
    assert keys == sorted(keys, reverse=True)


def test_max_tokens_keeps_the_most_frequent_and_counts_the_rest_as_oov():
    texts = _lines()
    full = TextVectorization(output_mode="count")
    full.adapt(texts)
    layer = TextVectorization(max_tokens=20, output_mode="count")
    layer.adapt(texts)
    assert layer.get_vocabulary() == full.get_vocabulary()[:20]
    out, whole = layer(texts), full(texts)
    np.testing.assert_array_equal(out[:, 1:], whole[:, 1:20])
    np.testing.assert_array_equal(out[:, 0], whole[:, 20:].sum(axis=1))  # index 0 counts OOV tokens


def test_ngrams_match_count_vectorizer_ngram_range():
    texts = _lines(80)
    layer = TextVectorization(output_mode="count", ngrams=2)
    layer.adapt(texts)
    vec, expected = _sklearn_counts(texts, texts, ngram_range=(1, 2))
    np.testing.assert_array_equal(_in_sklearn_order(vec, layer(texts), layer), expected)
    bigrams = TextVectorization(output_mode="count", ngrams=(2,))
    bigrams.adapt(texts)
    assert all(t.count(" ") == 1 for t in bigrams.get_vocabulary()[1:])


def test_character_split_matches_count_vectorizer_char_analyzer():
    texts = np.array(["abc ab", "b c", "ccc a"], dtype=object)
    layer = TextVectorization(output_mode="count", split="character", standardize=None)
    layer.adapt(texts)
    vec = CountVectorizer(analyzer="char", lowercase=False).fit(texts)
    np.testing.assert_array_equal(_in_sklearn_order(vec, layer(texts), layer), vec.transform(texts).toarray())


def test_multi_hot_is_count_clipped_at_one_and_unknown_tokens_go_to_index_0():
    texts = _lines(100)
    layer = TextVectorization(output_mode="multi_hot")
    layer.adapt(texts)
    queries = np.array(["Zebra zebra the the", "quokka"], dtype=object)
    out = layer(queries)
    assert out.dtype == np.float32
    the = layer.get_vocabulary().index("the")
    assert out[0, 0] == 1 and out[0, the] == 1 and out[1, 0] == 1 and out.sum() == 3


def test_tf_idf_is_count_times_keras_idf():
    """Keras' idf is ln(1 + D / (1 + df)), not scikit-learn's smooth ln((1 + D) / (1 + df)) + 1,
    and it does not normalize rows; df is taken from CountVectorizer(binary=True) here. The OOV
    weight (index 0) is the mean of the learned ones, as Keras pads it."""
    texts = _lines()
    layer = TextVectorization(output_mode="tf_idf")
    layer.adapt(texts)
    vec, counts = _sklearn_counts(texts, texts)
    df = (counts > 0).sum(axis=0)
    idf = np.log(1 + len(texts) / (1 + df))
    np.testing.assert_allclose(_in_sklearn_order(vec, layer.idf_weights[None, :], layer)[0], idf, rtol=1e-6)
    assert layer.idf_weights[0] == pytest.approx(layer.idf_weights[1:].mean(), rel=1e-6)
    queries = np.array(["the man and the unseen word"], dtype=object)
    np.testing.assert_allclose(layer(queries), layer.idf_weights * TextVectorization(
        output_mode="count", vocabulary=layer.get_vocabulary())(queries), rtol=1e-6)


def test_int_mode_reserves_0_for_padding_and_1_for_oov_and_pads_or_truncates():
    layer = TextVectorization(output_mode="int", output_sequence_length=4)
    layer.adapt(["the cat sat", "the dog sat down", "the end"])
    vocab = layer.get_vocabulary()
    assert vocab[:2] == ["", "[UNK]"] and vocab[2] == "the"
    out = layer(["The cat ran!", "the the the the the the"])
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, [[2, vocab.index("cat"), 1, 0], [2, 2, 2, 2]])
    ragged = TextVectorization(vocabulary=vocab)  # no length: padded to the batch's longest
    np.testing.assert_array_equal(ragged(["cat", "the dog sat"]), [[vocab.index("cat"), 0, 0], [2, 6, 3]])


def test_standardize_and_split_options():
    texts = ["Hello, World! Hello"]
    for standardize, expected in [("lower", ["hello,", "world!", "hello"]),
                                  ("strip_punctuation", ["Hello", "World", "Hello"]),
                                  (None, ["Hello,", "World!", "Hello"]),
                                  (lambda s: s.replace("o", "0"), ["Hell0,", "W0rld!", "Hell0"])]:
        layer = TextVectorization(standardize=standardize, output_mode="count")
        layer.adapt(texts)
        assert sorted(layer.get_vocabulary()[1:]) == sorted(set(expected)), standardize
    whole = TextVectorization(split=None, output_mode="multi_hot")
    whole.adapt(["Big Cat", "big cat", "dog"])
    assert whole.get_vocabulary() == ["[UNK]", "big cat", "dog"]



def test_standardize_and_split_functions_that_return_the_wrong_kind_are_named():
    """A ported Keras function may return a list from standardize (an AttributeError, "'list' object
    has no attribute 'split'", came from inside the layer) or one string from split (read as its
    characters, silently). A generator of tokens stays fine."""
    texts = ["the cat sat"]
    with pytest.raises(TypeError, match=r"standardize function must return one string .* returned list"):
        TextVectorization(standardize=lambda s: s.split()).adapt(texts)
    with pytest.raises(TypeError, match=r"split function must return a list \(or iterable\) of strings .* "
                                        r"returned str 'the cat sat'"):
        TextVectorization(split=lambda s: s).adapt(texts)
    with pytest.raises(TypeError, match=r"split function .* returned list \[1, 2\]"):
        TextVectorization(split=lambda s: [1, 2]).adapt(texts)
    words = TextVectorization(split=lambda s: (w for w in s.split(" ")))
    words.adapt(texts)
    assert sorted(words.get_vocabulary()[2:]) == ["cat", "sat", "the"]

def test_pad_to_max_tokens_gives_a_fixed_width():
    layer = TextVectorization(max_tokens=10, output_mode="tf_idf", pad_to_max_tokens=True)
    layer.adapt(["a b", "b c"])
    out = layer(["a b z"])
    assert out.shape == (1, 10) and not out[0, 4:].any()


def test_vocabulary_from_a_list_or_a_file(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("cat\ndog\n", encoding="utf-8")
    from_file = TextVectorization(vocabulary=str(path))
    from_list = TextVectorization(vocabulary=["", "[UNK]", "cat", "dog"])
    assert from_file.get_vocabulary() == from_list.get_vocabulary() == ["", "[UNK]", "cat", "dog"]
    np.testing.assert_array_equal(from_file(["dog bird cat"]), [[3, 1, 2]])
    tfidf = TextVectorization(output_mode="tf_idf", vocabulary=["cat", "dog"], idf_weights=[1.0, 3.0])
    np.testing.assert_allclose(tfidf.idf_weights, [2.0, 1.0, 3.0])  # OOV: the mean


def test_adapt_reads_a_batch_source_and_a_pandas_series():
    texts = _lines(64)
    direct = TextVectorization()
    direct.adapt(texts)
    from_source = TextVectorization()
    from_source.adapt(gn.datasets.ArraySource(texts, np.zeros(len(texts)), batch_size=10))
    from_series = TextVectorization()
    from_series.adapt(pd.Series(texts))
    assert from_source.get_vocabulary() == direct.get_vocabulary() == from_series.get_vocabulary()


def test_adapt_steps_reads_only_the_first_batches():
    texts = np.array(["alpha beta", "beta", "gamma delta", "delta epsilon"], dtype=object)
    layer = TextVectorization()
    layer.adapt(texts, batch_size=1, steps=2)  # Keras: steps batches of batch_size strings
    assert layer.get_vocabulary() == ["", "[UNK]", "beta", "alpha"]
    source = gn.datasets.ArraySource(texts, np.zeros(4), batch_size=2)
    layer.adapt(source, steps=1)
    assert layer.get_vocabulary() == ["", "[UNK]", "beta", "alpha"]
    with pytest.raises(ValueError, match="steps must be a positive integer"):
        layer.adapt(texts, steps=0)
    with pytest.raises(ValueError, match="no batches"):
        TextVectorization().adapt(_EmptySource())


class _EmptySource(gn.datasets.BatchSource):
    def __len__(self):
        return 0


def test_config_round_trip_keeps_the_vocabulary_and_idf_weights():
    layer = TextVectorization(max_tokens=50, output_mode="tf_idf", ngrams=2)
    layer.adapt(_lines(50))
    clone = TextVectorization.from_config(layer.get_config())
    queries = _lines(60)[50:]
    np.testing.assert_array_equal(clone(queries), layer(queries))
    assert clone.get_vocabulary() == layer.get_vocabulary()


@pytest.mark.parametrize("bad, match", [
    (["fine", 3.5], r"\[1\] is float"),
    (["fine", None], r"\[1\] is NoneType"),
    ([["the", "cat"], ["a"]], "a list"),
    ("just one string", "single string"),
    ([], "empty"),
    (np.array([["a", "b"], ["c", "d"]]), r"shape \(2, 2\)"),
])
def test_bad_input_is_refused_clearly(bad, match):
    layer = TextVectorization(vocabulary=["a"])
    with pytest.raises(ValueError, match=match):
        layer(bad)
    with pytest.raises(ValueError, match=match):
        TextVectorization().adapt(bad)


def test_used_before_adapt_names_adapt():
    layer = TextVectorization(output_mode="multi_hot")
    for action in (lambda: layer(["a b"]), layer.get_vocabulary, layer.vocabulary_size):
        with pytest.raises(ValueError, match=r"adapt\(texts\)"):
            action()
    with pytest.raises(ValueError, match=r"adapt\(texts\)"):  # its width is unknown, so no model can be built
        gn.Sequential([gn.layers.Input(shape=(1,), dtype="string"), layer, gn.layers.Dense(1)])


@pytest.mark.parametrize("kwargs, match", [
    ({"max_tokens": 1}, "greater than 1"),
    ({"output_mode": "binary"}, "output_mode"),
    ({"standardize": "upper"}, "standardize"),
    ({"split": "comma"}, "split"),
    ({"ngrams": 0}, "ngrams"),
    ({"split": None, "ngrams": 2}, "needs a split"),
    ({"output_mode": "count", "output_sequence_length": 5}, "int"),
    ({"pad_to_max_tokens": True}, "max_tokens"),
    ({"output_mode": "tf_idf", "vocabulary": ["a"]}, "idf_weights"),
    ({"vocabulary": ["a", "[UNK]"]}, "reserved token"),
    ({"vocabulary": ["a", "a"]}, "repeats"),
])
def test_bad_arguments_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TextVectorization(**kwargs)


def test_adapt_after_building_into_a_model_cannot_change_the_width():
    layer = TextVectorization(output_mode="multi_hot", vocabulary=["a", "b"])
    gn.Sequential([layer, gn.layers.Dense(1)]).build((None,))
    with pytest.raises(ValueError, match="before building the model"):
        layer.adapt(["a b c d"])


def test_holds_no_parameters_and_returns_no_input_gradient():
    layer = TextVectorization(output_mode="count", vocabulary=["a"])
    layer(["a"])
    assert layer.count_params() == 0 and not layer.trainable
    assert layer.backward(np.ones((1, 2), np.float32)) is None


@pytest.mark.parametrize("looked_at", [np.array(["the cat sat"]), np.array([["the cat sat"]])])
def test_calling_it_on_texts_first_does_not_fix_the_models_input_shape(looked_at):
    """Keras tutorials call the adapted layer on a few texts to look at the ids, then build the
    model around it: the look at (N,) texts must not tie it to (N,) when the model takes (N, 1),
    nor the other way round."""
    layer = TextVectorization(output_sequence_length=4)
    layer.adapt(["the cat sat", "a dog ran"])
    assert layer(looked_at).shape == (1, 4)
    layer.adapt(["the cat sat", "a dog ran", "new words now"])  # still free to learn another vocabulary
    for first in ([gn.Input(shape=(1,), dtype="string")], []):
        model = gn.Sequential([*first, layer, gn.layers.Embedding(16, 2), gn.layers.GRU(2)], seed=0)
        assert model.predict(np.array(["a dog"] if not first else [["a dog"]]), verbose=0).shape == (1, 2)


def test_a_list_of_one_string_lists_reads_as_the_array_does():
    # np.array([["a dog"]]) worked while the same nested list was refused as "ragged tokens?".
    layer = TextVectorization(output_sequence_length=3)
    layer.adapt([["the cat sat"], ["a dog ran"]])
    texts = [["a dog"], ["the cat"]]
    np.testing.assert_array_equal(layer(texts), layer(np.array(texts)))
    model = gn.Sequential([gn.Input(shape=(1,), dtype="string"), layer, gn.layers.Embedding(16, 2),
                           gn.layers.GRU(2)], seed=0)
    np.testing.assert_array_equal(model.predict(texts, verbose=0), model.predict(np.array(texts), verbose=0))
