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


REVIEWS = {"pos": ["a great film", "Great fun and a joy", "a joy to watch\nagain", "great acting, great plot"],
           "neg": ["dull and boring", "awful plot", "Bad acting, bad film", "boring\tand dull"]}


def text_config(root, layers: str = "") -> str:
    """A run.toml for a folder of .txt reviews (the default text network unless ``layers``)."""
    for label, texts in REVIEWS.items():
        (root / "reviews" / label).mkdir(parents=True)
        for i, text in enumerate(texts):
            (root / "reviews" / label / f"{i}.txt").write_text(text, encoding="utf-8")
    config = root / "run.toml"
    config.write_text(f'name = "reviews"\n[data]\nsource = "text_folder"\npath = "{(root / "reviews").as_posix()}"\n'
                      f'test_size = 0.25\n[fit]\nepochs = 2\n{layers}', encoding="utf-8")
    return config


CHARACTERS = ('[[layers]]\ntype = "TextVectorization"\nsplit = "character"\noutput_mode = "count"\n'
              '[[layers]]\ntype = "Dense"\nunits = 1\nactivation = "sigmoid"\n')


def test_train_export_onnx_refuses_a_text_layer_that_cannot_export_before_training(tmp_path, capsys):
    code, _ = run_cli("train", text_config(tmp_path, CHARACTERS), "--out", tmp_path / "runs", "--export", "onnx",
                      "--quiet")
    err = capsys.readouterr().err
    assert code == 1
    assert "split='character'" in err and "--no-text-vectorization" in err
    assert not list(tmp_path.glob("runs/*/model.glassnet"))  # nothing trained


def test_train_export_onnx_of_the_default_text_network_takes_the_strings(tmp_path):
    code, stdout = run_cli("train", text_config(tmp_path), "--out", tmp_path / "runs", "--export", "onnx", "--quiet")
    assert code == 0, stdout
    folder = next((tmp_path / "runs").iterdir())
    model = gn.load_model(folder / "model.glassnet")
    texts = np.array(["A great joy!", "boring\nand AWFUL...", ""], dtype=object)  # (N,): the model's input shape
    got = run_onnx(onnx.load(str(folder / "model.onnx")), [texts])[0]
    np.testing.assert_allclose(got, model.predict(texts), rtol=1e-5, atol=1e-5)


def test_export_command_without_the_text_vectorization(tmp_path, capsys):
    code, stdout = run_cli("train", text_config(tmp_path, CHARACTERS), "--out", tmp_path / "runs", "--quiet")
    assert code == 0, stdout
    saved = next((tmp_path / "runs").iterdir()) / "model.glassnet"
    code, _ = run_cli("export", saved, tmp_path / "inside.onnx")
    assert code == 1 and "--no-text-vectorization" in capsys.readouterr().err
    code, stdout = run_cli("export", saved, tmp_path / "after.onnx", "--no-text-vectorization")
    assert code == 0 and f"Wrote {tmp_path / 'after.onnx'}" in stdout
    model = gn.load_model(saved)
    texts = ["A great joy!", "boring, awful"]
    vectors = model.layers[0](texts)
    got = run_onnx(onnx.load(str(tmp_path / "after.onnx")), [vectors])[0]
    np.testing.assert_allclose(got, model.predict(texts), rtol=1e-5, atol=1e-5)
