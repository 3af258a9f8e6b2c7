"""glassnet layers: each file is one concept, forward and backward side by side."""

from glassnet.layers.activation import ELU, Activation, LeakyReLU, ReLU, Softmax
from glassnet.layers.augmentation import (RandomBrightness, RandomContrast, RandomFlip, RandomRotation,
                                          RandomTranslation, RandomZoom)
from glassnet.layers.base import ActivatedLayer, Layer
from glassnet.layers.convolutional import Conv1D, Conv2D
from glassnet.layers.dense import Dense
from glassnet.layers.dropout import Dropout, SpatialDropout1D, SpatialDropout2D
from glassnet.layers.embedding import Embedding
from glassnet.layers.gru import GRU
from glassnet.layers.lstm import LSTM
from glassnet.layers.masking import Masking
from glassnet.layers.merging import Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract
from glassnet.layers.normalization import BatchNormalization, LayerNormalization
from glassnet.layers.pooling import (AveragePooling1D, AveragePooling2D, GlobalAveragePooling1D,
                                     GlobalAveragePooling2D, GlobalMaxPooling1D, GlobalMaxPooling2D,
                                     MaxPooling1D, MaxPooling2D)
from glassnet.layers.recurrent import SimpleRNN
from glassnet.layers.reshaping import Flatten, Input, Permute, RepeatVector, Reshape
from glassnet.layers.rescaling import Rescaling
from glassnet.layers.spatial import UpSampling2D, ZeroPadding2D
from glassnet.layers.text_vectorization import TextVectorization
from glassnet.layers.wrappers import Bidirectional, TimeDistributed

__all__ = ["ActivatedLayer", "Activation", "Dense", "Dropout", "ELU", "Flatten", "Input", "Layer", "LeakyReLU",
           "ReLU", "Rescaling", "Reshape", "Softmax",
           # convolutional networks and image augmentation
           "AveragePooling1D", "AveragePooling2D", "BatchNormalization", "Conv1D", "Conv2D",
           "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
           "MaxPooling1D", "MaxPooling2D", "RandomBrightness", "RandomContrast", "RandomFlip",
           "RandomRotation", "RandomTranslation", "RandomZoom", "SpatialDropout1D", "SpatialDropout2D",
           "UpSampling2D", "ZeroPadding2D",
           # graphs: merging several tensors, and per-sample normalisation
           "Add", "Average", "Concatenate", "Dot", "LayerNormalization", "Maximum", "Minimum", "Multiply",
           "Subtract",
           # sequences and text
           "Bidirectional", "Embedding", "GRU", "LSTM", "Masking", "Permute", "RepeatVector", "SimpleRNN",
           "TextVectorization", "TimeDistributed"]
