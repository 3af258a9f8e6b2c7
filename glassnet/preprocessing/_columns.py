"""Column helpers shared by the tabular preprocessor and the EDA summary.

What counts as missing, which columns are numeric, and how raw cells become clean numbers or
category strings: one definition, so the summary describes exactly what the preprocessor sees.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: cells that mean "no value" besides NaN/None: empty strings and the UCI-style "?".
DEFAULT_MISSING_VALUES = ("?", "")

#: the category that missing cells of a categorical column become.
MISSING_CATEGORY = "missing"

# An object column whose non-missing cells are at least this share numbers is taken to be a
# numeric column with a typo, not a categorical one.
_MOSTLY_NUMERIC = 0.9


def plain(v):
    """A NumPy scalar as the Python value it holds (for messages and JSON); others unchanged."""
    return v.item() if isinstance(v, np.generic) else v


def require_frame(df, what: str) -> pd.DataFrame:
    """``df`` if it is a non-empty DataFrame with string column names, else a clear error."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{what} needs a pandas DataFrame (one row per case, named columns); "
                        f"got {type(df).__name__}.")
    if df.shape[0] == 0:
        raise ValueError(f"{what} got an empty DataFrame (0 rows); there is nothing to work on.")
    bad = [c for c in df.columns if not isinstance(c, str)]
    if bad:
        raise ValueError(f"{what} needs string column names; got {bad[:5]!r}.")
    if df.columns.duplicated().any():
        raise ValueError(f"{what}: duplicated column names {sorted(set(df.columns[df.columns.duplicated()]))!r}.")
    return df


def missing_mask(s: pd.Series, missing_values) -> np.ndarray:
    """True where the cell is NaN/None or, after stripping spaces, one of ``missing_values``."""
    mask = s.isna().to_numpy().copy()
    if _is_text(s) and missing_values:
        mask |= s.astype(str).str.strip().isin(list(missing_values)).to_numpy()
    return mask


def _is_text(s: pd.Series) -> bool:
    return not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s))


def infer_kind(s: pd.Series, missing_values) -> str:
    """"numeric" or "categorical" for a column, raising for a numeric column with a stray string."""
    if pd.api.types.is_bool_dtype(s):
        return "categorical"
    if pd.api.types.is_numeric_dtype(s):
        return "numeric"
    present = s[~missing_mask(s, missing_values)]
    if present.empty:
        return "categorical"
    parsed = pd.to_numeric(present.astype(str).str.strip(), errors="coerce")
    share = float(parsed.notna().mean())
    if share == 1.0:
        return "numeric"
    if share >= _MOSTLY_NUMERIC:
        bad = present[parsed.isna()]
        raise ValueError(
            f"Column {s.name!r} looks numeric ({share:.1%} of its values are numbers) but holds "
            f"{bad.iloc[0]!r} at row {plain(bad.index[0])!r}. Fix the value, add it to missing_values, or "
            f"declare the column with categorical=[{s.name!r}] if it really is a category."
        )
    return "categorical"


def numeric_values(s: pd.Series, missing_values) -> np.ndarray:
    """The column as float64 with NaN for missing cells; raises naming the first non-number."""
    missing = missing_mask(s, missing_values)
    if pd.api.types.is_bool_dtype(s):
        values = s.astype(np.float64).to_numpy()
    elif pd.api.types.is_numeric_dtype(s):
        values = s.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        text = s.astype(str).str.strip().where(~missing, None)
        values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.isnan(values) & ~missing
        if bad.any():
            i = int(np.argmax(bad))
            raise ValueError(
                f"Column {s.name!r} is numeric but holds {s.iloc[i]!r} at row {plain(s.index[i])!r}, which "
                f"is not a number. Fix the value or add it to missing_values."
            )
    values = values.copy()
    values[missing] = np.nan
    if np.isinf(values).any():
        i = int(np.argmax(np.isinf(values)))
        raise ValueError(f"Column {s.name!r} holds an infinite value at row {plain(s.index[i])!r}; "
                         f"replace it or mark it missing.")
    return values


def category_values(s: pd.Series, missing_values) -> np.ndarray:
    """The column as an object array of strings, missing cells as ``MISSING_CATEGORY``.

    Numbers become their shortest text with integral floats written as integers, so a column
    read as int at fit and as float at predict (because of a NaN) gives the same categories.
    """
    if _is_text(s):
        stripped = s.astype(str).str.strip()  # once: this is the slow part on large tables
        missing = s.isna().to_numpy() | stripped.isin(list(missing_values)).to_numpy()
        text = stripped.to_numpy(dtype=object)
    else:
        missing = s.isna().to_numpy()
        values = s.to_numpy(dtype=np.float64, na_value=np.nan)
        integral = np.isfinite(values) & (values == np.round(values))
        text = np.where(integral, np.where(integral, values, 0).astype(np.int64).astype(str),
                        values.astype(str)).astype(object)
    text[missing] = MISSING_CATEGORY
    return text
