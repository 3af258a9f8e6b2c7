"""fit behaves as Keras users expect across epochs and calls: validation logged on divergence,
class weights for training only, History after the user's callbacks, fresh batches per call."""

import numpy as np
import pytest

import glassnet as gn
from glassnet import layers

RNG = np.random.default_rng(0)
X = RNG.normal(size=(48, 3)).astype("float32")
Y = X @ np.array([[1.0], [-2.0], [0.5]], "float32")


def regression(optimizer=None):
    model = gn.Sequential([layers.Dense(4, activation="tanh", input_shape=(3,)), layers.Dense(1)], seed=0)
    model.compile(optimizer or gn.optimizers.SGD(0.05), "mse")
    return model


def explode_at(epoch):
    return gn.callbacks.LearningRateScheduler(lambda e, lr: 1e12 if e >= epoch else 0.05)


def test_a_diverging_run_still_logs_validation_and_restores_the_best_weights():
    model = regression()
    stop = gn.callbacks.EarlyStopping(patience=3)  # restore_best_weights=True by default
    plateau = gn.callbacks.ReduceLROnPlateau(patience=1)
    with np.errstate(over="ignore", invalid="ignore"):  # the suite raises on them; a user's run does not
        history = model.fit(X, Y, epochs=6, batch_size=16, verbose=0, validation_split=0.25,
                            callbacks=[explode_at(2), stop, plateau])
    lengths = {key: len(values) for key, values in history.history.items()}
    assert len(set(lengths.values())) == 1, lengths  # one entry per epoch in every column
    assert np.isnan(history.history["val_loss"][-1])
    assert all(np.isfinite(w).all() for w in model.get_weights())  # the best epoch's weights came back


def test_class_weight_weighs_training_only_not_the_validation_split():
    x = X[:40]
    y = (x[:, 0] > 0.3).astype("float32")

    def val_loss(**kwargs):
        model = gn.Sequential([layers.Dense(1, activation="sigmoid", input_shape=(3,))], seed=0)
        model.compile(gn.optimizers.SGD(1e-4), "binary_crossentropy")
        return model.fit(x, y, epochs=1, verbose=0, validation_split=0.25, **kwargs).history["val_loss"][0]

    # With a tiny step the weights barely move, so both runs evaluate the same model on the
    # same validation rows: the weighted run must report the plain, unweighted loss.
    assert val_loss(class_weight={0: 1, 1: 10}) == pytest.approx(val_loss(), rel=1e-3)


def test_keys_added_to_the_logs_by_a_callback_reach_the_history():
    class F1(gn.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_f1"] = 0.5

    history = regression().fit(X, Y, epochs=2, verbose=0, validation_split=0.25, callbacks=[F1()])
    assert history.history["val_f1"] == [0.5, 0.5]


def test_fit_in_a_loop_draws_fresh_batches_and_continuing_equals_one_long_fit():
    dropout = lambda: gn.Sequential([layers.Dense(8, input_shape=(3,)), layers.Dropout(0.5),  # noqa: E731
                                     layers.Dense(1)], seed=0)
    masks = []
    model = dropout()
    model.compile("sgd", "mse")
    record = gn.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: masks.append(model.layers[1]._mask.copy()))
    for _ in range(3):
        model.fit(X[:8], Y[:8], epochs=1, batch_size=8, verbose=0, callbacks=[record])
    assert not np.array_equal(masks[0], masks[1]) and not np.array_equal(masks[1], masks[2])

    def trained(calls):
        m = dropout()
        m.compile("adam", "mse")
        for epochs, initial in calls:
            m.fit(X, Y, epochs=epochs, initial_epoch=initial, batch_size=8, verbose=0)
        return m.get_weights()

    one_long = trained([(4, 0)])
    for a, b in zip(one_long, trained([(2, 0), (4, 2)])):  # Keras' "continue training" idiom
        np.testing.assert_array_equal(a, b)
    for a, b in zip(one_long, trained([(1, 0)] * 4)):  # four calls of one epoch each
        np.testing.assert_array_equal(a, b)


