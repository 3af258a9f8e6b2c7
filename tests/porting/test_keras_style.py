"""Programs written the way Keras code is written, run on glassnet with only the import changed.

Each test is a small program in the style of keras.io examples: the functional forms of losses,
activations and metrics, ``input_dim``, the "acc" spelling, callbacks with the old batch hooks,
``evaluate``'s result line and the model API used when porting (``pop``, ``weights``,
``get_layer``).
"""

import numpy as np
import pytest

import glassnet as gn
from glassnet import layers


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 4)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int64")
    return x, y, gn.utils.to_categorical(y, 2)


def _model(seed=0):
    return gn.Sequential([layers.Dense(16, activation="relu", input_shape=(4,)),
                          layers.Dense(2, activation="softmax")], seed=seed)


def test_functional_losses_give_per_sample_values_and_stand_for_their_class(data):
    x, y, y_one_hot = data
    y_pred = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]], dtype="float32")
    y_true = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]], dtype="float32")
    expected = -np.log(np.float32([0.9, 0.8, 0.4]))
    np.testing.assert_allclose(gn.losses.categorical_crossentropy(y_true, y_pred), expected, rtol=1e-6)
    np.testing.assert_allclose(gn.losses.sparse_categorical_crossentropy([0, 1, 1], y_pred), expected, rtol=1e-6)
    np.testing.assert_allclose(gn.losses.mse(y_true, y_pred), ((y_true - y_pred) ** 2).mean(axis=-1), rtol=1e-6)
    np.testing.assert_allclose(gn.losses.mean_absolute_error(y_true, y_pred), np.abs(y_true - y_pred).mean(-1),
                               rtol=1e-6)
    p = np.float32([[0.8], [0.3]])
    np.testing.assert_allclose(gn.losses.binary_crossentropy([[1.0], [0.0]], p), -np.log([0.8, 0.7]), rtol=1e-6)
    np.testing.assert_allclose(gn.losses.huber([[0.0]], [[3.0]], delta=1.0), [2.5])
    # Keras code passes the function itself as the loss and as a metric.
    model = _model()
    model.compile(optimizer="adam", loss=gn.losses.categorical_crossentropy,
                  metrics=[gn.losses.categorical_crossentropy])
    history = model.fit(x, y_one_hot, epochs=3, batch_size=32, verbose=0)
    assert type(model.loss) is gn.losses.CategoricalCrossentropy
    np.testing.assert_allclose(history.history["categorical_crossentropy"], history.history["loss"], rtol=1e-5)
    with pytest.raises(TypeError, match="have no gradient"):
        model.compile(optimizer="adam", loss=lambda y_true, y_pred: (y_true - y_pred) ** 2)


def test_functional_activations_compute_and_stand_for_their_class():
    x = np.array([[-2.0, 0.0, 3.0]], dtype="float32")
    np.testing.assert_array_equal(gn.activations.relu(x), [[0.0, 0.0, 3.0]])
    np.testing.assert_allclose(gn.activations.tanh(x), np.tanh(x))
    np.testing.assert_allclose(gn.activations.sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-6)
    np.testing.assert_allclose(gn.activations.softmax(x).sum(), 1.0, rtol=1e-6)
    np.testing.assert_allclose(gn.activations.leaky_relu(x, negative_slope=0.1), [[-0.2, 0.0, 3.0]], rtol=1e-6)
    np.testing.assert_allclose(gn.activations.elu(x), [[np.expm1(-2.0), 0.0, 3.0]], rtol=1e-6)
    np.testing.assert_array_equal(gn.activations.linear(x), x)
    # Keras' relu arguments: a threshold, a cap and a slope below the threshold.
    x = np.array([[-2.0, -0.5, 0.0, 0.5, 1.0, 3.0, 8.0]], dtype="float32")
    np.testing.assert_array_equal(gn.activations.relu(x, max_value=6.0), [[0, 0, 0, 0.5, 1, 3, 6]])
    np.testing.assert_array_equal(gn.activations.relu(x, threshold=1.0), [[0, 0, 0, 0, 0, 3, 8]])
    np.testing.assert_array_equal(gn.activations.relu(x, negative_slope=0.5), [[-1, -0.25, 0, 0.5, 1, 3, 8]])
    np.testing.assert_array_equal(gn.activations.relu(x, negative_slope=0.5, max_value=6.0, threshold=1.0),
                                  [[-1.5, -0.75, -0.5, -0.25, 0, 3, 6]])
    assert gn.activations.relu(x, max_value=6.0).dtype == np.float32
    dense = layers.Dense(3, activation=gn.activations.relu)
    assert type(dense.activation) is gn.activations.ReLU
    assert dense.get_config()["activation"] == "relu"
    with pytest.raises(TypeError, match="has no backward"):
        layers.Dense(3, activation=lambda t: t)


