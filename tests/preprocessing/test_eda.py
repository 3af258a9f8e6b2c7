"""summarize: the first look at a table, judged the way the preprocessor judges it."""

import numpy as np
import pandas as pd
import pytest
from shared_data import SHARED_DATA

from glassnet.preprocessing import summarize

ADULT = SHARED_DATA / "adult.csv.gz"


def test_summary_counts_rows_kinds_cardinality_missing_and_balance():
    df = pd.DataFrame({
        "age": [30, 41, None, 25, 52, 33],
        "job": ["a", "?", "b", "a", "", "c"],
        "ratio": ["1.5", "2", "x", "3", "4", "5"],  # 5/6 numbers: below the "looks numeric" bar
        "y": ["no", "yes", "no", "no", "no", "yes"],
    })
    s = summarize(df, target="y")
    assert (s.n_rows, s.n_columns) == (6, 4)
    assert s.column_types == {"age": "numeric", "job": "categorical", "ratio": "categorical", "y": "categorical"}
    assert s.cardinality == {"job": 3, "ratio": 6, "y": 2}
    assert s.missing == {"age": 1, "job": 2}
    assert s.target_balance == {"no": 4, "yes": 2}
    text = str(s)
    assert "6 rows x 4 columns" in text and "target 'y': no: 4 (66.7%), yes: 2 (33.3%)" in text


def test_summary_lists_the_problems_the_preprocessor_would_raise_or_warn_about():
    n = 40
    df = pd.DataFrame({"id": np.arange(n), "empty": ["?"] * n, "same": [1] * n,
                       "num": [str(i) for i in range(n - 1)] + ["oops"],
                       "y": [0] * 36 + [1] * 4})
    s = summarize(df, target="y")
    assert s.column_types["num"] == "mixed"
    joined = "\n".join(s.problems)
    assert "Column 'num' looks numeric" in joined and "holds 'oops' at row 39" in joined
    assert "Column 'id' is unique per row" in joined
    assert "Column 'empty' is entirely missing" in joined
    assert "Column 'same' has a single value" in joined
    assert "Target 'y' is imbalanced (10.0% minority class)" in joined


def test_summary_errors():
    with pytest.raises(ValueError, match="Target column 'income' is not in the DataFrame"):
        summarize(pd.DataFrame({"a": [1]}), target="income")
    with pytest.raises(ValueError, match="empty DataFrame"):
        summarize(pd.DataFrame({"a": []}))


@pytest.mark.skipif(not ADULT.exists(), reason=f"{ADULT} is absent")
def test_summary_of_the_adult_census_data():
    s = summarize(pd.read_csv(ADULT), target="income")
    assert (s.n_rows, s.n_columns) == (48842, 15)
    assert list(s.column_types.values()).count("numeric") == 6
    assert s.missing == {"workclass": 2799, "occupation": 2809, "native-country": 857}
    assert s.cardinality["native-country"] == 41 and s.cardinality["education"] == 16
    assert s.target_balance == {"<=50K": 37155, ">50K": 11687}
