"""``glassnet tune``: a search config with ranges -> a run folder with the best model and the leaderboard."""

import json
import tomllib

import numpy as np
import pandas as pd
import pytest
from cli_helpers import only_run_folder, run_cli

import glassnet as gn
from glassnet.cli import main

SEARCH = """\
name = "digits-search"
seed = 0

[data]
source = "digits"
test_size = 0.2

[tune]
strategy = "grid"
pruning = "median"
{tune_extra}

[[layers]]
type = "Flatten"

[[layers]]
type = "Dense"
units = {{choice = [8, 16]}}
activation = "relu"

[[layers]]
type = "Dropout"
rate = {{range = [0.0, 0.2, 2]}}

[[layers]]
type = "Dense"
units = 10
activation = "softmax"

[compile]
optimizer = {{type = "Adam", learning_rate = 0.01}}
loss = "sparse_categorical_crossentropy"
metrics = ["accuracy"]

[fit]
epochs = {{choice = [2]}}
batch_size = 64
validation_split = 0.2
"""


def write_search(path, tune_extra=""):
    path.write_text(SEARCH.format(tune_extra=tune_extra))
    return path


@pytest.fixture(scope="module")
def tune_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("tune")
    config = write_search(root / "search.toml")
    code, stdout = run_cli("tune", config, "--out", root / "runs")
    return code, stdout, only_run_folder(root / "runs")


def test_tune_writes_a_complete_run_folder(tune_run):
    code, stdout, folder = tune_run
    assert code == 0, stdout
    assert f"Results: {folder}" in stdout and "best val_accuracy" in stdout
    for name in ("model.glassnet", "config.toml", "leaderboard.csv", "metrics.json", "report.html", "tune.log",
                 "history.png", "confusion_matrix.png"):
        assert (folder / name).is_file(), name
    board = pd.read_csv(folder / "leaderboard.csv")
    assert len(board) == 4 and {"units", "rate", "val_accuracy", "state"} <= set(board.columns)
    assert sorted(zip(board["units"], board["rate"])) == [(8, 0.0), (8, 0.2), (16, 0.0), (16, 0.2)]
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["objective"] == "val_accuracy" and metrics["trials"] == 4
    best = board[board["state"] == "complete"].iloc[0]
    assert metrics["best_value"] == pytest.approx(best["val_accuracy"])
    assert metrics["best_params"] == {"units": int(best["units"]), "rate": float(best["rate"]), "epochs": 2}
    assert board["param_epochs"].eq(2).all()  # the parameter, beside the column of epochs run

    import matplotlib.image

    for png in folder.glob("*.png"):
        image = matplotlib.image.imread(png)
        assert image.ndim == 3 and min(image.shape[:2]) > 50, png

    page = (folder / "report.html").read_text()
    assert "Tuning leaderboard" in page and "<th>units</th>" in page and "<th>val_accuracy</th>" in page


def test_the_written_config_holds_the_best_values_and_trains(tune_run):
    _, _, folder = tune_run
    config = tomllib.loads((folder / "config.toml").read_text())
    metrics = json.loads((folder / "metrics.json").read_text())
    assert "tune" not in config
    assert config["layers"][1]["units"] == metrics["best_params"]["units"]
    assert config["layers"][2]["rate"] == metrics["best_params"]["rate"]
    assert config["fit"]["epochs"] == metrics["best_epoch"]  # the saved weights are that epoch's
    from glassnet.cli import config as config_module

    config_module.validate(config, config_module.Locator("", "config.toml"))  # a plain train config again


def test_the_best_model_scores_what_the_run_reports(tune_run):
    _, _, folder = tune_run
    model = gn.load_model(folder / "model.glassnet")
    metrics = json.loads((folder / "metrics.json").read_text())
    with np.load(folder / "search" / "data.npz") as search_data:  # the search's own validation set
        validation = model.evaluate(search_data["x_val"], search_data["y_val"], return_dict=True)
    assert validation["accuracy"] == pytest.approx(metrics["best_value"], abs=1e-6)

    from glassnet.cli import data as data_module

    data = data_module.load({"source": "digits", "test_size": 0.2}, seed=0)
    test = model.evaluate(data.x_test, data.y_test, return_dict=True)
    assert test["accuracy"] == pytest.approx(metrics["test_accuracy"], abs=1e-6)


def test_two_workers_on_a_journal_finish_the_planned_trials(tmp_path):
    config = write_search(tmp_path / "search.toml", 'study_name = "shared"')
    journal = tmp_path / "study.journal"
    code, stdout = run_cli("tune", config, "--workers", 2, "--storage", journal, "--trials", 3,
                           "--out", tmp_path / "runs", "--quiet")
    assert code == 0
    folder = only_run_folder(tmp_path / "runs")
    assert stdout.strip() == str(folder)
    board = pd.read_csv(folder / "leaderboard.csv")
    assert len(board) == 3 and board["trial"].is_unique
    assert set(board["state"]) <= {"complete", "pruned"} and (board["state"] == "complete").any()
    assert len(set(zip(board["units"], board["rate"]))) == 3  # no grid point run twice

    # A worker joining later finds the budget used and stops at once ...
    code, stdout = run_cli("tune-worker", "--storage", journal, "--study", "shared")
    assert code == 0 and "0 trial(s) run by this worker" in stdout
    # ... and with one more trial in the budget, runs the grid's last point from the stored config.
    import optuna

    from glassnet.tuning import open_storage
    from glassnet.tuning.worker import SPEC_ATTR

    study = optuna.load_study(study_name="shared", storage=open_storage(str(journal)))
    spec = json.loads(study.user_attrs[SPEC_ATTR])
    study.set_user_attr(SPEC_ATTR, json.dumps({**spec, "n_trials": 4}))
    code, stdout = run_cli("tune-worker", "--storage", journal, "--study", "shared")
    assert code == 0 and "1 trial(s) run by this worker" in stdout, stdout
    # Two workers may both create a trial at the budget's edge; the one beyond it is skipped before
    # it draws any parameter (worker.py), as the leaderboard leaves it out.
    points = {(t.params["units"], t.params["rate"]) for t in study.get_trials()
              if t.state.is_finished() and not t.user_attrs.get("skipped")}
    assert len(points) == 4


