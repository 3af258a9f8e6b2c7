"""Fashion-MNIST with a small convolutional network: two Conv2D + MaxPooling2D stages, then Dense.

Convolutions see 3x3 neighbourhoods and share their weights across the image, so the network
learns edges and textures once instead of once per pixel, and beats the MLP of example 04
(0.89) with fewer parameters. Same data options as example 04.

    python examples/05_fashion_mnist_cnn.py                      # the full run (tens of minutes on 2 cores)
    python examples/05_fashion_mnist_cnn.py --limit 300 --epochs 1    # a smoke test
"""

import argparse
import time

import numpy as np
from sklearn.model_selection import train_test_split

import glassnet as gn
from glassnet import layers
from glassnet.datasets import fashion_mnist, mnist, read_digit_csv

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data", default="fashion", help="'fashion', 'mnist' or a Kaggle digit-recognizer train.csv")
parser.add_argument("--epochs", type=int, default=15)
parser.add_argument("--limit", type=int, default=None, help="use only this many training and test images")
args = parser.parse_args()

if args.data == "fashion":
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
elif args.data == "mnist":
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
else:  # Kaggle's test.csv has no labels: hold out a stratified sixth of train.csv instead
    x, y = read_digit_csv(args.data)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=1 / 6, stratify=y, random_state=0)
if args.limit:
    x_train, y_train = x_train[:args.limit], y_train[:args.limit]
    x_test, y_test = x_test[:args.limit], y_test[:args.limit]

# Channels last, as Keras: (N, 28, 28) grayscale -> (N, 28, 28, 1), pixels 0..255 -> 0..1.
x_train = (x_train[..., None] / 255.0).astype("float32")
x_test = (x_test[..., None] / 255.0).astype("float32")

model = gn.Sequential([
    layers.Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)),  # -> (26, 26, 32)
    layers.BatchNormalization(),
    layers.MaxPooling2D(),  # -> (13, 13, 32)
    layers.Conv2D(64, 3, activation="relu"),  # -> (11, 11, 64)
    layers.BatchNormalization(),
    layers.MaxPooling2D(),  # -> (5, 5, 64)
    layers.Flatten(),
    layers.Dropout(0.3),
    layers.Dense(128, activation="relu"),
    layers.Dropout(0.3),
    layers.Dense(10, activation="softmax"),
], seed=0)
model.compile(optimizer=gn.optimizers.Adam(learning_rate=1e-3), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
model.summary()

start = time.perf_counter()
history = model.fit(x_train, y_train, epochs=args.epochs, batch_size=128, validation_split=1 / 12, verbose=2,
                    callbacks=[gn.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.3, patience=2),
                               gn.callbacks.EarlyStopping(monitor="val_loss", patience=4,
                                                          restore_best_weights=True)])
elapsed = time.perf_counter() - start
epochs_run = len(history.history["loss"])
print(f"trained {epochs_run} epochs in {elapsed:.0f} s ({elapsed / epochs_run:.1f} s per epoch)")

test_loss, test_accuracy = model.evaluate(x_test, y_test)
print(f"test accuracy: {test_accuracy:.4f}, loss: {test_loss:.4f}")
predicted = model.predict(x_test).argmax(axis=1)
print("test accuracy per class:", np.round([np.mean(predicted[y_test == c] == c) for c in range(10)], 3).tolist())
