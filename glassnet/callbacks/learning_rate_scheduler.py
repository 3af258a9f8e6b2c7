"""LearningRateScheduler: set the learning rate per epoch from a function."""

from __future__ import annotations

import math

from glassnet.callbacks.callback import Callback


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
