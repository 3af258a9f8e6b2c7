"""Callbacks in small real training runs: what each one does to training, the logs and the files."""

import gc
import math
import re
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest

import glassnet as gn
from glassnet import callbacks

matplotlib.use("Agg")

N, BATCH = 48, 16  # three batches per epoch


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N, 3)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5]]) + 0.1 * rng.normal(size=(N, 1))).astype("float32")
    return x, y


def make_model(lr=0.05, metrics=None, seed=0):
    model = gn.Sequential([gn.layers.Dense(4, activation="tanh", input_shape=(3,)), gn.layers.Dense(1)], seed=seed)
    model.compile(optimizer=gn.optimizers.SGD(lr), loss="mse", metrics=metrics)
    return model


class Scripted(callbacks.Callback):
    """Writes ``values[epoch]`` into the logs as ``key``, so the watching callbacks placed
    after it see a known sequence; also snapshots the weights at each epoch's end."""

    def __init__(self, key, values):
        super().__init__()
        self.key, self.values = key, values
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]
        self.weights.append(self.model.get_weights())


class LRRecorder(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.lrs = []

    def on_epoch_end(self, epoch, logs=None):
        self.lrs.append(self.model.optimizer.learning_rate)


def fit(model, data, callbacks_, epochs=10, **kwargs):
    x, y = data
    return model.fit(x, y, epochs=epochs, batch_size=BATCH, verbose=0, callbacks=callbacks_, **kwargs)


def same_weights(a, b):
    return len(a) == len(b) and all(np.array_equal(u, v) for u, v in zip(a, b))


# -- EarlyStopping -------------------------------------------------------------------------------
@pytest.mark.parametrize("patience", [0, 1, 2, 3])
def test_early_stopping_stops_after_patience_epochs_without_improvement(data, patience):
    # best at epoch 2, then nothing better: stops at epoch 2 + patience (Keras' count; at least one epoch)
    scores = [5.0, 4.0, 3.0, 3.5, 3.2, 3.1, 3.05, 3.01, 3.3, 3.4]
    stop = callbacks.EarlyStopping(monitor="score", patience=patience, mode="min")
    history = fit(make_model(), data, [Scripted("score", scores), stop])
    last = 2 + max(patience, 1)
    assert history.epoch == list(range(last + 1))
    assert stop.stopped_epoch == last and stop.best_epoch == 2 and stop.best == 3.0


def test_early_stopping_min_delta(data):
    scores = [1.0, 0.95, 0.92, 0.90, 0.85, 0.84, 0.83]
    assert len(fit(make_model(), data, [Scripted("score", scores),
                                        callbacks.EarlyStopping("score", patience=1)], epochs=7).epoch) == 7
    stop = callbacks.EarlyStopping("score", patience=1, min_delta=0.1)
    history = fit(make_model(), data, [Scripted("score", scores), stop], epochs=7)
    # 0.95 and 0.92 are not 0.1 below 1.0: no improvement, so it stops at epoch 1.
    assert history.epoch == [0, 1] and stop.best_epoch == 0
    stop = callbacks.EarlyStopping("score", patience=2, min_delta=0.1)
    history = fit(make_model(), data, [Scripted("score", scores), stop], epochs=7)
    # 0.90 at epoch 3 is exactly 0.1 below: not more than min_delta, so epoch 2 stops it
    assert history.epoch == [0, 1, 2] and stop.best_epoch == 0


@pytest.mark.parametrize(("mode", "monitor", "best_epoch"), [
    ("max", "score", 1), ("min", "score", 0), ("auto", "val_accuracy", 1), ("auto", "val_auc", 1),
    ("auto", "val_loss", 0), ("auto", "val_mae", 0),
])
def test_early_stopping_mode(data, mode, monitor, best_epoch):
    scores = [0.5, 0.9, 0.8, 0.7, 0.6, 0.55, 0.52, 0.51]
    stop = callbacks.EarlyStopping(monitor=monitor, patience=2, mode=mode)
    history = fit(make_model(), data, [Scripted(monitor, scores), stop])
    assert stop.best_epoch == best_epoch
    assert history.epoch == list(range(best_epoch + 3))


def test_early_stopping_rejects_unknown_mode():
    with pytest.raises(ValueError, match="mode must be 'auto', 'min' or 'max'; got 'minimum'"):
        callbacks.EarlyStopping(mode="minimum")


def test_early_stopping_restores_the_best_epochs_weights_by_default(data):
    scores = [3.0, 2.0, 1.0, 1.5, 1.2, 1.1, 1.4]
    script, stop = Scripted("score", scores), callbacks.EarlyStopping("score", patience=3)
    model = make_model()
    assert stop.restore_best_weights is True
    fit(model, data, [script, stop])
    assert stop.stopped_epoch == 5
    assert same_weights(model.get_weights(), script.weights[2])
    assert not same_weights(model.get_weights(), script.weights[-1])


def test_early_stopping_without_restore_keeps_the_last_weights(data):
    script = Scripted("score", [3.0, 2.0, 1.0, 1.5, 1.2, 1.1, 1.4])
    model = make_model()
    fit(model, data, [script, callbacks.EarlyStopping("score", patience=3, restore_best_weights=False)])
    assert same_weights(model.get_weights(), script.weights[-1])


def test_early_stopping_on_real_val_loss_restores_the_best_val_loss(data):
    x, y = data
    model = make_model(lr=0.3)
    stop = callbacks.EarlyStopping(patience=2)  # monitor="val_loss"
    history = model.fit(x[:32], y[:32], validation_data=(x[32:], y[32:]), epochs=40, batch_size=8,
                        verbose=0, callbacks=[stop])
    best = int(np.argmin(history.history["val_loss"]))
    assert stop.best_epoch == history.best_epoch == history.epoch[best]
    assert len(history.epoch) == best + 3 < 40  # it did stop early
    assert model.evaluate(x[32:], y[32:]) == history.history["val_loss"][best]


def test_early_stopping_start_from_epoch(data):
    scores = [1.0, 2.0, 3.0, 4.0, 5.0, 3.5, 6.0, 7.0]
    script, stop = Scripted("score", scores), callbacks.EarlyStopping("score", patience=1, start_from_epoch=3)
    history = fit(make_model(), data, [script, stop])
    # epochs 0-2 (the best scores) are not watched; epoch 3 is the first best, epoch 4 stops.
    assert history.epoch == [0, 1, 2, 3, 4] and stop.best_epoch == 3
    stop = callbacks.EarlyStopping("score", patience=2, start_from_epoch=3)
    model = make_model()
    script = Scripted("score", scores)
    history = fit(model, data, [script, stop])
    assert history.epoch == list(range(8)) and stop.best_epoch == 5
    assert same_weights(model.get_weights(), script.weights[5])


def test_early_stopping_missing_monitor_key_names_it_and_the_available_keys(data):
    with pytest.raises(ValueError, match=r"'val_loss', which is not in the logs \(available: learning_rate, loss"):
        fit(make_model(), data, [callbacks.EarlyStopping()], epochs=2)


def test_early_stopping_verbose_says_when_and_where(data, capsys):
    stop = callbacks.EarlyStopping("score", patience=1, verbose=1)
    fit(make_model(), data, [Scripted("score", [2.0, 1.0, 1.5, 1.7]), stop], epochs=4)
    assert "Epoch 3: early stopping (best score 1 at epoch 2)" in capsys.readouterr().out


def test_early_stopping_state_is_fresh_for_each_fit(data):
    stop = callbacks.EarlyStopping("score", patience=1)
    fit(make_model(), data, [Scripted("score", [1.0, 2.0, 3.0]), stop], epochs=3)
    assert stop.stopped_epoch == 1
    history = fit(make_model(), data, [Scripted("score", [9.0, 8.0, 7.0]), stop], epochs=3)
    assert history.epoch == [0, 1, 2] and stop.stopped_epoch is None and stop.best == 7.0


# -- ReduceLROnPlateau ---------------------------------------------------------------------------
def test_reduce_lr_on_plateau_patience_factor_min_lr(data):
    flat = [1.0] * 10
    recorder = LRRecorder()
    reduce = callbacks.ReduceLROnPlateau("score", factor=0.5, patience=2, min_lr=0.02)
    history = fit(make_model(lr=0.1), data, [Scripted("score", flat), reduce, recorder])
    assert recorder.lrs == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.02, 0.02, 0.02, 0.02], rel=1e-15)
    # The rate logged for an epoch is the one that epoch trained with.
    assert history.history["learning_rate"] == pytest.approx([0.1] * 3 + [0.05] * 2 + [0.025] * 2 + [0.02] * 3,
                                                             rel=1e-15)


