"""Max and average pooling, 1D and 2D (wrapped in transposes, see convolutional.py), and global pooling."""

from __future__ import annotations

import numpy as np

from glassnet import layers
from glassnet.export.converters.convolutional import to_channels_first, to_channels_last, window_pads
from glassnet.export.dtypes import BOOL, float_type
from glassnet.export.registry import converts


def _pool(g, layer, x, op: str, **extra):
    rank = layer.rank
    ones = (1,) * rank
    y = g.node(op, [to_channels_first(g, x, rank)], kernel_shape=list(layer.pool_size),
               strides=list(layer.strides), **window_pads(layer, layer.input_shape, layer.pool_size, layer.strides,
                                                          ones), **extra)
    return to_channels_last(g, y, rank)


@converts(layers.MaxPooling1D, layers.MaxPooling2D)
def max_pooling(g, layer, x):
    # ONNX's MaxPool ignores padded cells, as glassnet's -inf padding does.
    return _pool(g, layer, x, "MaxPool")


@converts(layers.AveragePooling1D, layers.AveragePooling2D)
def average_pooling(g, layer, x):
    # count_include_pad=0: a "same" border window is divided by its real pixels, as in glassnet.
    return _pool(g, layer, x, "AveragePool", count_include_pad=0)


def _step_mask(g, mask) -> str:
    """A bool (N, T) mask as (N, T, 1) floats of the model's dtype."""
    m = g.node("Cast", [mask], to=float_type(g.dtype))
    return g.node("Unsqueeze", [m, g.const([2], dtype="int64")])


@converts(layers.GlobalAveragePooling1D, layers.GlobalAveragePooling2D)
def global_average_pooling(g, layer, x, mask=None):
    # Reduced over the spatial axes in place: channels-last needs no transpose here.
    if mask is None:
        return g.node("ReduceMean", [x], axes=list(range(1, layer.rank + 1)), keepdims=int(layer.keepdims))
    # Σ_t x_t m_t / max(Σ_t m_t, 1), weights first as glassnet computes them (0 when all are masked)
    m = _step_mask(g, mask)
    count = g.node("Max", [g.node("ReduceSum", [m, g.const([1], dtype="int64")], keepdims=1), g.const(1.0)])
    weighted = g.node("Mul", [x, g.node("Div", [m, count])])
    return g.node("ReduceSum", [weighted, g.const([1], dtype="int64")], keepdims=int(layer.keepdims))


@converts(layers.GlobalMaxPooling1D, layers.GlobalMaxPooling2D)
def global_max_pooling(g, layer, x, mask=None):
    if mask is None:
        return g.node("ReduceMax", [x], axes=list(range(1, layer.rank + 1)), keepdims=int(layer.keepdims))
    # a masked step never wins (-inf); a sample masked throughout gives 0
    kept = g.node("Unsqueeze", [mask, g.const([2], dtype="int64")])
    y = g.node("ReduceMax", [g.node("Where", [kept, x, g.const(-np.inf)])], axes=[1], keepdims=int(layer.keepdims))
    any_kept = g.node("Cast", [g.node("ReduceMax", [_step_mask(g, mask)], axes=[1], keepdims=int(layer.keepdims))],
                      to=BOOL)
    return g.node("Where", [any_kept, y, g.const(0.0)])
