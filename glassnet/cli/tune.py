"""``glassnet tune``: a search config -> data -> Tuner search -> the best model -> a run folder with
the leaderboard; and ``glassnet tune-worker``, one more worker for a search on a shared storage."""

from __future__ import annotations

import copy
import json
import shutil
import time
import warnings
from pathlib import Path

import numpy as np

from glassnet.cli import config as config_module
from glassnet.cli import plots, report, run_folder, train
from glassnet.cli.tune_config import DEFAULT_TRIALS, ConfigBuild, Search, first_value, resolve

LEADERBOARD_FILE = "leaderboard.csv"
LOG_FILE = "tune.log"
#: the folder of the run folder holding the study journal, each trial's model and the data for workers.
SEARCH_DIR = "search"
#: the study user attribute holding the search config, from which ``glassnet tune-worker`` builds models.
BUILD_ATTR = "glassnet:config-build"
#: callbacks that make sense in every trial (the others write files one trial would overwrite).
TRIAL_CALLBACKS = ("EarlyStopping", "ReduceLROnPlateau", "TerminateOnNaN")


def apply_overrides(search: Search, *, workers=None, storage=None, trials=None, seed=None, out=None,
                    name=None) -> Search:
    """Command-line options over the config's ``[tune]`` and top-level values (None: not given)."""
    search = copy.copy(search)
    search.config = config_module.apply_overrides(search.config, seed=seed, out=out, name=name)
    search.tune = dict(search.tune)
    for key, value in (("n_workers", workers), ("storage", storage), ("max_trials", trials), ("seed", seed)):
        if value is not None:
            search.tune[key] = value
    return search


def tuner_settings(search: Search, data) -> dict:
    """The Tuner's arguments from ``[tune]``, with defaults that follow the config and the data."""
    tune, config = search.tune, search.config
    metrics = (config.get("compile") or {}).get("metrics")
    classify = data.task in ("binary", "multiclass")
    accuracy = classify if metrics is None else "accuracy" in metrics
    pruning = tune.get("pruning")
    pruning = "hyperband" if pruning is True else None if pruning in (False, "none") else pruning
    strategy = tune.get("strategy", "tpe")
    max_trials = tune.get("max_trials")
    if max_trials is None and strategy != "grid" and not tune.get("time_limit") and not tune.get("fraction_limit"):
        max_trials = DEFAULT_TRIALS
    return {"objective": tune.get("objective", "val_accuracy" if accuracy else "val_loss"),
            "direction": tune.get("direction", "auto"), "strategy": strategy, "max_trials": max_trials,
            "time_limit": tune.get("time_limit"), "fraction_limit": tune.get("fraction_limit"),
            "target": tune.get("target"), "executions_per_trial": tune.get("executions_per_trial", 1),
            "cv": tune.get("cv"), "pruning": pruning, "n_workers": tune.get("n_workers", 1),
            "study_name": tune.get("study_name", config["name"]), "seed": tune.get("seed", config["seed"])}


def run(search: Search, *, quiet: bool = False) -> Path:
    """Search what ``search`` describes and write the run folder; returns its path."""
    log = run_folder.Log(quiet)
    started = time.perf_counter()
    folder = run_folder.create(search.config["out"], search.config["name"])  # fail before any work if unwritable
    log.open(folder / LOG_FILE)
    try:
        return _run(search, folder, log, started, quiet)
    except Exception as err:
        log.failed(err)
        raise
    finally:
        log.close()


def _check_builds(search: Search, build: ConfigBuild) -> None:
    """Build the first model (errors name the line), then one per choice of each parameter, so a
    value no trial could build is reported now rather than as failed trials."""
    first = {name: first_value(spec) for name, spec in search.space.items()}
    build.build(first, search.locator)
    for name, spec in search.space.items():
        for value in spec[1:] if isinstance(spec, list) else ():
            try:
                build.build({**first, name: value})
            except Exception as err:
                raise search.locator.error(search.paths[name], f"the choice {value!r} does not build: {err}") from None


def _callbacks(search: Search, folder: Path) -> list:
    for i, spec in enumerate(search.config.get("callbacks") or []):
        if spec["type"] not in TRIAL_CALLBACKS:
            raise search.locator.error(("callbacks", i, "type"), f"{spec['type']} is not used in a search (each "
                                       f"trial would overwrite its files); callbacks here: {', '.join(TRIAL_CALLBACKS)}.",
                                       spec["type"])
    return train.make_callbacks(search.config.get("callbacks"), folder, search.locator)


