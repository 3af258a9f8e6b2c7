"""glassnet train on text: a folder of .txt files or a CSV text column, through a TextVectorization
first layer whose vocabulary the saved model carries (it then predicts on raw strings)."""

import json

import numpy as np
import pandas as pd
import pytest
from cli_helpers import only_run_folder, run_cli

import glassnet as gn

POSITIVE = ["a great film", "great fun and a joy", "a joy to watch", "great acting, great plot", "wonderful film",
            "a wonderful joy", "fun fun fun", "great great"]
NEGATIVE = ["dull and boring", "awful plot", "bad acting, bad film", "boring", "awful, dull film", "bad bad",
            "a boring mess", "dull acting"]


def _write_folder(root):
    for label, texts in (("neg", NEGATIVE), ("pos", POSITIVE)):
        (root / label).mkdir(parents=True)
        for i, text in enumerate(texts):
            (root / label / f"{i:02d}.txt").write_text(text, encoding="utf-8")
    return root


def _run(tmp_path, data_table: str, layers: str = "", capsys=None):
    """(exit code, stdout, or stderr when it failed with capsys given, the run folder or None)."""
    config = tmp_path / "text.toml"
    config.write_text(f'name = "reviews"\nseed = 0\n\n[data]\n{data_table}\ntest_size = 0.25\n\n'
                      f'[fit]\nepochs = 40\nbatch_size = 4\n{layers}', encoding="utf-8")
    code, stdout = run_cli("train", config, "--out", tmp_path / "runs", "--quiet")
    if code != 0 and capsys is not None:
        stdout = capsys.readouterr().err
    return code, stdout, only_run_folder(tmp_path / "runs") if code == 0 else None


def test_train_a_text_classifier_from_a_folder_of_text_files(tmp_path):
    root = _write_folder(tmp_path / "reviews")
    code, stdout, folder = _run(tmp_path, f'source = "text_folder"\npath = "{root}"', """
[[layers]]
type = "TextVectorization"
output_mode = "multi_hot"

[[layers]]
type = "Dense"
units = 1
activation = "sigmoid"

[compile]
optimizer = {type = "Adam", learning_rate = 0.1}
""")
    assert code == 0, stdout
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["n_test"] == 4 and metrics["test_accuracy"] >= 0.75
    assert metrics["class_names"] == ["neg", "pos"]
    model = gn.load_model(folder / "model.glassnet")
    probabilities = model.predict(["a great joy", "boring and awful"])
    assert probabilities[0, 0] > 0.5 > probabilities[1, 0]
    # evaluate and predict read text too: labelled subfolders, and a flat folder of new files
    code, stdout = run_cli("evaluate", folder / "model.glassnet", root, "--json")
    assert code == 0 and json.loads(stdout)["n_samples"] == 16
    new = tmp_path / "new"
    new.mkdir()
    (new / "a.txt").write_text("a great joy", encoding="utf-8")
    (new / "b.txt").write_text("boring and awful", encoding="utf-8")
    code, _ = run_cli("predict", folder / "model.glassnet", new, "-o", tmp_path / "p.csv")
    rows = pd.read_csv(tmp_path / "p.csv")
    assert code == 0 and rows["label"].tolist() == ["pos", "neg"]


def test_train_from_a_csv_text_column_with_the_default_network(tmp_path):
    rows = [(t, "pos") for t in POSITIVE] + [(t, "neg") for t in NEGATIVE] + [(np.nan, "pos"), ("   ", "neg")]
    path = tmp_path / "reviews.csv"
    pd.DataFrame(rows, columns=["review", "label"]).to_csv(path, index=False)
    code, stdout, folder = _run(tmp_path, f'source = "csv"\npath = "{path}"\ntarget = "label"\ntext = "review"')
    assert code == 0, stdout
    log = (folder / "train.log").read_text()
    assert "2 rows without text left out" in log and "TextVectorization" in log
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["n_test"] == 4 and metrics["class_names"] == ["neg", "pos"]
    model = gn.load_model(folder / "model.glassnet")
    assert model.layers[0].get_config()["output_mode"] == "tf_idf"
    assert model.predict(["a great joy"]).shape == (1, 1)
    code, stdout = run_cli("evaluate", folder / "model.glassnet", path, "--target", "label", "--json")
    assert code == 0 and json.loads(stdout)["n_samples"] == 17  # the blank row is text too
    code, _ = run_cli("predict", folder / "model.glassnet", path, "-o", tmp_path / "p.csv")
    assert code == 0 and len(pd.read_csv(tmp_path / "p.csv")) == 17


def test_text_data_without_a_text_layer_first_is_refused_with_an_example(tmp_path, capsys):
    root = _write_folder(tmp_path / "reviews")
    code, stdout, _ = _run(tmp_path, f'source = "text_folder"\npath = "{root}"', """
[[layers]]
type = "Dense"
units = 1
activation = "sigmoid"
""", capsys)
    assert code != 0
    assert "layers[0].type" in stdout and 'type = "TextVectorization"' in stdout


