"""Dropout: zero a random share of activations while training (inverted scaling)."""

from __future__ import annotations

import numpy as np

from glassnet._registry import register
from glassnet.layers.base import Layer


@register("layer")
class Dropout(Layer):
    """Randomly sets a fraction ``rate`` of inputs to 0 during training.

    Kept inputs are scaled by 1 / (1 - rate) so the expected sum is unchanged and inference
    needs no rescaling (the NNFS book's and Keras' "inverted" dropout).

    Args:
        rate: fraction to drop, in [0, 1).

    Shapes:
        x: (N, ...) -> y: same shape.

    Math:
        forward y = x ⊙ m / (1 - rate), m ~ Bernoulli(1 - rate); backward dx = grad ⊙ m / (1 - rate).

    Example:
        >>> import numpy as np, glassnet as gn
        >>> gn.layers.Dropout(0.5)(np.ones((1, 4), dtype="float32"))  # inference: identity
        array([[1., 1., 1., 1.]], dtype=float32)
    """

    def __init__(self, rate: float, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise ValueError(f"Dropout rate must be in [0, 1); got {rate!r}.")
        self.rate = float(rate)

    def forward(self, x, training=False):
        if not training or self.rate == 0:
            self._mask = None
            return x
        keep = self._generator().random(x.shape, dtype=np.float32) >= self.rate
        self._mask = keep.astype(x.dtype) * x.dtype.type(1 / (1 - self.rate))
        return x * self._mask

    def backward(self, grad):
        return grad if self._mask is None else grad * self._mask

    def get_config(self):
        return {**super().get_config(), "rate": self.rate}
