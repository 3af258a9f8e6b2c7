"""Dense, the shape layers (Input, Flatten, Reshape), Rescaling, and the layers that are the
identity at inference (dropout and image augmentation)."""

from __future__ import annotations

from glassnet import layers
from glassnet.export.registry import converts


@converts(layers.Dense)
def dense(g, layer, x):
    # MatMul, not Gemm: Gemm takes 2-D inputs only, and Dense applies to the last axis of any rank.
    z = g.node("MatMul", [x, g.weight(layer, "kernel")])
    if layer.use_bias:
        z = g.node("Add", [z, g.weight(layer, "bias")])
    return g.activation(layer.activation, z, layer)


@converts(layers.Input, layers.Dropout, layers.SpatialDropout1D, layers.SpatialDropout2D, layers.RandomFlip,
          layers.RandomTranslation, layers.RandomRotation, layers.RandomZoom, layers.RandomBrightness,
          layers.RandomContrast)
def identity(g, layer, x):
    """Inference passes these layers' inputs through unchanged: no node at all."""
    return x


@converts(layers.Flatten)
def flatten(g, layer, x):
    return g.node("Flatten", [x], axis=1)  # row-major over (H, W, C), as NumPy's reshape


@converts(layers.Reshape)
def reshape(g, layer, x):
    # 0 copies the batch size from the input (ONNX Reshape's default allowzero=0).
    return g.node("Reshape", [x, g.const([0, *layer.output_shape[1:]], dtype="int64")])


@converts(layers.RepeatVector)
def repeat_vector(g, layer, x):
    # (N, D) -> (N, 1, D) -> (N, n, D): Tile repeats along the new axis.
    return g.node("Tile", [g.node("Unsqueeze", [x, g.const([1], dtype="int64")]),
                           g.const([1, layer.n, 1], dtype="int64")])


@converts(layers.Permute)
def permute(g, layer, x):
    return g.node("Transpose", [x], perm=[0, *layer.dims])


@converts(layers.Rescaling)
def rescaling(g, layer, x):
    return g.node("Add", [g.node("Mul", [x, g.const(layer.scale)]), g.const(layer.offset)])
