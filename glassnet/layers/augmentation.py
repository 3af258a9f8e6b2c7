"""Image augmentation layers, active only in training: random flips, shifts, rotations and zooms,
brightness and contrast.

At inference they pass images through unchanged, so a model can keep them as its first layers.
Each draws one transform per image from ``self.rng``, which the model reseeds every epoch from
its seed: a rerun with the same seed sees the same augmented images.
"""

from __future__ import annotations

import numpy as np

from glassnet import backend
from glassnet._registry import register
from glassnet.layers.base import Layer

FILL_MODES = ("reflect", "wrap", "nearest", "constant")
INTERPOLATIONS = ("bilinear", "nearest")


def _check_images(x: np.ndarray, layer: str) -> None:
    if x.ndim != 4:
        raise ValueError(f"{layer} needs a batch of channels-last images (N, H, W, C); got shape {x.shape}.")


def _floats(x: np.ndarray) -> np.ndarray:
    # Raw uint8 pixels become float32, as Keras returns floats: interpolation weights, shifts
    # and contrast factors cast to the input's integer type would truncate to 0 or wrap around.
    return x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float32)


def _factor_range(factor, name: str, layer: str, low: float = -1.0) -> tuple[float, float]:
    """(lower, upper) from a float f (meaning (-f, f)) or a pair, as Keras reads its factors."""
    if isinstance(factor, (int, float, np.integer, np.floating)) and not isinstance(factor, bool):
        lower, upper = -abs(float(factor)), abs(float(factor))
    elif isinstance(factor, (tuple, list)) and len(factor) == 2:
        lower, upper = float(factor[0]), float(factor[1])
    else:
        raise ValueError(f"{layer}: {name} must be a float or a pair (lower, upper); got {factor!r}.")
    if lower > upper or lower < low or upper > 1.0:
        raise ValueError(f"{layer}: {name} must satisfy {low} <= lower <= upper <= 1; got {factor!r}.")
    return lower, upper


def _as_config(value):
    return list(value) if isinstance(value, tuple) else value


