"""keras-tuner's names on glassnet's Tuner: ``RandomSearch``, ``GridSearch``, ``BayesianOptimization``,
``Hyperband``, ``HyperModel`` and ``Objective``, so keras-tuner code ports by changing its imports.

Each class is a thin layer: it turns keras-tuner's arguments into one ``glassnet.tuning.Tuner``
(kept in ``.tuner``, with its DataFrame of results and its plots) and keras-tuner's reports
(``results_summary``, ``get_best_models`` ...) into that tuner's trials. The differences that
remain are listed in the README, "Coming from keras-tuner".
"""

from __future__ import annotations

import os
import shutil

import optuna

from glassnet.tuning.errors import SetupError
from glassnet.tuning.space import HyperParameters
from glassnet.tuning.tuner import Tuner

#: keras-tuner arguments glassnet does not take, and why (a clear error beats an ignored setting).
_UNSUPPORTED = {
    "hyperparameters": "give the fixed values in build(hp) with hp.Fixed(name, value)",
    "tune_new_entries": "every parameter defined in build(hp) is tuned",
    "allow_new_entries": "every parameter defined in build(hp) is tuned",
    "max_retries_per_trial": "a failing trial is recorded with its traceback (tuner.tuner.results) and the "
                             "search goes on; a mistake every trial would repeat stops it at once",
    "max_consecutive_failed_trials": "a mistake every trial would repeat stops the search at once; other failures "
                                     "are recorded and the search goes on",
    "optimizer": "compile the model in build(hp)",
    "loss": "compile the model in build(hp)",
    "metrics": "compile the model in build(hp)",
    "distribution_strategy": "glassnet trains on the CPU; for parallel trials use glassnet.tuning.Tuner("
                             "n_workers=...)",
    "oracle": "pick the search with the class (RandomSearch, GridSearch, BayesianOptimization, Hyperband)",
}
#: ``search`` keyword arguments forwarded to each trial's ``fit``.
_SEARCH_ARGS = ("epochs", "batch_size", "validation_data", "validation_split", "callbacks", "shuffle",
                "class_weight", "verbose")


class Objective:
    """The metric a search optimises and its direction, as keras-tuner's ``Objective``.

    Args:
        name: a log key of ``fit`` ("val_accuracy", "val_loss" ...).
        direction: "min" or "max".

    Example:
        >>> import glassnet as gn
        >>> gn.tuning.Objective("val_accuracy", direction="max")
        Objective(name='val_accuracy', direction='max')
    """

    def __init__(self, name: str, direction: str):
        if direction not in ("min", "max"):
            raise ValueError(f"Objective direction must be 'min' or 'max'; got {direction!r}.")
        self.name, self.direction = name, direction

    def __repr__(self):
        return f"Objective(name={self.name!r}, direction={self.direction!r})"


class HyperModel:
    """A model family to tune: ``build(hp)`` returns a compiled model; ``fit(hp, model, *args,
    **kwargs)`` trains it (override it to tune training arguments such as ``batch_size``).

    ``fit`` must pass its keyword arguments on to ``model.fit``: they hold the tuner's callback
    that records each epoch's score. It may return the History, or the score itself (or a dict of
    scores holding the objective) when it trains some other way.

    Example:
        >>> import glassnet as gn
        >>> class Family(gn.tuning.HyperModel):
        ...     def build(self, hp):
        ...         model = gn.Sequential([gn.layers.Dense(hp.Int("units", 8, 32, step=8), activation="relu",
        ...                                                input_shape=(4,)), gn.layers.Dense(1)])
        ...         model.compile(optimizer="adam", loss="mse")
        ...         return model
        ...     def fit(self, hp, model, *args, **kwargs):
        ...         return model.fit(*args, batch_size=hp.Choice("batch_size", [16, 32]), **kwargs)
        >>> Family().build(gn.tuning.HyperParameters()).layers[0].units
        8
    """

    def __init__(self, name: str | None = None, tunable: bool = True):
        self.name = name
        self.tunable = tunable

    def build(self, hp):
        raise NotImplementedError(f"{type(self).__name__} must define build(self, hp), returning a compiled model.")

    def fit(self, hp, model, *args, **kwargs):
        return model.fit(*args, **kwargs)


