"""Metrics against sklearn.metrics: one-shot, weighted, and accumulated over uneven batches."""

import json

import numpy as np
import pytest
from sklearn import metrics as skm

import glassnet as gn
from glassnet import metrics

N, C = 101, 4
#: uneven batch boundaries, so a per-batch average would differ from the epoch figure.
BATCHES = [slice(0, 7), slice(7, 40), slice(40, 41), slice(41, N)]
RTOL = 1e-12


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def softmax_rows(rng, n=N, c=C):
    z = rng.normal(size=(n, c)) * 2
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def accumulate(metric, y_true, y_pred, sample_weight=None, batches=BATCHES):
    metric.reset_state()
    for s in batches:
        metric.update_state(y_true[s], y_pred[s], None if sample_weight is None else sample_weight[s])
    return metric.result()


def check(metric, y_true, y_pred, oracle, weights):
    """The metric equals ``oracle(sample_weight)`` one-shot, batched, and with ``weights``."""
    for w in (None, weights):
        want = oracle(w)
        assert metric(y_true, y_pred, w) == pytest.approx(want, rel=RTOL, abs=1e-15)
        assert accumulate(metric, y_true, y_pred, w) == pytest.approx(want, rel=RTOL, abs=1e-15)
    # Weights matter, so the weighted comparison above tests something.
    assert oracle(None) != pytest.approx(oracle(weights), rel=1e-6)


# -- accuracy ------------------------------------------------------------------------------------
@pytest.mark.parametrize("target_shape", ["(N,)", "(N,1)"])
def test_accuracy_binary_probabilities(rng, target_shape):
    y = rng.integers(0, 2, size=N)
    p = rng.uniform(size=(N, 1))
    w = rng.uniform(0.1, 3, size=N)
    y_in = y if target_shape == "(N,)" else y[:, None].astype(float)
    check(metrics.Accuracy(), y_in, p, lambda sw: skm.accuracy_score(y, p[:, 0] > 0.5, sample_weight=sw), w)
    check(metrics.Accuracy(), y_in, p[:, 0], lambda sw: skm.accuracy_score(y, p[:, 0] > 0.5, sample_weight=sw), w)


@pytest.mark.parametrize("target_shape", ["(N,)", "(N,1)"])
def test_accuracy_sparse_labels(rng, target_shape):
    y = rng.integers(0, C, size=N)
    p = softmax_rows(rng)
    w = rng.uniform(0.1, 3, size=N)
    y_in = y if target_shape == "(N,)" else y[:, None]
    oracle = lambda sw: skm.accuracy_score(y, p.argmax(1), sample_weight=sw)  # noqa: E731
    check(metrics.Accuracy(), y_in, p, oracle, w)
    check(metrics.SparseCategoricalAccuracy(), y_in, p, oracle, w)


def test_accuracy_one_hot(rng):
    y = rng.integers(0, C, size=N)
    onehot = np.eye(C)[y]
    p = softmax_rows(rng)
    w = rng.uniform(0.1, 3, size=N)
    oracle = lambda sw: skm.accuracy_score(y, p.argmax(1), sample_weight=sw)  # noqa: E731
    check(metrics.Accuracy(), onehot, p, oracle, w)
    check(metrics.CategoricalAccuracy(), onehot, p, oracle, w)


def test_accuracy_picks_the_kind_from_shapes(rng):
    """Each input layout is read the right way, not as another kind that happens to agree."""
    p = np.array([[0.1, 0.7, 0.2], [0.6, 0.3, 0.1]])
    assert metrics.Accuracy()(np.array([1, 0]), p) == 1.0                  # sparse
    assert metrics.Accuracy()(np.array([[1], [2]]), p) == 0.5              # sparse (N, 1)
    assert metrics.Accuracy()(np.array([[0, 0, 1], [1, 0, 0]]), p) == 0.5  # one-hot
    assert metrics.Accuracy()(np.array([1, 1]), np.array([[0.7], [0.4]])) == 0.5  # binary


@pytest.mark.parametrize("threshold", [0.5, 0.3, 0.8])
def test_binary_accuracy_threshold(rng, threshold):
    y = rng.integers(0, 2, size=(N, 1))
    p = rng.uniform(size=(N, 1))
    w = rng.uniform(0.1, 3, size=N)
    check(metrics.BinaryAccuracy(threshold=threshold), y, p,
          lambda sw: skm.accuracy_score(y[:, 0], p[:, 0] > threshold, sample_weight=sw), w)
    check(metrics.Accuracy(threshold=threshold), y, p,
          lambda sw: skm.accuracy_score(y[:, 0], p[:, 0] > threshold, sample_weight=sw), w)


