"""UpSampling2D as ONNX's Resize (nearest), ZeroPadding2D as Pad."""

from __future__ import annotations

from glassnet import layers
from glassnet.export.registry import converts


@converts(layers.UpSampling2D)
def up_sampling(g, layer, x):
    # scales per axis (N, H, W, C); "asymmetric" + "floor" picks pixel ⌊i / s⌋, as repeating does
    scales = g.const([1.0, float(layer.size[0]), float(layer.size[1]), 1.0], dtype="float32")
    return g.node("Resize", [x, "", scales], mode="nearest", coordinate_transformation_mode="asymmetric",
                  nearest_mode="floor")


@converts(layers.ZeroPadding2D)
def zero_padding(g, layer, x):
    (top, bottom), (left, right) = layer.padding
    return g.node("Pad", [x, g.const([0, top, left, 0, 0, bottom, right, 0], dtype="int64")], mode="constant")
