"""Which converter turns which layer class (and which activation function) into ONNX nodes.

A converter is ``convert(g, layer, x) -> y``: ``g`` is the ``GraphBuilder`` being filled, ``x`` the
name of the layer's input tensor (a list of names for a layer that ``takes_list``), and ``y`` the
name of its output. Classes are matched exactly, never through a base class: a subclass that
overrides ``forward`` computes something else, and exporting it as its parent would be wrong in
silence. Register your own layer with ``@converts(MyLayer)``.

Masks (glassnet/layers/masking.py) travel beside the tensors, as in ``predict``: a layer with
``takes_mask`` that receives one gets it as ``convert(g, layer, x, mask=m)`` (m: a bool (N, T)
tensor's name), and the mask of its output comes from the ``@converts_mask`` function of its class
(``Embedding``, ``Masking``, the recurrent layers, the merging layers, which get one mask name or
None per input) or, for a layer that keeps ``Layer.compute_mask``, is passed on when the layer
``supports_masking``. A model used as a layer is walked with its input's mask (``walk.nested``).
"""

from __future__ import annotations

from typing import Callable

_LAYERS: dict[type, Callable] = {}
_ACTIVATIONS: dict[type, Callable] = {}
_MASKS: dict[type, Callable] = {}


class ExportError(ValueError):
    """A model, layer or preprocessor that cannot be written as ONNX; the message says why and what to do."""


def converts(*layer_classes: type):
    """Decorator: make ``fn(g, layer, x) -> y`` the ONNX converter of each of ``layer_classes``.

    Example:
        >>> import glassnet as gn
        >>> from glassnet.export import converts
        >>> class Double(gn.layers.Layer):
        ...     def forward(self, x, training=False):
        ...         return 2 * x
        >>> @converts(Double)
        ... def convert_double(g, layer, x):
        ...     return g.node("Mul", [x, g.const(2.0)])
    """

    def decorate(fn):
        for cls in layer_classes:
            _LAYERS[cls] = fn
        return fn

    return decorate


def converts_activation(*function_classes: type):
    """Decorator: make ``fn(g, function, x) -> y`` the converter of each activation function class."""

    def decorate(fn):
        for cls in function_classes:
            _ACTIVATIONS[cls] = fn
        return fn

    return decorate


def converts_mask(*layer_classes: type):
    """Decorator: make ``fn(g, layer, x, mask) -> mask name or None`` the ONNX form of each class's
    ``compute_mask`` (``mask`` is the input's mask name, or None)."""

    def decorate(fn):
        for cls in layer_classes:
            _MASKS[cls] = fn
        return fn

    return decorate


def _load_converters() -> None:
    # glassnet's own converters register on import; the package imports this module first.
    import glassnet.export.converters  # noqa: F401


def has_converter(layer_class: type) -> bool:
    """Whether ``layer_class`` itself (not a base class) has a converter."""
    _load_converters()
    return layer_class in _LAYERS


def has_activation_converter(function_class: type) -> bool:
    """Whether the activation function class itself has a converter."""
    _load_converters()
    return function_class in _ACTIVATIONS


def layer_converter(layer) -> Callable:
    """The converter of ``layer``'s exact class, or an ``ExportError`` naming the layer."""
    fn = _LAYERS.get(type(layer))
    if fn is None:
        raise ExportError(
            f"Layer {layer.name!r} ({type(layer).__module__}.{type(layer).__name__}) has no ONNX converter, so "
            f"the model cannot be exported. Write one and register it with "
            f"@glassnet.export.converts({type(layer).__name__}) (see glassnet/export/converters/ for examples)."
        )
    return fn


def activation_converter(function, layer) -> Callable:
    """The converter of an activation function's exact class, or an ``ExportError`` naming the layer."""
    fn = _ACTIVATIONS.get(type(function))
    if fn is None:
        raise ExportError(
            f"Layer {layer.name!r} uses the activation {type(function).__name__}, which has no ONNX converter. "
            f"Register one with @glassnet.export.converts_activation({type(function).__name__})."
        )
    return fn


def output_mask(g, layer, x, mask):
    """The mask of ``layer``'s output, as ``layer.compute_mask(x, mask)`` computes it in ``predict``."""
    from glassnet.layers.base import Layer

    fn = _MASKS.get(type(layer))
    if fn is not None:
        return fn(g, layer, x, mask)
    if getattr(type(layer), "compute_mask", Layer.compute_mask) is not Layer.compute_mask:
        raise ExportError(
            f"Layer {layer.name!r} ({type(layer).__name__}) computes its own mask (compute_mask), which has no "
            f"ONNX form. Register one with @glassnet.export.converts_mask({type(layer).__name__}).")
    return mask if getattr(layer, "supports_masking", False) else None
