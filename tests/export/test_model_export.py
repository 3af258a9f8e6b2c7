"""The examples' models exported to ONNX: ONNX Runtime gives predict's numbers on real inputs
(Fashion-MNIST, chest X-rays, the Adult census table) and random ones, at batch sizes 1 and 37;
a model trained, saved and loaded exports to the same numbers."""

import runpy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from onnx_helpers import assert_onnx_matches_predict, randomize, raw_columns, run_onnx
from shared_data import SHARED_DATA

import glassnet as gn
from glassnet import layers

FASHION = Path("/usr/share/datasets/fashion-mnist")
PNEUMONIA = SHARED_DATA / "pneumoniamnist_balanced.npz"
ADULT = SHARED_DATA / "adult.csv.gz"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BATCHES = (1, 37)


@pytest.fixture(scope="module")
def fashion_images():
    if not (FASHION / "t10k-images-idx3-ubyte.gz").exists():
        pytest.skip(f"Fashion-MNIST is not in {FASHION}")
    _, (x_test, y_test) = gn.datasets.fashion_mnist.load_data(path=FASHION)
    return (x_test[:600, ..., None] / 255.0).astype("float32"), y_test[:600]


@pytest.fixture(scope="module")
def xrays():
    if not PNEUMONIA.exists():
        pytest.skip(f"{PNEUMONIA} is absent")
    x, y = gn.datasets.load_npz(PNEUMONIA, splits=("val",))["val"]
    return x[..., None].astype("float32"), y.astype("float32")  # raw 0..255 pixels


def check_batches(model, x):
    """ONNX Runtime against predict on the first 1 and 37 samples (x: an array or a list of arrays)."""
    proto = None
    for n in BATCHES:
        proto = assert_onnx_matches_predict(model, [xi[:n] for xi in x] if isinstance(x, list) else x[:n], proto)
    return proto


def fashion_cnn():  # examples/05_fashion_mnist_cnn.py
    return gn.Sequential([
        layers.Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)), layers.BatchNormalization(),
        layers.MaxPooling2D(), layers.Conv2D(64, 3, activation="relu"), layers.BatchNormalization(),
        layers.MaxPooling2D(), layers.Flatten(), layers.Dropout(0.3), layers.Dense(128, activation="relu"),
        layers.Dropout(0.3), layers.Dense(10, activation="softmax")], seed=0)


def test_fashion_mlp_on_real_images(fashion_images):  # examples/04_fashion_mnist_mlp.py
    model = gn.Sequential([layers.Dense(512, activation="relu", input_shape=(784,)), layers.Dropout(0.3),
                           layers.Dense(256, activation="relu"), layers.Dropout(0.3),
                           layers.Dense(10, activation="softmax")], seed=0)
    check_batches(model, fashion_images[0].reshape(-1, 784))


def test_fashion_cnn_on_real_images(fashion_images):
    model = fashion_cnn()
    randomize(model)  # moving statistics other than 0 and 1
    check_batches(model, fashion_images[0])


def test_pneumonia_cnn_with_augmentation_on_real_xrays(xrays):  # examples/06_pneumonia_cnn.py
    model = gn.Sequential([
        layers.Rescaling(1 / 255, input_shape=(28, 28, 1)),
        layers.RandomRotation(0.05, fill_mode="nearest"), layers.RandomTranslation(0.1, 0.1, fill_mode="nearest"),
        layers.RandomZoom(0.15, 0.15, fill_mode="nearest"),
        layers.Conv2D(32, 3, padding="same", activation="relu"), layers.BatchNormalization(momentum=0.9),
        layers.MaxPooling2D(), layers.Conv2D(64, 3, padding="same", activation="relu"),
        layers.BatchNormalization(momentum=0.9), layers.MaxPooling2D(), layers.Conv2D(128, 3, activation="relu"),
        layers.BatchNormalization(momentum=0.9), layers.GlobalAveragePooling2D(), layers.Dropout(0.3),
        layers.Dense(1, activation="sigmoid")], seed=0)
    randomize(model)
    check_batches(model, xrays[0])


def test_residual_graph_cnn_on_raw_xrays(xrays):  # examples/12_pneumonia_residual_cnn.py
    def residual_block(x, filters):
        y = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        y = layers.Conv2D(filters, 3, padding="same")(y)
        return layers.Activation("relu")(layers.Add()([x, y]))

    image = gn.Input((28, 28, 1), name="xray")
    x = layers.Rescaling(1 / 255)(image)
    x = layers.RandomRotation(0.05, fill_mode="nearest")(x)
    x = layers.Conv2D(32, 3, padding="same", activation="relu")(x)
    x = layers.MaxPooling2D()(residual_block(x, 32))
    x = layers.GlobalAveragePooling2D()(residual_block(x, 32))
    model = gn.Model(image, layers.Dense(1, activation="sigmoid", name="pneumonia")(x), name="residual_cnn", seed=0)
    proto = check_batches(model, xrays[0])
    assert [i.name for i in proto.graph.input] == ["xray"] and [o.name for o in proto.graph.output] == ["pneumonia"]


