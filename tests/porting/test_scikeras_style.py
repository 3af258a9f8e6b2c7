"""Programs written as SciKeras users write them, with only the imports changed
(``from scikeras.wrappers import KerasClassifier`` -> ``from glassnet.wrappers import ...``):
each SciKeras item of issue 16 runs here on tiny data.

scikit-learn's own estimator checks run on both wrappers with the expected failures of
``NeuralClassifier`` (tests/test_sklearn_compat.py) and for the same reason: mini-batch SGD with
shuffling cannot make zero or doubled sample weights equal removed or repeated samples.
"""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits, make_classification, make_regression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_limits

import glassnet as gn
from glassnet.wrappers import KerasClassifier, KerasRegressor

SGD_WEIGHTS = ("mini-batch SGD with shuffling: zero or doubled weights are not equivalent to removing or "
               "repeating samples (as NeuralClassifier, and scikit-learn's SGDClassifier)")
EXPECTED_FAILURES = {
    "check_sample_weight_equivalence_on_dense_data": SGD_WEIGHTS,
    "check_sample_weight_equivalence_on_sparse_data": SGD_WEIGHTS,
}


def any_classifier(meta, compile_kwargs, hidden=16):
    """Binary or multiclass from ``meta``, compiled here with the wrapper's optimizer."""
    n_classes = meta["n_classes_"]
    model = gn.Sequential([gn.layers.Input((meta["n_features_in_"],)), gn.layers.Dense(hidden, activation="relu"),
                           gn.layers.Dense(1 if n_classes == 2 else n_classes,
                                           activation="sigmoid" if n_classes == 2 else "softmax")])
    model.compile(optimizer=compile_kwargs["optimizer"],
                  loss="binary_crossentropy" if n_classes == 2 else "sparse_categorical_crossentropy")
    return model


def any_regressor(meta, hidden=16):
    """Uncompiled: the wrapper compiles it with its optimizer and loss."""
    return gn.Sequential([gn.layers.Input((meta["n_features_in_"],)), gn.layers.Dense(hidden, activation="relu"),
                          gn.layers.Dense(meta["n_outputs_"])])


# Constructor arguments only: sklearn's check_no_attributes_set_in_init fails, by its definition,
# any instance given extra keyword parameters (model__hidden=...), as SciKeras also notes; routed
# parameters are tested below (clone, set_params, Pipeline, GridSearchCV).
CHECKED = [
    KerasClassifier(any_classifier, optimizer=gn.optimizers.Adam(0.02), epochs=25, batch_size=16, verbose=0,
                    random_state=0),
    KerasRegressor(any_regressor, optimizer=gn.optimizers.Adam(0.02), loss="mse", epochs=25, batch_size=16, verbose=0,
                   random_state=0),
]


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with threadpool_limits(limits=1):
        yield


@parametrize_with_checks(CHECKED, expected_failed_checks=lambda est: EXPECTED_FAILURES)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def mlp(hidden_layer_sizes, meta):
    model = gn.Sequential([gn.layers.Input((meta["n_features_in_"],))])
    for units in hidden_layer_sizes:
        model.add(gn.layers.Dense(units, activation="relu"))
    model.add(gn.layers.Dense(meta["n_classes_"], activation="softmax"))
    return model


def test_routing_reaches_the_build_function_optimizer_and_fit():
    X, y = make_classification(120, n_features=6, random_state=0)
    clf = KerasClassifier(model=mlp, model__hidden_layer_sizes=(8, 4), optimizer=gn.optimizers.SGD,
                          optimizer__learning_rate=0.05, optimizer__momentum=0.9,
                          loss="sparse_categorical_crossentropy", metrics=["accuracy"], epochs=3,
                          fit__validation_split=0.25, verbose=0, random_state=0)
    assert clf.fit(X, y) is clf
    assert [layer.units for layer in clf.model_.layers[1:]] == [8, 4, 2]
    optimizer = clf.model_.optimizer
    assert isinstance(optimizer, gn.optimizers.SGD) and (optimizer.learning_rate, optimizer.momentum) == (0.05, 0.9)
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(clf.history_) and len(clf.history_["loss"]) == 3
    assert clf.n_features_in_ == 6 and list(clf.classes_) == [0, 1] and clf.predict_proba(X).shape == (120, 2)


def test_top_level_parameters_reach_the_build_function_by_name_and_typos_are_refused():
    X, y = make_classification(60, n_features=4, random_state=0)
    clf = KerasClassifier(mlp, hidden_layer_sizes=(5,), loss="sparse_categorical_crossentropy", verbose=0)
    assert clf.fit(X, y).model_.layers[1].units == 5
    with pytest.raises(ValueError, match=r"\['hiden_layer_sizes'\] that the build function 'mlp' does not take"):
        KerasClassifier(mlp, hiden_layer_sizes=(5,), loss="sparse_categorical_crossentropy", verbose=0).fit(X, y)
    with pytest.raises(ValueError, match="uncompiled model and KerasClassifier has no loss"):
        KerasClassifier(mlp, model__hidden_layer_sizes=(5,), verbose=0).fit(X, y)


