"""Handwritten digits with a multilayer perceptron, in the Keras workflow.

scikit-learn's 8x8 digits (1,797 images, bundled, no download): a stratified test split, a
model summary, training with a validation split and early stopping, then the test accuracy.
"""

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import glassnet as gn
from glassnet import layers

digits = load_digits()
x = (digits.data / 16.0).astype("float32")  # pixel values 0..16 -> 0..1
x_train, x_test, y_train, y_test = train_test_split(x, digits.target, test_size=0.25,
                                                    stratify=digits.target, random_state=0)

model = gn.Sequential([
    layers.Dense(256, activation="relu", input_shape=(64,)),
    layers.Dropout(0.2),
    layers.Dense(10, activation="softmax"),
], seed=0)
model.compile(optimizer=gn.optimizers.Adam(learning_rate=0.002),
              loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.summary()

history = model.fit(x_train, y_train, epochs=30, batch_size=32, validation_split=0.1, log_every=5,
                    verbose=2, callbacks=[gn.callbacks.EarlyStopping(monitor="val_loss", patience=5)])
print(f"best epoch: {history.best_epoch + 1} (weights restored from it)")

test_loss, test_accuracy = model.evaluate(x_test, y_test)
print(f"test accuracy: {test_accuracy:.4f}, loss: {test_loss:.4f}")