def test_mnist1d_conv1d_on_random_sequences():  # examples/10_mnist1d_conv1d.py
    model = gn.Sequential([
        layers.Conv1D(32, 5, padding="same", activation="relu", input_shape=(40, 1)), layers.BatchNormalization(),
        layers.Conv1D(32, 5, padding="same", activation="relu"), layers.MaxPooling1D(),
        layers.Conv1D(64, 3, padding="same", activation="relu"), layers.BatchNormalization(),
        layers.Conv1D(64, 3, padding="same", activation="relu"), layers.MaxPooling1D(), layers.Flatten(),
        layers.Dropout(0.3), layers.Dense(128, activation="relu"), layers.Dropout(0.3),
        layers.Dense(10, activation="softmax")], seed=0)
    randomize(model)
    check_batches(model, np.random.default_rng(0).normal(size=(37, 40, 1)).astype("float32"))


@pytest.fixture(scope="module")
def adult():
    if not ADULT.exists():
        pytest.skip(f"{ADULT} is absent")
    df = pd.read_csv(ADULT, nrows=4000)
    prep = gn.preprocessing.TabularPreprocessor(target="income", rare_min_count=50)
    X_train, X_test, y_train, _ = prep.split(df, test_size=0.25, seed=0)
    prep.fit(X_train)
    return prep, X_train, X_test, y_train


def test_two_input_adult_graph_on_real_rows(adult):  # examples/11_two_input_adult.py's own build function
    prep, _, X_test, _ = adult
    x = prep.transform(X_test)
    n_numeric = len(prep.numeric_columns_)
    two_input_model = runpy.run_path(str(EXAMPLES / "11_two_input_adult.py"))["two_input_model"]
    model = two_input_model(n_numeric, x.shape[1] - n_numeric)
    randomize(model)
    proto = check_batches(model, [x[:, :n_numeric], x[:, n_numeric:]])
    assert [i.name for i in proto.graph.input] == ["numbers", "categories"]
    assert [o.name for o in proto.graph.output] == ["income"]


def test_adult_mlp_with_its_preprocessor_takes_the_raw_columns(adult):  # examples/08_adult_income.py
    prep, X_train, X_test, y_train = adult
    model = gn.Sequential([layers.Input((prep.n_features_out,)), layers.Dense(64, activation="relu"),
                           layers.Dense(32, activation="relu"), layers.Dense(1, activation="sigmoid")], seed=42)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(prep.transform(X_train), y_train, batch_size=128, epochs=1, verbose=0)
    model.attach_preprocessor(prep)
    rows = X_test.iloc[:37].copy()
    assert (rows == "?").any().any()  # the census's own missing cells
    rows.iloc[0, rows.columns.get_loc("native-country")] = "Atlantis"  # unseen: into "Other"
    rows.iloc[1, rows.columns.get_loc("gender")] = "Unknown"  # unseen, no rare categories: all zeros
    rows.iloc[2, rows.columns.get_loc("age")] = np.nan  # missing number: the median
    proto = gn.export.to_onnx(model)
    assert [i.name for i in proto.graph.input] == prep.feature_names_in_
    for n in BATCHES:
        got = run_onnx(proto, [raw_columns(prep, rows[:n])[c] for c in prep.feature_names_in_])[0]
        np.testing.assert_allclose(got, model.predict(rows[:n]), rtol=1e-5, atol=1e-5)


def test_a_preprocessor_with_missing_numbers_and_rare_categories_exports_its_transform():
    rng = np.random.default_rng(0)
    n = 300
    df = pd.DataFrame({"size": rng.normal(50, 10, n), "count": rng.integers(0, 9, n).astype(float),
                       "kind": rng.choice(["a", "b", "c", "rare1", "rare2"], n, p=[0.4, 0.3, 0.26, 0.02, 0.02]),
                       "flag": rng.choice(["yes", "no", "?"], n)})
    df.loc[::7, "size"] = np.nan
    df.loc[::11, "kind"] = None
    prep = gn.preprocessing.TabularPreprocessor(rare_min_count=10).fit(df)
    assert "size_missing" in prep.feature_names_out and "kind_Other" in prep.feature_names_out
    model = gn.Sequential([layers.Dense(1, input_shape=(prep.n_features_out,), name="score")], seed=0)
    model.attach_preprocessor(prep)
    new = df.iloc[:37].copy()
    new.iloc[3, new.columns.get_loc("kind")] = "never seen"
    new.iloc[4, new.columns.get_loc("flag")] = ""
    new.iloc[5, new.columns.get_loc("count")] = np.nan  # missing here, never at fit: the median, no flag
    proto = gn.export.to_onnx(model)
    feeds = raw_columns(prep, new)
    got = run_onnx(proto, [feeds[c] for c in prep.feature_names_in_])[0]
    np.testing.assert_allclose(got, model.predict(new), rtol=1e-5, atol=1e-5)
    # the network alone takes the features, as predict on an array does
    alone = gn.export.to_onnx(model, include_preprocessor=False)
    features = prep.transform(new)
    np.testing.assert_allclose(run_onnx(alone, [features])[0], model.predict(features), rtol=1e-5, atol=1e-5)


def test_a_trained_saved_and_loaded_model_exports_the_same_numbers(fashion_images, tmp_path):
    x, y = fashion_images
    model = fashion_cnn()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x[:256], y[:256], batch_size=64, epochs=1, verbose=0)
    model.save(tmp_path / "model.glassnet")
    loaded = gn.load_model(tmp_path / "model.glassnet")
    loaded.export(tmp_path / "model.onnx")
    import onnx

    proto = onnx.load(str(tmp_path / "model.onnx"))
    for n in BATCHES:
        np.testing.assert_allclose(run_onnx(proto, [x[256:256 + n]])[0], model.predict(x[256:256 + n]),
                                   rtol=1e-5, atol=1e-5)