def test_binary_accuracy_multi_label_averages_each_row(rng):
    y = rng.integers(0, 2, size=(N, 3))
    p = rng.uniform(size=(N, 3))
    w = rng.uniform(0.1, 3, size=N)
    per_row = ((p > 0.5) == y).mean(axis=1)
    check(metrics.BinaryAccuracy(), y, p, lambda sw: np.average(per_row, weights=sw), w)


# -- precision, recall ---------------------------------------------------------------------------
@pytest.mark.parametrize("cls,oracle", [(metrics.Precision, skm.precision_score), (metrics.Recall, skm.recall_score)])
@pytest.mark.parametrize("threshold", [0.5, 0.3])
def test_precision_recall_binary(rng, cls, oracle, threshold):
    y = rng.integers(0, 2, size=(N, 1))
    p = rng.uniform(size=(N, 1))
    w = rng.uniform(0.1, 3, size=N)
    check(cls(threshold=threshold), y, p, lambda sw: oracle(y[:, 0], p[:, 0] > threshold, sample_weight=sw), w)


@pytest.mark.parametrize("cls,oracle", [(metrics.Precision, skm.precision_score), (metrics.Recall, skm.recall_score)])
@pytest.mark.parametrize("sparse", [False, True], ids=["one-hot", "sparse"])
def test_precision_recall_multiclass_micro_and_class_id(rng, cls, oracle, sparse):
    y = rng.integers(0, C, size=N)
    onehot = np.eye(C)[y]
    p = softmax_rows(rng)
    w = rng.uniform(0.1, 3, size=N)
    y_in = y[:, None] if sparse else onehot
    # Without class_id: every (sample, class) entry is one binary decision (Keras' default).
    check(cls(threshold=0.3), y_in, p,
          lambda sw: oracle(onehot.ravel(), p.ravel() > 0.3,
                            sample_weight=None if sw is None else np.repeat(sw, C)), w)
    for k in range(C):
        check(cls(class_id=k), y_in, p, lambda sw, k=k: oracle(y == k, p[:, k] > 0.5, sample_weight=sw), w)


@pytest.mark.parametrize("cls,oracle", [(metrics.Precision, skm.precision_score), (metrics.Recall, skm.recall_score)])
@pytest.mark.parametrize("thresholds", [0.3, [0.3], (0.3,), np.array([0.3])], ids=["float", "list", "tuple", "array"])
def test_precision_recall_accept_keras_thresholds_spelling(rng, cls, oracle, thresholds):
    """Keras code, ``Precision(thresholds=0.3)``, runs unchanged and means threshold=0.3."""
    y = rng.integers(0, 2, size=(N, 1))
    p = rng.uniform(size=(N, 1))
    w = rng.uniform(0.1, 3, size=N)
    metric = cls(thresholds=thresholds)
    assert metric.threshold == 0.3
    check(metric, y, p, lambda sw: oracle(y[:, 0], p[:, 0] > 0.3, sample_weight=sw), w)
    assert metric(y, p) != pytest.approx(cls()(y, p))  # 0.3 is not the 0.5 default: a real test
    assert cls(threshold=0.3, thresholds=thresholds).threshold == 0.3  # both, agreeing: fine
    clone = metrics.get({"class_name": cls.__name__, "config": json.loads(json.dumps(metric.get_config()))})
    assert clone.threshold == 0.3 and clone(y, p, w) == metric(y, p, w)


@pytest.mark.parametrize("cls", [metrics.Precision, metrics.Recall])
def test_precision_recall_threshold_spellings_are_checked(cls):
    assert cls().threshold == 0.5 and cls(thresholds=None).threshold == 0.5
    with pytest.raises(ValueError, match=rf"{cls.__name__} supports a single threshold.*0.2, 0.5"):
        cls(thresholds=[0.2, 0.5])
    with pytest.raises(ValueError, match="single threshold"):
        cls(thresholds=[])
    with pytest.raises(ValueError, match=r"threshold=0.3 and thresholds=0.5, which differ"):
        cls(threshold=0.3, thresholds=0.5)


