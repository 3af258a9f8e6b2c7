"""Shared bookkeeping for callbacks that watch one metric for improvement."""

from __future__ import annotations

import math

from glassnet.callbacks.callback import Callback


def _resolve_mode(mode: str, monitor: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max'; got {mode!r}.")
    if mode != "auto":
        return mode
    higher_is_better = ("acc", "auc", "precision", "recall", "f1")
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
        value = (logs or {}).get(self.monitor)
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
