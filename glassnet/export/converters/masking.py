"""Masking: the steps whose features all equal ``mask_value`` set to 0 and marked as padding."""

from __future__ import annotations

from glassnet import layers
from glassnet.export.dtypes import BOOL, FLOAT, float_type
from glassnet.export.registry import converts, converts_mask


def _kept(g, layer, x) -> str:
    """m (N, T) bool: any feature of the step differs from mask_value."""
    differs = g.node("Cast", [g.node("Not", [g.node("Equal", [x, g.const(layer.mask_value)])])], to=FLOAT)
    # ReduceMax takes no booleans: any() as the max of 0/1 floats
    return g.node("Cast", [g.node("ReduceMax", [differs], axes=[-1], keepdims=0)], to=BOOL)


@converts(layers.Masking)
def masking(g, layer, x):
    keep = g.node("Cast", [g.node("Unsqueeze", [_kept(g, layer, x), g.const([-1], dtype="int64")])],
                  to=float_type(g.dtype))
    return g.node("Mul", [x, keep])


@converts_mask(layers.Masking)
def masking_mask(g, layer, x, mask):
    return _kept(g, layer, x)
