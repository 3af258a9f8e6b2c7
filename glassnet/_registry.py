"""The registry of every class a config or a model file may name.

Loading builds objects only from here (or from ``custom_objects`` a caller passes); nothing is
ever imported or evaluated from a name found in a file.
"""

from __future__ import annotations

from typing import Any

_REGISTRY: dict[str, dict[str, type]] = {}

# glassnet's own modules that register classes but load lazily (see glassnet/__init__.py).
# A fixed list: a name read from a file never chooses what gets imported.
_OWN_LAZY_MODULES = ("glassnet.nnfs",)


def _load_own_modules() -> None:
    import importlib

    for module in _OWN_LAZY_MODULES:
        importlib.import_module(module)


def register(kind: str, *aliases: str):
    """Class decorator: make ``cls`` constructible by name within ``kind``.

    Args:
        kind: the family ("layer", "loss", "optimizer", "metric", "activation", "initializer",
            "regularizer", "schedule", "callback").
        *aliases: extra string identifiers, such as ``"adam"`` or ``"mse"``.
    """

    def decorate(cls):
        table = _REGISTRY.setdefault(kind, {})
        for key in (cls.__name__, *aliases):
            table[key] = cls
        return cls

    return decorate


def registered(kind: str) -> dict[str, type]:
    """The name -> class table of one family (a copy)."""
    _load_own_modules()
    return dict(_REGISTRY.get(kind, {}))


def lookup(kind: str, name: str, custom_objects: dict[str, Any] | None = None) -> type:
    """Find a class by name, raising a ValueError that lists the valid names."""
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    table = _REGISTRY.get(kind, {})
    if name not in table:
        _load_own_modules()
    if name in table:
        return table[name]
    valid = ", ".join(sorted(table))
    raise ValueError(f"Unknown {kind} {name!r}. Valid {kind} identifiers: {valid}.")


def serialize(obj) -> dict:
    """``{"class_name": ..., "config": ...}`` for any registered object with ``get_config``."""
    return {"class_name": type(obj).__name__, "config": obj.get_config()}


def deserialize(kind: str, spec, custom_objects: dict[str, Any] | None = None):
    """Build an object of ``kind`` from a string identifier, a serialized dict or an instance."""
    if isinstance(spec, str):
        return lookup(kind, spec, custom_objects)()
    if isinstance(spec, dict):
        if set(spec) != {"class_name", "config"} or not isinstance(spec["config"], dict):
            raise ValueError(
                f"A serialized {kind} must be a dict with exactly the keys 'class_name' and "
                f"'config'; got keys {sorted(spec)}."
            )
        cls = lookup(kind, spec["class_name"], custom_objects)
        return cls.from_config(spec["config"])
    return spec
