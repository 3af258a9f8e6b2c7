"""A trial interrupted (Ctrl-C) and retried from its checkpoint scores exactly as if never interrupted."""

import numpy as np
import pytest

import glassnet as gn
from glassnet import tuning

from tuning_models import build_model, digits

SPACE = {"units": [8], "learning_rate": [0.01]}
#: the made-up objective of each epoch: best at epoch 2 of 4, so the best epoch is not the last.
SCORES = [0.2, 0.9, 0.5, 0.4]


class Scripted(gn.callbacks.Callback):
    """Logs ``score`` from SCORES; raises KeyboardInterrupt (as Ctrl-C would) once, at the end of
    epoch ``interrupt`` when one is given."""

    def __init__(self, interrupt=None):
        super().__init__()
        self.interrupt = interrupt

    def on_epoch_end(self, epoch, logs=None):
        logs["score"] = SCORES[epoch]
        if epoch == self.interrupt:
            self.interrupt = None
            raise KeyboardInterrupt


def search(folder, callback):
    tuner = tuning.Tuner(build_model, SPACE, objective="score", direction="maximize", strategy="grid",
                         directory=folder, study_name="s", seed=0, verbose=0)
    return tuner.search(*digits(160), validation_split=0.25, epochs=len(SCORES), callbacks=[callback])


def weights(path):
    return gn.load_model(path).get_weights()


def interrupt_after_the_last_backup(monkeypatch):
    """Ctrl-C right after the last epoch's backup is written: the retry has no epoch left to run."""
    save = gn.callbacks.BackupAndRestore.on_epoch_end

    def save_then_interrupt(self, epoch, logs=None):
        save(self, epoch, logs)
        if epoch == len(SCORES) - 1:
            monkeypatch.setattr(gn.callbacks.BackupAndRestore, "on_epoch_end", save)
            raise KeyboardInterrupt

    monkeypatch.setattr(gn.callbacks.BackupAndRestore, "on_epoch_end", save_then_interrupt)


@pytest.mark.parametrize("interrupt", [1, 2, 3, "after the last backup"])
def test_a_retried_trial_keeps_the_best_epoch_from_before_the_interrupt(tmp_path, monkeypatch, interrupt):
    clean = search(tmp_path / "clean", Scripted()).results.iloc[0]
    assert clean["score"] == 0.9 and clean["best_epoch"] == 2

    stop = Scripted(interrupt if isinstance(interrupt, int) else None)
    if not isinstance(interrupt, int):
        interrupt_after_the_last_backup(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        search(tmp_path / "run", stop)
    tuner = search(tmp_path / "run", stop)
    frame = tuner.results
    retry = frame[frame["retry_of"] == 0].iloc[0]
    assert retry["state"] == "complete"
    # The score, the best epoch and the metrics at it are the uninterrupted trial's, bit for bit.
    assert retry["score"] == clean["score"]
    assert retry["best_epoch"] == clean["best_epoch"]
    assert retry["val_accuracy"] == clean["val_accuracy"] and retry["val_loss"] == clean["val_loss"]
    assert retry["epochs"] == len(SCORES)
    # So is the saved model: the best epoch's weights, kept in the checkpoint across the interrupt.
    resumed = weights(tuner.best_trial.user_attrs["model_path"])
    reference = weights(tmp_path / "clean" / "models" / "trial_0.glassnet")
    assert all(np.array_equal(a, b) for a, b in zip(resumed, reference))
    assert not any((tmp_path / "run" / "checkpoints").iterdir())
