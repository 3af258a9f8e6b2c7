"""glassnet.sklearn: scikit-learn's own estimator checks, and the estimators inside Pipeline,
ColumnTransformer, GridSearchCV and cross_val_score.

Expected failures of sklearn's checks, each with its reason (see EXPECTED_FAILURES below):
- check_sample_weight_equivalence_on_dense_data, and its twin on sparse data (run since the
  estimators accept SciPy sparse input): training is mini-batch gradient descent with
  shuffling, so a sample with weight 0 still takes a place in a batch and changes which samples
  share each step, and a sample with weight 2 takes one gradient step where its duplicate
  takes two; the fitted weights cannot equal those of the reduced or repeated data. scikit-learn
  marks the same check as an expected failure for its own SGDClassifier/SGDRegressor and runs it
  for MLPClassifier only with the full-batch lbfgs solver.
Skipped by scikit-learn itself, not by us: check_array_api_input, which only runs when the
environment variable SCIPY_ARRAY_API=1 is set before SciPy is imported.
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_classification, make_regression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_limits

import glassnet as gn
from glassnet.sklearn import NeuralClassifier, NeuralRegressor

SGD_WEIGHTS = ("mini-batch SGD with shuffling: zero or doubled weights are not equivalent to removing or "
               "repeating samples (scikit-learn expects the same failure of SGDClassifier)")
EXPECTED_FAILURES = {
    "check_sample_weight_equivalence_on_dense_data": SGD_WEIGHTS,
    "check_sample_weight_equivalence_on_sparse_data": SGD_WEIGHTS,
}

# Small networks and few epochs keep the ~60 checks per estimator at a few seconds; the
# learning rate is raised so that the checks' accuracy and R^2 bars are met in 25 epochs.
CHECKED = [
    NeuralClassifier(hidden_layer_sizes=(16,), learning_rate=0.02, epochs=25, batch_size=16, random_state=0),
    NeuralRegressor(hidden_layer_sizes=(16,), learning_rate=0.02, epochs=25, batch_size=16, random_state=0),
]


@pytest.fixture(autouse=True)
def _one_blas_thread():
    # Tiny matrix products: BLAS threads only fight over a busy machine's cores.
    with threadpool_limits(limits=1):
        yield


@parametrize_with_checks(CHECKED, expected_failed_checks=lambda est: EXPECTED_FAILURES)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def table(n=300, seed=0):
    """A frame with numeric and categorical columns and string labels."""
    X, y = make_classification(n, n_features=4, n_informative=3, n_redundant=0, random_state=seed)
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    df["band"] = np.where(X[:, 0] > 0.5, "high", np.where(X[:, 0] < -0.5, "low", "mid"))
    return df, np.where(y == 1, "approved", "declined")


def pipeline(**params):
    columns = ColumnTransformer([("num", StandardScaler(), ["a", "b", "c", "d"]),
                                 ("cat", OneHotEncoder(handle_unknown="ignore"), ["band"])])
    return make_pipeline(columns, NeuralClassifier(**{"learning_rate": 0.01, "epochs": 15, "random_state": 0,
                                                      **params}))


def test_pipeline_with_column_transformer_and_cross_val_score():
    df, y = table()
    scores = cross_val_score(pipeline(), df, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.85
    pipe = pipeline().fit(df, y)
    assert set(pipe.predict(df)) <= {"approved", "declined"}
    assert list(pipe.classes_) == ["approved", "declined"]


def test_grid_search_routes_parameters_with_double_underscores():
    df, y = table(200)
    grid = GridSearchCV(pipeline(epochs=5), {"neuralclassifier__hidden_layer_sizes": [(4,), (16, 8)],
                                             "neuralclassifier__learning_rate": [0.001, 0.01]}, cv=2)
    grid.fit(df, y)
    assert set(grid.best_params_) == {"neuralclassifier__hidden_layer_sizes", "neuralclassifier__learning_rate"}
    best = grid.best_estimator_.named_steps["neuralclassifier"]
    assert best.hidden_layer_sizes == grid.best_params_["neuralclassifier__hidden_layer_sizes"]
    assert len(best.model_.layers) == 1 + len(best.hidden_layer_sizes) + 1  # Input, hidden, output
    assert grid.score(df, y) == grid.best_estimator_.score(df, y)


def test_constructor_arguments_are_stored_unmodified_and_clone_copies_them():
    clf = NeuralClassifier(hidden_layer_sizes=[32, 16], optimizer="sgd", dropout=0.2, random_state=7)
    assert clf.get_params()["hidden_layer_sizes"] == [32, 16]
    assert clone(clf).get_params() == clf.get_params()
    clf.set_params(epochs=3, learning_rate=0.05)
    assert (clf.epochs, clf.learning_rate) == (3, 0.05)


def test_fit_returns_self_and_builds_the_described_network():
    X, y = make_classification(100, n_features=6, random_state=0)
    clf = NeuralClassifier(hidden_layer_sizes=(8, 4), dropout=0.1, optimizer="sgd", learning_rate=0.05,
                           epochs=2, random_state=0)
    assert clf.fit(X, y) is clf
    kinds = [type(layer).__name__ for layer in clf.model_.layers]
    assert kinds == ["Input", "Dense", "Dropout", "Dense", "Dropout", "Dense"]
    assert isinstance(clf.model_.optimizer, gn.optimizers.SGD) and clf.model_.optimizer.learning_rate == 0.05
    assert clf.n_features_in_ == 6 and clf.n_iter_ == 2 and len(clf.history_["loss"]) == 2


def test_same_random_state_same_model_and_probabilities_agree_with_the_network():
    X, y = make_classification(120, n_features=5, random_state=1)
    a = NeuralClassifier(epochs=3, random_state=5).fit(X, y)
    b = NeuralClassifier(epochs=3, random_state=5).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    p = a.model_.predict(X.astype(np.float32)).astype(np.float64)
    np.testing.assert_array_equal(a.predict_proba(X)[:, 1:], p)
    np.testing.assert_array_equal(a.predict(X), (p[:, 0] > 0.5).astype(int))


def test_multiclass_with_string_labels():
    X, y = make_classification(300, n_features=6, n_informative=4, n_classes=3, random_state=0)
    labels = np.array(["cat", "dog", "emu"])[y]
    clf = NeuralClassifier(hidden_layer_sizes=(32,), learning_rate=0.01, epochs=30, random_state=0).fit(X, labels)
    proba = clf.predict_proba(X)
    assert proba.shape == (300, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    assert clf.score(X, labels) > 0.85 and list(clf.classes_) == ["cat", "dog", "emu"]


def test_partial_fit_trains_one_epoch_per_call_and_needs_every_class_up_front():
    X, y = make_classification(200, n_features=5, random_state=0)
    clf = NeuralClassifier(learning_rate=0.01, random_state=0)
    clf.partial_fit(X[:100], y[:100], classes=[0, 1])
    before = clf.score(X, y)
    for _ in range(10):
        clf.partial_fit(X, y)
    assert clf.n_iter_ == 11 and clf.score(X, y) > before
    fresh = NeuralClassifier(random_state=0).partial_fit(X[y == 0], y[y == 0], classes=[0, 1])
    assert list(fresh.classes_) == [0, 1]
    with pytest.raises(ValueError, match=r"label\(s\) \[2\] not in classes_"):
        clf.partial_fit(X[:3], np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="X has 4 features, but NeuralClassifier is expecting 5"):
        clf.partial_fit(X[:, :4], y)


def test_early_stopping_stops_and_keeps_the_validation_history():
    X, y = make_classification(200, n_features=5, flip_y=0.3, random_state=0)
    clf = NeuralClassifier(hidden_layer_sizes=(64,), learning_rate=0.05, epochs=300, early_stopping=True,
                           validation_split=0.25, patience=3, random_state=0).fit(X, y)
    assert clf.n_iter_ < 300 and len(clf.history_["val_loss"]) == clf.n_iter_
    # "auto" (the default) holds nothing out of 20 samples (2 would be held out): all epochs run.
    small = NeuralClassifier(epochs=300).fit(X[:20], y[:20])
    assert small.n_iter_ == 300 and "val_loss" not in small.history_
    assert NeuralClassifier(early_stopping=False, epochs=30).fit(X, y).n_iter_ == 30


def test_default_recipe_stops_early_and_keeps_the_best_epochs_weights():
    # Noisy labels and 17 useless features: the held-out loss bottoms out, then climbs.
    X, y = make_classification(400, n_features=20, n_informative=3, flip_y=0.3, random_state=0)
    clf = NeuralClassifier(random_state=0).fit(X, y)
    best = int(np.argmin(clf.history_["val_loss"]))
    assert clf.n_iter_ == best + 1 + clf.patience < clf.epochs
    # The same run cut at the best epoch (same seed: same split, same batches) ends with the
    # weights the early-stopped run restored.
    cut = clone(clf).set_params(epochs=best + 1).fit(X, y)
    assert cut.n_iter_ == best + 1
    np.testing.assert_array_equal(clf.predict_proba(X), cut.predict_proba(X))
    # partial_fit never holds data out, as scikit-learn's MLPClassifier
    assert "val_loss" not in NeuralClassifier(random_state=0).partial_fit(X, y).history_


def test_regressor_single_and_multiple_outputs():
    X, y = make_regression(300, n_features=4, n_targets=2, noise=0.1, random_state=0)
    y = y / y.std(axis=0)
    multi = NeuralRegressor(hidden_layer_sizes=(32,), learning_rate=0.01, epochs=60, random_state=0).fit(X, y)
    assert multi.predict(X).shape == (300, 2) and multi.score(X, y) > 0.95
    single = NeuralRegressor(hidden_layer_sizes=(32,), learning_rate=0.01, epochs=60, random_state=0).fit(X, y[:, 0])
    assert single.predict(X).shape == (300,) and single.score(X, y[:, 0]) > 0.95


@pytest.mark.parametrize("params, message", [
    ({"hidden_layer_sizes": (0,)}, "hidden_layer_sizes must be positive integers"),
    ({"epochs": -1}, "epochs must be an integer >= 0"),
    ({"dropout": 1.0}, r"dropout must be in \[0, 1\)"),
    ({"learning_rate": 0}, "learning_rate must be > 0"),
    ({"early_stopping": True, "validation_split": 0}, "validation_split must be in"),
    ({"validation_split": 1.0}, r"validation_split must be in \(0, 1\) with early_stopping='auto'"),
    ({"early_stopping": "yes"}, "early_stopping must be True, False or 'auto'"),
    ({"alpha": -1.0}, "alpha must be >= 0"),
])
def test_bad_parameters_are_reported_at_fit(params, message):
    X, y = make_classification(20, n_features=3, n_informative=2, n_redundant=0, random_state=0)
    with pytest.raises(ValueError, match=message):
        NeuralClassifier(**params).fit(X, y)


def test_one_class_is_refused_with_a_clear_message():
    with pytest.raises(ValueError, match="needs at least 2 classes to train; y holds one class"):
        NeuralClassifier().fit(np.zeros((5, 2)), np.ones(5))
