"""Helpers of the CLI tests: run the command in-process, make small data sets on disk."""

import contextlib
import io
from pathlib import Path

import numpy as np

from glassnet.cli import main


def run_cli(*args) -> tuple[int, str]:
    """Run ``glassnet *args`` in-process; returns (exit code, stdout)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main([str(a) for a in args])
    return code, out.getvalue()


def only_run_folder(out: Path) -> Path:
    folders = [p for p in out.iterdir() if p.is_dir()]
    assert len(folders) == 1, folders
    return folders[0]


def write_table(path: Path, rows: int = 240, seed: int = 0) -> Path:
    """A CSV with numeric and categorical columns and a yes/no target that depends on both."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, rows)
    hours = rng.normal(40, 10, rows).round(1)
    job = rng.choice(["clerk", "engineer", "nurse", "?"], rows)
    score = (age - 45) / 15 + (hours - 40) / 10 + (job == "engineer") * 1.5
    target = np.where(score + rng.normal(0, 0.5, rows) > 0.3, "yes", "no")
    pd.DataFrame({"age": age, "hours": hours, "job": job, "target": target}).to_csv(path, index=False)
    return path


TABLE_CONFIG = """\
name = "table-mlp"
seed = 1

[data]
source = "csv"
path = "{path}"
target = "target"
test_size = 0.25

[[layers]]
type = "Dense"
units = 16
activation = "relu"

[[layers]]
type = "Dense"
units = 1
activation = "sigmoid"

[compile]
optimizer = {{type = "Adam", learning_rate = 0.02}}
loss = "binary_crossentropy"
metrics = ["accuracy"]

[fit]
epochs = 6
batch_size = 32
validation_split = 0.2

[[callbacks]]
type = "EarlyStopping"
patience = 10
"""


def write_image_folder(root: Path, per_class: int = 12, seed: int = 0) -> Path:
    """Two classes of 10x10 grayscale PNGs: a bright left half or a bright right half."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for label, side in (("left", slice(0, 5)), ("right", slice(5, 10))):
        (root / label).mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 60, (10, 10))
            pixels[:, side] += 180
            Image.fromarray(pixels.astype(np.uint8)).save(root / label / f"{i}.png")
    return root
