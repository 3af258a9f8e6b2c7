"""Diagnostics: each problem provoked on purpose is named once; a healthy run raises none."""

import numpy as np
import pytest

import glassnet as gn
from glassnet import layers
from glassnet.diagnostics import Diagnostics


def _blobs(n, seed=0):
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], n // 2)
    x = rng.normal(size=(n, 4)).astype("float32") + (y[:, None] * 2.0 - 1.0) * 1.5
    return x, y


X, Y = _blobs(400)


def _classifier(first=None, optimizer=None):
    first = first or layers.Dense(16, activation="relu", input_shape=(4,))
    model = gn.Sequential([first, layers.Dense(1, activation="sigmoid")], seed=0)
    model.compile(optimizer=optimizer or gn.optimizers.Adam(0.01), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


def test_healthy_run_raises_nothing(capsys):
    model = _classifier()
    history = model.fit(X, Y, epochs=15, validation_split=0.25, verbose=0, diagnose=True)
    assert model.diagnostics.findings == []
    assert history.history["val_accuracy"][-1] > 0.95
    assert "Diagnostics" not in capsys.readouterr().out
    stats = model.diagnostics.to_dataframe()
    assert len(stats) == 15 and "grad_rms/" + model.layers[0].name in stats.columns


def test_dead_relu_from_a_huge_negative_bias(capsys):
    first = layers.Dense(16, activation="relu", bias_initializer=gn.initializers.Constant(-100.0), input_shape=(4,))
    model = _classifier(first)
    model.fit(X, Y, epochs=4, validation_split=0.25, verbose=0, diagnose=True)
    assert model.diagnostics.kinds == ["dead_relu"]
    finding = model.diagnostics.findings[0]
    assert finding.epoch == 0 and finding.evidence["dead_share"] == {first.name: 1.0}
    out = capsys.readouterr().out
    assert out.count("dead relu") == 1  # once, not every epoch
    assert "100% of the units" in out and "LeakyReLU" in out


def test_vanishing_gradients_in_a_deep_sigmoid_stack():
    stack = [layers.Dense(16, activation="sigmoid", input_shape=(4,))]
    stack += [layers.Dense(16, activation="sigmoid") for _ in range(8)]
    model = gn.Sequential(stack + [layers.Dense(1, activation="sigmoid")], seed=0)
    model.compile(optimizer=gn.optimizers.SGD(0.1), loss="binary_crossentropy")
    model.fit(X, Y, epochs=2, verbose=0, diagnose=True)
    assert model.diagnostics.kinds == ["vanishing_gradients"]
    rms = model.diagnostics.findings[0].evidence["grad_rms"]
    first, last = rms[stack[0].name], rms[model.layers[-1].name]
    assert first / last < 1e-3


def test_huge_learning_rate_is_too_high_and_explodes():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3)).astype("float32")
    y = x @ np.array([[1.0], [2.0], [-1.0]], dtype="float32")
    model = gn.Sequential([layers.Dense(1, input_shape=(3,))], seed=0)
    model.compile(optimizer=gn.optimizers.SGD(1.2), loss="mse")
    history = model.fit(x, y, epochs=5, verbose=0, diagnose=True)
    assert history.history["loss"][-1] > 100 * history.history["loss"][0]
    assert model.diagnostics.kinds == ["learning_rate_too_high", "exploding_gradients"]
    assert model.diagnostics.findings[0].evidence["learning_rate"] == 1.2


def test_overfitting_on_a_tiny_training_set():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 30)).astype("float32")
    y = np.repeat([0, 1], 10)
    x[:, 0] += y - 0.5  # one weakly informative feature among 30 noise features
    x_val = rng.normal(size=(200, 30)).astype("float32")
    y_val = np.repeat([0, 1], 100)
    x_val[:, 0] += y_val - 0.5
    model = gn.Sequential([layers.Dense(64, activation="relu", input_shape=(30,)),
                           layers.Dense(1, activation="sigmoid")], seed=0)
    model.compile(optimizer=gn.optimizers.Adam(0.01), loss="binary_crossentropy")
    history = model.fit(x, y, epochs=30, batch_size=20, validation_data=(x_val, y_val), verbose=0, diagnose=True)
    assert model.diagnostics.kinds == ["overfitting"]
    finding = model.diagnostics.findings[0]
    best = finding.evidence["best_epoch"]
    val = history.history["val_loss"]
    assert val[best] == min(val[: finding.epoch + 1])
    assert finding.evidence["gap"] > 0


