"""A model with its fitted preprocessor attached: raw DataFrame rows in, probabilities out,
before and after a save/load round trip through the model file (JSON and arrays, no pickle)."""

import numpy as np
import pandas as pd
import pytest
import safetensors.numpy
from sklearn.exceptions import NotFittedError

import glassnet as gn
from glassnet.saving import ModelFileError, container
from glassnet.saving.container import MODEL_FORMAT


def rows(n=120, seed=0):
    rng = np.random.default_rng(seed)
    amount = rng.normal(100, 20, n)
    amount[::9] = np.nan
    return pd.DataFrame({"ID": np.arange(n), "AMOUNT": amount,
                         "TYPE": rng.choice(["T3", "T4", "T5", "T9"], n, p=[0.6, 0.3, 0.08, 0.02]),
                         "OK": rng.integers(0, 2, n)})


@pytest.fixture
def trained():
    prep = gn.preprocessing.TabularPreprocessor(target="OK", drop=["ID"], rare_min_count=5)
    X_train, X_test, y_train, _ = prep.split(rows(), seed=0)
    model = gn.Sequential([gn.layers.Input((prep.fit(X_train).n_features_out,)),
                           gn.layers.Dense(4, activation="relu"), gn.layers.Dense(1, activation="sigmoid")], seed=0)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(prep.transform(X_train), y_train, epochs=2, verbose=0)
    model.attach_preprocessor(prep)
    return model, prep, X_test


def test_predict_takes_raw_rows_once_a_preprocessor_is_attached(trained):
    model, prep, X_test = trained
    np.testing.assert_array_equal(model.predict(X_test), model.predict(prep.transform(X_test)))


def test_evaluate_and_fit_take_raw_rows_too(trained):
    model, prep, X_test = trained
    y = (model.predict(X_test)[:, 0] > 0.5).astype("float32")  # prep.split took the target out
    assert model.evaluate(X_test, y) == model.evaluate(prep.transform(X_test), y)  # not the raw columns
    raw, arrays = (gn.Sequential.from_config(model.get_config()) for _ in range(2))
    for twin in (raw, arrays):
        twin.compile(optimizer="adam", loss="binary_crossentropy")
        twin.set_weights(model.get_weights())
    raw.attach_preprocessor(prep)
    raw.fit(X_test, y, epochs=1, verbose=0)
    arrays.fit(prep.transform(X_test), y, epochs=1, verbose=0)
    for a, b in zip(raw.get_weights(), arrays.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_the_model_file_carries_the_preprocessor_as_json_and_arrays(trained, tmp_path):
    model, prep, X_test = trained
    model.save(tmp_path / "m.glassnet")
    tensors = safetensors.numpy.load_file(tmp_path / "m.glassnet")
    assert {"preprocessor/median", "preprocessor/mean", "preprocessor/scale", "preprocessor/var"} <= set(tensors)
    np.testing.assert_array_equal(tensors["preprocessor/median"], prep.imputer_.statistics_)
    loaded = gn.load_model(tmp_path / "m.glassnet")
    assert isinstance(loaded.preprocessor, gn.preprocessing.TabularPreprocessor)
    assert loaded.preprocessor.feature_names_out == prep.feature_names_out
    odd = X_test.astype({"AMOUNT": object})
    odd.loc[odd.index[0], "TYPE"] = "T77"  # never seen: the rare bin
    odd.loc[odd.index[1], "AMOUNT"] = "?"  # missing: the training median and the indicator
    np.testing.assert_array_equal(loaded.predict(odd), model.predict(prep.transform(odd)))
    with pytest.raises(ValueError, match=r"Column\(s\) \['TYPE'\] were present at fit but are missing"):
        loaded.predict(X_test.drop(columns=["TYPE"]))


def test_attach_checks_the_width_and_that_the_preprocessor_is_fitted(trained, tmp_path):
    model, prep, _ = trained
    narrow = gn.Sequential([gn.layers.Dense(1, input_shape=(3,))], seed=0)
    with pytest.raises(ValueError, match=r"outputs 6 features but the model's input is \(None, 3\)"):
        narrow.attach_preprocessor(prep)
    with pytest.raises(NotFittedError):
        narrow.attach_preprocessor(gn.preprocessing.TabularPreprocessor())
    with pytest.raises(TypeError, match="needs an object with transform"):
        narrow.attach_preprocessor(object())
    model.attach_preprocessor(None)
    model.save(tmp_path / "plain.glassnet")
    assert gn.load_model(tmp_path / "plain.glassnet").preprocessor is None


def _rewrite(path, edit):
    doc, tensors = container.decode(path.read_bytes(), str(path), (MODEL_FORMAT,))
    doc.pop("tensors", None)
    edit(doc, tensors)
    path.write_bytes(container.encode(doc, tensors))


def test_a_tampered_preprocessor_entry_is_a_model_file_error(trained, tmp_path):
    model, _, _ = trained
    path = tmp_path / "m.glassnet"
    model.save(path)
    _rewrite(path, lambda doc, tensors: tensors.pop("preprocessor/var"))
    with pytest.raises(ModelFileError, match="preprocessor entry is malformed or does not match its tensors"):
        gn.load_model(path)
    model.save(path)
    _rewrite(path, lambda doc, tensors: doc["preprocessor"].update(class_name="os.system"))
    with pytest.raises(ModelFileError, match="Unknown preprocessor 'os.system'"):
        gn.load_model(path)


def test_a_batch_source_of_raw_rows_goes_through_the_preprocessor(trained):
    model, prep, X_test = trained
    y = (model.predict(X_test)[:, 0] > 0.5).astype("float32")
    source = gn.datasets.ArraySource(X_test, y, batch_size=len(X_test))  # one batch: the same mean
    assert model.evaluate(source) == pytest.approx(model.evaluate(X_test, y), rel=1e-12)
    model.fit(gn.datasets.ArraySource(X_test, y, batch_size=8, shuffle=True), epochs=1, verbose=0,
              validation_data=gn.datasets.ArraySource(X_test, y, batch_size=8))
