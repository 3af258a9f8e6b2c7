"""evaluate, predict, summary, inspect, datasets and --help, on models the CLI trained."""

import csv
import json

import numpy as np
import pytest
from cli_helpers import only_run_folder, run_cli

import glassnet as gn
from glassnet.datasets import digits

COMMANDS = ("train", "evaluate", "predict", "summary", "inspect", "export", "datasets", "explain")


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_every_command_has_help_with_examples(command):
    code, stdout = run_cli(*([command] if command else []), "--help")
    assert code == 0
    assert "Example" in stdout and "Usage: glassnet" in stdout


def test_evaluate_on_a_built_in_dataset_matches_the_run_metrics(default_run):
    _, _, folder = default_run
    code, stdout = run_cli("evaluate", folder / "model.glassnet", "digits", "--json")
    assert code == 0
    results = json.loads(stdout)
    metrics = json.loads((folder / "metrics.json").read_text())
    assert results["n_samples"] == 360
    assert results["accuracy"] == pytest.approx(metrics["test_accuracy"])
    assert results["loss"] == pytest.approx(metrics["test_loss"], rel=1e-5)
    code, stdout = run_cli("evaluate", folder / "model.glassnet", folder / "config.toml")
    assert code == 0 and stdout.startswith("360 samples: loss ")


def test_a_run_folder_stands_for_the_model_file_it_holds(default_run, tmp_path, capsys):
    _, _, folder = default_run
    by_file = run_cli("evaluate", folder / "model.glassnet", "digits", "--json")
    assert run_cli("evaluate", folder, "digits", "--json") == by_file
    code, stdout = run_cli("summary", folder)
    assert code == 0 and stdout == run_cli("summary", folder / "model.glassnet")[1]
    empty = tmp_path / "not-a-run"
    empty.mkdir()
    code, _ = run_cli("evaluate", empty, "digits")
    assert code == 2
    assert "is a folder without a model.glassnet; give a .glassnet file or a run folder" in capsys.readouterr().err


def test_evaluate_a_table_model_on_a_csv_uses_its_preprocessor(table_run):
    _, _, folder, csv_path = table_run
    code, stdout = run_cli("evaluate", folder / "model.glassnet", csv_path, "--json")
    assert code == 0
    assert json.loads(stdout)["n_samples"] == 240


def test_predict_npz_writes_one_row_per_sample_with_class_probabilities(default_run, tmp_path):
    _, _, folder = default_run
    _, (x_test, _) = digits.load_data()
    np.savez(tmp_path / "x.npz", x=x_test[:20])
    out = tmp_path / "predictions.csv"
    code, stdout = run_cli("predict", folder / "model.glassnet", tmp_path / "x.npz", "-o", out)
    assert code == 0 and f"Wrote 20 predictions to {out}" in stdout
    rows = read_csv(out)
    assert list(rows[0]) == ["source", "prediction", "label", *[f"p_{d}" for d in range(10)]]
    expected = gn.load_model(folder / "model.glassnet").predict(x_test[:20]).argmax(1)
    assert [int(r["prediction"]) for r in rows] == expected.tolist()
    assert all(abs(sum(float(r[f"p_{d}"]) for d in range(10)) - 1) < 1e-4 for r in rows)


def test_predict_csv_rows_of_pixels(default_run, tmp_path):
    _, _, folder = default_run
    _, (x_test, _) = digits.load_data()
    np.savetxt(tmp_path / "pixels.csv", x_test[:5].reshape(5, 64), delimiter=",", fmt="%d",
               header=",".join(f"px{i}" for i in range(64)), comments="")
    code, _ = run_cli("predict", folder / "model.glassnet", tmp_path / "pixels.csv", "-o", tmp_path / "p.csv")
    assert code == 0 and len(read_csv(tmp_path / "p.csv")) == 5


def test_predict_raw_table_rows_gives_class_labels(table_run, tmp_path):
    _, _, folder, csv_path = table_run
    code, _ = run_cli("predict", folder / "model.glassnet", csv_path, "-o", tmp_path / "p.csv")
    assert code == 0
    rows = read_csv(tmp_path / "p.csv")
    assert len(rows) == 240 and {r["label"] for r in rows} <= {"no", "yes"} and "p_yes" in rows[0]