def test_reduce_lr_on_plateau_cooldown(data):
    recorder = LRRecorder()
    reduce = callbacks.ReduceLROnPlateau("score", factor=0.5, patience=2, cooldown=2, min_lr=0.02)
    fit(make_model(lr=0.1), data, [Scripted("score", [1.0] * 10), reduce, recorder])
    # after each cut, two cooldown epochs reset the count before watching again
    assert recorder.lrs == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.02, 0.02], rel=1e-15)


def test_reduce_lr_on_plateau_improvement_resets_the_wait(data):
    recorder = LRRecorder()
    reduce = callbacks.ReduceLROnPlateau("score", factor=0.1, patience=2, min_delta=0.01, mode="min")
    scores = [1.0, 1.1, 0.9, 1.0, 0.8, 0.795, 0.85]  # 0.795 is within min_delta of 0.8
    fit(make_model(lr=0.1), data, [Scripted("score", scores), reduce, recorder], epochs=7)
    assert recorder.lrs == pytest.approx([0.1] * 6 + [0.01], rel=1e-15)


def test_reduce_lr_on_plateau_state_is_fresh_for_each_fit(data):
    reduce = callbacks.ReduceLROnPlateau("score", factor=0.5, patience=2)
    fit(make_model(lr=0.1), data, [Scripted("score", [0.1, 0.2]), reduce], epochs=2)
    recorder = LRRecorder()
    # A new run whose scores are all worse than the last run's best must not be cut at once.
    fit(make_model(lr=0.1), data, [Scripted("score", [5.0, 4.0, 3.0]), reduce, recorder], epochs=3)
    assert recorder.lrs == [0.1, 0.1, 0.1]


