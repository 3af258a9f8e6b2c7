"""Tuner: search a space of models with Optuna (grid, random, TPE), pruning, budgets and workers."""

from __future__ import annotations

import copy
import json
import math
import os
import secrets
import socket
import tempfile
import time
import warnings
import weakref

import numpy as np
import optuna

from glassnet import backend
from glassnet.callbacks.monitor import _resolve_mode
from glassnet.datasets.sources import is_batch_source
from glassnet.models.split import stratified_split
from glassnet.tuning import arrays, results as results_module
from glassnet.tuning.processes import start_workers
from glassnet.tuning.progress import SearchProgress
from glassnet.tuning.space import HyperParameters, grid_values, parse_space, space_to_config
from glassnet.tuning.errors import SetupError, StorageError, WorkerError
from glassnet.tuning.study import (STRATEGIES, Budget, describe, fail_dead_local_trials, fatal_error,
                                   open_storage, repeated_failure)
from glassnet.tuning.trial import (TrialSetup, _with_seed, call_build, call_style, check_build,
                                   fit_trial_model, splittable, trial_seed)
from glassnet.tuning.worker import SPEC_ATTR, WorkerPlan, run_worker

_PRUNINGS = (None, "hyperband", "successive_halving", "median")


class Tuner:
    """Search hyperparameters: Talos' dict of ranges or keras-tuner's ``build(hp)``, on Optuna.

    ``build_model`` returns a compiled model. It takes either one argument, the trial's parameters
    (a read-only dict that is also an ``hp`` object: ``params["units"]``, ``hp.Int(...)``), or one
    keyword argument per parameter of the space. Parameters named ``batch_size`` and ``epochs``
    also set ``fit``'s arguments, as in Talos.

    Each trial trains the model, scores it by the best epoch's ``objective`` (averaged over
    ``cv`` folds and ``executions_per_trial`` runs) and, with ``pruning``, reports every epoch so
    unpromising trials stop early. Trial k's models are seeded from (``seed``, k), so a search run
    again, resumed, or spread over workers trains the same models.

    Args:
        build_model: function of the parameters returning a compiled model.
        space: a dict: lists are choices, ``(low, high, steps)`` tuples evenly spaced values,
            ``LogUniform``/``Uniform``/``IntRange`` ranges, anything else a constant. None when
            ``build_model`` defines everything with ``hp``.
        objective: the log key to optimise ("val_accuracy", "val_loss" ...).
        direction: "maximize", "minimize" or "auto" (maximise accuracy-like names).
        strategy: "grid" (every combination once, in a seeded random order), "random" or "tpe".
        max_trials: number of trials (required for random/TPE unless ``time_limit`` is given).
        time_limit: seconds; no trial starts after it (running ones finish).
        fraction_limit: run this fraction of the grid's combinations (a random subset).
        target: stop once a trial scores this well.
        executions_per_trial: train each configuration this many times (different seeds) and average.
        cv: k for stratified k-fold cross-validation instead of a single validation set.
        pruning: None, "hyperband", "successive_halving", "median" or an Optuna pruner.
        n_workers: trials run at once, each worker a separate process: a fresh Python that receives
            ``build_model``, the data and the callbacks by value (cloudpickle), so functions defined
            in a notebook, in ``python -`` or in a script without a ``__main__`` guard work.
        storage: None (in memory; a journal file in a temporary folder for several workers), an
            RDB URL ("postgresql://...", "sqlite:///tune.db") or a journal file path.
        study_name: the study's name in the storage; the same name and storage resume a search.
        directory: a folder for the journal (when no storage is given), each trial's best model,
            per-epoch checkpoints of running trials and the data file for remote workers.
        seed: the study seed (samplers and every trial's models); random when None, and kept in
            the study so a resumed search continues with it.
        heartbeat_interval, grace_period: seconds, for RDB storages: a worker that stops beating
            for ``grace_period`` has its trial marked failed and its parameters retried.
        verbose: 0 silent, 1 a progress line.
        fit_model: trains each built model in place of ``model.fit``:
            ``fit_model(hp, model, x, y, **fit_kwargs)``, passing the keyword arguments (the
            tuner's callbacks among them) on to ``model.fit`` (keras-tuner's ``HyperModel.fit``).
            It may draw parameters from ``hp`` (``batch_size=hp.Choice(...)``) and return the
            History, or the score (or a dict of scores) when it reports no epoch.
        startup_trials: for ``strategy="tpe"``, the random trials before TPE models the results
            (Optuna's ``n_startup_trials``; None for its default, 10).

    Example:
        >>> import glassnet as gn
        >>> from sklearn.datasets import load_digits
        >>> x, y = load_digits(return_X_y=True)
        >>> def build_model(params):
        ...     model = gn.Sequential([gn.layers.Dense(params["units"], activation="relu", input_shape=(64,)),
        ...                            gn.layers.Dense(10, activation="softmax")])
        ...     model.compile(optimizer=gn.optimizers.Adam(params["learning_rate"]),
        ...                   loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        ...     return model
        >>> space = {"units": [16, 32], "learning_rate": [1e-3, 1e-2]}
        >>> tuner = gn.tuning.Tuner(build_model, space, strategy="grid", seed=0, verbose=0)
        >>> tuner.search(x[:300] / 16, y[:300], validation_split=0.2, epochs=2).results.shape[0]
        4
    """

    def __init__(self, build_model, space=None, *, objective: str = "val_accuracy", direction: str = "auto",
                 strategy: str = "tpe", max_trials: int | None = None, time_limit: float | None = None,
                 fraction_limit: float | None = None, target: float | None = None, executions_per_trial: int = 1,
                 cv: int | None = None, pruning=None, n_workers: int = 1, storage=None, study_name: str | None = None,
                 directory=None, seed: int | None = None, heartbeat_interval: int | None = None,
                 grace_period: int | None = None, verbose: int = 1, fit_model=None, startup_trials: int | None = None):
        if strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}; got {strategy!r}.")
        if direction not in ("auto", "maximize", "minimize"):
            raise ValueError(f"direction must be 'auto', 'maximize' or 'minimize'; got {direction!r}.")
        if not isinstance(objective, str) or not objective:
            raise ValueError(f"objective must be a log key such as 'val_accuracy'; got {objective!r}.")
        for name, value in (("max_trials", max_trials), ("cv", cv)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be a positive integer or None; got {value!r}.")
        if cv is not None and cv < 2:
            raise ValueError(f"cv must be at least 2 folds; got {cv}.")
        if (isinstance(executions_per_trial, bool) or not isinstance(executions_per_trial, int)
                or executions_per_trial < 1):
            raise ValueError(f"executions_per_trial must be a positive integer; got {executions_per_trial!r}.")
        if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
            raise ValueError(f"n_workers must be a positive integer; got {n_workers!r}.")
        if fraction_limit is not None and not 0 < fraction_limit <= 1:
            raise ValueError(f"fraction_limit must be in (0, 1]; got {fraction_limit!r}.")
        if time_limit is not None and not time_limit > 0:
            raise ValueError(f"time_limit must be a positive number of seconds; got {time_limit!r}.")
        if not (pruning in _PRUNINGS or isinstance(pruning, optuna.pruners.BasePruner)):
            raise ValueError(f"pruning must be one of {_PRUNINGS} or an Optuna pruner; got {pruning!r}.")
        if n_workers > 1 and isinstance(storage, optuna.storages.BaseStorage):
            raise ValueError("n_workers > 1 needs storage as a URL or a journal file path (or None), which every "
                             "worker process can open.")
        if fit_model is not None and not callable(fit_model):
            raise TypeError(f"fit_model must be a function (hp, model, x, y, **fit_kwargs); got {fit_model!r}.")
        if startup_trials is not None and (isinstance(startup_trials, bool) or not isinstance(startup_trials, int)
                                           or startup_trials < 0):
            raise ValueError(f"startup_trials must be a non-negative integer or None; got {startup_trials!r}.")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ValueError(f"seed must be a non-negative integer or None; got {seed!r}.")
        self.build_model = build_model
        self.space = space
        self.objective = objective
        self.direction = direction
        self.strategy = strategy
        self.max_trials = max_trials
        self.time_limit = time_limit
        self.fraction_limit = fraction_limit
        self.target = target
        self.executions_per_trial = executions_per_trial
        self.cv = cv
        self.pruning = pruning
        self.n_workers = n_workers
        self.storage = storage
        self.study_name = study_name
        self.directory = directory
        self.seed = seed
        self.heartbeat_interval = heartbeat_interval
        self.grace_period = grace_period
        self.verbose = verbose
        self.fit_model = fit_model
        self.startup_trials = startup_trials
        self._parsed_space = parse_space(space) if space is not None else None
        self._direction = direction if direction != "auto" else (
            "maximize" if _resolve_mode("auto", objective) == "max" else "minimize")
        #: the Optuna study (after ``search``); its trials are the source of every result.
        self.study = None
        self._setup = None
        self._storage_url = None

    # -- searching ----------------------------------------------------------------------------------
    def search(self, x, y=None, *, epochs: int = 10, batch_size: int = 32, validation_split: float = 0.0,
               validation_data=None, callbacks=None, shuffle: bool = True, class_weight=None):
        """Run the search (or continue a stored one); returns ``self``.

        Args:
            x, y: the training data: arrays, an ``ImageData``, or a batch source and no ``y``
                (``ArraySource``, or ``ImageFolderSource`` from
                ``image_dataset_from_directory(..., batch_size=n)`` for images that do not fit in
                memory). A source is never loaded whole: each trial reads it batch by batch, and
                worker processes receive it as it is (file paths, for an image folder).
            epochs, batch_size: for every trial's ``fit`` (unless the space sets them); a batch
                source brings its own batch size.
            validation_split: the fraction held out once (stratified for class labels, seeded by
                the study seed) and used by every trial, so all are scored on the same samples.
                An ``ImageFolderSource`` is split by its files, as its arrays would be.
            validation_data: ``(x_val, y_val)``, an ``ImageData`` or a batch source, instead of a split.
            callbacks: extra callbacks for every trial's ``fit`` (picklable for ``n_workers > 1``).
            shuffle, class_weight: passed to ``fit``.
        """
        verbosity = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(optuna.logging.ERROR)  # the progress line and results say it all
        try:
            return self._search(x, y, epochs, batch_size, validation_split, validation_data, callbacks, shuffle,
                                class_weight, run=True)
        finally:
            optuna.logging.set_verbosity(verbosity)

    def publish(self, x, y=None, *, epochs: int = 10, batch_size: int = 32, validation_split: float = 0.0,
                validation_data=None, shuffle: bool = True, class_weight=None):
        """Prepare the study for workers started by hand, without running trials; returns ``self``.

        Stores the settings in the study and the data in ``directory/data.npz``; then start
        ``python -m glassnet.tuning.worker --storage URL --study NAME`` on each machine (with
        ``--data PATH`` where the data file is elsewhere). Needs a storage (URL or journal path),
        a ``build_model`` importable by its module name, and arrays (not a batch source).
        """
        if self.fit_model is not None:
            raise ValueError("publish cannot send fit_model to workers started by hand (they train with "
                             "model.fit); use search(..., n_workers) on this machine.")
        if not isinstance(self.storage, (str, os.PathLike)) and self.directory is None:
            raise ValueError("publish needs storage (an RDB URL or journal path) or a directory that workers share.")
        if is_batch_source(x) or is_batch_source(validation_data):
            raise ValueError("publish writes the data into data.npz for workers on other machines, which needs "
                             "arrays; a batch source is not copied there. Use search(..., n_workers) on this "
                             "machine, or pass arrays (image_dataset_from_directory(..., batch_size=None)).")
        verbosity = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        try:
            return self._search(x, y, epochs, batch_size, validation_split, validation_data, None, shuffle,
                                class_weight, run=False)
        finally:
            optuna.logging.set_verbosity(verbosity)

    def _search(self, x, y, epochs, batch_size, validation_split, validation_data, callbacks, shuffle, class_weight,
                run: bool):
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
            raise ValueError(f"epochs must be a positive integer; got {epochs!r}.")
        if self.cv and (validation_split or validation_data is not None):
            raise ValueError("Give cv or a validation set (validation_split / validation_data), not both.")
        x, y, validation_data = _check_data(x, y, validation_data, validation_split, self.cv)
        storage, study_name = self._resolve_storage()
        storage_obj = open_storage(storage, self.heartbeat_interval, self.grace_period)
        study, seed = self._open_study(storage_obj, storage, study_name)
        if validation_split:
            x, y, validation_data = _split(x, y, validation_split, seed)
        fit_kwargs = {"shuffle": shuffle}
        if class_weight is not None:
            fit_kwargs["class_weight"] = class_weight
        names = list(self._parsed_space or {})
        setup = TrialSetup(build_model=self.build_model, style=call_style(self.build_model, names),
                           space=self._parsed_space, objective=self.objective, direction=self._direction,
                           x=x, y=y, epochs=int(epochs), batch_size=batch_size, validation_data=validation_data,
                           cv=self.cv, executions_per_trial=self.executions_per_trial, seed=seed,
                           pruning=self.pruning is not None, callbacks=list(callbacks or []),
                           fit_kwargs=fit_kwargs, fit_model=self.fit_model)
        if self.directory is not None:
            setup.model_dir = os.path.join(os.fspath(self.directory), "models")
            setup.checkpoint_dir = os.path.join(os.fspath(self.directory), "checkpoints")
            os.makedirs(setup.model_dir, exist_ok=True)
        recorder = check_build(setup)
        if is_batch_source(x) and "batch_size" in {*names, *recorder.definitions}:
            raise SetupError("The space sets batch_size, but a batch source brings its own batches; tune it with "
                             "arrays, or make one source per batch size.")
        grid = self._grid(recorder) if self.strategy == "grid" else None
        budget = Budget(n_trials=self._n_trials(grid, recorder), target=self.target, direction=self._direction,
                        deadline=time.time() + self.time_limit if self.time_limit else None, since=time.time())
        self._setup, self.study = setup, study
        plan = WorkerPlan(storage=storage if self.n_workers > 1 else storage_obj, study_name=study_name,
                          strategy=self.strategy, grid=grid, pruning=self.pruning, budget=budget,
                          heartbeat_interval=self.heartbeat_interval, grace_period=self.grace_period,
                          startup_trials=self.startup_trials, device=backend.get_device())
        if isinstance(storage, str):
            self._publish(study, setup, plan)
        if not run:
            return self
        done_before = len([t for t in study.get_trials(deepcopy=False) if t.state.is_finished()])
        progress = SearchProgress(self.objective, self._direction, budget.n_trials, budget.deadline, self.verbose)
        try:
            if self.n_workers == 1:
                run_worker(plan, setup, callbacks=[lambda s, t: progress.update(s.get_trials(deepcopy=False),
                                                                                  done_before)])
            else:
                self._run_processes(plan, setup, study, progress, done_before)
        finally:
            progress.close()
        fatal = fatal_error(study, budget)
        if fatal:
            raise SetupError(fatal.split(": ", 1)[-1])
        failure = repeated_failure(study, budget, at_least=1)  # a small grid may end before FAILURES_TO_STOP
        if failure:
            raise SetupError(f"Every trial of this search failed with {failure} (tracebacks in tuner.results"
                             f"['error']); fix what it names and search again.")
        return self

    def _resolve_storage(self):
        study_name = self.study_name or "glassnet-search"
        storage = self.storage
        if isinstance(storage, os.PathLike):
            storage = os.fspath(storage)
        if storage is None and self.directory is not None:
            os.makedirs(self.directory, exist_ok=True)
            storage = os.path.join(os.fspath(self.directory), f"{study_name}.journal")
        elif storage is None and self.n_workers > 1:
            folder = tempfile.mkdtemp(prefix="glassnet-tuning-")
            weakref.finalize(self, _remove_folder, folder)
            storage = os.path.join(folder, "study.journal")
        self._storage_url = storage
        return storage, study_name

    def _open_study(self, storage_obj, storage, study_name):
        """Create the study, or load it and say what was reloaded; returns (study, seed)."""
        try:
            study = optuna.load_study(study_name=study_name, storage=storage_obj)
            existing = True
        except KeyError:
            study = optuna.create_study(study_name=study_name, storage=storage_obj, direction=self._direction)
            existing = False
        except Exception as err:
            raise StorageError(f"Cannot read the study storage: {type(err).__name__}: {err}") from None
        attrs = study.user_attrs
        if existing:
            if study.direction.name.lower() != self._direction:
                raise ValueError(f"Study {study_name!r} exists and {study.direction.name.lower()}s its objective; "
                                 f"this tuner {self._direction}s. Use another study_name.")
            stored = attrs.get("glassnet:objective")
            if stored is not None and stored != self.objective:
                raise ValueError(f"Study {study_name!r} exists and optimises {stored!r}, not {self.objective!r}; "
                                 f"use another study_name.")
        seed = attrs.get("glassnet:seed")
        if seed is None:
            seed = int(self.seed) if self.seed is not None else secrets.randbits(31)
            study.set_user_attr("glassnet:seed", seed)
            study.set_user_attr("glassnet:objective", self.objective)
            study.set_user_attr("glassnet:strategy", self.strategy)
        if existing and study.get_trials(deepcopy=False):
            dead = fail_dead_local_trials(study)
            if self.verbose:
                where = storage if isinstance(storage, str) else "memory"
                message = f"Resuming study {study_name!r} from {where}: reloaded {describe(study, self.objective)}"
                if dead:
                    message += (f"; trial(s) {', '.join(map(str, dead))} left running by a stopped worker "
                                f"were marked failed and queued again")
                if self.seed is not None and self.seed != seed:
                    message += f"; continuing with the study's seed {seed}, not {self.seed}"
                print(message + ".")
        return study, int(seed)

    def _grid(self, recorder) -> dict:
        definitions = dict(self._parsed_space or {})
        for name, definition in recorder.definitions.items():
            definitions.setdefault(name, definition)
        if recorder.has_conditions:
            raise SetupError("A grid cannot enumerate conditional parameters (parent_name); use strategy='random' "
                             "or 'tpe', or list the combinations in a dict space.")
        grid = {n: grid_values(n, d) for n, d in definitions.items() if d["kind"] != "fixed"}
        if not grid:
            raise SetupError("Found no parameters to grid over: build_model raised when tried with each parameter's "
                             "first value, or defines none. Call it yourself with gn.tuning.HyperParameters(...) "
                             "to see why.")
        return grid

    def _n_trials(self, grid, recorder) -> int | None:
        n = self.max_trials
        if self.fraction_limit is not None:
            if grid is None:
                definitions = dict(self._parsed_space or {}) | recorder.definitions
                try:
                    grid = {k: grid_values(k, d) for k, d in definitions.items() if d["kind"] != "fixed"}
                except ValueError:
                    raise ValueError("fraction_limit needs a finite space (lists, (low, high, steps) tuples, "
                                     "IntRange); use max_trials or time_limit for continuous ranges.") from None
            size = math.prod(len(v) for v in grid.values())
            n = min(n or size, max(1, math.ceil(self.fraction_limit * size)))
        elif grid is not None:
            n = min(n or math.inf, math.prod(len(v) for v in grid.values()))
        if n is None and self.time_limit is None:
            raise ValueError(f"A {self.strategy} search needs max_trials, fraction_limit or time_limit to end.")
        return int(n) if n is not None else None

    def _run_processes(self, plan, setup, study, progress, done_before):
        # Each worker's BLAS gets its share of the cores, so n workers do not oversubscribe them.
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        threads = max(1, cores // self.n_workers)
        plans = [WorkerPlan(**{**plan.__dict__, "worker_index": i, "threads": threads}) for i in range(self.n_workers)]
        workers = start_workers(plans, setup)
        died, requeued = [], []
        try:
            while True:
                running = [w for w in workers if w.poll() is None]
                progress.update(study.get_trials(deepcopy=False), done_before)
                for worker in workers:
                    if worker.failed() and worker not in died:
                        died.append(worker)
                        # Queue its trial again at once, so that the other workers can run it.
                        requeued += fail_dead_local_trials(study)
                        _check_worker_death(worker, workers, study)
                if not running:
                    break
                time.sleep(0.2)
        finally:
            for worker in workers:  # terminates those still running (an error, Ctrl-C) and reaps all
                worker.stop()
        progress.update(study.get_trials(deepcopy=False), done_before)
        if died:
            left = "; run search again to finish the study" if study.get_trials(
                deepcopy=False, states=(optuna.trial.TrialState.WAITING,)) else ", and the other workers ran them"
            warnings.warn(f"{len(died)} worker process(es) died: {'; '.join(w.cause() for w in died)}. Their trials "
                          f"{requeued} were marked failed and queued again{left}.", RuntimeWarning, stacklevel=3)

    def _publish(self, study, setup, plan) -> None:
        """Store what a worker started by hand (``python -m glassnet.tuning.worker``) needs."""
        data_path = None
        if self.directory is not None and not is_batch_source(setup.x):  # workers started here get the source
            data_path = os.path.join(os.path.abspath(self.directory), "data.npz")
            stored = {**arrays.to_npz("x", setup.x), **arrays.to_npz("y", setup.y)}
            if setup.validation_data is not None:
                x_val, y_val = setup.validation_data
                x_val, y_val = arrays.as_arrays(x_val, y_val)
                stored.update({**arrays.to_npz("x_val", x_val), **arrays.to_npz("y_val", y_val)})
            np.savez(data_path, **stored)
        build = setup.build_model
        module = getattr(build, "__module__", None)
        file = getattr(__import__("sys").modules.get(module), "__file__", None)
        spec = {"build": {"module": module, "qualname": getattr(build, "__qualname__", None),
                          "file": os.path.abspath(file) if file else None},
                "space": space_to_config(self.space), "objective": self.objective, "direction": self._direction,
                "strategy": self.strategy, "grid": plan.grid,
                "pruning": self.pruning if isinstance(self.pruning, str) else None, "seed": setup.seed,
                "epochs": setup.epochs, "batch_size": setup.batch_size, "cv": setup.cv,
                "executions_per_trial": setup.executions_per_trial, "n_trials": plan.budget.n_trials,
                "deadline": plan.budget.deadline, "target": plan.budget.target, "since": plan.budget.since,
                "data": data_path,
                "fit_kwargs": setup.fit_kwargs if _jsonable(setup.fit_kwargs) else {},
                "model_dir": setup.model_dir, "checkpoint_dir": setup.checkpoint_dir,
                "heartbeat_interval": self.heartbeat_interval, "grace_period": self.grace_period,
                "startup_trials": self.startup_trials}
        study.set_user_attr(SPEC_ATTR, json.dumps(spec))

    # -- results ------------------------------------------------------------------------------------
    def _require_study(self):
        if self.study is None:
            raise RuntimeError("No search has run yet: call tuner.search(x, y, ...) first.")
        return self.study

    @property
    def optimization_direction(self) -> str:
        """"maximize" or "minimize": the ``direction`` argument with "auto" resolved."""
        return self._direction

    @property
    def results(self):
        """A DataFrame, best first: trial, state, objective, parameters, metrics, epochs, duration ..."""
        return results_module.results_frame(self._require_study().get_trials(deepcopy=False), self.objective,
                                            self._direction)

    @property
    def best_trial(self):
        """The best completed Optuna ``FrozenTrial``."""
        study = self._require_study()
        try:
            return study.best_trial  # the study's direction is checked to be this tuner's
        except ValueError:
            raise RuntimeError("No trial completed; see tuner.results for the failed and pruned ones.") from None

    @property
    def best_value(self) -> float:
        return self.best_trial.value

    @property
    def best_params(self) -> dict:
        """The best trial's parameters (constants of the space included), as build_model sees them."""
        trial = self.best_trial
        hp = HyperParameters(optuna.trial.FixedTrial(trial.params), self._parsed_space)
        return {**trial.params, **hp.values}

    def best_model(self):
        """The best trial's model: loaded from ``directory`` when saved there, else retrained with the
        trial's parameters and seed for its best number of epochs (on all data when ``cv`` was used)."""
        return self.trial_model(self.best_trial)

    def trial_model(self, trial):
        """A completed trial's model (an Optuna ``FrozenTrial`` of ``study``), as ``best_model``."""
        path = trial.user_attrs.get("model_path")
        if path and os.path.exists(path):
            from glassnet.saving import load_model

            return load_model(path)
        setup = self._setup
        if setup is None:
            raise RuntimeError("best_model needs the data of this session's search; call search first.")
        seed = trial_seed(setup.seed, trial.user_attrs.get("root_trial", trial.number), 0)
        hp = HyperParameters(optuna.trial.FixedTrial(trial.params), setup.space, seed=seed)
        model = _with_seed(seed, call_build, setup.build_model, setup.style, hp)
        validation = {} if setup.cv or setup.validation_data is None else {"validation_data": setup.validation_data}
        epochs = int(trial.user_attrs.get("best_epoch") or hp.get("epochs", setup.epochs))
        x = copy.copy(setup.x) if is_batch_source(setup.x) else setup.x  # shuffled as the trial's was
        fit_trial_model(setup, hp, model, x, setup.y, epochs=epochs,
                        batch_size=int(hp.get("batch_size", setup.batch_size)), verbose=0,
                        callbacks=list(setup.callbacks), **validation, **setup.fit_kwargs)
        return model

    def save_best(self, filepath) -> None:
        """Save the best model in glassnet's format, and its parameters and score beside it
        (``<filepath>.json``)."""
        model = self.best_model()
        model.save(filepath)
        trial = self.best_trial
        info = {"trial": trial.number, "objective": self.objective, "value": trial.value,
                "params": {k: v for k, v in self.best_params.items() if _jsonable(v)},
                "epochs": trial.user_attrs.get("best_epoch"), "seed": trial.user_attrs.get("seed")}
        with open(os.fspath(filepath) + ".json", "w", encoding="utf-8") as f:
            json.dump(info, f, indent=2)

    def to_csv(self, path, **kwargs) -> None:
        """Write ``results`` to a CSV file (as Talos' scan log)."""
        self.results.to_csv(path, index=False, **kwargs)

    def summary(self, top: int = 10, print_fn=print) -> None:
        """Print counts, the best score and the ``top`` trials, in a terminal's width."""
        print_fn(results_module.summary_text(self.results, self.objective, top))

    # -- plots (Optuna's matplotlib visualisations) -----------------------------------------------------
    def _plot(self, name: str, **kwargs):
        from optuna.visualization import matplotlib as optuna_plots

        with warnings.catch_warnings():
            # Optuna marks its matplotlib backend experimental; the plots are stable in use.
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return getattr(optuna_plots, name)(self._require_study(), **kwargs)

    def plot_history(self):
        """The objective of every trial and the best so far, by trial number."""
        return self._plot("plot_optimization_history", target_name=self.objective)

    def plot_importances(self):
        """How much each parameter explains the objective (fANOVA); needs a few completed trials."""
        return self._plot("plot_param_importances", target_name=self.objective)

    def plot_parallel_coordinates(self):
        """Each trial as a line through its parameter values, coloured by its score."""
        return self._plot("plot_parallel_coordinate", target_name=self.objective)

    def plot_intermediate_values(self):
        """Each trial's objective by epoch: where pruning cut the losers short."""
        return self._plot("plot_intermediate_values")

    def __repr__(self):
        return (f"<Tuner strategy={self.strategy!r} objective={self.objective!r} "
                f"trials={len(self.study.trials) if self.study is not None else 0}>")


def _check_data(x, y, validation_data, validation_split, cv):
    """The search's (x, y, validation_data): arrays, or a batch source and None; an ``ImageData``
    becomes its arrays. A source that the split or the folds need to divide must allow it."""
    from glassnet.models.prepare import unpack_image_data

    x, y = unpack_image_data(x, y)
    if validation_data is not None and not isinstance(validation_data, (tuple, list)):
        x_val, y_val = unpack_image_data(validation_data)
        validation_data = validation_data if x_val is validation_data else (x_val, y_val)
    if not is_batch_source(x):
        if y is None:
            raise ValueError("Give the targets y with array inputs (only a batch source brings its own).")
        x, y = arrays.as_arrays(x, y)  # a graph's inputs and outputs stay a list or dict
        arrays.check_lengths(x, y)
        return x, y, validation_data
    if y is not None:
        raise ValueError("y must be None when x is a batch source: the source's batches hold the targets.")
    why = "validation_split" if validation_split else "cv" if cv else None
    if why and not splittable(x):
        raise ValueError(f"{why} cannot divide this batch source ({type(x).__name__}); pass validation_data "
                         f"(arrays or another source), e.g. from image_dataset_from_directory(..., "
                         f"validation_split=0.2, subset='both', seed=0). An ImageFolderSource with labels "
                         f"is divided by its files.")
    return x, None, validation_data


def _split(x, y, fraction: float, seed: int):
    """The train/validation split shared by every trial: ``stratified_split`` (stratified when the
    targets are class labels), the rule fit's ``validation_split`` and the CLI use.

    A batch source (an ``ImageFolderSource``) is split by its files, without decoding any, into
    the samples its arrays would be split into."""
    if not 0 < fraction < 1:
        raise ValueError(f"validation_split must be in (0, 1); got {fraction}.")
    source = is_batch_source(x)
    try:
        train, val = stratified_split(x.labels if source else arrays.split_targets(y), fraction, seed)
    except ValueError as error:
        raise ValueError(f"validation_split: {error}") from None
    if source:
        return x.subset(train), None, x.subset(val, shuffle=False)
    return arrays.take(x, train), arrays.take(y, train), (arrays.take(x, val), arrays.take(y, val))


def _check_worker_death(worker, workers, study) -> None:
    """Raise ``WorkerError`` when a dead worker leaves the search unable to go on: it died before
    running a trial (so it could not start, and the others would fail alike), or every worker
    is dead. A worker that dies in a trial while others run is recoverable: they retry its trial."""
    mark = f"{socket.gethostname()}:{worker.pid}"  # what run_trial records as the trial's worker
    if not any(t.user_attrs.get("worker") == mark for t in study.get_trials(deepcopy=False)):
        raise WorkerError(f"A search worker process could not start: {worker.cause()}")
    if all(w.failed() for w in workers):
        raise WorkerError("Every search worker process died: " + "; ".join(w.cause() for w in workers)
                          + ". Their running trials were queued again; run search again to resume the study.")


def _jsonable(value) -> bool:
    try:
        json.dumps(value)
        return True
    except (TypeError, ValueError):
        return False


def _remove_folder(folder: str) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)
