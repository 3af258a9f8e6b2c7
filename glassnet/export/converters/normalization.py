"""BatchNormalization at inference (its moving statistics) and LayerNormalization."""

from __future__ import annotations

import numpy as np

from glassnet import layers
from glassnet.export.registry import converts


@converts(layers.BatchNormalization)
def batch_normalization(g, layer, x):
    """y = x · s + t with s = γ / √(moving_variance + ε), t = β - moving_mean · s.

    Folded into one scale and one shift per channel (computed here in float64, then stored in
    the model's dtype): ONNX's BatchNormalization op wants the channels on axis 1, and glassnet's
    are last.
    """
    ndim = len(layer.input_shape)
    mean = layer.state["moving_mean"].astype(np.float64)
    inv_std = 1 / np.sqrt(layer.state["moving_variance"].astype(np.float64) + layer.epsilon)
    scale = inv_std * layer.params["gamma"] if layer.scale else inv_std
    shift = (layer.params["beta"] if layer.center else 0) - mean * scale
    # (C,) shaped to broadcast along ``axis`` of the input, the batch axis left out.
    shape = [1] * (ndim - 1)
    shape[layer.axis % ndim - 1] = mean.shape[0]
    y = g.node("Mul", [x, g.weight(layer, "scale", scale.reshape(shape))])
    return g.node("Add", [y, g.weight(layer, "shift", shift.reshape(shape))])


@converts(layers.LayerNormalization)
def layer_normalization(g, layer, x):
    """μ, σ² over the ``axis`` axes of each sample; y = γ (x - μ) / √(σ² + ε) + β.

    Written with elementary ops in glassnet's order, for any set of axes (ONNX's own
    LayerNormalization needs opset 17's trailing axes and computes σ² as E[x²] - μ², which
    cancels badly when |μ| is large).
    """
    ndim = len(layer.input_shape)
    axes = sorted({a % ndim for a in ([layer.axis] if isinstance(layer.axis, int) else layer.axis)})
    mean = g.node("ReduceMean", [x], axes=axes, keepdims=1)
    xc = g.node("Sub", [x, mean])
    var = g.node("ReduceMean", [g.node("Mul", [xc, xc])], axes=axes, keepdims=1)
    inv_std = g.node("Reciprocal", [g.node("Sqrt", [g.node("Add", [var, g.const(layer.epsilon)])])])
    y = g.node("Mul", [xc, inv_std])
    shape = [layer.input_shape[i] if i in axes else 1 for i in range(1, ndim)]
    if layer.scale:
        y = g.node("Mul", [y, g.weight(layer, "gamma", layer.params["gamma"].reshape(shape))])
    if layer.center:
        y = g.node("Add", [y, g.weight(layer, "beta", layer.params["beta"].reshape(shape))])
    return y