class _FunctionHyperModel(HyperModel):
    """A plain ``build_model(hp)`` function as a HyperModel (``tuner.hypermodel.build(hp)`` works)."""

    def __init__(self, build):
        super().__init__(name=getattr(build, "__name__", None))
        self._build = build

    def build(self, hp):
        return self._build(hp)


def _as_hypermodel(hypermodel) -> HyperModel:
    if isinstance(hypermodel, HyperModel):
        return hypermodel
    if callable(hypermodel) and not isinstance(hypermodel, type):
        return _FunctionHyperModel(hypermodel)
    raise TypeError(f"hypermodel must be a function build_model(hp) or a HyperModel instance; got {hypermodel!r}."
                    + (" Pass an instance: hypermodel=MyHyperModel()." if isinstance(hypermodel, type) else ""))


def _objective(objective) -> Objective | str:
    """An Objective, or a metric name whose direction the Tuner infers; keras-tuner's default val_loss."""
    if objective is None:
        return Objective("val_loss", "min")
    if isinstance(objective, (list, tuple)):
        raise ValueError("Several objectives (a list) are not supported: glassnet scores a trial by one metric. "
                         "Pass one name or one Objective.")
    if isinstance(objective, (str, Objective)):
        return objective
    raise TypeError(f"objective must be a metric name or gn.tuning.Objective(name, direction); got {objective!r}.")


def _refuse(kwargs: dict, cls: str) -> None:
    for name in kwargs:
        reason = _UNSUPPORTED.get(name)
        if reason is not None:
            raise TypeError(f"{cls}: keras-tuner's argument {name!r} is not supported in glassnet: {reason}.")
        raise TypeError(f"{cls} got an unexpected argument {name!r}.")


