"""Talos' ``Scan``: every permutation of a dict of parameters (or a sample of them), each trained by
the user's model function ``model(x_train, y_train, x_val, y_val, params) -> (history, model)``.

The rounds run in this process one after another, as in Talos; results land in ``scan.data``
(one row per round) and in ``experiment_name/<time>.csv`` as they come. For Optuna's samplers,
pruning and parallel workers, use ``glassnet.tuning.Tuner``.
"""

from __future__ import annotations

import itertools
import math
import os
import secrets
import tempfile
import time
from datetime import datetime

import numpy as np
import pandas as pd

from glassnet.tuning.talos.reduction import REDUCTIONS, check_reduction, reduce_permutations

#: Talos' random_method names glassnet implements; the others are refused by name.
RANDOM_METHODS = ("uniform_mersenne", "uniform_crypto", "sobol", "halton")
#: Talos arguments glassnet does not take, and why.
_UNSUPPORTED = {
    "multi_input": "pass the inputs your model function needs yourself (x may be any object it accepts)",
    "save_models": "save_weights=True keeps each round's whole model file (scan.saved_models)",
}


def expand_params(params: dict) -> dict[str, list]:
    """Each parameter's values: a list as given; a Talos range ``(start, end, n)`` as Talos reads
    it: ``n`` steps of ``(end - start) / n`` from ``start``, ``end`` excluded, made integers (and
    duplicates dropped) when both ends are integers."""
    if not isinstance(params, dict) or not params:
        raise TypeError(f"params must be a non-empty dict such as {{'units': [16, 32]}}; got {params!r}.")
    values = {}
    for name, spec in params.items():
        if isinstance(spec, list):
            if not spec:
                raise ValueError(f"params[{name!r}] is an empty list; give at least one value.")
            values[name] = list(spec)
        elif isinstance(spec, tuple):
            if len(spec) != 3 or not all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
                                         for v in spec) or int(spec[2]) != spec[2] or spec[2] < 1:
                raise ValueError(f"params[{name!r}]: a tuple is Talos' range (start, end, steps), three numbers with "
                                 f"a positive integer of steps; got {spec!r}. Use a list for a set of values.")
            start, end, steps = spec
            grid = start + np.arange(int(steps)) * ((end - start) / steps)
            if isinstance(start, (int, np.integer)) and isinstance(end, (int, np.integer)):
                values[name] = [int(v) for v in np.unique(grid.astype(int))]
            else:
                values[name] = [float(v) for v in grid]
        else:
            raise TypeError(f"params[{name!r}] must be a list of values or a (start, end, steps) tuple; got "
                            f"{spec!r}. For a constant, give a one-item list: [{spec!r}].")
    return values


def _deadline(time_limit) -> float | None:
    """time.time() at which no round starts: Talos' "%Y-%m-%d %H:%M" string, or seconds from now."""
    if time_limit is None:
        return None
    if isinstance(time_limit, str):
        try:
            return datetime.strptime(time_limit, "%Y-%m-%d %H:%M").timestamp()
        except ValueError:
            raise ValueError(f"time_limit must be Talos' 'YYYY-MM-DD HH:MM' (local time) or a number of seconds; "
                             f"got {time_limit!r}.") from None
    if isinstance(time_limit, bool) or not isinstance(time_limit, (int, float)) or time_limit <= 0:
        raise ValueError(f"time_limit must be 'YYYY-MM-DD HH:MM' or a positive number of seconds; got {time_limit!r}.")
    return time.time() + float(time_limit)


def _sample(n_total: int, n: int, method: str, seed) -> list[int]:
    """``n`` distinct permutation indices in the order to run them."""
    if method == "uniform_mersenne":
        return [int(i) for i in np.random.RandomState(seed).choice(n_total, n, replace=False)]
    if method == "uniform_crypto":
        return secrets.SystemRandom().sample(range(n_total), n)
    from scipy.stats import qmc

    engine = qmc.Sobol(1, seed=seed) if method == "sobol" else qmc.Halton(1, seed=seed)
    order = []
    for u in engine.random(2 ** math.ceil(math.log2(max(n_total, 2))))[:, 0]:  # a power of 2 keeps Sobol balanced
        index = min(int(u * n_total), n_total - 1)
        if index not in order:
            order.append(index)
    order += [i for i in range(n_total) if i not in set(order)]  # points that fell on taken indices
    return order[:n]


