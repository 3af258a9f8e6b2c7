"""Talos' correlation reduction: drop from the remaining permutations the parameter value whose
presence goes with the worst scores in the latest rounds."""

from __future__ import annotations

import pandas as pd

#: reduction_method -> the pandas correlation it uses ("correlation" is Talos' name for Spearman).
REDUCTIONS = {"correlation": "spearman", "spearman": "spearman", "pearson": "pearson", "kendall": "kendall"}
#: Talos reductions glassnet does not provide, and why.
_REFUSED = {
    "trees": "fitting a random forest to the results is not provided; glassnet.tuning.Tuner(strategy='tpe') "
             "models the results to choose the next parameters",
    "forrest": "fitting a random forest to the results is not provided; glassnet.tuning.Tuner(strategy='tpe') "
               "models the results to choose the next parameters",
    "gamify": "the interactive live-editing of the parameter space is not provided",
    "local_strategy": "it runs Python code read from a file during the scan, which glassnet does not do",
}


def check_reduction(method, interval, window, threshold) -> None:
    if method is None:
        return
    if method in _REFUSED:
        raise ValueError(f"reduction_method {method!r} is not supported in glassnet: {_REFUSED[method]}. "
                         f"Supported: {', '.join(REDUCTIONS)}.")
    if method not in REDUCTIONS:
        raise ValueError(f"Unknown reduction_method {method!r}; supported: {', '.join(REDUCTIONS)}.")
    for name, value in (("reduction_interval", interval), ("reduction_window", window)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 2:
            raise ValueError(f"{name} must be an integer >= 2 (rounds); got {value!r}.")
    if not 0 <= threshold <= 1:
        raise ValueError(f"reduction_threshold must be in [0, 1] (an absolute correlation); got {threshold!r}.")


def reduce_permutations(queue: list[dict], recent: pd.DataFrame, names: list[str], method: str, metric: str,
                        threshold: float, minimize: bool):
    """The queue without the permutations holding the value most associated with worse ``metric``
    in ``recent`` rounds, and (param, value, correlation) of that value; the queue unchanged and
    None when no value's correlation reaches ``threshold`` in absolute value.

    Each value of each parameter becomes an indicator column (1 in the rounds that used it); its
    correlation with the metric is negative when its rounds scored lower. The worst is the most
    negative (the most positive when ``minimize``)."""
    worst = None
    for name in names:
        if name not in recent or recent[name].nunique(dropna=False) < 2:
            continue
        for value in recent[name].unique():
            if not any(p[name] == value for p in queue):
                continue  # already gone from what remains to run
            indicator = (recent[name] == value).astype(float)
            corr = indicator.corr(recent[metric].astype(float), method=REDUCTIONS[method])
            if pd.isna(corr):
                continue
            badness = corr if minimize else -corr
            if badness >= threshold and (worst is None or badness > worst[3]):
                worst = (name, value, float(corr), badness)
    if worst is None:
        return queue, None
    name, value, corr, _ = worst
    kept = [p for p in queue if p[name] != value]
    return kept, (name, value, corr)
