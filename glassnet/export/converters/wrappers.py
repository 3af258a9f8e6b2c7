"""TimeDistributed: the wrapped layer's converter on the steps folded into the batch, (N·T, ...).

(Bidirectional is in recurrent.py, beside the operators it uses.)
"""

from __future__ import annotations

from glassnet import layers
from glassnet.export import walk
from glassnet.export.registry import converts


@converts(layers.TimeDistributed)
def time_distributed(g, layer, x):
    shape = g.node("Shape", [x])
    rest = g.node("Slice", [shape, g.const([2], dtype="int64"), g.const([len(layer.input_shape)],
                                                                                   dtype="int64")])
    folded = g.node("Reshape", [x, g.node("Concat", [g.const([-1], dtype="int64"), rest], axis=0)])
    y, _ = walk.call(g, layer.layer, folded, None)  # the wrapped layer gets no mask, as in forward
    out_shape = g.node("Shape", [y])
    rest = g.node("Slice", [out_shape, g.const([1], dtype="int64"), g.const([len(layer.output_shape) - 1],
                                                                            dtype="int64")])
    batch_and_steps = g.node("Slice", [shape, g.const([0], dtype="int64"), g.const([2], dtype="int64")])
    return g.node("Reshape", [y, g.node("Concat", [batch_and_steps, rest], axis=0)])
