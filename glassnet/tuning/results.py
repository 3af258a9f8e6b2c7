"""The leaderboard: a search's trials as a DataFrame (best first) and as text for a terminal."""

from __future__ import annotations

import math
import time

import pandas as pd
from optuna.trial import TrialState

_STATE_ORDER = {TrialState.COMPLETE: 0, TrialState.PRUNED: 1, TrialState.RUNNING: 2, TrialState.FAIL: 3,
                TrialState.WAITING: 4}


#: the columns every leaderboard has besides the objective, parameters and metrics.
_RESERVED = ("trial", "state", "epochs", "best_epoch", "duration_s", "seed", "retry_of", "error")


def _metric_names(frame) -> set:
    return set(frame.attrs.get("metrics", ()))


def results_frame(trials, objective: str, direction: str) -> pd.DataFrame:
    """One row per trial, best first: completed trials by objective, then pruned (by their best
    reported value), running and failed ones.

    Columns: trial, state, the objective, each parameter (``param_epochs`` for one named like a
    column below), the other metrics at the best epoch
    (averaged over folds and executions), epochs (run in total), best_epoch, duration_s, seed,
    retry_of (the crashed trial this one repeats) and error (a failed trial's traceback).
    """
    sign = -1.0 if direction == "maximize" else 1.0
    rows, params, metrics = [], [], []
    for trial in trials:
        attrs = trial.user_attrs
        if attrs.get("skipped"):
            continue
        value = trial.value if trial.state == TrialState.COMPLETE else None
        if value is None and trial.intermediate_values:
            reported = list(trial.intermediate_values.values())
            value = max(reported) if direction == "maximize" else min(reported)
        row = {"trial": trial.number, "state": trial.state.name.lower(), objective: value}
        for name, v in trial.params.items():
            # a parameter named like a bookkeeping column ("epochs", Talos style) gets a prefix
            name = f"param_{name}" if name in _RESERVED or name == objective else name
            row[name] = v
            if name not in params:
                params.append(name)
        for name, v in (attrs.get("metrics") or {}).items():
            if name != objective and name != "learning_rate":
                row[name] = v
                if name not in metrics:
                    metrics.append(name)
        duration = attrs.get("duration")
        if duration is None and trial.datetime_start is not None:
            end = trial.datetime_complete.timestamp() if trial.datetime_complete else time.time()
            duration = end - trial.datetime_start.timestamp()
        root = attrs.get("root_trial", trial.number)
        row.update({"epochs": attrs.get("epochs", 0), "best_epoch": attrs.get("best_epoch"),
                    "duration_s": duration, "seed": attrs.get("seed"),
                    "retry_of": root if root != trial.number else None,
                    "error": attrs.get("error") or attrs.get("fatal")})
        rows.append(((_STATE_ORDER.get(trial.state, 5), sign * value if value is not None else math.inf,
                      trial.number), row))
    rows.sort(key=lambda item: item[0])
    columns = ["trial", "state", objective, *params, *metrics, "epochs", "best_epoch", "duration_s", "seed",
               "retry_of", "error"]
    frame = pd.DataFrame([row for _, row in rows], columns=columns)
    frame.attrs["metrics"] = list(metrics)
    for name in ("best_epoch", "seed", "retry_of"):
        frame[name] = frame[name].astype("Int64")
    return frame.reset_index(drop=True)


def summary_text(frame: pd.DataFrame, objective: str, top: int = 10, width: int = 100) -> str:
    """A few lines: counts by state, total epochs and time, then the ``top`` trials."""
    counts = frame["state"].value_counts()
    parts = [f"{int(counts.get(s, 0))} {s}" for s in ("complete", "pruned", "fail", "running") if counts.get(s, 0)]
    lines = [f"{len(frame)} trials: {', '.join(parts) or 'none'}; {int(frame['epochs'].sum())} epochs, "
             f"{frame['duration_s'].fillna(0).sum():.1f} s of training"]
    done = frame[frame["state"] == "complete"]
    if len(done):
        best = done.iloc[0]
        lines.append(f"best {objective} {best[objective]:.4f} (trial {best['trial']})")
    # The objective, the parameters and the cost; the other metrics are in the DataFrame.
    params = list(frame.columns[3:list(frame.columns).index("epochs")])
    metric_columns = [c for c in params if c in _metric_names(frame)]
    shown = frame.drop(columns=["error", "seed", "retry_of", "best_epoch", *metric_columns]).head(top)
    shown = shown.rename(columns={"duration_s": "seconds"})
    with pd.option_context("display.precision", 4):
        lines.append(shown.to_string(index=False, line_width=width))
    failed = frame[frame["state"] == "fail"]
    for _, row in failed.head(3).iterrows():
        last = str(row["error"] or "").strip().splitlines()[-1:] or ["(no traceback)"]
        lines.append(f"trial {row['trial']} failed: {last[0][:width]}")
    return "\n".join(lines)