def _make_tuner(search: Search, build: ConfigBuild, settings: dict, folder: Path, quiet: bool):
    from glassnet.tuning import Tuner

    search_dir = folder / SEARCH_DIR
    storage = search.tune.get("storage") or str(search_dir / f"{settings['study_name']}.journal")
    search_dir.mkdir()
    try:
        return Tuner(build, search.space, **settings, storage=storage, directory=search_dir, verbose=0 if quiet else 1)
    except ValueError as err:
        key = next((k for k in (*settings, "storage") if str(err).startswith(k)), None)
        raise search.locator.error(("tune",) if key is None else ("tune", key), str(err)) from None


def _publish_build(tuner, build: ConfigBuild) -> None:
    """Put the search config in the study, for ``glassnet tune-worker`` on other machines."""
    import optuna

    from glassnet.tuning import open_storage

    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # not "A new study created ..." before the search says it
    try:
        study = optuna.create_study(study_name=tuner.study_name, storage=open_storage(tuner.storage),
                                    load_if_exists=True, direction=tuner.optimization_direction)
        study.set_user_attr(BUILD_ATTR, build.to_json())
    finally:
        optuna.logging.set_verbosity(verbosity)


def _run(search: Search, folder: Path, log, started: float, quiet: bool) -> Path:
    config = search.config
    log(f"Run folder: {folder}")
    data = train.load_data(config, log)
    build = ConfigBuild.for_data(config, search.paths, data, search.locator)
    _check_builds(search, build)
    settings = tuner_settings(search, data)
    callbacks = _callbacks(search, folder)
    tuner = _make_tuner(search, build, settings, folder, quiet)
    _publish_build(tuner, build)
    fit = config["fit"]
    split = 0.0 if settings["cv"] else search.tune.get("validation_split", fit.get("validation_split") or 0.2)
    log(f"Searching {len(search.space)} parameter(s) ({', '.join(search.space)}): strategy {settings['strategy']}, "
        f"{settings['max_trials'] or 'all'} trials, objective {settings['objective']}, {settings['n_workers']} worker(s)")
    log(f"  study {settings['study_name']!r} in {tuner.storage}")
    t0 = time.perf_counter()
    with log.capture():
        tuner.search(data.x_train, data.y_train, epochs=fit.get("epochs", 1), batch_size=fit.get("batch_size", 32),
                     validation_split=split, callbacks=callbacks, shuffle=fit.get("shuffle", True),
                     class_weight=train._class_weight(fit.get("class_weight"), data.y_train, data.class_names))
    search_seconds = time.perf_counter() - t0

    results = tuner.results
    tuner.to_csv(folder / LEADERBOARD_FILE)
    from glassnet.tuning.results import summary_text

    log(summary_text(results, settings["objective"], top=10, width=shutil.get_terminal_size((100, 24)).columns))
    try:
        best = tuner.best_trial
    except RuntimeError:
        raise RuntimeError(f"no trial completed; see {folder / LEADERBOARD_FILE} for the failed and pruned ones.") from None
    model = tuner.best_model()
    if data.preprocessor is not None:
        model.attach_preprocessor(data.preprocessor)
    model_path = folder / run_folder.MODEL_FILE
    model.save(model_path)

    best_params = {name: tuner.best_params[name] for name in search.space}
    best_config = resolve(config, search.paths, best_params)
    best_config["seed"] = int(best.user_attrs.get("seed", config["seed"]))
    best_epoch = best.user_attrs.get("best_epoch")
    if best_epoch:
        best_config["fit"]["epochs"] = int(best_epoch)  # the saved weights are those of this epoch
    config_text = (f"# glassnet tune: the best of {len(results)} trials (trial {best.number}, {settings['objective']} "
                   f"{best.value:.4f}).\n# seed is the trial's model seed and epochs its best epoch; "
                   f"`glassnet train` on it trains this configuration again.\n" + config_module.dumps(best_config))
    (folder / run_folder.CONFIG_FILE).write_text(config_text, encoding="utf-8")

    counts = results["state"].value_counts()
    metrics = {"objective": settings["objective"], "best_value": float(best.value), "best_trial": best.number,
               "best_params": best_params, "best_epoch": best_epoch, "trials": len(results),
               **{f"trials_{state}": int(counts.get(state, 0)) for state in ("complete", "pruned", "fail")},
               "epochs_trained": int(results["epochs"].sum()), "search_seconds": round(search_seconds, 3)}
    png = _search_plots(tuner, folder)
    test_metrics, test_png = train.evaluate_on_test(model, data, folder)
    metrics.update(test_metrics)
    png.update(test_png)
    with open(folder / run_folder.METRICS_FILE, "w", encoding="utf-8") as f:
        json.dump(metrics, f, indent=2, default=_plain)

    log(f"Best: trial {best.number}, {settings['objective']} {best.value:.4f}, "
        + ", ".join(f"{k} = {_short(v)}" for k, v in best_params.items()))
    if test_metrics:
        log("Test metrics of the best model: " + ", ".join(f"{k[5:]} {v:.4f}" for k, v in test_metrics.items()
                                                           if k.startswith("test_") and isinstance(v, float)))
    total = time.perf_counter() - started
    facts = [("run folder", str(folder)), ("data", data.description),
             ("training samples", f"{len(data.x_train):,}"), ("test samples", f"{metrics.get('n_test', 0):,}"),
             ("strategy", settings["strategy"]), ("objective", settings["objective"]),
             ("trials", ", ".join(f"{counts[s]} {s}" for s in counts.index)),
             ("best trial", f"{best.number}: {best.value:.4f}"),
             ("best parameters", ", ".join(f"{k} = {_short(v)}" for k, v in best_params.items())),
             ("epochs trained (all trials)", metrics["epochs_trained"]), ("search time", f"{search_seconds:.1f} s"),
             ("total time", f"{total:.1f} s"), ("study", f"{settings['study_name']} in {tuner.storage}"),
             ("seed", settings["seed"])]
    report.write(folder / run_folder.REPORT_FILE, title=f"{config['name']} (tuning)", model=model,
                 config_text=config_text, metrics={k: v for k, v in metrics.items() if k != "best_trial"},
                 plots=png, facts=facts, leaderboard=_leaderboard_rows(results))
    log(f"Done in {total:.1f}s. Results: {folder}")
    log(f"  report:      {folder / run_folder.REPORT_FILE}")
    log(f"  best model:  {model_path}")
    log(f"  leaderboard: {folder / LEADERBOARD_FILE}")
    return folder


