"""The NNFS book's layer names (glassnet/nnfs.py): glassnet's own layers under other names."""

from __future__ import annotations

from glassnet import nnfs
from glassnet.nnfs.layers import BookSigmoid
from glassnet.export.converters import activations, core
from glassnet.export.registry import converts, converts_activation

converts(nnfs.Layer_Dense)(core.dense)
converts(nnfs.Layer_Dropout)(core.identity)
converts(nnfs.Activation_ReLU, nnfs.Activation_Softmax, nnfs.Activation_Sigmoid,
         nnfs.Activation_Linear)(activations.activation_layer)

# The book's sigmoid computes 1 / (1 + e⁻ˣ) in its own order; at inference it is ONNX's Sigmoid.
converts_activation(BookSigmoid)(activations.sigmoid)
