"""The search data as ``fit`` takes it: one array, or a list or dict of arrays (a graph model's
several inputs or outputs), kept in that shape and cut into training and validation parts entry by
entry, so that every trial's ``fit`` gets what the user's own ``fit`` call would."""

from __future__ import annotations

import numpy as np

from glassnet.models.split import class_labels


def as_arrays(data):
    """``data`` as NumPy arrays in the same structure: an array, a list of arrays or a dict of
    arrays by input (or output) name. ``np.asarray`` of a dict or of arrays of different widths
    would make one object array, which no model reads."""
    if isinstance(data, dict):
        return {name: np.asarray(value) for name, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [np.asarray(value) for value in data]
    return np.asarray(data)


def entries(data) -> list:
    """The arrays of ``data`` (one for an array)."""
    if isinstance(data, dict):
        return list(data.values())
    return list(data) if isinstance(data, list) else [data]


def take(data, index):
    """The samples ``index`` (an integer index array) of every array of ``data``."""
    if isinstance(data, dict):
        return {name: value[index] for name, value in data.items()}
    if isinstance(data, list):
        return [value[index] for value in data]
    return data[index]


def split_targets(y):
    """The targets a split stratifies on: ``y`` itself, or with several outputs the first whose
    targets are class labels (the rule fit's ``validation_split`` follows for a graph); the
    first output when none is (a plain shuffled split, where only the sample count matters)."""
    if not isinstance(y, (dict, list)):
        return y
    targets = entries(y)
    if not targets:
        raise ValueError("y holds no targets; give one array per model output (a list, or a dict by output name).")
    return next((t for t in targets if class_labels(t) is not None), targets[0])


def check_lengths(x, y) -> None:
    """Every input and every target array holds the same number of samples, or a named error."""
    counts = {len(a) if np.ndim(a) else None for a in (*entries(x), *entries(y))}
    if len(counts) != 1 or None in counts:
        shapes = {"x": [np.shape(a) for a in entries(x)], "y": [np.shape(a) for a in entries(y)]}
        raise ValueError(f"The search data's arrays hold different numbers of samples (shapes {shapes}); give "
                         f"every input and every target one row per sample.")


def to_npz(name: str, data) -> dict:
    """``data``'s arrays as ``np.savez`` entries: ``name`` for an array, ``name.list.<i>`` for a
    list, ``name.dict.<key>`` for a dict (no object arrays: the file loads without pickle)."""
    if isinstance(data, dict):
        return {f"{name}.dict.{key}": value for key, value in data.items()}
    if isinstance(data, list):
        return {f"{name}.list.{i}": value for i, value in enumerate(data)}
    return {name: data}


def from_npz(name: str, arrays: dict):
    """The data ``to_npz`` stored under ``name``, in its structure; None when absent."""
    if name in arrays:
        return arrays[name]
    as_dict = {k[len(name) + 6:]: v for k, v in arrays.items() if k.startswith(f"{name}.dict.")}
    if as_dict:
        return as_dict
    as_list = {int(k[len(name) + 6:]): v for k, v in arrays.items() if k.startswith(f"{name}.list.")}
    return [as_list[i] for i in sorted(as_list)] if as_list else None