def test_clone_pipeline_and_grid_search_over_routed_parameters():
    X, y = make_classification(160, n_features=5, random_state=1)
    clf = KerasClassifier(mlp, model__hidden_layer_sizes=(8,), loss="sparse_categorical_crossentropy",
                          optimizer="adam", optimizer__learning_rate=0.01, epochs=5, verbose=0, random_state=0)
    copy = clone(clf)
    assert copy.get_params() == clf.get_params() and copy.model__hidden_layer_sizes == (8,)
    pipe = Pipeline([("scale", StandardScaler()), ("net", clf)])
    grid = GridSearchCV(pipe, {"net__model__hidden_layer_sizes": [(4,), (16, 8)],
                               "net__optimizer__learning_rate": [0.001, 0.05]}, cv=2)
    grid.fit(X, y)
    best = grid.best_estimator_.named_steps["net"]
    assert best.model__hidden_layer_sizes == grid.best_params_["net__model__hidden_layer_sizes"]
    assert [layer.units for layer in best.model_.layers[1:-1]] == list(best.model__hidden_layer_sizes)
    assert best.model_.optimizer.learning_rate == grid.best_params_["net__optimizer__learning_rate"]
    assert cross_val_score(pipe, X, y, cv=2).shape == (2,)


def test_the_wrappers_are_importable_beside_the_other_estimators():
    import glassnet.sklearn

    assert glassnet.sklearn.KerasClassifier is KerasClassifier and gn.wrappers.KerasRegressor is KerasRegressor


def test_same_random_state_same_model():
    X, y = make_classification(80, n_features=4, random_state=2)
    kwargs = dict(model__hidden_layer_sizes=(8,), loss="sparse_categorical_crossentropy", epochs=2, verbose=0)
    a = KerasClassifier(mlp, random_state=4, **kwargs).fit(X, y)
    b = KerasClassifier(mlp, random_state=4, **kwargs).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def cnn(meta):
    height, width = meta["X_shape_"][1:3]
    return gn.Sequential([gn.layers.Input((height, width, 1)), gn.layers.Conv2D(4, 3, activation="relu"),
                          gn.layers.MaxPooling2D(2), gn.layers.Flatten(),
                          gn.layers.Dense(meta["n_classes_"], activation="softmax")])


def test_a_cnn_on_images_with_string_labels_and_one_hot_targets():
    x, y = load_digits(return_X_y=True)
    images = (x[:300] / 16).reshape(-1, 8, 8, 1)
    labels = np.array([f"digit {d}" for d in y[:300]])
    clf = KerasClassifier(cnn, loss="categorical_crossentropy", optimizer="adam", optimizer__learning_rate=0.01,
                          epochs=8, verbose=0, random_state=0).fit(images, labels)
    assert clf.n_features_in_ == 8 and clf.X_shape_ == (300, 8, 8, 1) and clf.n_classes_ == 10
    assert clf.predict(images[:3]).dtype.kind == "U" and set(clf.predict(images)) <= set(labels)
    assert clf.score(images, labels) > 0.8


def test_a_prebuilt_compiled_model_and_the_regressor():
    X, y = make_regression(100, n_features=3, noise=0.1, random_state=0)
    y = y / y.std()
    model = gn.Sequential([gn.layers.Dense(16, activation="relu", input_shape=(3,)), gn.layers.Dense(1)], seed=0)
    model.compile(optimizer=gn.optimizers.Adam(0.02), loss="mse")
    reg = KerasRegressor(model=model, epochs=60, verbose=0).fit(X, y)
    assert reg.model_ is model and reg.predict(X).shape == (100,) and reg.score(X, y) > 0.9
    two = KerasRegressor(any_regressor, loss="mse", optimizer="adam", optimizer__learning_rate=0.02, epochs=2,
                         verbose=0).fit(X, np.c_[y, -y])
    assert two.predict(X).shape == (100, 2) and two.model_.layers[-1].units == 2


def test_warm_start_continues_and_partial_fit_trains_one_epoch():
    X, y = make_classification(100, n_features=4, random_state=0)
    kwargs = dict(model__hidden_layer_sizes=(8,), loss="sparse_categorical_crossentropy", epochs=2, verbose=0,
                  random_state=0)
    warm = KerasClassifier(mlp, warm_start=True, **kwargs).fit(X, y)
    first = warm.model_
    warm.fit(X, y)
    assert warm.model_ is first and len(warm.history_["loss"]) == 4
    cold = KerasClassifier(mlp, **kwargs).fit(X, y)
    cold_model = cold.model_
    assert cold.fit(X, y).model_ is not cold_model and len(cold.history_["loss"]) == 2
    partial = KerasClassifier(mlp, **kwargs)
    partial.partial_fit(X, y, classes=[0, 1])
    partial.partial_fit(X, y)
    assert len(partial.history_["loss"]) == 2


def test_a_text_model_takes_raw_strings_in_grid_search():
    """A build function whose model starts with a TextVectorization gets the texts as strings (a
    list, array or pandas column), in GridSearchCV too; they used to be cast to float and fail."""
    pd = pytest.importorskip("pandas")
    texts = ["a great film", "great fun", "a joy", "wonderful", "dull and boring", "awful plot", "bad film",
             "boring mess"] * 3
    labels = (["pos"] * 4 + ["neg"] * 4) * 3

    def build(units, meta):
        vectorize = gn.layers.TextVectorization(output_sequence_length=3)
        vectorize.adapt(texts)
        assert meta["n_features_in_"] == 1
        return gn.Sequential([gn.Input(shape=(1,), dtype="string"), vectorize, gn.layers.Embedding(16, 4),
                              gn.layers.LSTM(units), gn.layers.Dense(1, activation="sigmoid")])

    clf = KerasClassifier(build, loss="binary_crossentropy", optimizer="adam", optimizer__learning_rate=0.05,
                          model__units=2, epochs=20, batch_size=8, verbose=0, random_state=0)
    assert clf.fit(pd.Series(texts), labels).score(np.array(texts), labels) == 1.0
    assert clf.predict(["a great joy", "awful and dull"]).tolist() == ["pos", "neg"]
    search = GridSearchCV(clf, {"model__units": [2, 3]}, cv=2).fit(texts, labels)
    assert search.best_score_ > 0.5