@pytest.mark.parametrize("table, match", [
    ('source = "csv"\npath = "{path}"\ntarget = "label"\ntext = "body"', "text column 'body' is not in"),
    ('source = "text_folder"\npath = "{path}/missing"', "missing does not exist"),
])
def test_bad_text_sources_are_named(tmp_path, capsys, table, match):
    path = tmp_path / "reviews.csv"
    pd.DataFrame({"review": POSITIVE, "label": ["pos"] * len(POSITIVE)}).to_csv(path, index=False)
    code, stdout, _ = _run(tmp_path, table.format(path=path if "csv" in table else tmp_path), capsys=capsys)
    assert code != 0 and match in stdout


def test_a_wrapper_layer_takes_its_layer_as_a_nested_table(tmp_path):
    """``layer = {type = "LSTM", ...}`` inside Bidirectional / TimeDistributed, as a config writes a
    wrapped layer (the same table form as every other layer); it used to reach the wrapper as a dict."""
    root = _write_folder(tmp_path / "reviews")
    code, stdout, folder = _run(tmp_path, f'source = "text_folder"\npath = "{root}"', """
[[layers]]
type = "TextVectorization"
output_sequence_length = 6

[[layers]]
type = "Embedding"
input_dim = 64
output_dim = 4
mask_zero = true

[[layers]]
type = "Bidirectional"
layer = {type = "LSTM", units = 3, return_sequences = true}
backward_layer = {type = "GRU", units = 3, return_sequences = true, go_backwards = true}

[[layers]]
type = "TimeDistributed"
layer = {type = "Dense", units = 2, activation = "relu"}

[[layers]]
type = "GlobalAveragePooling1D"

[[layers]]
type = "Dense"
units = 1
activation = "sigmoid"
""")
    assert code == 0, stdout
    model = gn.load_model(folder / "model.glassnet")
    assert [type(layer).__name__ for layer in (model.layers[2].forward_layer, model.layers[2].backward_layer,
                                               model.layers[3].layer)] == ["LSTM", "GRU", "Dense"]


def test_a_bad_nested_layer_is_named_with_its_place(tmp_path, capsys):
    root = _write_folder(tmp_path / "reviews")
    code, stdout, _ = _run(tmp_path, f'source = "text_folder"\npath = "{root}"', """
[[layers]]
type = "TextVectorization"

[[layers]]
type = "Embedding"
input_dim = 64
output_dim = 4

[[layers]]
type = "Bidirectional"
layer = {type = "LTSM", units = 3}
""", capsys)
    assert code != 0
    assert "layers[2].layer.type" in stdout and "unknown layer type 'LTSM'" in stdout and "LSTM" in stdout


TEXT_SEARCH = """name = "reviews-search"
seed = 0

[data]
source = "text_folder"
path = "{root}"
test_size = 0.25

[tune]
strategy = "grid"

[[layers]]
type = "TextVectorization"
output_sequence_length = {length}

[[layers]]
type = "Embedding"
input_dim = 64
output_dim = 4
mask_zero = true

[[layers]]
type = "Bidirectional"
layer = {{type = "GRU", units = {{choice = [2, 3]}}}}

[[layers]]
type = "Dense"
units = 1
activation = "sigmoid"

[fit]
epochs = 2
batch_size = 4
validation_split = 0.25
"""


def test_tune_searches_a_text_model_whose_vocabulary_comes_from_the_training_texts(tmp_path):
    """Each trial's TextVectorization gets the vocabulary learned once from the training texts; it
    used to adapt to a stand-in array of zeros and fail ('data[0] is float 0.0')."""
    root = _write_folder(tmp_path / "reviews")
    config = tmp_path / "search.toml"
    config.write_text(TEXT_SEARCH.format(root=root, length=6), encoding="utf-8")
    code, stdout = run_cli("tune", config, "--out", tmp_path / "runs", "--quiet")
    assert code == 0, stdout
    folder = only_run_folder(tmp_path / "runs")
    board = pd.read_csv(folder / "leaderboard.csv")
    assert sorted(board["units"]) == [2, 3] and set(board["state"]) == {"complete"}
    model = gn.load_model(folder / "model.glassnet")
    assert "great" in model.layers[0].get_vocabulary() and model.predict(["a great joy"]).shape == (1, 1)


def test_tune_refuses_to_search_the_text_layer_naming_its_line(tmp_path, capsys):
    root = _write_folder(tmp_path / "reviews")
    config = tmp_path / "search.toml"
    config.write_text(TEXT_SEARCH.format(root=root, length="{choice = [4, 6]}"), encoding="utf-8")
    code, _ = run_cli("tune", config, "--out", tmp_path / "runs", "--quiet")
    message = capsys.readouterr().err
    assert code != 0 and "line 14: layers[0].output_sequence_length" in message
    assert "learned once from the training texts" in message
