"""SciPy sparse inputs (OneHotEncoder's default output) in fit, evaluate, predict and the
scikit-learn estimators: the same results as dense inputs, densified one batch at a time."""

import tracemalloc

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import glassnet as gn
from glassnet import layers
from glassnet.datasets import ArraySource
from glassnet.sklearn import NeuralClassifier, NeuralRegressor
from tests.shared_data import SHARED_DATA

FORMATS = [sp.csr_matrix, sp.csc_matrix, sp.coo_matrix, sp.csr_array, sp.coo_array]


def one_hot_like(n=120, d=30, seed=0):
    """A sparse 0/1 matrix with a few numeric columns, and binary targets that depend on it."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, d), dtype=np.float64)
    x[np.arange(n), rng.integers(3, d, n)] = 1.0
    x[:, :3] = rng.normal(size=(n, 3))
    y = ((x[:, 0] + x[:, 3:15].sum(axis=1)) > 0.5).astype(np.float32)
    return x, y


def classifier(d, seed=0):
    model = gn.Sequential([layers.Dense(8, activation="relu", input_shape=(d,)),
                           layers.Dense(1, activation="sigmoid")], seed=seed)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.__name__)
def test_sparse_and_dense_inputs_train_to_the_same_weights_bit_for_bit(fmt):
    x, y = one_hot_like()
    dense, sparse = classifier(x.shape[1]), classifier(x.shape[1])
    h_dense = dense.fit(x, y, epochs=3, batch_size=16, validation_split=0.2, verbose=0)
    h_sparse = sparse.fit(fmt(x), y, epochs=3, batch_size=16, validation_split=0.2, verbose=0)
    for a, b in zip(dense.get_weights(), sparse.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert h_dense.history == h_sparse.history  # the validation part was split and scored alike
    np.testing.assert_array_equal(dense.predict(x, batch_size=50), sparse.predict(fmt(x), batch_size=50))
    assert dense.evaluate(x, y, batch_size=50) == sparse.evaluate(fmt(x), y, batch_size=50)


def test_sparse_validation_data_and_batch_sources():
    x, y = one_hot_like()
    dense, sparse = classifier(x.shape[1]), classifier(x.shape[1])
    dense.fit(x[:90], y[:90], epochs=2, validation_data=(x[90:], y[90:]), verbose=0)
    history = sparse.fit(sp.csr_matrix(x[:90]), y[:90], epochs=2,
                         validation_data=(sp.coo_matrix(x[90:]), y[90:]), verbose=0)
    assert history.history == dense.history.history
    dense, sparse = classifier(x.shape[1]), classifier(x.shape[1])
    dense.fit(ArraySource(x[:90], y[:90], batch_size=32, shuffle=True), epochs=2, verbose=0)
    sparse.fit(ArraySource(sp.coo_matrix(x[:90]), y[:90], batch_size=32, shuffle=True), epochs=2, verbose=0)
    np.testing.assert_array_equal(sparse.predict(ArraySource(sp.csc_matrix(x[90:]))), dense.predict(x[90:]))


def test_fit_evaluate_and_predict_never_densify_the_whole_matrix():
    # 4,000 x 25,000 float32 would take 400 MB dense; one batch of 32 rows takes 3.2 MB.
    n, d = 4000, 25_000
    rng = np.random.default_rng(0)
    x = sp.csr_matrix((np.ones(5 * n), rng.integers(0, d, 5 * n), np.arange(0, 5 * n + 1, 5)), shape=(n, d))
    y = (x[:, : d // 2].sum(axis=1).A.ravel() > 2).astype(np.float32)
    model = gn.Sequential([layers.Dense(2, activation="relu", input_shape=(d,)),
                           layers.Dense(1, activation="sigmoid")], seed=0)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    tracemalloc.start()
    try:
        model.fit(x, y, epochs=1, batch_size=32, validation_split=0.1, verbose=0)
        model.evaluate(x, y)
        model.predict(x)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    dense_bytes = n * d * 4
    # Inference batches of 256 rows (26 MB dense) are the largest; two may be alive at once.
    assert peak < dense_bytes / 4, f"peak {peak / 1e6:.0f} MB while the dense matrix is {dense_bytes / 1e6:.0f} MB"


@pytest.mark.parametrize("estimator, target", [(NeuralClassifier, lambda y: y.astype(int)),
                                               (NeuralRegressor, lambda y: y * 2.0 - 1.0)])
def test_estimators_take_sparse_input_with_the_same_result_as_dense(estimator, target):
    x, y = one_hot_like(n=250)  # enough rows for early_stopping="auto" to hold 25 out
    params = {"hidden_layer_sizes": (8,), "epochs": 3, "random_state": 0}
    dense = estimator(**params).fit(x, target(y))
    sparse = estimator(**params).fit(sp.csr_matrix(x), target(y))
    assert "val_loss" in sparse.history_ and dense.history_ == sparse.history_
    for a, b in zip(dense.model_.get_weights(), sparse.model_.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(dense.predict(x), sparse.predict(sp.csc_array(x)))


def categorical_table(n=400, seed=0):
    """Two numeric columns and two string categories, wide enough that ColumnTransformer's
    output is sparse (density below its sparse_threshold of 0.3)."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                       "city": rng.choice([f"city{i}" for i in range(20)], n),
                       "plan": rng.choice(["basic", "plus", "pro", "team", "free", "edu"], n)})
    score = df["a"] + (df["plan"].isin(["pro", "team"])) * 1.5 - df["city"].isin(["city1", "city2"]) * 1.5
    return df, np.where(score > 0.3, "yes", "no")


