"""Shared bookkeeping for callbacks that watch one metric for improvement."""

from __future__ import annotations

import math

from glassnet.callbacks.callback import Callback


# Keras logs ``metrics=["acc"]`` as "acc" and ``metrics=["accuracy"]`` as "accuracy"; code
# written for either names its monitor either way.
_SPELLINGS = {"acc": "accuracy", "accuracy": "acc"}


def logged_key(logs: dict, name: str) -> str | None:
    """The key of ``logs`` that ``name`` means: itself, else its other accuracy spelling
    ("val_acc" finds "val_accuracy" and the reverse); None when neither is logged."""
    if name in logs:
        return name
    prefix = "val_" if name.startswith("val_") else ""
    other = _SPELLINGS.get(name.removeprefix(prefix))
    if other is not None and prefix + other in logs:
        return prefix + other
    return None


def _resolve_mode(mode: str, monitor: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max'; got {mode!r}.")
    if mode != "auto":
        return mode
    higher_is_better = ("acc", "auc", "precision", "recall", "f1", "r2")  # r2: metrics.R2Score
    return "max" if any(k in monitor for k in higher_is_better) else "min"


class _Monitor(Callback):
    """Shared bookkeeping for callbacks that watch one metric for improvement."""

    def __init__(self, monitor: str, mode: str, min_delta: float):
        super().__init__()
        self.monitor = monitor
        self.mode = _resolve_mode(mode, monitor)
        self.min_delta = abs(float(min_delta))
        self.reset_best()

    def reset_best(self) -> None:
        """Forget the best value seen: anything the monitor reports next is an improvement."""
        self.best = math.inf if self.mode == "min" else -math.inf

    def _current(self, logs):
        key = logged_key(logs or {}, self.monitor)
        value = None if key is None else logs[key]
        if value is None:
            available = ", ".join(sorted(logs or {}))
            raise ValueError(
                f"{type(self).__name__} monitors {self.monitor!r}, which is not in the logs "
                f"(available: {available}). Pass validation data for val_ metrics or choose another."
            )
        return value

    def _improved(self, value, over: float | None = None) -> bool:
        """Whether ``value`` beats ``over`` (the best so far by default) by more than min_delta."""
        reference = self.best if over is None else over
        if self.mode == "min":
            return value < reference - self.min_delta
        return value > reference + self.min_delta
