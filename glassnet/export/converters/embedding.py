"""Embedding as a Gather of table rows, and its padding mask (ids != 0 with ``mask_zero``)."""

from __future__ import annotations

from glassnet import layers
from glassnet.export.dtypes import INT64
from glassnet.export.registry import converts, converts_mask


@converts(layers.Embedding)
def embedding(g, layer, x):
    # The ids may arrive as floats holding whole numbers (a float model input, as predict takes).
    return g.node("Gather", [g.weight(layer, "embeddings"), g.node("Cast", [x], to=INT64)], axis=0)


@converts_mask(layers.Embedding)
def embedding_mask(g, layer, x, mask):
    if not layer.mask_zero:
        return None
    return g.node("Not", [g.node("Equal", [g.node("Cast", [x], to=INT64), g.const(0, dtype="int64")])])
