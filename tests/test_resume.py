"""Exact resuming: load_model + fit(initial_epoch=k) gives bitwise the uninterrupted run's weights."""

import numpy as np
import pytest

import glassnet as gn
from glassnet import layers

OPTIMIZERS = {
    "sgd-nesterov": lambda: gn.optimizers.SGD(0.05, momentum=0.9, nesterov=True, clipnorm=1.0),
    "adagrad": lambda: gn.optimizers.Adagrad(0.05, decay=1e-3),
    "rmsprop-centered": lambda: gn.optimizers.RMSprop(0.01, momentum=0.5, centered=True),
    "adam-amsgrad": lambda: gn.optimizers.Adam(0.01, amsgrad=True, clipvalue=0.5),
    "adamw-schedule": lambda: gn.optimizers.AdamW(
        gn.schedules.ExponentialDecay(0.01, decay_steps=3, decay_rate=0.8), decay=1e-2),
}


def _data(n=48, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5)).astype("float32")
    return x, (x[:, 0] + x[:, 3] > 0).astype("int64") + (x[:, 1] > 1)


def _model(optimizer, seed=11):
    model = gn.Sequential([layers.Dense(12, activation="relu", input_shape=(5,)), layers.Dropout(0.3),
                           layers.BatchNormalization(), layers.Dense(3, activation="softmax")], seed=seed)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _same_weights(a, b) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a.get_weights(), b.get_weights()))


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_resume_from_a_file_equals_the_uninterrupted_run(tmp_path, name):
    x, y = _data()
    fit = dict(batch_size=8, verbose=0, validation_split=0.25, class_weight={0: 1.0, 1: 2.0, 2: 1.5})
    reference = _model(OPTIMIZERS[name]())
    reference.fit(x, y, epochs=5, **fit)

    first = _model(OPTIMIZERS[name]())
    first.fit(x, y, epochs=2, **fit)
    first.save(tmp_path / "m.glassnet")
    resumed = gn.load_model(tmp_path / "m.glassnet")
    resumed.fit(x, y, epochs=5, initial_epoch=resumed._epochs_completed, **fit)
    assert _same_weights(resumed, reference)
    assert resumed.optimizer.iterations == reference.optimizer.iterations
    assert resumed.optimizer.current_learning_rate == reference.optimizer.current_learning_rate


def test_a_rate_lowered_by_reduce_lr_on_plateau_is_kept(tmp_path):
    x, y = _data()
    plateau = dict(monitor="loss", factor=0.5, patience=0, min_delta=10.0)  # lowers after every epoch but the first
    reference = _model(gn.optimizers.SGD(0.1, momentum=0.9))
    reference.fit(x, y, epochs=3, verbose=0, callbacks=[gn.callbacks.ReduceLROnPlateau(**plateau)])
    reference.fit(x, y, epochs=5, initial_epoch=3, verbose=0)

    first = _model(gn.optimizers.SGD(0.1, momentum=0.9))
    first.fit(x, y, epochs=3, verbose=0, callbacks=[gn.callbacks.ReduceLROnPlateau(**plateau)])
    assert first.optimizer.learning_rate == 0.1 * 0.5**2  # the first epoch sets the best
    first.save(tmp_path / "m.glassnet")
    resumed = gn.load_model(tmp_path / "m.glassnet")
    assert resumed.optimizer.learning_rate == first.optimizer.learning_rate
    resumed.fit(x, y, epochs=5, initial_epoch=3, verbose=0)
    assert _same_weights(resumed, reference)


def test_resume_after_every_epoch_of_a_run(tmp_path):
    """Checkpoints from every epoch each lead to the same final weights."""
    x, y = _data()
    reference = _model("adam")
    reference.fit(x, y, epochs=4, batch_size=16, verbose=0, callbacks=[
        gn.callbacks.ModelCheckpoint(str(tmp_path / "e{epoch}.glassnet"))])
    for k in range(1, 4):
        resumed = gn.load_model(tmp_path / f"e{k}.glassnet")
        assert resumed._epochs_completed == k
        resumed.fit(x, y, epochs=4, initial_epoch=k, batch_size=16, verbose=0)
        assert _same_weights(resumed, reference), f"resumed after epoch {k}"
