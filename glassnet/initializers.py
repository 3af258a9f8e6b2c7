"""Weight initializers: each draws an array of a given shape from an explicit generator."""

from __future__ import annotations

import numpy as np

from glassnet._registry import deserialize, register


def _fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """fan_in and fan_out, Keras' convention: kernels are (..., in, out), receptive field first."""
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    """Base class: ``init(shape, rng, dtype)`` returns a new array."""

    def __call__(self, shape, rng: np.random.Generator, dtype="float32") -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


@register("initializer", "zeros")
class Zeros(Initializer):
    def __call__(self, shape, rng, dtype="float32"):
        return np.zeros(shape, dtype=dtype)


@register("initializer", "ones")
class Ones(Initializer):
    def __call__(self, shape, rng, dtype="float32"):
        return np.ones(shape, dtype=dtype)


@register("initializer", "constant")
class Constant(Initializer):
    def __init__(self, value: float = 0.0):
        self.value = value

    def __call__(self, shape, rng, dtype="float32"):
        return np.full(shape, self.value, dtype=dtype)

    def get_config(self):
        return {"value": self.value}


@register("initializer", "random_normal")
class RandomNormal(Initializer):
    """N(mean, stddev²). The NNFS book uses ``RandomNormal(stddev=0.01)``."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05):
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, rng, dtype="float32"):
        return rng.normal(self.mean, self.stddev, size=shape).astype(dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev}


@register("initializer", "random_uniform")
class RandomUniform(Initializer):
    def __init__(self, minval: float = -0.05, maxval: float = 0.05):
        self.minval, self.maxval = minval, maxval

    def __call__(self, shape, rng, dtype="float32"):
        return rng.uniform(self.minval, self.maxval, size=shape).astype(dtype)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval}


class _VarianceScaling(Initializer):
    scale = 1.0
    mode = "fan_avg"
    distribution = "uniform"

    def __call__(self, shape, rng, dtype="float32"):
        fan_in, fan_out = _fans(tuple(shape))
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, n)
        if self.distribution == "uniform":
            limit = np.sqrt(3.0 * variance)
            return rng.uniform(-limit, limit, size=shape).astype(dtype)
        # Truncated normal as Keras does it: redraw beyond two standard deviations.
        std = np.sqrt(variance) / 0.87962566103423978
        out = rng.normal(0.0, 1.0, size=shape)
        bad = np.abs(out) > 2.0
        while bad.any():
            out[bad] = rng.normal(0.0, 1.0, size=int(bad.sum()))
            bad = np.abs(out) > 2.0
        return (out * std).astype(dtype)


@register("initializer", "glorot_uniform")
class GlorotUniform(_VarianceScaling):
    """U(-l, l), l = sqrt(6 / (fan_in + fan_out)); Keras' default for Dense kernels."""


@register("initializer", "glorot_normal")
class GlorotNormal(_VarianceScaling):
    distribution = "normal"


@register("initializer", "he_uniform")
class HeUniform(_VarianceScaling):
    scale, mode = 2.0, "fan_in"


@register("initializer", "he_normal")
class HeNormal(_VarianceScaling):
    """Truncated normal with variance 2 / fan_in: the usual choice before ReLU."""

    scale, mode, distribution = 2.0, "fan_in", "normal"


@register("initializer", "lecun_normal")
class LecunNormal(_VarianceScaling):
    mode, distribution = "fan_in", "normal"


@register("initializer", "orthogonal")
class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix times ``gain``; Keras' default for recurrent kernels.

    Multiplying by an orthogonal matrix keeps a vector's length, so a state passed through the
    recurrent kernel step after step neither shrinks nor grows at the start of training.
    Built as in Saxe et al. (2014): the Q of a Gaussian matrix's QR decomposition, with the signs
    of R's diagonal folded in so that Q is uniformly distributed. A wide matrix, such as an
    LSTM's (U, 4U) recurrent kernel, gets orthonormal rows; a tall one orthonormal columns.
    """

    def __init__(self, gain: float = 1.0):
        self.gain = float(gain)

    def __call__(self, shape, rng, dtype="float32"):
        shape = tuple(shape)
        rows, cols = int(np.prod(shape[:-1])), shape[-1]
        a = rng.normal(0.0, 1.0, size=(max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return np.ascontiguousarray((self.gain * q).reshape(shape), dtype=dtype)

    def get_config(self):
        return {"gain": self.gain}


def get(identifier) -> Initializer:
    """An initializer from a name ("he_normal"), a serialized dict or an instance."""
    return deserialize("initializer", identifier)
