"""Batch sources: datasets that hand out one batch at a time, so data larger than memory can train.

A source follows Keras' ``PyDataset`` (``Sequence``) contract: ``len(source)`` batches per epoch,
``source[i]`` -> ``(x, y)`` or ``(x, y, sample_weight)``, and ``on_epoch_end()`` after each
epoch. ``model.fit(source)`` and ``model.evaluate(source)`` accept one in place of arrays.
The base class ``BatchSource`` and ``is_batch_source`` live beside the training loop, in
glassnet/models/sources.py (the engine imports nothing from here); this module re-exports them.
"""

from __future__ import annotations

import mmap

import numpy as np

from glassnet.models.data import densify, is_sparse
from glassnet.models.sources import BatchSource, is_batch_source  # noqa: F401  (the contract lives beside the loop)


class ArraySource(BatchSource):
    """Batches sliced from arrays, which may be memory-mapped files larger than memory.

    Only the rows of one batch are read at a time, so ``np.load("x.npy", mmap_mode="r")`` trains
    without loading the file; pickled (for tuning worker processes), such a file travels as its
    path and is mapped again on the other side.

    Args:
        x: inputs (N, ...), any array-like supporting fancy indexing (``np.memmap`` included),
            or a SciPy sparse matrix (N, D), of which each batch alone is densified.
        y: targets (N, ...) or None (prediction).
        batch_size: samples per batch.
        sample_weight: optional (N,) weights, returned as a third element.
        shuffle: reshuffle the samples after every epoch (seeded by ``seed``).
        seed: seed of the shuffling.

    Example:
        >>> import numpy as np
        >>> from glassnet.datasets import ArraySource
        >>> source = ArraySource(np.zeros((10, 3)), np.arange(10), batch_size=4)
        >>> len(source), source[2][0].shape
        (3, (2, 3))
    """

    def __init__(self, x, y=None, batch_size: int = 32, sample_weight=None, shuffle: bool = False, seed: int = 0):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
            raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}.")
        if is_sparse(x):
            x = x.tocsr()  # the format that slices rows (coo cannot be indexed at all)
        n = x.shape[0] if is_sparse(x) else len(x)
        for name, arr in (("y", y), ("sample_weight", sample_weight)):
            if arr is not None and len(arr) != n:
                raise ValueError(f"ArraySource: x has {n} samples but {name} has {len(arr)}.")
        # pandas objects index by label, not position (a shuffled batch would pick the wrong
        # rows, or fail after train_test_split): targets and weights become arrays, and a
        # DataFrame of inputs is sliced by position (.iloc) but stays a DataFrame, so a model
        # with a preprocessor attached still sees raw rows. Memmaps stay as they are.
        y, sample_weight = (a.to_numpy() if hasattr(a, "to_numpy") and not isinstance(a, np.ndarray) else a
                            for a in (y, sample_weight))
        self.x, self.y, self.sample_weight, self._n = x, y, sample_weight, n
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self._rng = np.random.default_rng(seed)
        self._order = self._rng.permutation(n) if self.shuffle else None

    def __len__(self):
        return -(-self._n // self.batch_size)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} is out of range for {len(self)} batches.")
        rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
        if self._order is not None:
            # Ascending rows within the batch: a memory-mapped file is then read front to back.
            rows = np.sort(self._order[rows])
        x = self.x.iloc[rows] if hasattr(self.x, "iloc") else np.asarray(densify(self.x[rows]))
        if self.y is None:
            return (x,)
        y = np.asarray(self.y[rows])
        if self.sample_weight is None:
            return x, y
        return x, y, np.asarray(self.sample_weight[rows])

    def on_epoch_end(self):
        if self.shuffle:
            self._order = self._rng.permutation(self._n)

    def __getstate__(self):
        # Pickling a memory-mapped array would read the whole file into the pickle.
        return {k: _MappedFile.of(v) or v for k, v in vars(self).items()}

    def __setstate__(self, state):
        vars(self).update({k: v.open() if isinstance(v, _MappedFile) else v for k, v in state.items()})


class _MappedFile:
    """Where a whole memory-mapped array lies in its file: pickles as a few numbers and a path."""

    def __init__(self, array: np.memmap):
        self.filename, self.offset, self.dtype, self.shape = array.filename, array.offset, array.dtype, array.shape
        self.order = "F" if array.flags.f_contiguous and not array.flags.c_contiguous else "C"

    @classmethod
    def of(cls, value):
        """The location of ``value`` when it maps a whole file region (not a view of one), else None."""
        if isinstance(value, np.memmap) and isinstance(value.base, mmap.mmap) and value.filename:
            return cls(value)
        return None

    def open(self) -> np.memmap:
        return np.memmap(self.filename, self.dtype, "r", self.offset, self.shape, self.order)
