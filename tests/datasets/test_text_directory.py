"""text_dataset_from_directory: files, labels and splits as Keras reads a class-per-folder tree,
and training a TextVectorization model from it."""

import numpy as np
import pytest

import glassnet as gn
from glassnet.datasets import TextData, TextFolderSource, text_dataset_from_directory

REVIEWS = {"neg": ["dull and boring", "awful plot", "bad acting, bad film", "boring"],
           "pos": ["a great film", "great fun", "a joy to watch", "great acting"]}


@pytest.fixture
def reviews(tmp_path):
    for label, texts in REVIEWS.items():
        (tmp_path / label).mkdir()
        for i, text in enumerate(texts):
            (tmp_path / label / f"{i}.txt").write_text(text, encoding="utf-8")
    (tmp_path / "pos" / "notes.md").write_text("not a .txt file")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "x.txt").write_text("hidden")
    return tmp_path


def test_reads_texts_and_infers_labels_in_keras_order(reviews, capsys):
    data = text_dataset_from_directory(reviews, batch_size=None, shuffle=False)
    assert capsys.readouterr().out.strip() == "Found 8 files belonging to 2 classes."
    assert isinstance(data, TextData) and data.class_names == ["neg", "pos"]
    assert data.x.tolist() == REVIEWS["neg"] + REVIEWS["pos"]
    assert data.y.tolist() == [0] * 4 + [1] * 4
    assert [p.split("/")[-2:] for p in data.file_paths][:2] == [["neg", "0.txt"], ["neg", "1.txt"]]


def test_label_modes_max_length_and_class_names(reviews):
    kwargs = {"batch_size": None, "shuffle": False, "verbose": False}
    categorical = text_dataset_from_directory(reviews, label_mode="categorical", **kwargs)
    np.testing.assert_array_equal(categorical.y, np.eye(2)[[0] * 4 + [1] * 4])
    binary = text_dataset_from_directory(reviews, label_mode="binary", **kwargs)
    assert binary.y.shape == (8, 1) and binary.y.dtype == np.float32
    short = text_dataset_from_directory(reviews, max_length=4, **kwargs)
    assert short.x.tolist()[:2] == ["dull", "awfu"]
    only = text_dataset_from_directory(reviews, class_names=["pos"], **kwargs)
    assert only.x.tolist() == REVIEWS["pos"] and only.y.tolist() == [0] * 4


def test_validation_split_both_is_a_disjoint_cover(reviews):
    train, val = text_dataset_from_directory(reviews, batch_size=None, validation_split=0.25, subset="both",
                                             seed=1, verbose=False)
    assert len(train.x) == 6 and len(val.x) == 2
    assert sorted(train.file_paths + val.file_paths) == sorted(
        text_dataset_from_directory(reviews, batch_size=None, verbose=False).file_paths)
    again = text_dataset_from_directory(reviews, batch_size=None, validation_split=0.25, subset="validation",
                                        seed=1, verbose=False)
    assert again.file_paths == val.file_paths


def test_a_source_adapts_fits_and_predicts(reviews):
    source = text_dataset_from_directory(reviews, batch_size=3, seed=0, verbose=False)
    assert isinstance(source, TextFolderSource) and len(source) == 3
    x, y = source[0]
    assert x.dtype == object and len(x) == 3 and y.shape == (3,)
    vectorizer = gn.layers.TextVectorization(output_mode="multi_hot")
    vectorizer.adapt(source)
    model = gn.Sequential([vectorizer, gn.layers.Dense(1, activation="sigmoid")], seed=0)
    model.compile(optimizer=gn.optimizers.Adam(0.1), loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(source, epochs=30, verbose=0)
    assert model.evaluate(source, return_dict=True)["accuracy"] == 1.0
    arrays = text_dataset_from_directory(reviews, batch_size=None, verbose=False)
    model.fit(arrays, epochs=1, verbose=0)  # TextData goes to fit whole, as ImageData does
    assert model.predict(source).shape == (8, 1)


def test_bad_folders_and_files_are_reported(reviews, tmp_path_factory):
    (reviews / "neg" / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(ValueError, match=r"(?s)not UTF-8 text.*latin1\.txt"):
        text_dataset_from_directory(reviews, batch_size=None, verbose=False)
    with pytest.raises(FileNotFoundError, match="is not a directory"):
        text_dataset_from_directory(reviews / "missing")
    empty = tmp_path_factory.mktemp("empty")
    with pytest.raises(ValueError, match="has no class subfolders"):
        text_dataset_from_directory(empty)
    (empty / "a").mkdir()
    with pytest.warns(UserWarning, match="holds no texts"), pytest.raises(ValueError, match=r"No text files \(.txt\)"):
        text_dataset_from_directory(empty, verbose=False)
    with pytest.raises(ValueError, match="labels has 2 entries but .* holds 9 text files"):
        text_dataset_from_directory(reviews, labels=[0, 1], verbose=False)


@pytest.mark.parametrize("kwargs, match", [
    ({"label_mode": "sparse"}, "label_mode must be one of"),
    ({"batch_size": 0}, "batch_size"),
    ({"max_length": 0}, "max_length"),
    ({"validation_split": 0.2}, "subset="),
    ({"subset": "training"}, "needs a validation_split"),
    ({"validation_split": 0.2, "subset": "both"}, "pass a seed"),
])
def test_bad_arguments_are_refused(reviews, kwargs, match):
    with pytest.raises(ValueError, match=match):
        text_dataset_from_directory(reviews, verbose=False, **kwargs)


def test_unlabelled_batches_are_one_tuples_that_adapt_and_predict_read(reviews):
    """Keras yields the texts alone for labels=None; glassnet's batch-source contract is that
    source[i][0] is x (fit, predict and adapt read it so), hence (texts,): README says so."""
    source = text_dataset_from_directory(reviews, labels=None, batch_size=3, shuffle=False, verbose=False)
    batch = source[0]
    assert isinstance(batch, tuple) and len(batch) == 1 and batch[0].tolist() == REVIEWS["neg"][:3]
    vectorizer = gn.layers.TextVectorization(output_mode="multi_hot")
    vectorizer.adapt(source)
    model = gn.Sequential([gn.Input(shape=(1,), dtype="string"), vectorizer, gn.layers.Dense(1)], seed=0)
    assert model.predict(source, verbose=0).shape == (8, 1)
