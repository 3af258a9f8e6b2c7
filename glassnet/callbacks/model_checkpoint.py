"""ModelCheckpoint: save the model (or its weights) during training, every epoch or the best."""

from __future__ import annotations

import os

from glassnet.callbacks.monitor import _Monitor, logged_key


class ModelCheckpoint(_Monitor):
    """Save the model at the end of every epoch (or every ``save_freq`` batches).

    Each save is atomic, so a crash never leaves a half-written checkpoint. A file saved at the
    end of epoch ``k`` records ``k`` epochs completed: ``gn.load_model(path)`` followed by
    ``fit(..., initial_epoch=k)`` continues exactly as the uninterrupted run would have.

    Args:
        filepath: the file to write; may hold ``{epoch}`` (1-based, as in Keras), ``{batch}``
            and any log key, with format specs: ``"ckpt-{epoch:02d}-{val_loss:.3f}.glassnet"``.
        monitor: the log key ``save_best_only`` compares.
        verbose: 1 prints a line per save.
        save_best_only: save only when ``monitor`` improved on the best so far.
        save_weights_only: write ``model.save_weights`` files instead of whole models.
        mode: "min", "max" or "auto" (max for accuracy-like names).
        save_freq: ``"epoch"``, or an integer number of batches between saves (mid-epoch
            checkpoints restart their epoch from its beginning when resumed).
        initial_value_threshold: a value ``monitor`` must beat for the first save.

    Example:
        >>> import glassnet as gn
        >>> checkpoint = gn.callbacks.ModelCheckpoint("best.glassnet", monitor="val_loss",
        ...                                           save_best_only=True)
    """

    def __init__(self, filepath, monitor: str = "val_loss", verbose: int = 0, save_best_only: bool = False,
                 save_weights_only: bool = False, mode: str = "auto", save_freq="epoch",
                 initial_value_threshold: float | None = None):
        super().__init__(monitor, mode, 0.0)
        self.filepath = os.fspath(filepath)
        self.verbose = verbose
        self.save_best_only = bool(save_best_only)
        self.save_weights_only = bool(save_weights_only)
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int) or save_freq <= 0):
            raise ValueError(f"save_freq must be 'epoch' or a positive number of batches; got {save_freq!r}.")
        self.save_freq = save_freq
        self.initial_value_threshold = initial_value_threshold
        # The best value is set once, here: as in Keras it lives across fit calls, so a later,
        # worse fit never overwrites the best model saved by an earlier one.
        if initial_value_threshold is not None:
            self.best = float(initial_value_threshold)
        self._batches_seen = 0
        self._epoch = 0

    def on_train_begin(self, logs=None):
        self._batches_seen = 0
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_seen += 1
        if self._batches_seen % self.save_freq == 0:
            self._save(self._epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, None, logs)

    def _save(self, epoch: int, batch: int | None, logs) -> None:
        logs = dict(logs or {})
        if self.save_best_only:
            if batch is not None and logged_key(logs, self.monitor) is None:
                return  # batch logs hold only the training loss: val_ metrics come at epoch ends
            value = self._current(logs)
            if not self._improved(value):
                return
            previous, self.best = self.best, value
        path = self._format_path(epoch, batch, logs)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)
        if self.verbose:
            change = f" ({self.monitor} improved from {previous:.5g} to {value:.5g})" if self.save_best_only else ""
            print(f"Epoch {epoch + 1}: saved {'weights' if self.save_weights_only else 'model'} to {path}{change}")

    def _format_path(self, epoch: int, batch: int | None, logs: dict) -> str:
        fields = {**logs, "epoch": epoch + 1}
        if batch is not None:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except (KeyError, IndexError, ValueError) as err:
            raise ValueError(
                f"ModelCheckpoint cannot fill in filepath {self.filepath!r} ({type(err).__name__}: {err}); "
                f"available fields: {', '.join(sorted(fields))}."
            ) from None
