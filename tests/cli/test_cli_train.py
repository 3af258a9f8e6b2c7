"""glassnet train: the default run, a run from a config, option overrides, and the run folder's files."""

import csv
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
from cli_helpers import only_run_folder, run_cli

RUN_FILES = ("model.glassnet", "config.toml", "history.csv", "metrics.json", "curves.png",
             "confusion_matrix.png", "train.log", "report.html")


def read_history(folder: Path) -> list[dict]:
    with open(folder / "history.csv", newline="") as f:
        return list(csv.DictReader(f))


def check_png(path: Path) -> None:
    image = matplotlib.image.imread(path)  # raises on a file that is not a PNG
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100


def test_default_train_learns_digits_and_says_where_the_results_are(default_run):
    code, stdout, folder = default_run
    assert code == 0
    assert f"Results: {folder}" in stdout and "report.html" in stdout
    assert "Conv2D" in stdout  # the default is a CNN
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["test_accuracy"] > 0.85 and metrics["n_test"] == 360
    assert sum(map(sum, metrics["confusion_matrix"])) == 360


def test_every_file_of_the_run_folder_is_well_formed(default_run):
    _, _, folder = default_run
    assert folder.name.startswith("digits-cnn-")
    for name in (*RUN_FILES, "samples.png"):
        assert (folder / name).is_file(), name
    rows = read_history(folder)
    metrics = json.loads((folder / "metrics.json").read_text())
    assert len(rows) == metrics["epochs_trained"] == 8
    assert {"epoch", "loss", "accuracy", "val_loss", "val_accuracy"} <= set(rows[0])
    assert float(rows[-1]["loss"]) < float(rows[0]["loss"])
    for png in folder.glob("*.png"):
        check_png(png)
    config = tomllib.loads((folder / "config.toml").read_text())
    assert config["data"]["source"] == "digits" and config["layers"][0]["type"] == "Conv2D"
    log = (folder / "train.log").read_text()
    assert "Epoch 1/8" in log and "Epoch 8/8" in log and "Test metrics" in log
    page = (folder / "report.html").read_text()
    assert page.count('src="data:image/png;base64,') == len(list(folder.glob("*.png")))
    assert "http://" not in page and "https://" not in page and "<script" not in page


def test_the_saved_model_and_config_reproduce_the_run(default_run, tmp_path):
    import glassnet as gn
    from glassnet.datasets import digits

    _, _, folder = default_run
    model = gn.load_model(folder / "model.glassnet")
    _, (x_test, y_test) = digits.load_data()
    accuracy = (model.predict(x_test).argmax(1) == y_test).mean()  # raw 0..16 pixels: the model rescales
    assert abs(accuracy - json.loads((folder / "metrics.json").read_text())["test_accuracy"]) < 1e-9
    # The resolved config trains again as it is.
    code, _ = run_cli("train", folder / "config.toml", "--out", tmp_path, "--epochs", 1, "--quiet")
    assert code == 0
    assert len(read_history(only_run_folder(tmp_path))) == 1


def test_a_config_trains_a_table_classifier_with_roc_and_options_override_it(table_run):
    code, stdout, folder, _ = table_run
    assert code == 0, stdout
    assert folder.name.startswith("table-mlp-")
    config = tomllib.loads((folder / "config.toml").read_text())
    assert config["fit"]["epochs"] == 4 and config["fit"]["batch_size"] == 16  # --epochs 4 --batch-size 16
    assert config["seed"] == 1 and config["layers"][-1]["activation"] == "sigmoid"
    assert len(read_history(folder)) == 4
    metrics = json.loads((folder / "metrics.json").read_text())
    assert 0.5 <= metrics["test_roc_auc"] <= 1 and metrics["class_names"] == ["no", "yes"]
    check_png(folder / "roc.png")
    assert not (folder / "samples.png").exists()  # no images, no sample grid
    assert "ROC curve" in (folder / "report.html").read_text()


