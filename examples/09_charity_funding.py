"""Charity funding (the Alphabet Soup layout): will a funded organisation use the money well?

Runs on your ``charity_data.csv`` (columns EIN, NAME, APPLICATION_TYPE, AFFILIATION,
CLASSIFICATION, USE_CASE, ORGANIZATION, STATUS, INCOME_AMT, SPECIAL_CONSIDERATIONS, ASK_AMT,
IS_SUCCESSFUL) when you give its path, else on a generated table with the same schema. Shows
the whole job: summary, identifier columns dropped, rare categories binned, a network trained
with early stopping, a report with plots, and one model file that takes raw rows.

    python examples/09_charity_funding.py [charity_data.csv] [--out folder]
"""

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

import glassnet as gn

COLUMNS = ["EIN", "NAME", "APPLICATION_TYPE", "AFFILIATION", "CLASSIFICATION", "USE_CASE", "ORGANIZATION",
           "STATUS", "INCOME_AMT", "SPECIAL_CONSIDERATIONS", "ASK_AMT", "IS_SUCCESSFUL"]


def synthetic_charity_data(n_rows: int = 4000, seed: int = 0) -> pd.DataFrame:
    """A table with the charity schema: long-tailed categories, IDs, and an outcome that depends
    on affiliation, application type, organisation, income and the amount asked (plus noise)."""
    rng = np.random.default_rng(seed)

    def pick(values, weights):
        weights = np.asarray(weights, dtype=float)
        return rng.choice(values, n_rows, p=weights / weights.sum())

    app_types = ["T3", "T4", "T6", "T5", "T19", "T8", "T7", "T10", "T9", "T13", "T12", "T2", "T25", "T14"]
    classes = ["C1000", "C2000", "C1200", "C3000", "C2100", "C7000", "C1700", "C4000", "C5000", "C1270",
               "C2700", "C2800", "C7100", "C1300", "C1280"]
    income = ["0", "1-9999", "10000-24999", "25000-99999", "100000-499999", "1M-5M", "5M-10M", "10M-50M", "50M+"]
    df = pd.DataFrame({
        "EIN": 10_000_000 + 2_473 * rng.permutation(n_rows) + rng.integers(0, 2_473, n_rows),  # unique
        "NAME": [f"ORGANIZATION {i}" for i in rng.integers(0, n_rows // 2, n_rows)],
        "APPLICATION_TYPE": pick(app_types, [700, 100, 90, 80, 60, 30, 20, 15, 10, 3, 2, 2, 1, 1]),
        "AFFILIATION": pick(["Independent", "CompanySponsored", "Family/Parent", "National", "Regional", "Other"],
                            [530, 460, 2, 1, 0.5, 0.2]),
        "CLASSIFICATION": pick(classes, [500, 180, 140, 60, 50, 25, 8, 6, 3, 3, 3, 2, 2, 1, 1]),
        "USE_CASE": pick(["Preservation", "ProductDev", "CommunityServ", "Heathcare", "Other"], [830, 160, 10, 3, 1]),
        "ORGANIZATION": pick(["Trust", "Association", "Co-operative", "Corporation"], [680, 300, 15, 5]),
        "STATUS": pick([1, 0], [999, 1]),
        "INCOME_AMT": pick(income, [700, 20, 40, 50, 90, 30, 5, 7, 5]),
        "SPECIAL_CONSIDERATIONS": pick(["N", "Y"], [999, 1]),
        "ASK_AMT": np.where(rng.random(n_rows) < 0.7, 5000, np.round(np.exp(rng.normal(11, 2, n_rows)))).astype(int),
    })
    logit = (1.2 * (df["AFFILIATION"] == "CompanySponsored") - 0.6
             + 0.8 * df["APPLICATION_TYPE"].isin(["T4", "T19", "T6"])
             - 0.7 * (df["APPLICATION_TYPE"] == "T3") * (df["AFFILIATION"] == "Independent")
             + 0.5 * (df["ORGANIZATION"] == "Association")
             + 0.4 * (df["INCOME_AMT"] != "0")
             - 0.25 * (np.log(df["ASK_AMT"]) - np.log(5000))
             + 0.6 * df["CLASSIFICATION"].isin(["C2000", "C1200"]))
    df["IS_SUCCESSFUL"] = (rng.random(n_rows) < 1 / (1 + np.exp(-logit))).astype(int)
    return df[COLUMNS]


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", nargs="?", help="charity_data.csv (default: a generated table)")
    parser.add_argument("--out", default=None, help="folder for the model file and the plots")
    parser.add_argument("--epochs", type=int, default=50)
    args = parser.parse_args(argv)
    out = Path(args.out or tempfile.mkdtemp(prefix="charity-"))
    out.mkdir(parents=True, exist_ok=True)

    df = pd.read_csv(args.csv) if args.csv else synthetic_charity_data()
    print("data:", args.csv or "generated table with the charity schema")
    print(gn.preprocessing.summarize(df, target="IS_SUCCESSFUL"), "\n")

    # EIN and NAME identify applicants; categories rarer than 1.5 % (APPLICATION_TYPE) or 3 %
    # (CLASSIFICATION) of the training rows, like the usual counts 500 and 1,000 out of 34,299
    # rows, are binned into "Other".
    prep = gn.preprocessing.TabularPreprocessor(
        target="IS_SUCCESSFUL", drop=["EIN", "NAME"],
        rare_min_frequency={"APPLICATION_TYPE": 0.015, "CLASSIFICATION": 0.03})
    X_train, X_test, y_train, y_test = prep.split(df, test_size=0.25, stratify=True, seed=42)
    x_train = prep.fit_transform(X_train)
    print(f"{prep.n_features_out} features: {', '.join(prep.feature_names_out)}\n")

    model = gn.Sequential([
        gn.layers.Input((prep.n_features_out,)),
        gn.layers.Dense(80, activation="relu"),
        gn.layers.Dense(30, activation="relu"),
        gn.layers.Dense(1, activation="sigmoid"),
    ], name="charity", seed=42)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    stop = gn.callbacks.EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)
    history = model.fit(x_train, y_train, batch_size=64, epochs=args.epochs, validation_split=0.2,
                        callbacks=[stop], verbose=0)
    print(f"trained {len(history.history['loss'])} epochs (best: {stop.best_epoch + 1})")

    report = gn.reports.binary_classification_report(y_test, model.predict(prep.transform(X_test)),
                                                     labels=("unsuccessful", "successful"))
    print(report)
    report.plot(out / "charity_report.png")

    # One file: the network and the fitted preprocessor (JSON and arrays, no pickle).
    model.attach_preprocessor(prep)
    model.save(out / "charity.glassnet")
    loaded = gn.load_model(out / "charity.glassnet")
    raw_rows = X_test.head(5)
    probabilities = loaded.predict(raw_rows)[:, 0]
    print("\nraw rows in, probabilities out (loaded model):")
    for (_, row), p in zip(raw_rows.iterrows(), probabilities):
        print(f"  {row['APPLICATION_TYPE']:>4} {row['AFFILIATION']:<17} ask {row['ASK_AMT']:>10,}  ->  {p:.3f}")
    print(f"\nsaved {out / 'charity.glassnet'} and {out / 'charity_report.png'}")
    return {"report": report.to_dict(), "model_path": out / "charity.glassnet",
            "probabilities": probabilities, "raw_rows": raw_rows}


if __name__ == "__main__":
    main()
