"""BackupAndRestore: let an interrupted ``fit`` resume on its own where it stopped."""

from __future__ import annotations

import os

from glassnet.callbacks.callback import Callback


class BackupAndRestore(Callback):
    """Back the whole training state up every epoch; a new ``fit`` restores it and continues.

    At the end of every epoch the model (weights, optimizer slots and step count, learning rate,
    epochs completed) is saved atomically to ``backup_dir/backup.glassnet``. When ``fit`` starts
    and a backup exists, the callback puts that state back into the model and ``fit`` continues
    with the next epoch, so a run killed at any moment and started again with the same script
    ends with bitwise the weights of a run never interrupted (same seed, same data).

    Only the model's state is restored, as in Keras: other callbacks (EarlyStopping's patience,
    ReduceLROnPlateau's counters) start afresh, though a rate they already lowered is kept.

    Args:
        backup_dir: a folder for the backup (created if missing). Use one per training run.
        delete_checkpoint: remove the backup when ``fit`` finishes without an exception.

    Example:
        >>> import glassnet as gn
        >>> backup = gn.callbacks.BackupAndRestore("backup")  # fit(..., callbacks=[backup])
    """

    FILENAME = "backup.glassnet"

    def __init__(self, backup_dir, delete_checkpoint: bool = True):
        super().__init__()
        if not backup_dir:
            raise ValueError("BackupAndRestore needs a backup_dir, e.g. BackupAndRestore('backup').")
        self.backup_dir = os.fspath(backup_dir)
        self.delete_checkpoint = bool(delete_checkpoint)
        self.restored_epoch = None

    @property
    def path(self) -> str:
        return os.path.join(self.backup_dir, self.FILENAME)

    def on_train_begin(self, logs=None):
        from glassnet import saving

        os.makedirs(self.backup_dir, exist_ok=True)
        self.restored_epoch = None
        if os.path.exists(self.path):
            self.restored_epoch = saving.restore_training_state(self.model, self.path)
            self.model._initial_epoch = self.restored_epoch  # read by fit right after this hook

    def on_epoch_end(self, epoch, logs=None):
        self.model.save(self.path)

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.exists(self.path):
            os.remove(self.path)
