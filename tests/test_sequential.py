"""The Keras workflow on Sequential: what a ported Keras tutorial relies on, call by call."""

import json
import re

import numpy as np
import pytest

import glassnet as gn
from glassnet import layers, parallel
from glassnet.models import memory


def _blobs(n=90, features=4, classes=3, seed=0):
    """Separable Gaussian blobs: x (n, features) float32, labels (n,) sorted by class."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(classes), n // classes)
    centers = rng.normal(scale=3.0, size=(classes, features))
    x = (centers[y] + rng.normal(size=(y.size, features))).astype("float32")
    return x, y


def _classifier(seed=0, optimizer="adam", hidden=16, dropout=0.0):
    stack = [layers.Dense(hidden, activation="relu", input_shape=(4,))]
    if dropout:
        stack.append(layers.Dropout(dropout))
    stack.append(layers.Dense(3, activation="softmax"))
    model = gn.Sequential(stack, seed=seed)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


# -- building ----------------------------------------------------------------------------------
def test_add_with_input_shape_builds_at_once():
    model = gn.Sequential()
    model.add(layers.Dense(8, activation="relu", input_shape=(4,)))
    assert model.built and model.output_shape == (None, 8)
    model.add(layers.Dense(3))
    assert model.output_shape == (None, 3)
    assert model.count_params() == 4 * 8 + 8 + 8 * 3 + 3


def test_input_layer_declares_the_shape():
    model = gn.Sequential([layers.Input((4,)), layers.Dense(2)])
    assert model.built and model.input_shape == (None, 4)
    assert model.count_params() == 4 * 2 + 2


def test_model_without_input_shape_builds_on_first_fit():
    x, y = _blobs()
    model = gn.Sequential([layers.Dense(8, activation="relu"), layers.Dense(3, activation="softmax")], seed=0)
    assert not model.built
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    assert model.built and model.input_shape == (None, 4)


# -- string identifiers, as Keras tutorials write them -----------------------------------------
@pytest.mark.parametrize("name, cls", [("adam", gn.optimizers.Adam), ("sgd", gn.optimizers.SGD),
                                       ("rmsprop", gn.optimizers.RMSprop)])
def test_optimizer_strings(name, cls):
    model = _classifier(optimizer=name)
    assert type(model.optimizer) is cls


@pytest.mark.parametrize("loss, activation, units, target", [
    ("mse", "linear", 1, "real"),
    ("mae", "linear", 1, "real"),
    ("sparse_categorical_crossentropy", "softmax", 3, "labels"),
    ("categorical_crossentropy", "softmax", 3, "onehot"),
    ("binary_crossentropy", "sigmoid", 1, "binary"),
])
def test_loss_strings_train(loss, activation, units, target):
    x, labels = _blobs()
    y = {"real": x[:, :1] * 0.5 - x[:, 1:2], "labels": labels, "onehot": gn.utils.to_categorical(labels, 3),
         "binary": (labels == 0).astype("float32")}[target]
    model = gn.Sequential([layers.Dense(16, activation="relu", input_shape=(4,)),
                           layers.Dense(units, activation=activation)], seed=0)
    model.compile(optimizer=gn.optimizers.Adam(learning_rate=0.01), loss=loss,
                  metrics=["accuracy"] if target != "real" else [])
    before = model.evaluate(x, y)
    before = before[0] if isinstance(before, list) else before
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.7 * before


def test_accuracy_string_picks_kind_from_targets():
    x, y = _blobs()
    model = _classifier()
    model.fit(x, y, epochs=30, batch_size=16, verbose=0)
    acc = model.evaluate(x, y, return_dict=True)["accuracy"]
    assert acc == np.mean(model.predict(x).argmax(axis=1) == y)
    assert acc > 0.9


def test_a_keras_tutorial_ports_by_changing_the_imports(monkeypatch):
    monkeypatch.setattr(gn.utils, "_DEFAULT_SEED", None)  # restored after the test
    gn.utils.set_random_seed(0)  # keras.utils.set_random_seed(0)
    x, labels = _blobs(n=120)
    y = (labels == 1).astype("float32")
    x_train, y_train, x_val, y_val = x[::2], y[::2], x[1::2], y[1::2]
    model = gn.Sequential()
    model.add(layers.Dense(16, activation="relu", input_shape=(4,)))
    model.add(layers.Dense(16, activation="relu"))
    model.add(layers.Dense(1, activation="sigmoid"))
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=40, batch_size=16, validation_data=(x_val, y_val),
                        verbose=0)
    assert set(history.history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    loss, acc = model.evaluate(x_val, y_val)
    assert acc > 0.9
    assert model.predict(x_val).shape == (60, 1)


# -- validation_data / History -----------------------------------------------------------------
def test_validation_data_is_evaluated_each_epoch():
    x, y = _blobs()
    x_val, y_val = _blobs(seed=1)
    model = _classifier()
    history = model.fit(x, y, epochs=4, verbose=0, validation_data=(x_val, y_val))
    assert model.history is history
    assert history.epoch == [0, 1, 2, 3]
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"}
    assert all(len(v) == 4 for v in history.history.values())
    val_loss, val_acc = model.evaluate(x_val, y_val)
    assert history.history["val_loss"][-1] == pytest.approx(val_loss, rel=1e-12)
    assert history.history["val_accuracy"][-1] == val_acc
    assert history.best_epoch == int(np.argmin(history.history["val_loss"]))


def test_best_epoch_uses_training_loss_without_validation():
    x, y = _blobs()
    history = _classifier().fit(x, y, epochs=5, verbose=0)
    assert "val_loss" not in history.history
    assert history.best_epoch == int(np.argmin(history.history["loss"]))


# -- verbose and log_every ---------------------------------------------------------------------
def _epoch_lines(text):
    return [int(m.group(1)) for m in re.finditer(r"^Epoch (\d+)/(\d+) - .*loss: ", text, re.MULTILINE)]


def test_verbose_0_prints_nothing(capsys):
    x, y = _blobs()
    _classifier().fit(x, y, epochs=3, verbose=0, validation_split=0.2)
    _classifier().evaluate(x, y, verbose=0)  # evaluate prints its line by default, as in Keras
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("verbose", [1, 2])
def test_verbose_prints_one_line_per_epoch(capsys, verbose):
    x, y = _blobs()
    _classifier().fit(x, y, epochs=3, verbose=verbose)
    out = capsys.readouterr().out
    assert _epoch_lines(out) == [1, 2, 3]
    # The first verbose fit of a process may also name a process-wide setting (models/memory.py,
    # parallel.py); every other line is an epoch line in Keras' format.
    notices = (memory.ANNOUNCEMENT, parallel.ANNOUNCEMENT.split("{n}")[0])
    for line in out.splitlines():
        if line.startswith("Epoch "):
            assert re.search(r"loss: \d\.\d{4} - accuracy: \d\.\d{4}", line)
        else:
            assert line.startswith(notices), line


@pytest.mark.parametrize("spelling", ["log_every", "print_every"])
def test_log_every_prints_every_n_epochs_and_the_last(capsys, spelling):
    x, y = _blobs()
    _classifier().fit(x, y, epochs=7, verbose=2, **{spelling: 3})
    assert _epoch_lines(capsys.readouterr().out) == [3, 6, 7]


def test_log_every_records_every_epoch_in_history(capsys):
    x, y = _blobs()
    history = _classifier().fit(x, y, epochs=7, verbose=2, log_every=3)
    assert len(history.history["loss"]) == 7


# -- summary -----------------------------------------------------------------------------------
def test_summary_before_any_data():
    model = gn.Sequential(name="mnist_mlp")
    model.add(layers.Dense(128, activation="relu", input_shape=(784,), name="hidden"))
    model.add(layers.Dropout(0.2, name="drop"))
    model.add(layers.Dense(10, activation="softmax", name="out"))
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert 'Model: "mnist_mlp"' in text
    assert re.search(r"hidden \(Dense\)\s+\(None, 128\)\s+100,480\n", text)
    assert re.search(r"drop \(Dropout\)\s+\(None, 128\)\s+0\n", text)
    assert re.search(r"out \(Dense\)\s+\(None, 10\)\s+1,290\n", text)
    total = 784 * 128 + 128 + 128 * 10 + 10
    assert f"Total params: {total:,}" in text and f"Trainable params: {total:,}" in text
    assert "Non-trainable params: 0" in text
    assert model.count_params() == total == 101_770


def test_summary_columns_widen_for_a_long_layer_name():
    # a name longer than its column's share of the line once ran into the output shape
    model = gn.Sequential([layers.Dense(3, input_shape=(2,), name="a_rather_long_dense_layer_name_here"),
                           layers.Dense(1, name="out")])
    lines = []
    model.summary(print_fn=lines.append)
    text = lines[0]
    assert re.search(r"a_rather_long_dense_layer_name_here \(Dense\) +\(None, 3\) +9\n", text)
    rules = [line for line in text.splitlines() if set(line) in ({"_"}, {"="})]
    rows = [line for line in text.splitlines() if "(Dense)" in line]
    assert max(len(r) for r in rows) <= len(rules[0]) and len({len(r) for r in rules}) == 1


def test_summary_of_unbuilt_model_says_so(capsys):
    gn.Sequential([layers.Dense(4, name="a"), layers.Dense(2, name="b")]).summary()
    out = capsys.readouterr().out
    assert re.search(r"a \(Dense\)\s+\?", out)
    assert "not built" in out and "input_shape" in out
    assert "Total params" not in out


# -- weights -----------------------------------------------------------------------------------
def test_get_and_set_weights():
    a, b = _classifier(seed=0), _classifier(seed=1)
    weights = a.get_weights()
    assert [w.shape for w in weights] == [(4, 16), (16,), (16, 3), (3,)]
    assert [w.dtype for w in weights] == [np.float32] * 4
    weights[0][...] = 123.0  # copies: editing them leaves the model alone
    assert not np.any(a.get_weights()[0] == 123.0)
    b.set_weights(a.get_weights())
    x, _ = _blobs()
    np.testing.assert_array_equal(b.predict(x), a.predict(x))
    with pytest.raises(ValueError, match="expects 4 arrays"):
        b.set_weights(a.get_weights()[:3])
    with pytest.raises(ValueError, match=r"shape \(4, 16\)"):
        b.set_weights([np.zeros((5, 16))] + a.get_weights()[1:])


# -- train_on_batch / predict / evaluate -------------------------------------------------------
def test_train_on_batch_returns_the_batch_loss_and_metrics_then_steps():
    x, y = _blobs()
    model = _classifier()
    loss_before, acc_before = model.evaluate(x[:16], y[:16])
    weights_before = model.get_weights()
    loss, acc = model.train_on_batch(x[:16], y[:16])
    assert loss == pytest.approx(loss_before, rel=1e-6)  # loss of the forward pass before the update
    assert acc == acc_before
    assert not np.array_equal(model.get_weights()[0], weights_before[0])
    logs = model.train_on_batch(x[:16], y[:16], return_dict=True)
    assert set(logs) == {"loss", "accuracy"} and logs["loss"] < loss


def test_predict_in_batches_equals_one_batch():
    x, _ = _blobs(n=300)
    model = _classifier()
    whole = model.predict(x, batch_size=300)
    batched = model.predict(x, batch_size=7)
    assert batched.shape == (300, 3) and batched.dtype == np.float32
    np.testing.assert_allclose(batched, whole, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(whole.sum(axis=1), 1.0, rtol=1e-6)


def test_evaluate_returns_float_list_or_dict():
    x, y = _blobs()
    model = _classifier()
    loss, acc = model.evaluate(x, y)
    assert isinstance(loss, float) and isinstance(acc, float)
    assert model.evaluate(x, y, return_dict=True) == {"loss": loss, "accuracy": acc}
    plain = gn.Sequential([layers.Dense(1, input_shape=(4,))], seed=0)
    plain.compile(optimizer="sgd", loss="mse")
    y_reg = x[:, :1]
    mse = plain.evaluate(x, y_reg)
    assert isinstance(mse, float)
    assert mse == pytest.approx(float(np.mean((plain.predict(x) - y_reg) ** 2)), rel=1e-6)


def test_evaluate_in_batches_equals_one_batch():
    x, y = _blobs(n=300)
    model = _classifier()
    np.testing.assert_allclose(model.evaluate(x, y, batch_size=7), model.evaluate(x, y, batch_size=300),
                               rtol=1e-6)


# -- validation_split --------------------------------------------------------------------------
def _balance(line, part):
    """{class: count} from the balance line's ``part`` section."""
    section = re.search(rf"{part} (\d+) samples \[([^\]]*)\]", line)
    counts = {int(c): int(n) for c, n in re.findall(r"(\d+): (\d+) \(", section.group(2))}
    assert sum(counts.values()) == int(section.group(1))
    return counts


