"""ReduceLROnPlateau: shrink the learning rate when a metric stalls."""

from __future__ import annotations

from glassnet.callbacks.monitor import _Monitor


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

    def on_train_begin(self, logs=None):
        # A callback reused for another fit starts afresh (as in Keras).
        self.wait = self.cooldown_counter = 0
        self.reset_best()

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