class _RandomLayer(Layer):
    """Shared by the augmentation layers: the ``seed`` argument and the image-shape check.

    Args:
        seed: seeds the generator of a layer used on its own; inside a model the model's seed
            decides (as it does for Dropout).
    """

    def __init__(self, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ValueError(f"{type(self).__name__}: seed must be a non-negative integer or None; got {seed!r}.")
        self.seed = None if seed is None else int(seed)
        if self.seed is not None:
            self.rng = np.random.default_rng(self.seed)

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(f"{type(self).__name__} needs images (N, H, W, C); "
                             f"got input shape {tuple(input_shape)}.")
        super().build(input_shape)

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


@register("layer")
class RandomFlip(_RandomLayer):
    """Flips each training image left-right and/or up-down with probability 1/2 each.

    Args:
        mode: "horizontal", "vertical" or "horizontal_and_vertical" (Keras' default).
        seed: see the module docstring.

    Shapes:
        x: (N, H, W, C) -> y: same shape.

    Math:
        forward  y[n] = flip(x[n]) where the draw says so, else x[n];
        backward dx[n] = flip(grad[n]) for the same n (a flip is its own inverse).

    Example:
        >>> import numpy as np, glassnet as gn
        >>> x = np.arange(4.).reshape(1, 2, 2, 1)
        >>> bool(np.array_equal(gn.layers.RandomFlip()(x), x))  # inference: unchanged
        True
    """

    MODES = ("horizontal", "vertical", "horizontal_and_vertical")

    def __init__(self, mode: str = "horizontal_and_vertical", seed: int | None = None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        if mode not in self.MODES:
            raise ValueError(f"RandomFlip: mode must be one of {self.MODES}; got {mode!r}.")
        self.mode = mode

    def _flip(self, x: np.ndarray) -> np.ndarray:
        for axis, flips in ((2, self._flip_w), (1, self._flip_h)):
            if flips is not None:
                shape = (-1, 1, 1, 1)
                x = np.where(flips.reshape(shape), np.flip(x, axis=axis), x)
        return x

    def forward(self, x, training=False):
        _check_images(x, "RandomFlip")
        if not training:
            self._flip_w = self._flip_h = None
            return x
        rng = self._generator()
        n = x.shape[0]
        self._flip_w = backend.drawn_on_host(rng.random(n) < 0.5, x) if "horizontal" in self.mode else None
        self._flip_h = backend.drawn_on_host(rng.random(n) < 0.5, x) if "vertical" in self.mode else None
        return self._flip(x)

    def backward(self, grad):
        return self._flip(grad)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


class _AffineTransform(_RandomLayer):
    """A random affine resampling per image: the base of translation, rotation and zoom.

    Each output pixel p (row, column) reads the input at q = A (p - c) + c - t, with c the image
    centre; ``_draw`` supplies A (N, 2, 2) and t (N, 2). Points that fall outside the image
    are mapped back in by ``fill_mode``; ``interpolation`` reads between pixels.

    Args:
        fill_mode: "reflect" (d c b a | a b c d | d c b a; Keras' default), "wrap"
            (a b c d | a b c d), "nearest" (a a | a b c d | d d) or "constant" (``fill_value``).
        interpolation: "bilinear" or "nearest".
        fill_value: the value outside the image when fill_mode="constant".
        seed: see the module docstring.
    """

    def __init__(self, fill_mode: str = "reflect", interpolation: str = "bilinear", seed: int | None = None,
                 fill_value: float = 0.0, **kwargs):
        super().__init__(seed=seed, **kwargs)
        name = type(self).__name__
        if fill_mode not in FILL_MODES:
            raise ValueError(f"{name}: fill_mode must be one of {FILL_MODES}; got {fill_mode!r}.")
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f"{name}: interpolation must be one of {INTERPOLATIONS}; got {interpolation!r}.")
        self.fill_mode = fill_mode
        self.interpolation = interpolation
        self.fill_value = float(fill_value)

    def _draw(self, rng: np.random.Generator, n: int, height: int, width: int):
        raise NotImplementedError

    def _fill(self, index: np.ndarray, size: int):
        """Integer indices mapped into [0, size) by the fill mode, and which ones were inside."""
        inside = (index >= 0) & (index < size)
        if self.fill_mode == "reflect":
            index = index % (2 * size)
            index = np.where(index >= size, 2 * size - 1 - index, index)
        elif self.fill_mode == "wrap":
            index = index % size
        else:  # "nearest", and "constant" (whose outside taps are zeroed by their weight)
            index = np.clip(index, 0, size - 1)
        return index, inside

    def forward(self, x, training=False):
        _check_images(x, type(self).__name__)
        if not training:
            self._taps = None
            return x
        x = _floats(x)
        n, h, w, _ = x.shape
        # The draws (N, 2, 2) and (N, 2) are made on the host and moved; the (N, H, W) geometry is
        # computed where x is (xp: NumPy, or CuPy on a GPU).
        xp = backend.array_module(x)
        A, t = (backend.drawn_on_host(np.ascontiguousarray(v), x) for v in self._draw(self._generator(), n, h, w))
        centre = (h - 1) / 2, (w - 1) / 2
        rows, cols = xp.meshgrid(xp.arange(h, dtype=np.float64), xp.arange(w, dtype=np.float64), indexing="ij")
        p = xp.stack([rows - centre[0], cols - centre[1]])  # (2, H, W), relative to the centre
        # q[n, :, i, j] = A[n] @ p[:, i, j] + c - t[n]: 'nab,bhw->nahw'
        shift = xp.stack([centre[0] - t[:, 0], centre[1] - t[:, 1]], axis=1)  # c - t, (N, 2)
        q = np.einsum("nab,bhw->nahw", A, p) + shift[:, :, None, None]
        if self.interpolation == "nearest":
            corners = [(np.floor(q[:, 0] + 0.5), np.floor(q[:, 1] + 0.5), xp.ones((n, h, w)))]
        else:
            r0, c0 = np.floor(q[:, 0]), np.floor(q[:, 1])
            fr, fc = q[:, 0] - r0, q[:, 1] - c0
            corners = [(r0, c0, (1 - fr) * (1 - fc)), (r0, c0 + 1, (1 - fr) * fc),
                       (r0 + 1, c0, fr * (1 - fc)), (r0 + 1, c0 + 1, fr * fc)]
        batch = xp.arange(n)[:, None, None]
        taps = []  # (sample, row, col) indices and weights of each tap, (N, H, W) each
        outside = xp.zeros((n, h, w))
        for r, c, weight in corners:
            r, r_in = self._fill(r.astype(np.intp), h)
            c, c_in = self._fill(c.astype(np.intp), w)
            if self.fill_mode == "constant":
                outside += np.where(r_in & c_in, 0.0, weight)
                weight = np.where(r_in & c_in, weight, 0.0)
            taps.append(((batch, r, c), weight.astype(x.dtype)[..., None]))
        self._taps, self._x_shape = taps, x.shape
        y = sum(x[index] * weight for index, weight in taps)  # x[index]: (N, H, W, C) gather
        if self.fill_mode == "constant" and self.fill_value:
            y = y + (outside * self.fill_value).astype(x.dtype)[..., None]
        return y

    def backward(self, grad):
        if self._taps is None:
            return grad
        # The transpose of the gather: each tap sends its weighted gradient back to the pixel it
        # read; several outputs may read one pixel, so the adds must accumulate (np.add.at).
        dx = backend.array_module(grad).zeros(self._x_shape, dtype=grad.dtype)
        for index, weight in self._taps:
            np.add.at(dx, index, grad * weight)
        return dx

    def get_config(self):
        return {**super().get_config(), "fill_mode": self.fill_mode, "interpolation": self.interpolation,
                "fill_value": self.fill_value}


@register("layer")
class RandomTranslation(_AffineTransform):
    """Shifts each training image by a random fraction of its height and width.

    Args:
        height_factor: f or (lower, upper), fractions of the height; f means (-f, f). A positive
            shift moves the content down.
        width_factor: likewise for the width; positive moves it right.
        fill_mode, interpolation, seed, fill_value: see ``_AffineTransform``.

    Shapes:
        x: (N, H, W, C) -> y: same shape.

    Math:
        forward  y[n, i, j] = x[n, i - tᵢ, j - tⱼ] (interpolated), tᵢ ~ U(lower, upper) · H;
        backward dx = the transpose of that resampling applied to grad.

    Example:
        >>> import numpy as np, glassnet as gn
        >>> layer = gn.layers.RandomTranslation(0.1, 0.1, seed=0)
        >>> layer(np.ones((2, 8, 8, 1)), training=True).shape
        (2, 8, 8, 1)
    """

    def __init__(self, height_factor, width_factor, fill_mode: str = "reflect", interpolation: str = "bilinear",
                 seed: int | None = None, fill_value: float = 0.0, **kwargs):
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed, fill_value=fill_value,
                         **kwargs)
        self.height_factor = _as_config(height_factor)
        self.width_factor = _as_config(width_factor)
        self._height_range = _factor_range(height_factor, "height_factor", "RandomTranslation")
        self._width_range = _factor_range(width_factor, "width_factor", "RandomTranslation")

    def _draw(self, rng, n, height, width):
        t = np.stack([rng.uniform(*self._height_range, size=n) * height,
                      rng.uniform(*self._width_range, size=n) * width], axis=1)
        return np.broadcast_to(np.eye(2), (n, 2, 2)), t

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor, "width_factor": self.width_factor}


