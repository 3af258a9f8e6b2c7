"""Fashion-MNIST with a multilayer perceptron: 60,000 clothing images, 10 classes.

The NNFS book's model (two Dense(64) layers) reached 0.874 test accuracy; wider layers with
dropout and a learning rate that drops when validation stalls reach 0.89. Reads Fashion-MNIST
(installed by `apt-get install dataset-fashion-mnist`, in the cache folder, or downloaded), or
MNIST from IDX files (--data mnist) or Kaggle's digit-recognizer train.csv (--data path.csv).

    python examples/04_fashion_mnist_mlp.py                     # the full run (minutes)
    python examples/04_fashion_mnist_mlp.py --limit 500 --epochs 1   # a smoke test
"""

import argparse
import time

import numpy as np
from sklearn.model_selection import train_test_split

import glassnet as gn
from glassnet import layers
from glassnet.datasets import class_balance, fashion_mnist, mnist, read_digit_csv

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data", default="fashion", help="'fashion', 'mnist' or a Kaggle digit-recognizer train.csv")
parser.add_argument("--epochs", type=int, default=40)
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
print(class_balance(train=y_train, test=y_test))

# Pixels 0..255 -> 0..1 and each 28x28 image to one row of 784 features.
x_train = (x_train.reshape(len(x_train), -1) / 255.0).astype("float32")
x_test = (x_test.reshape(len(x_test), -1) / 255.0).astype("float32")

model = gn.Sequential([
    layers.Dense(512, activation="relu", input_shape=(784,)),
    layers.Dropout(0.3),
    layers.Dense(256, activation="relu"),
    layers.Dropout(0.3),
    layers.Dense(10, activation="softmax"),
], seed=0)
model.compile(optimizer=gn.optimizers.Adam(learning_rate=1e-3), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
model.summary()

start = time.perf_counter()
history = model.fit(x_train, y_train, epochs=args.epochs, batch_size=128, validation_split=1 / 12, verbose=2,
                    callbacks=[gn.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.3, patience=3),
                               gn.callbacks.EarlyStopping(monitor="val_loss", patience=8,
                                                          restore_best_weights=True)])
elapsed = time.perf_counter() - start
epochs_run = len(history.history["loss"])
print(f"trained {epochs_run} epochs in {elapsed:.0f} s ({elapsed / epochs_run:.1f} s per epoch)")

test_loss, test_accuracy = model.evaluate(x_test, y_test)
print(f"test accuracy: {test_accuracy:.4f}, loss: {test_loss:.4f}")
predicted = model.predict(x_test).argmax(axis=1)
print("test accuracy per class:", np.round([np.mean(predicted[y_test == c] == c) for c in range(10)], 3).tolist())
