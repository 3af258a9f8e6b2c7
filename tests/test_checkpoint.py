"""ModelCheckpoint and BackupAndRestore: what is saved when, and resuming an interrupted fit."""

import json
import os

import numpy as np
import pytest

import glassnet as gn
from glassnet import layers
from glassnet.saving import ModelFileError


def _data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    return x, (x[:, 0] - x[:, 2] > 0).astype("int64")


def _model(seed=0, optimizer=None):
    model = gn.Sequential([layers.Dense(8, activation="relu", input_shape=(4,)), layers.Dropout(0.3),
                           layers.Dense(2, activation="softmax")], seed=seed)
    model.compile(optimizer=optimizer or gn.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _same_weights(a, b) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a.get_weights(), b.get_weights()))


def _scores(values, key="score"):
    """A callback that puts a scripted value into the logs, for the checkpoint placed after it."""
    return gn.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: logs.__setitem__(key, values[epoch]))


# -- ModelCheckpoint ------------------------------------------------------------------------------------
def test_filename_pattern_saves_every_epoch_with_epoch_and_metrics(tmp_path):
    x, y = _data()
    snapshots = []
    model = _model()
    pattern = str(tmp_path / "ckpt-{epoch:02d}-{val_loss:.3f}.glassnet")
    history = model.fit(x, y, epochs=3, batch_size=10, verbose=0, validation_split=0.25, callbacks=[
        gn.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: snapshots.append(model.get_weights())),
        gn.callbacks.ModelCheckpoint(pattern)])
    expected = [f"ckpt-{e + 1:02d}-{v:.3f}.glassnet" for e, v in enumerate(history.history["val_loss"])]
    assert sorted(os.listdir(tmp_path)) == expected
    for epoch, name in enumerate(expected):
        loaded = gn.load_model(tmp_path / name)
        assert loaded._epochs_completed == epoch + 1
        assert all(np.array_equal(a, b) for a, b in zip(loaded.get_weights(), snapshots[epoch]))


@pytest.mark.parametrize("mode, monitor, scores, saved_epochs", [
    ("min", "score", [3.0, 1.0, 2.0, 0.5, 0.7], [1, 2, 4]),
    ("max", "score", [3.0, 1.0, 4.0, 0.5, 4.0], [1, 3]),
    ("auto", "val_accuracy", [0.5, 0.7, 0.6, 0.9, 0.9], [1, 2, 4]),  # auto: max for accuracy
    ("auto", "val_loss", [0.5, 0.7, 0.4, 0.9, 0.4], [1, 3]),  # auto: min for losses
])
def test_save_best_only_saves_only_improvements(tmp_path, mode, monitor, scores, saved_epochs):
    x, y = _data()
    model = _model()
    model.fit(x, y, epochs=5, batch_size=20, verbose=0, validation_split=0.25, callbacks=[
        _scores(scores, monitor),
        gn.callbacks.ModelCheckpoint(str(tmp_path / "best-{epoch}.glassnet"), monitor=monitor, mode=mode,
                                     save_best_only=True)])
    assert sorted(os.listdir(tmp_path)) == sorted(f"best-{e}.glassnet" for e in saved_epochs)


def test_save_best_only_to_one_file_keeps_the_best_epoch(tmp_path):
    x, y = _data()
    snapshots = []
    model = _model()
    model.fit(x, y, epochs=4, batch_size=20, verbose=0, callbacks=[
        _scores([2.0, 1.0, 3.0, 4.0]),
        gn.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: snapshots.append(model.get_weights())),
        gn.callbacks.ModelCheckpoint(tmp_path / "best.glassnet", monitor="score", save_best_only=True)])
    best = gn.load_model(tmp_path / "best.glassnet")
    assert best._epochs_completed == 2
    assert all(np.array_equal(a, b) for a, b in zip(best.get_weights(), snapshots[1]))


def test_save_weights_only_writes_weights_files(tmp_path):
    x, y = _data()
    model = _model()
    model.fit(x, y, epochs=2, verbose=0, callbacks=[
        gn.callbacks.ModelCheckpoint(tmp_path / "w.safetensors", save_weights_only=True)])
    assert gn.saving.inspect(tmp_path / "w.safetensors")["format"] == "glassnet.weights"
    with pytest.raises(ModelFileError):
        gn.load_model(tmp_path / "w.safetensors")
    other = _model(seed=5)
    other.load_weights(tmp_path / "w.safetensors")
    assert _same_weights(other, model)


