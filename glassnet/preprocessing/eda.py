"""The first look at a table: rows, column kinds, cardinality, missing cells, target balance.

Kinds and missing cells are judged exactly as ``TabularPreprocessor`` judges them, so the
summary predicts what the preprocessor will do (and which columns it will refuse).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from glassnet.preprocessing import _columns
from glassnet.preprocessing._columns import DEFAULT_MISSING_VALUES


@dataclass
class DataSummary:
    """What ``summarize`` found.

    Attributes:
        n_rows, n_columns: table size.
        columns: one row per column: dtype, kind ("numeric", "categorical" or "mixed" for a
            numeric column holding text), n_unique, n_missing, missing_share, example value.
        target: the target column's name, or None.
        target_balance: label -> number of rows (most frequent first), empty without a target.
        problems: plain-language findings worth fixing before training.
    """

    n_rows: int
    n_columns: int
    columns: pd.DataFrame
    target: str | None = None
    target_balance: dict = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def column_types(self) -> dict[str, str]:
        return self.columns["kind"].to_dict()

    @property
    def cardinality(self) -> dict[str, int]:
        """Distinct values (missing excluded) of each categorical column."""
        cat = self.columns[self.columns["kind"] == "categorical"]
        return cat["n_unique"].astype(int).to_dict()

    @property
    def missing(self) -> dict[str, int]:
        """Missing cells (NaN, None and the missing tokens) of every column that has any."""
        has = self.columns[self.columns["n_missing"] > 0]
        return has["n_missing"].astype(int).to_dict()

    def __str__(self) -> str:
        lines = [f"{self.n_rows:,} rows x {self.n_columns} columns"]
        with pd.option_context("display.width", 120, "display.max_columns", 10, "display.max_rows", 200):
            lines.append(self.columns.to_string())
        if self.target is not None:
            total = sum(self.target_balance.values())
            shares = ", ".join(f"{k!s}: {n:,} ({n / total:.1%})" for k, n in self.target_balance.items())
            lines.append(f"target {self.target!r}: {shares}")
        lines += [f"! {p}" for p in self.problems]
        return "\n".join(lines)


def summarize(df, target: str | None = None, missing_values=DEFAULT_MISSING_VALUES) -> DataSummary:
    """Summarise a DataFrame before modelling it.

    Args:
        df: the raw table.
        target: the outcome column, whose class balance is reported.
        missing_values: cell values that mean missing besides NaN/None (as in the preprocessor).

    Example:
        >>> import pandas as pd, glassnet as gn
        >>> df = pd.DataFrame({"age": [30, 41, None], "job": ["a", "?", "a"], "y": [0, 1, 0]})
        >>> s = gn.preprocessing.summarize(df, target="y")
        >>> s.missing, s.cardinality, s.target_balance
        ({'age': 1, 'job': 1}, {'job': 1}, {0: 2, 1: 1})
    """
    df = _columns.require_frame(df, "summarize")
    if target is not None and target not in df.columns:
        raise ValueError(f"Target column {target!r} is not in the DataFrame; its columns are {list(df.columns)}.")
    rows, problems = [], []
    for column in df.columns:
        s = df[column]
        missing = _columns.missing_mask(s, missing_values)
        present = s[~missing]
        try:
            kind = _columns.infer_kind(s, missing_values)
        except ValueError as err:
            kind = "mixed"
            problems.append(str(err))
        n_unique = int(present.nunique())
        rows.append({"column": column, "dtype": str(s.dtype), "kind": kind, "n_unique": n_unique,
                     "n_missing": int(missing.sum()), "missing_share": round(float(missing.mean()), 4),
                     "example": present.iloc[0] if len(present) else None})
        if missing.all():
            problems.append(f"Column {column!r} is entirely missing; drop it.")
        elif column != target and n_unique == len(df) and len(df) >= 20 and not pd.api.types.is_float_dtype(s):
            problems.append(f"Column {column!r} is unique per row, like an identifier; drop it.")
        elif n_unique == 1:
            problems.append(f"Column {column!r} has a single value; it carries no information.")
    balance = {}
    if target is not None:
        t = df[target]
        balance = {_columns.plain(k): int(v) for k, v in t[~_columns.missing_mask(t, missing_values)].value_counts().items()}
        if len(balance) == 2 and min(balance.values()) / sum(balance.values()) < 0.2:
            problems.append(f"Target {target!r} is imbalanced ({min(balance.values()) / sum(balance.values()):.1%} "
                            f"minority class): report precision, recall and ROC AUC, not accuracy alone.")
    columns = pd.DataFrame(rows).set_index("column")
    return DataSummary(n_rows=len(df), n_columns=df.shape[1], columns=columns, target=target,
                       target_balance=balance, problems=problems)
