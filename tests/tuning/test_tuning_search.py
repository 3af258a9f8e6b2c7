"""Searches end to end on tiny digits models: strategies, seeds, pruning, budgets, results."""

import itertools
import os

import matplotlib
import pandas as pd
import pytest

import glassnet as gn
from glassnet import tuning

from tuning_models import build_hp, build_kwargs, build_model, build_two_tables, digits, two_tables

matplotlib.use("Agg")

SPACE = {"units": [4, 8], "activation": ["relu", "tanh"], "learning_rate": [0.003, 0.01, 0.03]}


@pytest.fixture(scope="module")
def data():
    return digits(200)


def search(data, space=SPACE, epochs=1, **kwargs):
    kwargs.setdefault("seed", 0)
    kwargs.setdefault("verbose", 0)
    tuner = tuning.Tuner(kwargs.pop("build", build_model), space, **kwargs)
    return tuner.search(*data, validation_split=0.25, epochs=epochs, batch_size=32)


def param_tuples(frame, names):
    return sorted(tuple(row) for row in frame[names].itertuples(index=False))


def test_grid_covers_every_combination_exactly_once(data):
    tuner = search(data, strategy="grid")
    frame = tuner.results
    names = list(SPACE)
    assert param_tuples(frame, names) == sorted(itertools.product(*SPACE.values()))
    assert (frame["state"] == "complete").all()
    # best first, and the best params are the top row's
    assert frame["val_accuracy"].is_monotonic_decreasing
    assert {k: tuner.best_params[k] for k in names} == dict(frame.loc[0, names])


@pytest.mark.parametrize("strategy", ["random", "tpe"])
def test_sampling_respects_the_space_and_the_seed(data, strategy):
    space = {"units": tuning.IntRange(4, 12, step=4), "learning_rate": tuning.LogUniform(1e-3, 3e-2),
             "activation": ["relu", "tanh"]}
    runs = [search(data, space, strategy=strategy, max_trials=4, seed=seed).study.trials for seed in (3, 3, 4)]
    sequences = [[t.params for t in trials] for trials in runs]
    assert sequences[0] == sequences[1]
    assert sequences[0] != sequences[2]
    for params in sequences[0] + sequences[2]:
        assert params["units"] in (4, 8, 12)
        assert 1e-3 <= params["learning_rate"] <= 3e-2
        assert params["activation"] in ("relu", "tanh")
    # same seed, same models: the scores repeat too
    assert [t.value for t in runs[0]] == [t.value for t in runs[1]]


def test_hp_style_build_with_a_conditional_parameter(data):
    tuner = search(data, None, build=build_hp, strategy="random", max_trials=6, seed=1)
    for trial in tuner.study.trials:
        assert ("momentum" in trial.params) == (trial.params["optimizer"] == "sgd")
    assert set(tuner.results.columns) >= {"units", "optimizer", "learning_rate"}


def test_pruning_stops_unpromising_trials_early(data):
    tuner = search(data, {"units": [2, 4, 16], "learning_rate": tuning.LogUniform(1e-4, 3e-2)}, epochs=6,
                   strategy="random", max_trials=10, pruning="median", seed=2)
    frame = tuner.results
    pruned = frame[frame["state"] == "pruned"]
    assert len(pruned) > 0
    assert (pruned["epochs"] < 6).all()
    assert (frame[frame["state"] == "complete"]["epochs"] == 6).all()


def test_hyperband_pruning_runs(data):
    tuner = search(data, {"units": [2, 4, 16], "learning_rate": tuning.LogUniform(1e-4, 3e-2)}, epochs=9,
                   strategy="tpe", max_trials=10, pruning="hyperband", seed=5)
    states = set(tuner.results["state"])
    assert "pruned" in states and "complete" in states
    assert tuner.results["epochs"].sum() < 10 * 9


@pytest.mark.parametrize("budget, expected", [({"max_trials": 3}, 3), ({"fraction_limit": 0.25}, 3),
                                              ({"fraction_limit": 0.25, "max_trials": 2}, 2)])
