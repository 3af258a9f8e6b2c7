"""Programs written as Talos users write them, with only the imports changed
(``import talos`` -> ``from glassnet import tuning as talos``): each Talos item of issue 16 runs
here on tiny data."""

import zipfile

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris

import glassnet as gn
from glassnet import tuning as talos


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # Scan writes experiment_name/<time>.csv in the working folder


def iris():
    x, y = load_iris(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(y))
    return ((x - x.mean(0)) / x.std(0)).astype("float32")[order], y[order]


def iris_model(x_train, y_train, x_val, y_val, params):
    model = gn.Sequential(seed=0)
    model.add(gn.layers.Dense(params["first_neuron"], input_shape=(4,), activation=params["activation"]))
    model.add(gn.layers.Dropout(params["dropout"]))
    model.add(gn.layers.Dense(3, activation="softmax"))
    model.compile(optimizer=params["optimizer"], loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    out = model.fit(x_train, y_train, batch_size=params["batch_size"], epochs=params["epochs"],
                    validation_data=(x_val, y_val), verbose=0)
    return out, model


PARAMS = {"first_neuron": [4, 16], "activation": ["relu", "tanh"], "dropout": (0, 0.5, 2), "optimizer": ["adam"],
          "batch_size": [16], "epochs": [3]}


def test_scan_runs_every_permutation_and_tabulates_the_last_epoch():
    x, y = iris()
    scan = talos.Scan(x=x, y=y, params=PARAMS, model=iris_model, experiment_name="iris", seed=0,
                      disable_progress_bar=True)
    data = scan.data
    assert isinstance(data, pd.DataFrame) and len(data) == 8  # 2 * 2 * 2 (the range gives 0.0 and 0.25)
    assert list(data.columns[:4]) == ["start", "end", "duration", "round_epochs"]
    assert sorted(set(data["dropout"])) == [0.0, 0.25]  # Talos' range leaves the end out
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(data.columns)
    np.testing.assert_array_equal(data["val_loss"], [h["val_loss"][-1] for h in scan.round_history])
    assert set(data["round_epochs"]) == {3}
    saved = pd.read_csv(scan.results_path)
    assert len(saved) == 8 and saved.columns.tolist() == data.columns.tolist()
    assert len(scan.x_val) == 45 and len(scan.x_train) == 105  # val_split=.3 held out


def test_best_model_is_the_round_with_the_best_metric():
    x, y = iris()
    scan = talos.Scan(x, y, PARAMS, iris_model, "iris", seed=0, disable_progress_bar=True, round_limit=3)
    assert len(scan.data) == 3
    best = scan.best_model(metric="val_acc", asc=False)  # Keras' "acc" spelling finds "val_accuracy"
    i = scan.data["val_accuracy"].idxmax()
    _, accuracy = iris_model(scan.x_train, scan.y_train, scan.x_val, scan.y_val,
                             scan.data.loc[i, list(PARAMS)].to_dict())[1].evaluate(scan.x_val, scan.y_val, verbose=0)
    predictions = np.argmax(best.predict(scan.x_val), axis=1)
    assert np.mean(predictions == scan.y_val) == pytest.approx(accuracy, abs=1e-12)
    lowest = scan.best_model(metric="val_loss", asc=True)
    np.testing.assert_array_equal(lowest.predict(x[:5]), scan._model_of(int(scan.data["val_loss"].idxmin()))
                                  .predict(x[:5]))


def test_limits_sample_the_permutations():
    x, y = iris()
    a = talos.Scan(x, y, PARAMS, iris_model, "a", seed=3, fraction_limit=0.5, disable_progress_bar=True)
    b = talos.Scan(x, y, PARAMS, iris_model, "b", seed=3, fraction_limit=0.5, disable_progress_bar=True)
    assert len(a.data) == 4
    columns = list(PARAMS)
    pd.testing.assert_frame_equal(a.data[columns], b.data[columns])  # same seed, same sample
    narrow = talos.Scan(x, y, PARAMS, iris_model, "c", boolean_limit=lambda p: p["first_neuron"] * 2 < 10,
                        disable_progress_bar=True)
    assert set(narrow.data["first_neuron"]) == {4} and len(narrow.data) == 4
    quasi = talos.Scan(x, y, PARAMS, iris_model, "d", random_method="sobol", seed=1, round_limit=5,
                       disable_progress_bar=True)
    assert len(quasi.data.drop_duplicates(columns)) == 5
    target = talos.Scan(x, y, PARAMS, iris_model, "e", performance_target=["val_acc", 0.0], disable_progress_bar=True)
    assert len(target.data) == 1 and target.details["stopped"] == "performance_target reached"
    late = talos.Scan(x, y, PARAMS, iris_model, "f", time_limit="2000-01-01 00:00", disable_progress_bar=True)
    assert len(late.data) == 0 and late.details["stopped"] == "time_limit reached"


def test_correlation_reduction_drops_the_value_that_goes_with_worse_scores():
    x, y = iris()

    def model(x_train, y_train, x_val, y_val, params):
        history, net = iris_model(x_train, y_train, x_val, y_val, params)
        # rounds with lr 0.0 are made to score 0: the value the reduction must find and drop
        if params["lr"] == 0.0:
            history.history["val_accuracy"] = [0.0] * len(history.history["val_accuracy"])
        return history, net

    params = {**PARAMS, "lr": [0.0, 0.1], "first_neuron": [4, 8, 16]}
    scan = talos.Scan(x, y, params, model, "reduce", seed=0, disable_progress_bar=True,
                      reduction_method="correlation", reduction_interval=4, reduction_window=4,
                      reduction_threshold=0.2, reduction_metric="val_acc", round_limit=24)
    assert scan.reductions and scan.reductions[0][1:3] == ("lr", 0.0)
    after = scan.data.iloc[scan.reductions[0][0]:]
    assert len(after) and set(after["lr"]) == {0.1}


def test_analyze_answers_from_the_results():
    x, y = iris()
    scan = talos.Scan(x, y, PARAMS, iris_model, "iris", seed=0, disable_progress_bar=True)
    analyze = talos.Analyze(scan)
    assert analyze.rounds() == 8
    assert analyze.high("val_acc") == scan.data["val_accuracy"].max()
    assert analyze.low("val_loss") == scan.data["val_loss"].min()
    assert analyze.rounds2high("val_acc") == scan.data["val_accuracy"].idxmax()
    top = analyze.best_params("val_acc", exclude=["optimizer", "batch_size", "epochs"], n=2)
    assert top.shape == (2, 3)
    best_row = scan.data.loc[scan.data["val_accuracy"].idxmax()]
    assert list(top[0]) == [best_row["first_neuron"], best_row["activation"], best_row["dropout"]]
    corr = analyze.correlate("val_loss", exclude=["batch_size", "epochs"])
    assert set(corr.index) == {"first_neuron", "dropout"}
    assert corr["first_neuron"] == pytest.approx(np.corrcoef(scan.data["first_neuron"], scan.data["val_loss"])[0, 1])
    table = analyze.table("val_loss", ascending=True)
    assert table.iloc[0]["val_loss"] == scan.data["val_loss"].min() and "first_neuron" in table
    from_csv = talos.Analyze(scan.results_path, params=list(PARAMS))
    assert from_csv.high("val_acc") == pytest.approx(analyze.high("val_acc"))


def test_deploy_and_restore_round_trip_the_best_model_and_data(tmp_path):
    x, y = iris()
    scan = talos.Scan(x, y, PARAMS, iris_model, "iris", seed=0, disable_progress_bar=True, round_limit=2)
    talos.Deploy(scan_object=scan, model_name="iris_deploy", metric="val_acc")
    with zipfile.ZipFile("iris_deploy.zip") as archive:
        assert sorted(archive.namelist()) == sorted(f"iris_deploy_{p}" for p in (
            "model.glassnet", "results.csv", "params.json", "x.csv", "y.csv", "details.json"))
    restored = talos.Restore("iris_deploy.zip")
    np.testing.assert_array_equal(restored.model.predict(x[:10]), scan.best_model("val_acc").predict(x[:10]))
    np.testing.assert_allclose(restored.x, x[:100], rtol=1e-6) and np.testing.assert_array_equal(restored.y, y[:100])
    assert restored.results.shape == scan.data.shape
    best = scan.data.loc[scan.data["val_accuracy"].idxmax()]
    assert restored.params["first_neuron"] == best["first_neuron"] and restored.details["metric"] == "val_acc"


def test_unsupported_talos_options_are_refused_by_name():
    x, y = iris()
    for method in ("trees", "forrest", "gamify", "local_strategy"):
        with pytest.raises(ValueError, match=f"reduction_method '{method}' is not supported"):
            talos.Scan(x, y, PARAMS, iris_model, "no", reduction_method=method)
    with pytest.raises(ValueError, match="random_method 'quantum' is not available"):
        talos.Scan(x, y, PARAMS, iris_model, "no", random_method="quantum")
    with pytest.raises(TypeError, match="'multi_input' is not supported"):
        talos.Scan(x, y, PARAMS, iris_model, "no", multi_input=True)
    with pytest.raises(TypeError, match=r"must return \(history, model\)"):
        talos.Scan(x, y, PARAMS, lambda *args: None, "no", disable_progress_bar=True)
    with pytest.raises(TypeError, match="one-item list"):
        talos.Scan(x, y, {"units": 4}, iris_model, "no")


def test_predict_and_evaluate_use_the_best_or_a_chosen_round():
    from sklearn.metrics import f1_score
    from sklearn.model_selection import KFold

    x, y = iris()
    scan = talos.Scan(x[:120], y[:120], PARAMS, iris_model, "iris", seed=0, disable_progress_bar=True, round_limit=3)
    x_new, y_new = x[120:], y[120:]
    best = scan.best_model(metric="val_acc", asc=False)
    predict = talos.Predict(scan)
    np.testing.assert_array_equal(predict.predict(x_new, metric="val_acc", asc=False), best.predict(x_new))
    np.testing.assert_array_equal(predict.predict_classes(x_new, "val_acc", False, task="multi_class"),
                                  np.argmax(best.predict(x_new), axis=1))
    np.testing.assert_array_equal(predict.predict(x_new, "val_acc", False, model_id=2),
                                  scan._model_of(2).predict(x_new))
    with pytest.raises(IndexError, match="model_id 3 is not a round"):
        predict.predict(x_new, "val_acc", False, model_id=3)

    scores = talos.Evaluate(scan).evaluate(x_new, y_new, task="multi_class", metric="val_acc", folds=3)
    folds = KFold(3, shuffle=True, random_state=0).split(x_new)
    expected = [f1_score(y_new[part], np.argmax(best.predict(x_new[part]), axis=1), average="macro")
                for _, part in folds]
    assert scores == pytest.approx(expected, abs=0)
    with pytest.raises(ValueError, match="task must be one of binary, multi_class"):
        talos.Evaluate(scan).evaluate(x_new, y_new, task="multiclass", metric="val_acc")


def test_evaluate_scores_a_regression_scan_by_mean_absolute_error():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 3)).astype("float32")
    y = x @ np.float32([1.0, -2.0, 0.5])

    def regressor(x_train, y_train, x_val, y_val, params):
        model = gn.Sequential([gn.layers.Dense(1, input_shape=(3,))], seed=0)
        model.compile(optimizer=gn.optimizers.Adam(params["lr"]), loss="mse")
        return model.fit(x_train, y_train, epochs=3, validation_data=(x_val, y_val), verbose=0), model

    scan = talos.Scan(x, y, {"lr": [0.01, 0.1]}, regressor, "reg", seed=1, disable_progress_bar=True)
    scores = talos.Evaluate(scan).evaluate(x, y, task="continuous", metric="val_loss", asc=True, folds=4, shuffle=False)
    model = scan.best_model("val_loss", asc=True)
    expected = [float(np.mean(np.abs(model.predict(x[i:i + 20]).ravel() - y[i:i + 20]))) for i in range(0, 80, 20)]
    assert scores == pytest.approx(expected, rel=1e-6)
