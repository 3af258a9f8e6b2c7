"""Talos' ``Deploy`` and ``Restore``: a scan's best model, its results and a sample of its data in
one zip, and back. The model is a glassnet model file (safetensors and JSON: loading it runs no
code); the tables are CSV and JSON."""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile

import numpy as np
import pandas as pd

#: rows of x and y kept in the zip, as an example of the model's input.
SAMPLE_ROWS = 100


def _name(model_name: str, part: str) -> str:
    return f"{model_name}_{part}"


class Deploy:
    """Write ``<model_name>.zip``: the best round's model, the results CSV, its params and the first
    ``SAMPLE_ROWS`` rows of x and y.

    The zip holds ``<name>_model.glassnet``, ``<name>_results.csv``, ``<name>_params.json``,
    ``<name>_x.csv``, ``<name>_y.csv`` (samples flattened to one row each) and
    ``<name>_details.json`` (the scan's details, the metric and the sample's shape).

    Args:
        scan_object: a finished ``Scan`` run with ``save_weights=True``.
        model_name: the zip's name (and its files' prefix); may include a folder.
        metric: the metric that picks the best round ("val_acc", "val_loss" ...).
        asc: True when lower is better (a loss).
    """

    def __init__(self, scan_object, model_name: str, metric: str = "val_acc", asc: bool = False):
        from glassnet.saving.model_io import model_bytes

        if not isinstance(model_name, str) or not model_name:
            raise ValueError(f"model_name must be a non-empty string; got {model_name!r}.")
        index = scan_object._best_round(metric, asc)
        model = scan_object._model_of(index)
        base = os.path.basename(model_name)
        x = np.asarray(scan_object.x)[:SAMPLE_ROWS]
        y = np.asarray(scan_object.y)[:SAMPLE_ROWS]
        params = {k: _plain(v) for k, v in scan_object.data.iloc[index][list(scan_object.params)].items()}
        details = {k: _plain(v) for k, v in scan_object.details.items()}
        details.update(metric=metric, asc=asc, best_round=index, x_sample_shape=list(x.shape),
                       y_sample_shape=list(y.shape))
        self.path = model_name + ".zip"
        with zipfile.ZipFile(self.path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(_name(base, "model.glassnet"), model_bytes(model, include_optimizer=False))
            archive.writestr(_name(base, "results.csv"), scan_object.data.to_csv(index=False))
            archive.writestr(_name(base, "params.json"), json.dumps(params, indent=2))
            archive.writestr(_name(base, "x.csv"), pd.DataFrame(x.reshape(len(x), -1)).to_csv(index=False))
            archive.writestr(_name(base, "y.csv"), pd.DataFrame(y.reshape(len(y), -1)).to_csv(index=False))
            archive.writestr(_name(base, "details.json"), json.dumps(details, indent=2))
        print(f"Deploy package {self.path} has been saved.")


class Restore:
    """Read a ``Deploy`` zip: ``model`` (a glassnet model, uncompiled), ``params``, ``x``, ``y``
    (the samples, in their original shapes), ``results`` (a DataFrame) and ``details``.

    Only the files ``Deploy`` writes are read, by their exact names; nothing in the zip is run.
    """

    def __init__(self, path_to_zip, custom_objects: dict | None = None):
        from glassnet.saving import load_model

        path = os.fspath(path_to_zip)
        base = os.path.basename(path).removesuffix(".zip")
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            wanted = [_name(base, p) for p in ("model.glassnet", "results.csv", "params.json", "x.csv", "y.csv",
                                               "details.json")]
            missing = [n for n in wanted if n not in names]
            if missing:
                raise ValueError(f"{path} is not a glassnet Deploy package: it lacks {', '.join(missing)} (was the "
                                 f"zip renamed? its files are named after the zip).")
            read = {n: archive.read(n) for n in wanted}
        self.details = json.loads(read[wanted[5]])
        self.params = json.loads(read[wanted[2]])
        self.results = pd.read_csv(io.BytesIO(read[wanted[1]]))
        x = pd.read_csv(io.BytesIO(read[wanted[3]])).to_numpy()
        y = pd.read_csv(io.BytesIO(read[wanted[4]])).to_numpy()
        self.x = x.reshape(self.details["x_sample_shape"])
        self.y = y.reshape(self.details["y_sample_shape"])
        with tempfile.TemporaryDirectory() as folder:
            model_path = os.path.join(folder, "model.glassnet")
            with open(model_path, "wb") as f:
                f.write(read[wanted[0]])
            self.model = load_model(model_path, custom_objects=custom_objects, compile=False)


def _plain(value):
    """A JSON-ready form of a parameter or detail value."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return list(value)
    return value if isinstance(value, (str, int, float, bool, list, dict, type(None))) else str(value)