def test_metric_functions_are_per_sample_and_usable_in_compile(data, tmp_path):
    y_pred = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    np.testing.assert_array_equal(gn.metrics.categorical_accuracy([[1, 0], [0, 1], [0, 1]], y_pred), [1, 1, 0])
    np.testing.assert_array_equal(gn.metrics.sparse_categorical_accuracy([0, 1, 1], y_pred), [1, 1, 0])
    np.testing.assert_array_equal(gn.metrics.accuracy([0, 1, 1], y_pred), [1, 1, 0])
    np.testing.assert_array_equal(gn.metrics.binary_accuracy([[1], [0]], [[0.7], [0.7]]), [1, 0])
    np.testing.assert_array_equal(gn.metrics.binary_accuracy([[1], [0]], [[0.7], [0.7]], threshold=0.8), [0, 1])
    np.testing.assert_allclose(gn.metrics.mae([[1.0, 2.0]], [[2.0, 4.0]]), [1.5])
    np.testing.assert_allclose(gn.metrics.mse([[1.0, 2.0]], [[2.0, 4.0]]), [2.5])

    def rmse(y_true, y_pred):  # a metric of the user's own, as Keras takes it
        return np.sqrt(np.mean((y_true - y_pred) ** 2, axis=-1))

    x, y, y_one_hot = data
    model = _model()
    model.compile(optimizer="adam", loss="categorical_crossentropy",
                  metrics=[gn.metrics.categorical_accuracy, gn.metrics.mse, rmse])
    history = model.fit(x, y_one_hot, epochs=2, batch_size=32, validation_data=(x[:50], y_one_hot[:50]), verbose=0)
    assert {"categorical_accuracy", "mean_squared_error", "rmse", "val_categorical_accuracy",
            "val_rmse"} <= set(history.history)
    logs = model.evaluate(x, y_one_hot, verbose=0, return_dict=True)
    assert logs["categorical_accuracy"] == pytest.approx(np.mean(model.predict(x).argmax(1) == y))
    path = tmp_path / "m.glassnet"
    model.save(path)
    loaded = gn.load_model(path, custom_objects={"rmse": rmse})
    assert loaded.evaluate(x, y_one_hot, verbose=0, return_dict=True) == logs


def test_input_dim_is_input_shape():
    dense = layers.Dense(8, input_dim=4)
    assert dense.input_shape == (None, 4) and dense.get_config()["input_shape"] == [4]
    model = gn.Sequential(seed=0)  # a first layer written Keras' way, functional activations too
    model.add(dense)
    model.add(layers.Dense(2, activation=gn.activations.softmax))
    assert model.built and model.output_shape == (None, 2)
    twin = gn.Sequential([layers.Dense(8, input_shape=(4,)), layers.Dense(2, activation="softmax")], seed=0)
    x = np.ones((3, 4), dtype="float32")
    np.testing.assert_array_equal(model.predict(x, verbose=0), twin.predict(x, verbose=0))
    with pytest.raises(ValueError, match="input_shape or input_dim, not both"):
        layers.Dense(8, input_dim=4, input_shape=(4,))


def test_acc_spelling_logs_acc_and_monitors_accept_both_spellings(data, tmp_path):
    x, y, _ = data
    model = _model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["acc"])
    stop = gn.callbacks.EarlyStopping(monitor="val_accuracy", patience=1, mode="max")
    best = tmp_path / "best.glassnet"
    checkpoint = gn.callbacks.ModelCheckpoint(str(best), monitor="val_accuracy", save_best_only=True)
    plateau = gn.callbacks.ReduceLROnPlateau(monitor="val_accuracy", patience=1)
    history = model.fit(x, y, epochs=4, validation_split=0.25, verbose=0, callbacks=[stop, checkpoint, plateau])
    assert {"acc", "val_acc"} <= set(history.history) and "val_accuracy" not in history.history
    assert best.exists() and stop.best == max(history.history["val_acc"])

    model = _model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    stop = gn.callbacks.EarlyStopping(monitor="val_acc", patience=1)
    assert stop.mode == "max"
    history = model.fit(x, y, epochs=3, validation_split=0.25, verbose=0, callbacks=[stop])
    assert stop.best == max(history.history["val_accuracy"])


