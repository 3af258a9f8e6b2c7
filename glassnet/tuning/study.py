"""The Optuna side of a search: storages, samplers, the budget and crashed trials.

Workers never talk to each other; each opens the same storage and study and asks Optuna for
its next trial. This module turns glassnet's settings into the Optuna objects for that.
"""

from __future__ import annotations

import math
import os
import socket
import time
import warnings
from dataclasses import dataclass

import optuna
from optuna.trial import TrialState

from glassnet.tuning.errors import StorageError
from glassnet.tuning.trial import trial_seed

STRATEGIES = ("grid", "random", "tpe")


def open_storage(storage, heartbeat_interval: int | None = None, grace_period: int | None = None):
    """An Optuna storage from None (in memory), a database URL or a journal file path.

    Args:
        storage: None, an Optuna storage object, an RDB URL ("postgresql://user@host/db",
            "sqlite:///study.db"), or a file path (a journal file, shareable over a network
            file system; "journal:" may prefix it).
        heartbeat_interval, grace_period: for RDB storages, seconds between a running trial's
            heartbeats and silence after which another worker marks it failed and queues its
            parameters again (journal files have no heartbeats in Optuna; see ``fail_dead_local_trials``).
    """
    if storage is None:
        return optuna.storages.InMemoryStorage()
    if isinstance(storage, optuna.storages.BaseStorage):
        return storage
    if not isinstance(storage, (str, os.PathLike)):
        raise TypeError(f"storage must be None, a URL, a file path or an Optuna storage; got {type(storage).__name__}.")
    text = os.fspath(storage)
    if "://" in text and not text.startswith("journal:"):
        kwargs = {}
        if heartbeat_interval:
            # Optuna 5 renamed failed_trial_callback to heartbeat_stale_trial_callback.
            renamed = hasattr(optuna.storages, "RetryHeartbeatStaleTrialCallback")
            callback_arg = "heartbeat_stale_trial_callback" if renamed else "failed_trial_callback"
            kwargs = {"heartbeat_interval": int(heartbeat_interval),
                      "grace_period": int(grace_period or 2 * heartbeat_interval), callback_arg: retry_callback()}
        try:
            with warnings.catch_warnings():
                # heartbeat_interval is marked experimental in Optuna, stable in use since 2.9.
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return optuna.storages.RDBStorage(text, **kwargs)
        except Exception as err:
            raise StorageError(f"Cannot open the study storage {_redact(text)!r}: {type(err).__name__}: "
                               f"{_first_line(err)}. Check that the database server is running and "
                               f"reachable, and that its driver is installed (for PostgreSQL psycopg 3, or psycopg2 "
                               f"with a postgresql+psycopg2:// URL).") from None
    path = text.removeprefix("journal:").removeprefix("///") if text.startswith("journal:") else text
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise StorageError(f"Cannot open the journal file {path!r}: its folder {folder!r} does not exist.")
    try:
        return optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(path))
    except OSError as err:
        raise StorageError(f"Cannot open the journal file {path!r}: {err}.") from None


def _first_line(err: Exception) -> str:
    return (str(err).strip().splitlines() or [""])[0][:300]