@register("layer")
class RandomRotation(_AffineTransform):
    """Rotates each training image about its centre by a random angle.

    Args:
        factor: f or (lower, upper), fractions of a full turn (2π); f = 0.1 means up to ±36°.
            A positive angle turns the content counter-clockwise (0.25 is ``np.rot90``).
        fill_mode, interpolation, seed, fill_value: see ``_AffineTransform``.

    Shapes:
        x: (N, H, W, C) -> y: same shape.

    Math:
        forward  y[n, p] = x[n, R(θₙ) (p - c) + c] (interpolated), θₙ ~ 2π U(lower, upper),
                 R(θ) = [[cos θ, sin θ], [-sin θ, cos θ]] on (row, col) offsets;
        backward dx = the transpose of that resampling applied to grad.

    Example:
        >>> import numpy as np, glassnet as gn
        >>> gn.layers.RandomRotation(0.1, seed=0)(np.ones((2, 8, 8, 1)), training=True).shape
        (2, 8, 8, 1)
    """

    def __init__(self, factor, fill_mode: str = "reflect", interpolation: str = "bilinear",
                 seed: int | None = None, fill_value: float = 0.0, **kwargs):
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed, fill_value=fill_value,
                         **kwargs)
        self.factor = _as_config(factor)
        self._range = _factor_range(factor, "factor", "RandomRotation")

    def _draw(self, rng, n, height, width):
        theta = rng.uniform(*self._range, size=n) * 2 * np.pi
        cos, sin = np.cos(theta), np.sin(theta)
        # Output row/col offsets (di, dj) read input (cos·di + sin·dj, -sin·di + cos·dj); rows
        # point down, so this shows the content turned counter-clockwise by θ (Keras' sense).
        A = np.stack([np.stack([cos, sin], axis=1), np.stack([-sin, cos], axis=1)], axis=1)
        return A, np.zeros((n, 2))

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@register("layer")
class RandomZoom(_AffineTransform):
    """Zooms each training image in or out about its centre by a random factor.

    Args:
        height_factor: f or (lower, upper) with lower > -1; the image is sampled over
            (1 + z) times its height, so positive z zooms out (content shrinks) and negative
            zooms in, as in Keras.
        width_factor: likewise for the width, or None to use the height's zoom (keep the aspect).
        fill_mode, interpolation, seed, fill_value: see ``_AffineTransform``.

    Shapes:
        x: (N, H, W, C) -> y: same shape.

    Math:
        forward  y[n, i, j] = x[n, cᵢ + (1 + zᵢ)(i - cᵢ), cⱼ + (1 + zⱼ)(j - cⱼ)] (interpolated);
        backward dx = the transpose of that resampling applied to grad.

    Example:
        >>> import numpy as np, glassnet as gn
        >>> gn.layers.RandomZoom(0.2, seed=0)(np.ones((2, 8, 8, 1)), training=True).shape
        (2, 8, 8, 1)
    """

    def __init__(self, height_factor, width_factor=None, fill_mode: str = "reflect",
                 interpolation: str = "bilinear", seed: int | None = None, fill_value: float = 0.0, **kwargs):
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed, fill_value=fill_value,
                         **kwargs)
        self.height_factor = _as_config(height_factor)
        self.width_factor = _as_config(width_factor)
        # Zoom factors below -1 would flip the image through its centre.
        self._height_range = _factor_range(height_factor, "height_factor", "RandomZoom", low=-0.999)
        self._width_range = (None if width_factor is None
                             else _factor_range(width_factor, "width_factor", "RandomZoom", low=-0.999))

    def _draw(self, rng, n, height, width):
        zh = 1 + rng.uniform(*self._height_range, size=n)
        zw = zh if self._width_range is None else 1 + rng.uniform(*self._width_range, size=n)
        A = np.zeros((n, 2, 2))
        A[:, 0, 0], A[:, 1, 1] = zh, zw
        return A, np.zeros((n, 2))

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor, "width_factor": self.width_factor}


