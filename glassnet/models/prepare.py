"""Data as the loop takes it: checked arrays and targets shaped for the model's loss, from
arrays, DataFrames, lists or dicts by name, or ``image_dataset_from_directory``'s ``ImageData``."""

from __future__ import annotations

import sys

import numpy as np

from glassnet.models import data, outputs


def prepare_xy(model, x, y, x_name: str = "x", y_name: str = "y", loss=None):
    """Checked float arrays ``x`` and targets ``y`` shaped for the model's loss; builds the model.

    A graph model (``gn.Model``) returns its inputs and targets as ``outputs.Arrays`` instead.
    """
    if getattr(model, "is_graph", False):
        return outputs.prepare_xy(model, x, y, x_name, y_name)
    # the float type of the computation (a string Input has none of its own)
    dtype = next((layer.dtype for layer in model.layers if layer.dtype != "string"), "float32")
    if getattr(model, "preprocessor", None) is not None and is_dataframe(x):
        # Raw rows, as predict takes them: fit and evaluate must see the same features, not
        # the raw columns (which may even have the right count and pass every check).
        x = model.preprocessor.transform(x)
    text = data.takes_text(model.layers)
    if text:  # raw strings for a first TextVectorization layer, kept as strings
        x = data.as_text(x, x_name, model.input_shape[1:] if model.built else None)
    else:
        x = data.as_array(x, x_name, dtype, sparse=True)
    if y is None:
        raise ValueError(f"{y_name} is None; pass the targets (one per sample in {x_name}).")
    if data.is_sparse(y):
        raise ValueError(f"{y_name} is a SciPy sparse matrix; targets must be dense: pass {y_name}.toarray() "
                         f"(one-hot rows), or the class indices as a 1-D array.")
    y_arr = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y)
    data.check_lengths(**{x_name: x, y_name: y_arr})
    y_arr = data.as_array(y_arr, y_name, dtype, targets=True)
    if not model.built and text:
        model.build(x.shape[1:])
    elif not model.built:
        if x.ndim < 2:
            raise ValueError(
                f"{x_name} has shape {x.shape}, one value per sample, but a model needs rows of "
                f"features, shape (N, D). Reshape with {x_name}.reshape(-1, 1) for a single feature."
            )
        model.build(x.shape[1:])
    if not text:
        data.check_features(x, model.input_shape, x_name)
    try:
        y_arr = (loss or model.loss).validate_targets(y_arr, model.output_shape)
    except ValueError as err:
        raise ValueError(f"{y_name}: {err}") from None
    if y_arr.dtype.kind == "f":
        y_arr = y_arr.astype(dtype, copy=False)
    return x, y_arr


def is_dataframe(x) -> bool:
    pd = sys.modules.get("pandas")  # x cannot be a DataFrame unless pandas is imported
    return pd is not None and isinstance(x, pd.DataFrame)


def unpack_image_data(x, y=None):
    """(x, y) from ``image_dataset_from_directory``'s ``ImageData``, which Keras users pass to
    ``fit`` whole, as they would a dataset; anything else passes through."""
    if y is None and hasattr(x, "file_paths") and hasattr(x, "class_names") and hasattr(x, "x"):
        return x.x, x.y
    return x, y
