"""Activation functions, and the layers that only apply one (Activation, ReLU, Softmax ...)."""

from __future__ import annotations

from glassnet import activations, layers
from glassnet.export.registry import converts, converts_activation


@converts_activation(activations.Linear)
def linear(g, function, x):
    return x


@converts_activation(activations.ReLU)
def relu(g, function, x):
    return g.node("Relu", [x])


@converts_activation(activations.LeakyReLUFunction)
def leaky_relu(g, function, x):
    return g.node("LeakyRelu", [x], alpha=function.negative_slope)


@converts_activation(activations.ELU)
def elu(g, function, x):
    return g.node("Elu", [x], alpha=function.alpha)


@converts_activation(activations.Sigmoid)
def sigmoid(g, function, x):
    return g.node("Sigmoid", [x])


@converts_activation(activations.HardSigmoid)
def hard_sigmoid(g, function, x):
    return g.node("HardSigmoid", [x], alpha=1 / 6, beta=0.5)  # max(0, min(1, alpha x + beta))


@converts_activation(activations.Tanh)
def tanh(g, function, x):
    return g.node("Tanh", [x])


@converts_activation(activations.Softmax)
def softmax(g, function, x):
    # Since opset 13 Softmax normalises along ``axis`` alone, as glassnet does (before, it
    # flattened every axis from ``axis`` on).
    return g.node("Softmax", [x], axis=function.axis)


@converts(layers.Activation, layers.ReLU, layers.LeakyReLU, layers.ELU, layers.Softmax)
def activation_layer(g, layer, x):
    return g.activation(layer.activation, x, layer)
