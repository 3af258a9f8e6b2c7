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

    Only the model's state is restored, as in Keras, unless other callbacks are named in
    ``callbacks``: those keep their state too. Others (EarlyStopping's patience,
    ReduceLROnPlateau's counters) start afresh, though a rate they already lowered is kept.

    Args:
        backup_dir: a folder for the backup (created if missing). Use one per training run.
        delete_checkpoint: remove the backup when ``fit`` finishes without an exception.
        callbacks: other callbacks of the same ``fit`` whose state goes into every backup (in the
            same file, so model and callbacks are always of one epoch) and back on restore. Each
            defines ``state_dict()``, returning JSON values, float arrays and lists of float
            arrays, and ``load_state_dict(state)``. Put this callback after them in ``fit``'s
            list, so that an epoch's backup holds their state after that epoch.

    Example:
        >>> import glassnet as gn
        >>> backup = gn.callbacks.BackupAndRestore("backup")  # fit(..., callbacks=[backup])
    """

    FILENAME = "backup.glassnet"

    def __init__(self, backup_dir, delete_checkpoint: bool = True, callbacks=()):
        super().__init__()
        if not backup_dir:
            raise ValueError("BackupAndRestore needs a backup_dir, e.g. BackupAndRestore('backup').")
        self.backup_dir = os.fspath(backup_dir)
        self.delete_checkpoint = bool(delete_checkpoint)
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not (callable(getattr(cb, "state_dict", None)) and callable(getattr(cb, "load_state_dict", None))):
                raise TypeError(f"BackupAndRestore can keep the state of callbacks with state_dict() and "
                                f"load_state_dict(state); {type(cb).__name__} has not both.")
        self.restored_epoch = None

    @property
    def path(self) -> str:
        return os.path.join(self.backup_dir, self.FILENAME)

    def _names(self) -> list[str]:
        """One name per kept callback: its position and class, so a changed list is not misread."""
        return [f"{i}-{type(cb).__name__}" for i, cb in enumerate(self.callbacks)]

    def on_train_begin(self, logs=None):
        from glassnet import saving

        os.makedirs(self.backup_dir, exist_ok=True)
        self.restored_epoch = None
        if os.path.exists(self.path):
            self.restored_epoch = saving.restore_training_state(self.model, self.path)
            self.model._initial_epoch = self.restored_epoch  # read by fit right after this hook
            if self.callbacks:
                states = saving.read_callback_states(self.path)
                for name, cb in zip(self._names(), self.callbacks):
                    if name in states:  # a backup written without it: the callback starts afresh
                        cb.load_state_dict(states[name])

    def on_epoch_end(self, epoch, logs=None):
        from glassnet import saving

        states = {name: cb.state_dict() for name, cb in zip(self._names(), self.callbacks)}
        saving.save_model(self.model, self.path, callback_states=states)

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.exists(self.path):
            os.remove(self.path)
