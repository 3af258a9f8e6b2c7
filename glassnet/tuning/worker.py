"""A search worker: open the shared study and run trials until the budget is used.

``Tuner.search`` runs one in-process or ``n_workers`` as worker processes (started by
``glassnet.tuning.processes``); on other machines start more against the same storage::

    python -m glassnet.tuning.worker --storage postgresql://user@db/optuna --study digits

Such a worker reads everything else (the build function, the space, the data file, the
training settings) from the study, where ``Tuner.search`` or ``Tuner.publish`` put it.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import logging
import os
import sys
import time
import warnings
from dataclasses import dataclass

import numpy as np
import optuna
from optuna.trial import TrialState

from glassnet import backend
from glassnet.tuning import arrays
from glassnet.tuning.errors import SetupError
from glassnet.tuning.pruning import make_pruner
from glassnet.tuning.space import parse_space, space_from_config
from glassnet.tuning.study import Budget, make_sampler, open_storage, stop_reason
from glassnet.tuning.trial import TrialFailed, TrialSetup, call_style, run_trial

#: the study user attribute holding a worker's instructions (JSON).
SPEC_ATTR = "glassnet:spec"


@dataclass
class WorkerPlan:
    """Where and how a worker searches; picklable, so worker processes receive it whole."""

    storage: object  # a URL / journal path (str), or an Optuna storage for an in-process worker
    study_name: str
    strategy: str
    grid: dict | None
    pruning: object
    budget: Budget
    heartbeat_interval: int | None = None
    grace_period: int | None = None
    worker_index: int = 0
    #: BLAS threads per worker process (None: leave as is); n workers share the cores.
    threads: int | None = None
    #: TPE's random trials before it models the results (None: Optuna's default).
    startup_trials: int | None = None
    #: where the trials compute (gn.config.set_device): the tuner's device; worker processes on
    #: one machine share its GPU (device 0, CuPy's default), each with its own CUDA context.
    device: str = "cpu"


def run_worker(plan: WorkerPlan, setup: TrialSetup, callbacks=(), n_trials: int | None = None) -> None:
    """Run trials of ``plan.study_name`` until the budget, the time limit or the target ends the study.

    A trial whose build or training raises is recorded as failed (with its traceback) and the
    worker goes on; a mistake every trial would repeat (``SetupError``) is raised.
    """
    storage = open_storage(plan.storage, plan.heartbeat_interval, plan.grace_period)
    study = optuna.load_study(study_name=plan.study_name, storage=storage,
                              sampler=make_sampler(plan.strategy, setup.seed, plan.grid, plan.worker_index,
                                                   plan.startup_trials),
                              pruner=make_pruner(plan.pruning, setup.epochs))
    budget = plan.budget

    def objective(trial):
        original = trial.user_attrs.get("root_trial", trial.number) == trial.number
        reason = stop_reason(study, budget, trial.number if original else None)
        if reason is not None and (original or reason != "trial budget used"):
            # Created past the end (another worker took the last trial at the same moment):
            # record it as skipped, which the results and the budget ignore.
            trial.set_user_attr("skipped", reason)
            study.stop()
            raise optuna.TrialPruned(reason)
        return run_trial(trial, setup)

    def stop_when_done(study, _trial):
        reason = stop_reason(study, budget)
        if reason is not None and not (reason == "trial budget used" and _count(study, TrialState.WAITING)):
            study.stop()

    heartbeat = getattr(storage, "get_heartbeat_interval", lambda: None)()
    while True:
        reason = stop_reason(study, budget)
        if reason is None or (reason == "trial budget used" and _count(study, TrialState.WAITING)):
            before = len(study.get_trials(deepcopy=False))
            study.optimize(objective, n_trials=n_trials, timeout=budget.remaining_time(), catch=(TrialFailed,),
                           callbacks=[stop_when_done, *callbacks], gc_after_trial=False, show_progress_bar=False)
            if n_trials is None and len(study.get_trials(deepcopy=False)) > before:
                continue
        elif reason == "trial budget used" and heartbeat and _count(study, TrialState.RUNNING):
            # Nothing new to start, but a running trial's worker may have died: wait for its
            # heartbeat to go stale, so that its parameters are queued again and run here.
            time.sleep(heartbeat)
            with warnings.catch_warnings():
                # fail_stale_trials is marked experimental in Optuna (stable since 2.9).
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                optuna.storages.fail_stale_trials(study)
            continue
        return


def _count(study, state) -> int:
    return len(study.get_trials(deepcopy=False, states=(state,)))


def process_main(plan: WorkerPlan, setup: TrialSetup) -> None:
    """Run a worker process' trials (``glassnet.tuning.processes`` starts it and sends both).

    Exits with 3 after a ``SetupError``, which its trial recorded for the parent to raise; any
    other error ends the process with 1 and its message, which the parent reports.
    """
    from threadpoolctl import threadpool_limits

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        backend.set_device(plan.device)  # this process' own setting, the tuner's choice
        with threadpool_limits(limits=plan.threads):
            run_worker(plan, setup)
    except SetupError as err:
        print(f"glassnet worker {plan.worker_index}: {type(err).__name__}: {err}", file=sys.stderr)
        sys.exit(3)


# -- workers on other machines ----------------------------------------------------------------------
def _import_build(ref: dict):
    module_name, qualname, path = ref["module"], ref["qualname"], ref.get("file")
    try:
        if module_name in ("__main__", "__mp_main__"):
            raise ImportError(module_name)
        module = importlib.import_module(module_name)
    except ImportError:
        if not path or not os.path.exists(path):
            raise ImportError(f"Cannot import the build function {module_name}:{qualname}; run the worker where "
                              f"its module is importable (or its file {path!r} exists).") from None
        spec = importlib.util.spec_from_file_location("_glassnet_tuning_build", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    target = module
    for part in qualname.split("."):
        target = getattr(target, part)
    return target


def plan_from_study(storage, study_name: str, data_path: str | None = None, build=None):
    """The (plan, setup) that ``Tuner.publish`` stored in a study, for a worker started by hand.

    ``build`` replaces the stored build function reference (``glassnet tune-worker`` passes the
    one it rebuilds from the study's search config)."""
    study = optuna.load_study(study_name=study_name, storage=open_storage(storage))
    spec = study.user_attrs.get(SPEC_ATTR)
    if spec is None:
        raise ValueError(f"Study {study_name!r} has no glassnet instructions; start the search with "
                         f"gn.tuning.Tuner(..., storage=...).search(...) or .publish(...) first.")
    spec = json.loads(spec)
    data_path = data_path or spec.get("data")
    if not data_path or not os.path.exists(data_path):
        raise FileNotFoundError(f"The search data file {data_path!r} is not here; pass --data PATH (an .npz with "
                                f"x, y and optionally x_val, y_val, as Tuner.publish writes).")
    with np.load(data_path) as data:
        stored = {k: data[k] for k in data.files}
    data = {name: arrays.from_npz(name, stored) for name in ("x", "y", "x_val", "y_val")}
    build = build if build is not None else _import_build(spec["build"])
    space = parse_space(space_from_config(spec["space"])) if spec["space"] is not None else None
    setup = TrialSetup(build_model=build, style=call_style(build, space or {}), space=space,
                       objective=spec["objective"], direction=spec["direction"], x=data["x"], y=data["y"],
                       epochs=spec["epochs"], batch_size=spec["batch_size"],
                       validation_data=(data["x_val"], data["y_val"]) if data["x_val"] is not None else None,
                       cv=spec["cv"], executions_per_trial=spec["executions_per_trial"], seed=spec["seed"],
                       pruning=spec["pruning"] is not None, fit_kwargs=spec["fit_kwargs"],
                       model_dir=spec["model_dir"], checkpoint_dir=spec["checkpoint_dir"])
    budget = Budget(n_trials=spec["n_trials"], deadline=spec["deadline"], target=spec["target"],
                    direction=spec["direction"], since=spec["since"])
    plan = WorkerPlan(storage=storage, study_name=study_name, strategy=spec["strategy"], grid=spec["grid"],
                      pruning=spec["pruning"], budget=budget, heartbeat_interval=spec["heartbeat_interval"],
                      grace_period=spec["grace_period"], worker_index=os.getpid(),
                      startup_trials=spec.get("startup_trials"))
    return plan, setup


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m glassnet.tuning.worker",
                                     description="Run trials of a glassnet search stored in a shared Optuna storage.")
    parser.add_argument("--storage", required=True, help="RDB URL or journal file path shared by all workers")
    parser.add_argument("--study", required=True, help="the study name given to the Tuner")
    parser.add_argument("--data", help="the .npz data file, when not at the path the study records")
    parser.add_argument("--trials", type=int, help="stop after this many trials of this worker")
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--device", choices=["cpu", "gpu"], help="where this worker computes (default: "
                        "$GLASSNET_DEVICE, else cpu)")
    args = parser.parse_args(argv)
    if args.device:
        backend.set_device(args.device)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    if not args.quiet:
        logging.basicConfig(level=logging.INFO, format="%(message)s")
    plan, setup = plan_from_study(args.storage, args.study, args.data)

    def announce(study, trial):
        if not args.quiet:
            print(f"trial {trial.number} {trial.state.name.lower()}"
                  + (f" {setup.objective}={trial.value:.4f}" if trial.value is not None else ""), flush=True)

    run_worker(plan, setup, callbacks=[announce], n_trials=args.trials)
    return 0


if __name__ == "__main__":
    sys.exit(main())
