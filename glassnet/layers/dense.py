"""Dense: the fully connected layer, y = act(x W + b)."""

from __future__ import annotations

import numpy as np

from glassnet import activations, backend, initializers, regularizers
from glassnet._registry import register, serialize
from glassnet.layers.base import ActivatedLayer, check_positive_int
from glassnet.parallel import matmul


@register("layer")
class Dense(ActivatedLayer):
    """A fully connected layer applied to the last axis.

    Args:
        units: output size U (> 0).
        activation: name, ActivationFunction or None (linear).
        use_bias: add the bias vector b.
        kernel_initializer / bias_initializer: names or initializer objects
            ("glorot_uniform" and "zeros" as in Keras; the NNFS book's is
            ``RandomNormal(stddev=0.01)``).
        kernel_regularizer / bias_regularizer: ``L1``, ``L2`` or ``L1L2`` penalties (or names).
        **kwargs: ``name``, ``input_shape``, ``trainable``, ``dtype``.

    Shapes:
        x: (N, ..., D) -> y: (N, ..., U); W: (D, U); b: (U,).

    Math:
        forward  z = x W + b, y = act(z)
        backward g_z = act'(g); dW = xᵀ g_z, db = Σₙ g_z, dx = g_z Wᵀ

    Example:
        >>> import numpy as np, glassnet as gn
        >>> layer = gn.layers.Dense(3, activation="relu")
        >>> layer(np.ones((2, 4), dtype="float32")).shape
        (2, 3)
    """

    supports_masking = True  # on (N, T, D) it acts on each step alone: the time mask still holds

    def __init__(self, units: int, activation=None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.units = check_positive_int(units, "units", "Dense")
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)

    def build(self, input_shape):
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(f"Dense needs inputs of shape (N, ..., D) with known D; got {input_shape}.")
        self.add_weight("kernel", (input_shape[-1], self.units), self.kernel_initializer,
                        self.kernel_regularizer)
        if self.use_bias:
            self.add_weight("bias", (self.units,), self.bias_initializer, self.bias_regularizer)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def forward_logits(self, x, training=False):
        self._x = x
        z = matmul(x, self.params["kernel"])  # (N, D) @ (D, U) -> (N, U), over glassnet's threads
        if self.use_bias:
            z += self.params["bias"]
        return z

    def backward_logits(self, grad):
        x = self._x
        if x.ndim > 2:  # fold any middle axes into the batch: (N, T, D) -> (N·T, D)
            x2, g2 = x.reshape(-1, x.shape[-1]), grad.reshape(-1, grad.shape[-1])
        else:
            x2, g2 = x, grad
        matmul(x2.T, g2, out=self.grads["kernel"])  # (D, N) @ (N, U) -> (D, U), over glassnet's threads
        if self.use_bias:  # Σₙ g as a product with ones: BLAS does it in half the time of sum(axis=0)
            np.matmul(backend.array_module(g2).ones(g2.shape[0], dtype=g2.dtype), g2, out=self.grads["bias"])
        if not self.needs_input_grad:
            return None
        return matmul(grad, self.params["kernel"].T)  # (N, U) @ (U, D) -> (N, D)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": serialize(self.kernel_initializer),
            "bias_initializer": serialize(self.bias_initializer),
            "kernel_regularizer": None if self.kernel_regularizer is None else serialize(self.kernel_regularizer),
            "bias_regularizer": None if self.bias_regularizer is None else serialize(self.bias_regularizer),
        }