@pytest.mark.parametrize("verbose", [1, 2])
def test_validation_split_is_stratified_and_says_so(capsys, verbose):
    # Labels sorted by class, 60/30/10: Keras' unshuffled tail split would validate on class 2 only.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(100, 4)).astype("float32")
    y = np.repeat([0, 1, 2], [60, 30, 10])
    _classifier().fit(x, y, epochs=1, verbose=verbose, validation_split=0.2)
    line = next(l for l in capsys.readouterr().out.splitlines() if l.startswith("training "))
    assert _balance(line, "training") == {0: 48, 1: 24, 2: 8}
    assert _balance(line, "validation") == {0: 12, 1: 6, 2: 2}
    assert "(60.0%)" in line and "(30.0%)" in line and "(10.0%)" in line


def test_validation_split_for_regression_is_shuffled_and_seeded():
    # A frozen model that always predicts 0: its losses are the mean of y² over each part.
    y = (np.arange(100, dtype="float32") / 100).reshape(-1, 1)
    x = np.ones((100, 1), dtype="float32")

    def split_losses(seed):
        model = gn.Sequential([layers.Dense(1, kernel_initializer="zeros", trainable=False, input_shape=(1,))],
                              seed=seed)
        model.compile(optimizer="sgd", loss="mse")
        h = model.fit(x, y, epochs=1, verbose=0, validation_split=0.2).history
        return h["loss"][0], h["val_loss"][0]

    loss, val_loss = split_losses(0)
    assert 80 * loss + 20 * val_loss == pytest.approx(float(np.sum(y.astype("float64") ** 2)), rel=1e-6)
    tail = float(np.mean(y[80:].astype("float64") ** 2))
    assert val_loss < 0.7 * tail  # not the last 20 samples
    assert split_losses(0) == (loss, val_loss)
    assert split_losses(1) != (loss, val_loss)


