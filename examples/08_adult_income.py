"""Census income (UCI Adult): a neural network against logistic regression on the same split.

Reads ../shared/data/adult.csv.gz (48,842 people, 6 numeric and 8 categorical columns, "?" for
missing; see that folder's README) or a path given as the first argument. Prints the data
summary, then both models' figures side by side.

    python examples/08_adult_income.py [path/to/adult.csv.gz]
"""

import sys
from pathlib import Path

import pandas as pd
from sklearn.linear_model import LogisticRegression

import glassnet as gn

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "adult.csv.gz"


def main(argv=()) -> dict:
    path = Path(argv[0]) if argv else DEFAULT_DATA
    df = pd.read_csv(path)
    print(gn.preprocessing.summarize(df, target="income"), "\n")

    # Categories seen fewer than 50 times (rare countries, "Never-worked") share one column.
    prep = gn.preprocessing.TabularPreprocessor(target="income", rare_min_count=50)
    X_train, X_test, y_train, y_test = prep.split(df, test_size=0.25, stratify=True, seed=42)
    x_train = prep.fit_transform(X_train)  # fitted on the training rows only
    x_test = prep.transform(X_test)
    print(f"{x_train.shape[0]:,} training rows, {x_test.shape[0]:,} test rows, "
          f"{prep.n_features_out} features\n")

    model = gn.Sequential([
        gn.layers.Input((prep.n_features_out,)),
        gn.layers.Dense(64, activation="relu"),
        gn.layers.Dense(32, activation="relu"),
        gn.layers.Dense(1, activation="sigmoid"),
    ], seed=42)
    model.compile(optimizer=gn.optimizers.Adam(learning_rate=2e-3), loss="binary_crossentropy",
                  metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=128, epochs=5, verbose=0)

    baseline = LogisticRegression(solver="newton-cholesky", max_iter=200).fit(x_train, y_train)

    labels = tuple(prep.classes_)
    reports = {
        "glassnet MLP": gn.reports.binary_classification_report(y_test, model.predict(x_test), labels=labels),
        "LogisticRegression": gn.reports.binary_classification_report(
            y_test, baseline.predict_proba(x_test), labels=labels),
    }
    print(f"{'test set':<12}" + "".join(f"{name:>20}" for name in reports))
    for figure in ("accuracy", "precision", "recall", "f1", "roc_auc"):
        print(f"{figure:<12}" + "".join(f"{getattr(r, figure):>20.4f}" for r in reports.values()))
    print()
    print(reports["glassnet MLP"])
    return {name: r.to_dict() for name, r in reports.items()}


if __name__ == "__main__":
    main(sys.argv[1:])