def test_precision_recall_are_zero_when_undefined():
    y = np.array([0, 0, 0])
    p = np.array([0.1, 0.2, 0.3])
    assert metrics.Precision()(y, p) == 0.0 == skm.precision_score(y, p > 0.5, zero_division=0)
    assert metrics.Recall()(y, p) == 0.0 == skm.recall_score(y, p > 0.5, zero_division=0)


# -- AUC -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("curve,oracle", [("ROC", skm.roc_auc_score), ("PR", skm.average_precision_score)])
def test_auc_binary(rng, curve, oracle):
    y = rng.integers(0, 2, size=(N, 1))
    p = np.clip(0.3 * y + rng.uniform(size=(N, 1)), 0, 1)  # informative but imperfect scores
    w = rng.uniform(0.1, 3, size=N)
    check(metrics.AUC(curve=curve), y, p, lambda sw: oracle(y[:, 0], p[:, 0], sample_weight=sw), w)
    assert 0.55 < metrics.AUC(curve=curve)(y, p) < 0.99


@pytest.mark.parametrize("curve,oracle", [("ROC", skm.roc_auc_score), ("PR", skm.average_precision_score)])
def test_auc_multiclass_is_micro_averaged(rng, curve, oracle):
    y = rng.integers(0, C, size=N)
    onehot = np.eye(C)[y]
    p = softmax_rows(rng)
    w = rng.uniform(0.1, 3, size=N)
    micro = lambda sw: oracle(onehot, p, average="micro", sample_weight=sw)  # noqa: E731
    check(metrics.AUC(curve=curve), onehot, p, micro, w)
    check(metrics.AUC(curve=curve), y, p, micro, w)  # sparse labels are one-hot encoded first


def test_auc_rejects_unknown_curve():
    with pytest.raises(ValueError, match="curve must be 'ROC' or 'PR'"):
        metrics.AUC(curve="roc")


# -- regression ----------------------------------------------------------------------------------
@pytest.mark.parametrize("outputs", [1, 3])
def test_mae_mse(rng, outputs):
    y = rng.normal(size=(N, outputs))
    p = y + rng.normal(scale=0.5, size=(N, outputs))
    w = rng.uniform(0.1, 3, size=N)
    check(metrics.MeanAbsoluteError(), y, p, lambda sw: skm.mean_absolute_error(y, p, sample_weight=sw), w)
    check(metrics.MeanSquaredError(), y, p, lambda sw: skm.mean_squared_error(y, p, sample_weight=sw), w)
    if outputs == 1:  # a (N,) target against (N, 1) predictions is one value per sample, not N x N
        check(metrics.MeanSquaredError(), y[:, 0], p, lambda sw: skm.mean_squared_error(y, p, sample_weight=sw), w)


def test_regression_accuracy_is_the_nnfs_formula(rng):
    y = rng.normal(size=(N, 1)) * 10
    p = y + rng.normal(scale=0.05, size=(N, 1))
    w = rng.uniform(0.1, 3, size=N)
    precision = np.std(y) / 250  # the book: accuracy_precision = np.std(y) / 250
    book = lambda sw: np.average(np.absolute(p - y)[:, 0] < precision, weights=sw)  # noqa: E731
    metric = metrics.RegressionAccuracy()
    metric.adapt(y)
    for sw in (None, w):
        assert accumulate(metric, y, p, sw) == pytest.approx(book(sw), rel=RTOL)
        assert metric(y, p, sw) == pytest.approx(book(sw), rel=RTOL)
    assert 0.1 < book(None) < 0.9  # the tolerance sits inside the error spread: a real test


def test_regression_accuracy_keeps_the_adapted_tolerance(rng):
    """Batches after adapt() use the training targets' std, not their own."""
    y_train = rng.normal(size=(N, 1)) * 10
    y = rng.normal(size=(N, 1))  # a much narrower batch
    p = y + rng.normal(scale=0.05, size=(N, 1))
    metric = metrics.RegressionAccuracy()
    metric.adapt(y_train)
    want = np.mean(np.abs(p - y) < np.std(y_train) / 250)
    assert accumulate(metric, y, p) == pytest.approx(want, rel=RTOL)
    assert metric(y, p) == pytest.approx(want, rel=RTOL)
    unadapted = metrics.RegressionAccuracy()
    assert unadapted(y, p) == pytest.approx(np.mean(np.abs(p - y) < np.std(y) / 250), rel=RTOL)
    assert want != pytest.approx(np.mean(np.abs(p - y) < np.std(y) / 250))