def test_tuner_objective_accepts_the_other_accuracy_spelling(data):
    x, y, _ = data

    def build(hp):
        model = _model()
        model.compile(optimizer=gn.optimizers.Adam(hp.Float("lr", 1e-3, 1e-2, log=True)),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    tuner = gn.tuning.Tuner(build, objective="val_acc", max_trials=1, seed=0, verbose=0)
    tuner.search(x, y, epochs=1, validation_split=0.25)
    assert 0.0 <= tuner.best_value <= 1.0


def test_callback_with_the_old_batch_hooks_records_every_batch(data):
    x, y, _ = data

    class LossPerBatch(gn.callbacks.Callback):  # written for Keras' on_batch_end
        def on_train_begin(self, logs=None):
            self.began, self.losses = [], []

        def on_batch_begin(self, batch, logs=None):
            self.began.append(batch)

        def on_batch_end(self, batch, logs=None):
            self.losses.append(logs["loss"])

    record = LossPerBatch()
    seen = []
    model = _model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, batch_size=50, verbose=0,
              callbacks=[record, gn.callbacks.LambdaCallback(on_batch_end=lambda batch, logs: seen.append(batch))])
    assert record.began == seen == [0, 1, 2, 3] * 2
    assert len(record.losses) == 8 and all(np.isfinite(record.losses))


def test_evaluate_prints_its_result_line_by_default(data, capsys):
    x, y, _ = data
    model = _model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    loss, accuracy = model.evaluate(x, y)
    assert capsys.readouterr().out.strip().endswith(f"loss: {loss:.4f} - accuracy: {accuracy:.4f}")
    model.evaluate(x, y, verbose=0)
    assert capsys.readouterr().out == ""


def test_porting_model_api_pop_weights_get_layer(data):
    x, y, _ = data
    model = gn.Sequential([layers.Dense(16, activation="relu", input_shape=(4,), name="hidden"),
                           layers.BatchNormalization(), layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    hidden = model.get_layer("hidden")
    assert hidden is model.get_layer(index=0)
    kernel, bias = hidden.weights
    assert kernel.shape == (4, 16) and bias.shape == (16,)
    kernel[...] = 0.5  # the arrays themselves, as Keras' variables: writing changes the layer
    np.testing.assert_array_equal(hidden.get_weights()[0], np.full((4, 16), 0.5))
    norm = model.layers[1]
    assert len(norm.weights) == 4 and len(norm.trainable_weights) == 2 and len(norm.non_trainable_weights) == 2
    assert len(model.weights) == 8 and len(model.trainable_weights) == 6
    norm.trainable = False
    assert len(model.trainable_weights) == 4 and len(model.non_trainable_weights) == 4
    assert [w.shape for w in model.weights] == [w.shape for w in model.get_weights()]

    # Transfer learning, Keras' way: drop the head, add a new one, train again.
    removed = model.pop()
    assert removed.units == 2 and model.output_shape == (None, 16)
    model.add(layers.Dense(3, activation="softmax"))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    assert model.predict(x[:5], verbose=0).shape == (5, 3)


def test_weights_of_a_graph_with_a_nested_model_follow_get_weights():
    inputs = gn.Input(shape=(4,))
    encoder = gn.Sequential([layers.Dense(3, input_shape=(4,)), layers.BatchNormalization()])
    outputs = layers.Dense(2, activation="softmax", name="head")(encoder(inputs))
    model = gn.Model(inputs, outputs)
    assert [w.shape for w in model.weights] == [w.shape for w in model.get_weights()]
    assert len(model.trainable_weights) == 6 and len(model.non_trainable_weights) == 2
    assert model.get_layer("head").weights[0].shape == (3, 2)
    encoder.trainable = False  # frozen, as in Keras' transfer learning: its weights stop training
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 6


def test_mse_and_mae_are_one_function_for_losses_and_metrics(data):
    x, _, y_one_hot = data
    assert gn.metrics.mse is gn.losses.mse is gn.losses.mean_squared_error
    model = _model()
    model.compile(optimizer="adam", loss=gn.metrics.mae, metrics=[gn.losses.mse])
    history = model.fit(x, y_one_hot, epochs=1, verbose=0)
    assert type(model.loss) is gn.losses.MeanAbsoluteError and "mean_squared_error" in history.history


def test_batch_logs_are_running_means_of_the_loss_and_every_metric():
    # Keras hands on_train_batch_end the epoch's running means, metrics included.
    class Recorder(gn.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.batches = []

        def on_train_batch_end(self, batch, logs=None):
            self.batches.append(dict(logs))

    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)).astype("float32")
    y = (x[:, 0] > 0).astype("float32")
    model = gn.Sequential([gn.layers.Dense(1, activation="sigmoid", input_shape=(3,))], seed=0)
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    recorder = Recorder()
    history = model.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0, callbacks=[recorder])
    assert [sorted(logs) for logs in recorder.batches] == [["accuracy", "loss"]] * 3
    assert recorder.batches[-1]["loss"] == pytest.approx(history.history["loss"][0], rel=1e-12)
    assert recorder.batches[-1]["accuracy"] == history.history["accuracy"][0]
    # The first batch's figures are that batch's alone: the weights before the first step.
    first = gn.Sequential([gn.layers.Dense(1, activation="sigmoid", input_shape=(3,))], seed=0)
    first.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    loss, accuracy = first.evaluate(x[:16], y[:16], verbose=0)
    assert recorder.batches[0] == pytest.approx({"loss": loss, "accuracy": accuracy}, rel=1e-6)
    # glassnet's exact AUC re-sorts every score seen: it stays out of the batch logs (an epoch
    # would grow quadratic in its batches) and is in the epoch's.
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy", gn.metrics.AUC(name="auc")])
    history = model.fit(x, y, epochs=1, batch_size=16, verbose=0, callbacks=[recorder])
    assert sorted(recorder.batches[-1]) == ["accuracy", "loss"] and "auc" in history.history


