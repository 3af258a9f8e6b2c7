"""The NNFS book's spiral: three interleaved arms that no straight line separates.

One hidden Dense layer of 64 ReLU units and Adam with the book's learning-rate decay, trained on
the whole set each epoch, printing every 100 epochs as the book does; then checked on a fresh
spiral drawn with another seed.
"""

import glassnet as gn
from glassnet import layers
from glassnet.datasets import spiral_data

x, y = spiral_data(samples=100, classes=3, seed=0)

model = gn.Sequential([
    layers.Dense(64, activation="relu", input_shape=(2,)),
    layers.Dense(3, activation="softmax"),
], seed=0)
model.compile(optimizer=gn.optimizers.Adam(learning_rate=0.05, decay=5e-5),
              loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x, y, epochs=1000, batch_size=len(x), print_every=100, verbose=2)

x_test, y_test = spiral_data(samples=100, classes=3, seed=1)
train_loss, train_accuracy = model.evaluate(x, y)
test_loss, test_accuracy = model.evaluate(x_test, y_test)
print(f"training accuracy: {train_accuracy:.3f}, loss: {train_loss:.3f}")
print(f"fresh spiral accuracy: {test_accuracy:.3f}, loss: {test_loss:.3f}")
