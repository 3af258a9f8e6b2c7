"""TabularPreprocessor: a raw pandas table of numbers and categories in, a float32 matrix out.

scikit-learn does every fit (``SimpleImputer``, ``StandardScaler``, ``OneHotEncoder`` with
infrequent categories, ``train_test_split``); this class adds the column bookkeeping and the
checks that turn a bad table into an error naming the column. Its fitted state is plain data
(``get_state``), so a model file carries it without pickle.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.impute import SimpleImputer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from glassnet._registry import register
from glassnet.preprocessing import _columns
from glassnet.preprocessing._columns import DEFAULT_MISSING_VALUES

#: the feature-name suffix of the column that collects a column's rare categories.
RARE_CATEGORY = "Other"

#: version of the ``get_state`` layout.
STATE_FORMAT = 1

_TASKS = ("binary", "multiclass", "regression")


class IdentifierColumnWarning(UserWarning):
    """A feature column holds a different value in every row (an ID, not a predictor)."""


@register("preprocessor")
class TabularPreprocessor(BaseEstimator):
    """Impute, scale and one-hot encode a DataFrame, fitted on the training rows only.

    Numeric columns: missing cells -> the training median, plus a 0/1 "<column>_missing"
    indicator for every column that had missing cells at fit; then standardised. Categorical
    columns: missing cells -> the category "missing"; categories rarer than the threshold share
    one "<column>_Other" column; categories never seen at fit go to "Other" too (or to all
    zeros when the column had no rare categories).

    Args:
        target: name of the outcome column; ``split`` separates it and it is ignored wherever
            it appears in a frame given to ``fit``/``transform``.
        drop: columns to ignore, such as identifiers (``["EIN", "NAME"]``).
        categorical / numeric: columns to force to a kind; others are inferred (numbers and
            number-like text -> numeric, everything else -> categorical).
        rare_min_count: categories seen fewer times than this at fit are binned into "Other";
            an int for every categorical column or a dict ``{column: int}``.
        rare_min_frequency: the same as a share of the training rows, in (0, 1).
        missing_values: cell values besides NaN/None that mean missing (compared after
            stripping spaces).
        task: "binary" (targets -> 0/1 float32), "multiclass" (-> int64 class indices) or
            "regression" (-> float32).
        positive_label: for "binary", the label encoded as 1; default the larger of the two
            labels in sorted order (1, True, "yes", ">50K").

    Shapes:
        transform: DataFrame (N rows) -> (N, n_features_out) float32, columns in the order of
        ``feature_names_out``.

    Example:
        >>> import pandas as pd, glassnet as gn
        >>> df = pd.DataFrame({"size": [1.0, 2.0, None, 4.0], "kind": ["a", "b", "a", "?"],
        ...                    "ok": [0, 1, 0, 1]})
        >>> prep = gn.preprocessing.TabularPreprocessor(target="ok")
        >>> prep.fit_transform(df).shape
        (4, 5)
        >>> prep.feature_names_out
        ['size', 'size_missing', 'kind_a', 'kind_b', 'kind_missing']
    """

    def __init__(self, target: str | None = None, drop=(), categorical=None, numeric=None,
                 rare_min_count=None, rare_min_frequency=None, missing_values=DEFAULT_MISSING_VALUES,
                 task: str = "binary", positive_label=None):
        self.target = target
        self.drop = drop
        self.categorical = categorical
        self.numeric = numeric
        self.rare_min_count = rare_min_count
        self.rare_min_frequency = rare_min_frequency
        self.missing_values = missing_values
        self.task = task
        self.positive_label = positive_label

    # -- the target ---------------------------------------------------------------------------
    def split(self, df, test_size=0.25, stratify: bool = True, seed: int | None = None):
        """Split a frame holding the target into train and test parts (``train_test_split``).

        Learns the target's classes from all rows (labels only, no feature statistics), so
        the two parts encode the same way.

        Returns:
            X_train, X_test (DataFrames without the target column), y_train, y_test (encoded
            arrays, see ``task``).
        """
        df = _columns.require_frame(df, "split")
        self._check_params()
        column = self._target_column(df)
        y = self.encode_target(column, _learn=True)
        strata = y if stratify and self.task != "regression" else None
        X = df.drop(columns=[self.target])
        return train_test_split(X, y, test_size=test_size, stratify=strata, random_state=seed)

    def _target_column(self, df: pd.DataFrame) -> pd.Series:
        if self.target is None:
            raise ValueError("This preprocessor has no target; pass target='column name'.")
        if self.target not in df.columns:
            raise ValueError(f"Target column {self.target!r} is not in the DataFrame; its columns "
                             f"are {list(df.columns)}.")
        return df[self.target]

    def encode_target(self, y, _learn: bool = False) -> np.ndarray:
        """Target labels (a Series or array) as the arrays a glassnet model trains on."""
        s = pd.Series(np.asarray(y) if not isinstance(y, pd.Series) else y, name=self.target)
        missing = _columns.missing_mask(s, self.missing_values)
        if missing.any():
            raise ValueError(f"Target column {s.name!r} has {int(missing.sum())} missing value(s) "
                             f"(first at row {_columns.plain(s.index[int(np.argmax(missing))])!r}); drop those rows first.")
        if self.task == "regression":
            return _columns.numeric_values(s, self.missing_values).astype(np.float32)
        if _learn or not hasattr(self, "classes_"):
            self.classes_ = self._learn_classes(s)
        lookup = {label: i for i, label in enumerate(self.classes_)}
        codes = s.map(lambda v: lookup.get(_columns.plain(v), -1)).to_numpy(dtype=np.int64)
        if (codes < 0).any():
            unseen = sorted({str(v) for v in s[codes < 0]})
            raise ValueError(f"Target column {s.name!r} holds label(s) {unseen[:5]} that are not "
                             f"among the known classes {self.classes_}.")
        return codes.astype(np.float32) if self.task == "binary" else codes

    def _learn_classes(self, s: pd.Series) -> list:
        labels = sorted({_columns.plain(v) for v in s.unique()}, key=lambda v: (str(type(v)), v))
        if self.task == "binary":
            if len(labels) != 2:
                shown = ", ".join(repr(v) for v in labels[:6]) + (" ..." if len(labels) > 6 else "")
                raise ValueError(
                    f"Target column {s.name!r} has {len(labels)} distinct value(s) ({shown}); a binary "
                    f"classifier needs exactly 2. Use task='multiclass' or task='regression' otherwise."
                )
            if self.positive_label is not None:
                if _columns.plain(self.positive_label) not in labels:
                    raise ValueError(f"positive_label {self.positive_label!r} is not a value of target "
                                     f"column {s.name!r} (values: {labels}).")
                labels = [v for v in labels if v != _columns.plain(self.positive_label)] + [_columns.plain(self.positive_label)]
        elif len(labels) < 2:
            raise ValueError(f"Target column {s.name!r} has a single value {labels}; nothing to learn.")
        return labels

    def decode_target(self, y_pred, threshold: float = 0.5) -> np.ndarray:
        """Model outputs back to the original labels (probabilities for "binary" are
        thresholded, class scores for "multiclass" take the argmax)."""
        self._require_fitted("classes_")
        y_pred = np.asarray(y_pred)
        if self.task == "binary":
            index = (y_pred.reshape(len(y_pred), -1)[:, -1] >= threshold).astype(np.int64)
        else:
            index = y_pred.argmax(axis=1) if y_pred.ndim == 2 else y_pred.astype(np.int64)
        return np.asarray(self.classes_, dtype=object)[index]

    # -- fitting ------------------------------------------------------------------------------
    def fit(self, X, y=None) -> "TabularPreprocessor":
        """Learn column kinds, medians, scales and categories from the training rows.

        ``X`` may still hold the target column (its classes are then learned) or the dropped
        columns; ``y`` is accepted for scikit-learn compatibility and only used for classes.
        """
        X = _columns.require_frame(X, "TabularPreprocessor.fit")
        self._check_params()
        if y is not None:
            self.encode_target(y, _learn=True)
        elif self.target is not None and self.target in X.columns:
            self.encode_target(X[self.target], _learn=True)
        features = self._feature_columns(X)
        self._assign_kinds(X[features])
        self._check_rare_columns()
        self._check_fit_columns(X)
        self.n_samples_fit_ = len(X)
        self.identifier_columns_ = self._find_identifiers(X)
        if self.identifier_columns_:
            warnings.warn(
                f"Column(s) {self.identifier_columns_} hold a different value in every row, like an "
                f"ID; they cannot generalise. Drop them with drop=[...] unless they are meant as "
                f"features.", IdentifierColumnWarning, stacklevel=2)
        self.imputer_ = self.scaler_ = None
        if self.numeric_columns_:
            raw = self._numeric_matrix(X)
            self.imputer_ = SimpleImputer(strategy="median", add_indicator=True).fit(raw)
            self.scaler_ = StandardScaler().fit(self.imputer_.transform(raw)[:, : raw.shape[1]])
        self.encoders_ = {}
        for column in self.categorical_columns_:
            values = _columns.category_values(X[column], self.missing_values).reshape(-1, 1)
            self.encoders_[column] = OneHotEncoder(
                min_frequency=self._rare_threshold(column), handle_unknown="infrequent_if_exist",
                sparse_output=False, dtype=np.float32).fit(values)
        self._set_feature_names()
        return self

    def fit_transform(self, X, y=None) -> np.ndarray:
        return self.fit(X, y).transform(X)

    def _check_params(self) -> None:
        if self.task not in _TASKS:
            raise ValueError(f"task must be one of {_TASKS}; got {self.task!r}.")
        if self.rare_min_count is not None and self.rare_min_frequency is not None:
            raise ValueError("Give rare_min_count or rare_min_frequency, not both.")
        for name, value in (("rare_min_count", self.rare_min_count),
                            ("rare_min_frequency", self.rare_min_frequency)):
            values = value.values() if isinstance(value, dict) else [] if value is None else [value]
            for v in values:
                ok = (isinstance(v, Integral) and v >= 1) if name == "rare_min_count" else \
                    (isinstance(v, Real) and 0 < v < 1)
                if not ok or isinstance(v, bool):
                    need = "an integer >= 1" if name == "rare_min_count" else "a number in (0, 1)"
                    raise ValueError(f"{name} must be {need} (or a dict of them per column); got {v!r}.")
        for name in ("drop", "categorical", "numeric"):
            if isinstance(getattr(self, name), str):
                raise TypeError(f"{name} must be a list of column names; got the string "
                                f"{getattr(self, name)!r} (write [{getattr(self, name)!r}]).")
        both = set(self.categorical or ()) & set(self.numeric or ())
        if both:
            raise ValueError(f"Column(s) {sorted(both)} are declared both categorical and numeric.")

    def _feature_columns(self, X: pd.DataFrame) -> list[str]:
        named = {"drop": self.drop or (), "categorical": self.categorical or (), "numeric": self.numeric or ()}
        for arg, columns in named.items():
            absent = [c for c in columns if c not in X.columns]
            if absent:
                raise ValueError(f"{arg} names column(s) {absent} that are not in the DataFrame.")
        if self.target is not None and self.target in [*(self.categorical or ()), *(self.numeric or ())]:
            raise ValueError(f"The target column {self.target!r} cannot also be a feature.")
        ignored = set(self.drop or ()) | {self.target}
        features = [c for c in X.columns if c not in ignored]
        if not features:
            raise ValueError("No feature columns are left after removing the target and the dropped columns.")
        return features

    def _assign_kinds(self, X: pd.DataFrame) -> None:
        self.feature_names_in_ = list(X.columns)
        kinds = {}
        for column in X.columns:
            if column in (self.categorical or ()):
                kinds[column] = "categorical"
            elif column in (self.numeric or ()):
                kinds[column] = "numeric"
            else:
                kinds[column] = _columns.infer_kind(X[column], self.missing_values)
        self.numeric_columns_ = [c for c in X.columns if kinds[c] == "numeric"]
        self.categorical_columns_ = [c for c in X.columns if kinds[c] == "categorical"]

    def _check_rare_columns(self) -> None:
        """A per-column threshold must name a categorical feature; a misspelt name would leave
        that column's rare categories unbinned without a word."""
        for name in ("rare_min_count", "rare_min_frequency"):
            value = getattr(self, name)
            for column in value if isinstance(value, dict) else ():
                if column in self.categorical_columns_:
                    continue
                if column in self.numeric_columns_:
                    raise ValueError(f"{name} names column {column!r}, which is numeric; rare categories are "
                                     f"binned in categorical columns only (declare it with categorical=[{column!r}]).")
                raise ValueError(f"{name} names column {column!r}, which is not a feature column; the "
                                 f"categorical columns are {self.categorical_columns_}.")

    def _check_fit_columns(self, X: pd.DataFrame) -> None:
        for column in self.feature_names_in_:
            if _columns.missing_mask(X[column], self.missing_values).all():
                raise ValueError(f"Column {column!r} has no values at all (every cell is missing); "
                                 f"drop it with drop=[{column!r}].")

    def _find_identifiers(self, X: pd.DataFrame) -> list[str]:
        if len(X) < 20:  # tiny tables are unique per row by chance
            return []
        found = []
        for column in self.feature_names_in_:
            s = X[column]
            if pd.api.types.is_float_dtype(s):
                continue  # a continuous measurement is unique per row without being an ID
            if s.nunique(dropna=False) == len(s):
                found.append(column)
        return found

    def _rare_threshold(self, column: str):
        value = self.rare_min_count if self.rare_min_count is not None else self.rare_min_frequency
        return value.get(column) if isinstance(value, dict) else value

    def _set_feature_names(self) -> None:
        names = list(self.numeric_columns_)
        if self.imputer_ is not None:
            names += [f"{self.numeric_columns_[i]}_missing" for i in self.imputer_.indicator_.features_]
        for column, encoder in self.encoders_.items():
            categories = list(encoder.categories_[0])
            rare = set(rare_categories(encoder))
            kept = [c for c in categories if c not in rare]
            names += [f"{column}_{c}" for c in kept]
            if rare:
                label = RARE_CATEGORY if RARE_CATEGORY not in kept else f"{RARE_CATEGORY} (rare)"
                names.append(f"{column}_{label}")
        self.feature_names_out_ = names

    # -- transforming -------------------------------------------------------------------------
    def transform(self, X) -> np.ndarray:
        """Features of raw rows as float32, shape (N, n_features_out).

        Raises a ValueError naming the column for a feature seen at fit but absent here, a
        column never seen at fit, or a non-number in a numeric column.
        """
        self._require_fitted("feature_names_out_")
        X = _columns.require_frame(X, "TabularPreprocessor.transform")
        expected = set(self.feature_names_in_)
        absent = [c for c in self.feature_names_in_ if c not in X.columns]
        if absent:
            raise ValueError(f"Column(s) {absent} were present at fit but are missing here; every "
                             f"feature column is needed (missing cells may be NaN).")
        allowed = expected | set(self.drop or ()) | {self.target}
        extra = [c for c in X.columns if c not in allowed]
        if extra:
            raise ValueError(f"Column(s) {extra} were not present at fit. Remove them, or refit with "
                             f"them (or list them in drop=[...] to have them ignored).")
        parts = []
        if self.imputer_ is not None:
            imputed = self.imputer_.transform(self._numeric_matrix(X))
            n = len(self.numeric_columns_)
            parts += [self.scaler_.transform(imputed[:, :n]), imputed[:, n:]]
        for column, encoder in self.encoders_.items():
            values = _columns.category_values(X[column], self.missing_values).reshape(-1, 1)
            parts.append(encoder.transform(values))
        return np.hstack(parts).astype(np.float32)

    def _numeric_matrix(self, X: pd.DataFrame) -> np.ndarray:
        return np.column_stack([_columns.numeric_values(X[c], self.missing_values)
                                for c in self.numeric_columns_])

    # -- describing ---------------------------------------------------------------------------
    @property
    def feature_names_out(self) -> list[str]:
        """Names of the output columns: numeric, their missing indicators, then one-hot."""
        self._require_fitted("feature_names_out_")
        return list(self.feature_names_out_)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """scikit-learn's spelling of ``feature_names_out``."""
        return np.asarray(self.feature_names_out, dtype=object)

    @property
    def n_features_out(self) -> int:
        """Width of ``transform``'s output: the input size of a model trained on it."""
        return len(self.feature_names_out)

    @property
    def fitted(self) -> bool:
        return hasattr(self, "feature_names_out_")

    def _require_fitted(self, attribute: str) -> None:
        if not hasattr(self, attribute):
            raise NotFittedError("This TabularPreprocessor is not fitted yet; call fit(train_frame) "
                                 "(or split the data with it) first.")

    # -- plain-data state (see glassnet.preprocessing.state) ------------------------------------
    def get_state(self) -> tuple[dict, dict[str, np.ndarray]]:
        """The fitted state as (JSON-ready dict, {name: float64 array}); see ``from_state``."""
        from glassnet.preprocessing.state import preprocessor_state

        return preprocessor_state(self)

    @classmethod
    def from_state(cls, config: dict, arrays: dict[str, np.ndarray]) -> "TabularPreprocessor":
        """Rebuild a fitted preprocessor from ``get_state``'s output (no pickle involved)."""
        from glassnet.preprocessing.state import preprocessor_from_state

        return preprocessor_from_state(cls, config, arrays)


def rare_categories(encoder: OneHotEncoder) -> list:
    """The categories a fitted one-column encoder bins together as infrequent."""
    # the attribute is absent (AttributeError) when the encoder was fitted without min_frequency
    rare = getattr(encoder, "infrequent_categories_", [None])[0]
    return [] if rare is None else list(rare)
