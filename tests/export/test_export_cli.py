"""``glassnet export MODEL OUT.onnx`` and ``glassnet train --export onnx``, run in-process."""

import contextlib
import io
import sys

import numpy as np
import pandas as pd
import pytest
from onnx_helpers import onnx, raw_columns, run_onnx

import glassnet as gn
from glassnet.cli import main


def run_cli(*args) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main([str(a) for a in args])
    return code, out.getvalue()


@pytest.fixture(scope="module")
def table_run(tmp_path_factory):
    """``glassnet train --export onnx`` on a small CSV of numbers and categories: (folder, csv path)."""
    root = tmp_path_factory.mktemp("export_cli")
    rng = np.random.default_rng(0)
    n = 200
    age, job = rng.integers(18, 80, n), rng.choice(["clerk", "engineer", "nurse", "?"], n)
    target = np.where((age - 45) / 15 + (job == "engineer") + rng.normal(0, 0.5, n) > 0.3, "yes", "no")
    pd.DataFrame({"age": age, "hours": rng.normal(40, 10, n).round(1), "job": job, "target": target}).to_csv(
        root / "people.csv", index=False)
    csv_path = (root / "people.csv").as_posix()
    (root / "run.toml").write_text(f'name = "people"\n[data]\nsource = "csv"\npath = "{csv_path}"\ntarget = "target"\n'
                                   f'[fit]\nepochs = 2\n')
    code, stdout = run_cli("train", root / "run.toml", "--out", root / "runs", "--export", "onnx", "--quiet")
    assert code == 0, stdout
    return next((root / "runs").iterdir()), root / "people.csv"


def test_train_writes_model_onnx_beside_the_model_taking_the_raw_columns(table_run):
    folder, csv_path = table_run
    model = gn.load_model(folder / "model.glassnet")
    proto = onnx.load(str(folder / "model.onnx"))
    assert [i.name for i in proto.graph.input] == ["age", "hours", "job"]
    rows = pd.read_csv(csv_path).drop(columns="target").iloc[:37]
    feeds = raw_columns(model.preprocessor, rows)
    got = run_onnx(proto, [feeds[c] for c in ["age", "hours", "job"]])[0]
    np.testing.assert_allclose(got, model.predict(rows), rtol=1e-5, atol=1e-5)


def test_export_command_writes_a_file_that_runs(table_run, tmp_path):
    folder, _ = table_run
    code, stdout = run_cli("export", folder / "model.glassnet", tmp_path / "people.onnx", "--no-preprocessor")
    assert code == 0 and f"Wrote {tmp_path / 'people.onnx'}" in stdout
    model = gn.load_model(folder / "model.glassnet")
    proto = onnx.load(str(tmp_path / "people.onnx"))
    x = np.random.default_rng(0).normal(size=(5, model.input_shape[1])).astype("float32")
    np.testing.assert_allclose(run_onnx(proto, [x])[0], model.predict(x), rtol=1e-5, atol=1e-5)


def test_export_command_without_onnx_says_how_to_install_it(table_run, tmp_path, monkeypatch, capsys):
    folder, _ = table_run
    monkeypatch.setitem(sys.modules, "onnx", None)
    code, _ = run_cli("export", folder / "model.glassnet", tmp_path / "m.onnx")
    assert code == 1
    assert "pip install 'glassnet[export]'" in capsys.readouterr().err
    assert not (tmp_path / "m.onnx").exists()


def test_export_help_has_examples():
    code, stdout = run_cli("export", "--help")
    assert code == 0 and "Example" in stdout and "Usage: glassnet export" in stdout


def test_train_with_export_but_without_onnx_stops_before_training(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "onnx", None)
    code, _ = run_cli("train", "--epochs", 1, "--out", tmp_path, "--export", "onnx", "--quiet")
    assert code == 1
    assert "pip install 'glassnet[export]'" in capsys.readouterr().err
    assert not list(tmp_path.glob("*/model.glassnet"))  # nothing trained
