"""Tabular accuracy: NeuralClassifier's defaults against LogisticRegression and MLPClassifier.

Run by hand: ``nice python benchmarks/bench_tabular.py [--datasets adult,breast_cancer,fair]``.
Every model sits behind the same preprocessing (median imputation and standard scaling of the
numeric columns, most-frequent imputation and dense one-hot encoding of the categorical ones)
and is scored by 5-fold stratified cross-validation with fixed seeds; each estimator keeps its
default settings (MLPClassifier with ``early_stopping=True``). Prints mean ± std accuracy and the
mean fit time of one fold, with the CPU model (fit times depend on it; accuracies do not).

Tables, all real and available offline:
- adult: UCI Adult census income, 48,842 rows (``../shared/data/adult.csv.gz`` beside the
  checkout, or ``--adult PATH``; ``?`` marks a missing value).
- breast_cancer: Wisconsin diagnostic breast cancer, 569 rows (bundled with scikit-learn).
- fair: Fair's 1978 extramarital-affairs survey, 6,366 rows, target ``affairs > 0`` (bundled
  with statsmodels: ``pip install statsmodels``, a benchmark-only dependency; skipped without it).
"""

from __future__ import annotations

import argparse
import ast
import os
import sys
import warnings
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import StratifiedKFold, cross_validate  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from glassnet.sklearn import NeuralClassifier  # noqa: E402
from glassnet.utils import cpu_model  # noqa: E402

ADULT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "adult.csv.gz"
SEED = 0


def load_adult(path: Path):
    if not path.exists():
        return None
    df = pd.read_csv(path, na_values="?", skipinitialspace=True)
    y = (df.pop("income") == ">50K").astype(int).to_numpy()
    categorical = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])]
    return df, y, categorical


def load_breast_cancer_table(args):
    df, y = load_breast_cancer(return_X_y=True, as_frame=True)
    return df, y.to_numpy(), []


def load_fair(args):
    try:
        from statsmodels.datasets import fair
    except ImportError:
        return None
    df = fair.load_pandas().data
    y = (df.pop("affairs") > 0).astype(int).to_numpy()
    categorical = ["occupation", "occupation_husb"]  # codes 1-6 of job categories, not quantities
    df[categorical] = df[categorical].astype(int).astype(str)
    return df, y, categorical


TABLES = {"adult": lambda args: load_adult(args.adult), "breast_cancer": load_breast_cancer_table, "fair": load_fair}


def preprocessing(df: pd.DataFrame, categorical: list[str]) -> ColumnTransformer:
    numeric = [c for c in df.columns if c not in categorical]
    parts = [("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric)]
    if categorical:
        parts.append(("cat", make_pipeline(SimpleImputer(strategy="most_frequent"),
                                           OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
                      categorical))
    return ColumnTransformer(parts)


def contenders(overrides: dict):
    return {
        "NeuralClassifier()": NeuralClassifier(random_state=SEED, **overrides),
        "LogisticRegression()": LogisticRegression(max_iter=1000),
        "MLPClassifier(early_stopping=True)": MLPClassifier(early_stopping=True, random_state=SEED),
    }


def parse_overrides(pairs: list[str]) -> dict:
    """``--set key=value`` pairs (values as Python literals) to try other NeuralClassifier settings."""
    out = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        try:
            out[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            out[key] = value
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(TABLES), help="comma-separated: " + ", ".join(TABLES))
    parser.add_argument("--rows", type=int, default=None, help="subsample each table to this many rows")
    parser.add_argument("--only", default=None,
                        help="comma-separated words: run only the contenders whose name starts with one")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        help="a NeuralClassifier parameter, e.g. --set epochs=50 (repeatable)")
    parser.add_argument("--adult", type=Path, default=ADULT, help=f"the Adult file (default {ADULT})")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (threadpoolctl); default 1")
    args = parser.parse_args()
    overrides = parse_overrides(args.overrides)
    print(f"CPU: {cpu_model()} ({os.cpu_count()} logical cores); numpy {np.__version__}; "
          f"5-fold stratified CV, seed {SEED}; {args.threads} BLAS thread(s)"
          + (f"; NeuralClassifier overrides {overrides}" if overrides else ""))
    print(f"{'dataset':<15}{'rows':>7}{'cols':>6}  {'model':<36}{'accuracy':>17}{'fit s/fold':>12}")
    with threadpool_limits(limits=args.threads):
        for name in args.datasets.split(","):
            run_table(name, args, overrides)


def run_table(name: str, args, overrides: dict) -> None:
    loaded = TABLES[name](args)
    if loaded is None:
        print(f"{name:<15} skipped: data not available (see the module docstring)")
        return
    df, y, categorical = loaded
    if args.rows and args.rows < len(df):
        keep = np.random.default_rng(SEED).choice(len(df), args.rows, replace=False)
        df, y = df.iloc[np.sort(keep)].reset_index(drop=True), y[np.sort(keep)]
    folds = StratifiedKFold(5, shuffle=True, random_state=SEED)
    width = preprocessing(df, categorical).fit_transform(df).shape[1]
    for label, estimator in contenders(overrides).items():
        if args.only and not label.startswith(tuple(args.only.split(","))):
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            scores = cross_validate(make_pipeline(preprocessing(df, categorical), estimator), df, y, cv=folds)
        acc = scores["test_score"]
        print(f"{name:<15}{len(df):>7}{width:>6}  {label:<36}{acc.mean():>9.4f} ± {acc.std():.4f}"
              f"{scores['fit_time'].mean():>12.2f}", flush=True)


if __name__ == "__main__":
    main()
