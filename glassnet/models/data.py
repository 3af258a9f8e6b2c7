"""Input checking and batching for fit, evaluate and predict.

Every check raises a ValueError that names the argument, the problem and the fix, before any
arithmetic can turn bad data into silent nonsense.
"""

from __future__ import annotations

import sys

import numpy as np


def ragged_error(x, name: str) -> ValueError:
    """The error for sequences of unequal lengths (a list of token-id lists), naming the fix."""
    lengths = sorted({len(v) for v in x if hasattr(v, "__len__")})
    seen = f" (lengths {lengths[0]} to {lengths[-1]})" if len(lengths) > 1 else ""
    return ValueError(f"{name} holds sequences of different lengths{seen}; a batch must be one array. Pad them "
                      f"to one length with 0 (gn.utils.pad_sequences(sequences, maxlen=...)), and put "
                      f"Embedding(mask_zero=True) or Masking() first so the model skips the padding.")


def as_array(x, name: str, dtype: str, sparse: bool = False, targets: bool = False):
    """``x`` as a float array of ``dtype``, rejecting empty, non-numeric and non-finite data.

    With ``sparse=True`` a SciPy sparse matrix or array stays sparse, as CSR (see ``as_csr``);
    otherwise it is refused with the fix. ``targets=True`` says ``x`` holds targets, so that class
    names in it are met with label-encoding advice rather than the advice for inputs.
    """
    if x is None:
        raise ValueError(f"{name} is None; pass a NumPy array (or a pandas DataFrame) of numbers.")
    if is_sparse(x):
        if sparse:
            return as_csr(x, name, dtype)
        raise ValueError(f"{name} is a SciPy sparse {type(x).__name__}, which only fit, evaluate and predict "
                         f"take, as their inputs x; pass {name}.toarray() here.")
    if hasattr(x, "to_numpy"):  # pandas objects
        x = x.to_numpy()
    try:
        arr = np.asarray(x)
    except ValueError:  # NumPy refuses nested lists of unequal lengths
        raise ragged_error(x, name) from None
    if arr.dtype.kind == "O" and arr.ndim == 1 and len(arr) and all(isinstance(v, (list, tuple, np.ndarray))
                                                                    for v in arr):
        raise ragged_error(arr, name)
    if arr.dtype.kind in "OUSV" or arr.dtype.kind == "M":
        try:
            arr = arr.astype(dtype)
        except (TypeError, ValueError):
            # Class names in targets need label encoding, not a text layer (which reads inputs only).
            if targets:
                raise ValueError(
                    f"{name} must be numeric, but it has dtype {arr.dtype} with values that are not "
                    f"numbers (such as {_first_non_number(arr)!r}). Encode class labels as integers "
                    f"first: sklearn.preprocessing.LabelEncoder().fit_transform({name.split()[0]}), or "
                    f"classes, codes = np.unique(y, return_inverse=True) (keep classes to decode predictions)."
                ) from None
            raise ValueError(
                f"{name} must be numeric, but it has dtype {arr.dtype} with values that are not "
                f"numbers (such as {_first_non_number(arr)!r}). Encode text categories as numbers "
                f"first (one-hot, e.g. pandas.get_dummies or gn.preprocessing) and drop ID columns; for "
                f"free text, start the model with gn.layers.TextVectorization."
            ) from None
    if arr.dtype.kind == "c":
        raise ValueError(f"{name} has complex dtype {arr.dtype}; glassnet works with real numbers.")
    if arr.ndim == 0:
        raise ValueError(f"{name} is a scalar; pass one row per sample, shape (N, ...).")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}); there is nothing to train or predict on.")
    arr = np.ascontiguousarray(arr, dtype=dtype)
    # A finite sum proves every value finite (inf and NaN propagate through it) without a
    # boolean temporary as large as the data; only a non-finite sum needs the exact check.
    with np.errstate(over="ignore", invalid="ignore"):
        total = arr.sum()
    if not np.isfinite(total) and not np.isfinite(arr).all():
        bad = ~np.isfinite(arr)
        rows = np.unique(np.nonzero(bad)[0])
        kind = "NaN" if np.isnan(arr).any() else "infinite values"
        raise ValueError(
            f"{name} contains {kind} in {rows.size} row(s) (first at row {int(rows[0])}). Impute or "
            f"drop missing values first (e.g. sklearn.impute.SimpleImputer or DataFrame.dropna)."
        )
    return arr


def takes_text(layers) -> bool:
    """True when the first layer that computes (past any ``Input``) reads raw strings
    (``TextVectorization``): the model's inputs are then strings, not floats."""
    for layer in layers:
        if getattr(layer, "is_graph_input", False):
            continue
        inner = getattr(layer, "model", None)  # a model nested as a layer: its own first layer decides
        if inner is not None and getattr(inner, "is_graph", False):
            return any(t.dtype == "string" for t in inner.inputs)
        if inner is not None:
            return takes_text(inner.layers)
        return getattr(layer, "takes_text", False) is True
    return False


