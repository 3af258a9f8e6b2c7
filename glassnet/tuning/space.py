"""Search spaces: a Talos-style dict of ranges, and the keras-tuner-style ``hp`` object.

Both end in Optuna's ``trial.suggest_*`` calls, so every sampler and pruner Optuna has works on
either. A dict space is read once per trial into a ``HyperParameters`` object, which is at the
same time a read-only dict of the values (``params["units"]``) and an ``hp`` with ``hp.Int``,
``hp.Float``, ``hp.Choice`` and ``hp.Boolean`` for parameters defined inside ``build_model``.
"""

from __future__ import annotations

import contextlib
import math
import numbers
from collections.abc import Mapping
from decimal import Decimal

import numpy as np

from glassnet._registry import serialize

#: Values Optuna can store as categorical choices; other objects are stored as their labels.
_PRIMITIVES = (str, int, float, bool, type(None))
#: A grid larger than this is surely a mistake (a float range without steps, a huge int range).
MAX_GRID_VALUES = 10_000


class LogUniform:
    """A float drawn log-uniformly from [low, high] (learning rates, weight decay).

    Example:
        >>> import glassnet as gn
        >>> space = {"learning_rate": gn.tuning.LogUniform(1e-4, 1e-1)}
    """

    def __init__(self, low: float, high: float):
        if not 0 < low < high:
            raise ValueError(f"LogUniform needs 0 < low < high; got ({low}, {high}).")
        self.low, self.high = float(low), float(high)

    def get_config(self) -> dict:
        return {"low": self.low, "high": self.high}

    def __repr__(self):
        return f"LogUniform({self.low:g}, {self.high:g})"


class Uniform:
    """A float drawn uniformly from [low, high] (dropout rates, momentum).

    Example:
        >>> import glassnet as gn
        >>> space = {"dropout": gn.tuning.Uniform(0.0, 0.5)}
    """

    def __init__(self, low: float, high: float):
        if not low < high:
            raise ValueError(f"Uniform needs low < high; got ({low}, {high}).")
        self.low, self.high = float(low), float(high)

    def get_config(self) -> dict:
        return {"low": self.low, "high": self.high}

    def __repr__(self):
        return f"Uniform({self.low:g}, {self.high:g})"


class IntRange:
    """An integer from low to high inclusive, in steps of ``step`` (or log-uniform with ``log``).

    Example:
        >>> import glassnet as gn
        >>> space = {"units": gn.tuning.IntRange(16, 128, step=16)}
    """

    def __init__(self, low: int, high: int, step: int = 1, log: bool = False):
        if int(low) != low or int(high) != high or int(step) != step or step < 1 or low > high:
            raise ValueError(f"IntRange needs integers low <= high and step >= 1; got ({low}, {high}, {step}).")
        if log and (low < 1 or step != 1):
            raise ValueError("IntRange(log=True) needs low >= 1 and step 1.")
        self.low, self.high, self.step, self.log = int(low), int(high), int(step), bool(log)

    def get_config(self) -> dict:
        return {"low": self.low, "high": self.high, "step": self.step, "log": self.log}

    def __repr__(self):
        return f"IntRange({self.low}, {self.high}, step={self.step}{', log=True' if self.log else ''})"


_DISTRIBUTIONS = {"LogUniform": LogUniform, "Uniform": Uniform, "IntRange": IntRange}


def _labels(values: list) -> list | None:
    """String labels for choices Optuna cannot store (classes, objects); None when not needed."""
    if all(isinstance(v, _PRIMITIVES) for v in values):
        return None
    labels = [getattr(v, "__name__", None) or str(v) for v in values]
    if len(set(labels)) != len(labels):
        raise ValueError(f"The choices {values} have clashing labels {labels}; give them distinct names.")
    return labels