# -- intensity: brightness and contrast -------------------------------------------------------
def _value_range(value_range, layer: str) -> tuple[float, float]:
    numbers = (int, float, np.integer, np.floating)
    if (not isinstance(value_range, (tuple, list)) or len(value_range) != 2
            or not all(isinstance(v, numbers) and not isinstance(v, bool) and np.isfinite(v) for v in value_range)
            or value_range[0] >= value_range[1]):
        raise ValueError(f"{layer}: value_range must be a pair (low, high) with low < high, the range "
                         f"the pixels are in: (0, 255) for raw pixels, (0, 1) after /255; got {value_range!r}.")
    return float(value_range[0]), float(value_range[1])


class _IntensityTransform(_RandomLayer):
    """A random intensity change per image, clipped to ``value_range`` as Keras does.

    Args:
        value_range: the range the pixels are in; outputs are clipped to it. Keras' default
            (0, 255) is for raw pixels: pass (0, 1) for images already divided by 255.
        seed: see the module docstring.

    Subclasses give ``_change(x, rng)``, returning the unclipped output, and ``_change_backward(g)``,
    its transpose (both are linear in x for a fixed draw).
    """

    def __init__(self, factor, value_range=(0, 255), seed: int | None = None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        name = type(self).__name__
        self.factor = _as_config(factor)
        self.value_range = _as_config(value_range)
        self._range = self._parse_factor(factor)
        self._low, self._high = _value_range(value_range, name)

    def _parse_factor(self, factor) -> tuple[float, float]:
        return _factor_range(factor, "factor", type(self).__name__)

    def forward(self, x, training=False):
        _check_images(x, type(self).__name__)
        if not training:
            self._inside = None
            return x
        x = _floats(x)
        y = self._change(x, self._generator())
        # Pixels pushed past the range are clipped and pass no gradient back.
        self._inside = (y >= self._low) & (y <= self._high)
        return np.clip(y, self._low, self._high, out=y)

    def backward(self, grad):
        if self._inside is None:
            return grad
        return self._change_backward(grad * self._inside)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}


