"""TabularPreprocessor: what it learns (from training rows only), what it outputs, its plain-data
state, and the errors that name the offending column."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from glassnet.preprocessing import IdentifierColumnWarning, TabularPreprocessor


def frame(n=200, seed=0):
    """A small table with every kind of column the preprocessor handles."""
    rng = np.random.default_rng(seed)
    size = rng.normal(50, 10, n).round(1)
    size[rng.random(n) < 0.1] = np.nan
    colour = rng.choice(["red", "green", "blue", "teal", "mauve"], n, p=[0.5, 0.3, 0.15, 0.04, 0.01])
    colour = np.where(rng.random(n) < 0.05, "?", colour)
    return pd.DataFrame({
        "id": np.arange(1000, 1000 + n),
        "size": size,
        "count": rng.integers(0, 5, n),
        "colour": colour,
        "flag": rng.choice(["Y", "N"], n),
        "outcome": rng.choice(["no", "yes"], n, p=[0.7, 0.3]),
    })


def test_numeric_columns_are_imputed_with_the_training_median_indicated_and_scaled():
    df = frame()
    train, test = df.iloc[:150], df.iloc[150:]
    prep = TabularPreprocessor(target="outcome", drop=["id"]).fit(train)
    out = prep.transform(test)
    names = prep.feature_names_out
    assert out.dtype == np.float32 and out.shape == (50, prep.n_features_out)
    raw = train[["size", "count"]].to_numpy(float)
    imputer = SimpleImputer(strategy="median").fit(raw)
    scaler = StandardScaler().fit(imputer.transform(raw))
    expected = scaler.transform(imputer.transform(test[["size", "count"]].to_numpy(float)))
    np.testing.assert_allclose(out[:, [names.index("size"), names.index("count")]], expected, rtol=1e-6, atol=1e-6)
    # size had missing cells at fit, so it has an indicator; count did not, so it has none.
    assert "size_missing" in names and "count_missing" not in names
    np.testing.assert_array_equal(out[:, names.index("size_missing")], test["size"].isna().to_numpy(np.float32))


def test_categories_are_one_hot_with_missing_tokens_as_their_own_category():
    df = pd.DataFrame({"c": ["a", "b", " ?", "", None, "a ", "b"], "x": [1.0, 2, 3, 4, 5, 6, 7]})
    prep = TabularPreprocessor()
    out = prep.fit_transform(df)
    assert prep.feature_names_out == ["x", "c_a", "c_b", "c_missing"]
    np.testing.assert_array_equal(out[:, 1:], [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1], [0, 0, 1],
                                               [1, 0, 0], [0, 1, 0]])


def test_rare_categories_by_count_share_one_other_column_and_unknowns_join_it():
    df = pd.DataFrame({"t": ["T3"] * 10 + ["T4"] * 5 + ["T9"] * 2 + ["T12"], "x": np.arange(18.0)})
    prep = TabularPreprocessor(rare_min_count=3).fit(df)
    assert prep.feature_names_out == ["x", "t_T3", "t_T4", "t_Other"]
    out = prep.transform(pd.DataFrame({"t": ["T3", "T9", "T12", "T77"], "x": [0.0] * 4}))
    np.testing.assert_array_equal(out[:, 1:], [[1, 0, 0], [0, 0, 1], [0, 0, 1], [0, 0, 1]])


def test_rare_categories_by_frequency_and_per_column_thresholds():
    df = pd.DataFrame({"a": ["p"] * 90 + ["q"] * 8 + ["r"] * 2, "b": ["u"] * 97 + ["v"] * 3})
    prep = TabularPreprocessor(rare_min_frequency=0.05).fit(df)
    assert prep.feature_names_out == ["a_p", "a_q", "a_Other", "b_u", "b_Other"]
    prep = TabularPreprocessor(rare_min_count={"a": 5}).fit(df)  # b keeps every category
    assert prep.feature_names_out == ["a_p", "a_q", "a_Other", "b_u", "b_v"]


@pytest.mark.parametrize("thresholds, match", [
    ({"rare_min_count": {"colur": 5}}, r"rare_min_count names column 'colur', which is not a feature column; "
                                       r"the categorical columns are \['colour', 'flag'\]"),
    ({"rare_min_frequency": {"size": 0.1}}, r"names column 'size', which is numeric.*categorical=\['size'\]"),
])
def test_a_per_column_rare_threshold_must_name_a_categorical_column(thresholds, match):
    """A misspelt column in the dict left that column's rare categories unbinned, silently."""
    with pytest.raises(ValueError, match=match):
        TabularPreprocessor(target="outcome", drop=["id"], **thresholds).fit(frame())


def test_an_unknown_category_is_all_zeros_when_the_column_had_no_rare_ones():
    df = pd.DataFrame({"c": ["a", "b", "a"]})
    out = TabularPreprocessor().fit(df).transform(pd.DataFrame({"c": ["z"]}))
    np.testing.assert_array_equal(out, [[0, 0]])


