"""A model used as a layer (ModelLayer): its layers inlined, their names under the layer's name."""

from __future__ import annotations

from glassnet.export import walk
from glassnet.export.registry import converts
from glassnet.models.nested import ModelLayer


@converts(ModelLayer)
def model_layer(g, layer, x):
    # The walk calls walk.nested itself, to hand masks in and out; this is the same without one.
    return walk.nested(g, layer, x, None)[0]