def _redact(url: str) -> str:
    """The URL without its password, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        return f"{scheme}://{credentials.split(':')[0]}:***@{host}" if ":" in credentials else url
    return url


def retry_callback(max_retry: int = 2):
    """Optuna's callback that queues a crashed trial's parameters again, with its reported epochs."""
    with warnings.catch_warnings():
        # RetryHeartbeatStaleTrialCallback is marked experimental in Optuna (stable since 2.8).
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        retry = (getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None)
                 or optuna.storages.RetryFailedTrialCallback)
        return retry(max_retry=max_retry, inherit_intermediate_values=True)


class TrialSeededRandomSampler(optuna.samplers.RandomSampler):
    """Optuna's RandomSampler, reseeded at each trial from (seed, trial number): trial k draws the
    same parameters whichever worker runs it and whatever ran before, so a parallel random search
    samples what a serial one does."""

    def __init__(self, seed: int):
        super().__init__(seed)
        self._base_seed = seed

    def before_trial(self, study, trial):
        self._rng.rng.seed(trial_seed(self._base_seed, trial.number, 1) % 2**32)


def make_sampler(strategy: str, seed: int, grid: dict | None = None, worker_index: int = 0,
                 startup_trials: int | None = None):
    """Optuna's GridSampler, RandomSampler or TPESampler for ``strategy``; ``startup_trials`` is
    TPE's ``n_startup_trials`` (None: Optuna's default).

    TPE is seeded per worker (seed + worker index): a serial TPE search repeats exactly; parallel
    ones depend on which trials finish first, as with any sequential model-based search.
    """
    if strategy == "grid":
        return optuna.samplers.GridSampler(grid, seed=seed)
    if strategy == "random":
        return TrialSeededRandomSampler(seed)
    if strategy == "tpe":
        options = {} if startup_trials is None else {"n_startup_trials": startup_trials}
        return optuna.samplers.TPESampler(seed=seed + worker_index, **options)
    raise ValueError(f"strategy must be one of {STRATEGIES}; got {strategy!r}.")


@dataclass
class Budget:
    """When a search ends: trial count, wall-clock deadline, target score."""

    n_trials: int | None = None
    deadline: float | None = None  # time.time() value
    target: float | None = None
    direction: str = "maximize"
    #: when this search started: a mistake recorded by an earlier run (since fixed) stops nothing.
    since: float = 0.0

    def reached_target(self, value) -> bool:
        if self.target is None or value is None:
            return False
        return value >= self.target if self.direction == "maximize" else value <= self.target

    def remaining_time(self) -> float | None:
        return None if self.deadline is None else max(self.deadline - time.time(), 0.0)


def is_counted(trial) -> bool:
    """Whether a trial uses up the budget: not a retry of a crashed one, not a skipped one."""
    attrs = trial.user_attrs
    return not attrs.get("skipped") and attrs.get("root_trial", trial.number) == trial.number


def counted_trials(study) -> list:
    return [t for t in study.get_trials(deepcopy=False) if t.state != TrialState.WAITING and is_counted(t)]


def best_value(study):
    """The best completed trial's value, or None before any trial completes."""
    try:
        return study.best_value
    except ValueError:
        return None


def fatal_error(study, budget: Budget) -> str | None:
    """The message of a mistake every trial of this search would repeat (set by a trial), or None."""
    return next((t.user_attrs["fatal"] for t in study.get_trials(deepcopy=False) if t.user_attrs.get("fatal")
                 and t.user_attrs.get("started", 0) >= budget.since), None)


#: trials of a search failing with one error before any epoch, none succeeding, after which the
#: search stops: a mistake in the data (NaN in x, labels out of range, an input missing from a
#: dict) fails every trial alike (keras-tuner's max_consecutive_failed_trials is 3 too)
FAILURES_TO_STOP = 3


def repeated_failure(study, budget: Budget, at_least: int = FAILURES_TO_STOP) -> str | None:
    """The error every trial of this search failed with in fit's checks of the data, once
    ``at_least`` have and none succeeded (or was pruned); None otherwise. Interrupted trials and
    those of a dead worker record no error and count for nothing."""
    finished = [t for t in study.get_trials(deepcopy=False) if t.user_attrs.get("started", 0) >= budget.since
                and t.state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
                and not t.user_attrs.get("skipped")]
    if any(t.state != TrialState.FAIL for t in finished):
        return None  # a trial trained: the data and the setup can work
    # Only failures in fit before its first epoch ended (its checks of x and y): a build that
    # raises for some parameters, or training that diverges, says nothing about the others.
    failed = [t.user_attrs["error_message"] for t in finished
              if "error_message" in t.user_attrs and t.user_attrs.get("epochs") == 0]
    if len(failed) < at_least or len(set(failed)) != 1:
        return None
    return failed[0]