def test_regression_accuracy_fixed_tolerance_ignores_adapt(rng):
    y = rng.normal(size=N)
    p = y + rng.normal(scale=0.1, size=N)
    metric = metrics.RegressionAccuracy(tolerance=0.1)
    metric.adapt(y * 1000)
    assert metric(y, p) == pytest.approx(np.mean(np.abs(p - y) < 0.1), rel=RTOL)


def test_regression_accuracy_config_keeps_the_adapted_tolerance(rng):
    y_train = rng.normal(size=(N, 1)) * 10
    y = rng.normal(size=(N, 1))  # a much narrower batch: its own std would give another tolerance
    p = y + rng.normal(scale=0.05, size=(N, 1))
    metric = metrics.RegressionAccuracy(name="reg")
    metric.adapt(y_train)
    config = json.loads(json.dumps(metric.get_config()))
    assert config["adapted_tolerance"] == pytest.approx(np.std(y_train) / 250, rel=RTOL)
    clone = metrics.get({"class_name": "RegressionAccuracy", "config": config})
    assert clone(y, p) == metric(y, p) == np.mean(np.abs(p - y) < np.std(y_train) / 250)
    clone.adapt(y)  # fit on new targets learns again, as it does on a metric never saved
    assert clone(y, p) == np.mean(np.abs(p - y) < np.std(y) / 250) != metric(y, p)
    # Never adapted: nothing recorded, and the tolerance still comes from the first batch.
    fresh = metrics.RegressionAccuracy()
    assert fresh.get_config()["adapted_tolerance"] is None
    assert metrics.RegressionAccuracy.from_config(fresh.get_config())(y, p) == np.mean(
        np.abs(p - y) < np.std(y) / 250)
    # A fixed tolerance needs no learned one.
    assert metrics.RegressionAccuracy(tolerance=0.1).get_config()["adapted_tolerance"] is None


# -- state, names, configs -------------------------------------------------------------------------
ALL = [metrics.Accuracy, metrics.BinaryAccuracy, metrics.CategoricalAccuracy,
       metrics.SparseCategoricalAccuracy, metrics.Precision, metrics.Recall, metrics.AUC,
       metrics.MeanAbsoluteError, metrics.MeanSquaredError, metrics.RegressionAccuracy]


def _make(cls):
    # RegressionAccuracy without adapt() takes its tolerance from the first batch it sees.
    return cls(tolerance=0.05) if cls is metrics.RegressionAccuracy else cls()


def _inputs(cls, rng):
    y = rng.integers(0, 2, size=(N, 1))
    p = np.clip(0.3 * y + rng.uniform(size=(N, 1)), 0, 1)
    if cls is metrics.CategoricalAccuracy:
        return np.eye(2)[y[:, 0]], np.hstack([1 - p, p])
    if cls is metrics.SparseCategoricalAccuracy:
        return y, np.hstack([1 - p, p])
    return y.astype(float), p


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_reset_state_forgets_earlier_batches(cls, rng):
    y1, p1 = _inputs(cls, rng)
    y2, p2 = _inputs(cls, rng)
    metric = _make(cls)
    metric.update_state(y1[:, ::-1] if y1.shape[1] > 1 else 1 - y1, p1)  # a very different first batch
    metric.reset_state()
    metric.update_state(y2, p2)
    assert metric.result() == pytest.approx(_make(cls)(y2, p2), rel=RTOL)


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_call_is_one_shot_and_leaves_state_alone(cls, rng):
    y1, p1 = _inputs(cls, rng)
    y2, p2 = _inputs(cls, rng)
    metric = _make(cls)
    metric.update_state(y1, p1)
    before = metric.result()
    metric(y2, p2)
    assert metric.result() == before


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_config_round_trip(cls, rng):
    kwargs = {metrics.Precision: {"threshold": 0.3, "class_id": 0}, metrics.Recall: {"threshold": 0.7},
              metrics.AUC: {"curve": "PR"}, metrics.BinaryAccuracy: {"threshold": 0.2},
              metrics.RegressionAccuracy: {"tolerance": 0.25}}.get(cls, {})
    metric = cls(name="custom", **kwargs)
    config = json.loads(json.dumps(metric.get_config()))
    clone = metrics.get({"class_name": cls.__name__, "config": config})
    assert type(clone) is cls and clone.name == "custom" and clone.get_config() == metric.get_config()
    y, p = _inputs(cls, rng)
    assert clone(y, p) == metric(y, p)


