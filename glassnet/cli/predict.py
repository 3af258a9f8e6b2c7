"""``glassnet predict`` (inputs of any kind to a CSV of predictions) and ``glassnet datasets``."""

from __future__ import annotations

import csv
import tomllib
from pathlib import Path

import numpy as np

from glassnet.cli import data as data_module
from glassnet.cli.train import predicted_classes


def _run_data_config(model_path: Path) -> dict:
    """The ``[data]`` table of the run folder's config beside the model file ({} without one)."""
    config = model_path.parent / "config.toml"
    if config.is_file():
        try:
            return tomllib.loads(config.read_text()).get("data", {})
        except tomllib.TOMLDecodeError:
            return {}
    return {}


def run_class_names(model, model_path: Path) -> list[str]:
    """From the model's preprocessor, else the run folder's config beside the model file."""
    classes = getattr(model.preprocessor, "classes_", None)
    if classes is not None:
        return [str(c) for c in classes]
    return [str(c) for c in _run_data_config(model_path).get("class_names", [])]


def _inputs(model, path: Path, model_path: Path):
    """(x, source labels) for a CSV, .npz, image file or folder; for a text model, .txt files
    or a CSV's text column (the one the run trained on, when its config is beside the model)."""
    suffix = path.suffix.lower()
    if data_module.takes_text(model.layers):
        texts = data_module.texts_for_model(path, column=_run_data_config(model_path).get("text"))
        return texts.x, texts.file_paths
    if path.is_dir() or suffix in (".png", ".jpg", ".jpeg", ".bmp", ".gif"):
        images = data_module.images_for_model(model, path)
        return images.x, images.file_paths
    if suffix == ".npz":
        with np.load(path, allow_pickle=False) as archive:
            key = next((k for k in ("x", "x_test", "test_images", "images") if k in archive.files), None)
            if key is None:
                raise ValueError(f"{path} holds {sorted(archive.files)}; predict reads the key x, x_test, "
                                 f"test_images or images.")
            x = archive[key]
        return x, [f"{key}[{i}]" for i in range(len(x))]
    if ".csv" in path.name.lower():
        import pandas as pd

        frame = pd.read_csv(path)
        if model.preprocessor is not None:
            target = getattr(model.preprocessor, "target", None)
            frame = frame.drop(columns=[target]) if target in frame.columns else frame
            return frame, [str(i) for i in frame.index]
        x = data_module.reshape_for_model(frame.to_numpy(dtype=np.float32), model)
        return x, [str(i) for i in range(len(x))]
    raise ValueError(f"cannot read {path}: give a .csv, a .npz, an image file or a folder of images.")


def predict_to_csv(model, model_path: Path, input_path: Path, output: Path) -> int:
    """Write one row per sample: its source, the predicted class (and name) and every output."""
    x, sources = _inputs(model, Path(input_path), Path(model_path))
    if not hasattr(x, "columns") and np.ndim(x) > 1 and tuple(np.shape(x)[1:]) != tuple(model.input_shape[1:]):
        raise ValueError(f"the input's samples have shape {tuple(np.shape(x)[1:])} but the model takes "
                         f"{tuple(model.input_shape[1:])}; this input does not fit this model.")
    outputs = model.predict(x)
    classify = (model.loss is not None and model.loss.classification) or (model.layers[-1].output_activation is not None
                                          and model.layers[-1].output_activation.name in ("softmax", "sigmoid"))
    names = run_class_names(model, Path(model_path))
    header = ["source"]
    if classify:
        header += ["prediction", "label"]
        columns = [f"p_{n}" for n in names] if len(names) == outputs.shape[1] else [f"p_{i}" for i in range(outputs.shape[1])]
        if outputs.shape[1] == 1:
            columns = [f"p_{names[1]}" if len(names) == 2 else "p_1"]
        header += columns
        classes = predicted_classes(model, outputs)
    else:
        header += [f"output_{i}" for i in range(outputs.shape[1])]
    output = Path(output)
    if output.parent and not output.parent.is_dir():
        raise FileNotFoundError(f"cannot write {output}: the folder {output.parent} does not exist.")
    with open(output, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for i, source in enumerate(sources):
            row = [source]
            if classify:
                c = int(classes[i])
                row += [c, names[c] if c < len(names) else str(c)]
            row += [f"{v:.6g}" for v in outputs[i]]
            writer.writerow(row)
    return len(sources)


def dataset_table() -> list[tuple[str, str, str]]:
    """(name, status, where) for every dataset the CLI can name without a path."""
    from glassnet.datasets import _files, fashion_mnist, mnist

    rows = []
    try:
        import sklearn

        rows.append(("digits", "available", f"bundled with scikit-learn {sklearn.__version__} "
                                             f"({Path(sklearn.__file__).parent / 'datasets' / 'data'})"))
    except ImportError:  # pragma: no cover - scikit-learn is a dependency
        rows.append(("digits", "missing", "pip install scikit-learn"))
    for name, module, folders in (("mnist", mnist, []),
                                  ("fashion_mnist", fashion_mnist, [getattr(fashion_mnist, "SYSTEM_FOLDER", "")])):
        try:
            paths = _files.fetch(name, module.FILES, module.MIRRORS, [f for f in folders if f], download=False)
            rows.append((name, "available", str(Path(next(iter(paths.values()))).parent)))
        except FileNotFoundError:
            rows.append((name, "not found", f"put its 4 IDX files in {_files.data_home() / name} "
                                            f"(downloaded there on first use when online)"))
    rows.append(("csv, npz, idx", "your files", "[data] source = \"csv\" | \"npz\" | \"idx\" with path = ..."))
    rows.append(("image_folder", "your files", "[data] source = \"image_folder\", path = folder with one subfolder per class"))
    rows.append(("text_folder", "your files", "[data] source = \"text_folder\", path = folder of .txt files, one "
                                              "subfolder per class (or source = \"csv\" with text = column)"))
    return rows