def test_reduce_lr_on_plateau_rejects_bad_factor():
    with pytest.raises(ValueError, match="factor must be in"):
        callbacks.ReduceLROnPlateau(factor=1.0)


# -- LearningRateScheduler -----------------------------------------------------------------------
def test_learning_rate_scheduler_sets_each_epochs_rate(data):
    seen = []

    def schedule(epoch, lr):
        seen.append((epoch, lr))
        return lr if epoch == 0 else lr * 0.5

    model = make_model(lr=0.2)
    history = fit(model, data, [callbacks.LearningRateScheduler(schedule)], epochs=4)
    assert history.history["learning_rate"] == [0.2, 0.1, 0.05, 0.025]
    assert seen == [(0, 0.2), (1, 0.2), (2, 0.1), (3, 0.05)]
    assert model.optimizer.learning_rate == 0.025


def test_learning_rate_scheduler_rate_is_the_one_used(data):
    """Training with the scheduled rate equals training epoch by epoch with that rate set."""
    x, y = data
    scheduled = make_model(lr=0.2)
    fit(scheduled, data, [callbacks.LearningRateScheduler(lambda e, lr: 0.2 / (e + 1))], epochs=3, shuffle=False)
    by_hand = make_model(lr=0.2)
    for epoch in range(3):
        by_hand.optimizer.learning_rate = 0.2 / (epoch + 1)
        by_hand.fit(x, y, epochs=epoch + 1, initial_epoch=epoch, batch_size=BATCH, verbose=0, shuffle=False)
    assert same_weights(scheduled.get_weights(), by_hand.get_weights())


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan")])
def test_learning_rate_scheduler_rejects_bad_rates(data, bad):
    with pytest.raises(ValueError, match="must be > 0"):
        fit(make_model(), data, [callbacks.LearningRateScheduler(lambda e, lr: bad)], epochs=1)


# -- CSVLogger -----------------------------------------------------------------------------------
def test_csv_logger_writes_every_epoch(data, tmp_path):
    x, y = data
    path = tmp_path / "log.csv"
    model = make_model(metrics=["mae"])
    history = model.fit(x, y, epochs=3, batch_size=BATCH, verbose=0, validation_split=0.25,
                        callbacks=[callbacks.CSVLogger(path)])
    frame = pd.read_csv(path)
    assert list(frame.columns) == ["epoch", "learning_rate", "loss", "mae", "val_loss", "val_mae"]
    assert frame["epoch"].tolist() == [0, 1, 2]
    for key, values in history.history.items():
        assert frame[key].tolist() == values


