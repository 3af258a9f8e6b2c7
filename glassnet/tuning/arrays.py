"""The search data as ``fit`` takes it: one array, or a list or dict of arrays (a graph model's
several inputs or outputs), kept in that shape and cut into training and validation parts entry by
entry, so that every trial's ``fit`` gets what the user's own ``fit`` call would."""

from __future__ import annotations

import numpy as np
from scipy.sparse import issparse

from glassnet.models.split import class_labels


def as_arrays(x, y) -> tuple:
    """``x`` and ``y`` as NumPy arrays in ``fit``'s structure: each an array (SciPy sparse ``x``
    stays sparse, as CSR), a list of arrays or a dict of arrays by input (or output) name.

    A list is read as ``fit`` reads it: several inputs (or targets) when it holds arrays that
    are not one per sample, else the rows of one array (``x.tolist()``). ``np.asarray`` of a dict,
    or of arrays of different widths, would make one object array, which no model reads."""
    n_x, n_y = _own_count(x), _own_count(y)
    if n_x is None and n_y is None:  # two lists of arrays: inputs and targets if all agree on a length
        lengths = {len(v) for v in (*x, *y)}
        n_x = n_y = lengths.pop() if len(lengths) == 1 else None
    return _convert(x, n_y), _convert(y, n_x)


def _own_count(data) -> int | None:
    """The number of samples ``data`` holds by itself; None for a list of arrays, which may be
    several inputs or the rows of one."""
    if isinstance(data, dict):
        return len(next(iter(data.values()))) if data else 0
    if _list_of_arrays(data):
        return None
    return data.shape[0] if issparse(data) else len(np.asarray(data))


def _list_of_arrays(data) -> bool:
    return isinstance(data, (list, tuple)) and len(data) > 0 and all(
        len(getattr(v, "shape", ())) >= 1 for v in data)


def _convert(data, samples: int | None):
    """``data`` in its structure; a list of arrays is several entries unless it holds ``samples``
    of them (then they are rows)."""
    if isinstance(data, dict):
        return {name: np.asarray(value) for name, value in data.items()}
    if _list_of_arrays(data) and samples is not None and len(data) != samples:
        return [v.tocsr() if issparse(v) else np.asarray(v) for v in data]
    return data.tocsr() if issparse(data) else np.asarray(data)


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
    counts = {a.shape[0] if len(a.shape) else None for a in (*entries(x), *entries(y))}
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