def test_batch_size_none_means_32_as_in_keras():
    a, b = regression(), regression()
    a.fit(X, Y, batch_size=None, epochs=1, verbose=0)
    b.fit(X, Y, batch_size=32, epochs=1, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_one_optimizer_instance_cannot_train_two_models():
    optimizer = gn.optimizers.Adam(0.01)
    first = regression(optimizer)
    first.fit(X, Y, epochs=1, verbose=0)
    first.compile(optimizer, "mae")  # the same model again: fine
    with pytest.raises(ValueError, match=r"has trained .*give each model its own"):
        regression(optimizer)  # its moments and step count would carry over
    regression(type(optimizer).from_config(optimizer.get_config()))  # a fresh copy is fine


def test_the_refusal_does_not_depend_on_garbage_collection():
    import gc

    optimizer = gn.optimizers.Adam(0.01)
    model = regression(optimizer)
    model.fit(X, Y, epochs=1, verbose=0)
    del model  # unreachable, but History keeps a cycle alive until a collection
    with pytest.raises(ValueError, match="has trained"):
        regression(optimizer)
    gc.collect()
    with pytest.raises(ValueError, match="has trained another model"):
        regression(optimizer)


def test_an_optimizer_that_never_stepped_may_move_a_stepped_one_may_not():
    shared = gn.optimizers.Adam(0.01)
    a, b = regression(shared), regression(shared)  # neither stepped yet: fine (learning-rate sweeps)
    with pytest.raises(ValueError, match="since compiled into model"):
        a.fit(X, Y, epochs=1, verbose=0)  # b took it over; training a would mix their states
    b.fit(X, Y, epochs=1, verbose=0)
    b.compile(shared, "mae")  # b recompiling its own: fine
    b.compile(gn.optimizers.Adam(0.01), "mse")  # b gives it up...
    with pytest.raises(ValueError, match="has trained"):
        regression(shared)  # ...but its moments and step count must not go to another model
    import pickle

    copy = pickle.loads(pickle.dumps(a))  # a model copied with its optimizer keeps training it
    copy.compile(copy.optimizer, "mse")


class Crash(gn.callbacks.Callback):
    def __init__(self, at):
        super().__init__()
        self.at = at

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.at:
            raise KeyboardInterrupt


def dropout_classifier():
    model = gn.Sequential([layers.Dense(8, activation="relu", input_shape=(3,)), layers.Dropout(0.3),
                           layers.Dense(1, activation="sigmoid")], seed=1)
    model.compile(optimizer=gn.optimizers.Adam(0.01), loss="binary_crossentropy")
    return model


LABELS = (X[:, :1] > 0).astype("float32")


def test_backup_and_restore_resumes_a_second_fit_call_exactly(tmp_path):
    reference = dropout_classifier()
    reference.fit(X, LABELS, epochs=3, batch_size=16, verbose=0)  # an earlier call
    reference.fit(X, LABELS, epochs=4, batch_size=16, verbose=0)
    crashed = dropout_classifier()
    crashed.fit(X, LABELS, epochs=3, batch_size=16, verbose=0)
    with pytest.raises(KeyboardInterrupt):
        crashed.fit(X, LABELS, epochs=4, batch_size=16, verbose=0,
                    callbacks=[gn.callbacks.BackupAndRestore(tmp_path / "backup"), Crash(1)])
    rerun = dropout_classifier()  # the script again, from the top
    rerun.fit(X, LABELS, epochs=3, batch_size=16, verbose=0)
    history = rerun.fit(X, LABELS, epochs=4, batch_size=16, verbose=0,
                        callbacks=[gn.callbacks.BackupAndRestore(tmp_path / "backup")])
    assert len(history.history["loss"]) == 2  # epochs 2 and 3, not none
    for a, b in zip(reference.get_weights(), rerun.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_checkpoint_of_a_second_fit_call_resumes_with_initial_epoch(tmp_path):
    reference = dropout_classifier()
    reference.fit(X, LABELS, epochs=3, batch_size=16, verbose=0)
    reference.fit(X, LABELS, epochs=4, batch_size=16, verbose=0,
                  callbacks=[gn.callbacks.ModelCheckpoint(str(tmp_path / "ck-{epoch}.glassnet"))])
    resumed = gn.load_model(tmp_path / "ck-2.glassnet")  # saved after the call's 2nd epoch
    resumed.fit(X, LABELS, epochs=4, initial_epoch=2, batch_size=16, verbose=0)  # as documented
    for a, b in zip(reference.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_divergence_in_an_epochs_last_update_logs_nan_validation_even_with_auc():
    labels = (X[:, :1] > 0).astype("float32")
    model = gn.Sequential([layers.Dense(8, activation="relu", input_shape=(3,)),
                           layers.Dense(1, activation="sigmoid")], seed=1)
    model.compile(optimizer=gn.optimizers.SGD(1e38), loss="binary_crossentropy", metrics=["auc"])
    with np.errstate(all="ignore"):  # the suite raises on them; a user's run does not
        # One full batch: the epoch's loss (taken before the update) is finite, the weights after it are not.
        history = model.fit(X, labels, epochs=3, batch_size=len(X), verbose=0, validation_data=(X, labels))
    assert np.isfinite(history.history["loss"][0]) and np.isnan(history.history["val_auc"][0])


def test_early_stopping_reports_a_run_that_never_had_a_finite_value(capsys):
    stop = gn.callbacks.EarlyStopping(monitor="val_loss", patience=0, verbose=1)
    stop.set_model(regression())
    stop.on_train_begin()
    for epoch in range(2):
        stop.on_epoch_end(epoch, {"val_loss": float("nan")})
    stop.on_train_end()
    assert stop.stopped_epoch == 1  # never at the first epoch, as in Keras
    assert "early stopping (best val_loss no finite value)" in capsys.readouterr().out


@pytest.mark.parametrize("patience", [0, 1])
def test_early_stopping_never_stops_at_the_first_epoch_of_a_resumed_call(patience):
    model = regression()
    model.fit(X, Y, epochs=2, verbose=0)
    stop = gn.callbacks.EarlyStopping(monitor="loss", patience=patience, baseline=1e-9)
    history = model.fit(X, Y, epochs=6, initial_epoch=2, verbose=0, callbacks=[stop])
    assert len(history.history["loss"]) == max(2, patience + 1)  # as a fresh call would run


def test_an_epoch_whose_weights_diverged_is_no_best_for_loss_monitors(tmp_path):
    model = regression()
    stop = gn.callbacks.EarlyStopping(monitor="loss", patience=10)
    checkpoint = gn.callbacks.ModelCheckpoint(tmp_path / "best.glassnet", monitor="loss", save_best_only=True)
    with np.errstate(all="ignore"):
        # Full batch: the epoch's loss is measured before its update, which blows the weights up.
        history = model.fit(X, Y, epochs=6, batch_size=len(X), verbose=0,
                            callbacks=[gn.callbacks.LearningRateScheduler(lambda e, lr: 1e39 if e >= 3 else 0.05),
                                       stop, checkpoint])
    assert np.isnan(history.history["loss"][3])
    assert all(np.isfinite(w).all() for w in model.get_weights())  # the best finite epoch came back
    assert all(np.isfinite(w).all() for w in gn.load_model(tmp_path / "best.glassnet").get_weights())


def test_inspect_reports_epochs_over_all_fit_calls(tmp_path):
    model = regression()
    model.fit(X, Y, epochs=3, verbose=0)
    model.fit(X, Y, epochs=2, verbose=0)
    model.save(tmp_path / "m.glassnet")
    info = gn.saving.inspect(tmp_path / "m.glassnet")
    assert (info["epochs_trained"], info["epochs_completed"]) == (5, 2)


class CustomStep(gn.Sequential):
    """A Keras-style subclass whose custom step glassnet's loop would skip."""

    def train_step(self, data):
        raise AssertionError("never called: fit refuses the class first")


class CustomGraphStep(gn.Model):
    def test_step(self, data):
        raise AssertionError("never called")


def test_a_train_step_override_is_refused_by_name_instead_of_silently_skipped():
    model = CustomStep([layers.Dense(1, input_shape=(3,))], seed=0)
    model.compile("sgd", "mse")
    before = model.get_weights()
    with pytest.raises(NotImplementedError, match=r"CustomStep defines train_step\(\).*callback"):
        model.fit(X, Y, epochs=1, verbose=0)
    with pytest.raises(NotImplementedError, match="train_step"):
        model.train_on_batch(X, Y)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))  # nothing trained
    model.predict(X)  # the hooks it does not override stay usable
    inputs = gn.Input(shape=(3,))
    graph = CustomGraphStep(inputs, layers.Dense(1)(inputs), seed=0)
    graph.compile("sgd", "mse")
    with pytest.raises(NotImplementedError, match=r"test_step\(\)"):
        graph.evaluate(X, Y)


def test_a_keras_style_loop_over_train_test_and_predict_on_batch():
    # The loop Keras' docs show for custom training schedules: one batch at a time.
    model = regression(gn.optimizers.Adam(0.01))
    model.compile(gn.optimizers.Adam(0.01), "mse", metrics=["mae"])
    for start in range(0, 48, 16):
        model.train_on_batch(X[start:start + 16], Y[start:start + 16])
    loss, mae = model.test_on_batch(X[:16], Y[:16])
    assert [loss, mae] == model.evaluate(X[:16], Y[:16], batch_size=16, verbose=0)
    assert model.test_on_batch(X[:16], Y[:16], return_dict=True) == {"loss": loss, "mae": mae}
    np.testing.assert_array_equal(model.predict_on_batch(X), model.predict(X, batch_size=48))
    before = model.get_weights()
    model.test_on_batch(X, Y)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))  # no update


def test_a_graph_model_has_the_on_batch_methods_too():
    inputs = gn.Input((3,))
    model = gn.Model(inputs, layers.Dense(1)(inputs))
    model.compile("sgd", "mse")
    assert model.test_on_batch(X, Y) == model.evaluate(X, Y, batch_size=48, verbose=0)
    assert model.predict_on_batch(X).shape == (48, 1)
