"""Conv1D and Conv2D: glassnet is channels-last, ONNX's Conv channels-first.

Every tensor between layers stays channels-last, as in glassnet, so that Flatten, Reshape, Dense,
Concatenate and the normalisations export unchanged; each convolution and pooling is wrapped in
a Transpose to (N, C, ...) and one back. ONNX Runtime's transpose optimizer cancels the pairs that
meet between two such layers, so the wrapping costs next to nothing where the model runs.
"""

from __future__ import annotations

import numpy as np

from glassnet import layers
from glassnet.export.registry import converts
from glassnet.layers.convolutional import window_geometry


def to_channels_first(g, x, rank: int) -> str:
    """(N, d₁..d_r, C) -> (N, C, d₁..d_r)."""
    return g.node("Transpose", [x], perm=[0, rank + 1, *range(1, rank + 1)])


def to_channels_last(g, x, rank: int) -> str:
    """(N, C, d₁..d_r) -> (N, d₁..d_r, C)."""
    return g.node("Transpose", [x], perm=[0, *range(2, rank + 2), 1])


def window_pads(layer, input_shape, kernel, strides, dilation) -> dict:
    """ONNX's ``pads`` (all befores, then all afters) by glassnet's (TensorFlow's) rules, or
    ``auto_pad="SAME_UPPER"`` (the same rule) where a "same" axis has no known size."""
    rank = len(kernel)
    if layer.padding == "valid":
        return {"pads": [0] * (2 * rank)}
    if layer.padding == "causal":  # k_eff - 1 before, none after
        return {"pads": [*(d * (k - 1) for k, d in zip(kernel, dilation)), *([0] * rank)]}
    if any(n is None for n in input_shape[1:-1]):
        return {"auto_pad": "SAME_UPPER"}
    geometry = window_geometry(input_shape[1:-1], kernel, strides, dilation, layer.padding, type(layer).__name__)
    return {"pads": [before for _, before, _ in geometry] + [after for _, _, after in geometry]}


@converts(layers.Conv1D, layers.Conv2D)
def conv(g, layer, x):
    rank = layer.rank
    W = layer.params["kernel"]  # (k₁..k_r, C, F) -> ONNX's (F, C, k₁..k_r)
    kernel = g.weight(layer, "kernel", np.transpose(W, (rank + 1, rank, *range(rank))))
    inputs = [to_channels_first(g, x, rank), kernel]
    if layer.use_bias:
        inputs.append(g.weight(layer, "bias"))
    z = g.node("Conv", inputs, kernel_shape=list(layer.kernel_size), strides=list(layer.strides),
               dilations=list(layer.dilation_rate),
               **window_pads(layer, layer.input_shape, layer.kernel_size, layer.strides, layer.dilation_rate))
    # The activation after the transpose back: softmax's axis is a channels-last axis.
    return g.activation(layer.activation, to_channels_last(g, z, rank), layer)