def _stepped_range(name: str, spec: tuple) -> dict:
    """A Talos ``(low, high, steps)`` tuple as an Int/Float definition (evenly spaced, both ends)."""
    if len(spec) != 3 or not all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
                                 for v in spec):
        raise ValueError(f"Parameter {name!r}: a tuple means (low, high, steps), three numbers; got {spec!r}. "
                         f"Use a list for a set of choices.")
    low, high, steps = spec
    if int(steps) != steps or steps < 1:
        raise ValueError(f"Parameter {name!r}: steps must be a positive integer; got {steps!r}.")
    steps = int(steps)
    if steps == 1 or low == high:
        return {"kind": "fixed", "value": low}
    if low > high:
        raise ValueError(f"Parameter {name!r}: low must not exceed high in (low, high, steps); got {spec!r}.")
    if all(isinstance(v, (int, np.integer)) for v in (low, high)) and (high - low) % (steps - 1) == 0:
        return {"kind": "int", "low": int(low), "high": int(high), "step": (high - low) // (steps - 1), "log": False}
    # Decimal arithmetic so the grid holds 0.3, not 0.30000000000000004.
    step = (Decimal(str(float(high))) - Decimal(str(float(low)))) / (steps - 1)
    step = Decimal(f"{step:.12g}")
    values = [float(Decimal(str(float(low))) + i * step) for i in range(steps)]
    return {"kind": "float", "low": values[0], "high": values[-1], "step": float(step), "log": False,
            "grid": values}


def parse_space(space) -> dict[str, dict]:
    """Check a dict space and turn each entry into a definition ``{"kind": ..., ...}``.

    Lists are categorical choices; a tuple ``(low, high, steps)`` is ``steps`` evenly spaced
    values from low to high inclusive; ``LogUniform``, ``Uniform`` and ``IntRange`` are ranges; any
    other single value is a constant passed through unchanged.
    """
    if not isinstance(space, Mapping):
        raise TypeError(f"space must be a dict such as {{'units': [16, 32]}} or None; got {type(space).__name__}.")
    if not space:
        raise ValueError("The search space is empty: give at least one parameter, e.g. {'units': [16, 32]}; "
                         "pass space=None when build_model defines its parameters with hp.Int, hp.Choice ...")
    parsed = {}
    for name, spec in space.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"Parameter names must be non-empty strings; got {name!r}.")
        if isinstance(spec, list):
            if not spec:
                raise ValueError(f"Parameter {name!r} has an empty list of choices.")
            parsed[name] = {"kind": "choice", "values": list(spec), "labels": _labels(spec)}
        elif isinstance(spec, tuple):
            parsed[name] = _stepped_range(name, spec)
        elif isinstance(spec, LogUniform):
            parsed[name] = {"kind": "float", "low": spec.low, "high": spec.high, "step": None, "log": True}
        elif isinstance(spec, Uniform):
            parsed[name] = {"kind": "float", "low": spec.low, "high": spec.high, "step": None, "log": False}
        elif isinstance(spec, IntRange):
            parsed[name] = {"kind": "int", "low": spec.low, "high": spec.high, "step": spec.step, "log": spec.log}
        else:
            parsed[name] = {"kind": "fixed", "value": spec}
    if all(d["kind"] == "fixed" for d in parsed.values()):
        raise ValueError(f"The search space has nothing to search: every parameter of {sorted(parsed)} is a single "
                         f"value. Give choices as a list, e.g. {{'units': [16, 32]}}.")
    return parsed


def space_to_config(space) -> dict | None:
    """A JSON form of a dict space (for workers on other machines); None when it holds objects."""
    if space is None:
        return None
    config = {}
    for name, spec in space.items():
        if isinstance(spec, tuple(_DISTRIBUTIONS.values())):
            config[name] = serialize(spec)
        elif isinstance(spec, tuple):
            config[name] = {"range": list(spec)}
        elif isinstance(spec, list) and all(isinstance(v, _PRIMITIVES) for v in spec):
            config[name] = {"choices": spec}
        elif isinstance(spec, _PRIMITIVES):
            config[name] = {"fixed": spec}
        else:
            return None
    return config


def space_from_config(config: dict | None):
    if config is None:
        return None
    space = {}
    for name, entry in config.items():
        if "class_name" in entry:
            space[name] = _DISTRIBUTIONS[entry["class_name"]](**entry["config"])
        elif "range" in entry:
            space[name] = tuple(entry["range"])
        elif "choices" in entry:
            space[name] = list(entry["choices"])
        else:
            space[name] = entry["fixed"]
    return space


def grid_values(name: str, definition: dict) -> list:
    """Every value a grid search tries for one parameter (labels for non-primitive choices)."""
    kind = definition["kind"]
    if kind == "choice":
        return list(definition["labels"] or definition["values"])
    if kind == "int" and not definition["log"]:
        values = list(range(definition["low"], definition["high"] + 1, definition["step"]))
    elif kind == "float" and definition.get("grid"):
        values = list(definition["grid"])
    elif kind == "float" and definition["step"] and not definition["log"]:
        n = int(round((definition["high"] - definition["low"]) / definition["step"])) + 1
        values = [float(Decimal(str(definition["low"])) + i * Decimal(str(definition["step"]))) for i in range(n)]
    else:
        raise ValueError(
            f"A grid search needs a finite set of values for {name!r}, which is a continuous range. "
            f"Use a list of choices, a (low, high, steps) tuple, or strategy='random' / 'tpe'."
        )
    if len(values) > MAX_GRID_VALUES:
        raise ValueError(f"Parameter {name!r} has {len(values)} grid values; use fewer steps or strategy='tpe'.")
    return values