def test_the_pipeline_from_the_issue_with_one_hot_encoder_output_sparse():
    df, y = categorical_table()
    columns = ColumnTransformer([("num", StandardScaler(), ["a", "b"]),
                                 ("cat", OneHotEncoder(handle_unknown="ignore"), ["city", "plan"])])
    assert sp.issparse(columns.fit_transform(df))  # what made NeuralClassifier raise before
    pipe = make_pipeline(columns, NeuralClassifier(random_state=0)).fit(df[:300], y[:300])
    assert pipe.score(df[300:], y[300:]) > 0.8  # 53 % of the rows are "yes"
    unseen = df.head(3).assign(city="atlantis")  # handle_unknown="ignore": an all-zero one-hot row
    assert set(pipe.predict(unseen)) <= {"yes", "no"}


def test_the_pipeline_on_adult_census_rows():
    path = SHARED_DATA / "adult.csv.gz"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    df = pd.read_csv(path, na_values="?", skipinitialspace=True, nrows=3000)
    y = df.pop("income")
    categorical = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
    numeric = [c for c in df.columns if c not in categorical]
    columns = ColumnTransformer([
        ("num", StandardScaler(), numeric),
        ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")),
         categorical)])
    assert sp.issparse(columns.fit_transform(df))
    pipe = make_pipeline(columns, NeuralClassifier(random_state=0)).fit(df[:2000], y[:2000])
    assert pipe.score(df[2000:], y[2000:]) > 0.8  # the majority class alone scores about 0.76


def test_sparse_where_it_cannot_work_is_refused_with_the_fix():
    x, y = one_hot_like()
    model = classifier(x.shape[1])
    with pytest.raises(ValueError, match=r"y is a SciPy sparse matrix; targets must be dense: pass y\.toarray\(\)"):
        model.fit(sp.csr_matrix(x), sp.csr_matrix(y.reshape(-1, 1)), verbose=0)
    with pytest.raises(ValueError, match=r"sample_weight is a SciPy sparse .* pass sample_weight\.toarray\(\) here"):
        model.fit(x, y, sample_weight=sp.csr_matrix(np.ones((1, len(y)))), verbose=0)
    with pytest.raises(ValueError, match=r"x is a SciPy sparse csr_matrix, which only fit, evaluate and predict take"):
        model.explain(sp.csr_matrix(x[:4]))
    with pytest.raises(ValueError, match="diagnose=True needs dense inputs"):
        model.fit(sp.csr_matrix(x), y, diagnose=True, verbose=0)
    bad = sp.csr_matrix(x)
    bad.data[7] = np.nan
    with pytest.raises(ValueError, match=r"x contains NaN or infinite values in 1 row\(s\)"):
        model.fit(bad, y, verbose=0)
    images = gn.Sequential([layers.Conv2D(2, 3, input_shape=(5, 6, 1)), layers.Flatten(), layers.Dense(1)], seed=0)
    images.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match=r"x is a SciPy sparse matrix, 2-D \(N, 30\), but the model's input expects "
                                         r"per-sample shape \(5, 6, 1\)\. .*layers\.Reshape\(\(5, 6, 1\)\)"):
        images.fit(sp.csr_matrix(x), y, verbose=0)
    reshaped = gn.Sequential([layers.Reshape((5, 6, 1), input_shape=(30,)), layers.Conv2D(2, 3), layers.Flatten(),
                              layers.Dense(1)], seed=0)
    reshaped.compile(optimizer="adam", loss="mse")
    reshaped.fit(sp.csr_matrix(x), y, verbose=0)  # the fix the message names
