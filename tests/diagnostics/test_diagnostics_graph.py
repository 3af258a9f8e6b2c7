"""Diagnostics on graph models (gn.Model): per layer call, per output, in graph order."""

import numpy as np

import glassnet as gn
from glassnet import layers
from glassnet.diagnostics import Diagnostics


def two_inputs(n=240, seed=0):
    """A table and a signal: the class shows in both; "days" follows the signal."""
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], n // 2).astype("float32")[:, None]
    table = rng.normal(size=(n, 4)).astype("float32") + (y * 2 - 1) * 1.5
    signal = rng.normal(size=(n, 3)).astype("float32") + (y * 2 - 1)
    return table, signal, y, signal.sum(axis=1, keepdims=True)


def two_input_model(dead_bias):
    table, signal = gn.Input((4,), name="table"), gn.Input((3,), name="signal")
    t = layers.Dense(8, activation="relu", name="table_relu",
                     bias_initializer=gn.initializers.Constant(dead_bias))(table)
    s = layers.Dense(8, activation="relu", name="signal_relu")(signal)
    h = layers.Concatenate(name="joined")([t, s])
    risk = layers.Dense(1, activation="sigmoid", name="risk")(h)
    days = layers.Dense(1, name="days")(h)
    model = gn.Model([table, signal], [risk, days], seed=0)
    model.compile(optimizer=gn.optimizers.Adam(0.01), loss={"risk": "binary_crossentropy", "days": "mse"},
                  loss_weights={"risk": 1.0, "days": 0.1})
    return model


def test_a_dead_relu_layer_of_a_two_input_graph_is_named(capsys):
    table, signal, y, days = two_inputs()
    model = two_input_model(dead_bias=-100.0)
    model.fit({"table": table, "signal": signal}, {"risk": y, "days": days}, epochs=3, validation_split=0.25,
              verbose=0, diagnose=True)
    assert model.diagnostics.kinds == ["dead_relu"]
    assert model.diagnostics.findings[0].evidence["dead_share"] == {"table_relu": 1.0}
    assert "100% of the units in table_relu" in capsys.readouterr().out
    stats = model.diagnostics.to_dataframe()
    assert stats["dead_share/signal_relu"].iloc[-1] < 0.3  # the other branch lives
    # each output's loss, as History logs it, and the activations of every call
    assert np.allclose(stats["loss/days"], model.history.history["days_loss"])
    assert np.allclose(stats["val_loss/risk"], model.history.history["val_risk_loss"])
    assert {"grad_rms/table_relu", "grad_rms/risk", "grad_rms/days", "saturated_share/risk"} <= set(stats.columns)


def test_a_healthy_two_input_graph_watched_by_hand_raises_nothing():
    table, signal, y, days = two_inputs()
    model = two_input_model(dead_bias=0.0)
    x, targets = [table, signal], {"risk": y, "days": days}
    watcher = Diagnostics(x, targets, validation_data=(x, targets), print_fn=None)
    model.fit(x, targets, epochs=4, verbose=0, callbacks=[watcher])
    assert watcher.findings == []
    assert len(watcher.epochs) == 4


def test_a_residual_graph_is_watched_through_the_add_and_a_shared_layer():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 6)).astype("float32")
    y = (x[:, :3].sum(axis=1) > 0).astype("float32")[:, None]
    inputs = gn.Input((6,), name="x")
    h = layers.Dense(16, activation="relu", name="h")(inputs)
    block = layers.Dense(16, activation="relu", name="block")
    r = layers.Add(name="residual")([h, block(block(h))])  # block called twice: a shared layer
    r = layers.Activation("relu", name="residual_relu")(r)
    out = layers.Dense(1, activation="sigmoid", name="out")(r)
    model = gn.Model(inputs, out, seed=0)
    model.compile(optimizer=gn.optimizers.Adam(0.01), loss="binary_crossentropy")
    model.fit(x, y, epochs=3, validation_split=0.25, verbose=0, diagnose=True)
    stats = model.diagnostics.to_dataframe()
    assert {"dead_share/block", "dead_share/block[1]", "dead_share/residual_relu", "grad_rms/h", "grad_rms/out"} <= set(
        stats.columns)
    assert not any(c.startswith("loss/") for c in stats.columns)  # one output: the loss is its loss
    assert model.diagnostics.findings == []