def _search_plots(tuner, folder: Path) -> dict:
    """Optuna's matplotlib plots of the study; those the trials cannot support are left out
    (importances need two completed trials that differ, per-epoch values need pruning)."""
    import matplotlib.pyplot as plt
    import optuna

    pruned = tuner.pruning is not None
    made = {}
    for caption, method, filename in (("Optimisation history", "plot_history", "history.png"),
                                      ("Objective per epoch (pruning)", "plot_intermediate_values", "intermediate.png"),
                                      ("Parameter importances", "plot_importances", "importances.png"),
                                      ("Parallel coordinates", "plot_parallel_coordinates", "parallel.png")):
        if method == "plot_intermediate_values" and not pruned:
            continue  # trials report per-epoch values only when pruning
        verbosity = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(optuna.logging.ERROR)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # Optuna warns where a plot has too little to show
                ax = getattr(tuner, method)()
                figure = (ax.flat[0] if isinstance(ax, np.ndarray) else ax).figure
                if not figure.axes or not any(a.has_data() for a in figure.axes):
                    plt.close(figure)
                    continue
                figure.set_size_inches(7, 4.5)
                figure.tight_layout()
                made[caption] = plots.save(figure, folder / filename)
                plt.close(figure)
        except Exception:  # a plot is a nicety; the leaderboard holds the same figures
            plt.close("all")
        finally:
            optuna.logging.set_verbosity(verbosity)
    return made


def _leaderboard_rows(results, limit: int = 200) -> list[dict]:
    rows = []
    for record in results.head(limit).to_dict("records"):
        row = {}
        for key, value in record.items():
            if key == "error":
                value = (str(value).strip().splitlines() or [""])[-1][:120] if isinstance(value, str) else ""
            elif value is None or (not isinstance(value, str) and _isna(value)):
                value = ""
            row[key] = value
        rows.append(row)
    return rows


def _isna(value) -> bool:
    import pandas as pd

    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _short(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


# -- glassnet tune-worker ----------------------------------------------------------------------------
def run_worker(storage: str, study_name: str, data_path=None, trials=None, quiet=False, say=print) -> int:
    """Run trials of a search ``glassnet tune`` started, until its budget is used; returns trials run."""
    import optuna

    from glassnet.tuning import open_storage
    from glassnet.tuning import worker

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        study = optuna.load_study(study_name=study_name, storage=open_storage(storage))
    except KeyError:
        raise ValueError(f"no study {study_name!r} in {storage}; start the search with glassnet tune first "
                         f"(the study name is the config's name unless [tune] study_name says otherwise).") from None
    text = study.user_attrs.get(BUILD_ATTR)
    if text is None:
        raise ValueError(f"study {study_name!r} was not started by glassnet tune; run its workers with "
                         f"python -m glassnet.tuning.worker --storage ... --study {study_name}.")
    build = ConfigBuild.from_json(text)
    plan, setup = worker.plan_from_study(storage, study_name, data_path, build=build)
    setup.callbacks = train.make_callbacks(build.config.get("callbacks"), Path("."))
    ran = []

    def announce(_study, trial):
        ran.append(trial.number)
        if not quiet:
            value = f" {setup.objective} {trial.value:.4f}" if trial.value is not None else ""
            say(f"trial {trial.number} {trial.state.name.lower()}{value}")

    worker.run_worker(plan, setup, callbacks=[announce], n_trials=trials)
    return len(ran)
