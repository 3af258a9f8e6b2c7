"""gn.experiments: the learning-rate sweep and the capacity search."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import glassnet as gn  # noqa: E402
from glassnet import layers  # noqa: E402

RNG = np.random.default_rng(0)
X = RNG.normal(size=(128, 3)).astype("float32")
Y = X @ np.array([[1.0], [2.0], [-1.0]], dtype="float32")


def _build():
    return gn.Sequential([layers.Dense(1, input_shape=(3,))], seed=0)


def test_sweep_trains_one_model_per_rate_and_flags_divergence(capsys):
    result = gn.experiments.learning_rate_sweep(_build, X, Y, rates=[1e-3, 0.1, 5.0], loss="mse",
                                                epochs=6, batch_size=32)
    table = result.table
    assert list(table.index) == [1e-3, 0.1, 5.0]
    assert list(table["diverged"]) == [False, False, True]
    assert result.best_rate == 0.1
    assert table.loc[0.1, "final_loss"] < table.loc[1e-3, "final_loss"]
    # Each run is exactly the model one would train by hand with that rate.
    model = _build()
    model.compile(optimizer=gn.optimizers.SGD(0.1), loss="mse")
    by_hand = model.fit(X, Y, epochs=6, batch_size=32, verbose=0)
    assert result.histories[0.1].history["loss"] == by_hand.history["loss"]
    lines = result.figure.axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["lr 0.001", "lr 0.1", "lr 5"]
    matplotlib.pyplot.close(result.figure)


def test_sweep_reuses_a_compiled_models_loss_and_an_optimizer_configuration():
    def build():
        model = _build()
        model.compile(optimizer="adam", loss="mae", metrics=["mse"])
        return model

    momentum = gn.optimizers.SGD(0.5, momentum=0.9)
    result = gn.experiments.learning_rate_sweep(build, X, Y, rates=[0.01], optimizer=momentum, epochs=2,
                                                validation_data=(X, Y), plot=False)
    assert result.figure is None and "final_val_loss" in result.table
    assert set(result.histories[0.01].history) >= {"loss", "mse", "val_loss"}
    with pytest.raises(ValueError, match="pass loss="):
        gn.experiments.learning_rate_sweep(_build, X, Y, rates=[0.1], epochs=1, plot=False)


def test_capacity_search_grows_while_validation_improves_and_steps_back():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype(int)  # XOR-like: one small layer cannot fit it
    result = gn.experiments.capacity_search(x, y, loss="binary_crossentropy", start_units=2, max_units=16,
                                            max_layers=2, epochs=30, patience=5)
    table = result.table
    assert list(table.columns) == ["step", "move", "hidden", "params", "score", "accepted"]
    assert table["move"].iloc[0] == "start" and table["hidden"].iloc[0] == [2]
    accepted = table[table["accepted"]]
    # Every accepted step beat the one before it; the best model is the last accepted one.
    assert (np.diff(accepted["score"]) < 0).all()
    assert result.best_hidden == accepted["hidden"].iloc[-1]
    assert len(result.best_model.layers) == len(result.best_hidden) + 1
    assert result.best_model.evaluate(x, y, return_dict=True)["loss"] < table["score"].iloc[0]
    # A rejected step ends its phase (the search steps back): no move of that kind follows it.
    for i, row in table.iterrows():
        if not row["accepted"]:
            assert row["move"] not in list(table["move"].iloc[i + 1:])
