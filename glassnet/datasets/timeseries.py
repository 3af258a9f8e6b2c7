"""Sliding windows over a time series, as ``keras.utils.timeseries_dataset_from_array``.

Window i starts at time step ``start_index + i * sequence_stride`` and takes ``sequence_length``
steps ``sampling_rate`` apart; ``targets[t]`` pairs with the window that starts at step t. The
windows are cut one batch at a time, so a long (even memory-mapped) series is never copied whole.
"""

from __future__ import annotations

import numpy as np

from glassnet.datasets.sources import BatchSource
from glassnet.utils import check_positive_int


def _positive_int(value, name: str) -> int:
    return check_positive_int(value, name, "timeseries_dataset_from_array")


class TimeseriesSource(BatchSource):
    """Batches of windows ``(x (B, sequence_length, ...), y (B, ...))`` cut from ``data``.

    Made by ``timeseries_dataset_from_array``; ``fit``, ``evaluate`` and ``predict`` accept it.

    Args:
        data: the series (T, ...), any array supporting fancy indexing (``np.memmap`` included).
        targets: (T, ...) or None; the target of the window starting at step t is ``targets[t]``.
        starts: the first step of every window, in the order served.
        sequence_length, sampling_rate: steps per window and the distance between them.
        batch_size: windows per batch.
        shuffle: reshuffle the windows after every epoch (seeded by ``seed``).
        seed: seed of the shuffling.
    """

    def __init__(self, data, targets, starts: np.ndarray, sequence_length: int, sampling_rate: int,
                 batch_size: int, shuffle: bool = False, seed: int | None = None):
        self.data, self.targets, self.starts = data, targets, starts
        self.offsets = np.arange(sequence_length) * sampling_rate  # (L,) steps within one window
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self._rng = np.random.default_rng(seed)

    def __len__(self):
        return -(-len(self.starts) // self.batch_size)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} is out of range for {len(self)} batches.")
        starts = self.starts[index * self.batch_size:(index + 1) * self.batch_size]
        x = np.asarray(self.data[starts[:, None] + self.offsets])  # (B, 1) + (L,) -> (B, L) steps -> (B, L, ...)
        return (x,) if self.targets is None else (x, np.asarray(self.targets[starts]))

    def on_epoch_end(self):
        if self.shuffle:
            self.starts = self._rng.permutation(self.starts)

    def arrays(self):
        """Every window at once, as ``(x, y)`` arrays (y None without targets)."""
        x = np.asarray(self.data[self.starts[:, None] + self.offsets])
        return x, None if self.targets is None else np.asarray(self.targets[self.starts])


def timeseries_dataset_from_array(data, targets, sequence_length: int, sequence_stride: int = 1,
                                  sampling_rate: int = 1, batch_size: int | None = 128, shuffle: bool = False,
                                  seed: int | None = None, start_index: int | None = None,
                                  end_index: int | None = None):
    """Windows over ``data`` and their targets (Keras' function and arguments).

    Args:
        data: the series, (T,) or (T, features...), time first.
        targets: (T, ...) or None; ``targets[t]`` is the target of the window that starts at step
            t. To forecast ``data`` itself h steps after each window's last step, pass
            ``targets=data[sequence_length - 1 + h:]`` (windows then stop where targets run out).
        sequence_length: steps per window.
        sequence_stride: distance between the starts of successive windows.
        sampling_rate: distance between the steps within a window.
        batch_size: windows per batch (Keras' default 128); None returns all windows as arrays.
        shuffle: serve the windows in a shuffled order, drawn again every epoch (Keras shuffles
            with a buffer; here the whole order is permuted).
        seed: seed of the shuffling (the same seed, the same batches).
        start_index, end_index: only steps in ``[start_index, end_index)`` are used, e.g. to
            keep a validation or test period apart.

    Returns:
        A ``TimeseriesSource`` whose batches are ``(x (B, sequence_length, ...), y)`` (``(x,)``
        without targets), or with ``batch_size=None`` a pair of arrays ``(x, y)``.

    Example:
        >>> import numpy as np, glassnet as gn
        >>> source = gn.datasets.timeseries_dataset_from_array(
        ...     np.arange(10), np.arange(10) * 10, sequence_length=3, batch_size=4)
        >>> x, y = source[0]
        >>> x.tolist(), y.tolist()
        ([[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]], [0, 10, 20, 30])
    """
    if hasattr(data, "to_numpy"):
        data = data.to_numpy()
    if targets is not None and hasattr(targets, "to_numpy"):
        targets = targets.to_numpy()
    if not hasattr(data, "shape"):
        data = np.asarray(data)
    if data.ndim == 0 or data.shape[0] == 0:
        raise ValueError("timeseries_dataset_from_array: data is empty; pass the series, time first: (T, ...).")
    if targets is not None and not hasattr(targets, "shape"):
        targets = np.asarray(targets)
    sequence_length = _positive_int(sequence_length, "sequence_length")
    sequence_stride = _positive_int(sequence_stride, "sequence_stride")
    sampling_rate = _positive_int(sampling_rate, "sampling_rate")
    if batch_size is not None:
        batch_size = _positive_int(batch_size, "batch_size")
    steps = data.shape[0]
    start = 0 if start_index is None else start_index
    end = steps if end_index is None else end_index
    for name, value in (("start_index", start), ("end_index", end)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value <= steps:
            raise ValueError(f"timeseries_dataset_from_array: {name} must be an integer in [0, {steps}] "
                             f"(data has {steps} steps); got {value!r}.")
    if start >= end:
        raise ValueError(f"timeseries_dataset_from_array: start_index ({start}) must be below end_index ({end}).")
    span = (sequence_length - 1) * sampling_rate + 1  # steps one window covers
    count = end - start - span + 1  # windows that fit in [start, end)
    if targets is not None:
        count = min(count, targets.shape[0] - start)  # a window needs its target
    if count <= 0:
        raise ValueError(
            f"timeseries_dataset_from_array: no window fits: one covers {span} steps (sequence_length="
            f"{sequence_length}, sampling_rate={sampling_rate}) but steps {start}..{end - 1} hold {end - start}"
            + ("" if targets is None else f" and targets has {targets.shape[0]} entries") + ".")
    starts = start + np.arange(0, count, sequence_stride)
    if shuffle:
        starts = np.random.default_rng(seed).permutation(starts)
    source = TimeseriesSource(data, targets, starts, sequence_length, sampling_rate,
                              batch_size or len(starts), shuffle, seed)
    return source.arrays() if batch_size is None else source
