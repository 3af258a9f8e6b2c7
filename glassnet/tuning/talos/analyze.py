"""Talos' ``Analyze``: questions asked of a finished scan's results table."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: the bookkeeping columns of ``scan.data`` that are neither metrics nor params.
_ROUND_COLUMNS = ("start", "end", "duration", "round_epochs")


class Analyze:
    """Summaries of a ``Scan`` (or of its ``data`` DataFrame, or a results CSV path).

    Metric names accept both of Keras' spellings ("val_acc" finds "val_accuracy").

    Example:
        >>> import pandas as pd, glassnet as gn
        >>> data = pd.DataFrame({"start": ["a"] * 3, "end": ["b"] * 3, "duration": [1.0] * 3, "round_epochs": [2] * 3,
        ...                      "val_accuracy": [0.7, 0.9, 0.8], "units": [4, 16, 8]})
        >>> analyze = gn.tuning.Analyze(data, params=["units"])
        >>> analyze.high("val_acc"), analyze.rounds(), analyze.best_params("val_acc", n=1).tolist()
        (0.9, 3, [[16]])
    """

    def __init__(self, source, params=None):
        if isinstance(source, (str, bytes)) or hasattr(source, "__fspath__"):
            source = pd.read_csv(source)
        data = source if isinstance(source, pd.DataFrame) else getattr(source, "data", None)
        if not isinstance(data, pd.DataFrame):
            raise TypeError(f"Analyze takes a Scan, its data DataFrame or a results CSV path; got "
                            f"{type(source).__name__}.")
        self.data = data
        names = params if params is not None else getattr(source, "params", None)
        #: the parameter columns (the scan's params; else every column after the metrics is unknown,
        #: so pass params= with a bare DataFrame).
        self.params = [n for n in (names or []) if n in data.columns]

    def _metric(self, metric: str) -> str:
        if metric in self.data.columns:
            return metric
        for a, b in (("acc", "accuracy"), ("accuracy", "acc")):
            if metric.endswith(a) and metric[: -len(a)] + b in self.data.columns:
                return metric[: -len(a)] + b
        raise KeyError(f"No metric {metric!r} in the results; columns: {', '.join(map(str, self.data.columns))}.")

    def high(self, metric: str) -> float:
        """The highest value of ``metric`` over the rounds."""
        return float(self.data[self._metric(metric)].max())

    def low(self, metric: str) -> float:
        """The lowest value of ``metric`` over the rounds."""
        return float(self.data[self._metric(metric)].min())

    def rounds(self) -> int:
        """How many rounds ran."""
        return len(self.data)

    def rounds2high(self, metric: str) -> int:
        """The round (counted from 0) that reached ``metric``'s highest value."""
        return int(self.data[self._metric(metric)].idxmax())

    def table(self, metric: str, exclude=(), sort_by=None, ascending: bool = False) -> pd.DataFrame:
        """``metric`` and the params of every round, best first (``ascending=True`` for a loss);
        ``exclude`` drops columns, ``sort_by`` sorts by another column."""
        metric = self._metric(metric)
        columns = [metric] + [c for c in (self.params or self._other_columns()) if c not in exclude and c != metric]
        return self.data[columns].sort_values(self._metric(sort_by) if sort_by else metric, ascending=ascending)

    def best_params(self, metric: str, exclude=(), n: int = 10, ascending: bool = False) -> np.ndarray:
        """The params of the ``n`` best rounds by ``metric``, one row each, best first (an array,
        as Talos'; columns: the params less ``exclude``, in the scan's order)."""
        table = self.table(metric, exclude=exclude, ascending=ascending)
        return table.drop(columns=[self._metric(metric)]).head(n).to_numpy()

    def correlate(self, metric: str, exclude=()) -> pd.Series:
        """The Pearson correlation of each numeric param with ``metric`` over the rounds."""
        metric = self._metric(metric)
        columns = [c for c in (self.params or self._other_columns()) if c not in exclude and c != metric]
        numeric = [c for c in columns if pd.api.types.is_numeric_dtype(self.data[c])
                   and not pd.api.types.is_bool_dtype(self.data[c])]
        return self.data[numeric].corrwith(self.data[metric].astype(float))

    def _other_columns(self) -> list:
        return [c for c in self.data.columns if c not in _ROUND_COLUMNS]
