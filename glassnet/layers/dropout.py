"""Dropout: zero a random share of activations while training (inverted scaling)."""

from __future__ import annotations

import numbers

import numpy as np

from glassnet import backend
from glassnet._registry import register
from glassnet.layers.base import Layer, check_channels_last


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
        inference y = x (nothing is dropped outside training).

    Example:
        >>> import numpy as np, glassnet as gn
        >>> gn.layers.Dropout(0.5)(np.ones((1, 4), dtype="float32"))  # inference: identity
        array([[1., 1., 1., 1.]], dtype=float32)
    """

    supports_masking = True

    def __init__(self, rate: float, **kwargs):
        super().__init__(**kwargs)
        # numbers.Real admits NumPy scalars (a tuner's np.float32(0.25)); bool is excluded.
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 <= rate < 1:
            raise ValueError(f"Dropout rate must be in [0, 1); got {rate!r}.")
        self.rate = float(rate)

    def forward(self, x, training=False):
        if not training or self.rate == 0:
            self._mask = None
            return x
        keep = backend.drawn_on_host(self._generator().random(self.noise_shape(x), dtype=np.float32) >= self.rate, x)
        self._mask = keep.astype(x.dtype) * x.dtype.type(1 / (1 - self.rate))
        return x * self._mask

    def noise_shape(self, x) -> tuple:
        """The shape of the keep/drop draw; it broadcasts over ``x`` (one draw per element here)."""
        return x.shape

    def backward(self, grad):
        return grad if self._mask is None else grad * self._mask

    def get_config(self):
        return {**super().get_config(), "rate": self.rate}


class _SpatialDropout(Dropout):
    """Dropout of whole channels: one draw per (sample, channel), shared by every position."""

    rank = 0

    def __init__(self, rate: float, seed: int | None = None, **kwargs):
        super().__init__(rate, **kwargs)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ValueError(f"{type(self).__name__}: seed must be a non-negative integer or None; got {seed!r}.")
        # Seeds the layer used on its own; inside a model the model's seed decides.
        self.seed = None if seed is None else int(seed)
        if self.seed is not None:
            self.rng = np.random.default_rng(self.seed)

    def forward(self, x, training=False):
        check_channels_last(x.shape, self.rank, type(self).__name__)
        return super().forward(x, training)

    def noise_shape(self, x) -> tuple:
        # Neighbouring pixels of a feature map are strongly correlated, so dropping single
        # pixels barely regularises; dropping the whole map does (Tompson et al., 2015).
        return (x.shape[0], *(1,) * self.rank, x.shape[-1])

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


@register("layer")
class SpatialDropout2D(_SpatialDropout):
    """Drops entire feature maps (channels) of an image batch during training.

    Args:
        rate: fraction of channels to drop, in [0, 1).
        seed: seeds the layer used on its own; inside a model the model's seed decides.

    Shapes:
        x: (N, H, W, C) -> y: same shape; the mask is (N, 1, 1, C).

    Math:
        forward y = x ⊙ m / (1 - rate), m[n, :, :, c] ~ Bernoulli(1 - rate);
        backward dx = grad ⊙ m / (1 - rate).
        inference y = x (nothing is dropped outside training).

    Example:
        >>> import numpy as np, glassnet as gn
        >>> y = gn.layers.SpatialDropout2D(0.5)(np.ones((1, 3, 3, 4)), training=True)
        >>> bool(np.all(y.std(axis=(1, 2)) == 0))  # each channel kept or dropped as a whole
        True
    """

    rank = 2


@register("layer")
class SpatialDropout1D(_SpatialDropout):
    """Drops entire channels of a sequence batch during training.

    Args:
        rate: fraction of channels to drop, in [0, 1).
        seed: seeds the layer used on its own; inside a model the model's seed decides.

    Shapes:
        x: (N, L, C) -> y: same shape; the mask is (N, 1, C).

    Math:
        forward y = x ⊙ m / (1 - rate), m[n, :, c] ~ Bernoulli(1 - rate); backward dx = grad ⊙ m / (1 - rate).
        inference y = x (nothing is dropped outside training).
    """

    rank = 1
