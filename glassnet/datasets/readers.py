"""Readers for the file formats image datasets come in: IDX, the Kaggle digit CSV, MedMNIST .npz.

Each returns plain NumPy arrays in Keras' layout: images (N, H, W) or (N, H, W, C) uint8,
labels (N,) integers.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

# IDX type codes (the third byte of the magic number) and the big-endian dtypes they name.
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path) -> np.ndarray:
    """Read an IDX file (MNIST's format), gzip-compressed or not.

    Args:
        path: the file, e.g. ``train-images-idx3-ubyte.gz`` or its gunzipped copy.

    Returns:
        np.ndarray: images (N, 28, 28) or labels (N,), in the file's type (uint8 for MNIST).

    Math:
        layout: 2 zero bytes, a type code, the number of dimensions d, then d big-endian uint32
        sizes and the values in C order.

    Example:
        >>> from glassnet.datasets.readers import read_idx
        >>> read_idx("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz").shape  # doctest: +SKIP
        (10000,)
    """
    path = Path(path)
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":  # gzip's magic number, whatever the file is called
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as err:
            raise ValueError(f"{path}: the gzip data is corrupt or truncated ({err}); "
                             f"download it again.") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"{path} is not an IDX file (it does not start with 00 00 <type> <ndim>).")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: the file ends inside its header ({len(raw)} of {header} bytes); "
                         f"it is truncated: download it again.")
    shape = tuple(int(d) for d in np.frombuffer(raw[4:header], dtype=">u4"))
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise ValueError(
            f"{path}: the header announces shape {shape} ({expected} bytes of data) but the file "
            f"holds {len(raw) - header}; it is truncated or not an IDX file."
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def read_digit_csv(path, image_shape=(28, 28)) -> tuple[np.ndarray, np.ndarray | None]:
    """Read Kaggle's digit-recognizer CSV: a ``label`` column then ``pixel0`` ... ``pixel783``.

    Args:
        path: ``train.csv`` (with labels) or ``test.csv`` (without).
        image_shape: the shape each row of pixels is reshaped to.

    Returns:
        (x, y): x (N, 28, 28) uint8; y (N,) int64, or None for a file without a ``label`` column.
    """
    import pandas as pd

    frame = pd.read_csv(path)
    n_pixels = int(np.prod(image_shape))
    expected = [f"pixel{i}" for i in range(n_pixels)]
    missing = [c for c in expected if c not in frame.columns]
    extra = [c for c in frame.columns if c not in expected and c != "label"]
    if missing or extra:
        raise ValueError(
            f"{path} is not in the digit-recognizer layout ('label', 'pixel0' .. 'pixel{n_pixels - 1}'): "
            + (f"missing {missing[:5]}{' ...' if len(missing) > 5 else ''}" if missing else "")
            + ("; " if missing and extra else "")
            + (f"unexpected columns {extra[:5]}" if extra else "")
        )
    if frame.empty:
        raise ValueError(f"{path} has the digit-recognizer header but no rows of images.")
    pixels = _whole_numbers(frame[expected], path, "pixel values")
    if pixels.min() < 0 or pixels.max() > 255:
        raise ValueError(f"{path}: pixel values must be within 0..255; found {pixels.min()}..{pixels.max()}.")
    x = pixels.astype(np.uint8).reshape(-1, *image_shape)
    y = _whole_numbers(frame[["label"]], path, "labels").ravel() if "label" in frame.columns else None
    return x, y


def _whole_numbers(columns, path, what: str) -> np.ndarray:
    """The columns as int64, or an error naming the first empty or fractional cell: casting
    would turn an empty cell (NaN) into 0 or -2**63 and 1.9 into 1 without a word."""
    values = columns.to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values) | (values != np.round(values))
    if bad.any():
        row, col = np.argwhere(bad)[0]
        cell = "an empty cell" if np.isnan(values[row, col]) else f"{values[row, col]:g}"
        raise ValueError(f"{path}: {what} must be whole numbers; row {row + 1} (after the header), column "
                         f"{columns.columns[col]!r} holds {cell}. Fill or fix those cells.")
    return values.astype(np.int64)


def load_npz(path, splits=("train", "val", "test")) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Read an .npz in MedMNIST's layout: ``train_images``, ``train_labels``, ``val_...``, ``test_...``.

    Args:
        path: the .npz file (read without pickle, so a file cannot run code).
        splits: split names to read; those absent from the file are skipped.

    Returns:
        dict: split -> (images, labels), labels flattened from (N, 1) to (N,).

    Example:
        >>> from glassnet.datasets import load_npz
        >>> data = load_npz("../shared/data/pneumoniamnist_balanced.npz")  # doctest: +SKIP
        >>> x_train, y_train = data["train"]  # doctest: +SKIP
    """
    if isinstance(splits, str):  # one split by name, not its letters
        splits = (splits,)
    with np.load(path, allow_pickle=False) as archive:
        keys = set(archive.files)
        result = {}
        for split in splits:
            image_key, label_key = f"{split}_images", f"{split}_labels"
            if image_key not in keys and label_key not in keys:
                continue
            if image_key not in keys or label_key not in keys:
                raise ValueError(f"{path} has only one of {image_key!r} and {label_key!r}.")
            x, y = archive[image_key], archive[label_key]
            if y.ndim == 2 and y.shape[1] == 1:
                y = y[:, 0]
            if x.shape[0] != y.shape[0]:
                raise ValueError(f"{path}: {image_key} has {x.shape[0]} images but {label_key} has "
                                 f"{y.shape[0]} labels.")
            result[split] = (x, y)
    if not result:
        raise ValueError(
            f"{path} is not in the MedMNIST layout: expected keys like 'train_images' and "
            f"'train_labels'; found {sorted(keys)}."
        )
    return result
