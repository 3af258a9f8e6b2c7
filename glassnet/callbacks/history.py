"""History: the per-epoch record that ``fit`` returns."""

from __future__ import annotations

import csv

import numpy as np

from glassnet.callbacks.callback import Callback


class History(Callback):
    """Records every epoch's logs; ``fit`` returns it.

    Attributes:
        history: dict metric name -> list of per-epoch values.
        epoch: the epoch indices recorded.
    """

    def __init__(self):
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    @property
    def best_epoch(self) -> int | None:
        """The epoch with the lowest finite ``val_loss`` (or ``loss`` without validation); None
        when there is none (no epoch yet, or training diverged at once)."""
        key = "val_loss" if "val_loss" in self.history else "loss"
        values = np.asarray(self.history.get(key, []), dtype=np.float64)
        finite = np.isfinite(values)
        if not finite.any():
            return None
        return self.epoch[int(np.argmin(np.where(finite, values, np.inf)))]

    def to_csv(self, path) -> None:
        """Write one row per epoch: ``epoch`` then every metric."""
        keys = list(self.history)
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["epoch", *keys])
            for i, epoch in enumerate(self.epoch):
                writer.writerow([epoch, *(self.history[k][i] for k in keys)])

    def to_dataframe(self):
        import pandas as pd

        return pd.DataFrame(self.history, index=pd.Index(self.epoch, name="epoch"))

    def plot(self, metrics=None, ax=None):
        """Plot each metric with its ``val_`` twin per epoch, one panel per metric.

        Returns the matplotlib Axes, as pandas' ``DataFrame.plot`` does: ``ax`` when given (every
        metric drawn on it), else an array of one Axes per metric. The figure is pyplot's, so a
        notebook shows it once, a script shows it with ``plt.show()``, and
        ``axes[0].figure.savefig(path)`` saves it. (Returning the Figure made a notebook show it
        twice: once drawn by pyplot, once as the cell's value.)
        """
        import matplotlib.pyplot as plt

        bases = metrics or [k for k in self.history if not k.startswith("val_") and k != "learning_rate"]
        if not bases:  # matplotlib would say "Number of columns must be a positive integer, not 0"
            raise ValueError("History.plot: nothing to plot; no epochs were recorded (fit ran 0 epochs, or "
                             "this History was never passed to fit).")
        unknown = [k for k in bases if k not in self.history]
        if unknown:
            raise ValueError(f"History.plot: no metric {unknown} in the history; it holds {list(self.history)}.")
        if ax is None:
            fig, axes = plt.subplots(1, len(bases), figsize=(5 * len(bases), 3.5), squeeze=False)
            axes = axes[0]
        else:
            fig, axes = ax.figure, [ax] * len(bases)
        for axis, key in zip(axes, bases):
            axis.plot(self.epoch, self.history[key], label=f"training {key}")
            if f"val_{key}" in self.history:
                axis.plot(self.epoch, self.history[f"val_{key}"], label=f"validation {key}")
            axis.set_xlabel("epoch")
            axis.set_ylabel(key)
            axis.legend()
        fig.tight_layout()
        return ax if ax is not None else axes