def test_validation_split_prints_nothing_at_verbose_0(capsys):
    x, y = _blobs()
    _classifier().fit(x, y, epochs=1, verbose=0, validation_split=0.3)
    assert capsys.readouterr().out == ""


# -- sample_weight / class_weight --------------------------------------------------------------
def _fit_weights(x, y, seed=0, **fit_kwargs):
    model = _classifier(seed=seed, optimizer=gn.optimizers.SGD(learning_rate=0.1))
    model.fit(x, y, epochs=3, batch_size=16, verbose=0, **fit_kwargs)
    return model.get_weights()


def test_zero_sample_weight_samples_have_no_effect():
    x, y = _blobs()
    w = np.where(np.arange(y.size) % 3 == 0, 0.0, 1.0)
    relabelled = np.where(w == 0, (y + 1) % 3, y)  # change every zero-weight label
    a = _fit_weights(x, y, sample_weight=w)
    b = _fit_weights(x, relabelled, sample_weight=w)
    for wa, wb in zip(a, b):
        np.testing.assert_array_equal(wa, wb)
    c = _fit_weights(x, relabelled)  # without the weights the changed labels do matter
    assert not np.array_equal(a[0], c[0])


def test_sample_weight_scales_the_gradient():
    x, y = _blobs()
    model = _classifier(optimizer=gn.optimizers.SGD(learning_rate=0.1))
    twin = _classifier(optimizer=gn.optimizers.SGD(learning_rate=0.2))
    model.train_on_batch(x, y, sample_weight=np.full(y.size, 2.0))
    twin.train_on_batch(x, y)
    for a, b in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_class_weight_equals_the_matching_sample_weight():
    x, y = _blobs()
    class_weight = {0: 3.0, 1: 1.0, 2: 0.5}
    a = _fit_weights(x, y, class_weight=class_weight)
    b = _fit_weights(x, y, sample_weight=np.array([class_weight[c] for c in y]))
    for wa, wb in zip(a, b):
        np.testing.assert_array_equal(wa, wb)
    assert not np.array_equal(a[0], _fit_weights(x, y)[0])