def test_an_image_folder_trains_and_predicts_image_files(image_run, tmp_path):
    code, stdout, folder, images = image_run
    assert code == 0 and stdout.strip() == str(folder)
    assert (folder / "samples.png").is_file() and (folder / "roc.png").is_file()
    code, _ = run_cli("predict", folder / "model.glassnet", images / "left", "-o", tmp_path / "p.csv")
    assert code == 0
    rows = read_csv(tmp_path / "p.csv")
    assert len(rows) == 12 and rows[0]["source"].endswith(".png") and rows[0]["label"] in ("left", "right")
    code, stdout = run_cli("evaluate", folder / "model.glassnet", images, "--json")
    assert code == 0 and json.loads(stdout)["n_samples"] == 24


def test_summary_and_inspect_describe_the_model_file(default_run):
    _, _, folder = default_run
    code, summary = run_cli("summary", folder / "model.glassnet")
    assert code == 0 and "Conv2D" in summary and "Total params: 4,538" in summary
    code, listing = run_cli("inspect", folder / "model.glassnet")
    assert code == 0 and "total parameters: 4,538" in listing and "kernel (3, 3, 1, 8)" in listing
    assert "epochs trained 8 (completed in the saving fit call: 8)" in listing
    code, raw = run_cli("inspect", folder / "model.glassnet", "--json")
    info = json.loads(raw)
    assert info["total_params"] == 4538 and info["model"]["name"] == "digits-cnn"


def test_datasets_lists_what_is_available_and_where():
    code, stdout = run_cli("datasets")
    assert code == 0
    lines = {line.split()[0]: line for line in stdout.splitlines()}
    assert "available" in lines["digits"] and "scikit-learn" in lines["digits"]
    assert "mnist" in lines and "fashion_mnist" in lines and "image_folder" in lines


def test_explain_walks_samples_through_the_model(default_run):
    _, _, folder = default_run
    code, stdout = run_cli("explain", folder / "model.glassnet", "digits", "--samples", 1)
    assert code == 0 and "Conv2D" in stdout


def test_inspect_shows_a_graph_s_connections_and_per_output_losses(tmp_path):
    x = gn.Input((3,), name="x")
    h = gn.layers.Dense(4, name="h")(x)
    model = gn.Model(x, [gn.layers.Dense(1, activation="sigmoid", name="risk")(h), gn.layers.Dense(1, name="days")(h)],
                     seed=0)
    model.compile(optimizer="adam", loss={"risk": "binary_crossentropy", "days": "mse"}, metrics={"risk": ["accuracy"]})
    model.save(tmp_path / "g.glassnet")
    code, listing = run_cli("inspect", tmp_path / "g.glassnet")
    assert code == 0 and f"model '{model.name}' (Model)" in listing
    assert "loss BinaryCrossentropy, MeanSquaredError, metrics Accuracy" in listing
    lines = {line.split()[0]: line for line in listing.splitlines() if line.startswith("  ")}
    assert lines["risk"].endswith("<- h[0]") and lines["h"].endswith("<- x[0]")


def test_evaluate_labels_a_folder_in_the_runs_class_order(tmp_path):
    """A run trained with class_names = ["right", "left"] calls "right" class 0; evaluate read the
    folders alphabetically ("left" = 0), so a model that learned well scored near 0."""
    from cli_helpers import write_image_folder

    images = write_image_folder(tmp_path / "shapes")
    config = tmp_path / "images.toml"
    config.write_text(f'seed = 0\n[data]\nsource = "image_folder"\npath = "{images.as_posix()}"\n'
                      f'color_mode = "grayscale"\nclass_names = ["right", "left"]\ntest_size = 0.25\n'
                      f'[fit]\nepochs = 8\nbatch_size = 8\n')
    code, stdout = run_cli("train", config, "--out", tmp_path / "runs", "--quiet")
    assert code == 0
    model = only_run_folder(tmp_path / "runs") / "model.glassnet"
    code, stdout = run_cli("evaluate", model, images, "--json")
    assert code == 0 and json.loads(stdout)["accuracy"] >= 0.9
    (tmp_path / "only_left").mkdir()
    (tmp_path / "only_left" / "left").symlink_to(images / "left", target_is_directory=True)
    code, stdout = run_cli("evaluate", model, tmp_path / "only_left", "--json")
    assert code == 0 and json.loads(stdout)["accuracy"] >= 0.9


def test_inspect_says_a_model_takes_raw_table_rows(table_run, default_run):
    """Only inspect --json named the attached preprocessor; the listing a person reads did not."""
    _, _, folder, _ = table_run
    code, listing = run_cli("inspect", folder / "model.glassnet")
    assert code == 0 and "preprocessor: TabularPreprocessor (predict and evaluate take raw table rows" in listing
    code, listing = run_cli("inspect", default_run[2] / "model.glassnet")
    assert code == 0 and "preprocessor" not in listing