class Scan:
    """Run a Talos experiment: train one model per parameter permutation and tabulate the results.

    Args:
        x, y: the training data, passed to ``model`` (with ``val_split`` held out when no
            ``x_val``/``y_val``).
        params: a dict: lists are the values to try; a tuple ``(start, end, steps)`` is Talos'
            range (see ``expand_params``: ``end`` is excluded).
        model: ``model(x_train, y_train, x_val, y_val, params)`` returning ``(history, model)``,
            ``history`` being what ``model.fit`` returned.
        experiment_name: the folder the results CSV is written to (``<name>/<time>.csv``).
        x_val, y_val: a validation set; else a shuffled ``val_split`` of x and y (seeded by ``seed``).
        random_method: the order of a sample of permutations: "uniform_mersenne", "uniform_crypto",
            "sobol" or "halton". Without ``fraction_limit``/``round_limit`` every permutation runs
            in order, as in Talos.
        seed: seeds the validation split and the sample.
        performance_target: ``[metric, value]`` or ``[metric, value, lower_is_better]``: stop
            once a round's last-epoch ``metric`` reaches ``value``.
        fraction_limit: run this fraction of the permutations (a random sample).
        round_limit: run at most this many rounds (a random sample when fewer than permutations).
        time_limit: "YYYY-MM-DD HH:MM" (Talos' form) or seconds: start no round after it.
        boolean_limit: ``lambda p: ...`` of a permutation's params dict; only permutations for
            which it is true run (applied before the sample is drawn).
        reduction_method: None, or "correlation" / "spearman" / "pearson" / "kendall": every
            ``reduction_interval`` rounds, the value of a parameter most associated with worse
            ``reduction_metric`` over the last ``reduction_window`` rounds (an absolute
            correlation of at least ``reduction_threshold``) is dropped from the remaining
            permutations. Talos' "trees", "forrest", "gamify" and "local_strategy" are refused.
        minimize_loss: the reduction metric is better when lower.
        disable_progress_bar: no tqdm bar.
        print_params: print each round's params before it runs.
        clear_session: accepted for Talos' signature; glassnet keeps no session between models.
        save_weights: keep each round's model (``saved_models``: glassnet model files as bytes),
            which ``best_model`` and ``Deploy`` need.

    Attributes:
        data: a DataFrame, one row per round: start, end, duration, round_epochs, the last
            epoch's logged metrics, then the params.
        details: a Series describing the experiment. round_history: each round's History dict.
        reductions: the (round, param, value, correlation) of each reduction made.

    Example:
        >>> import numpy as np, glassnet as gn
        >>> def model(x_train, y_train, x_val, y_val, params):
        ...     net = gn.Sequential([gn.layers.Dense(params["units"], activation="relu", input_shape=(2,)),
        ...                          gn.layers.Dense(1, activation="sigmoid")], seed=0)
        ...     net.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
        ...     out = net.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=2, verbose=0)
        ...     return out, net
        >>> x = np.random.default_rng(0).normal(size=(60, 2)).astype("float32"); y = (x[:, 0] > 0) * 1
        >>> import tempfile, os; os.chdir(tempfile.mkdtemp())
        >>> scan = gn.tuning.Scan(x, y, {"units": [4, 8]}, model, "demo", seed=0, disable_progress_bar=True)
        >>> list(scan.data["units"])
        [4, 8]
    """

    def __init__(self, x, y, params, model, experiment_name, x_val=None, y_val=None, val_split=.3,
                 random_method="uniform_mersenne", seed=None, performance_target=None, fraction_limit=None,
                 round_limit=None, time_limit=None, boolean_limit=None, reduction_method=None,
                 reduction_interval=50, reduction_window=20, reduction_threshold=0.2, reduction_metric="val_acc",
                 minimize_loss=False, disable_progress_bar=False, print_params=False, clear_session=True,
                 save_weights=True, **kwargs):
        for name in kwargs:
            reason = _UNSUPPORTED.get(name)
            raise TypeError(f"Scan: Talos' argument {name!r} is not supported in glassnet: {reason}." if reason
                            else f"Scan got an unexpected argument {name!r}.")
        if not callable(model):
            raise TypeError("model must be a function model(x_train, y_train, x_val, y_val, params) returning "
                            "(history, model).")
        if not isinstance(experiment_name, str) or not experiment_name:
            raise ValueError(f"experiment_name must be a non-empty string (the results folder); got "
                             f"{experiment_name!r}.")
        if random_method not in RANDOM_METHODS:
            raise ValueError(f"random_method {random_method!r} is not available in glassnet; choose one of "
                             f"{', '.join(RANDOM_METHODS)}.")
        if (x_val is None) != (y_val is None):
            raise ValueError("Give both x_val and y_val, or neither (then val_split of x and y is held out).")
        if fraction_limit is not None and not 0 < fraction_limit <= 1:
            raise ValueError(f"fraction_limit must be in (0, 1]; got {fraction_limit!r}.")
        if round_limit is not None and (isinstance(round_limit, bool) or not isinstance(round_limit, int)
                                        or round_limit < 1):
            raise ValueError(f"round_limit must be a positive integer; got {round_limit!r}.")
        if performance_target is not None and (not isinstance(performance_target, (list, tuple))
                                               or len(performance_target) not in (2, 3)):
            raise ValueError(f"performance_target must be [metric, value] or [metric, value, lower_is_better]; got "
                             f"{performance_target!r}.")
        check_reduction(reduction_method, reduction_interval, reduction_window, reduction_threshold)
        self.x, self.y, self.params, self.model = x, y, params, model
        self.experiment_name = experiment_name
        self.random_method, self.seed = random_method, seed
        self.performance_target = performance_target
        self.reduction_method, self.reduction_metric = reduction_method, reduction_metric
        self.reduction_interval, self.reduction_window = reduction_interval, reduction_window
        self.reduction_threshold, self.minimize_loss = reduction_threshold, minimize_loss
        self.clear_session, self.save_weights = clear_session, save_weights
        self.x_train, self.y_train, self.x_val, self.y_val = self._split(x, y, x_val, y_val, val_split, seed)
        self.round_history: list[dict] = []
        self.saved_models: list[bytes] = []
        self.reductions: list[tuple] = []
        self._run(fraction_limit, round_limit, _deadline(time_limit), boolean_limit, disable_progress_bar,
                  print_params)

    @staticmethod
    def _split(x, y, x_val, y_val, val_split, seed):
        if x_val is not None:
            return x, y, x_val, y_val
        if not 0 < val_split < 1:
            raise ValueError(f"val_split must be in (0, 1) when x_val and y_val are not given; got {val_split!r}.")
        n = len(x)
        if len(y) != n:
            raise ValueError(f"x has {n} samples but y has {len(y)}.")
        order = np.random.default_rng(seed).permutation(n)
        n_val = max(1, int(round(n * val_split)))
        train, val = np.sort(order[n_val:]), np.sort(order[:n_val])
        x, y = np.asarray(x), np.asarray(y)
        return x[train], y[train], x[val], y[val]

    # -- the rounds -------------------------------------------------------------------------------------
    def _permutations(self, fraction_limit, round_limit, boolean_limit) -> list[dict]:
        values = expand_params(self.params)
        names = list(values)
        permutations = [dict(zip(names, combo)) for combo in itertools.product(*values.values())]
        if boolean_limit is not None:
            permutations = [p for p in permutations if boolean_limit(p)]
            if not permutations:
                raise ValueError("boolean_limit is false for every permutation of params; nothing to run.")
        n = len(permutations)
        if fraction_limit is not None:
            n = max(1, int(round(fraction_limit * n)))
        if round_limit is not None:
            n = min(n, round_limit)
        if n < len(permutations):
            return [permutations[i] for i in _sample(len(permutations), n, self.random_method, self.seed)]
        return permutations

    def _run(self, fraction_limit, round_limit, deadline, boolean_limit, disable_progress_bar, print_params):
        from tqdm.auto import tqdm

        started = datetime.now()
        queue = self._permutations(fraction_limit, round_limit, boolean_limit)
        self._n_permutations = len(queue)
        os.makedirs(self.experiment_name, exist_ok=True)
        self.results_path = os.path.join(self.experiment_name, started.strftime("%m%d%y%H%M%S") + ".csv")
        rows, stop = [], None
        bar = tqdm(total=len(queue), disable=disable_progress_bar)
        try:
            while queue:
                if deadline is not None and time.time() >= deadline:
                    stop = "time_limit reached"
                    break
                params = queue.pop(0)
                if print_params:
                    print(params)
                rows.append(self._round(params))
                self.data = pd.DataFrame(rows)
                self.data.to_csv(self.results_path, index=False)
                bar.update(1)
                if self._reached_target(rows[-1]):
                    stop = "performance_target reached"
                    break
                if self.reduction_method and len(rows) % self.reduction_interval == 0:
                    queue, reduction = reduce_permutations(
                        queue, self.data.tail(self.reduction_window), list(self.params), self.reduction_method,
                        self._metric(self.reduction_metric), self.reduction_threshold, self.minimize_loss)
                    if reduction is not None:
                        self.reductions.append((len(rows), *reduction))
                        bar.total = len(rows) + len(queue)
        finally:
            bar.close()
        self.data = pd.DataFrame(rows)
        finished = datetime.now()
        self.details = pd.Series({
            "experiment_name": self.experiment_name, "random_method": self.random_method, "seed": self.seed,
            "reduction_method": self.reduction_method, "complete_time": finished.strftime("%m/%d/%y/%H:%M"),
            "x_shape": tuple(np.shape(self.x)), "y_shape": tuple(np.shape(self.y)),
            "permutations": self._n_permutations, "rounds": len(rows),
            "duration": (finished - started).total_seconds(), "stopped": stop or "all permutations run"})

    def _round(self, params: dict) -> dict:
        start = datetime.now()
        out = self.model(self.x_train, self.y_train, self.x_val, self.y_val, dict(params))
        if not (isinstance(out, (tuple, list)) and len(out) == 2 and hasattr(out[0], "history")):
            raise TypeError("The model function must return (history, model), history being what model.fit "
                            f"returned (Talos' contract); it returned {type(out).__name__}.")
        history, trained = out
        end = datetime.now()
        logs = dict(history.history)
        self.round_history.append(logs)
        if self.save_weights:
            from glassnet.saving.model_io import model_bytes

            self.saved_models.append(model_bytes(trained, include_optimizer=False))
        row = {"start": start.strftime("%m/%d/%y-%H%M%S"), "end": end.strftime("%m/%d/%y-%H%M%S"),
               "duration": (end - start).total_seconds(), "round_epochs": len(logs.get("loss", []))}
        row.update({k: float(v[-1]) for k, v in logs.items() if len(v)})  # the last epoch, as Talos
        clash = [k for k in params if k in row]
        if clash:
            raise ValueError(f"params {clash} clash with the result columns of the same name; rename them.")
        row.update(params)
        return row

    def _reached_target(self, row: dict) -> bool:
        if self.performance_target is None:
            return False
        metric, value, *rest = self.performance_target
        lower_is_better = bool(rest[0]) if rest else False
        score = row[self._metric(metric, columns=list(row))]
        return score <= value if lower_is_better else score >= value

    def _metric(self, metric: str, columns=None) -> str:
        """The results column for ``metric``: Keras' "acc" and "accuracy" spellings name the same."""
        columns = list(self.data.columns) if columns is None else columns
        if metric in columns:
            return metric
        for short, long in (("acc", "accuracy"),):
            for a, b in ((short, long), (long, short)):
                alias = metric[: -len(a)] + b if metric.endswith(a) else None
                if alias in columns:
                    return alias
        raise KeyError(f"No metric {metric!r} in the scan's results; they hold: {', '.join(map(str, columns))}.")

    # -- results ----------------------------------------------------------------------------------------
    def best_model(self, metric="val_acc", asc=False):
        """The model of the round with the best ``metric`` (highest; lowest with ``asc=True``),
        with its trained weights (uncompiled, as Talos'). Needs ``save_weights=True``."""
        return self._model_of(self._best_round(metric, asc))

    def _best_round(self, metric, asc) -> int:
        if not len(self.data):
            raise RuntimeError("The scan ran no round.")
        column = self.data[self._metric(metric)]
        return int(column.idxmin() if asc else column.idxmax())

    def _model_of(self, index: int):
        if not self.save_weights:
            raise RuntimeError("The scan ran with save_weights=False, so it kept no models; run it with "
                               "save_weights=True.")
        from glassnet.saving import load_model

        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "round.glassnet")
            with open(path, "wb") as f:
                f.write(self.saved_models[index])
            return load_model(path, compile=False)

    def __repr__(self):
        return f"<Scan {self.experiment_name!r}: {len(self.data)} rounds>"


__all__ = ["REDUCTIONS", "RANDOM_METHODS", "Scan", "expand_params"]