@pytest.mark.parametrize(("name", "cls", "log_key"), [
    ("accuracy", metrics.Accuracy, "accuracy"), ("acc", metrics.Accuracy, "acc"),
    ("binary_accuracy", metrics.BinaryAccuracy, "binary_accuracy"),
    ("categorical_accuracy", metrics.CategoricalAccuracy, "categorical_accuracy"),
    ("sparse_categorical_accuracy", metrics.SparseCategoricalAccuracy, "sparse_categorical_accuracy"),
    ("precision", metrics.Precision, "precision"), ("recall", metrics.Recall, "recall"),
    ("auc", metrics.AUC, "auc"), ("AUC", metrics.AUC, "auc"),
    ("mae", metrics.MeanAbsoluteError, "mae"),
    ("mean_absolute_error", metrics.MeanAbsoluteError, "mean_absolute_error"),
    ("MeanAbsoluteError", metrics.MeanAbsoluteError, "mean_absolute_error"),
    ("mse", metrics.MeanSquaredError, "mse"), ("mean_squared_error", metrics.MeanSquaredError, "mean_squared_error"),
    ("regression_accuracy", metrics.RegressionAccuracy, "regression_accuracy"),
    ("Accuracy", metrics.Accuracy, "accuracy"),
])
def test_string_identifiers_name_the_log_key(name, cls, log_key):
    metric = metrics.get(name)
    assert type(metric) is cls
    assert metric.name == log_key
    assert metrics.get(name) is not metric  # a fresh object each time: no shared state


def test_default_names_are_keras_snake_case():
    """The log keys of metric objects: AUC() logs "auc" (and val_auc), as in Keras."""
    assert [cls().name for cls in ALL] == [
        "accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy", "precision",
        "recall", "auc", "mean_absolute_error", "mean_squared_error", "regression_accuracy"]


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match=r"Unknown metric 'accuarcy'.*accuracy.*auc.*mae.*precision.*recall"):
        metrics.get("accuarcy")
    with pytest.raises(TypeError, match="Valid names:.*accuracy"):
        metrics.get(3)
    with pytest.raises(ValueError, match="exactly the keys 'class_name' and 'config'"):
        metrics.get({"name": "accuracy"})


def test_empty_metric_reports_zero():
    for cls in ALL:
        assert cls().result() == 0.0


# -- through a model -----------------------------------------------------------------------------
def test_model_metrics_over_batches_equal_sklearn_on_predictions(rng):
    x = rng.normal(size=(N, 5)).astype("float32")
    y = rng.integers(0, 3, size=N)
    w = rng.uniform(0.1, 3, size=N)
    model = gn.Sequential([gn.layers.Dense(3, activation="softmax", input_shape=(5,))], seed=3)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy", gn.metrics.Recall(class_id=1), "auc"])
    logs = model.evaluate(x, y, batch_size=16, sample_weight=w, return_dict=True)
    p = model.predict(x).astype(np.float64)
    assert logs["accuracy"] == pytest.approx(skm.accuracy_score(y, p.argmax(1), sample_weight=w), rel=1e-12)
    assert logs["recall"] == pytest.approx(skm.recall_score(y == 1, p[:, 1] > 0.5, sample_weight=w), rel=1e-12)
    assert logs["auc"] == pytest.approx(
        skm.roc_auc_score(np.eye(3)[y], p, average="micro", sample_weight=w), rel=1e-12)


def fitted_with_regression_accuracy(rng):
    """A linear model fit once (learning the tolerance std(y_train)/250 ≈ 0.06), then set to
    exact weights with a bias of 0.01, and a validation set 100x narrower: its own std/250 ≈
    0.0006. The training tolerance gives accuracy 1.0 there, one learned from it 0.0."""
    x = rng.normal(size=(N, 2)).astype("float32")
    y = (x @ np.array([[3.0], [-1.0]]) * 5).astype("float32")
    model = gn.Sequential([gn.layers.Dense(1, input_shape=(2,))], seed=0)
    model.compile(optimizer=gn.optimizers.Adam(0.05), loss="mse", metrics=["regression_accuracy"])
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    model.set_weights([np.array([[15.0], [-5.0]], "float32"), np.array([0.01], "float32")])
    return model, x, y, x[:20] * 0.01, y[:20] * 0.01


