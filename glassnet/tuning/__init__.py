"""Hyperparameter search on Optuna: Talos-style dict spaces or keras-tuner-style ``build(hp)``,
grid / random / TPE strategies, pruning, budgets, parallel workers and resumable studies.

Example:
    >>> import glassnet as gn
    >>> space = {"units": [16, 32, 64], "dropout": (0.0, 0.5, 6), "learning_rate": gn.tuning.LogUniform(1e-4, 1e-1)}
    >>> tuner = gn.tuning.Tuner(lambda params: ..., space, strategy="tpe", max_trials=30, pruning="hyperband")
"""

import warnings

with warnings.catch_warnings():
    # Optuna imports tqdm.auto, which in a Jupyter kernel without ipywidgets warns that it falls
    # back to its text bar; glassnet never shows Optuna's bar (it prints its own progress line).
    warnings.filterwarnings("ignore", message="IProgress not found")
    import optuna  # noqa: F401

from glassnet.tuning.keras_tuner import (BayesianOptimization, GridSearch, HyperModel, Hyperband, Objective,
                                         RandomSearch)
from glassnet.tuning.errors import ObjectiveNotReportedError, SetupError, StorageError, WorkerError
from glassnet.tuning.pruning import TrialPruningCallback, make_pruner
from glassnet.tuning.space import HyperParameters, IntRange, LogUniform, Uniform, parse_space
from glassnet.tuning.study import open_storage
from glassnet.tuning.talos import Analyze, Deploy, Evaluate, Predict, Restore, Scan
from glassnet.tuning.trial import trial_seed
from glassnet.tuning.tuner import Tuner
from glassnet.tuning.worker import run_worker

__all__ = ["Analyze", "BayesianOptimization", "Deploy", "Evaluate", "GridSearch", "HyperModel", "HyperParameters",
           "Hyperband", "IntRange", "LogUniform", "Objective", "ObjectiveNotReportedError", "Predict", "RandomSearch",
           "Restore", "Scan", "SetupError", "StorageError", "TrialPruningCallback", "Tuner", "Uniform", "WorkerError",
           "make_pruner", "open_storage", "parse_space", "run_worker", "trial_seed"]
