"""Callbacks: hooks into ``fit`` with Keras' names (``on_epoch_end(epoch, logs)`` ...).

A callback stops training with ``self.model.stop_training = True``.
"""

from __future__ import annotations

import csv
import math
import os

import numpy as np


class Callback:
    """Base class; every hook does nothing. ``self.model`` is set by ``fit``."""

    def __init__(self):
        self.model = None

    def set_model(self, model) -> None:
        self.model = model

    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...
    def on_train_batch_begin(self, batch, logs=None): ...
    def on_train_batch_end(self, batch, logs=None): ...


class CallbackList:
    """Calls one hook on many callbacks in order."""

    def __init__(self, callbacks, model):
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            cb.set_model(model)

    def __getattr__(self, hook):
        if not hook.startswith("on_"):
            raise AttributeError(hook)

        def call(*args):
            for cb in self.callbacks:
                getattr(cb, hook)(*args)

        return call


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
        """The epoch with the lowest ``val_loss`` (or ``loss`` without validation)."""
        key = "val_loss" if "val_loss" in self.history else "loss"
        values = self.history.get(key)
        if not values:
            return None
        return self.epoch[int(np.nanargmin(values))]

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
        """Plot each metric with its ``val_`` twin per epoch; returns the matplotlib Figure."""
        import matplotlib.pyplot as plt

        bases = metrics or [k for k in self.history if not k.startswith("val_") and k != "learning_rate"]
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
        return fig


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

    def _improved(self, value) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta


class EarlyStopping(_Monitor):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    Args:
        monitor: a log key ("val_loss", "val_accuracy", "loss" ...).
        min_delta: smallest change that counts as an improvement.
        patience: epochs without improvement before stopping.
        mode: "min", "max" or "auto" (max for accuracy-like names).
        restore_best_weights: put back the best epoch's weights at the end (True by default,
            unlike Keras, because that is what nearly everyone wants).
        start_from_epoch: epochs to wait before watching.

    Example:
        >>> import glassnet as gn
        >>> stop = gn.callbacks.EarlyStopping(monitor="val_loss", patience=3)
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0,
                 mode: str = "auto", restore_best_weights: bool = True, start_from_epoch: int = 0,
                 verbose: int = 0):
        super().__init__(monitor, mode, min_delta)
        self.patience = int(patience)
        self.restore_best_weights = bool(restore_best_weights)
        self.start_from_epoch = int(start_from_epoch)
        self.verbose = verbose

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = None
        self.best_epoch = None
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_weights = None

    def on_epoch_end(self, epoch, logs=None):
        if epoch < self.start_from_epoch:
            return
        value = self._current(logs)
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait > self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch is not None and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping (best {self.monitor} "
                  f"{self.best:.4g} at epoch {self.best_epoch + 1})")
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights)


class ReduceLROnPlateau(_Monitor):
    """Multiply the learning rate by ``factor`` when ``monitor`` stalls for ``patience`` epochs.

    Args:
        factor: in (0, 1).
        patience: epochs without improvement before reducing.
        cooldown: epochs to wait after a reduction before watching again.
        min_lr: lower bound on the learning rate.
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10,
                 mode: str = "auto", min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0,
                 verbose: int = 0):
        super().__init__(monitor, mode, min_delta)
        if not 0 < factor < 1:
            raise ValueError(f"ReduceLROnPlateau factor must be in (0, 1); got {factor}.")
        self.factor, self.patience, self.cooldown = float(factor), int(patience), int(cooldown)
        self.min_lr, self.verbose = float(min_lr), verbose
        self.wait = self.cooldown_counter = 0

    def on_epoch_end(self, epoch, logs=None):
        value = self._current(logs)
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improved(value):
            self.best, self.wait = value, 0
            return
        if self.cooldown_counter > 0:
            return
        self.wait += 1
        if self.wait >= self.patience:
            opt = self.model.optimizer
            if not isinstance(opt.learning_rate, float):
                raise ValueError("ReduceLROnPlateau cannot change a learning-rate schedule; use a float rate.")
            new_lr = max(opt.learning_rate * self.factor, self.min_lr)
            if new_lr < opt.learning_rate:
                opt.learning_rate = new_lr
                if self.verbose:
                    print(f"Epoch {epoch + 1}: ReduceLROnPlateau set learning rate to {new_lr:.3g}.")
            self.cooldown_counter, self.wait = self.cooldown, 0


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch from ``schedule(epoch, lr)``."""

    def __init__(self, schedule, verbose: int = 0):
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        opt = self.model.optimizer
        lr = float(self.schedule(epoch, opt.learning_rate))
        if not lr > 0 or not math.isfinite(lr):
            raise ValueError(f"LearningRateScheduler's schedule returned {lr} at epoch {epoch}; it must be > 0.")
        opt.learning_rate = lr
        if self.verbose:
            print(f"Epoch {epoch + 1}: learning rate {lr:.3g}.")


class CSVLogger(Callback):
    """Append each epoch's logs as a CSV row (a header first when the file is new).

    Args:
        filename: the CSV path.
        separator: the field separator.
        append: keep an existing file's rows (resuming) instead of starting over.
    """

    def __init__(self, filename, separator: str = ",", append: bool = False):
        super().__init__()
        self.filename, self.separator, self.append = os.fspath(filename), separator, append
        self.keys = None

    def on_train_begin(self, logs=None):
        self.keys = None
        self._write_header = not (self.append and os.path.exists(self.filename) and os.path.getsize(self.filename))
        self._file = open(self.filename, "a" if self.append else "w", newline="")
        self._writer = csv.writer(self._file, delimiter=self.separator)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if self._write_header:
                self._writer.writerow(["epoch", *self.keys])
        self._writer.writerow([epoch, *(logs.get(k, "") for k in self.keys)])
        self._file.flush()

    def on_train_end(self, logs=None):
        self._file.close()


class TerminateOnNaN(Callback):
    """Stop at the first non-finite training loss and say where it happened.

    ``fit`` adds one automatically; the message names the epoch and batch.
    """

    def __init__(self):
        super().__init__()
        self.stopped_at = None

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            epoch = getattr(self.model, "_current_epoch", None)
            self.stopped_at = (epoch, batch)
            where = f"epoch {epoch + 1}, batch {batch + 1}" if epoch is not None else f"batch {batch + 1}"
            print(f"TerminateOnNaN: the loss became {loss} at {where}; training stopped. "
                  f"Lower the learning rate, scale the inputs or add clipnorm.")
            self.model.stop_training = True


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``."""

    _HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
              "on_train_batch_begin", "on_train_batch_end")

    def __init__(self, **hooks):
        super().__init__()
        unknown = set(hooks) - set(self._HOOKS)
        if unknown:
            raise ValueError(f"LambdaCallback: unknown hooks {sorted(unknown)}; valid: {', '.join(self._HOOKS)}.")
        for name, fn in hooks.items():
            setattr(self, name, fn)