class HyperParameters(Mapping):
    """The parameters of one trial: a read-only dict of values and an ``hp`` for defining more.

    ``build_model(params)`` may read dict-space values (``params["units"]``) and define its own
    parameters (``params.Int("layers", 1, 3)``), keras-tuner style; calling a definition again
    with the same name returns the value already drawn.

    Without a trial (``HyperParameters()``, as keras-tuner's) every definition returns its default
    (``default=``, else the lowest value or the first choice) and records it in ``values``; values
    set beforehand (``hp.values["units"] = 64``, or the ones ``get_best_hyperparameters`` returns)
    are returned instead.

    Args:
        trial: an Optuna trial (or anything with its ``suggest_*`` methods), or None for defaults.
        space: the parsed dict space (``parse_space``), drawn at once in its order, or None.
        seed: this trial's seed (also the default seed of models built during the trial).

    Example:
        >>> import optuna, glassnet as gn
        >>> hp = gn.tuning.HyperParameters(optuna.trial.FixedTrial({"units": 32, "relu": True}))
        >>> hp.Int("units", 16, 64, step=16), hp.Boolean("relu")
        (32, True)
        >>> hp.Float("dropout", 0.0, 0.5, parent_name="relu", parent_values=[False]) is None
        True
    """

    def __init__(self, trial=None, space: dict | None = None, seed: int | None = None):
        self._trial = trial
        self.seed = seed
        self.values: dict = {}
        #: every parameter defined so far: name -> definition (kind, range or choices, default).
        self.space: dict[str, dict] = {}
        self._read: set[str] = set()
        self._defined_by_space: set[str] = set()
        #: whether a definition depended on another (a grid cannot enumerate such a space).
        self.has_conditions = False
        #: the (parent name, allowed values) of each enclosing ``conditional_scope``, outermost first.
        self._scopes: list[tuple] = []
        for name, definition in (space or {}).items():
            self._define(name, definition)
            self._defined_by_space.add(name)
        self._read.clear()  # drawn but not yet read: unread() reports the keys build_model ignores

    # -- dict access (Talos style) --------------------------------------------------------------
    def __getitem__(self, name):
        if name not in self.values:
            raise KeyError(f"No parameter {name!r} in this trial; it has: {', '.join(self.values) or 'none'}.")
        self._read.add(name)
        return self.values[name]

    def __iter__(self):
        return iter(self.values)

    def __len__(self):
        return len(self.values)

    def unread(self, ignore=()) -> list[str]:
        """Dict-space parameters that ``build_model`` never read (likely a misspelt name)."""
        return [n for n in self._defined_by_space if n not in self._read and n not in ignore]

    # -- definitions (keras-tuner style) ----------------------------------------------------------
    def Int(self, name, min_value, max_value, step=1, sampling="linear", default=None,
            parent_name=None, parent_values=None):
        """An integer in [min_value, max_value]; ``sampling="log"`` for log-uniform."""
        definition = {"kind": "int", "low": int(min_value), "high": int(max_value), "step": int(step or 1),
                      "log": sampling == "log", "default": default}
        return self._conditional(name, definition, default, parent_name, parent_values)

    def Float(self, name, min_value, max_value, step=None, sampling="linear", log=False, default=None,
              parent_name=None, parent_values=None):
        """A float in [min_value, max_value]; ``log=True`` (or sampling="log") for log-uniform."""
        definition = {"kind": "float", "low": float(min_value), "high": float(max_value), "step": step,
                      "log": bool(log) or sampling == "log", "default": default}
        return self._conditional(name, definition, default, parent_name, parent_values)

    def Choice(self, name, values, ordered=None, default=None, parent_name=None, parent_values=None):
        """One of ``values`` (any objects; non-primitive ones are stored by their labels).

        ``ordered`` is keras-tuner's flag (default: True when every value is a number, which it
        must then be): recorded in ``space`` and shown by ``search_space_summary``. Optuna's
        samplers draw a choice as a category either way (TPE models each value's own score).
        """
        values = list(values)
        if not values:
            raise ValueError(f"hp.Choice({name!r}) got no values.")
        numeric = all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values)
        if ordered is None:
            ordered = numeric
        elif ordered and not numeric:
            raise ValueError(f"hp.Choice({name!r}, ordered=True) needs numbers; got {values!r}. "
                             f"Leave ordered out (or False) for other values.")
        definition = {"kind": "choice", "values": values, "labels": _labels(values), "default": default,
                      "ordered": bool(ordered)}
        return self._conditional(name, definition, default, parent_name, parent_values)

    @contextlib.contextmanager
    def conditional_scope(self, parent_name, parent_values):
        """Definitions inside are active only while ``parent_name``'s value is one of
        ``parent_values`` (scopes nest: all must hold), as keras-tuner's; an inactive one draws
        nothing and returns its default (None unless given).

        Example:
            >>> import glassnet as gn
            >>> hp = gn.tuning.HyperParameters()
            >>> kind = hp.Choice("kind", ["mlp", "linear"])
            >>> with hp.conditional_scope("kind", ["mlp"]):
            ...     units = hp.Int("units", 8, 64)
            >>> with hp.conditional_scope("kind", "linear"):
            ...     bias = hp.Boolean("bias", default=None)
            >>> units, bias
            (8, None)
        """
        # Inside an inactive scope the parent may be undefined (itself inactive): nothing to check.
        allowed = (self._check_parent(parent_name, parent_values, "conditional_scope") if self._active()
                   else None)
        self._scopes.append((parent_name, allowed))
        try:
            yield
        finally:
            self._scopes.pop()

    def Boolean(self, name, default=False, parent_name=None, parent_values=None):
        """True or False."""
        definition = {"kind": "choice", "values": [False, True], "labels": None, "default": bool(default)}
        return self._conditional(name, definition, default, parent_name, parent_values)

    def Fixed(self, name, value):
        """A constant recorded with the trial's parameters but not searched."""
        return self._define(name, {"kind": "fixed", "value": value})

    def get(self, name, default=None):
        return self[name] if name in self.values else default

    def _check_parent(self, parent_name, parent_values, who: str) -> list:
        if parent_name not in self.values:
            raise ValueError(f"{who} depends on {parent_name!r}, which is not defined yet; define the parent first.")
        return list(parent_values) if isinstance(parent_values, (list, tuple, set)) else [parent_values]

    def _active(self) -> bool:
        """Whether every enclosing ``conditional_scope`` holds (outermost first, so an inner
        scope's parent is looked up only when the scopes around it hold)."""
        return all(self.values[parent] in allowed for parent, allowed in self._scopes)

    def _conditional(self, name, definition, default, parent_name, parent_values):
        if self._scopes or parent_name is not None:
            self.has_conditions = True
        if not self._active():
            return default  # inactive in this trial: nothing is drawn or recorded
        if parent_name is not None:
            allowed = self._check_parent(parent_name, parent_values, f"Parameter {name!r}")
            if self.values[parent_name] not in allowed:
                return default
        return self._define(name, definition)

    def _define(self, name, definition):
        self.space.setdefault(name, definition)
        if name in self.values:
            self._read.add(name)
            labels = definition.get("labels")
            if labels and self.values[name] in labels and self.values[name] not in definition["values"]:
                # a value set by its label (a stored trial's parameters): the object it names
                self.values[name] = definition["values"][labels.index(self.values[name])]
            return self.values[name]
        kind, trial = definition["kind"], self._trial
        if trial is None:
            value = _default_value(definition)
        elif kind == "fixed":
            value = definition["value"]
        elif kind == "choice":
            labels = definition["labels"]
            drawn = trial.suggest_categorical(name, labels or definition["values"])
            value = definition["values"][labels.index(drawn)] if labels else drawn
        elif kind == "int":
            value = trial.suggest_int(name, definition["low"], definition["high"], step=definition["step"],
                                      log=definition["log"])
        else:
            value = trial.suggest_float(name, definition["low"], definition["high"], step=definition["step"],
                                        log=definition["log"])
        self.values[name] = value
        self._read.add(name)
        self._defined_by_space.discard(name)
        return value

    def __repr__(self):
        return f"HyperParameters({self.values})"


def _default_value(definition: dict):
    """What keras-tuner's ``hp.Int(...)`` returns outside a search: the default, else the lowest
    value or the first choice."""
    if definition["kind"] == "fixed":
        return definition["value"]
    if definition.get("default") is not None:
        return definition["default"]
    return definition["values"][0] if definition["kind"] == "choice" else definition["low"]


class SpaceRecorder:
    """A stand-in trial that answers every ``suggest_*`` with its first value and records the
    definitions: used to try ``build_model`` once before a search, and to find the grid of a
    space defined with ``hp`` inside ``build_model``."""

    def __init__(self):
        self.definitions: dict[str, dict] = {}
        self.has_conditions = False

    def suggest_categorical(self, name, choices):
        self.definitions[name] = {"kind": "choice", "values": list(choices), "labels": None}
        return choices[0]

    def suggest_int(self, name, low, high, step=1, log=False):
        self.definitions[name] = {"kind": "int", "low": low, "high": high, "step": step, "log": log}
        return low

    def suggest_float(self, name, low, high, step=None, log=False):
        self.definitions[name] = {"kind": "float", "low": low, "high": high, "step": step, "log": log}
        return low if not log else math.sqrt(low * high)
