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


@converts_activation(activations.SELU)
def selu(g, function, x):
    return g.node("Selu", [x], alpha=function.ALPHA, gamma=function.SCALE)


@converts_activation(activations.GELU)
def gelu(g, function, x):
    # Gelu is an operator from opset 20 only: written out, x (1 + erf(x/√2)) / 2 or its tanh form.
    if function.approximate:
        cube = g.node("Mul", [g.node("Mul", [x, x]), x])
        inner = g.node("Add", [x, g.node("Mul", [cube, g.const(0.044715)])])
        s = g.node("Tanh", [g.node("Mul", [inner, g.const(function._C)])])
    else:
        s = g.node("Erf", [g.node("Mul", [x, g.const(0.7071067811865476)])])
    return g.node("Mul", [g.node("Mul", [x, g.node("Add", [s, g.const(1.0)])]), g.const(0.5)])


@converts_activation(activations.SiLU)
def silu(g, function, x):
    return g.node("Mul", [x, g.node("Sigmoid", [x])])


@converts_activation(activations.Softplus)
def softplus(g, function, x):
    return g.node("Softplus", [x])


@converts_activation(activations.Softsign)
def softsign(g, function, x):
    return g.node("Softsign", [x])


@converts_activation(activations.ReLU6)
def relu6(g, function, x):
    return g.node("Clip", [x, g.const(0.0), g.const(6.0)])


@converts_activation(activations.Exponential)
def exponential(g, function, x):
    return g.node("Exp", [x])


@converts_activation(activations.Mish)
def mish(g, function, x):
    return g.node("Mul", [x, g.node("Tanh", [g.node("Softplus", [x])])])


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