def test_save_freq_in_batches(tmp_path):
    x, y = _data(n=40)
    model = _model()
    model.fit(x, y, epochs=2, batch_size=10, verbose=0, callbacks=[  # 4 batches per epoch
        gn.callbacks.ModelCheckpoint(str(tmp_path / "e{epoch}-b{batch}.glassnet"), save_freq=3)])
    assert sorted(os.listdir(tmp_path)) == ["e1-b3.glassnet", "e2-b2.glassnet"]


def test_unknown_pattern_field_and_missing_monitor_are_explained(tmp_path):
    x, y = _data()
    with pytest.raises(ValueError, match="available fields: .*epoch.*loss"):
        _model().fit(x, y, epochs=1, verbose=0,
                     callbacks=[gn.callbacks.ModelCheckpoint(str(tmp_path / "{val_auc}.glassnet"))])
    with pytest.raises(ValueError, match="monitors 'val_loss', which is not in the logs"):
        _model().fit(x, y, epochs=1, verbose=0, callbacks=[
            gn.callbacks.ModelCheckpoint(tmp_path / "m.glassnet", save_best_only=True)])
    with pytest.raises(ValueError, match="save_freq"):
        gn.callbacks.ModelCheckpoint("m.glassnet", save_freq=0)


# -- BackupAndRestore ---------------------------------------------------------------------------------
class _Crash(gn.callbacks.Callback):
    """Raise at the end of one epoch, like a machine going down mid-run."""

    def __init__(self, at_epoch):
        super().__init__()
        self.at_epoch = at_epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.at_epoch:
            raise RuntimeError("simulated crash")


def test_backup_and_restore_resumes_an_interrupted_fit_exactly(tmp_path):
    x, y = _data()
    fit = dict(x=x, y=y, epochs=6, batch_size=8, verbose=0, validation_split=0.25)
    reference = _model()
    reference.fit(**fit)

    backup = tmp_path / "backup"
    with pytest.raises(RuntimeError, match="simulated crash"):
        _model().fit(**fit, callbacks=[gn.callbacks.BackupAndRestore(backup), _Crash(at_epoch=2)])
    assert gn.saving.inspect(backup / "backup.glassnet")["epochs_completed"] == 3

    resumed = _model()  # a fresh process would build the model again: same seed, new weights
    history = resumed.fit(**fit, callbacks=[gn.callbacks.BackupAndRestore(backup)])
    assert history.epoch == [3, 4, 5]
    assert _same_weights(resumed, reference)
    assert resumed.optimizer.iterations == reference.optimizer.iterations
    assert not (backup / "backup.glassnet").exists()  # finished: the backup is deleted


def test_backup_keeps_a_learning_rate_that_a_callback_lowered(tmp_path):
    x, y = _data()
    backup = tmp_path / "backup"
    lower = gn.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5)
    with pytest.raises(RuntimeError):
        _model().fit(x, y, epochs=4, verbose=0, callbacks=[lower, gn.callbacks.BackupAndRestore(backup), _Crash(1)])
    resumed = _model()
    restore = gn.callbacks.BackupAndRestore(backup, delete_checkpoint=False)
    resumed.fit(x, y, epochs=2, verbose=0, callbacks=[restore])  # nothing left to train
    assert restore.restored_epoch == 2
    assert resumed.optimizer.learning_rate == pytest.approx(0.01 * 0.25, rel=0, abs=0)
    assert json.loads(json.dumps(gn.saving.inspect(backup / "backup.glassnet")))["epochs_completed"] == 2


def test_backup_with_another_optimizer_is_refused(tmp_path):
    x, y = _data()
    backup = tmp_path / "backup"
    with pytest.raises(RuntimeError):
        _model().fit(x, y, epochs=3, verbose=0, callbacks=[gn.callbacks.BackupAndRestore(backup), _Crash(0)])
    with pytest.raises(ValueError, match="saved with Adam; this model uses SGD"):
        _model(optimizer="sgd").fit(x, y, epochs=3, verbose=0, callbacks=[gn.callbacks.BackupAndRestore(backup)])


