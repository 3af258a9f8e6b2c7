"""Search configs for ``glassnet tune``: a run config with ranges written in place of values.

    [tune]
    strategy = "tpe"                 # grid | random | tpe
    max_trials = 20
    [[layers]]
    type = "Dense"
    units = {choice = [32, 64, 128]}
    [compile]
    optimizer = {type = "Adam", learning_rate = {log_uniform = [1e-4, 1e-1]}}
    [fit]
    batch_size = {choice = [16, 32]}

``load`` checks the file with ``config.validate`` (each range standing in for its first value)
and returns a ``Search``: the config, the ranges as a Tuner space and the ``[tune]`` settings.
``ConfigBuild`` is the build function: it writes a trial's values into the config and builds
the model through ``train.make_model``, the code path ``glassnet train`` uses.
"""

from __future__ import annotations

import copy
import difflib
import inspect
import json
from dataclasses import dataclass

import numpy as np

from glassnet._registry import lookup
from glassnet.cli import config as config_module
from glassnet.cli.config import ConfigError
from glassnet.tuning.space import IntRange, LogUniform, Uniform, parse_space

#: range kinds: a one-key inline table ``{kind = [...]}`` in place of a value.
RANGE_KINDS = {
    "choice": "a list of values, e.g. {choice = [32, 64, 128]}",
    "range": "[low, high, steps]: steps evenly spaced values, e.g. {range = [0.0, 0.5, 6]}",
    "uniform": "[low, high], e.g. {uniform = [0.0, 0.5]}",
    "log_uniform": "[low, high] with 0 < low, e.g. {log_uniform = [1e-4, 1e-1]}",
    "int": "[low, high] or [low, high, step], e.g. {int = [16, 128, 16]}",
}
#: [fit] keys a trial can change (the Tuner passes them to each trial's fit).
FIT_RANGES = ("epochs", "batch_size")
_NUMBER = (int, float)
TUNE_SCHEMA = {"strategy": (str,), "max_trials": (int,), "time_limit": _NUMBER, "fraction_limit": _NUMBER,
               "target": _NUMBER, "objective": (str,), "direction": (str,), "pruning": (str, bool),
               "executions_per_trial": (int,), "cv": (int,), "validation_split": _NUMBER, "n_workers": (int,),
               "storage": (str,), "study_name": (str,), "seed": (int,)}
#: a random or TPE search with no budget in the config runs this many trials.
DEFAULT_TRIALS = 20


@dataclass
class Search:
    """A checked search config.

    Attributes:
        config: the run config (defaults merged) with each range's first value in its place.
        locator: finds a key's line in the file, for errors.
        paths: parameter name -> where its value goes in ``config`` (("layers", 0, "units")).
        space: parameter name -> the Tuner's range (list, (low, high, steps), Uniform ...).
        tune: the ``[tune]`` table as written.
    """

    config: dict
    locator: config_module.Locator
    paths: dict
    space: dict
    tune: dict


def load(path) -> Search:
    """Read and check a search config.

    Raises:
        ConfigError: the file is not a valid run config, a range is malformed or sits where
            nothing can vary, or there is no range at all; the message names the line and key.
    """
    raw, locator = config_module.read(path)
    tune = raw.pop("tune", {})
    if not isinstance(tune, dict):
        raise locator.error(("tune",), "must be a table: [tune] with strategy, max_trials ...")
    config_module.check_keys(tune, TUNE_SCHEMA, ("tune",), locator)
    found: dict[tuple, object] = {}
    _find_ranges(raw, (), locator, found)
    if not found:
        raise ConfigError(f"{path}: nothing to tune: write ranges in place of values in [[layers]], [compile] or "
                          f"[fit], e.g. units = {{choice = [32, 64]}} or learning_rate = {{log_uniform = [1e-4, 1e-1]}}.")
    for where, spec in found.items():
        _set(raw, where, first_value(spec))
    config_module.validate(raw, locator)
    for where in found:
        _check_argument(raw, where, locator, found)
    names = _names(found)
    paths = {names[where]: where for where in found}
    space = {names[where]: spec for where, spec in found.items()}
    return Search(config_module.merge_defaults(raw), locator, paths, space, tune)