def stop_reason(study, budget: Budget, number: int | None = None) -> str | None:
    """Why no further trial should start, or None. With ``number`` (a trial just created), whether
    that trial is beyond the budget: two workers may create one more trial than planned at the
    same instant, and the later one is skipped."""
    trials = study.get_trials(deepcopy=False)
    fatal = fatal_error(study, budget)
    if fatal:
        return f"stopped: {fatal}"
    failure = repeated_failure(study, budget)
    if failure:
        return f"stopped: every trial fails with {failure}"
    if budget.deadline is not None and time.time() >= budget.deadline:
        return "time limit reached"
    if budget.reached_target(best_value(study)):
        return "target reached"
    if budget.n_trials is not None:
        originals = [t for t in trials if is_counted(t) and t.state != TrialState.WAITING
                     and (number is None or t.number < number)]
        if len(originals) >= budget.n_trials:
            return "trial budget used"
    return None


def fail_dead_local_trials(study) -> list[int]:
    """Mark failed the running trials whose worker process on this machine no longer exists, and
    queue their parameters again, as those of trials interrupted by Ctrl-C; returns their numbers.

    Optuna's heartbeats cover RDB storages only; a journal file has none, so a trial left running
    by a killed process would stay RUNNING forever. Each trial records "host:pid" of its worker,
    which is enough to recognise dead ones started on this machine.
    """
    host = socket.gethostname()
    dead = []
    retried = {t.user_attrs.get("previous_attempt") for t in study.get_trials(deepcopy=False)}
    for trial in study.get_trials(deepcopy=False, states=(TrialState.FAIL,)):
        # Interrupted (Ctrl-C) rather than failed: run it again, from its checkpoint if it has one.
        if trial.user_attrs.get("interrupted") and trial.number not in retried:
            requeue(study, trial)
            dead.append(trial.number)
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker = trial.user_attrs.get("worker", "")
        worker_host, _, pid = worker.rpartition(":")
        if worker_host != host or not pid.isdigit() or _alive(int(pid)):
            continue
        try:
            study.tell(trial.number, state=TrialState.FAIL, skip_if_finished=True)
        except Exception:  # another process failed it first
            continue
        requeue(study, next(t for t in study.get_trials(deepcopy=True) if t.number == trial.number))
        dead.append(trial.number)
    return dead


def requeue(study, failed) -> None:
    """Queue a crashed trial's parameters again, with the epochs it reported (as Optuna's
    RetryHeartbeatStaleTrialCallback does), marked as a retry of its first attempt."""
    user_attrs = {**failed.user_attrs, "root_trial": failed.user_attrs.get("root_trial", failed.number),
                  "previous_attempt": failed.number, "interrupted": None}
    study.add_trial(optuna.trial.create_trial(state=TrialState.WAITING, params=failed.params,
                                              distributions=failed.distributions, user_attrs=user_attrs,
                                              system_attrs=failed.system_attrs,
                                              intermediate_values=failed.intermediate_values))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def describe(study, objective: str) -> str:
    """One line on what a study holds: counts by state and the best value so far."""
    trials = study.get_trials(deepcopy=False)
    counts = {s: sum(t.state == s for t in trials) for s in TrialState}
    finished = counts[TrialState.COMPLETE] + counts[TrialState.PRUNED] + counts[TrialState.FAIL]
    text = (f"{finished} finished trials ({counts[TrialState.COMPLETE]} complete, {counts[TrialState.PRUNED]} pruned, "
            f"{counts[TrialState.FAIL]} failed)")
    best = best_value(study)
    if best is not None and math.isfinite(best):
        text += f", best {objective} {best:.4f} (trial {study.best_trial.number})"
    return text
