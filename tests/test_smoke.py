import numpy as np

import glassnet as gn
from glassnet import layers


def test_dense_network_learns_xor():
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float32")
    y = np.array([0, 1, 1, 0])
    model = gn.Sequential([layers.Dense(16, activation="tanh", input_shape=(2,)),
                           layers.Dense(1, activation="sigmoid")], seed=0)
    model.compile(optimizer=gn.optimizers.Adam(learning_rate=0.05), loss="binary_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, epochs=300, batch_size=4, verbose=0)
    assert model.evaluate(x, y, return_dict=True)["accuracy"] == 1.0