def test_csv_logger_append_resumes_and_overwrite_starts_over(data, tmp_path):
    x, y = data
    path = tmp_path / "log.csv"
    model = make_model()
    model.fit(x, y, epochs=2, batch_size=BATCH, verbose=0, callbacks=[callbacks.CSVLogger(path)])
    model.fit(x, y, epochs=4, initial_epoch=2, batch_size=BATCH, verbose=0,
              callbacks=[callbacks.CSVLogger(path, append=True)])
    frame = pd.read_csv(path)
    assert frame["epoch"].tolist() == [0, 1, 2, 3]
    assert list(frame.columns) == ["epoch", "learning_rate", "loss"]
    model.fit(x, y, epochs=1, batch_size=BATCH, verbose=0, callbacks=[callbacks.CSVLogger(path)])
    assert pd.read_csv(path)["epoch"].tolist() == [0]


def test_csv_logger_append_with_new_columns_keeps_one_readable_table(data, tmp_path):
    # A fit with validation appended to a log of one without wrote 4-field rows under a 3-field
    # header, and pandas.read_csv failed ("Expected 3 fields in line 4, saw 4").
    x, y = data
    path = tmp_path / "log.csv"
    model = make_model()
    model.fit(x, y, epochs=2, batch_size=BATCH, verbose=0, callbacks=[callbacks.CSVLogger(path)])
    history = model.fit(x, y, epochs=2, batch_size=BATCH, verbose=0, validation_data=(x[:8], y[:8]),
                        callbacks=[callbacks.CSVLogger(path, append=True)])
    model.fit(x, y, epochs=1, batch_size=BATCH, verbose=0, callbacks=[callbacks.CSVLogger(path, append=True)])
    frame = pd.read_csv(path)
    assert list(frame.columns) == ["epoch", "learning_rate", "loss", "val_loss"]
    assert frame["epoch"].tolist() == [0, 1, 0, 1, 0]
    assert frame["val_loss"].isna().tolist() == [True, True, False, False, True]
    assert frame["val_loss"].tolist()[2:4] == history.history["val_loss"]


def test_csv_logger_separator(data, tmp_path):
    path = tmp_path / "log.tsv"
    fit(make_model(), data, [callbacks.CSVLogger(path, separator="\t")], epochs=2)
    assert pd.read_csv(path, sep="\t").shape == (2, 3)


# -- TerminateOnNaN ------------------------------------------------------------------------------
def _diverging_fit(data, extra=()):
    """SGD with lr=1e12 on MSE: the loss overflows within the first epoch."""
    seen = []
    record = callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(logs["loss"]))
    model = make_model(lr=1e12)
    # NumPy would warn on overflow (an error in this suite): a user sees warnings, then the stop.
    with np.errstate(all="ignore"):
        history = fit(model, data, [record, *extra], epochs=5)
    return history, seen


