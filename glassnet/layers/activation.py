"""Activation layers: an activation function as a layer of its own."""

from __future__ import annotations

from glassnet import activations
from glassnet._registry import register
from glassnet.layers.base import Layer


@register("layer")
class Activation(Layer):
    """Applies an activation function element-wise (softmax along the last axis).

    Args:
        activation: a name ("relu", "leaky_relu", "elu", "selu", "gelu", "silu"/"swish", "softplus",
            "softsign", "relu6", "exponential", "mish", "sigmoid", "hard_sigmoid", "tanh", "softmax",
            "linear"), one of gn.activations' functions, or an ActivationFunction.

    Shapes:
        x: (N, ...) -> y: same shape.

    Math:
        forward y = f(x); backward dx = f'(x) ⊙ grad (softmax: y ⊙ (grad - Σ grad ⊙ y)).

    Example:
        >>> import numpy as np, glassnet as gn
        >>> gn.layers.Activation("relu")(np.array([[-1.0, 2.0]], dtype="float32"))
        array([[0., 2.]], dtype=float32)
    """

    supports_masking = True

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def forward(self, x, training=False):
        return self.activation.forward(x)

    def backward(self, grad):
        return self.activation.backward(grad)

    def forward_logits(self, x, training=False):
        return x

    def backward_logits(self, grad):
        return grad

    @property
    def output_activation(self):
        return self.activation

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class _FixedActivation(Activation):
    """A named activation layer whose constructor takes that function's own arguments."""

    function: type = activations.Linear

    def __init__(self, **kwargs):
        fn_args = {k: kwargs.pop(k) for k in list(kwargs) if k not in _LAYER_ARGS}
        super().__init__(self.function(**fn_args), **kwargs)

    def get_config(self):
        config = Layer.get_config(self)
        config.update(self.activation.get_config())
        return config


_LAYER_ARGS = {"name", "input_shape", "trainable", "dtype"}


@register("layer")
class ReLU(_FixedActivation):
    """max(0, x) as a layer."""

    function = activations.ReLU


@register("layer")
class LeakyReLU(_FixedActivation):
    """x if x > 0 else negative_slope · x (Keras' layer default negative_slope is 0.3)."""

    function = activations.LeakyReLUFunction

    def __init__(self, negative_slope: float = 0.3, **kwargs):
        super().__init__(negative_slope=negative_slope, **kwargs)


@register("layer")
class ELU(_FixedActivation):
    """x if x > 0 else alpha · (eˣ - 1) as a layer (Keras' default alpha is 1.0)."""

    function = activations.ELU


@register("layer")
class Softmax(_FixedActivation):
    """Softmax along ``axis`` (default -1, the last) as a layer."""

    function = activations.Softmax
