"""Shared runs for the CLI tests: each trains once per session, in-process, on small data."""

import pytest
from cli_helpers import TABLE_CONFIG, only_run_folder, run_cli, write_image_folder, write_table


@pytest.fixture(scope="session")
def default_run(tmp_path_factory):
    """``glassnet train`` with no config: (exit code, stdout, run folder)."""
    out = tmp_path_factory.mktemp("default_runs")
    code, stdout = run_cli("train", "--out", out)
    return code, stdout, only_run_folder(out)


@pytest.fixture(scope="session")
def table_run(tmp_path_factory):
    """A binary classifier trained from a TOML config on a CSV: (code, stdout, folder, csv path)."""
    root = tmp_path_factory.mktemp("table")
    csv_path = write_table(root / "people.csv")
    config = root / "run.toml"
    config.write_text(TABLE_CONFIG.format(path=csv_path.as_posix()))
    code, stdout = run_cli("train", config, "--out", root / "runs", "--epochs", 4, "--batch-size", 16)
    return code, stdout, only_run_folder(root / "runs"), csv_path


@pytest.fixture(scope="session")
def image_run(tmp_path_factory):
    """A small CNN trained on an image folder: (code, stdout, folder, image folder)."""
    root = tmp_path_factory.mktemp("images")
    images = write_image_folder(root / "shapes")
    config = root / "images.toml"
    config.write_text(f'name = "shapes"\n[data]\nsource = "image_folder"\npath = "{images.as_posix()}"\n'
                      f'color_mode = "grayscale"\ntest_size = 0.25\n[fit]\nepochs = 3\nbatch_size = 8\n')
    code, stdout = run_cli("train", config, "--out", root / "runs", "--quiet")
    return code, stdout, only_run_folder(root / "runs"), images