def as_text(x, name: str, shape: tuple | None = None) -> np.ndarray:
    """``x`` as an object array of Python strings, one per sample: (N,), or (N, 1) when ``shape``
    is ``(1,)`` (a model input declared so); refuses numbers, missing values, ragged lists and
    empty data, naming the first bad row. Bytes are decoded as UTF-8, as TensorFlow reads them."""
    if x is None:
        raise ValueError(f"{name} is None; pass the texts, one string per sample (a list or an array).")
    if isinstance(x, (str, bytes)):
        raise ValueError(f"{name} is a single string; pass a list of strings, one per sample: [{x!r}].")
    if hasattr(x, "to_numpy"):  # pandas
        x = x.to_numpy()
    if isinstance(x, (list, tuple)) and x and all(isinstance(v, (list, tuple)) and len(v) == 1 for v in x):
        x = [v[0] for v in x]  # one string per row, shape (N, 1), as np.array([["a dog"]]) is read
    arr = np.empty(len(x), dtype=object) if isinstance(x, (list, tuple)) else None
    if arr is not None:  # filled element by element: np.asarray would nest lists of tokens
        arr[:] = list(x)
    else:
        arr = np.asarray(x, dtype=object)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{name} has shape {arr.shape}; text input takes one string per sample, shape (N,) "
                         f"or (N, 1). Join each sample's parts into one string first.")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty; there is no text to work on.")
    for i, value in enumerate(arr):
        if isinstance(value, bytes):
            arr[i] = value = value.decode("utf-8")
        if not isinstance(value, str):
            kind = "a list (ragged tokens?)" if isinstance(value, (list, tuple, np.ndarray)) else type(value).__name__
            raise ValueError(f"{name}[{i}] is {kind} {value!r}, not a string. Text input takes one string per "
                             f"sample: fill missing texts first (e.g. series.fillna('')) and join token lists "
                             f"with ' '.join(tokens).")
    return arr.reshape(-1, 1) if shape is not None and tuple(shape) == (1,) else arr


def is_sparse(x) -> bool:
    """True for a SciPy sparse matrix or array of any format (csr, csc, coo, ...)."""
    sparse = sys.modules.get("scipy.sparse")  # x cannot be sparse unless SciPy's sparse module is loaded
    return sparse is not None and sparse.issparse(x)


def as_csr(x, name: str, dtype: str):
    """A SciPy sparse ``x`` as a CSR matrix or array of ``dtype``, checked as ``as_array`` checks
    dense data but never densified: CSR hands out rows cheaply, and ``densify`` turns one batch
    of them at a time into a dense array."""
    if x.ndim != 2:
        raise ValueError(f"{name} is a {x.ndim}-D sparse array; sparse inputs must be 2-D, shape (N, features).")
    if x.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {x.shape}); there is nothing to train or predict on.")
    if x.dtype.kind not in "biuf":
        raise ValueError(f"{name} is a sparse matrix of dtype {x.dtype}; glassnet works with real numbers.")
    x = x.tocsr().astype(dtype, copy=False)
    if not np.isfinite(x.data).all():
        rows = np.unique(np.repeat(np.arange(x.shape[0]), np.diff(x.indptr))[~np.isfinite(x.data)])
        raise ValueError(
            f"{name} contains NaN or infinite values in {rows.size} row(s) (first at row {int(rows[0])}). "
            f"Impute or drop missing values first (e.g. sklearn.impute.SimpleImputer)."
        )
    return x


def densify(x):
    """Rows taken from the inputs as a dense array: sparse inputs are densified one batch at a
    time, so a one-hot matrix far larger than memory in dense form still trains."""
    return x.toarray() if is_sparse(x) else x


def _first_non_number(arr):
    for v in arr.reshape(-1):
        try:
            float(v)
        except (TypeError, ValueError):
            return v
    return None


