"""Example 13 in a reduced run (the first 4 chapters of each novel, 2 epochs): the script works end
to end. The full figures come from running it by hand (see its docstring and the README)."""

import re

import pytest
from example_runner import figure, run_example
from shared_data import SHARED_DATA


@pytest.mark.slow
def test_austen_which_novel_example_reduced():
    if not (SHARED_DATA / "austen_books.csv.gz").exists():
        pytest.skip("../shared/data/austen_books.csv.gz is absent")
    out = run_example("13_austen_which_novel.py", "--chapters", "4", "--epochs", "2")
    # whole chapters are split: 4 per novel, one each to test and validation, two to training
    assert re.search(r"^\d+ passages of 10 lines from 24 chapters: train \d+, val \d+, test \d+$", out, re.MULTILINE)
    assert 0.0 <= figure(r"TextVectorization\(multi_hot\) \+ Dense: test accuracy (\d\.\d+)", out) <= 1.0
    assert figure(r"TfidfVectorizer \+ LogisticRegression: test accuracy (\d\.\d+)", out) > 0.5
    assert "saved and loaded: the same test predictions: True" in out