def test_tune_worker_on_an_unknown_study_fails_in_one_line(tmp_path, capsys):
    code = main(["tune-worker", "--storage", str(tmp_path / "none.journal"), "--study", "nope"])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("glassnet: error: no study 'nope'")


def test_help_shows_examples_and_the_worker(capsys):
    assert main(["tune", "--help"]) == 0
    text = capsys.readouterr().out
    assert "Examples:" in text and "glassnet tune-worker --storage URL --study NAME" in text
    assert "log_uniform" in text
    assert main(["tune"]) == 2  # CONFIG is required: a usage error


# -- bad input ------------------------------------------------------------------------------------------
def failure(capsys, config):
    code = main(["tune", str(config), "--out", str(config.parent / "runs")])  # never the working folder
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("glassnet: error: ") and "Traceback" not in err, err
    return err.strip()


def edited(tmp_path, old, new, tune_extra=""):
    text = SEARCH.format(tune_extra=tune_extra)
    assert old in text
    path = tmp_path / "bad.toml"
    path.write_text(text.replace(old, new, 1))
    return path


def line_of(path, fragment):
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if fragment in line)


def test_a_range_on_an_unknown_layer_argument_names_key_and_line(tmp_path, capsys):
    config = edited(tmp_path, "units = {choice = [8, 16]}", "unitz = {choice = [8, 16]}")
    message = failure(capsys, config)
    assert f"bad.toml line {line_of(config, 'unitz')}: layers[1].unitz: Dense has no argument 'unitz'; " \
           f"did you mean 'units'?" in message


def test_a_range_on_an_unknown_fit_key_names_key_and_line(tmp_path, capsys):
    config = edited(tmp_path, "epochs = {choice = [2]}", "epoch = {choice = [1, 2]}")
    message = failure(capsys, config)
    assert f"line {line_of(config, 'epoch =')}: [fit] epoch" in message


@pytest.mark.parametrize("spec, expected", [
    ("{range = [0.0, 0.2]}", "malformed range {range = [0.0, 0.2]}: needs three numbers"),
    ("{uniform = [0.5, 0.1]}", "malformed range {uniform = [0.5, 0.1]}: Uniform needs low < high"),
    ("{choise = [0.0, 0.1]}", "unknown range kind 'choise'; did you mean 'choice'?"),
    ("{choice = [0.0], range = [0, 1, 2]}", "a range is a table with one key"),
])
def test_a_malformed_range_names_key_and_line(tmp_path, capsys, spec, expected):
    config = edited(tmp_path, "rate = {range = [0.0, 0.2, 2]}", f"rate = {spec}")
    message = failure(capsys, config)
    assert f"line {line_of(config, 'rate =')}: layers[2].rate: {expected}" in message


def test_a_range_in_the_data_section_is_refused(tmp_path, capsys):
    config = edited(tmp_path, "test_size = 0.2", "test_size = {choice = [0.1, 0.2]}")
    message = failure(capsys, config)
    assert f"line {line_of(config, 'test_size')}: [data] test_size: a range cannot go here" in message


def test_a_config_with_no_ranges_has_nothing_to_tune(tmp_path, capsys):
    config = edited(tmp_path, "rate = {range = [0.0, 0.2, 2]}", "rate = 0.1")
    config.write_text(config.read_text().replace("units = {choice = [8, 16]}", "units = 8")
                      .replace("epochs = {choice = [2]}", "epochs = 2"))
    assert "bad.toml: nothing to tune" in failure(capsys, config)


def test_a_bad_tune_setting_names_key_and_line(tmp_path, capsys):
    config = edited(tmp_path, 'strategy = "grid"', 'strategy = "bayes"')
    message = failure(capsys, config)
    assert f"line {line_of(config, 'strategy')}: [tune] strategy: strategy must be one of" in message
    config = edited(tmp_path, 'strategy = "grid"', "max_trial = 3")
    assert "[tune] max_trial: unknown key; did you mean 'max_trials'?" in failure(capsys, config)


def test_a_choice_that_cannot_build_is_reported_before_the_search(tmp_path, capsys):
    config = edited(tmp_path, 'activation = "relu"', 'activation = {choice = ["relu", "relux"]}')
    message = failure(capsys, config)
    assert f"line {line_of(config, 'relux')}: layers[1].activation: the choice 'relux' does not build" in message