def test_a_real_other_category_does_not_collide_with_the_rare_bin():
    df = pd.DataFrame({"c": ["Other"] * 5 + ["a"] * 5 + ["b"]})
    prep = TabularPreprocessor(rare_min_count=2).fit(df)
    assert prep.feature_names_out == ["c_Other", "c_a", "c_Other (rare)"]


def test_kinds_are_inferred_and_can_be_forced():
    df = pd.DataFrame({"n": [1, 2, 3], "s": ["1.5", "2", "?"], "c": ["x", "y", "x"], "b": [True, False, True]})
    prep = TabularPreprocessor().fit(df)
    assert prep.numeric_columns_ == ["n", "s"] and prep.categorical_columns_ == ["c", "b"]
    prep = TabularPreprocessor(categorical=["n"]).fit(df)
    assert prep.categorical_columns_ == ["n", "c", "b"]
    assert prep.feature_names_out[-7:-4] == ["n_1", "n_2", "n_3"]


def test_integer_categories_match_when_a_nan_turns_the_column_to_float_at_predict():
    prep = TabularPreprocessor(categorical=["code"]).fit(pd.DataFrame({"code": [1, 2, 2]}))
    out = prep.transform(pd.DataFrame({"code": [2.0, np.nan]}))
    np.testing.assert_array_equal(out, [[0, 1, ], [0, 0]])


def test_identifier_columns_are_flagged_and_drop_removes_them():
    df = frame(100)
    with pytest.warns(IdentifierColumnWarning, match="'id'"):
        prep = TabularPreprocessor(target="outcome").fit(df)
    assert prep.identifier_columns_ == ["id"]
    prep = TabularPreprocessor(target="outcome", drop=["id"]).fit(df)  # no warning (errors are on)
    assert prep.identifier_columns_ == [] and "id" not in prep.feature_names_out
    # at predict, the dropped column and the target may be present or absent
    prep.transform(df)
    prep.transform(df.drop(columns=["id", "outcome"]))


def test_split_is_stratified_reproducible_and_encodes_the_positive_label_as_one():
    df = frame(400)
    prep = TabularPreprocessor(target="outcome", drop=["id"])
    X_train, X_test, y_train, y_test = prep.split(df, test_size=0.25, stratify=True, seed=3)
    assert prep.classes_ == ["no", "yes"]
    assert len(X_test) == 100 and "outcome" not in X_train.columns
    assert y_train.dtype == np.float32
    np.testing.assert_array_equal(y_test, (df.loc[X_test.index, "outcome"] == "yes").to_numpy(np.float32))
    assert abs(y_train.mean() - y_test.mean()) < 0.01  # stratified
    again = TabularPreprocessor(target="outcome", drop=["id"]).split(df, test_size=0.25, seed=3)
    assert again[0].index.equals(X_train.index)
    flipped = TabularPreprocessor(target="outcome", positive_label="no").split(df, seed=3)
    np.testing.assert_array_equal(flipped[2], (df.loc[flipped[0].index, "outcome"] == "no").to_numpy(np.float32))


def test_decode_target_maps_probabilities_back_to_labels():
    prep = TabularPreprocessor(target="outcome", drop=["id"])
    prep.split(frame(), seed=0)
    np.testing.assert_array_equal(prep.decode_target(np.array([[0.2], [0.7]])), ["no", "yes"])
    np.testing.assert_array_equal(prep.decode_target(np.array([0.2, 0.7]), threshold=0.1), ["yes", "yes"])


def test_multiclass_and_regression_targets():
    df = pd.DataFrame({"x": np.arange(6.0), "k": ["a", "b", "c", "a", "b", "c"]})
    y = TabularPreprocessor(target="k", task="multiclass").split(df, test_size=0.5, seed=0)[2]
    assert y.dtype == np.int64 and set(y) <= {0, 1, 2}
    y = TabularPreprocessor(target="x", task="regression").split(df, test_size=0.5, seed=0)[2]
    assert y.dtype == np.float32


def test_state_is_plain_json_and_arrays_and_rebuilds_an_identical_transform():
    df = frame(300)
    prep = TabularPreprocessor(target="outcome", drop=["id"], rare_min_count=10)
    X_train, X_test, _, _ = prep.split(df, seed=0)
    prep.fit(X_train)
    config, arrays = prep.get_state()
    config = json.loads(json.dumps(config))  # strictly JSON
    assert all(isinstance(a, np.ndarray) and a.dtype == np.float64 for a in arrays.values())
    loaded = TabularPreprocessor.from_state(config, arrays)
    assert isinstance(loaded.encoders_["colour"], OneHotEncoder)
    assert loaded.get_params() == {**prep.get_params(), "drop": ["id"], "missing_values": ["?", ""]}
    assert loaded.classes_ == ["no", "yes"]
    odd = X_test.copy()
    odd.loc[odd.index[:3], "colour"] = "ultraviolet"  # unknown: rare bin
    odd.loc[odd.index[3:6], "size"] = np.nan
    odd.loc[odd.index[6], "flag"] = "?"  # missing where fit saw none: all zeros
    np.testing.assert_array_equal(loaded.transform(odd), prep.transform(odd))
    assert loaded.feature_names_out == prep.feature_names_out