def test_terminate_on_nan_is_automatic_and_says_where(data, capsys):
    history, seen = _diverging_fit(data)
    out = capsys.readouterr().out
    match = re.search(r"TerminateOnNaN: the loss became (nan|inf) at epoch (\d+), batch (\d+)", out)
    assert match and out.count("TerminateOnNaN") == 1
    assert all(math.isfinite(v) for v in seen[:-1]) and not math.isfinite(seen[-1])  # stopped at the first
    epoch, batch = int(match.group(2)), int(match.group(3))
    assert (epoch - 1) * (N // BATCH) + batch == len(seen)
    assert history.epoch == list(range(epoch))
    assert not math.isfinite(history.history["loss"][-1])


def test_terminate_on_nan_given_by_the_user_is_not_doubled(data, capsys):
    stopper = callbacks.TerminateOnNaN()
    _, seen = _diverging_fit(data, [stopper])
    assert capsys.readouterr().out.count("TerminateOnNaN") == 1
    assert stopper.stopped_at is not None and stopper.stopped_at[1] == (len(seen) - 1) % (N // BATCH)


def test_history_best_epoch_after_divergence_in_the_first_epoch(data):
    history, _ = _diverging_fit(data)
    assert history.epoch == [0]
    assert history.best_epoch is None  # nothing finite to choose from, and no crash


def test_history_best_epoch_skips_non_finite_values():
    history = callbacks.History()
    for epoch, loss in enumerate([float("nan"), 2.0, 1.0, float("inf"), 1.5]):
        history.on_epoch_end(epoch, {"loss": loss})
    assert history.best_epoch == 2


def test_early_stopping_restores_finite_weights_after_divergence(data):
    script = Scripted("unused", [0.0] * 10)
    explode = callbacks.LearningRateScheduler(lambda epoch, lr: 1e12 if epoch >= 3 else 0.05)
    model = make_model()
    with np.errstate(all="ignore"):
        history = fit(model, data, [explode, script, callbacks.EarlyStopping("loss", patience=5)])
    losses = history.history["loss"]
    assert len(losses) == 4 and not math.isfinite(losses[3]) and all(map(math.isfinite, losses[:3]))
    best = int(np.argmin(losses[:3]))
    assert same_weights(model.get_weights(), script.weights[best])
    assert all(np.isfinite(w).all() for w in model.get_weights())


# -- LambdaCallback, hook order, stop_training ---------------------------------------------------
def test_lambda_callback_calls_the_given_functions(data):
    calls = []
    cb = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: calls.append((epoch, sorted(logs))),
                                  on_train_begin=lambda logs: calls.append("begin"))
    fit(make_model(), data, [cb], epochs=2)
    assert calls == ["begin", (0, ["learning_rate", "loss"]), (1, ["learning_rate", "loss"])]


def test_lambda_callback_rejects_unknown_hooks():
    with pytest.raises(ValueError, match=r"unknown hooks \['on_epoch_finish'\]; valid: on_train_begin"):
        callbacks.LambdaCallback(on_epoch_finish=print)


class Recorder(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.calls, self.epoch_logs = [], []

    def on_train_begin(self, logs=None):
        self.calls.append("train_begin")

    def on_epoch_begin(self, epoch, logs=None):
        self.calls.append(f"epoch_begin {epoch}")

    def on_train_batch_begin(self, batch, logs=None):
        self.calls.append(f"batch_begin {batch}")

    def on_train_batch_end(self, batch, logs=None):
        assert math.isfinite(logs["loss"])
        self.calls.append(f"batch_end {batch}")

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_logs.append(sorted(logs))
        self.calls.append(f"epoch_end {epoch}")

    def on_train_end(self, logs=None):
        self.calls.append("train_end")


def test_hooks_are_called_in_keras_order(data):
    x, y = data
    rec = Recorder()
    model = make_model()
    model.fit(x, y, epochs=3, initial_epoch=1, batch_size=BATCH, verbose=0, callbacks=[rec],
              validation_data=(x[:8], y[:8]))
    assert rec.model is model

    def per_epoch(e):
        batches = [f"batch_{when} {b}" for b in range(3) for when in ("begin", "end")]
        return [f"epoch_begin {e}", *batches, f"epoch_end {e}"]

    assert rec.calls == ["train_begin", *per_epoch(1), *per_epoch(2), "train_end"]
    assert rec.epoch_logs == [["learning_rate", "loss", "val_loss"]] * 2


def test_stop_training_from_epoch_end(data):
    model = make_model()
    stopper = callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: setattr(model, "stop_training", epoch == 1))
    history = fit(model, data, [stopper], epochs=10)
    assert history.epoch == [0, 1]
    assert model.optimizer.iterations == 2 * (N // BATCH)
    # the next fit starts afresh
    assert fit(model, data, [], epochs=3).epoch == [0, 1, 2]


def test_stop_training_from_a_batch_ends_the_epoch_there(data):
    model = make_model()
    rec = Recorder()
    stopper = callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: setattr(model, "stop_training", batch == 1))
    history = fit(model, data, [stopper, rec], epochs=10)
    assert history.epoch == [0] and model.optimizer.iterations == 2
    # the epoch still ends (logs, callbacks) before training does, as in Keras
    assert rec.calls[-4:] == ["batch_begin 1", "batch_end 1", "epoch_end 0", "train_end"]


# -- History -------------------------------------------------------------------------------------
def test_history_records_every_epoch(data, tmp_path):
    x, y = data
    model = make_model(metrics=["mae"])
    history = model.fit(x, y, epochs=5, batch_size=BATCH, verbose=0, validation_data=(x[:16], y[:16]))
    assert model.history is history
    assert history.epoch == [0, 1, 2, 3, 4]
    assert set(history.history) == {"loss", "mae", "val_loss", "val_mae", "learning_rate"}
    assert all(len(v) == 5 for v in history.history.values())
    assert history.history["val_loss"][-1] == model.evaluate(x[:16], y[:16], return_dict=True)["loss"]
    assert history.best_epoch == int(np.argmin(history.history["val_loss"]))

    path = tmp_path / "history.csv"
    history.to_csv(path)
    frame = pd.read_csv(path)
    assert frame["epoch"].tolist() == history.epoch
    for key, values in history.history.items():
        assert frame[key].tolist() == values
    assert history.to_dataframe()["loss"].tolist() == history.history["loss"]


def test_history_best_epoch_uses_loss_without_validation(data):
    history = fit(make_model(), data, [], epochs=3, initial_epoch=1)
    assert history.epoch == [1, 2]
    assert history.best_epoch == history.epoch[int(np.argmin(history.history["loss"]))]
    assert callbacks.History().best_epoch is None


def test_history_plot_returns_the_axes_with_both_curves(data):
    import matplotlib.pyplot as plt

    x, y = data
    history = make_model(metrics=["mae"]).fit(x, y, epochs=3, batch_size=BATCH, verbose=0, validation_split=0.25)
    axes = history.plot()
    fig = axes[0].figure
    try:
        # Axes, as pandas' plot returns: a Figure returned to a notebook cell is shown twice.
        assert all(isinstance(ax, matplotlib.axes.Axes) for ax in axes)
        assert list(axes) == fig.get_axes() and plt.gcf() is fig  # pyplot's figure: plt.show() shows it
        assert [ax.get_ylabel() for ax in axes] == ["loss", "mae"]
        for ax, key in zip(axes, ["loss", "mae"]):
            lines = ax.get_lines()
            assert [line.get_label() for line in lines] == [f"training {key}", f"validation {key}"]
            assert lines[0].get_ydata().tolist() == history.history[key]
            assert lines[1].get_ydata().tolist() == history.history[f"val_{key}"]
    finally:
        plt.close(fig)
    fig, ax = plt.subplots()
    try:
        assert history.plot(metrics=["mae"], ax=ax) is ax
        assert len(ax.get_lines()) == 2
    finally:
        plt.close(fig)


def test_history_plot_of_nothing_or_of_an_unknown_metric_says_so(data):
    """After fit(epochs=0) the plot failed in matplotlib ("Number of columns must be a positive
    integer, not 0"); an unknown metric failed with a bare KeyError."""
    x, y = data
    with pytest.raises(ValueError, match="nothing to plot; no epochs were recorded"):
        make_model().fit(x, y, epochs=0, verbose=0).plot()
    history = make_model(metrics=["mae"]).fit(x, y, epochs=1, batch_size=BATCH, verbose=0)
    with pytest.raises(ValueError, match=r"no metric \['accuracy'\] in the history; it holds \['loss', 'mae'"):
        history.plot(metrics=["accuracy"])


def test_learning_rate_scheduler_accepts_a_keras_one_argument_schedule(data):
    """Keras tutorials write ``LearningRateScheduler(lambda epoch: 1e-3 * 10 ** (epoch / 20))``."""
    history = fit(make_model(), data, [callbacks.LearningRateScheduler(lambda epoch: 1e-3 * 10 ** (epoch / 20))],
                  epochs=3)
    assert history.history["learning_rate"] == [1e-3 * 10 ** (e / 20) for e in range(3)]


def test_learning_rate_scheduler_does_not_hide_errors_inside_the_schedule(data):
    def schedule(epoch, lr):
        raise TypeError("a bug in the user's schedule")

    with pytest.raises(TypeError, match="a bug in the user's schedule"):
        fit(make_model(), data, [callbacks.LearningRateScheduler(schedule)], epochs=1)


def test_csv_logger_leaves_no_open_file_when_training_fails(data, tmp_path):
    path = tmp_path / "log.csv"

    def failing_fit():
        with pytest.raises(ValueError, match="val_loss"):
            fit(make_model(), data, [callbacks.CSVLogger(path), callbacks.EarlyStopping()], epochs=3)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        failing_fit()
        gc.collect()
    assert [w.message for w in caught if issubclass(w.category, ResourceWarning)] == []
    assert pd.read_csv(path)["epoch"].tolist() == [0]  # the finished epoch is on disk


def test_checkpoint_best_survives_a_second_fit(data, tmp_path):
    x, y = data
    model = make_model()
    path = tmp_path / "best.glassnet"
    checkpoint = callbacks.ModelCheckpoint(path, save_best_only=True)
    model.fit(x, y, epochs=10, batch_size=BATCH, verbose=0, validation_split=0.25, callbacks=[checkpoint])
    saved = path.read_bytes()
    best = checkpoint.best
    model.set_weights([w + 1 for w in model.get_weights()])  # a much worse model
    model.fit(x, y, epochs=1, batch_size=BATCH, verbose=0, validation_split=0.25, callbacks=[checkpoint])
    assert path.read_bytes() == saved and checkpoint.best == best  # Keras: "will not be overwritten"


def test_early_stopping_baseline_must_be_beaten(data):
    x, y = data
    # An unreachable baseline: every epoch improves on the last, none beats it, so training
    # stops after patience epochs, as Keras does.
    stop = callbacks.EarlyStopping(monitor="loss", patience=2, baseline=-1.0)
    history = make_model().fit(x, y, epochs=20, batch_size=BATCH, verbose=0, callbacks=[stop])
    assert len(history.history["loss"]) == 2
    free = make_model().fit(x, y, epochs=20, batch_size=BATCH, verbose=0,
                            callbacks=[callbacks.EarlyStopping(monitor="loss", patience=2, baseline=100.0)])
    assert len(free.history["loss"]) > 2  # a baseline already beaten changes nothing


def test_callbacks_see_fit_params(data):
    x, y = data
    history = make_model().fit(x, y, epochs=3, batch_size=BATCH, verbose=0)
    assert history.params == {"verbose": 0, "epochs": 3, "steps": 3}


def test_on_train_end_gets_the_last_epochs_logs(data):
    # A Keras callback reads the final figures in on_train_end (logs["val_loss"]); {} broke it.
    x, y = data
    seen = {}
    end = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.update(last=dict(logs)),
                                   on_train_end=lambda logs: seen.update(end=logs))
    make_model().fit(x, y, epochs=3, batch_size=BATCH, verbose=0, validation_data=(x[:8], y[:8]), callbacks=[end])
    assert sorted(seen["end"]) == ["learning_rate", "loss", "val_loss"]
    assert seen["end"] == seen["last"]