@register("layer")
class RandomBrightness(_IntensityTransform):
    """Brightens or darkens each training image by a random amount (Keras' layer).

    Args:
        factor: f or (lower, upper) within [-1, 1]: the shift added to every pixel of an image is
            drawn from [lower, upper] times the width of ``value_range``; f means (-f, f).
        value_range, seed: see ``_IntensityTransform``.

    Shapes:
        x: (N, H, W, C) -> y: same shape.

    Math:
        forward  y[n] = clip(x[n] + δₙ, low, high), δₙ ~ U(lower, upper) · (high - low);
        backward dx = grad where low <= x + δ <= high, else 0.

    Example:
        >>> import numpy as np, glassnet as gn
        >>> x = np.full((1, 2, 2, 1), 0.5)
        >>> float(gn.layers.RandomBrightness((0.1, 0.1), value_range=(0, 1))(x, training=True)[0, 0, 0, 0])
        0.6
    """

    def _change(self, x, rng):
        delta = rng.uniform(*self._range, size=x.shape[0]) * (self._high - self._low)
        return x + backend.drawn_on_host(delta.astype(x.dtype).reshape(-1, 1, 1, 1), x)

    def _change_backward(self, grad):
        return grad


@register("layer")
class RandomContrast(_IntensityTransform):
    """Raises or lowers the contrast of each training image by a random factor (Keras' layer).

    Each channel of an image is stretched about its own mean: pixels move away from the mean
    (more contrast) or towards it (less), and the mean stays.

    Args:
        factor: f or (lower, upper) within [0, 1]: the contrast factor is drawn from
            [1 - lower, 1 + upper] once per image; f means (f, f), so 0.2 gives [0.8, 1.2].
        value_range, seed: see ``_IntensityTransform``.

    Shapes:
        x: (N, H, W, C) -> y: same shape.

    Math:
        forward  y[n, :, :, c] = clip((x[n, :, :, c] - μₙ꜀) · kₙ + μₙ꜀, low, high), μₙ꜀ the mean
                 of x[n, :, :, c] over rows and columns, kₙ ~ U(1 - lower, 1 + upper);
        backward with g = grad masked where clipped: dx = kₙ · g + (1 - kₙ) · mean_hw(g), since μ
                 moves by 1/(H·W) for every pixel.

    Example:
        >>> import numpy as np, glassnet as gn
        >>> x = np.array([0.2, 0.4]).reshape(1, 1, 2, 1)
        >>> y = gn.layers.RandomContrast(0.5, value_range=(0, 1), seed=0)(x, training=True)
        >>> float(y.mean().round(6)), bool(abs(y[0, 0, 1, 0] - y[0, 0, 0, 0]) != 0.2)  # mean kept, spread not
        (0.3, True)
    """

    def _parse_factor(self, factor) -> tuple[float, float]:
        # Keras reads one number f as (f, f) here, not (-f, f): both ends are distances from 1,
        # so a pair need not be ordered.
        if isinstance(factor, (int, float, np.integer, np.floating)) and not isinstance(factor, bool):
            factor = (factor, factor)
        if (not isinstance(factor, (tuple, list)) or len(factor) != 2
                or not all(isinstance(f, (int, float, np.integer, np.floating)) and 0 <= f <= 1 for f in factor)):
            raise ValueError(f"RandomContrast: factor must be a number or a pair (lower, upper) in [0, 1]; the "
                             f"contrast factor is drawn from [1 - lower, 1 + upper]; got {factor!r}.")
        return float(factor[0]), float(factor[1])

    def _change(self, x, rng):
        k = rng.uniform(1 - self._range[0], 1 + self._range[1], size=x.shape[0]).astype(x.dtype)
        self._k = backend.drawn_on_host(k.reshape(-1, 1, 1, 1), x)
        mean = x.mean(axis=(1, 2), keepdims=True)
        return (x - mean) * self._k + mean

    def _change_backward(self, grad):
        return grad * self._k + grad.mean(axis=(1, 2), keepdims=True) * (1 - self._k)
