"""What glassnet's scikit-learn estimators share (``glassnet.sklearn``'s MLPs and
``glassnet.wrappers``' SciKeras classes): input checks, sample weights and tags."""

from __future__ import annotations

import numpy as np
from scipy.sparse import issparse
from sklearn.utils.validation import _check_sample_weight, validate_data

from glassnet.models import placement


def _holds_text(X) -> bool:
    """Whether X is strings (an array, list or pandas column of texts)."""
    if issparse(X):
        return False
    try:
        X = np.asarray(X)
    except ValueError:  # ragged lists: validate_data names the problem
        return False
    return X.dtype.kind in "US" or (X.dtype.kind == "O" and X.size > 0 and isinstance(X.flat[0], str))


class ArrayEstimatorMixin:
    """Input validation to float32, sample-weight checks and the tags they imply.

    ``allow_nd``: whether X may have more than two axes (images for a CNN) or must be a table.
    """

    allow_nd = False
    #: whether X may be raw strings, one per sample, for a model whose first layer is a TextVectorization
    allow_text = False

    def _validate(self, X, y="no_validation", reset: bool = True, **kwargs):
        """X as float32 (and y checked), recording or checking ``n_features_in_``; the shape and
        dtype X had at ``fit`` are kept in ``X_shape_`` and ``X_dtype_``.

        SciPy sparse X (OneHotEncoder's default output) becomes float32 CSR, never dense: the
        network densifies one batch at a time. Texts (where ``allow_text``) stay strings, as one
        column (N, 1).
        """
        text = self.allow_text and _holds_text(X)
        if text:
            X = np.asarray(X)
            X = X.reshape(-1, 1) if X.ndim == 1 else X
        options = {"reset": reset, "dtype": None if text else (np.float64, np.float32), "accept_sparse": "csr",
                   "allow_nd": self.allow_nd}
        if isinstance(y, str) and y == "no_validation":
            X = validate_data(self, X, **options)
            return X if text else X.astype(np.float32)
        X, y = validate_data(self, X, y, **options, **kwargs)
        if reset:
            self.X_shape_, self.X_dtype_ = X.shape, X.dtype
        return (X if text else X.astype(np.float32)), y

    @staticmethod
    def _weights(sample_weight, X):
        """``sample_weight`` checked against X as float64, or None; all zeros is refused."""
        if sample_weight is None:
            return None
        w = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        if not (w > 0).any():
            raise ValueError("sample_weight is zero for every sample; at least one weight must be positive.")
        return w

    def __getstate__(self):
        """What pickle (``joblib.dump``) stores: a fitted model's arrays on the host, as ``save``
        writes them, so an estimator fitted on a GPU loads where there is no CuPy (the model
        moves to the device again at its next fit or predict there)."""
        state = super().__getstate__()  # BaseEstimator's: it records the scikit-learn version
        if state.get("model_") is not None:
            placement.place(state["model_"], "cpu")
        return state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = True
        tags.non_deterministic = self.random_state is None
        return tags


class RegressionOutputs:
    """A regressor's predictions shaped as its targets were at fit, (N,) or (N, k), and the tag
    saying several outputs are fine (``fit`` records ``_y_ndim``; ``_raw_predict`` gives (N, k))."""

    def predict(self, X) -> np.ndarray:
        """Predicted targets: (N,) when fitted on 1-D y, else (N, k)."""
        out = self._raw_predict(X)
        return out.reshape(-1) if self._y_ndim == 1 else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