def test_fit_adapts_regression_accuracy_to_the_training_targets(rng):
    model, _, y, x_val, y_val = fitted_with_regression_accuracy(rng)
    assert np.std(y) / 250 > 0.02 > 0.01 > 0.001 > np.std(y_val) / 250
    assert model.evaluate(x_val, y_val, return_dict=True)["regression_accuracy"] == 1.0


def test_saved_model_reports_the_same_regression_accuracy(rng, tmp_path):
    """The tolerance fit learned from the training targets is saved with the model."""
    model, x, y, x_val, y_val = fitted_with_regression_accuracy(rng)
    before = model.evaluate(x_val, y_val, return_dict=True)
    assert before["regression_accuracy"] == 1.0
    model.save(tmp_path / "model.glassnet")
    loaded = gn.load_model(tmp_path / "model.glassnet")
    assert loaded.evaluate(x_val, y_val, return_dict=True) == before
    assert loaded.evaluate(x, y, return_dict=True) == model.evaluate(x, y, return_dict=True)


# -- regression metrics as Keras' regression tutorials compile them --------------------------------
@pytest.mark.parametrize("outputs", [1, 3], ids=["one-output", "three-outputs"])
@pytest.mark.parametrize("name, oracle", [
    # Keras' root of the mean over every value (scikit-learn's RMSE averages per-column roots)
    ("rmse", lambda y, p, w: np.sqrt(skm.mean_squared_error(y, p, sample_weight=w))),
    ("root_mean_squared_error", lambda y, p, w: np.sqrt(skm.mean_squared_error(y, p, sample_weight=w))),
    ("mape", lambda y, p, w: 100 * skm.mean_absolute_percentage_error(y, p, sample_weight=w)),
    ("msle", lambda y, p, w: skm.mean_squared_log_error(y, p, sample_weight=w)),
    ("r2_score", lambda y, p, w: skm.r2_score(y, p, sample_weight=w)),
])
def test_regression_metrics_match_sklearn_over_uneven_batches(rng, name, oracle, outputs):
    # positive targets and predictions: MAPE divides by y, MSLE takes logs
    y = rng.uniform(0.5, 3.0, size=(N, outputs))
    p = y + rng.normal(scale=0.4, size=(N, outputs)).clip(-0.45, None)
    y, p = (y[:, 0], p[:, 0]) if outputs == 1 else (y, p)
    check(metrics.get(name), y, p, lambda w: oracle(y, p, w), rng.uniform(0.1, 2.0, N))


def test_r2_of_a_constant_column_and_the_keras_spellings():
    r2 = metrics.get("r2_score")
    y = np.array([[1.0, 2.0], [1.0, 4.0], [1.0, 6.0]])
    assert r2(y, y) == 1.0
    assert r2(y, np.array([[1.0, 3.0], [1.0, 4.0], [1.0, 5.0]])) == pytest.approx(skm.r2_score(
        y, np.array([[1.0, 3.0], [1.0, 4.0], [1.0, 5.0]])))
    for keras_name, cls in (("RootMeanSquaredError", metrics.RootMeanSquaredError),
                            ("MeanAbsolutePercentageError", metrics.MeanAbsolutePercentageError),
                            ("MeanSquaredLogarithmicError", metrics.MeanSquaredLogarithmicError),
                            ("R2Score", metrics.R2Score)):
        assert type(metrics.get(keras_name)) is cls
    model = gn.Sequential([gn.layers.Dense(1, input_shape=(2,))], seed=0)
    model.compile("adam", "mse", metrics=["mae", metrics.RootMeanSquaredError(), "r2_score"])
    x = np.random.default_rng(0).random((20, 2)).astype("float32")
    history = model.fit(x, x.sum(1), epochs=2, verbose=0, validation_split=0.25)
    assert {"root_mean_squared_error", "val_r2_score"} <= set(history.history)
    # a score: EarlyStopping and ModelCheckpoint in mode "auto" keep its highest epoch
    assert gn.callbacks.EarlyStopping(monitor="val_r2_score").mode == "max"
    assert gn.callbacks.EarlyStopping(monitor="val_root_mean_squared_error").mode == "min"