def test_trial_budgets_stop_the_search(data, budget, expected):
    assert len(search(data, strategy="grid", **budget).results) == expected
    assert len(search(data, strategy="random", **budget).results) == expected


def test_time_limit_and_target_stop_the_search(data):
    timed = search(data, strategy="random", time_limit=0.5, max_trials=1000)
    assert 1 <= len(timed.results) < 1000
    targeted = search(data, strategy="random", target=0.0, max_trials=12)
    assert len(targeted.results) == 1  # any score reaches 0.0


def test_resume_continues_and_does_not_redo_finished_trials(data, tmp_path, capsys):
    space = {"units": [4, 8], "learning_rate": [0.003, 0.01, 0.03]}
    first = search(data, space, strategy="grid", max_trials=2, directory=tmp_path, study_name="s")
    done = {t.number: (t.params, t.value, t.datetime_start) for t in first.study.trials}
    second = search(data, space, strategy="grid", directory=tmp_path, study_name="s", verbose=1)
    out = capsys.readouterr().out
    assert "Resuming study 's'" in out and "reloaded 2 finished trials (2 complete" in out
    trials = second.study.trials
    assert len(trials) == 6
    assert {t.number: (t.params, t.value, t.datetime_start) for t in trials if t.number in done} == done
    assert len({tuple(sorted(t.params.items())) for t in trials}) == 6


def test_a_trial_left_running_by_a_dead_worker_is_failed_and_retried(data, tmp_path, capsys):
    import optuna

    path = str(tmp_path / "s.journal")
    storage = tuning.open_storage(path)
    study = optuna.create_study(study_name="s", storage=storage, direction="maximize")
    study.set_user_attr("glassnet:seed", 0)
    trial = study.ask()
    trial.suggest_categorical("units", [4, 8])
    trial.suggest_categorical("learning_rate", [0.003, 0.01])
    trial.set_user_attr("worker", f"{os.uname().nodename}:999999999")  # no such process
    tuner = search(data, {"units": [4, 8], "learning_rate": [0.003, 0.01]}, strategy="grid", storage=path,
                   study_name="s", verbose=1)
    assert "trial(s) 0 left running by a stopped worker were marked failed and queued again" in capsys.readouterr().out
    frame = tuner.results
    assert frame.set_index("trial").loc[0, "state"] == "fail"
    retry = frame[frame["retry_of"] == 0]
    assert len(retry) == 1 and retry.iloc[0]["state"] == "complete"
    assert retry.iloc[0]["units"] == trial.params["units"]
    assert (frame["state"] == "complete").sum() == 4  # the grid is complete


def test_cv_and_executions_average_the_objective(data):
    tuner = search(data, {"units": [4, 8]}, build=build_kwargs, strategy="grid", executions_per_trial=2)
    assert (tuner.results["epochs"] == 2).all()  # two runs of one epoch each
    cv = tuning.Tuner(build_kwargs, {"units": [4, 8]}, strategy="grid", cv=3, seed=0, verbose=0)
    cv.search(*data, epochs=1)
    assert (cv.results["epochs"] == 3).all()
    with pytest.raises(ValueError, match="cv or a validation set"):
        cv.search(*data, validation_split=0.2)


def test_best_model_reproduces_the_best_trial(data, tmp_path):
    retrained = search(data, strategy="grid", fraction_limit=0.25, epochs=2)
    x_val, y_val = retrained._setup.validation_data
    assert retrained.best_model().evaluate(x_val, y_val, return_dict=True)["accuracy"] == pytest.approx(
        retrained.best_value)
    saved = search(data, strategy="grid", fraction_limit=0.25, epochs=2, directory=tmp_path)
    assert saved.best_model().evaluate(x_val, y_val, return_dict=True)["accuracy"] == pytest.approx(saved.best_value)
    saved.save_best(tmp_path / "best.glassnet")
    assert os.path.exists(tmp_path / "best.glassnet.json")