def test_state_round_trip_without_numeric_or_rare_columns():
    df = pd.DataFrame({"c": ["a", "b", "a", "c"], "d": ["x", "x", "y", "y"]})
    prep = TabularPreprocessor().fit(df)
    loaded = TabularPreprocessor.from_state(*prep.get_state())
    np.testing.assert_array_equal(loaded.transform(df), prep.transform(df))


def test_clone_and_params_follow_the_sklearn_contract():
    prep = TabularPreprocessor(target="y", drop=["id"], rare_min_count=5)
    copy = clone(prep)
    assert copy.get_params() == prep.get_params() and not copy.fitted
    with pytest.raises(NotFittedError, match="not fitted"):
        copy.transform(frame())


# -- bad input: every error names the column ---------------------------------------------------------
def test_missing_target_column():
    with pytest.raises(ValueError, match="Target column 'IS_SUCCESSFUL' is not in the DataFrame"):
        TabularPreprocessor(target="IS_SUCCESSFUL").split(frame())


def test_non_binary_target():
    df = frame().assign(outcome=lambda d: d["count"].astype(str))
    with pytest.raises(ValueError, match=r"Target column 'outcome' has 5 distinct value\(s\).*needs exactly 2"):
        TabularPreprocessor(target="outcome").split(df)
    with pytest.raises(ValueError, match="Target column 'outcome' has 1 distinct"):
        TabularPreprocessor(target="outcome").split(frame().assign(outcome="yes"))


def test_target_with_missing_values():
    df = frame()
    df.loc[5, "outcome"] = "?"
    with pytest.raises(ValueError, match=r"Target column 'outcome' has 1 missing value\(s\) \(first at row 5\)"):
        TabularPreprocessor(target="outcome").split(df)


def test_column_seen_at_fit_missing_at_predict():
    prep = TabularPreprocessor(target="outcome", drop=["id"]).fit(frame())
    with pytest.raises(ValueError, match=r"Column\(s\) \['colour'\] were present at fit but are missing"):
        prep.transform(frame().drop(columns=["colour"]))


def test_new_column_at_predict():
    prep = TabularPreprocessor(target="outcome", drop=["id"]).fit(frame())
    with pytest.raises(ValueError, match=r"Column\(s\) \['weight'\] were not present at fit"):
        prep.transform(frame().assign(weight=1.0))


def test_all_missing_column():
    df = frame().assign(empty=np.nan, blank="?")
    with pytest.raises(ValueError, match="Column 'empty' has no values at all"):
        TabularPreprocessor(target="outcome", drop=["id"]).fit(df)
    with pytest.raises(ValueError, match="Column 'blank' has no values at all"):
        TabularPreprocessor(target="outcome", drop=["id", "empty"]).fit(df)


def test_string_in_a_numeric_column_at_fit_and_at_predict():
    df = frame()
    mostly_numbers = df.assign(size=df["size"].astype(object))
    mostly_numbers.loc[7, "size"] = "n/a"
    with pytest.raises(ValueError, match="Column 'size' looks numeric .* holds 'n/a' at row 7"):
        TabularPreprocessor(target="outcome", drop=["id"]).fit(mostly_numbers)
    with pytest.raises(ValueError, match="Column 'size' is numeric but holds 'n/a' at row 7"):
        TabularPreprocessor(target="outcome", drop=["id"], numeric=["size"]).fit(mostly_numbers)
    prep = TabularPreprocessor(target="outcome", drop=["id"]).fit(df)
    with pytest.raises(ValueError, match="Column 'size' is numeric but holds 'n/a' at row 7"):
        prep.transform(mostly_numbers)
    with pytest.raises(ValueError, match="Column 'count' holds an infinite value at row 0"):
        prep.transform(df.assign(count=np.r_[np.inf, np.zeros(len(df) - 1)]))


def test_empty_frame_and_non_frames():
    with pytest.raises(ValueError, match="empty DataFrame"):
        TabularPreprocessor().fit(frame().iloc[:0])
    prep = TabularPreprocessor(target="outcome", drop=["id"]).fit(frame())
    with pytest.raises(ValueError, match="empty DataFrame"):
        prep.transform(frame().iloc[:0])
    with pytest.raises(TypeError, match="needs a pandas DataFrame"):
        prep.transform(np.zeros((3, 4)))


def test_bad_arguments_name_the_argument():
    df = frame()
    with pytest.raises(ValueError, match="rare_min_count or rare_min_frequency, not both"):
        TabularPreprocessor(rare_min_count=5, rare_min_frequency=0.1).fit(df)
    with pytest.raises(ValueError, match="rare_min_frequency must be a number in"):
        TabularPreprocessor(rare_min_frequency=5).fit(df)
    with pytest.raises(ValueError, match=r"drop names column\(s\) \['EIN'\]"):
        TabularPreprocessor(drop=["EIN"]).fit(df)
    with pytest.raises(TypeError, match="drop must be a list"):
        TabularPreprocessor(drop="id").fit(df)
    with pytest.raises(ValueError, match="task must be one of"):
        TabularPreprocessor(task="ranking").fit(df)
