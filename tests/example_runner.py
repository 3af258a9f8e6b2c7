"""Run an example script as a user would, and read the figures it prints."""

import os
import re
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_example(name: str, *args: str, timeout: float = 180) -> str:
    """stdout of ``python -W error examples/<name> *args``; fails on a non-zero exit or any stderr."""
    # One BLAS thread: on a busy shared machine, OpenBLAS threads waiting for each other burn
    # the cores (measured: a 2 ms product took 1.5 s); warnings are errors, as in the suite.
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-W", "error", str(EXAMPLES / name), *args], capture_output=True,
                          text=True, timeout=timeout, cwd=EXAMPLES.parent, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return done.stdout


def figure(pattern: str, text: str) -> float:
    """The number captured by ``pattern``'s first group in ``text``."""
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not in output:\n{text}"
    return float(match.group(1))