def test_results_csv_summary_and_plots(data, tmp_path):
    import matplotlib.pyplot as plt

    tuner = search(data, strategy="grid", fraction_limit=0.25)
    tuner.to_csv(tmp_path / "r.csv")
    frame = pd.read_csv(tmp_path / "r.csv")
    assert list(frame.columns[:3]) == ["trial", "state", "val_accuracy"] and len(frame) == 3
    lines = []
    tuner.summary(print_fn=lines.append)
    text = lines[0]
    assert text.startswith("3 trials: 3 complete") and "best val_accuracy" in text
    assert max(len(line) for line in text.splitlines()) <= 120
    for plot in (tuner.plot_history, tuner.plot_parallel_coordinates, tuner.plot_importances):
        assert plot() is not None
    plt.close("all")


# -- bad input -------------------------------------------------------------------------------------
def test_a_build_function_that_raises_fails_its_trial_and_the_search_goes_on(data):
    def build(params):
        if params["units"] == 8:
            raise RuntimeError("no 8 please")
        return build_model(params)

    frame = search(data, {"units": [4, 8], "learning_rate": [0.01, 0.03]}, build=build, strategy="grid").results
    failed = frame[frame["state"] == "fail"]
    assert len(failed) == 2 and (failed["units"] == 8).all()
    assert all("RuntimeError: no 8 please" in err and "Traceback" in err for err in failed["error"])
    assert (frame[frame["units"] == 4]["state"] == "complete").all()


def test_an_objective_the_model_never_reports_names_what_it_reports(data):
    with pytest.raises(tuning.SetupError, match=r"'val_auc' is not reported.*accuracy, learning_rate, loss, "
                                                r"val_accuracy, val_loss"):
        search(data, strategy="grid", objective="val_auc")
    with pytest.raises(tuning.SetupError, match="no val_ values"):
        tuning.Tuner(build_model, SPACE, strategy="grid", verbose=0).search(*data, epochs=1)


def test_parameters_the_build_function_does_not_accept_are_refused_before_training(data):
    with pytest.raises(tuning.SetupError, match=r"does not accept the parameter\(s\) 'activation'"):
        search(data, {"units": [4], "activation": ["relu", "tanh"]}, build=build_kwargs, strategy="grid")
    with pytest.raises(tuning.SetupError, match=r"never reads the parameter\(s\) 'dropout'"):
        search(data, {**SPACE, "dropout": [0.1, 0.2]}, strategy="grid")


@pytest.mark.parametrize("storage", ["sqlite:////no/such/folder/t.db", "/no/such/folder/t.journal",
                                     "postgresql://nobody:secret@127.0.0.1:1/none"])
def test_an_unreachable_storage_is_a_clear_error(data, storage):
    with pytest.raises(tuning.StorageError, match="Cannot open") as info:
        search(data, strategy="grid", storage=storage)
    assert "secret" not in str(info.value)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="strategy"):
        tuning.Tuner(build_model, SPACE, strategy="bayes")
    with pytest.raises(ValueError, match="pruning"):
        tuning.Tuner(build_model, SPACE, pruning="asha")
    with pytest.raises(ValueError, match="needs max_trials"):
        tuning.Tuner(build_model, SPACE, strategy="tpe", verbose=0).search(*digits(40), validation_split=0.25)


class InterruptOnce(gn.callbacks.Callback):
    """Raises KeyboardInterrupt (as Ctrl-C would) at the end of the 2nd epoch of the first trial."""

    def __init__(self):
        super().__init__()
        self.fired = False
        self.epochs = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)

    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1 and not self.fired:
            self.fired = True
            raise KeyboardInterrupt


