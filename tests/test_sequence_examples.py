"""Examples 14 and 15 (sequence models on real data) in a reduced run: each still beats the
baselines it prints beside itself, and the Austen model writes the same text from the same seed.

The full figures come from running them by hand (see each script's docstring and the README).
"""

import subprocess
import sys

import pytest
from example_runner import EXAMPLES, figure, run_example
from shared_data import SHARED_DATA

AUSTEN = SHARED_DATA / "austen_books.csv.gz"
# A small LSTM, a tenth of the default's batches and 20,000 validation characters (about 10 s).
AUSTEN_REDUCED = ("--data", str(AUSTEN), "--epochs", "1", "--steps", "150", "--units", "64", "--val-chars",
                  "20000", "--generate", "80")


def _written(out: str) -> list[str]:
    """The texts printed after each "--- written at" header (print's own newline removed)."""
    return [block.split(":\n", 1)[1].removesuffix("\n") for block in out.split("\n--- written at ")[1:]]


@pytest.mark.slow
def test_austen_char_lm_reduced_beats_the_unigram_baseline_and_writes_the_same_text_from_a_seed():
    if not AUSTEN.exists():
        pytest.skip("../shared/data/austen_books.csv.gz is absent")
    out = run_example("14_austen_char_lm.py", *AUSTEN_REDUCED)
    assert "validation: 27 chapters" in out  # chapters 5, 15, 25, ... of each novel, not lines
    unigram = figure(r"unigram (\d+\.\d+)", out)
    bigram = figure(r"bigram (\d+\.\d+)", out)
    lstm = figure(r"LSTM (\d+\.\d+)", out)
    assert bigram < unigram < 5.0  # log2(82) = 6.36 bits would be a uniform guess
    assert lstm < unigram
    written = _written(out)
    assert [len(text) for text in written] == [80, 80]  # temperatures 0.5 and 1.0
    again = run_example("14_austen_char_lm.py", *AUSTEN_REDUCED[:-1], "40")
    assert [text[:40] for text in written] == _written(again)


def test_austen_char_lm_names_the_missing_data_file(tmp_path):
    missing = tmp_path / "austen_books.csv.gz"
    done = subprocess.run([sys.executable, str(EXAMPLES / "14_austen_char_lm.py"), "--data", str(missing)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert f"{missing} not found" in done.stderr and "--data" in done.stderr


@pytest.mark.slow
def test_co2_forecast_reduced_beats_naive_and_seasonal_naive():
    pytest.importorskip("statsmodels", reason="pip install statsmodels")
    out = run_example("15_co2_forecast.py", "--epochs", "5")
    assert "59 missing weeks of the training part interpolated" in out
    naive = figure(r"naive \(last value\)\s+MAE (\d+\.\d+)", out)
    seasonal = figure(r"seasonal naive \(52 weeks\)\s+MAE (\d+\.\d+)", out)
    network = figure(r"Conv1D \+ GRU\s+MAE (\d+\.\d+)", out)
    assert network < min(naive, seasonal)
    assert figure(r"Conv1D \+ GRU\s+MAE \d+\.\d+\s+RMSE (\d+\.\d+)", out) < figure(
        r"seasonal naive \(52 weeks\)\s+MAE \d+\.\d+\s+RMSE (\d+\.\d+)", out)