def test_evaluate_predict_and_fit_validation_call_the_test_and_predict_hooks():
    class Recorder(gn.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.calls = []

        def on_test_begin(self, logs=None):
            self.calls.append("test_begin")

        def on_test_batch_end(self, batch, logs=None):
            self.calls.append(("test_batch", batch, sorted(logs)))

        def on_test_end(self, logs=None):
            self.calls.append(("test_end", sorted(logs)))

        def on_predict_begin(self, logs=None):
            self.calls.append("predict_begin")

        def on_predict_batch_end(self, batch, logs=None):
            self.calls.append(("predict_batch", batch, logs["outputs"].shape))

        def on_predict_end(self, logs=None):
            self.calls.append("predict_end")

        def on_epoch_end(self, epoch, logs=None):
            self.calls.append("epoch_end")

    rng = np.random.default_rng(0)
    x = rng.normal(size=(10, 3)).astype("float32")
    y = rng.integers(0, 2, size=10)
    model = gn.Sequential([gn.layers.Dense(2, activation="softmax", input_shape=(3,))], seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    recorder = Recorder()
    loss, accuracy = model.evaluate(x, y, batch_size=4, verbose=0, callbacks=[recorder])
    keys = ["accuracy", "loss"]
    assert recorder.calls == ["test_begin", ("test_batch", 0, keys), ("test_batch", 1, keys),
                              ("test_batch", 2, keys), ("test_end", keys)]
    assert recorder.model is model

    recorder.calls = []
    outputs = model.predict(x, batch_size=6, callbacks=[recorder])
    assert outputs.shape == (10, 2)
    assert recorder.calls == ["predict_begin", ("predict_batch", 0, (6, 2)), ("predict_batch", 1, (4, 2)),
                              "predict_end"]

    recorder.calls = []  # fit's validation pass calls the test hooks of fit's callbacks, as Keras'
    model.fit(x, y, epochs=1, validation_data=(x, y), verbose=0, callbacks=[recorder])
    assert recorder.calls == ["test_begin", ("test_batch", 0, keys), ("test_end", keys), "epoch_end"]


def test_a_callback_without_the_newer_hooks_still_works():
    class Plain:  # not a gn.callbacks.Callback subclass: only the hooks it uses
        def set_model(self, model):
            self.model = model

        def on_epoch_end(self, epoch, logs=None):
            self.last = logs["loss"]

    model = gn.Sequential([gn.layers.Dense(1, input_shape=(2,))], seed=0)
    model.compile(optimizer="sgd", loss="mse")
    plain = Plain()
    x, y = np.ones((4, 2), "float32"), np.ones((4, 1), "float32")
    model.evaluate(x, y, verbose=0, callbacks=[plain])
    model.predict(x, callbacks=[plain])
    model.fit(x, y, epochs=1, validation_data=(x, y), verbose=0, callbacks=[plain])
    assert plain.last == model.history.history["loss"][0]