class _Counter(gn.callbacks.Callback):
    """Counts epochs and keeps the last logs and weights: state for a backup to keep."""

    def __init__(self):
        super().__init__()
        self.epochs, self.logs, self.weights = 0, {}, None

    def on_epoch_end(self, epoch, logs=None):
        self.epochs += 1
        self.logs, self.weights = dict(logs), self.model.get_weights()

    def state_dict(self):
        return {"epochs": self.epochs, "names": sorted(self.logs),
                "values": np.array([self.logs[k] for k in sorted(self.logs)]), "weights": self.weights}

    def load_state_dict(self, state):
        self.epochs, self.weights = state["epochs"], state["weights"]
        self.logs = dict(zip(state["names"], state["values"].tolist()))


def test_backup_keeps_the_state_of_the_callbacks_it_is_given(tmp_path):
    x, y = _data()
    fit = dict(x=x, y=y, epochs=5, batch_size=8, verbose=0, validation_split=0.25)
    reference = _Counter()
    _model().fit(**fit, callbacks=[reference])
    backup = tmp_path / "backup"
    with pytest.raises(RuntimeError, match="simulated crash"):
        counter = _Counter()
        keep = gn.callbacks.BackupAndRestore(backup, callbacks=[counter])
        _model().fit(**fit, callbacks=[_Crash(at_epoch=3), counter, keep])
    assert counter.epochs == 3  # the crash came before epoch 4 reached the counter
    # The backup is still a model file.
    assert gn.load_model(backup / "backup.glassnet").count_params() == _model().count_params()
    resumed = _Counter()
    _model().fit(**fit, callbacks=[resumed, gn.callbacks.BackupAndRestore(backup, callbacks=[resumed])])
    assert resumed.epochs == reference.epochs == 5
    assert resumed.logs == reference.logs
    assert all(np.array_equal(a, b) for a, b in zip(resumed.weights, reference.weights))
    with pytest.raises(TypeError, match="state_dict"):
        gn.callbacks.BackupAndRestore(backup, callbacks=[_Crash(0)])


@pytest.mark.parametrize("entry", [{"array": "callbacks/0-_Counter/other"}, {"arrays": ["weights/x"]},
                                   {"value": 1, "array": "callbacks/0-_Counter/epochs"}, [1]])
def test_a_malformed_callback_state_in_a_backup_is_refused(tmp_path, entry):
    from glassnet.saving import container

    path = tmp_path / "backup.glassnet"
    model = _model()
    model.fit(*_data(), epochs=1, verbose=0)
    gn.saving.save_model(model, path, callback_states={"0-_Counter": {"epochs": np.zeros(2)}})
    doc, tensors = container.decode(path.read_bytes(), str(path), (container.MODEL_FORMAT,))
    doc["callbacks"]["0-_Counter"]["epochs"] = entry
    path.write_bytes(container.encode({k: v for k, v in doc.items() if k != "tensors"}, tensors))
    with pytest.raises(ModelFileError, match="state 'epochs' of callback '0-_Counter' is malformed"):
        gn.saving.read_callback_states(path)


def test_best_only_batch_checkpoints_skip_until_the_monitor_is_logged(tmp_path):
    # Batch logs hold only the training loss; a val_loss monitor must not crash fit there.
    x = np.random.default_rng(0).standard_normal((32, 3))
    y = (x[:, 0] > 0).astype(float)
    model = gn.Sequential([gn.layers.Dense(1, activation="sigmoid", input_shape=(3,))], seed=0)
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    checkpoint = gn.callbacks.ModelCheckpoint(tmp_path / "best.glassnet", monitor="val_loss",
                                              save_best_only=True, save_freq=2)
    history = model.fit(x, y, epochs=2, batch_size=8, validation_split=0.25, verbose=0, callbacks=[checkpoint])
    assert len(history.epoch) == 2


def test_restoring_into_a_model_with_another_seed_names_both_seeds(tmp_path):
    from glassnet.saving.model_io import restore_training_state

    def model(seed):
        m = gn.Sequential([gn.layers.Dense(1, input_shape=(2,))], seed=seed)
        m.compile(optimizer="sgd", loss="mse")
        return m

    saved = model(1)
    saved.fit(np.ones((4, 2)), np.zeros(4), epochs=1, verbose=0)
    saved.save(tmp_path / "backup.glassnet")
    with pytest.raises(ValueError, match="trained with seed 1; this model has seed 2"):
        restore_training_state(model(2), tmp_path / "backup.glassnet")
    assert restore_training_state(model(1), tmp_path / "backup.glassnet") == 1