def _find_ranges(node, path: tuple, locator, found: dict) -> None:
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        where = (*path, key)
        if isinstance(value, dict) and (set(value) & set(RANGE_KINDS) or _near_miss(value)):
            allowed = where[0] in ("layers", "compile") or (where[0] == "fit" and len(where) == 2)
            if not allowed or (where[0] == "fit" and where[1] not in FIT_RANGES):
                raise locator.error(where, "a range cannot go here: ranges go in [[layers]], [compile] and [fit] "
                                           f"{' and '.join(FIT_RANGES)} (the data and the split stay fixed).")
            found[where] = _parse_range(value, where, locator)
        else:
            _find_ranges(value, where, locator, found)


def _near_miss(table: dict) -> bool:
    """A one-key table like {choise = [...]} or {loguniform = [...]}: a misspelt range."""
    return (len(table) == 1 and isinstance(next(iter(table.values())), list)
            and bool(difflib.get_close_matches(next(iter(table)), RANGE_KINDS, n=1, cutoff=0.7)))


def _parse_range(table: dict, where: tuple, locator):
    """``{kind = [...]}`` -> the Tuner's range object, checked."""
    kinds = "; ".join(f"{k} = {v}" for k, v in RANGE_KINDS.items())
    if len(table) != 1:
        raise locator.error(where, f"a range is a table with one key; got {json.dumps(table)}. Ranges: {kinds}.")
    kind, value = next(iter(table.items()))
    if kind not in RANGE_KINDS:
        hint = difflib.get_close_matches(kind, RANGE_KINDS, n=1, cutoff=0.7)
        raise locator.error(where, f"unknown range kind {kind!r}" + (f"; did you mean {hint[0]!r}?" if hint else "")
                            + f" Ranges: {kinds}.")
    numbers = isinstance(value, list) and all(isinstance(v, _NUMBER) and not isinstance(v, bool) for v in value)
    try:
        if kind == "choice":
            if not isinstance(value, list) or not value:
                raise ValueError("needs a non-empty list")
            if not all(isinstance(v, (str, int, float, bool)) for v in value):
                raise ValueError("choices must be strings, numbers or booleans")
            spec = list(value)
        elif not numbers:
            raise ValueError("needs a list of numbers")
        elif kind == "range":
            if len(value) != 3:
                raise ValueError("needs three numbers [low, high, steps]")
            spec = tuple(value)
            parse_space({"x": spec, "y": [0, 1]})  # the Tuner's own checks of a (low, high, steps) tuple
        elif kind in ("uniform", "log_uniform"):
            if len(value) != 2:
                raise ValueError("needs two numbers [low, high]")
            spec = (Uniform if kind == "uniform" else LogUniform)(*value)
        else:
            if len(value) not in (2, 3):
                raise ValueError("needs [low, high] or [low, high, step]")
            spec = IntRange(*value)
    except (TypeError, ValueError) as err:
        reason = str(err).replace("Parameter 'x': ", "")
        raise locator.error(where, f"malformed range {{{kind} = {json.dumps(value)}}}: {reason}. "
                                   f"{kind} = {RANGE_KINDS[kind]}.") from None
    return spec


def first_value(spec):
    """The value a range stands for while the config is checked and the first model is built."""
    return spec[0] if isinstance(spec, (list, tuple)) else spec.low


def _check_argument(raw: dict, where: tuple, locator, found: dict) -> None:
    """A range on a layer or optimizer argument the class does not take fails here, at its line."""
    if (*where[:-1], "type") in found:
        return  # the class itself varies; building each model checks its arguments
    if where[0] == "layers" and len(where) == 3 and where[2] != "type":
        kind, family = raw["layers"][where[1]]["type"], "layer"
    elif where[:2] == ("compile", "optimizer") and len(where) == 3 and where[2] != "type":
        kind, family = raw["compile"]["optimizer"].get("type", ""), "optimizer"
    else:
        return
    try:
        cls = lookup(family, kind)
    except ValueError:
        return  # an unknown class: building the first model says so, listing the valid ones
    accepted = set()
    for klass in cls.__mro__:
        if "__init__" in vars(klass):
            accepted |= {p.name for p in inspect.signature(klass.__init__).parameters.values()
                         if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name != "self"}
    if where[2] not in accepted:
        hint = difflib.get_close_matches(where[2], accepted, n=1)
        raise locator.error(where, f"{kind} has no argument {where[2]!r}" + (f"; did you mean {hint[0]!r}?" if hint else "")
                            + f" It takes: {', '.join(sorted(accepted))}.")


