"""Pruning: the callback that reports each epoch's score to an Optuna trial, and the pruners.

A pruner (Hyperband, successive halving, median) compares a trial's score at epoch k with what
other trials reached at epoch k and stops the unpromising ones early, so a search spends its
epochs on configurations that may win.
"""

from __future__ import annotations

import math

import numpy as np
import optuna

from glassnet.callbacks.callback import Callback
from glassnet.callbacks.monitor import logged_key
from glassnet.tuning.errors import ObjectiveNotReportedError


def missing_objective_message(objective: str, logs: dict) -> str:
    names = ", ".join(sorted(logs)) or "nothing"
    hint = ""
    if objective.startswith("val_") and not any(k.startswith("val_") for k in logs):
        hint = " There are no val_ values: give validation_split, validation_data or cv."
    elif objective.removeprefix("val_") not in logs and objective != "loss":
        hint = f" Compile the model with metrics=[{objective.removeprefix('val_')!r}] or choose one of these."
    return f"The objective {objective!r} is not reported by the model; it reports: {names}.{hint}"


class TrialPruningCallback(Callback):
    """Report ``monitor`` to an Optuna trial after every epoch; stop the trial when pruned.

    Raises ``optuna.TrialPruned`` out of ``fit`` when the study's pruner says the trial is
    unpromising. Also keeps the best epoch's value (and, with ``keep_best_weights``, its weights)
    for the tuner; give it to ``BackupAndRestore(..., callbacks=[this])`` and a resumed ``fit``
    keeps them too.

    Args:
        trial: the ``optuna.Trial`` to report to (None: only track the best epoch).
        monitor: the log key to report, e.g. "val_accuracy".
        direction: "maximize" or "minimize", to know which epoch is best.
        keep_best_weights: copy the weights whenever the monitored value improves.
        reported_steps: epochs this trial already reported (a retried trial inherits them).

    Example (an Optuna objective of your own; ``Tuner`` does this for you)::

        def objective(trial):
            model = build_model(trial.suggest_int("units", 8, 64))
            prune = gn.tuning.TrialPruningCallback(trial, "val_accuracy", "maximize")
            model.fit(x, y, validation_split=0.2, epochs=20, callbacks=[prune])
            return prune.best_value
    """

    def __init__(self, trial, monitor: str, direction: str = "maximize", keep_best_weights: bool = False,
                 reported_steps=()):
        super().__init__()
        if direction not in ("maximize", "minimize"):
            raise ValueError(f"direction must be 'maximize' or 'minimize'; got {direction!r}.")
        self.trial = trial
        self.monitor = monitor
        self.direction = direction
        self.keep_best_weights = keep_best_weights
        self.reported_steps = set(reported_steps)
        self.best_value = None
        self.best_epoch = None
        self.best_logs: dict = {}
        self.best_weights = None
        self.epochs_run = 0

    def state_dict(self) -> dict:
        """The best epoch so far (value, logs, weights) and the epochs run, for a backup."""
        names = sorted(self.best_logs)
        # The logs go in an array: JSON cannot hold a NaN metric of the best epoch.
        state = {"best_value": self.best_value, "best_epoch": self.best_epoch, "epochs_run": self.epochs_run,
                 "best_log_names": names,
                 "best_log_values": np.array([self.best_logs[k] for k in names], dtype=np.float64)}
        if self.best_weights is not None:
            state["best_weights"] = list(self.best_weights)
        return state

    def load_state_dict(self, state: dict) -> None:
        """Continue from a ``state_dict()`` (a resumed trial)."""
        self.best_value, self.best_epoch = state["best_value"], state["best_epoch"]
        self.epochs_run = state["epochs_run"]
        self.best_logs = dict(zip(state["best_log_names"], state["best_log_values"].tolist()))
        self.best_weights = state.get("best_weights") if self.keep_best_weights else None

    def _improved(self, value: float) -> bool:
        if self.best_value is None:
            return True
        return value > self.best_value if self.direction == "maximize" else value < self.best_value

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.epochs_run = epoch + 1
        loss = logs.get("loss")
        if loss is not None and not math.isfinite(loss):
            raise FloatingPointError(f"Training diverged at epoch {epoch + 1} (loss {loss}).")
        key = logged_key(logs, self.monitor)  # "val_acc" and "val_accuracy" both count
        if key is None:
            raise ObjectiveNotReportedError(missing_objective_message(self.monitor, logs))
        value = float(logs[key])
        if not math.isfinite(value):
            raise FloatingPointError(f"{self.monitor} is {value} at epoch {epoch + 1}.")
        if self._improved(value):
            self.best_value, self.best_epoch = value, epoch
            self.best_logs = {k: float(v) for k, v in logs.items()}
            if self.keep_best_weights:
                self.best_weights = self.model.get_weights()
        if self.trial is None or epoch in self.reported_steps:
            return
        self.trial.report(value, epoch)
        self.reported_steps.add(epoch)
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"pruned after epoch {epoch + 1} ({self.monitor} {value:.4g})")


def make_pruner(pruning, epochs: int):
    """An Optuna pruner from a name ("hyperband", "successive_halving", "median"), a pruner, or None.

    The resources are epochs: Hyperband's brackets run from 1 epoch up to ``epochs``.
    """
    if pruning is None or pruning is False:
        return optuna.pruners.NopPruner()
    if isinstance(pruning, optuna.pruners.BasePruner):
        return pruning
    if pruning == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max(int(epochs), 1), reduction_factor=3)
    if pruning == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
    if pruning == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=1)
    raise ValueError(f"pruning must be None, 'hyperband', 'successive_halving', 'median' or an Optuna pruner; "
                     f"got {pruning!r}.")