class _KerasTunerSearch:
    """What the four searches share: construction of the Tuner and keras-tuner's reports."""

    _strategy = "random"

    def __init__(self, hypermodel=None, objective=None, max_trials=None, executions_per_trial: int = 1,
                 directory=None, project_name: str | None = None, overwrite: bool = False, seed: int | None = None,
                 *, pruning=None, startup_trials=None, **kwargs):
        _refuse(kwargs, type(self).__name__)
        if hypermodel is None:
            raise TypeError(f"{type(self).__name__} needs hypermodel=: a function build_model(hp) or a HyperModel.")
        self.hypermodel = _as_hypermodel(hypermodel)
        self.objective = _objective(objective)
        self.project_name = project_name or "untitled_project"
        #: keras-tuner's ``directory/project_name``: the study journal and each trial's best model
        #: (None: kept in memory, and get_best_models retrains).
        self.project_dir = None if directory is None else os.path.join(os.fspath(directory), self.project_name)
        if overwrite and self.project_dir is not None and os.path.isdir(self.project_dir):
            shutil.rmtree(self.project_dir)
        name = self.objective.name if isinstance(self.objective, Objective) else self.objective
        direction = "auto" if isinstance(self.objective, str) else (
            "maximize" if self.objective.direction == "max" else "minimize")
        overrides_fit = type(self.hypermodel).fit is not HyperModel.fit
        self._batch_size_given = False
        #: the glassnet Tuner doing the work: ``.results`` (a DataFrame), ``.study``, plots.
        self.tuner = Tuner(self.hypermodel.build, None, objective=name, direction=direction, strategy=self._strategy,
                           max_trials=max_trials, executions_per_trial=executions_per_trial, pruning=pruning,
                           directory=self.project_dir, study_name=self.project_name, seed=seed,
                           fit_model=self._fit if overrides_fit else None, startup_trials=startup_trials)

    # -- searching ------------------------------------------------------------------------------
    def search(self, x=None, y=None, **fit_kwargs):
        """Run the search: ``fit``'s arguments (``epochs``, ``batch_size``, ``validation_data``,
        ``validation_split``, ``callbacks``, ``shuffle``, ``class_weight``, ``verbose``) go to every
        trial's ``fit``; returns None, as keras-tuner's."""
        unknown = [k for k in fit_kwargs if k not in _SEARCH_ARGS]
        if unknown:
            raise TypeError(f"search got argument(s) {', '.join(map(repr, unknown))} that glassnet's trials do not "
                            f"forward to fit; it forwards {', '.join(_SEARCH_ARGS)}.")
        if x is None:
            raise TypeError("search needs the training data: search(x, y, epochs=..., validation_data=...).")
        self._batch_size_given = "batch_size" in fit_kwargs
        self.tuner.verbose = fit_kwargs.pop("verbose", 1)
        fit_kwargs.setdefault("epochs", 1)  # Keras' fit default
        if fit_kwargs.get("batch_size") is None:
            fit_kwargs["batch_size"] = 32
        self._prepare_search(fit_kwargs)
        self.tuner.search(x, y, **fit_kwargs)

    def _prepare_search(self, fit_kwargs: dict) -> None:
        """A search's own adjustments of fit's arguments (Hyperband sets the epochs)."""

    def _fit(self, hp, model, x, y, **kwargs):
        # batch_size only when search got one, so that HyperModel.fit may choose its own
        # (model.fit(*args, batch_size=hp.Choice(...), **kwargs)) as with keras-tuner.
        if not self._batch_size_given:
            kwargs.pop("batch_size", None)
        return self.hypermodel.fit(hp, model, x, y, **kwargs)

    # -- reports ----------------------------------------------------------------------------------
    def _best_trials(self, n: int) -> list:
        study = self.tuner.study
        if study is None:
            raise RuntimeError("No search has run yet: call tuner.search(x, y, ...) first.")
        done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
        sign = -1 if self.tuner.optimization_direction == "maximize" else 1
        return sorted(done, key=lambda t: (sign * t.value, t.number))[:n]

    def get_best_hyperparameters(self, num_trials: int = 1) -> list[HyperParameters]:
        """The best trials' parameters, best first, each a ``HyperParameters`` holding them:
        ``tuner.hypermodel.build(best_hps[0])`` builds that model."""
        out = []
        for trial in self._best_trials(num_trials):
            hp = HyperParameters()
            hp.values.update(trial.params)
            out.append(hp)
        return out

    def get_best_models(self, num_models: int = 1) -> list:
        """The best trials' models at their best epoch, best first: loaded from ``project_dir``
        when a directory was given, else retrained with each trial's seed."""
        return [self.tuner.trial_model(trial) for trial in self._best_trials(num_models)]

    def search_space_summary(self, extended: bool = False, print_fn=print) -> None:
        """Print the parameters ``build(hp)`` defines (built once with their defaults)."""
        hp = HyperParameters()
        self.hypermodel.build(hp)
        lines = ["Search space summary", f"Default search space size: {len(hp.space)}"]
        for name, d in hp.space.items():
            kind = {"int": "Int", "float": "Float", "fixed": "Fixed"}.get(d["kind"], "Choice")
            if d["kind"] == "choice" and d["values"] == [False, True]:
                kind = "Boolean"
            if d["kind"] in ("int", "float"):
                info = {"default": d.get("default"), "min_value": d["low"], "max_value": d["high"],
                        "step": d["step"], "sampling": "log" if d["log"] else "linear"}
            elif d["kind"] == "fixed":
                info = {"value": d["value"]}
            else:
                info = {"default": d.get("default"), "values": d["values"]}
                if kind == "Choice":
                    info["ordered"] = d.get("ordered", False)
            lines += [f"{name} ({kind})", str(info)]
        print_fn("\n".join(lines))

    def results_summary(self, num_trials: int = 10, print_fn=print) -> None:
        """Print the ``num_trials`` best trials: parameters and score, best first."""
        objective = self.objective if isinstance(self.objective, Objective) else Objective(
            self.objective, "max" if self.tuner.optimization_direction == "maximize" else "min")
        lines = ["Results summary", f"Results in {self.project_dir or '(memory)'}",
                 f"Showing {num_trials} best trials", repr(objective)]
        for trial in self._best_trials(num_trials):
            lines += ["", f"Trial {trial.number:02d} summary", "Hyperparameters:"]
            lines += [f"{k}: {v}" for k, v in trial.params.items()]
            lines.append(f"Score: {trial.value}")
        print_fn("\n".join(lines))

    def __repr__(self):
        return f"<{type(self).__name__} objective={self.objective!r} project={self.project_name!r}>"


