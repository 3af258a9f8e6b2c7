"""Run configs: the TOML file ``glassnet train`` reads, checked key by key, and the default run.

A config has the sections ``[data]``, ``[preprocessing]``, ``[[layers]]``, ``[compile]``,
``[fit]`` and ``[[callbacks]]`` plus ``name``, ``seed`` and ``out``. Every error names the
key and, where the file shows it, the line: ``config.toml line 7: [fit] epochs: ...``.
"""

from __future__ import annotations

import copy
import difflib
import json
import math
import re
import tomllib
from pathlib import Path

#: the run ``glassnet train`` makes without a config: a small CNN on scikit-learn's digits.
DEFAULT_CONFIG = {
    "name": "digits-cnn",
    "seed": 0,
    "out": "runs",
    "data": {"source": "digits", "test_size": 0.2},
    "preprocessing": {"rescale": "auto"},
    "layers": [
        {"type": "Conv2D", "filters": 8, "kernel_size": 3, "padding": "same", "activation": "relu"},
        {"type": "MaxPooling2D", "pool_size": 2},
        {"type": "Flatten"},
        {"type": "Dense", "units": 32, "activation": "relu"},
        {"type": "Dense", "units": 10, "activation": "softmax"},
    ],
    "compile": {"optimizer": {"type": "Adam", "learning_rate": 0.01},
                "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
    "fit": {"epochs": 8, "batch_size": 32, "validation_split": 0.1},
    "callbacks": [],
}

SOURCES = ("digits", "mnist", "fashion_mnist", "npz", "csv", "idx", "image_folder", "text_folder")

# key -> (allowed Python types, a description for the error message)
_NUMBER = (int, float)
SCHEMA = {
    "": {"name": (str,), "seed": (int,), "out": (str,), "data": (dict,), "preprocessing": (dict,),
         "layers": (list,), "compile": (dict,), "fit": (dict,), "callbacks": (list,)},
    "data": {"source": (str,), "path": (str,), "target": (str,), "test_size": _NUMBER,
             "test_path": (str,), "train_images": (str,), "train_labels": (str,), "test_images": (str,),
             "test_labels": (str,), "image_size": (list,), "color_mode": (str,), "download": (bool,),
             "class_names": (list,), "split_seed": (int,), "text": (str,), "max_length": (int,),
             "on_invalid": (str,)},
    "preprocessing": {"rescale": (str, int, float, bool), "drop": (list,), "categorical": (list,),
                      "numeric": (list,), "rare_min_count": (int,), "rare_min_frequency": (float,),
                      "task": (str,), "positive_label": (str, int, bool)},
    "compile": {"optimizer": (str, dict), "loss": (str, dict), "metrics": (list,)},
    "fit": {"epochs": (int,), "batch_size": (int,), "validation_split": _NUMBER, "shuffle": (bool,),
            "class_weight": (str, dict), "log_every": (int,)},
}

#: [data] keys only some sources read; elsewhere they would be ignored without a word
#: (``image_size`` does not resize MNIST), so ``validate`` refuses them there.
SOURCE_KEYS = {
    "path": ("mnist", "fashion_mnist", "npz", "csv", "image_folder", "text_folder"),
    "target": ("csv",), "text": ("csv",), "max_length": ("csv", "text_folder"),
    "train_images": ("idx",), "train_labels": ("idx",), "test_images": ("idx",), "test_labels": ("idx",),
    "image_size": ("image_folder",), "color_mode": ("image_folder",), "on_invalid": ("image_folder",),
    "download": ("mnist", "fashion_mnist"),
}


class ConfigError(ValueError):
    """A config that cannot be used; the message names the file, line and key."""


class Locator:
    """Finds the line of a key in TOML text (tomllib does not report positions).

    Tracks ``[table]`` and ``[[array]]`` headers and ``key =`` lines; for values inside inline
    arrays it falls back to the first line showing the value.
    """

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?")
    _KEY = re.compile(r"""^\s*("[^"]+"|'[^']+'|[A-Za-z0-9_\-]+)\s*=""")

    def __init__(self, text: str, source: str):
        self.source = source
        self.lines = text.splitlines()
        self.positions: dict[tuple, int] = {}
        table: tuple = ()
        counts: dict[str, int] = {}
        for number, line in enumerate(self.lines, 1):
            header = self._HEADER.match(line)
            if header:
                name = header.group(2).strip()
                if header.group(1) == "[[":
                    counts[name] = counts.get(name, -1) + 1
                    table = (*name.split("."), counts[name])
                else:
                    table = tuple(name.split("."))
                self.positions.setdefault(table, number)
                continue
            key = self._KEY.match(line)
            if key:
                self.positions.setdefault((*table, key.group(1).strip("\"'")), number)

    def line(self, path: tuple, value=None) -> int | None:
        if path in self.positions:  # the key's own line: exact even when a value repeats
            return self.positions[path]
        if value is not None and isinstance(value, str):
            for number, line in enumerate(self.lines, 1):
                if f'"{value}"' in line or f"'{value}'" in line:
                    if path and str(path[-1]) in line or path in self.positions:
                        return number
        for end in range(len(path), 0, -1):
            if path[:end] in self.positions:
                return self.positions[path[:end]]
        return None

    def error(self, path: tuple, message: str, value=None) -> ConfigError:
        line = self.line(path, value)
        where = f"{self.source} line {line}" if line else self.source
        return ConfigError(f"{where}: {describe(path)}: {message}")


def describe(path: tuple) -> str:
    """``("fit", "epochs")`` -> ``[fit] epochs``; ``("layers", 2, "type")`` -> ``layers[2].type``."""
    if not path:
        return "(top level)"
    if len(path) >= 2 and isinstance(path[1], int):
        rest = "".join(f".{p}" for p in path[2:])
        return f"{path[0]}[{path[1]}]{rest}"
    if len(path) == 1:
        return str(path[0])
    return f"[{'.'.join(map(str, path[:-1]))}] {path[-1]}"


def load(path) -> tuple[dict, Locator]:
    """Read and check a TOML config; returns the config merged over the defaults it leaves out.

    Raises:
        ConfigError: the file is missing, is not valid TOML, or holds an unknown key or a
            value of the wrong kind; the message names the line and key.
    """
    raw, locator = read(path)
    validate(raw, locator)
    return merge_defaults(raw), locator


def read(path) -> tuple[dict, Locator]:
    """The TOML file as it is (not checked, no defaults) and its locator."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist" + (" (it is a folder)" if path.is_dir() else ""))
    text = path.read_text(encoding="utf-8")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path} is not valid TOML: {err}") from None
    return raw, Locator(text, str(path))


def merge_defaults(raw: dict) -> dict:
    """The default run with ``raw``'s values in place; a config naming its own data source
    gets no default layers, compile settings or preprocessing (they are inferred from the data)."""
    config = copy.deepcopy(DEFAULT_CONFIG)
    if "data" in raw and raw["data"].get("source", "digits") != "digits":
        config.update(name=Path(str(raw["data"].get("path", raw["data"]["source"]))).stem or "run",
                      layers=None, compile={}, preprocessing={"rescale": "auto"}, data={"test_size": 0.2})
    for key, value in raw.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict) and key != "compile":
            config[key] = {**config[key], **value}
        else:
            config[key] = copy.deepcopy(value)
    if "layers" in raw and "compile" not in raw:
        config["compile"] = {}  # infer the loss from the new network and the data
    return config


def check_keys(table: dict, keys: dict, base: tuple, locator: Locator) -> None:
    """Check one table against ``{key: allowed types}``: unknown keys (with a suggestion) and value kinds."""
    for key, value in table.items():
        if key not in keys:
            hint = difflib.get_close_matches(key, keys, n=1)
            suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
            raise locator.error((*base, key), f"unknown key{suggestion} Valid keys: {', '.join(keys)}.")
        types = keys[key]
        if isinstance(value, bool) and bool not in types or not isinstance(value, types):
            wanted = " or ".join({int: "an integer", float: "a number", str: "a string", bool: "true/false",
                                  list: "a list", dict: "a table"}[t] for t in types)
            raise locator.error((*base, key), f"must be {wanted}; got {json.dumps(value, default=str)}.")


def validate(raw: dict, locator: Locator) -> None:
    """Check keys and value kinds of every section (layer arguments are checked when built)."""
    for section, keys in SCHEMA.items():
        table = raw if section == "" else raw.get(section)
        if table is None:
            continue
        check_keys(table, keys, () if section == "" else (section,), locator)
    data = raw.get("data", {})
    if "source" in data and data["source"] not in SOURCES:
        raise locator.error(("data", "source"), f"unknown data source {data['source']!r}; valid sources: "
                                                f"{', '.join(SOURCES)}.", data["source"])
    source = data.get("source", "digits")
    for key, readers in SOURCE_KEYS.items():
        if key in data and source not in readers:
            raise locator.error(("data", key), f"source = {source!r} does not read {key} (the sources that "
                                               f"do: {', '.join(readers)}); remove it.")
    table = source == "csv" and "text" not in data  # the TabularPreprocessor's options reach only a table
    for key in raw.get("preprocessing", {}):
        if key != "rescale" and not table:
            raise locator.error(("preprocessing", key), f"applies to CSV tables (source = \"csv\" without text), "
                                                        f"not to source = {source!r}{' with text' if source == 'csv' else ''}; "
                                                        f"remove it.")
    if data.get("on_invalid", "raise") not in ("raise", "warn"):
        raise locator.error(("data", "on_invalid"), f"must be \"raise\" (stop at an image file that cannot be "
                                                    f"decoded) or \"warn\" (leave it out); got {data['on_invalid']!r}.")
    fit = raw.get("fit", {})
    for key in ("epochs", "batch_size", "log_every"):
        if key in fit and fit[key] < (0 if key == "epochs" else 1):
            raise locator.error(("fit", key), f"must be {'non-negative' if key == 'epochs' else 'positive'}; "
                                              f"got {fit[key]}.")
    if isinstance(fit.get("class_weight"), str) and fit["class_weight"] != "balanced":
        raise locator.error(("fit", "class_weight"), f"must be \"balanced\" or a table of weights by class index "
                                                     f"or name, e.g. {{\"0\" = 1.0, \"1\" = 3.0}}; got "
                                                     f"{fit['class_weight']!r}.")
    for key, section in (("validation_split", fit), ("test_size", data)):
        if key in section and not 0 <= section[key] < 1:
            raise locator.error((("fit",) if section is fit else ("data",)) + (key,),
                                f"must be in [0, 1); got {section[key]}.")
    for listed in ("layers", "callbacks"):
        for i, entry in enumerate(raw.get(listed, [])):
            if not isinstance(entry, dict):
                raise locator.error((listed, i), f"each entry must be a table like {{type = \"Dense\", units = 8}}; "
                                                 f"got {json.dumps(entry, default=str)}.")
            if not isinstance(entry.get("type"), str):
                raise locator.error((listed, i, "type"), "missing 'type' (the class name, e.g. \"Dense\").")


# -- writing the resolved config back as TOML ----------------------------------------------------
def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a valid TOML basic string
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    if value is None:
        raise TypeError("TOML has no null")
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_\-]+", key) else json.dumps(key)


def dumps(config: dict) -> str:
    """TOML text for a config (None values are left out: TOML has no null)."""
    lines, tables, arrays = [], [], []
    for key, value in config.items():
        if value is None:
            continue
        if isinstance(value, dict):
            tables.append((key, value))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            arrays.append((key, value))
        elif not (isinstance(value, list) and not value and key in ("layers", "callbacks")):
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    for key, table in tables:
        lines += ["", f"[{_toml_key(key)}]"]
        lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in table.items() if v is not None]
    for key, entries in arrays:
        for entry in entries:
            lines += ["", f"[[{_toml_key(key)}]]"]
            lines += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in entry.items() if v is not None]
    return "\n".join(lines) + "\n"


def apply_overrides(config: dict, **overrides) -> dict:
    """Command-line options over config values (None means 'not given')."""
    config = copy.deepcopy(config)
    for key in ("epochs", "batch_size", "log_every"):
        if overrides.get(key) is not None:
            config["fit"][key] = overrides[key]
    for key in ("seed", "out", "name"):
        if overrides.get(key) is not None:
            config[key] = overrides[key]
    return config
