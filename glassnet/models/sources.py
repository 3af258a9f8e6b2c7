"""The batch-source contract the training loop reads: ``BatchSource`` and ``is_batch_source``,
and the checks and reads of a source's batches (``check_source_arguments``, ``source_batch``).

It lives here, beside the loop, so the engine imports nothing from ``glassnet.datasets``; the
sources themselves (``ArraySource``, folders of images, time series) are in glassnet/datasets/,
and ``glassnet.datasets`` re-exports these two names, where users import them from.

A source follows Keras' ``PyDataset`` (``Sequence``) contract: ``len(source)`` batches per epoch,
``source[i]`` -> ``(x, y)`` or ``(x, y, sample_weight)``, and ``on_epoch_end()`` after each
epoch. ``model.fit(source)`` and ``model.evaluate(source)`` accept one in place of arrays.
"""

from __future__ import annotations

import copy

import numpy as np

from glassnet.models import data, outputs
from glassnet.models.prepare import prepare_xy


class BatchSource:
    """Base class of batch sources; subclass it and define ``__len__`` and ``__getitem__``.

    Example:
        >>> import numpy as np
        >>> from glassnet.datasets import BatchSource
        >>> class Squares(BatchSource):
        ...     def __len__(self):
        ...         return 3
        ...     def __getitem__(self, i):
        ...         x = np.arange(4.0).reshape(4, 1) + 4 * i
        ...         return x, x ** 2
        >>> len(Squares()), Squares()[1][1].ravel().tolist()
        (3, [16.0, 25.0, 36.0, 49.0])
    """

    def __len__(self) -> int:
        raise NotImplementedError

    def __getitem__(self, index: int):
        raise NotImplementedError

    def on_epoch_end(self) -> None:
        """Called by ``fit`` after every epoch (reshuffle here)."""

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __copy__(self):
        """A copy that shares the data but has its own shuffling state (its random generators are
        copied), so training the copy leaves this source as it was: the tuner gives every trial
        a copy, so no trial's batches depend on the trials before it."""
        clone = object.__new__(type(self))
        clone.__dict__.update({k: copy.deepcopy(v) if isinstance(v, np.random.Generator) else v
                               for k, v in vars(self).items()})
        return clone


def is_batch_source(obj) -> bool:
    """True for a ``BatchSource`` or any object with the same contract (but not an array-like)."""
    if isinstance(obj, BatchSource):
        return True
    if obj is None or isinstance(obj, (np.ndarray, list, tuple, dict)) or hasattr(obj, "shape"):
        return False
    return hasattr(obj, "__len__") and hasattr(obj, "__getitem__") and hasattr(obj, "on_epoch_end")


def check_source_arguments(source, y, sample_weight, validation_split, diagnose) -> None:
    for name, value in (("y", y), ("sample_weight", sample_weight)):
        if value is not None:
            raise ValueError(f"{name} must be None when x is a batch source: the source's batches are "
                             f"(x, y) or (x, y, sample_weight).")
    if validation_split:
        raise ValueError("validation_split cannot split a batch source; pass validation_data (arrays or "
                         "another source), e.g. image_dataset_from_directory(..., subset='both').")
    if diagnose:
        raise ValueError("diagnose=True needs arrays; it is not available when training from a batch source.")
    if len(source) == 0:
        raise ValueError("The batch source is empty (len(source) == 0).")


def source_batch(model, source, index: int, class_weight=None):
    """Batch ``index`` of ``source`` as checked arrays ``(x, y, sample_weight or None)``."""
    batch = source[index]
    if not isinstance(batch, (tuple, list)) or len(batch) not in (2, 3):
        got = (f"a {type(batch).__name__} of {len(batch)}" if isinstance(batch, (tuple, list))
               else f"a {type(batch).__name__}")
        unlabelled = (" It holds inputs only, as a source made without labels does (labels=None): it serves "
                      "predict; to train or evaluate, make it with labels (labels='inferred' reads them from the "
                      "class folders).") if isinstance(batch, (tuple, list)) and len(batch) == 1 else ""
        raise ValueError(
            f"Batch {index} of {type(source).__name__} is {got}; a batch source must return (x, y) or "
            f"(x, y, sample_weight) for training and evaluation.{unlabelled}"
        )
    x, y = prepare_xy(model, batch[0], batch[1], f"x (batch {index})", f"y (batch {index})")
    x = data.densify(x)
    w = data.as_sample_weight(batch[2], x.shape[0]) if len(batch) == 3 else None
    if class_weight is not None:
        w = data.apply_class_weight(class_weight, outputs.class_weight_targets(model, y), w, x.shape[0])
    return x, y, w
