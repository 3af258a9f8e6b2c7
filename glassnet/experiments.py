"""The course's experiments, automated: a learning-rate sweep and a capacity search.

Both train several small models the same way and return what they saw as a table, so the
comparison a learner would make by hand (which rate? how big a network?) is one call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from glassnet import callbacks as callbacks_module
from glassnet import layers as layers_module
from glassnet import losses as losses_module
from glassnet import optimizers as optimizers_module
from glassnet._registry import lookup


@dataclass
class SweepResult:
    """What ``learning_rate_sweep`` found.

    Attributes:
        table: a DataFrame, one row per rate: final and best training loss (and validation
            loss when given), whether training diverged, epochs run.
        histories: rate -> the run's ``History``.
        best_rate: the rate with the lowest final loss (validation loss when available) among
            runs that did not diverge, or None when all diverged.
        figure: the loss curves on one plot (None with ``plot=False``).
    """

    table: object
    histories: dict
    best_rate: float | None
    figure: object = None


def learning_rate_sweep(build_fn, x, y, rates=(1e-3, 1e-2, 1e-1, 1.0), optimizer="sgd", *, loss=None,
                        metrics=None, epochs: int = 20, batch_size: int = 32, validation_data=None,
                        validation_split: float = 0.0, plot: bool = True, ax=None,
                        verbose: int = 0) -> SweepResult:
    """Train one fresh model per learning rate and compare the loss curves.

    Args:
        build_fn: a function of no arguments returning a new model, compiled or not (the same
            seed each time, so the runs differ only in the rate).
        x, y: the training data.
        rates: the learning rates to try.
        optimizer: an optimizer name ("sgd", "adam") or an Optimizer whose configuration (other
            than the rate) every run copies.
        loss, metrics: used to compile; default to those the built model was compiled with.
        epochs, batch_size, validation_data, validation_split: passed to ``fit``.
        plot: draw every run's training loss per epoch on one log-scale plot.
        ax: the matplotlib Axes to draw on.
        verbose: 1 prints one line per rate.

    Returns:
        SweepResult: ``table``, ``histories``, ``best_rate``, ``figure``. A run whose loss
        overflows or becomes NaN is stopped and marked ``diverged``; that is a result here.

    Example:
        >>> import numpy as np, glassnet as gn
        >>> x = np.linspace(-1, 1, 64).reshape(-1, 1); y = 3 * x
        >>> build = lambda: gn.Sequential([gn.layers.Dense(1, input_shape=(1,))], seed=0)
        >>> result = gn.experiments.learning_rate_sweep(build, x, y, rates=[0.01, 0.3], loss="mse",
        ...                                             epochs=5, plot=False)
        >>> result.best_rate
        0.3
    """
    import pandas as pd

    if not rates:
        raise ValueError("rates is empty; give the learning rates to try, e.g. [0.001, 0.01, 0.1].")
    rows, histories = [], {}
    for rate in rates:
        model = build_fn()
        run_loss, run_metrics = _compile_settings(model, loss, metrics)
        model.compile(optimizer=_optimizer_with_rate(optimizer, rate), loss=run_loss, metrics=run_metrics)
        # A too-large rate overflowing is an expected outcome of a sweep, not an error.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            history = model.fit(x, y, epochs=epochs, batch_size=batch_size, validation_data=validation_data,
                                validation_split=validation_split, verbose=0)
        losses = history.history["loss"]
        diverged = len(losses) < epochs or not np.isfinite(losses[-1]) or losses[-1] > 10 * losses[0]
        finite = [v for v in losses if np.isfinite(v)]
        row = {"learning_rate": rate, "final_loss": losses[-1], "best_loss": min(finite, default=float("nan")),
               "diverged": bool(diverged), "epochs": len(losses)}
        if "val_loss" in history.history:
            row["final_val_loss"] = history.history["val_loss"][-1]
        rows.append(row)
        histories[rate] = history
        if verbose:
            print(f"learning rate {rate:g}: final loss {losses[-1]:.4g}" + (" (diverged)" if diverged else ""))
    table = pd.DataFrame(rows).set_index("learning_rate")
    key = "final_val_loss" if "final_val_loss" in table else "final_loss"
    usable = table[~table["diverged"]]
    best = float(usable[key].idxmin()) if len(usable) else None
    figure = _plot_sweep(histories, ax) if plot else None
    return SweepResult(table, histories, best, figure)


def _compile_settings(model, loss, metrics):
    if loss is None:
        if not model.compiled:
            raise ValueError("build_fn returned an uncompiled model; pass loss=... (and metrics=...) to the sweep.")
        loss = type(model.loss).from_config(model.loss.get_config())
    if metrics is None and model.compiled:
        metrics = [type(m).from_config(m.get_config()) for m in model.metrics]
    return loss, metrics


def _optimizer_with_rate(optimizer, rate: float):
    if isinstance(optimizer, optimizers_module.Optimizer):
        config = optimizer.get_config()
        config["learning_rate"] = rate
        return type(optimizer).from_config(config)
    return lookup("optimizer", optimizer)(learning_rate=rate)


def _plot_sweep(histories, ax):
    import matplotlib.pyplot as plt

    fig, ax = (plt.subplots(figsize=(6, 4)) if ax is None else (ax.figure, ax))
    for rate, history in histories.items():
        losses = np.asarray(history.history["loss"], dtype=np.float64)
        shown = np.where(np.isfinite(losses), losses, np.nan)
        ax.plot(np.arange(1, losses.size + 1), shown, marker=".", label=f"lr {rate:g}")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    ax.set_title("learning-rate sweep")
    ax.legend()
    fig.tight_layout()
    return fig


# -- capacity search ------------------------------------------------------------------------------------
@dataclass
class CapacityResult:
    """What ``capacity_search`` found.

    Attributes:
        table: a DataFrame, one row per model tried, in order: ``step``, ``move`` ("start",
            "wider", "deeper"), ``hidden`` (units per hidden layer), ``params``, ``score``
            (the best validation loss of the run), ``accepted`` (it beat the best so far).
        best_model: the trained model with the best score.
        best_hidden: its hidden layer sizes.
    """

    table: object
    best_model: object
    best_hidden: list = field(default_factory=list)


def capacity_search(x, y, *, loss, output_units: int | None = None, output_activation=None,
                    start_units: int = 4, max_units: int = 256, max_layers: int = 4, activation="relu",
                    optimizer="adam", learning_rate: float = 0.01, epochs: int = 100, batch_size: int = 32,
                    patience: int = 10, validation_data=None, validation_split: float = 0.2,
                    min_improvement: float = 0.01, seed: int = 0, verbose: int = 0) -> CapacityResult:
    """Start small, then add units and layers while the validation loss improves.

    The course's workflow: one hidden layer of ``start_units``; double its width while the
    validation loss improves by more than ``min_improvement`` (relative), and step back to the
    last width that helped once it does not; then add layers of that width the same way. Each
    model trains with early stopping on the validation loss (its best weights kept), so the
    score is the best the model reached.

    Args:
        x, y: the data.
        loss: the loss name or object (decides the output layer when not given).
        output_units, output_activation: the output layer; by default 1 sigmoid unit for
            binary cross-entropy, one softmax unit per class for the categorical ones, and one
            linear unit per target column otherwise.
        start_units, max_units, max_layers: where the search starts and its limits.
        activation: the hidden layers' activation.
        optimizer, learning_rate: the optimizer name and rate for every run.
        epochs, batch_size, patience: training of each model (early stopping patience).
        validation_data / validation_split: what the score is measured on.
        min_improvement: the relative drop in validation loss that counts as better.
        seed: the seed of every model, so the runs differ only in their size.
        verbose: 1 prints a line per model.

    Returns:
        CapacityResult: ``table`` (the path taken), ``best_model``, ``best_hidden``.

    Example:
        >>> import numpy as np, glassnet as gn
        >>> x = np.random.default_rng(0).normal(size=(200, 2)); y = (x[:, 0] * x[:, 1] > 0).astype(int)
        >>> result = gn.experiments.capacity_search(x, y, loss="binary_crossentropy", epochs=20,
        ...                                         max_layers=2, max_units=16)
        >>> list(result.table.columns)
        ['step', 'move', 'hidden', 'params', 'score', 'accepted']
    """
    import pandas as pd

    from glassnet.models import Sequential

    loss_obj = losses_module.get(loss)
    units, out_act = _output_layer(loss_obj, y, output_units, output_activation)
    x = np.asarray(x)
    rows = []

    def train(hidden, move):
        model = Sequential([layers_module.Dense(h, activation=activation) for h in hidden]
                           + [layers_module.Dense(units, activation=out_act)], seed=seed)
        model.compile(optimizer=lookup("optimizer", optimizer)(learning_rate=learning_rate),
                      loss=type(loss_obj).from_config(loss_obj.get_config()))
        stop = callbacks_module.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)
        history = model.fit(x, y, epochs=epochs, batch_size=batch_size, validation_data=validation_data,
                            validation_split=validation_split,  # fit prefers validation_data when given
                            callbacks=[stop], verbose=0)
        score = float(np.min(history.history["val_loss"]))
        rows.append({"step": len(rows), "move": move, "hidden": list(hidden), "params": model.count_params(),
                     "score": score, "accepted": False})
        if verbose:
            print(f"{move:>6} {list(hidden)}: best validation loss {score:.4g}")
        return model, score

    def better(score, best):
        return score < best * (1 - min_improvement) if best > 0 else score < best

    hidden = [start_units]
    best_model, best = train(hidden, "start")
    rows[-1]["accepted"] = True
    for move in ("wider", "deeper"):
        while True:
            if move == "wider":
                if hidden[-1] * 2 > max_units:
                    break
                candidate = [h * 2 for h in hidden]
            else:
                if len(hidden) >= max_layers:
                    break
                candidate = hidden + [hidden[-1]]
            model, score = train(candidate, move)
            if not better(score, best):
                break  # step back: keep the last size that helped
            hidden, best_model, best = candidate, model, score
            rows[-1]["accepted"] = True
    return CapacityResult(pd.DataFrame(rows), best_model, list(hidden))


def _output_layer(loss, y, units, activation):
    """Output units and activation that fit ``loss`` and the targets ``y``."""
    y = np.asarray(y)
    if isinstance(loss, losses_module.BinaryCrossentropy):
        default = (1 if y.ndim == 1 else y.shape[1], "sigmoid")
    elif isinstance(loss, losses_module.SparseCategoricalCrossentropy):
        default = (int(y.max()) + 1, "softmax")
    elif isinstance(loss, losses_module.CategoricalCrossentropy):
        default = (y.shape[1], "softmax")
    else:
        default = (1 if y.ndim == 1 else y.shape[1], None)
    return (units or default[0]), (activation if activation is not None else default[1])
