"""One converter per layer kind, in files named as glassnet/layers' (see glassnet/export/registry.py).

Importing this package registers them all; a new layer's converter goes in a module imported here.
"""

from glassnet.export.converters import (activations, convolutional, core, merging, nested, nnfs,  # noqa: F401
                                        normalization, pooling)
from glassnet.export.converters import embedding, masking, recurrent, wrappers  # noqa: F401
from glassnet.export.converters import spatial, text  # noqa: F401  (text: string operators, opset 20)
