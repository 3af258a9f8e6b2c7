"""One trial: draw the parameters, build the model, train it (per fold and execution), score it.

Everything a worker process needs travels in a ``TrialSetup``; its trial seeds derive from the
study seed and the trial number only, so a parallel search trains exactly the models a serial
one would.
"""

from __future__ import annotations

import copy
import gc
import inspect
import math
import os
import shutil
import socket
import time
import traceback
from dataclasses import dataclass, field

import numpy as np
import optuna

from glassnet import utils
from glassnet.callbacks import BackupAndRestore, Callback
from glassnet.datasets.sources import is_batch_source
from glassnet.models.split import stratified_folds
from glassnet.tuning import arrays
from glassnet.tuning.errors import SetupError
from glassnet.tuning.pruning import TrialPruningCallback
from glassnet.tuning.space import HyperParameters, SpaceRecorder

#: parameter names the tuner itself uses for fit (Talos' convention) besides passing them on.
FIT_PARAMS = ("batch_size", "epochs")
#: a failed trial's traceback is kept in the results, cut to this many characters.
MAX_TRACEBACK = 4000


class TrialFailed(Exception):
    """Raised out of the objective after a trial's own error was recorded; Optuna marks the trial
    failed and the search goes on."""


def trial_seed(study_seed: int, root_number: int, execution: int = 0) -> int:
    """The seed of one execution of one trial: the same whichever worker runs it, and again when
    the trial is retried after a crash (``root_number`` is the first attempt's number)."""
    return int(np.random.SeedSequence([study_seed, root_number, execution]).generate_state(1)[0])


def call_style(build_model, space_names) -> str:
    """How to call ``build_model``: "object" (one argument: the params dict / hp object) or
    "kwargs" (one keyword argument per parameter). Checks the names against the signature."""
    if not callable(build_model):
        raise TypeError(f"build_model must be a function returning a compiled model; got {type(build_model).__name__}.")
    try:
        signature = inspect.signature(build_model)
    except (TypeError, ValueError):
        return "object"
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD,
             inspect.Parameter.KEYWORD_ONLY)
    named = [p for p in signature.parameters.values() if p.kind in kinds]
    var_kw = any(p.kind == inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values())
    space_names = list(space_names)
    if len(named) == 1 and not var_kw and named[0].name not in space_names:
        return "object"
    if not named and not var_kw:
        raise SetupError("build_model takes no arguments; it must take the parameters, e.g. "
                         "def build_model(params) or def build_model(hp).")
    names = {p.name for p in named}
    if not var_kw:
        unknown = [n for n in space_names if n not in names and n not in FIT_PARAMS]
        if unknown:
            raise SetupError(f"build_model does not accept the parameter(s) {', '.join(map(repr, unknown))} of "
                             f"the space (it takes: {', '.join(sorted(names))}). Rename them, add them to its "
                             f"signature, or take one `params` argument.")
    missing = [p.name for p in named if p.default is p.empty and p.name not in space_names and p.name != "hp"]
    if missing:
        raise SetupError(f"build_model needs {', '.join(map(repr, missing))}, which the space does not define.")
    return "kwargs"


def call_build(build_model, style: str, hp: HyperParameters):
    if style == "object":
        return build_model(hp)
    accepted = inspect.signature(build_model).parameters
    var_kw = any(p.kind == inspect.Parameter.VAR_KEYWORD for p in accepted.values())
    kwargs = {k: hp[k] for k in hp if var_kw or k in accepted}
    if "hp" in accepted:
        kwargs["hp"] = hp
    return build_model(**kwargs)


@dataclass
class TrialSetup:
    """What a worker needs to run trials: the build function, data and training settings."""

    build_model: object
    style: str
    space: dict | None  # parsed (parse_space) or None
    objective: str
    direction: str
    x: object  # arrays, or a batch source (then y is None)
    y: object
    epochs: int
    batch_size: int = 32
    validation_data: object = None  # (x_val, y_val) or a batch source
    cv: int | None = None
    executions_per_trial: int = 1
    seed: int = 0
    pruning: bool = False
    callbacks: list = field(default_factory=list)
    fit_kwargs: dict = field(default_factory=dict)
    model_dir: str | None = None
    checkpoint_dir: str | None = None
    #: trains a built model in place of ``model.fit``: ``fit_model(hp, model, x, y, **fit_kwargs)``
    #: (keras-tuner's ``HyperModel.fit``); None for ``model.fit``.
    fit_model: object = None


def fit_trial_model(setup: TrialSetup, hp: HyperParameters, model, x, y, **kwargs):
    """Train one model of a trial: ``setup.fit_model`` when given, else ``model.fit``; returns what
    that returned (a History, or a score or dict of scores from a ``fit_model``)."""
    if setup.fit_model is None:
        return model.fit(x, y, **kwargs)
    return setup.fit_model(hp, model, x, y, **kwargs)