def test_seed_name_and_log_every_options(tmp_path):
    code, stdout = run_cli("train", "--out", tmp_path, "--epochs", 4, "--seed", 5, "--name", "mine",
                           "--log-every", 2)
    assert code == 0
    folder = only_run_folder(tmp_path)
    assert folder.name.startswith("mine-")
    assert tomllib.loads((folder / "config.toml").read_text())["seed"] == 5
    epoch_lines = [line for line in stdout.splitlines() if line.startswith("Epoch ")]
    assert [line.split(" - ")[0] for line in epoch_lines] == ["Epoch 2/4", "Epoch 4/4"]


def test_quiet_prints_only_the_run_folder(tmp_path):
    code, stdout = run_cli("train", "--out", tmp_path, "--epochs", 1, "--quiet")
    assert code == 0
    assert stdout.strip() == str(only_run_folder(tmp_path))


def test_train_as_a_subprocess_prints_plain_progress_lines(tmp_path):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    result = subprocess.run([sys.executable, "-m", "glassnet.cli", "train", "--epochs", "2", "--out", str(tmp_path)],
                            capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Epoch 1/2" in result.stdout and "Epoch 2/2" in result.stdout
    assert "\r" not in result.stdout  # not a terminal: no progress-bar redraws
    assert f"Results: {only_run_folder(tmp_path)}" in result.stdout


def test_class_names_pick_the_class_folders_and_their_order(tmp_path):
    """[data] class_names chooses the folders and label 0 as Keras does; it used to be ignored,
    so the labels followed the alphabet while the report named them in the config's order."""
    from cli_helpers import write_image_folder

    from glassnet.cli import data as cli_data

    images = write_image_folder(tmp_path / "shapes", per_class=4)
    spec = {"source": "image_folder", "path": str(images), "color_mode": "grayscale", "test_size": 0}
    data = cli_data.load({**spec, "class_names": ["right", "left"]}, say=lambda *_: None)
    right = data.x_train[:, :, 5:].mean(axis=(1, 2, 3)) > data.x_train[:, :, :5].mean(axis=(1, 2, 3))
    assert data.class_names == ["right", "left"] and list(data.y_train) == list(np.where(right, 0, 1))
    texts = tmp_path / "texts"
    for name in ("bad", "good"):
        (texts / name).mkdir(parents=True)
        (texts / name / "a.txt").write_text(f"a {name} one")
    data = cli_data.load({"source": "text_folder", "path": str(texts), "class_names": ["good", "bad"],
                          "test_size": 0}, say=lambda *_: None)
    assert list(zip(data.x_train, data.y_train)) == [("a good one", 0), ("a bad one", 1)]


def test_a_csv_takes_its_test_rows_from_test_path_or_keeps_every_row_with_test_size_0(tmp_path):
    """test_path was ignored for a CSV (a random quarter of the training file became the test
    set) and test_size = 0 still held out a fifth; now they mean what they say."""
    import pandas as pd
    from cli_helpers import write_table

    from glassnet.cli import data as cli_data

    train = write_table(tmp_path / "train.csv", rows=60)
    test = write_table(tmp_path / "test.csv", rows=20, seed=1)
    spec = {"source": "csv", "path": str(train), "target": "target"}
    data = cli_data.load({**spec, "test_path": str(test)}, say=lambda *_: None)
    assert len(data.x_train) == 60 and len(data.x_test) == 20
    expected = (pd.read_csv(test)["target"] == "yes").to_numpy(np.float32)
    assert np.array_equal(data.y_test, expected) and np.array_equal(data.x_test, data.preprocessor.transform(pd.read_csv(test)))
    data = cli_data.load({**spec, "test_size": 0}, say=lambda *_: None)
    assert len(data.x_train) == 60 and data.x_test is None


def test_a_folder_of_one_class_is_refused(tmp_path):
    """One class folder trained a one-unit softmax to loss 0 and test accuracy 0, without a word."""
    from cli_helpers import write_image_folder

    from glassnet.cli import data as cli_data

    images = write_image_folder(tmp_path / "shapes", per_class=4)
    (tmp_path / "texts" / "good").mkdir(parents=True)
    (tmp_path / "texts" / "good" / "a.txt").write_text("fine")
    for spec in ({"source": "image_folder", "path": str(images), "class_names": ["left"]},
                 {"source": "text_folder", "path": str(tmp_path / "texts")}):
        with pytest.raises(ValueError, match=r"holds \w+ of 1 class \((left|good)\); a classifier needs at least 2"):
            cli_data.load(spec, say=lambda *_: None)


def test_on_invalid_warn_leaves_an_undecodable_image_out(tmp_path, capsys):
    """The error for a broken image file advises on_invalid = "warn"; a config could not say it."""
    from cli_helpers import write_image_folder

    from glassnet.cli import data as cli_data
    from glassnet.cli import main

    images = write_image_folder(tmp_path / "shapes", per_class=4)
    (images / "left" / "broken.png").write_bytes(b"not a png")
    spec = {"source": "image_folder", "path": str(images), "color_mode": "grayscale", "test_size": 0}
    with pytest.raises(ValueError, match="(?s)broken.png.*on_invalid=.warn."):
        cli_data.load(spec, say=lambda *_: None)
    with pytest.warns(UserWarning, match="broken.png"):
        data = cli_data.load({**spec, "on_invalid": "warn"}, say=lambda *_: None)
    assert len(data.x_train) == 8
    config = tmp_path / "run.toml"
    config.write_text(f'[data]\nsource = "image_folder"\npath = "{images.as_posix()}"\non_invalid = "skip"\n')
    assert main(["train", str(config), "--out", str(tmp_path / "runs")]) == 1
    assert 'line 4: [data] on_invalid: must be "raise"' in capsys.readouterr().err


def test_an_image_test_path_may_lack_classes_but_not_add_them(tmp_path):
    """A test folder with only some classes failed ("have no folder"); one with a class the
    training folder lacks had those images left out without a word."""
    from cli_helpers import write_image_folder

    from glassnet.cli import data as cli_data

    train = write_image_folder(tmp_path / "train", per_class=4)
    test = write_image_folder(tmp_path / "test", per_class=3, seed=1)
    (test / "left").rename(tmp_path / "spare")
    spec = {"source": "image_folder", "path": str(train), "test_path": str(test), "color_mode": "grayscale",
            "class_names": ["right", "left"]}
    data = cli_data.load(spec, say=lambda *_: None)
    assert data.class_names == ["right", "left"] and data.y_test.tolist() == [0, 0, 0]
    (tmp_path / "spare").rename(test / "up")
    with pytest.raises(ValueError, match=r"has class folder\(s\) \['up'\] that the model was not trained on"):
        cli_data.load(spec, say=lambda *_: None)


def test_epochs_0_evaluates_the_untrained_model(tmp_path):
    """--epochs 0 is allowed (a baseline), but drawing the empty history's curves crashed the run."""
    code, stdout = run_cli("train", "--out", tmp_path, "--epochs", 0, "--quiet")
    assert code == 0
    folder = only_run_folder(tmp_path)
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["epochs_trained"] == 0 and 0 <= metrics["test_accuracy"] <= 1
    check_png(folder / "curves.png")


def test_fashion_mnist_classes_are_named():
    """The run's report showed Fashion-MNIST's classes as 0..9 though the loader names them."""
    from glassnet.cli import data as cli_data
    from glassnet.datasets import fashion_mnist

    if not Path(fashion_mnist.SYSTEM_FOLDER).is_dir():
        pytest.skip("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
    data = cli_data.load({"source": "fashion_mnist", "download": False}, say=lambda *_: None)
    assert data.class_names == fashion_mnist.CLASS_NAMES and data.class_names[9] == "Ankle boot"