def test_class_weight_zero_ignores_that_class():
    x, y = _blobs()
    a = _fit_weights(x, y, class_weight={0: 1.0, 1: 1.0, 2: 0.0})
    b = _fit_weights(x, np.where(y == 2, 0, y), class_weight={0: 1.0, 1: 1.0, 2: 0.0},
                     sample_weight=np.where(y == 2, 0.0, 1.0))
    for wa, wb in zip(a, b):
        np.testing.assert_array_equal(wa, wb)


# -- initial_epoch / shuffle -------------------------------------------------------------------
def test_initial_epoch_resumes_the_uninterrupted_run():
    x, y = _blobs()
    whole = _classifier(dropout=0.3)
    whole.fit(x, y, epochs=5, batch_size=16, verbose=0)
    resumed = _classifier(dropout=0.3)
    resumed.fit(x, y, epochs=3, batch_size=16, verbose=0)
    history = resumed.fit(x, y, epochs=5, initial_epoch=3, batch_size=16, verbose=0)
    assert history.epoch == [3, 4]
    for a, b in zip(whole.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_initial_epoch_numbers_the_printed_epochs(capsys):
    x, y = _blobs()
    _classifier().fit(x, y, epochs=5, initial_epoch=3, verbose=2)
    assert _epoch_lines(capsys.readouterr().out) == [4, 5]


def test_shuffle_false_trains_on_batches_in_order():
    x, y = _blobs()
    fitted = _classifier()
    fitted.fit(x, y, epochs=2, batch_size=32, shuffle=False, verbose=0)
    by_hand = _classifier()
    for _ in range(2):
        for start in range(0, len(x), 32):
            by_hand.train_on_batch(x[start:start + 32], y[start:start + 32])
    for a, b in zip(fitted.get_weights(), by_hand.get_weights()):
        np.testing.assert_array_equal(a, b)
    shuffled = _classifier()
    shuffled.fit(x, y, epochs=2, batch_size=32, verbose=0)  # shuffle=True is the default
    assert not np.array_equal(shuffled.get_weights()[0], fitted.get_weights()[0])


# -- config ------------------------------------------------------------------------------------
def test_config_round_trips_through_json():
    model = gn.Sequential([layers.Input((4,)),
                           layers.Dense(16, activation="relu", kernel_regularizer=gn.regularizers.L2(1e-4)),
                           layers.Dropout(0.25),
                           layers.Dense(3, activation="softmax")], name="clf", seed=7)
    model.compile(optimizer=gn.optimizers.Adam(learning_rate=0.01, decay=1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    config = json.loads(json.dumps(model.get_config()))
    clone = gn.Sequential.from_config(config)
    assert clone.get_config() == model.get_config()
    assert clone.name == "clf" and clone.seed == 7
    assert [type(layer) for layer in clone.layers] == [type(layer) for layer in model.layers]
    # the same seed draws the same initial weights
    for a, b in zip(model.get_weights(), clone.get_weights()):
        np.testing.assert_array_equal(a, b)
    compile_config = json.loads(json.dumps(model.get_compile_config()))
    clone.compile_from_config(compile_config)
    assert clone.get_compile_config() == model.get_compile_config()
    x, y = _blobs()
    model.fit(x, y, epochs=2, verbose=0)
    clone.fit(x, y, epochs=2, verbose=0)
    for a, b in zip(model.get_weights(), clone.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_layer_returning_several_tensors_must_be_last():
    # predict used to fail deep in parallel.matmul ("'list' object has no attribute 'ndim'").
    with pytest.raises(ValueError, match=r"'lstm_states'.*returns several tensors.*gn\.Model.*return_state=True\)\(x\)"
                                         r" \(out, h, c for an LSTM\)"):
        gn.Sequential([gn.layers.LSTM(4, return_state=True, input_shape=(5, 3), name="lstm_states"),
                       gn.layers.Dense(1)])
    # As the last layer it stays valid (its ONNX export handles that case).
    model = gn.Sequential([gn.layers.LSTM(4, return_state=True, input_shape=(5, 3))])
    out, h, c = model.predict(np.ones((2, 5, 3), np.float32), verbose=0)
    assert out.shape == h.shape == c.shape == (2, 4)
    with pytest.raises(ValueError, match=r"merge_mode=None.*forward, backward = Bidirectional"):
        gn.Sequential([gn.layers.Bidirectional(gn.layers.GRU(2), merge_mode=None, input_shape=(5, 3)),
                       gn.layers.Dense(1)])