def returned_score(result, objective: str):
    """The objective from what a ``fit_model`` returned when no epoch reported it (keras-tuner lets
    ``HyperModel.fit`` return the score, or a dict of scores, instead of a History); else None."""
    if isinstance(result, dict):
        result = result.get(objective)
    if isinstance(result, (int, float, np.number)) and not isinstance(result, bool):
        return float(result)
    return None


def _with_seed(seed: int, fn, *args):
    """Call ``fn`` with ``seed`` as glassnet's default model seed, then put the old default back."""
    previous = utils._DEFAULT_SEED, utils._SEEDED_MODELS
    utils.set_random_seed(seed)
    try:
        return fn(*args)
    finally:
        utils._DEFAULT_SEED, utils._SEEDED_MODELS = previous


def check_build(setup: TrialSetup) -> SpaceRecorder:
    """Build one model with each parameter's first value before the search starts, to catch
    mistakes every trial would repeat. A build that raises is left to the trials to report."""
    recorder = SpaceRecorder()
    hp = HyperParameters(recorder, setup.space, seed=0)
    try:
        model = _with_seed(0, call_build, setup.build_model, setup.style, hp)
    except Exception:
        return recorder
    _check_model(model, hp, setup)
    recorder.has_conditions = hp.has_conditions
    return recorder


def _check_model(model, hp: HyperParameters, setup: TrialSetup) -> None:
    if not hasattr(model, "fit"):
        raise SetupError(f"build_model must return a compiled model; it returned {type(model).__name__}.")
    if getattr(model, "compiled", True) is False:
        raise SetupError("build_model returned a model that is not compiled; call model.compile(...) before "
                         "returning it.")
    if setup.style == "object":
        unread = hp.unread(ignore=FIT_PARAMS)
        if unread:
            raise SetupError(f"build_model never reads the parameter(s) {', '.join(map(repr, unread))} of the "
                             f"space (it read: {', '.join(sorted(hp._read)) or 'nothing'}); remove them or "
                             f"check their spelling.")


def splittable(source) -> bool:
    """Whether the tuner can divide a batch source by samples (validation_split, cv): it has
    per-sample ``labels`` and a ``subset(indices, shuffle=None)`` method (``ImageFolderSource``)."""
    return callable(getattr(source, "subset", None)) and getattr(source, "labels", None) is not None


def _fold(setup: TrialSetup, fold: int):
    """(x_train, y_train, fit validation kwargs) of cross-validation fold ``fold``, or the one
    configured split. Only that fold's arrays are copied out, not every fold's.

    The folds come from the study seed, so every trial is scored on the same folds. A batch
    source is divided by ``subset`` into the same folds its arrays would be."""
    x, y = setup.x, setup.y
    if not setup.cv:
        if setup.validation_data is not None:
            return x, y, {"validation_data": setup.validation_data}
        return x, y, {}
    source = is_batch_source(x)
    # Stratified (class labels with at least cv members each) by the rule every split follows.
    tr, va = stratified_folds(x.labels if source else arrays.split_targets(y), setup.cv, setup.seed)[fold]
    if source:
        return x.subset(tr), None, {"validation_data": x.subset(va, shuffle=False)}
    return arrays.take(x, tr), arrays.take(y, tr), {"validation_data": (arrays.take(x, va), arrays.take(y, va))}


class _SourceAtRestoredEpoch(Callback):
    """After a backup is restored, brings a fresh copy of a batch source to the epoch training
    resumes at, by calling its ``on_epoch_end`` once per epoch already run (as the interrupted fit
    did), so a source that reshuffles itself serves the batches of the uninterrupted run."""

    def __init__(self, backup: BackupAndRestore, source):
        super().__init__()
        self.backup, self.source = backup, source

    def on_train_begin(self, logs=None):
        for _ in range(self.backup.restored_epoch or 0):
            self.source.on_epoch_end()


def _reported_steps(trial) -> set:
    """Epochs a retried trial inherited from its killed attempt (so they are not reported twice)."""
    if trial.user_attrs.get("root_trial", trial.number) == trial.number:
        return set()
    frozen = next((t for t in trial.study.get_trials(deepcopy=False) if t.number == trial.number), None)
    return set(frozen.intermediate_values) if frozen is not None else set()


