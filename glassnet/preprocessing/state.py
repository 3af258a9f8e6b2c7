"""A fitted TabularPreprocessor as plain data (a JSON dict and float64 arrays), and back.

A model file holds JSON and arrays only, never pickle. The scikit-learn objects are rebuilt from
that data: ``StandardScaler`` from its documented learned attributes (``mean_``, ``scale_``,
``var_``), ``SimpleImputer`` and ``OneHotEncoder`` by fitting them on the smallest table with the
same medians, the same columns with missing cells, the same categories and the same rare
categories. The rebuilt objects are therefore scikit-learn's own fits, not private attributes
set by hand, and transform exactly as the originals did.
"""

from __future__ import annotations

import numpy as np
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from glassnet.preprocessing.tabular import STATE_FORMAT, rare_categories


def preprocessor_state(prep) -> tuple[dict, dict[str, np.ndarray]]:
    prep._require_fitted("feature_names_out_")
    config = {
        "format": STATE_FORMAT,
        "params": _jsonable(prep.get_params()),
        "feature_names_in": list(prep.feature_names_in_),
        "numeric_columns": list(prep.numeric_columns_),
        "categorical_columns": list(prep.categorical_columns_),
        "identifier_columns": list(prep.identifier_columns_),
        "n_samples_fit": int(prep.n_samples_fit_),
        "numeric_missing_at_fit": [],
        "categories": {},
        "feature_names_out": list(prep.feature_names_out_),
    }
    if hasattr(prep, "classes_"):
        config["classes"] = _jsonable(list(prep.classes_))
    arrays = {}
    if prep.imputer_ is not None:
        config["numeric_missing_at_fit"] = [prep.numeric_columns_[i] for i in prep.imputer_.indicator_.features_]
        arrays = {"median": prep.imputer_.statistics_, "mean": prep.scaler_.mean_,
                  "scale": prep.scaler_.scale_, "var": prep.scaler_.var_}
        arrays = {k: np.asarray(v, dtype=np.float64) for k, v in arrays.items()}
    for column, encoder in prep.encoders_.items():
        config["categories"][column] = {"categories": [str(c) for c in encoder.categories_[0]],
                                        "rare": [str(c) for c in rare_categories(encoder)]}
    return config, arrays


def preprocessor_from_state(cls, config: dict, arrays: dict[str, np.ndarray]):
    if config.get("format") != STATE_FORMAT:
        raise ValueError(f"Unknown preprocessor state format {config.get('format')!r}; this glassnet "
                         f"reads format {STATE_FORMAT}.")
    prep = cls(**config["params"])
    prep.feature_names_in_ = list(config["feature_names_in"])
    prep.numeric_columns_ = list(config["numeric_columns"])
    prep.categorical_columns_ = list(config["categorical_columns"])
    prep.identifier_columns_ = list(config["identifier_columns"])
    prep.n_samples_fit_ = int(config["n_samples_fit"])
    if "classes" in config:
        prep.classes_ = list(config["classes"])
    prep.imputer_ = prep.scaler_ = None
    if prep.numeric_columns_:
        median = np.asarray(arrays["median"], dtype=np.float64)
        # Two rows with the median in each column; a NaN in the second row wherever the training
        # data had missing cells, so the imputer learns the same medians and indicators.
        table = np.vstack([median, median])
        table[1, [prep.numeric_columns_.index(c) for c in config["numeric_missing_at_fit"]]] = np.nan
        prep.imputer_ = SimpleImputer(strategy="median", add_indicator=True).fit(table)
        scaler = StandardScaler()
        scaler.mean_ = np.asarray(arrays["mean"], dtype=np.float64)
        scaler.scale_ = np.asarray(arrays["scale"], dtype=np.float64)
        scaler.var_ = np.asarray(arrays["var"], dtype=np.float64)
        scaler.n_features_in_ = median.shape[0]
        scaler.n_samples_seen_ = np.int64(prep.n_samples_fit_)
        prep.scaler_ = scaler
    prep.encoders_ = {}
    for column in prep.categorical_columns_:
        categories = config["categories"][column]["categories"]
        rare = config["categories"][column]["rare"]
        frequent = [c for c in categories if c not in set(rare)]
        # Frequent categories twice, rare ones once, threshold 2: the same rare set as at fit.
        table = np.array(frequent * 2 + rare, dtype=object).reshape(-1, 1)
        prep.encoders_[column] = OneHotEncoder(
            categories=[np.array(categories, dtype=object)], min_frequency=2,
            handle_unknown="infrequent_if_exist", sparse_output=False, dtype=np.float32).fit(table)
    prep._set_feature_names()
    if prep.feature_names_out_ != config["feature_names_out"]:
        raise ValueError("The stored preprocessor state is inconsistent: its rebuilt feature names "
                         "differ from the saved ones.")
    return prep


def _jsonable(value):
    """Tuples -> lists and NumPy scalars -> Python scalars, recursively."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