def test_a_near_perfect_fit_wobbling_in_mini_batches_is_not_a_too_high_learning_rate():
    """40 digits learnt by heart: the training loss falls from 2.3 to about 0.01 and then wobbles
    by tens of percent of itself (0.009, 0.006, 0.007, 0.010) from batch noise. That was reported
    as "learning rate too high ... the steps overshoot" beside the real finding, overfitting."""
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x = (x / 16).astype("float32")
    model = gn.Sequential([layers.Dense(256, activation="relu", input_shape=(64,)),
                           layers.Dense(10, activation="softmax")], seed=0)
    model.compile(optimizer=gn.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    history = model.fit(x[:40], y[:40], epochs=30, validation_data=(x[1000:1300], y[1000:1300]), verbose=0,
                        diagnose=True)
    assert history.history["loss"][-1] < 0.01 * history.history["loss"][0]
    assert model.diagnostics.kinds == ["overfitting"]


def test_validation_set_with_one_class():
    model = _classifier()
    model.fit(X, Y, epochs=1, validation_data=(X[Y == 1][:50], Y[Y == 1][:50]), verbose=0, diagnose=True)
    assert model.diagnostics.kinds == ["one_class_validation"]
    assert model.diagnostics.findings[0].epoch == -1


def test_class_balance_very_different_from_training():
    idx = np.r_[np.flatnonzero(Y == 1)[:90], np.flatnonzero(Y == 0)[:10]]
    model = _classifier()
    model.fit(X, Y, epochs=1, validation_data=(X[idx], Y[idx]), verbose=0, diagnose=True)
    assert model.diagnostics.kinds == ["class_balance_shift"]
    evidence = model.diagnostics.findings[0].evidence
    assert evidence["train_shares"] == [0.5, 0.5] and evidence["validation_shares"] == [0.1, 0.9]


def test_learning_rate_too_low():
    model = _classifier(layers.Dense(8, activation="relu", input_shape=(4,)), gn.optimizers.SGD(1e-5))
    model.fit(X, Y, epochs=4, verbose=0, diagnose=True)
    assert model.diagnostics.kinds == ["learning_rate_too_low"]


def test_underfitting_when_a_linear_model_meets_xor():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 2)).astype("float32")
    y = (x[:, 0] * x[:, 1] > 0).astype(int)
    model = gn.Sequential([layers.Dense(1, activation="sigmoid", input_shape=(2,))], seed=0)
    model.compile(optimizer=gn.optimizers.Adam(0.05), loss="binary_crossentropy")
    model.fit(x, y, epochs=8, verbose=0, diagnose=True)
    assert model.diagnostics.kinds == ["underfitting"]
    assert model.diagnostics.findings[0].evidence["losses"][-1] >= 0.9 * model.diagnostics.findings[0].evidence["baseline"]


def test_a_callback_without_data_still_watches_gradients_and_can_be_silent(capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    model = gn.Sequential([layers.Dense(1, input_shape=(3,))], seed=0)
    model.compile(optimizer=gn.optimizers.SGD(1.2), loss="mse")
    watcher = Diagnostics(print_fn=None)
    model.fit(x, y, epochs=4, verbose=0, callbacks=[watcher])
    assert "learning_rate_too_high" in watcher.kinds
    assert capsys.readouterr().out == ""
    assert "learning rate too high" in watcher.report()


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="both x and y"):
        Diagnostics(x=np.ones((2, 2)))
    with pytest.raises(ValueError, match="patience"):
        Diagnostics(patience=1)


@pytest.mark.parametrize("loss", [gn.losses.BinaryCrossentropy(), gn.losses.BinaryCrossentropy(from_logits=True)])
def test_constant_prediction_baseline_is_the_entropy_of_the_class_shares(loss):
    # Always predicting the 10 % share costs -(p log p + (1-p) log(1-p)) per sample, whether the
    # loss reads probabilities or logits.
    y = (np.arange(100) < 10).astype(float).reshape(-1, 1)
    model = gn.Sequential([gn.layers.Dense(1, input_shape=(3,))], seed=0)
    model.compile(loss=loss)
    diagnostics = Diagnostics(np.zeros((100, 3)), y)
    diagnostics.set_model(model)
    assert diagnostics._constant_loss(y) == pytest.approx(-(0.1 * np.log(0.1) + 0.9 * np.log(0.9)), rel=1e-12)


@pytest.mark.parametrize("steps", [6, None], ids=["fixed_length", "any_length"])
@pytest.mark.parametrize("loss", ["sparse_categorical_crossentropy", "categorical_crossentropy"])
def test_a_sequence_tagger_is_diagnosed_over_its_steps(loss, steps):
    """fit(diagnose=True) on per-step targets failed before training for every classifier: the
    baseline reshaped (N, T) labels to (T, C) ('cannot reshape array of size 6 into shape (6,3)'),
    the class check bincounted a 2-D array ('object too deep'), and gn.Input((None, D)) put None
    into a shape. The baseline is the entropy of the class shares over all steps."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 6, 2)).astype("float32")
    labels = np.where(rng.random((40, 6)) < 0.7, 0, rng.integers(1, 3, (40, 6)))
    y = labels if loss.startswith("sparse") else gn.utils.to_categorical(labels, 3)
    model = gn.Sequential([gn.Input((steps, 2)), layers.GRU(3, return_sequences=True),
                           layers.Dense(3, activation="softmax")], seed=0)
    model.compile("adam", loss)
    diagnostics = Diagnostics(x[:30], y[:30], validation_data=(x[30:], y[30:]), print_fn=None)
    model.fit(x[:30], y[:30], epochs=1, verbose=0, callbacks=[diagnostics])
    shares = np.bincount(labels[:30].reshape(-1), minlength=3) / labels[:30].size
    if loss.startswith("sparse"):  # one share per class, the same at every step
        assert diagnostics._baseline == pytest.approx(-(shares * np.log(shares)).sum(), rel=1e-6)
    assert np.isfinite(diagnostics._baseline)
    history = model.fit(x[:30], y[:30], epochs=1, verbose=0, validation_data=(x[30:], y[30:]), diagnose=True)
    assert np.isfinite(history.history["val_loss"][0])
