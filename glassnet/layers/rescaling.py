"""Rescaling: multiply and shift the inputs, so a model file takes raw pixels (0..255) itself."""

from __future__ import annotations

import numpy as np

from glassnet import backend
from glassnet._registry import register
from glassnet.layers.base import Layer


@register("layer")
class Rescaling(Layer):
    """Scales every input value: ``y = x * scale + offset`` (Keras' ``layers.Rescaling``).

    Put it first so the saved model accepts data as it is stored (pixels 0..255) and
    ``predict`` on raw images needs no separate preprocessing step.

    Args:
        scale: the factor, e.g. ``1 / 255``.
        offset: added after scaling, e.g. ``-1`` with ``scale=1 / 127.5`` for [-1, 1].

    Shapes:
        x: (N, ...) -> y: same shape, in the layer's dtype.

    Math:
        forward y = x·scale + offset; backward dx = grad·scale.

    Example:
        >>> import numpy as np, glassnet as gn
        >>> gn.layers.Rescaling(1 / 255)(np.array([[0.0, 255.0]])).tolist()
        [[0.0, 1.0]]
    """

    def __init__(self, scale: float, offset: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = float(scale)
        self.offset = float(offset)
        if not (np.isfinite(self.scale) and np.isfinite(self.offset)):
            raise ValueError(f"Rescaling needs finite scale and offset; got {scale!r}, {offset!r}.")

    def forward(self, x, training=False):
        x = backend.asarray(x)
        dtype = x.dtype if x.dtype.kind == "f" else np.dtype(self.dtype)
        return (x * dtype.type(self.scale) + dtype.type(self.offset)).astype(dtype, copy=False)

    def backward(self, grad):
        return grad * grad.dtype.type(self.scale)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}
