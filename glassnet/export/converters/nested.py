"""A model used as a layer (ModelLayer): its layers inlined, their names under the layer's name."""

from __future__ import annotations

from glassnet.export import walk
from glassnet.export.registry import converts
from glassnet.models.nested import ModelLayer


@converts(ModelLayer)
def model_layer(g, layer, x):
    with g.scope(layer.name):
        return walk.run(g, layer.model, x if layer.takes_list else [x])[0]