def _names(found: dict) -> dict:
    """Short parameter names: the key where it is unique ("units"), else the full path
    ("layers[0].units"). [fit] epochs and batch_size keep their names: the Tuner fits with them."""
    last = [where[-1] for where in found]
    names = {}
    for where in found:
        if (last.count(where[-1]) == 1 and where[-1] != "type") or where[0] == "fit":
            names[where] = str(where[-1])
        else:
            names[where] = str(where[0]) + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in where[1:])
    return names


def _set(config, where: tuple, value) -> None:
    node = config
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value


def resolve(config: dict, paths: dict, params) -> dict:
    """A copy of ``config`` with each parameter's value (``params[name]``) at its path."""
    config = copy.deepcopy(config)
    for name, where in paths.items():
        value = params[name]
        _set(config, tuple(where), value.item() if isinstance(value, np.generic) else value)
    return config


def _with_vocabulary(config: dict, paths: dict, dataset, locator=None) -> dict:
    """``config`` with its first layer's vocabulary (and idf weights) learned from the training
    texts, once: every trial, and every worker (which holds no texts), then builds it from the
    config alone, as a saved model does."""
    from glassnet.cli import train

    searched = [where for where in paths.values() if tuple(where[:2]) == ("layers", 0)]
    if searched:
        message = ("the text layer's settings cannot be searched: its vocabulary is learned once from the "
                   "training texts, before the trials. Fix them, and search the layers after it.")
        raise (locator.error(tuple(searched[0]), message) if locator else ConfigError(message))
    config = copy.deepcopy(config)
    first = train.build_model(copy.deepcopy(config), dataset, locator).layers[0].get_config()
    config["layers"][0].update(vocabulary=first["vocabulary"], idf_weights=first["idf_weights"])
    return config


class ConfigBuild:
    """The Tuner's build function for a search config: ``build(params)`` -> a compiled model.

    Holds plain data only (JSON-able, see ``to_json``), so worker processes and workers on other
    machines (``glassnet tune-worker``) rebuild it exactly.

    Args:
        config: the run config resolved by ``train.load_data`` (ranges at their first values).
        paths: parameter name -> path in ``config``.
        data: what building needs of the data: kind, task and the shape of one sample.
    """

    def __init__(self, config: dict, paths: dict, data: dict):
        self.config = config
        self.paths = {name: tuple(where) for name, where in paths.items()}
        self.data = data

    @classmethod
    def for_data(cls, config: dict, paths: dict, dataset, locator=None) -> "ConfigBuild":
        if dataset.kind == "text":
            config = _with_vocabulary(config, paths, dataset, locator)
        return cls(config, paths, {"kind": dataset.kind, "task": dataset.task,
                                   "sample_shape": list(dataset.x_train.shape[1:])})

    def __call__(self, params):
        return self.build(params)

    def build(self, params, locator=None):
        """The compiled model for ``params`` (a trial's ``hp`` or a plain dict); ``locator`` makes
        a config error name its line."""
        from glassnet.cli import data as data_module
        from glassnet.cli import train

        config = resolve(self.config, self.paths, params)
        if getattr(params, "seed", None) is not None:
            config["seed"] = int(params.seed)  # the trial's seed, from the study seed and trial number
        shape = tuple(self.data["sample_shape"])
        # building reads only the kind, the task and the sample shape of the data
        stand_in = data_module.Dataset(np.zeros((1, *shape), np.float32), None, None, None,
                                       self.data["kind"], self.data["task"])
        return train.make_model(config, stand_in, locator)

    def to_json(self) -> str:
        return json.dumps({"config": self.config, "paths": {k: list(v) for k, v in self.paths.items()},
                           "data": self.data})

    @classmethod
    def from_json(cls, text: str) -> "ConfigBuild":
        spec = json.loads(text)
        return cls(spec["config"], spec["paths"], spec["data"])
