"""Normalisation layers: BatchNormalization (batch statistics, moving ones after) and LayerNormalization."""

from __future__ import annotations

import numpy as np

from glassnet import initializers, regularizers
from glassnet._registry import register, serialize
from glassnet.layers.base import Layer
from glassnet.numerics import flush_subnormals


def _scale_and_shift(layer, x_hat: np.ndarray) -> np.ndarray:
    """y = γ x̂ + β with ``layer``'s gamma and beta (each only if it has one), broadcast by its
    ``_broadcast``: the common tail of both layers' forward."""
    y = x_hat * layer._broadcast(layer.params["gamma"], x_hat.ndim) if layer.scale else x_hat.copy()
    if layer.center:
        y += layer._broadcast(layer.params["beta"], x_hat.ndim)
    return y


@register("layer")
class BatchNormalization(Layer):
    """Normalise each feature (channel) to zero mean and unit variance, then scale and shift.

    In training the batch's own mean and variance are used and folded into moving averages;
    at inference (and when the layer is frozen with ``trainable=False``, as in Keras) the moving
    averages are used, so a prediction does not depend on the other samples in its batch.
    ``moving_mean`` and ``moving_variance`` live in ``state``: saved with the model, never trained.

    Keras' conventions, which differ from PyTorch's: ``momentum`` is the weight of the *old*
    moving value (torch's ``momentum`` is 1 - this), and the moving variance averages the
    biased batch variance (divided by m, the count of values per channel; torch uses m - 1).

    Args:
        axis: the feature axis (-1, channels last); statistics are taken over all other axes.
        momentum: weight of the old value in the moving averages (0.99).
        epsilon: added to the variance before the square root (1e-3, Keras' default).
        center: learn a shift ``beta``.
        scale: learn a scale ``gamma`` (switch off before a linear layer or ReLU, Keras advises).
        beta_initializer, gamma_initializer, moving_mean_initializer,
        moving_variance_initializer: "zeros", "ones", "zeros", "ones" as in Keras.
        beta_regularizer, gamma_regularizer: optional penalties.
        **kwargs: ``name``, ``input_shape``, ``trainable``, ``dtype``.

    Shapes:
        x: (N, ..., C) -> y: same shape; gamma, beta, moving_mean, moving_variance: (C,).

    Math:
        training   μ = mean(x), σ² = mean((x - μ)²) over all axes but ``axis`` (m values each),
                   x̂ = (x - μ) / √(σ² + ε), y = γ x̂ + β,
                   moving_mean ← momentum · moving_mean + (1 - momentum) μ (likewise σ²;
                   values below the smallest normal float then become 0: glassnet.numerics);
        backward   dβ = Σ g, dγ = Σ g x̂, dx = γ / √(σ² + ε) · (g - mean(g) - x̂ · mean(g x̂))
        inference  y = γ (x - moving_mean) / √(moving_variance + ε) + β; backward dx = γ g / √(moving_variance + ε)

    Example:
        >>> import numpy as np, glassnet as gn
        >>> bn = gn.layers.BatchNormalization()
        >>> y = bn(np.random.default_rng(0).normal(5, 3, (64, 4, 4, 2)), training=True)
        >>> bool(np.allclose(y.mean(axis=(0, 1, 2)), 0, atol=1e-6))
        True
    """

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise ValueError(f"BatchNormalization: axis must be an int; got {axis!r}.")
        if not 0 <= momentum <= 1:
            raise ValueError(f"BatchNormalization: momentum must be in [0, 1]; got {momentum!r}.")
        if not epsilon > 0:
            raise ValueError(f"BatchNormalization: epsilon must be > 0; got {epsilon!r}.")
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)

    def build(self, input_shape):
        ndim = len(input_shape)
        if not -ndim <= self.axis < ndim or self.axis % ndim == 0:
            raise ValueError(f"BatchNormalization: axis {self.axis} is not a feature axis of inputs "
                             f"{tuple(input_shape)}.")
        channels = input_shape[self.axis]
        if channels is None:
            raise ValueError(f"BatchNormalization: the size of axis {self.axis} must be known; "
                             f"got {tuple(input_shape)}.")
        if self.scale:
            self.add_weight("gamma", (channels,), self.gamma_initializer, self.gamma_regularizer)
        if self.center:
            self.add_weight("beta", (channels,), self.beta_initializer, self.beta_regularizer)
        self.add_weight("moving_mean", (channels,), self.moving_mean_initializer, trainable=False)
        self.add_weight("moving_variance", (channels,), self.moving_variance_initializer, trainable=False)
        super().build(input_shape)

    def _broadcast(self, v: np.ndarray, ndim: int) -> np.ndarray:
        """A (C,) vector shaped to broadcast along ``axis`` of an ndim-array."""
        shape = [1] * ndim
        shape[self.axis] = v.shape[0]
        return v.reshape(shape)

    def forward(self, x, training=False):
        axes = tuple(i for i in range(x.ndim) if i != self.axis % x.ndim)
        dtype = x.dtype.type
        self._batch_stats = bool(training) and self.trainable
        if self._batch_stats:
            mean = x.mean(axis=axes, keepdims=True)
            xc = x - mean
            var = (xc * xc).mean(axis=axes, keepdims=True)  # biased (÷ m), as Keras normalises and averages
            m = dtype(self.momentum)
            for key, stat in (("moving_mean", mean), ("moving_variance", var)):
                moving = self.state[key]
                moving *= m
                moving += (1 - m) * stat.reshape(-1)
                # A channel that is constant (always 0, say) decays towards 0 forever: keep it out
                # of the subnormal range, where arithmetic is slow on many CPUs.
                flush_subnormals(moving, nonnegative=key == "moving_variance")
        else:
            mean = self._broadcast(self.state["moving_mean"], x.ndim)
            var = self._broadcast(self.state["moving_variance"], x.ndim)
            xc = x - mean
        inv_std = (1 / np.sqrt(var + dtype(self.epsilon))).astype(x.dtype, copy=False)
        x_hat = xc * inv_std
        self._x_hat, self._inv_std, self._axes = x_hat, inv_std, axes
        return _scale_and_shift(self, x_hat)

    def backward(self, grad):
        x_hat, axes = self._x_hat, self._axes
        # Σ g and Σ g·x̂ over the batch are dβ and dγ, and the input gradient needs them again.
        sum_g, sum_gx = grad.sum(axis=axes), (grad * x_hat).sum(axis=axes)
        if self.center:
            self.grads["beta"][...] = sum_g
        if self.scale:
            self.grads["gamma"][...] = sum_gx
        scale = self._inv_std * self._broadcast(self.params["gamma"], grad.ndim) if self.scale else self._inv_std
        if not self._batch_stats:
            return grad * scale  # the statistics are constants here
        # μ and σ² depend on every x in the batch: their share of the gradient is removed by
        # subtracting the mean of g and its projection onto x̂ (γ/σ factored out).
        m = grad.dtype.type(sum_g.size / grad.size)  # 1 / (values per channel)
        return scale * (grad - self._broadcast(sum_g * m, grad.ndim) - x_hat * self._broadcast(sum_gx * m, grad.ndim))

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": serialize(self.beta_initializer),
            "gamma_initializer": serialize(self.gamma_initializer),
            "moving_mean_initializer": serialize(self.moving_mean_initializer),
            "moving_variance_initializer": serialize(self.moving_variance_initializer),
            "beta_regularizer": None if self.beta_regularizer is None else serialize(self.beta_regularizer),
            "gamma_regularizer": None if self.gamma_regularizer is None else serialize(self.gamma_regularizer),
        }