def test_one_callback_without_a_list_is_taken_as_keras_3_takes_it(data):
    x, y = data
    seen = []
    history = make_model().fit(x, y, epochs=2, batch_size=BATCH, verbose=0,
                               callbacks=callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch)))
    assert seen == [0, 1] and history.epoch == [0, 1]


@pytest.mark.parametrize("bad, message", [
    ([callbacks.CSVLogger], r"CSVLogger is a class; pass an instance, CSVLogger\(\.\.\.\)"),
    ([print], r"is not a callback; subclass gn.callbacks.Callback, or wrap a function in gn.callbacks.LambdaCallback"),
    (3, "callbacks must be a list of callbacks; got int"),
])
def test_what_is_not_a_callback_is_named_with_what_to_pass(data, bad, message):
    # A class or a plain function in the list failed inside the loop (set_model() missing 'model').
    x, y = data
    model = make_model()
    for run in (lambda: model.fit(x, y, epochs=1, verbose=0, callbacks=bad),
                lambda: model.evaluate(x, y, verbose=0, callbacks=bad)):
        with pytest.raises(TypeError, match=message):
            run()


def test_learning_rate_scheduler_refuses_an_optimizer_with_a_schedule(data):
    # float(schedule) failed with "float() argument must be ... not 'ExponentialDecay'".
    x, y = data
    model = gn.Sequential([gn.layers.Dense(1, input_shape=(3,))], seed=0)
    model.compile(optimizer=gn.optimizers.SGD(gn.schedules.ExponentialDecay(0.05, 10, 0.9)), loss="mse")
    scheduler = callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5)
    with pytest.raises(ValueError, match="optimizer that follows a schedule .ExponentialDecay.; compile with a float"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[scheduler])
