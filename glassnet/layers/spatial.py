"""Spatial shape layers for images: UpSampling2D (the decoder half of a convolutional
autoencoder) and ZeroPadding2D. Both move pixels without weights; backward undoes forward."""

from __future__ import annotations

from glassnet import backend
from glassnet._registry import register
from glassnet.layers.base import Layer, check_channels_last


def _pair(value, name: str, layer: str, minimum: int) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int) and not isinstance(value, bool) else tuple(value)
    if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, int) or v < minimum for v in pair):
        raise ValueError(f"{layer}: {name} must be an int or a pair of ints >= {minimum}; got {value!r}.")
    return pair


@register("layer")
class UpSampling2D(Layer):
    """Repeats each pixel ``size`` times along height and width (nearest neighbour, Keras' default).

    Args:
        size: int or (sh, sw).

    Shapes:
        x: (N, H, W, C) -> y: (N, sh·H, sw·W, C).

    Math:
        forward y[n, i, j, c] = x[n, ⌊i/sh⌋, ⌊j/sw⌋, c]; backward dx = the sum of grad over each sh x sw block.
    """

    def __init__(self, size=(2, 2), interpolation: str = "nearest", **kwargs):
        super().__init__(**kwargs)
        self.size = _pair(size, "size", "UpSampling2D", 1)
        if interpolation != "nearest":
            raise ValueError(f"UpSampling2D: interpolation={interpolation!r} is not implemented; glassnet repeats "
                             f"pixels (interpolation='nearest', Keras' default).")
        self.interpolation = interpolation

    def compute_output_shape(self, input_shape):
        check_channels_last(input_shape, 2, "UpSampling2D")
        n, h, w, c = input_shape
        return (n, None if h is None else h * self.size[0], None if w is None else w * self.size[1], c)

    def forward(self, x, training=False):
        xp = backend.array_module(x)
        return xp.repeat(xp.repeat(x, self.size[0], axis=1), self.size[1], axis=2)

    def backward(self, grad):
        n, h, w, c = grad.shape
        sh, sw = self.size
        return grad.reshape(n, h // sh, sh, w // sw, sw, c).sum(axis=(2, 4))

    def get_config(self):
        return {**super().get_config(), "size": list(self.size), "interpolation": self.interpolation}


@register("layer")
class ZeroPadding2D(Layer):
    """Adds rows and columns of zeros around each image.

    Args:
        padding: int (all four sides), (rows, cols) (top = bottom, left = right), or
            ((top, bottom), (left, right)), as in Keras.

    Shapes:
        x: (N, H, W, C) -> y: (N, top + H + bottom, left + W + right, C).

    Math:
        forward y = x surrounded by zeros; backward dx = grad without the padded border.
    """

    def __init__(self, padding=(1, 1), **kwargs):
        super().__init__(**kwargs)
        if isinstance(padding, int) and not isinstance(padding, bool):
            padding = ((padding, padding), (padding, padding))
        elif len(padding) == 2 and all(isinstance(p, int) for p in padding):
            padding = ((padding[0], padding[0]), (padding[1], padding[1]))
        self.padding = tuple(_pair(p, "padding", "ZeroPadding2D", 0) for p in padding)
        if len(self.padding) != 2:
            raise ValueError(f"ZeroPadding2D: padding must be an int, (rows, cols) or ((top, bottom), (left, "
                             f"right)); got {padding!r}.")

    def compute_output_shape(self, input_shape):
        check_channels_last(input_shape, 2, "ZeroPadding2D")
        n, h, w, c = input_shape
        (top, bottom), (left, right) = self.padding
        return (n, None if h is None else top + h + bottom, None if w is None else left + w + right, c)

    def forward(self, x, training=False):
        (top, bottom), (left, right) = self.padding
        return backend.array_module(x).pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))

    def backward(self, grad):
        (top, bottom), (left, right) = self.padding
        h, w = grad.shape[1] - top - bottom, grad.shape[2] - left - right
        return backend.array_module(grad).ascontiguousarray(grad[:, top:top + h, left:left + w])

    def get_config(self):
        return {**super().get_config(), "padding": [list(p) for p in self.padding]}
