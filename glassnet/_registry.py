"""The registry of every class a config or a model file may name.

Loading builds objects only from here or from the ``custom_objects`` a caller passes (directly,
or for everything nested too through ``custom_object_scope``); nothing is ever imported or
evaluated from a name found in a file.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Mapping
from typing import Any, Iterator

_REGISTRY: dict[str, dict[str, type]] = {}

# The caller's own classes, visible to every lookup inside ``custom_object_scope``. A context
# variable rather than a module global: concurrent loads in other threads keep their own.
_SCOPE: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar("glassnet_custom_objects",
                                                                           default={})

# glassnet's own modules that register classes but load lazily (see glassnet/__init__.py).
# A fixed list: a name read from a file never chooses what gets imported.
_OWN_LAZY_MODULES = ("glassnet.nnfs",)


class UnknownObjectError(ValueError):
    """A name that neither the registry nor the custom objects in reach hold.

    Attributes:
        kind: the family looked in ("layer", "schedule", ...).
        name: the name asked for.
    """

    def __init__(self, kind: str, name: str, message: str):
        super().__init__(message)
        self.kind, self.name = kind, name


def _load_own_modules() -> None:
    import importlib

    for module in _OWN_LAZY_MODULES:
        importlib.import_module(module)


@contextlib.contextmanager
def custom_object_scope(custom_objects: Mapping[str, Any] | None) -> Iterator[None]:
    """Make your own classes findable by name in every lookup and ``deserialize`` inside.

    Keras' ``custom_object_scope``: a config names a class by its name, and the objects nested
    in it (an optimizer's schedule, a layer's activation) are built by ``from_config`` calls
    that never see a ``custom_objects`` argument; the scope reaches them. Scopes nest, the
    inner one winning on a clash; a name in the scope wins over glassnet's own.

    Args:
        custom_objects: name -> class (or None, a no-op). Only these objects are ever used:
            nothing is imported or evaluated from a name.

    Example:
        >>> import glassnet as gn
        >>> class Double(gn.activations.Linear):
        ...     def forward(self, x):
        ...         return 2 * x
        >>> spec = {"class_name": "Double", "config": {}}
        >>> with gn.saving.custom_object_scope({"Double": Double}):
        ...     layer = gn.layers.Dense(1, activation=spec)
        >>> type(layer.activation).__name__
        'Double'
    """
    if custom_objects is None:
        custom_objects = {}
    if not isinstance(custom_objects, Mapping) or not all(isinstance(k, str) for k in custom_objects):
        raise TypeError(f"custom_objects must be a dict of name -> class, e.g. {{'MyLayer': MyLayer}}; "
                        f"got {type(custom_objects).__name__}.")
    if not custom_objects:  # nothing to add (deserialize enters a scope on every call)
        yield
        return
    token = _SCOPE.set({**_SCOPE.get(), **custom_objects})
    try:
        yield
    finally:
        _SCOPE.reset(token)


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


def lookup(kind: str, name: str, custom_objects: Mapping[str, Any] | None = None) -> type:
    """Find a class by name: in ``custom_objects``, then the active ``custom_object_scope``,
    then the registry.

    Raises:
        UnknownObjectError: (a ValueError) none holds it; the message lists the valid names.
    """
    for objects in (custom_objects or {}, _SCOPE.get()):
        if name in objects:
            return objects[name]
    table = _REGISTRY.get(kind, {})
    if name not in table:
        _load_own_modules()
    if name in table:
        return table[name]
    valid = ", ".join(sorted(table))
    raise UnknownObjectError(kind, name, f"Unknown {kind} {name!r}. Valid {kind} identifiers: {valid}.")


def serialize(obj) -> dict:
    """``{"class_name": ..., "config": ...}`` for any registered object with ``get_config``."""
    return {"class_name": type(obj).__name__, "config": obj.get_config()}


def deserialize(kind: str, spec, custom_objects: Mapping[str, Any] | None = None):
    """Build an object of ``kind`` from a string identifier, a serialized dict or an instance.

    ``custom_objects`` also reaches the objects nested in ``spec`` (its ``from_config`` runs
    inside ``custom_object_scope(custom_objects)``).
    """
    if isinstance(spec, str):
        cls = lookup(kind, spec, custom_objects)
        with custom_object_scope(custom_objects):
            return cls()
    if isinstance(spec, dict):
        if set(spec) != {"class_name", "config"} or not isinstance(spec["config"], dict):
            raise ValueError(
                f"A serialized {kind} must be a dict with exactly the keys 'class_name' and "
                f"'config'; got keys {sorted(spec)}."
            )
        cls = lookup(kind, spec["class_name"], custom_objects)
        with custom_object_scope(custom_objects):
            return cls.from_config(spec["config"])
    return spec