class RandomSearch(_KerasTunerSearch):
    """keras-tuner's ``RandomSearch``: ``max_trials`` parameter sets drawn at random (Optuna's
    RandomSampler, trial k's draw seeded from (seed, k)).

    Args:
        hypermodel: a function ``build_model(hp)`` returning a compiled model, or a ``HyperModel``.
        objective: a metric name ("val_accuracy"; direction inferred from it), an
            ``Objective(name, "min"/"max")``, or None for "val_loss".
        max_trials: parameter sets to try.
        executions_per_trial: models trained per set (different seeds), their scores averaged.
        directory, project_name: where results go (``directory/project_name``: the study
            journal, each trial's best model); a second search with the same ones resumes the
            study; None keeps everything in memory.
        overwrite: delete ``directory/project_name`` first, to start afresh.
        seed: the search's seed (drawn parameters and every model's seed).

    Example:
        >>> import numpy as np, glassnet as gn
        >>> def build_model(hp):
        ...     model = gn.Sequential([gn.layers.Dense(hp.Int("units", 4, 16, step=4), activation="relu",
        ...                                            input_shape=(2,)), gn.layers.Dense(1, activation="sigmoid")])
        ...     model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
        ...     return model
        >>> x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32"); y = (x[:, 0] > 0) * 1
        >>> tuner = gn.tuning.RandomSearch(build_model, objective="val_accuracy", max_trials=2, seed=0)
        >>> tuner.search(x, y, epochs=2, validation_split=0.25, verbose=0)
        >>> len(tuner.get_best_hyperparameters(2))
        2
    """

    _strategy = "random"

    def __init__(self, hypermodel=None, objective=None, max_trials: int = 10, seed: int | None = None,
                 executions_per_trial: int = 1, directory=None, project_name: str | None = None,
                 overwrite: bool = False, **kwargs):
        super().__init__(hypermodel, objective, max_trials, executions_per_trial, directory, project_name,
                         overwrite, seed, **kwargs)


class GridSearch(_KerasTunerSearch):
    """keras-tuner's ``GridSearch``: every combination of the values ``build(hp)`` defines (in a
    seeded random order), or ``max_trials`` of them. Arguments as ``RandomSearch``; a Float
    needs ``step`` to have a grid.
    """

    _strategy = "grid"

    def __init__(self, hypermodel=None, objective=None, max_trials: int | None = None, seed: int | None = None,
                 executions_per_trial: int = 1, directory=None, project_name: str | None = None,
                 overwrite: bool = False, **kwargs):
        super().__init__(hypermodel, objective, max_trials, executions_per_trial, directory, project_name,
                         overwrite, seed, **kwargs)

    def _fit(self, hp, model, x, y, **kwargs):
        known = set(hp.space)
        try:
            return super()._fit(hp, model, x, y, **kwargs)
        except ValueError:
            new = [name for name in hp.space if name not in known]
            if not new:
                raise
            # The grid is read from build(hp) before the search; Optuna's grid has no such axis.
            raise SetupError(f"GridSearch enumerates the parameters build(hp) defines, but HyperModel.fit defines "
                             f"{', '.join(map(repr, new))}: define it in build (it may still be read in fit with "
                             f"hp.get), or use RandomSearch or BayesianOptimization.") from None


