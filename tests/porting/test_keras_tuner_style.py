"""Programs written as keras-tuner users write them, with only the imports changed
(``import keras_tuner as kt`` -> ``from glassnet import tuning as kt``): each keras-tuner item of
issue 16 runs here on tiny data."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

import glassnet as gn
from glassnet import tuning as kt


def digits(n=200):
    x, y = load_digits(return_X_y=True)
    x = (x[:n] / 16).astype("float32")
    return x[: n * 3 // 4], y[: n * 3 // 4], x[n * 3 // 4:], y[n * 3 // 4: n]


def build_model(hp):
    model = gn.Sequential()
    model.add(gn.layers.Dense(units=hp.Int("units", min_value=8, max_value=32, step=8), activation="relu",
                              input_shape=(64,)))
    if hp.Boolean("dropout"):
        model.add(gn.layers.Dropout(rate=0.25))
    model.add(gn.layers.Dense(10, activation="softmax"))
    learning_rate = hp.Float("lr", min_value=1e-3, max_value=1e-1, sampling="log")
    model.compile(optimizer=gn.optimizers.Adam(learning_rate=learning_rate), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def test_hyperparameters_outside_a_search_return_their_defaults():
    hp = kt.HyperParameters()
    assert hp.Int("units", min_value=32, max_value=512, step=32) == 32
    assert hp.Int("layers", 1, 3, default=2) == 2
    assert hp.Float("lr", 1e-4, 1e-2, sampling="log") == 1e-4
    assert hp.Choice("activation", ["relu", "tanh"]) == "relu"
    assert hp.Boolean("dropout") is False
    assert hp.Fixed("epochs", 5) == 5
    assert hp.values == {"units": 32, "layers": 2, "lr": 1e-4, "activation": "relu", "dropout": False, "epochs": 5}
    assert hp.get("units") == 32
    assert build_model(hp).layers[0].units == 32  # the value already set, as keras-tuner
    assert build_model(kt.HyperParameters()).layers[0].units == 8  # a build runs outside a search


def test_random_search_best_model_reproduces_its_trials_score():
    x, y, x_val, y_val = digits()
    tuner = kt.RandomSearch(build_model, objective=kt.Objective("val_accuracy", direction="max"), max_trials=3,
                            executions_per_trial=1, seed=0)
    tuner.search(x, y, epochs=2, validation_data=(x_val, y_val), verbose=0)
    assert len(tuner.tuner.results) == 3
    best_hp = tuner.get_best_hyperparameters(num_trials=1)[0]
    model = tuner.hypermodel.build(best_hp)
    assert model.layers[0].units == best_hp.get("units") == best_hp.values["units"]
    best_model = tuner.get_best_models(num_models=1)[0]
    _, accuracy = best_model.evaluate(x_val, y_val, verbose=0)
    assert accuracy == pytest.approx(tuner.tuner.best_value, abs=1e-12)
    scores = [t.value for t in tuner._best_trials(3)]
    assert scores == sorted(scores, reverse=True) and len(tuner.get_best_hyperparameters(3)) == 3


def test_summaries_print_the_space_and_the_best_trials():
    x, y, x_val, y_val = digits()
    tuner = kt.RandomSearch(build_model, objective="val_accuracy", max_trials=2, seed=1)
    lines = []
    tuner.search_space_summary(print_fn=lines.append)
    assert "Default search space size: 3" in lines[0] and "units (Int)" in lines[0] and "dropout (Boolean)" in lines[0]
    tuner.search(x, y, epochs=1, validation_data=(x_val, y_val), verbose=0)
    tuner.results_summary(1, print_fn=lines.append)
    best = tuner.tuner.best_trial
    assert f"Trial {best.number:02d} summary" in lines[1] and f"Score: {best.value}" in lines[1]
    assert "Objective(name='val_accuracy', direction='max')" in lines[1]  # inferred from the name


def test_directory_resumes_and_overwrite_starts_afresh(tmp_path):
    x, y, x_val, y_val = digits()
    kwargs = dict(objective="val_accuracy", max_trials=2, seed=0, directory=tmp_path, project_name="digits")
    first = kt.RandomSearch(build_model, **kwargs)
    first.search(x, y, epochs=1, validation_data=(x_val, y_val), verbose=0)
    assert (tmp_path / "digits" / "models").is_dir()
    again = kt.RandomSearch(build_model, **kwargs)
    again.search(x, y, epochs=1, validation_data=(x_val, y_val), verbose=0)
    assert len(again.tuner.study.trials) == 2  # reloaded: the budget was already used
    saved = again.get_best_models()[0]  # loaded from the project folder, not retrained
    np.testing.assert_array_equal(saved.predict(x_val), first.get_best_models()[0].predict(x_val))
    fresh = kt.RandomSearch(build_model, overwrite=True, **kwargs)
    fresh.search(x, y, epochs=1, validation_data=(x_val, y_val), verbose=0)
    assert len(fresh.tuner.study.trials) == 2 and fresh.tuner.study.trials[0].number == 0


class TunedTraining(kt.HyperModel):
    def build(self, hp):
        return build_model(hp)

    def fit(self, hp, model, *args, **kwargs):
        return model.fit(*args, batch_size=hp.Choice("batch_size", [16, 64]), **kwargs)


def test_hypermodel_fit_tunes_training_arguments():
    x, y, x_val, y_val = digits()
    tuner = kt.RandomSearch(TunedTraining(), objective="val_accuracy", max_trials=3, seed=2)
    tuner.search(x, y, epochs=1, validation_data=(x_val, y_val), verbose=0)
    results = tuner.tuner.results
    assert set(results["state"]) == {"complete"} and set(results["batch_size"]) <= {16, 64}
    assert "batch_size" in tuner.get_best_hyperparameters()[0].values


class ScoredByHand(kt.HyperModel):
    def build(self, hp):
        return build_model(hp)

    def fit(self, hp, model, x, y, validation_data=None, **kwargs):
        model.fit(x, y, epochs=1, verbose=0)  # the tuner's callbacks deliberately not passed on
        return {"val_accuracy": model.evaluate(*validation_data, verbose=0)[1]}


def test_hypermodel_fit_may_return_the_score_itself():
    x, y, x_val, y_val = digits()
    tuner = kt.RandomSearch(ScoredByHand(), objective="val_accuracy", max_trials=2, seed=0)
    tuner.search(x, y, epochs=1, validation_data=(x_val, y_val), verbose=0)
    assert list(tuner.tuner.results["state"]) == ["complete", "complete"]
    assert 0 < tuner.tuner.best_value <= 1


def test_grid_search_tries_every_combination():
    x, y, x_val, y_val = digits()

    def build(hp):
        model = gn.Sequential([gn.layers.Dense(hp.Choice("units", [8, 16]), activation="relu", input_shape=(64,)),
                               gn.layers.Dense(10, activation="softmax")])
        model.compile(optimizer=gn.optimizers.Adam(hp.Float("lr", 0.01, 0.02, step=0.01)),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    tuner = kt.GridSearch(build, objective="val_loss", seed=0)
    tuner.search(x, y, epochs=1, validation_data=(x_val, y_val), verbose=0)
    tried = {(t.params["units"], t.params["lr"]) for t in tuner.tuner.study.trials}
    assert tried == {(8, 0.01), (8, 0.02), (16, 0.01), (16, 0.02)}
    assert tuner.tuner.optimization_direction == "minimize"


def test_grid_search_names_a_parameter_defined_only_in_hypermodel_fit():
    x, y, x_val, y_val = digits()
    class GridTunedTraining(TunedTraining):
        def build(self, hp):
            model = gn.Sequential([gn.layers.Dense(hp.Choice("units", [4, 8]), activation="relu", input_shape=(64,)),
                                   gn.layers.Dense(10, activation="softmax")])
            model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
            return model

    tuner = kt.GridSearch(GridTunedTraining(), objective="val_accuracy")
    with pytest.raises(kt.SetupError, match="HyperModel.fit defines 'batch_size'"):
        tuner.search(x, y, epochs=1, validation_data=(x_val, y_val), verbose=0)


def test_hyperband_runs_keras_tuners_number_of_trials_up_to_max_epochs():
    assert kt.keras_tuner.hyperband_trials(81, 3) == 143  # brackets of 81, 34, 15, 8 and 5 sets
    assert kt.keras_tuner.hyperband_trials(4, 2) == 10
    x, y, x_val, y_val = digits()
    tuner = kt.Hyperband(build_model, objective="val_accuracy", max_epochs=4, factor=2, seed=0)
    tuner.search(x, y, epochs=1, validation_data=(x_val, y_val), verbose=0)  # epochs: set by max_epochs
    results = tuner.tuner.results
    assert len(results) == 10 and results["epochs"].max() == 4
    assert "pruned" in set(results["state"])  # stopped at a rung before max_epochs


def test_bayesian_optimization_starts_with_three_random_trials_per_parameter():
    tuner = kt.BayesianOptimization(build_model, objective="val_accuracy", max_trials=2, seed=0)
    assert tuner.num_initial_points == 9 and tuner.tuner.startup_trials == 9 and tuner.tuner.strategy == "tpe"
    x, y, x_val, y_val = digits()
    tuner.search(x, y, epochs=1, validation_data=(x_val, y_val), verbose=0)
    assert len(tuner.tuner.results) == 2
    with pytest.raises(ValueError, match="alpha and beta tune keras-tuner's Gaussian process"):
        kt.BayesianOptimization(build_model, objective="val_accuracy", beta=3.0)


def test_unsupported_arguments_are_refused_by_name():
    with pytest.raises(TypeError, match="'max_retries_per_trial' is not supported"):
        kt.RandomSearch(build_model, objective="val_accuracy", max_retries_per_trial=2)
    with pytest.raises(ValueError, match="Several objectives"):
        kt.RandomSearch(build_model, objective=["val_loss", "val_accuracy"])
    tuner = kt.RandomSearch(build_model, objective="val_accuracy", max_trials=1)
    x, y, x_val, y_val = digits()
    with pytest.raises(TypeError, match="'sample_weight'"):
        tuner.search(x, y, sample_weight=np.ones(len(y)))
    with pytest.raises(TypeError, match="Pass an instance"):
        kt.RandomSearch(TunedTraining, objective="val_accuracy")


def build_by_kind(hp):
    # keras-tuner's conditional scopes: "units" and "activation" exist in the "mlp" trials only.
    kind = hp.Choice("kind", ["mlp", "linear"])
    model = gn.Sequential([gn.Input(shape=(64,))])
    with hp.conditional_scope("kind", ["mlp"]):
        if kind == "mlp":
            activation = hp.Choice("activation", ["relu", "tanh"])
            with hp.conditional_scope("activation", "relu"):  # scopes nest
                if activation == "relu":
                    hp.Boolean("leaky")
            model.add(gn.layers.Dense(hp.Choice("units", [8, 16, 32], ordered=True), activation=activation))
    model.add(gn.layers.Dense(10, activation="softmax"))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_conditional_scope_defines_parameters_only_where_their_parent_allows():
    hp = kt.HyperParameters()
    hp.values["kind"] = "linear"
    assert len(build_by_kind(hp).layers) == 2 and hp.values == {"kind": "linear"}
    hp = kt.HyperParameters()
    build_by_kind(hp)
    assert hp.values == {"kind": "mlp", "activation": "relu", "leaky": False, "units": 8}
    with pytest.raises(ValueError, match="'speed', which is not defined yet"):
        with hp.conditional_scope("speed", ["fast"]):
            pass

    x, y, x_val, y_val = digits()
    tuner = kt.RandomSearch(build_by_kind, objective="val_accuracy", max_trials=6, seed=0)
    tuner.search(x, y, epochs=1, validation_data=(x_val, y_val), verbose=0)
    params = [trial.params for trial in tuner.tuner.study.trials]
    assert {p["kind"] for p in params} == {"mlp", "linear"}
    for p in params:
        assert ("units" in p) == (p["kind"] == "mlp")
        assert ("leaky" in p) == (p.get("activation") == "relu")


def test_choice_takes_keras_tuners_ordered_flag():
    hp = kt.HyperParameters()
    assert hp.Choice("units", [32, 8, 16], ordered=False) == 32
    assert hp.space["units"]["ordered"] is False
    hp.Choice("width", [1, 2, 4])
    hp.Choice("activation", ["relu", "tanh"])
    assert hp.space["width"]["ordered"] is True and hp.space["activation"]["ordered"] is False  # keras-tuner's default
    with pytest.raises(ValueError, match="ordered=True\\) needs numbers"):
        hp.Choice("optimizer", ["adam", "sgd"], ordered=True)
    lines = []
    kt.RandomSearch(build_by_kind, objective="val_accuracy", max_trials=1).search_space_summary(print_fn=lines.append)
    assert "'values': [8, 16, 32], 'ordered': True" in lines[0]
