"""The book's accuracy classes on glassnet's metrics."""

from __future__ import annotations

import numpy as np

from glassnet import backend, metrics
from glassnet._registry import register


class _BookAccuracy:
    #: the figure on the last batch the model measured (the book's step lines print it).
    batch_result = float("nan")

    def calculate(self, predictions, y):
        return float(np.mean(self.compare(np.asarray(predictions), np.asarray(y))))

    def update_state(self, y_true, y_pred, sample_weight=None, mask=None):
        super().update_state(y_true, y_pred, sample_weight, mask)
        xp = backend.array_module(y_pred)  # where the model computes
        self.batch_result = float(np.mean(self.values(xp.asarray(y_true), xp.asarray(y_pred))))


@register("metric")
class Accuracy_Categorical(_BookAccuracy, metrics.Accuracy):
    """Share of correct classes; ``binary=True`` for sigmoid outputs compared with 0/1 labels."""

    def __init__(self, *, binary: bool = False, name: str | None = None):
        super().__init__(name or "acc")
        self.binary = bool(binary)

    def init(self, y):
        """Nothing to learn from the targets (the book's hook)."""

    def compare(self, predictions, y):
        if not self.binary and y.ndim == 2:
            y = np.argmax(y, axis=1)
        if y.size == predictions.size:  # (N,) targets meet (N, 1) predictions row by row
            y = y.reshape(predictions.shape)
        return predictions == y

    def get_config(self):
        return {"name": self.name, "binary": self.binary}


@register("metric")
class Accuracy_Regression(_BookAccuracy, metrics.RegressionAccuracy):
    """Share of predictions within std(y) / 250 of the target, the book's regression accuracy."""

    def __init__(self, name: str | None = None, adapted_tolerance: float | None = None):
        super().__init__(name or "acc", adapted_tolerance=adapted_tolerance)

    @property
    def precision(self) -> float | None:
        """The book's attribute: the tolerance ``init`` sets (std(y) / 250), None before it."""
        return self._adapted

    @precision.setter
    def precision(self, value) -> None:
        self._adapted = None if value is None else float(value)

    def init(self, y, reinit: bool = False):
        if self._adapted is None or reinit:
            self.adapt(y)

    def compare(self, predictions, y):
        return self.values(np.asarray(y), np.asarray(predictions)).astype(bool)

    def get_config(self):
        # The learned precision travels with a saved model, as RegressionAccuracy's does.
        return {"name": self.name, "adapted_tolerance": self._adapted}
