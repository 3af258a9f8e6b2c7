"""EarlyStopping: stop when a monitored metric stops improving."""

from __future__ import annotations

from glassnet.callbacks.monitor import _Monitor


class EarlyStopping(_Monitor):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    Args:
        monitor: a log key ("val_loss", "val_accuracy", "loss" ...).
        min_delta: smallest change that counts as an improvement.
        patience: epochs without improvement before stopping.
        mode: "min", "max" or "auto" (max for accuracy-like names).
        baseline: a value to beat, as in Keras: epochs that improve on the best so far but not
            on the baseline still count towards ``patience``, so training stops after
            ``patience`` epochs unless the model gets past it.
        restore_best_weights: put back the best epoch's weights at the end (True by default,
            unlike Keras, because that is what nearly everyone wants).
        start_from_epoch: epochs to wait before watching.

    Example:
        >>> import glassnet as gn
        >>> stop = gn.callbacks.EarlyStopping(monitor="val_loss", patience=3)
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0,
                 mode: str = "auto", baseline: float | None = None, restore_best_weights: bool = True,
                 start_from_epoch: int = 0, verbose: int = 0):
        super().__init__(monitor, mode, min_delta)
        self.baseline = None if baseline is None else float(baseline)
        self.patience = int(patience)
        self.restore_best_weights = bool(restore_best_weights)
        self.start_from_epoch = int(start_from_epoch)
        self.verbose = verbose

    def on_train_begin(self, logs=None):
        self._first_watched = None  # this fit call's first epoch watched (a resumed call's is > 0)
        self.wait = 0
        self.stopped_epoch = None
        self.best_epoch = None
        self.reset_best()
        self.best_weights = None

    def on_epoch_end(self, epoch, logs=None):
        if epoch < self.start_from_epoch:
            return
        value = self._current(logs)
        if self._first_watched is None:
            self._first_watched = epoch
        self.wait += 1
        if self._improved(value):
            self.best, self.best_epoch = value, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._improved(value, over=self.baseline):
                self.wait = 0
                return
        # Keras' count (patience=3 stops at the 3rd epoch without gain), and as in Keras never at
        # the first epoch watched in a fit call: a baseline not beaten at once gets patience epochs.
        if self.wait >= self.patience and epoch > self._first_watched:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch is not None and self.verbose:
            best = ("no finite value" if self.best_epoch is None  # diverged before any
                    else f"{self.best:.4g} at epoch {self.best_epoch + 1}")
            print(f"Epoch {self.stopped_epoch + 1}: early stopping (best {self.monitor} {best})")
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights)