class BayesianOptimization(_KerasTunerSearch):
    """keras-tuner's ``BayesianOptimization``, run by Optuna's TPE sampler.

    keras-tuner fits a Gaussian process; glassnet uses TPE (Tree-structured Parzen Estimator),
    also a model-based search that proposes parameters from the trials so far. TPE because it
    handles what keras-tuner hypermodels define: choices, integers and parameters that exist in
    some trials only (``for i in range(hp.Int("layers", 1, 3))``); Optuna's GP sampler models only
    the parameters every trial shares (others are drawn at random) and needs PyTorch.

    Args:
        num_initial_points: random trials before the model-based ones (TPE's ``n_startup_trials``);
            None: 3 per parameter ``build(hp)`` defines, as keras-tuner.
        alpha, beta: the Gaussian process' noise and UCB weight in keras-tuner; TPE has neither,
            so only their defaults are accepted.
        others: as ``RandomSearch``.
    """

    _strategy = "tpe"

    def __init__(self, hypermodel=None, objective=None, max_trials: int = 10, num_initial_points: int | None = None,
                 alpha: float = 1e-4, beta: float = 2.6, seed: int | None = None, executions_per_trial: int = 1,
                 directory=None, project_name: str | None = None, overwrite: bool = False, **kwargs):
        if alpha != 1e-4 or beta != 2.6:
            raise ValueError("alpha and beta tune keras-tuner's Gaussian process; glassnet's BayesianOptimization "
                             "runs Optuna's TPE, which has neither. Leave them at their defaults (or set "
                             "num_initial_points).")
        if num_initial_points is None:
            hp = HyperParameters()
            try:
                _as_hypermodel(hypermodel).build(hp)
            except Exception:  # the search reports a failing build with its traceback
                pass
            num_initial_points = 3 * max(1, len(hp.space))
        self.num_initial_points = num_initial_points
        super().__init__(hypermodel, objective, max_trials, executions_per_trial, directory, project_name,
                         overwrite, seed, startup_trials=num_initial_points, **kwargs)


def hyperband_trials(max_epochs: int, factor: int) -> int:
    """Parameter sets one Hyperband iteration starts: bracket s (s_max down to 0) starts
    ceil((s_max + 1) / (s + 1) * factor**s), with s_max the largest s such that factor**s <= max_epochs."""
    s_max = 0
    while factor ** (s_max + 1) <= max_epochs:
        s_max += 1
    return sum(-(-(s_max + 1) * factor**s // (s + 1)) for s in range(s_max + 1))


class Hyperband(_KerasTunerSearch):
    """keras-tuner's ``Hyperband``: random parameter sets, most stopped after a few epochs, run by
    Optuna's ``HyperbandPruner`` (brackets from 1 to ``max_epochs`` epochs, ``factor`` as its
    reduction factor).

    Each trial trains for up to ``max_epochs`` (``search``'s ``epochs`` is ignored, as in
    keras-tuner) and is stopped at a bracket's rung when its score is not in the best
    1 / ``factor`` there. There are as many trials as keras-tuner's Hyperband starts parameter
    sets: ``hyperband_iterations`` times the sum over brackets (``hyperband_trials``), unless
    ``max_trials`` caps them. Differences: keras-tuner resumes a promoted model from its saved
    weights, where an Optuna trial trains on from its own last epoch (the same effect, one trial
    per parameter set); Optuna assigns trials to brackets by a hash of the trial number rather than
    bracket by bracket, so the epochs spent differ from keras-tuner's.

    Args:
        max_epochs: the most epochs a trial trains.
        factor: the reduction factor: 1 in ``factor`` trials goes on at each rung.
        hyperband_iterations: how many times to run the whole set of brackets.
        others: as ``RandomSearch``.
    """

    _strategy = "random"

    def __init__(self, hypermodel=None, objective=None, max_epochs: int = 100, factor: int = 3,
                 hyperband_iterations: int = 1, seed: int | None = None, executions_per_trial: int = 1,
                 directory=None, project_name: str | None = None, overwrite: bool = False,
                 max_trials: int | None = None, **kwargs):
        for name, value, low in (("max_epochs", max_epochs, 1), ("factor", factor, 2),
                                 ("hyperband_iterations", hyperband_iterations, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}; got {value!r}.")
        self.max_epochs, self.factor, self.hyperband_iterations = max_epochs, factor, hyperband_iterations
        trials = hyperband_iterations * hyperband_trials(max_epochs, factor)
        pruner = optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max_epochs, reduction_factor=factor)
        super().__init__(hypermodel, objective, min(trials, max_trials or trials), executions_per_trial, directory,
                         project_name, overwrite, seed, pruning=pruner, **kwargs)

    def _prepare_search(self, fit_kwargs: dict) -> None:
        fit_kwargs["epochs"] = self.max_epochs