def run_trial(trial, setup: TrialSetup) -> float:
    """The Optuna objective: train the trial's model(s) and return the objective's mean best value.

    Records in the trial's user attributes: metrics at the best epoch, epochs run, duration,
    seeds, and for a failure its traceback.
    """
    start = time.time()
    root = int(trial.user_attrs.get("root_trial", trial.number))
    trial.set_user_attr("root_trial", root)
    for stale in ("error", "fatal", "interrupted", "model_path"):  # copied from a crashed attempt
        if trial.user_attrs.get(stale) is not None:
            trial.set_user_attr(stale, None)
    trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
    trial.set_user_attr("started", start)
    epochs_run = 0
    backups = []  # per-epoch checkpoints: kept only when the trial is interrupted, to resume it
    interrupted = False
    try:
        values, metrics, best_epochs = [], [], []
        hp = None
        runs = [(fold, e) for fold in range(setup.cv or 1) for e in range(setup.executions_per_trial)]
        for run_index, (fold, execution) in enumerate(runs):
            seed = trial_seed(setup.seed, root, execution)
            hp = HyperParameters(trial, setup.space, seed=seed)
            model = _with_seed(seed, call_build, setup.build_model, setup.style, hp)
            _check_model(model, hp, setup)
            x_train, y_train, validation = _fold(setup, fold)
            if is_batch_source(x_train):
                x_train = copy.copy(x_train)  # its own shuffling state: trials do not depend on each other
            first = run_index == 0
            reporter = TrialPruningCallback(trial if (setup.pruning and first) else None, setup.objective,
                                            setup.direction, keep_best_weights=first and setup.model_dir is not None,
                                            reported_steps=_reported_steps(trial) if first else ())
            callbacks = [*setup.callbacks, reporter]
            if setup.checkpoint_dir is not None:
                # Last, and keeping the reporter's state: each epoch's backup then holds the best
                # epoch up to it, so a resumed trial scores all its epochs, even when the
                # interrupt came after the last backup and the resumed fit has none left to run.
                backups.append(os.path.join(setup.checkpoint_dir, f"trial_{root}_run{run_index}"))
                callbacks.append(BackupAndRestore(backups[-1], callbacks=[reporter]))
                if is_batch_source(x_train):
                    callbacks.append(_SourceAtRestoredEpoch(callbacks[-1], x_train))
            try:
                result = fit_trial_model(setup, hp, model, x_train, y_train,
                                         epochs=int(hp.get("epochs", setup.epochs)),
                                         batch_size=int(hp.get("batch_size", setup.batch_size)), verbose=0,
                                         callbacks=callbacks, **validation, **setup.fit_kwargs)
            finally:
                epochs_run += reporter.epochs_run
                trial.set_user_attr("epochs", epochs_run)
            if reporter.best_value is None:
                score = returned_score(result, setup.objective) if setup.fit_model is not None else None
                if score is None:
                    hint = (" The fit function must pass its keyword arguments (callbacks included) on to "
                            "model.fit, or return the score." if setup.fit_model is not None else "")
                    raise RuntimeError(f"fit ran no epoch, so there is no score; check epochs.{hint}")
                reporter.best_value, reporter.best_epoch = score, 0
            values.append(reporter.best_value)
            metrics.append(reporter.best_logs)
            best_epochs.append(reporter.best_epoch + 1)
            if first and setup.model_dir is not None:
                if reporter.best_weights is not None:
                    model.set_weights(reporter.best_weights)
                path = os.path.join(setup.model_dir, f"trial_{trial.number}.glassnet")
                model.save(path)
                trial.set_user_attr("model_path", path)
            del model
            gc.collect()
        names = set.intersection(*(set(m) for m in metrics))
        trial.set_user_attr("metrics", {k: float(np.mean([m[k] for m in metrics])) for k in sorted(names)})
        trial.set_user_attr("best_epoch", int(round(float(np.mean(best_epochs)))))
        trial.set_user_attr("seed", trial_seed(setup.seed, root, 0))
        trial.set_user_attr("duration", time.time() - start)
        value = float(np.mean(values))
        if not math.isfinite(value):
            raise FloatingPointError(f"the objective is {value}")
        return value
    except KeyboardInterrupt:
        # Ctrl-C: the next search on this storage queues the trial again and resumes it from its
        # last checkpoint (with a directory).
        interrupted = True
        trial.set_user_attr("interrupted", True)
        raise
    except optuna.TrialPruned:
        trial.set_user_attr("duration", time.time() - start)
        raise
    except SetupError as err:
        trial.set_user_attr("fatal", f"{type(err).__name__}: {err}")
        trial.set_user_attr("duration", time.time() - start)
        raise
    except Exception as err:
        trial.set_user_attr("error", traceback.format_exc()[-MAX_TRACEBACK:])
        trial.set_user_attr("error_message", f"{type(err).__name__}: {err}"[-MAX_TRACEBACK:])
        trial.set_user_attr("duration", time.time() - start)
        raise TrialFailed(f"trial {trial.number} failed: {type(err).__name__}: {err}") from err
    finally:
        if not interrupted:
            for folder in backups:
                shutil.rmtree(folder, ignore_errors=True)
        gc.collect()
