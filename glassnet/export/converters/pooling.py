"""Max and average pooling, 1D and 2D (wrapped in transposes, see convolutional.py), and global pooling."""

from __future__ import annotations

from glassnet import layers
from glassnet.export.converters.convolutional import to_channels_first, to_channels_last, window_pads
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


@converts(layers.GlobalAveragePooling1D, layers.GlobalAveragePooling2D)
def global_average_pooling(g, layer, x):
    # Reduced over the spatial axes in place: channels-last needs no transpose here.
    return g.node("ReduceMean", [x], axes=list(range(1, layer.rank + 1)), keepdims=int(layer.keepdims))


@converts(layers.GlobalMaxPooling1D, layers.GlobalMaxPooling2D)
def global_max_pooling(g, layer, x):
    return g.node("ReduceMax", [x], axes=list(range(1, layer.rank + 1)), keepdims=int(layer.keepdims))
