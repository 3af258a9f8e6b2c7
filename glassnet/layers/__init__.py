"""glassnet layers: each file is one concept, forward and backward side by side."""

from glassnet.layers.activation import ELU, Activation, LeakyReLU, ReLU, Softmax
from glassnet.layers.base import Layer
from glassnet.layers.dense import Dense
from glassnet.layers.dropout import Dropout
from glassnet.layers.reshaping import Flatten, Input, Reshape

__all__ = ["Activation", "Dense", "Dropout", "ELU", "Flatten", "Input", "Layer", "LeakyReLU",
           "ReLU", "Reshape", "Softmax"]
