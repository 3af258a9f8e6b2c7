"""examples/07_glass_box_walkthrough.py runs warning-free and prints what a learner should see."""

import os
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "07_glass_box_walkthrough.py"


def test_walkthrough_prints_the_hand_calculations_checks_and_diagnoses(tmp_path):
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-W", "error", str(EXAMPLE), str(tmp_path)], capture_output=True,
                          text=True, timeout=120, env=env)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    out = done.stdout
    assert "node 0 = 0.9999 x 2 + 0.7616 x (-1) = 1.238" in out
    assert "slope = 2 x (6 - 10) x 3 = -24; step: 2 - 0.01 x (-24) = 2.24" in out
    assert out.count("PASSED") == 2 and out.count("FAILED") == 1
    assert "0 findings" in out  # the healthy run
    assert "learning rate too high" in out and "dead relu" in out  # the broken one
    assert "best rate: " in out
    assert (tmp_path / "network.png").stat().st_size > 0
    assert (tmp_path / "learning_rate_sweep.png").stat().st_size > 0
