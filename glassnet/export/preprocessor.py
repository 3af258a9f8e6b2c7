"""A fitted TabularPreprocessor written into the ONNX graph, so the exported model takes raw columns.

The graph gets one input per feature column, named as the column, each of shape (N, 1):
numeric columns as float64 (NaN for a missing cell), categorical columns as strings. Inside,
the same arithmetic as ``transform``: median imputation, the 0/1 missing indicators,
standardisation in float64 then float32, and per categorical column a lookup of the fitted
categories (rare and unseen ones into the "Other" column where the column has one, unseen ones
to all zeros where it does not; the missing-value strings such as "?" and "" into the column
of a missing cell) followed by a one-hot comparison.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from onnx import TensorProto

from glassnet.export import ML_OPSET
from glassnet.export.registry import ExportError
from glassnet.preprocessing import TabularPreprocessor
from glassnet.preprocessing.tabular import rare_categories


def check_exportable(preprocessor) -> None:
    """Raise an ExportError saying what to do unless ``preprocessor`` can go into the graph."""
    if type(preprocessor) is not TabularPreprocessor:
        raise ExportError(
            f"The attached preprocessor ({type(preprocessor).__name__}) has no ONNX export. Export the network "
            f"alone with model.export(path, include_preprocessor=False) and apply the preprocessor to the rows "
            f"before calling the ONNX model."
        )


def raw_feature_inputs(g, prep: TabularPreprocessor) -> str:
    """Add prep's raw-column inputs to ``g``; returns the (N, n_features_out) feature tensor."""
    check_exportable(prep)
    # The inputs in the table's column order, as a user's frame lists them.
    raw = {c: g.add_input(c, np.float64 if c in prep.numeric_columns_ else str, (None, 1))
           for c in prep.feature_names_in_}
    parts = []
    if prep.imputer_ is not None:
        columns = [raw[c] for c in prep.numeric_columns_]
        x = g.node("Concat", columns, axis=1) if len(columns) > 1 else columns[0]  # (N, n) float64
        missing = g.node("IsNaN", [x])
        imputed = g.node("Where", [missing, g.const(prep.imputer_.statistics_, dtype=np.float64), x])
        # StandardScaler's transform: (x - mean) / scale in float64, as transform computes it.
        scaled = g.node("Div", [g.node("Sub", [imputed, g.const(prep.scaler_.mean_, dtype=np.float64)]),
                                g.const(prep.scaler_.scale_, dtype=np.float64)])
        parts.append(g.node("Cast", [scaled], to=TensorProto.FLOAT))
        flagged = prep.imputer_.indicator_.features_
        if len(flagged):
            indicators = g.node("Gather", [missing, g.const(np.asarray(flagged), dtype=np.int64)], axis=1)
            parts.append(g.node("Cast", [indicators], to=TensorProto.FLOAT))
    if prep.encoders_:
        g.domains["ai.onnx.ml"] = ML_OPSET
        missing_row = _missing_row(prep)
        start = len(prep.numeric_columns_) + (len(prep.imputer_.indicator_.features_) if prep.imputer_ else 0)
        for column, encoder in prep.encoders_.items():
            width = len(encoder.get_feature_names_out())
            parts.append(_one_hot(g, prep, raw[column], encoder, missing_row[start:start + width]))
            start += width
    features = g.node("Concat", parts, axis=1) if len(parts) > 1 else parts[0]
    if g.dtype != np.float32:  # transform returns float32; predict then casts to the model's dtype
        features = g.node("Cast", [features], to=TensorProto.DOUBLE)
    return features


def _missing_row(prep: TabularPreprocessor) -> np.ndarray:
    """transform's output for a row whose every cell is missing: where each column puts a missing cell."""
    row = pd.DataFrame({c: [np.nan] for c in prep.feature_names_in_})
    with warnings.catch_warnings():  # "missing" may be unseen at fit: zeros, with a UserWarning
        warnings.simplefilter("ignore", UserWarning)
        return prep.transform(row)[0]


def _one_hot(g, prep, column: str, encoder, missing_block: np.ndarray) -> str:
    """(N, 1) strings in input ``column`` -> (N, width) float32: category -> output column, then a comparison."""
    categories = [str(c) for c in encoder.categories_[0]]
    rows = encoder.transform(np.asarray(categories, dtype=object).reshape(-1, 1))  # (K, width)
    positions = [int(r.argmax()) if r.any() else -1 for r in rows]
    # Unseen categories go where the encoder sends them: the "Other" column (the last) if the
    # column has rare categories, else nowhere (all zeros).
    unseen = rows.shape[1] - 1 if rare_categories(encoder) else -1
    keys, values = list(categories), list(positions)
    missing_at = int(missing_block.argmax()) if missing_block.any() else -1
    for text in prep.missing_values or ():
        text = str(text).strip()
        if text not in keys:
            keys.append(text)
            values.append(missing_at)
    index = g.node("LabelEncoder", [column], domain="ai.onnx.ml",
                   keys_strings=keys, values_int64s=values, default_int64=unseen)
    hot = g.node("Equal", [index, g.const(np.arange(rows.shape[1]), dtype=np.int64)])  # (N, 1) vs (width,)
    return g.node("Cast", [hot], to=TensorProto.FLOAT)