def check_features(x: np.ndarray, input_shape: tuple, name: str = "x") -> None:
    """Raise if ``x``'s per-sample shape differs from the model's input shape."""
    expected = tuple(input_shape[1:])
    got = tuple(x.shape[1:])
    if is_sparse(x) and len(expected) != 1:
        raise ValueError(
            f"{name} is a SciPy sparse matrix, 2-D (N, {got[0]}), but the model's input expects per-sample "
            f"shape {expected}. Give the model input_shape=({got[0]},) and a layers.Reshape({expected}) "
            f"first (batches are densified one at a time), or pass a dense {name} of shape (N, *{expected})."
        )
    if x.ndim == 1 and len(expected) == 1:
        raise ValueError(
            f"{name} has shape {x.shape}, one value per sample, but the model expects "
            f"{expected[0]} features per sample. Reshape to (N, {expected[0]}); for a single "
            f"sample use x.reshape(1, -1)."
        )
    if len(got) != len(expected) or any(e is not None and e != g for e, g in zip(expected, got)):
        if len(expected) == 1 and len(got) == 1:
            raise ValueError(
                f"{name} has {got[0]} features per sample, but the model's input expects "
                f"{expected[0]} (input_shape={expected}). Check the columns (drop or add features), "
                f"or set input_shape on the first layer to match the data. For token-id sequences "
                f"(an Embedding first) these are time steps: pad or cut them to {expected[0]} with "
                f"gn.utils.pad_sequences(sequences, maxlen={expected[0]}), or build the model with "
                f"gn.Input(shape=(None,))."
            )
        if len(got) == len(expected) == 2 and expected[1] in (None, got[1]):  # (N, T, D): only T differs
            raise ValueError(
                f"{name} has {got[0]} time steps per sample, but the model was built for {expected[0]} "
                f"(input shape {expected}). Pad or cut the sequences to {expected[0]} steps with "
                f"gn.utils.pad_sequences(sequences, maxlen={expected[0]}, dtype='float32'), or build "
                f"the model for any length with gn.Input(shape=(None, {got[1]}))."
            )
        def fits(shape):
            return len(shape) == len(expected) and all(e is None or e == g for e, g in zip(expected, shape))

        if fits(tuple(x.shape)):  # one image read from a file, say: predict still takes a batch
            hint = f"It looks like one sample without the batch axis: pass {name}[None] (shape {(1, *expected)})."
        elif fits((*got, 1)):  # grayscale images (N, H, W) for a channels-last model
            hint = f"Add the channel axis: {name}[..., None]."
        else:
            hint = "Reshape the data or change input_shape on the first layer."
        raise ValueError(f"{name} has per-sample shape {got}, but the model's input expects {expected}. {hint}")


def check_lengths(**arrays) -> int:
    """Raise unless every given array has the same number of samples; return that number."""
    for k, v in arrays.items():
        if v is not None and not is_sparse(v) and np.ndim(v) == 0:
            raise ValueError(f"{k} is a single value; pass one entry per sample, shape (N, ...).")
    lengths = {k: v.shape[0] if is_sparse(v) else len(v) for k, v in arrays.items() if v is not None}
    if len(set(lengths.values())) > 1:
        described = ", ".join(f"{k} has {n}" for k, n in lengths.items())
        raise ValueError(f"Sample counts differ: {described}. Give every array one entry per sample.")
    return next(iter(lengths.values()))


def as_sample_weight(sample_weight, n: int) -> np.ndarray | None:
    """Weights per sample (N,), or per sample and time step (N, T) for sequence outputs
    (Keras' "temporal" weights), checked."""
    if sample_weight is None:
        return None
    w = as_array(sample_weight, "sample_weight", "float64")
    if w.ndim != 1 and not (w.ndim == 2 and w.shape[0] == n and w.shape[1] > 1):
        w = w.reshape(-1) if w.size == n else w
    if w.shape[:1] != (n,) or w.ndim > 2:
        raise ValueError(f"sample_weight must have shape ({n},), one weight per sample; got {w.shape}. (A "
                         f"sequence output also takes ({n}, T), one weight per sample and time step.)")
    if (w < 0).any():
        raise ValueError("sample_weight must be >= 0.")
    return w


def labels_per_step(y: np.ndarray) -> bool:
    """True for integer labels (N, T), one per time step of a sequence output: the sparse loss's
    targets, which it keeps as integers, while one-hot rows (N, C) are floats."""
    return y.dtype.kind in "iu" and y.ndim == 2 and y.shape[1] > 1


def class_indices(y: np.ndarray) -> np.ndarray:
    """Integer class of each target row: labels, argmax of one-hot rows or rounded 0/1 values;
    of each time step for targets per step (labels (N, T), 0/1 (N, T, 1), one-hot (N, T, C)).
    The class axis is the last: argmax over axis 1 gave a sequence's time steps as classes."""
    if y.ndim == 1 or labels_per_step(y):
        return np.rint(y).astype(np.int64)
    if y.shape[-1] == 1:
        return np.rint(y[..., 0]).astype(np.int64)
    return y.argmax(axis=-1)


def apply_class_weight(class_weight: dict, y: np.ndarray, sample_weight, n: int) -> np.ndarray:
    """Per-sample weights: each sample's class weight times its sample weight; per time step
    (N, T) for labels per step."""
    classes = class_indices(y)
    unknown = sorted(set(np.unique(classes).tolist()) - {int(k) for k in class_weight})
    if unknown:
        raise ValueError(
            f"class_weight has no entry for class(es) {unknown}; give a weight for every class "
            f"present in y (keys are class indices)."
        )
    lookup = np.zeros(max(int(k) for k in class_weight) + 1, dtype=np.float64)
    for k, w in class_weight.items():
        lookup[int(k)] = float(w)
    weights = lookup[classes]
    if sample_weight is None:
        return weights
    if sample_weight.ndim < weights.ndim:  # per-sample weights times per-step class weights
        sample_weight = sample_weight[:, None]
    elif sample_weight.ndim > weights.ndim:
        weights = weights[:, None]
    return weights * sample_weight


def batch_slices(n: int, batch_size: int):
    for start in range(0, n, batch_size):
        yield slice(start, min(start + batch_size, n))


def check_batch_size(batch_size) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}.")
    return int(batch_size)