@register("layer")
class LayerNormalization(Layer):
    """Normalise each sample over its feature axes, then scale and shift (Keras' LayerNormalization).

    Unlike BatchNormalization, the statistics are each sample's own, so training and inference
    compute the same thing and nothing is averaged across batches.

    Args:
        axis: the axis or list of axes to normalise over (-1, the features, by default); gamma and
            beta have one entry per position along them.
        epsilon: added to the variance before the square root (1e-3, Keras' default; torch's
            ``nn.LayerNorm`` uses ``eps=1e-5``).
        center: learn a shift ``beta``.
        scale: learn a scale ``gamma``.
        beta_initializer, gamma_initializer: "zeros" and "ones" as in Keras.
        beta_regularizer, gamma_regularizer: optional penalties.
        **kwargs: ``name``, ``input_shape``, ``trainable``, ``dtype``.

    Shapes:
        x: (N, ..., D) -> y: same shape; gamma, beta: the sizes of the ``axis`` axes, e.g. (D,).

    Math:
        μ = mean(x), σ² = mean((x - μ)²) over the ``axis`` axes of each sample (m values),
        x̂ = (x - μ) / √(σ² + ε), y = γ x̂ + β;
        backward  dβ = Σ g, dγ = Σ g x̂ over the other axes (the batch);
                  ĝ = γ g, dx = (ĝ - mean(ĝ) - x̂ · mean(ĝ x̂)) / √(σ² + ε), means over ``axis``.

    Example:
        >>> import numpy as np, glassnet as gn
        >>> y = gn.layers.LayerNormalization()(np.random.default_rng(0).normal(5, 3, (2, 8)))
        >>> bool(np.allclose(y.mean(axis=-1), 0))
        True
    """

    def __init__(self, axis=-1, epsilon: float = 1e-3, center: bool = True, scale: bool = True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        axes = [axis] if not isinstance(axis, (list, tuple)) else list(axis)
        if not axes or any(isinstance(a, bool) or not isinstance(a, (int, np.integer)) for a in axes):
            raise ValueError(f"LayerNormalization: axis must be an int or a list of ints; got {axis!r}.")
        if not epsilon > 0:
            raise ValueError(f"LayerNormalization: epsilon must be > 0; got {epsilon!r}.")
        self.axis = int(axis) if not isinstance(axis, (list, tuple)) else [int(a) for a in axes]
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)

    def _axes(self, ndim: int) -> tuple:
        """The normalised axes as sorted non-negative ints, checked against a rank-``ndim`` input."""
        axes = [self.axis] if isinstance(self.axis, int) else self.axis
        if any(not -ndim <= a < ndim or a % ndim == 0 for a in axes):
            raise ValueError(f"LayerNormalization: axis {self.axis} holds the batch axis or is out of range "
                             f"for inputs of rank {ndim}.")
        out = tuple(sorted({a % ndim for a in axes}))
        if len(out) != len(axes):
            raise ValueError(f"LayerNormalization: axis {self.axis} names an axis twice.")
        return out

    def build(self, input_shape):
        axes = self._axes(len(input_shape))
        sizes = tuple(input_shape[a] for a in axes)
        if None in sizes:
            raise ValueError(f"LayerNormalization: the sizes of axis {self.axis} must be known; got "
                             f"{tuple(input_shape)}.")
        if self.scale:
            self.add_weight("gamma", sizes, self.gamma_initializer, self.gamma_regularizer)
        if self.center:
            self.add_weight("beta", sizes, self.beta_initializer, self.beta_regularizer)
        super().build(input_shape)

    def _broadcast(self, v: np.ndarray, ndim: int) -> np.ndarray:
        """A parameter of the ``axis`` sizes shaped to broadcast against an ndim-array."""
        shape = [1] * ndim
        for a, size in zip(self._axes(ndim), v.shape):
            shape[a] = size
        return v.reshape(shape)

    def forward(self, x, training=False):
        axes = self._axes(x.ndim)
        mean = x.mean(axis=axes, keepdims=True)
        xc = x - mean
        var = (xc * xc).mean(axis=axes, keepdims=True)
        inv_std = 1 / np.sqrt(var + x.dtype.type(self.epsilon))
        x_hat = xc * inv_std
        self._x_hat, self._inv_std, self._norm_axes = x_hat, inv_std, axes
        return _scale_and_shift(self, x_hat)

    def backward(self, grad):
        x_hat, axes = self._x_hat, self._norm_axes
        other = tuple(i for i in range(grad.ndim) if i not in axes)  # the batch and any unnormalised axes
        # Gradients are written in place: parameters and gradients may be views of one buffer.
        if self.center:
            self.grads["beta"][...] = grad.sum(axis=other)
        if self.scale:
            self.grads["gamma"][...] = (grad * x_hat).sum(axis=other)
            grad = grad * self._broadcast(self.params["gamma"], grad.ndim)
        # μ and σ² depend on every value of the sample: remove the gradient's mean and its
        # projection onto x̂ along the normalised axes.
        mean_g = grad.mean(axis=axes, keepdims=True)
        mean_gx = (grad * x_hat).mean(axis=axes, keepdims=True)
        return self._inv_std * (grad - mean_g - x_hat * mean_gx)

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis if isinstance(self.axis, int) else list(self.axis),
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": serialize(self.beta_initializer),
            "gamma_initializer": serialize(self.gamma_initializer),
            "beta_regularizer": None if self.beta_regularizer is None else serialize(self.beta_regularizer),
            "gamma_regularizer": None if self.gamma_regularizer is None else serialize(self.gamma_regularizer),
        }
