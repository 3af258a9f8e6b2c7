"""Forward propagation of the course example, with glassnet's layers and weights set by hand.

Two inputs (2 and 3), a hidden layer of two units with weights [1, 1] and [-1, 1], one output
unit with weights [2, -1], no biases. Without an activation the hidden layer gives [5, 1] and
the prediction is 2·5 - 1·1 = 9; with tanh in the hidden layer it is 2·tanh(5) - tanh(1) = 1.238.
"""

import numpy as np

import glassnet as gn
from glassnet import layers

x = np.array([[2.0, 3.0]])  # one sample, two inputs

for activation in (None, "tanh"):
    model = gn.Sequential([
        layers.Dense(2, activation=activation, use_bias=False, input_shape=(2,), dtype="float64"),
        layers.Dense(1, use_bias=False, dtype="float64"),
    ])
    # A kernel has one column per unit: unit 1 weighs the inputs by [1, 1], unit 2 by [-1, 1].
    hidden_kernel = np.array([[1.0, -1.0],
                              [1.0, 1.0]])
    output_kernel = np.array([[2.0],
                              [-1.0]])
    model.set_weights([hidden_kernel, output_kernel])

    hidden = model.layers[0](x)
    prediction = model.predict(x)
    name = activation or "no activation"
    print(f"{name}: hidden = {np.round(hidden[0], 3).tolist()}, prediction = {prediction[0, 0]:.3f}")
