"""The NNFS book's layer names (glassnet/nnfs.py): glassnet's own layers under other names."""

from __future__ import annotations

from glassnet import nnfs
from glassnet.export.converters import activations, core
from glassnet.export.registry import converts

converts(nnfs.Layer_Dense)(core.dense)
converts(nnfs.Layer_Dropout)(core.identity)
converts(nnfs.Activation_ReLU, nnfs.Activation_Softmax, nnfs.Activation_Sigmoid,
         nnfs.Activation_Linear)(activations.activation_layer)