def test_an_interrupted_trial_resumes_from_its_last_checkpoint(data, tmp_path):
    space = {"units": [4, 8], "learning_rate": [0.01]}
    stop = InterruptOnce()
    run = lambda: tuning.Tuner(build_model, space, strategy="grid", directory=tmp_path, study_name="s",  # noqa: E731
                               seed=0, verbose=0).search(*data, validation_split=0.25, epochs=3, callbacks=[stop])
    with pytest.raises(KeyboardInterrupt):
        run()
    stop.epochs.clear()
    frame = run().results
    # The interrupt came before epoch 2's backup (the backup is the trial's last callback): the
    # retry continues at epoch 2; the next trial starts afresh.
    assert stop.epochs[:5] == [1, 2, 0, 1, 2]
    assert frame.set_index("trial").loc[0, "state"] == "fail"
    retry = frame[frame["retry_of"] == 0].iloc[0]
    assert retry["state"] == "complete"
    assert not os.listdir(tmp_path / "checkpoints")  # finished trials leave no checkpoint behind
    # The resumed trial scores exactly what an uninterrupted run of the same trial scores.
    clean = search(data, space, strategy="grid", epochs=3).results.set_index("units")
    assert retry["val_accuracy"] == clean.loc[retry["units"], "val_accuracy"]


@pytest.mark.parametrize("split", [{"validation_split": 0.25}, {"cv": 2}], ids=["validation_split", "cv"])
def test_a_graph_with_two_inputs_and_outputs_searches_on_dicts_and_lists(split):
    # As fit takes them: inputs and targets as dicts by name, or lists in the model's order.
    # The same data in either form is split into the same samples, so every trial scores the same.
    x, y = two_tables()
    cv = split.pop("cv", None)

    def values(x, y):
        tuner = tuning.Tuner(build_two_tables, strategy="grid", objective="val_cls_accuracy", cv=cv, seed=0,
                             verbose=0)
        tuner.search(x, y, epochs=2, batch_size=16, **split)
        assert (tuner.results["state"] == "complete").all()
        return [t.value for t in tuner.study.trials]

    by_name = values(x, y)
    assert len(by_name) == 2 and all(0 <= v <= 1 for v in by_name)
    assert values([x["a"], x["b"]], [y["cls"], y["reg"]]) == by_name


def test_inputs_and_targets_of_different_lengths_are_refused_by_name():
    x, y = digits(100)
    with pytest.raises(ValueError, match="different numbers of samples.*one row per sample"):
        tuning.Tuner(build_model, SPACE, max_trials=1, seed=0, verbose=0).search(x, y[:90], validation_split=0.25)
    x, y = two_tables()
    with pytest.raises(ValueError, match="different numbers of samples"):
        tuning.Tuner(build_two_tables, max_trials=1, seed=0, verbose=0).search(
            {"a": x["a"], "b": x["b"][:100]}, y, validation_split=0.25)


def test_a_data_error_every_trial_repeats_stops_the_search_and_is_raised(data):
    # NaN in x fails each trial in fit's checks, whatever its parameters: three alike and none
    # trained stop the search (not forty trials of the same traceback), and search raises it.
    x, y = data
    x = x.copy()
    x[5, 3] = float("nan")
    tuner = tuning.Tuner(build_model, SPACE, strategy="random", max_trials=12, seed=0, verbose=0)
    with pytest.raises(tuning.SetupError, match=r"Every trial of this search failed with ValueError: x contains NaN"):
        tuner.search(x, y, validation_split=0.25, epochs=1)
    assert (tuner.results["state"] == "fail").sum() == 3
    # A small grid ends before three: its one failure is raised all the same.
    with pytest.raises(tuning.SetupError, match="x contains NaN"):
        search((x, y), {"units": [4], "learning_rate": [0.01]}, strategy="grid")



@pytest.mark.parametrize("form", ["list of rows", "sparse"])
def test_x_as_rows_or_sparse_searches_as_the_array_does(data, form):
    # fit takes both: a list of rows is one array (not several inputs), a sparse x is split by rows
    import scipy.sparse

    x, y = data
    given = x.tolist() if form == "list of rows" else scipy.sparse.csr_matrix(x)

    def values(x, y):
        tuner = tuning.Tuner(build_model, {"units": [4, 8], "learning_rate": [0.01]}, strategy="grid", cv=2, seed=0,
                             verbose=0)
        return [t.value for t in tuner.search(x, y, epochs=1).study.trials]

    assert values(given, list(y)) == values(x, y)
