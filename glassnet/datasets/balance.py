"""Class balance: how many samples of each class every split holds, and the weights that even it out."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _labels(y) -> np.ndarray:
    """Integer class per sample from labels (N,), (N, 1) or one-hot rows (N, K)."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return y.argmax(axis=1)
    y = y.reshape(-1)
    if y.size and (y.dtype.kind not in "iub" and not np.all(y == np.round(y))):
        raise ValueError("class_balance needs integer class labels (or one-hot rows).")
    return y.astype(np.int64)


@dataclass
class ClassBalance:
    """Counts and shares per class for each split; ``print(report)`` gives a table.

    Attributes:
        classes: the class indices, ascending.
        class_names: a name per class (the indices as text when none were given).
        counts: split -> (K,) counts, in the order of ``classes``.
    """

    classes: np.ndarray
    class_names: list[str]
    counts: dict[str, np.ndarray]

    def shares(self, split: str) -> np.ndarray:
        """(K,) fraction of ``split`` in each class."""
        counts = self.counts[split]
        return counts / max(counts.sum(), 1)

    def class_weight(self, split: str | None = None) -> dict[int, float]:
        """scikit-learn's "balanced" weights n / (K · n_c) from ``split`` (the first by default).

        Pass the result to ``fit(class_weight=...)``: each class then carries the same total
        weight in the loss, so a 74 % / 26 % set no longer rewards predicting the majority.
        """
        from sklearn.utils.class_weight import compute_class_weight

        split = split or next(iter(self.counts))
        counts = self.counts[split]
        if (counts == 0).any():
            empty = [self.class_names[i] for i in np.flatnonzero(counts == 0)]
            raise ValueError(f"class_weight: the {split!r} split has no samples of class(es) {empty}.")
        # compute_class_weight wants the labels themselves; rebuilding them from the counts
        # keeps the report the single source of the numbers.
        labels = np.repeat(self.classes, counts)
        weights = compute_class_weight("balanced", classes=self.classes, y=labels)
        return {int(c): float(w) for c, w in zip(self.classes, weights)}

    def __str__(self) -> str:
        width = max([8, *(len(n) for n in self.class_names)])  # no classes: an empty table
        header = f"{'class':<{width}}" + "".join(f"{split:>20}" for split in self.counts)
        lines = [header, "-" * len(header)]
        for i, name in enumerate(self.class_names):
            row = f"{name:<{width}}"
            for split in self.counts:
                row += f"{int(self.counts[split][i]):>11,} ({self.shares(split)[i]:6.1%})"
            lines.append(row)
        lines.append(f"{'total':<{width}}" + "".join(f"{int(c.sum()):>11,} {'':8}" for c in self.counts.values()))
        return "\n".join(lines)


def class_balance(class_names=None, **splits) -> ClassBalance:
    """Count each class in each split, e.g. ``class_balance(train=y_train, test=y_test)``.

    Args:
        class_names: optional names, one per class index (``fashion_mnist.CLASS_NAMES``).
        **splits: split name -> labels (N,), (N, 1) or one-hot (N, K).

    Returns:
        ClassBalance: print it for a table; ``.class_weight()`` gives weights for ``fit``.

    Example:
        >>> import numpy as np
        >>> from glassnet.datasets import class_balance
        >>> report = class_balance(["normal", "pneumonia"], train=np.array([0, 1, 1, 1]))
        >>> report.class_weight()
        {0: 2.0, 1: 0.6666666666666666}
    """
    if not splits:
        raise ValueError("class_balance needs at least one split, e.g. class_balance(train=y_train).")
    labels = {name: _labels(y) for name, y in splits.items()}
    if any((y < 0).any() for y in labels.values()):
        raise ValueError("class_balance: class labels must be >= 0.")
    n_classes = max(int(y.max(initial=-1)) for y in labels.values()) + 1
    if class_names is not None:
        class_names = [str(n) for n in class_names]
        if len(class_names) < n_classes:
            raise ValueError(f"class_balance: {len(class_names)} class names for labels up to {n_classes - 1}.")
        n_classes = len(class_names)
    counts = {name: np.bincount(y, minlength=n_classes) for name, y in labels.items()}
    names = class_names or [str(i) for i in range(n_classes)]
    return ClassBalance(np.arange(n_classes), names, counts)
