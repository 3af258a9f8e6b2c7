"""Chest X-rays with a residual CNN built as a graph (``gn.Model``): one network against 06's ensemble.

Reads the same ../shared/data/pneumoniamnist_balanced.npz as examples/06_pneumonia_cnn.py and uses
the same augmentation, but builds one network from ``gn.Input`` with residual blocks: two 3x3
convolutions whose output ``layers.Add`` sums with the block's input (the shortcut), then ReLU.
Trains with Adam and early stopping on the validation split's loss, then prints accuracy and ROC
AUC on the validation and the test split beside the figures 06 documents for its 3-CNN ensemble.

One network of 37,345 weights (06's ensemble has three of about 94,000 each), trained for at most
18 epochs to keep the full run under about 2.5 minutes: measured 141 s wall (`time python
examples/12_pneumonia_residual_cnn.py`, AMD EPYC, 2 cores), best validation loss 0.2433 at epoch
15, validation accuracy 0.8852, ROC AUC 0.9807; test accuracy 0.8590, ROC AUC 0.9536, below 06's
documented ensemble (0.895 / 0.976). The loss was still falling at epoch 18: a longer budget would
likely help, at its price in time. Settings were chosen on the validation split only, never on
the test split. One alternative was tried:
Adam's learning rate 3e-3 instead of 1e-3 gave best validation loss 0.3071 (validation accuracy
0.8741, ROC AUC 0.9760), worse than 0.2433, so 1e-3 stays; every test figure seen, so that none is
mistaken for a selected one: 0.8590 / 0.9536 (1e-3, kept) and 0.8526 / 0.9564 (3e-3).

    python examples/12_pneumonia_residual_cnn.py
    python examples/12_pneumonia_residual_cnn.py --limit 200 --epochs 1
"""

import argparse
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

import glassnet as gn
from glassnet import layers
from glassnet.datasets import load_npz

# As documented in examples/06_pneumonia_cnn.py (its session-3 re-run), not re-run here.
ENSEMBLE_06 = {"test accuracy": 0.895, "test ROC AUC": 0.976}

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" /
                                          "pneumoniamnist_balanced.npz"), help="an .npz in MedMNIST layout")
parser.add_argument("--epochs", type=int, default=18)
parser.add_argument("--limit", type=int, default=None, help="use only this many images of each split")
args = parser.parse_args()

splits = load_npz(args.data)
if args.limit:  # a random subset: the files are sorted by class
    pick = {name: np.random.default_rng(0).permutation(len(y))[:args.limit] for name, (_, y) in splits.items()}
    splits = {name: (x[pick[name]], y[pick[name]]) for name, (x, y) in splits.items()}
# Raw 0-255 pixels: the model rescales them itself, so it can be handed images as they come.
(x_train, y_train), (x_val, y_val), (x_test, y_test) = (
    (x[..., None].astype("float32"), y.astype("float32")) for x, y in splits.values())


def residual_block(x, filters: int):
    """Two 3x3 convolutions whose output is added to the block's input: the block learns a correction."""
    y = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    y = layers.Conv2D(filters, 3, padding="same")(y)
    return layers.Activation("relu")(layers.Add()([x, y]))


def build(seed: int) -> gn.Model:
    image = gn.Input((28, 28, 1), name="xray")
    x = layers.Rescaling(1 / 255)(image)
    x = layers.RandomRotation(0.05, fill_mode="nearest")(x)  # the augmentation of 06, active only in training
    x = layers.RandomTranslation(0.1, 0.1, fill_mode="nearest")(x)
    x = layers.RandomZoom(0.15, 0.15, fill_mode="nearest")(x)
    x = layers.Conv2D(32, 3, padding="same", activation="relu")(x)
    x = residual_block(x, 32)
    x = layers.MaxPooling2D()(x)  # -> (14, 14, 32)
    x = residual_block(x, 32)
    x = layers.GlobalAveragePooling2D()(x)
    pneumonia = layers.Dense(1, activation="sigmoid", name="pneumonia")(x)
    model = gn.Model(image, pneumonia, name="residual_cnn", seed=seed)
    model.compile(optimizer=gn.optimizers.Adam(learning_rate=1e-3), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


model = build(seed=0)
model.summary()
start = time.perf_counter()
history = model.fit(x_train, y_train, epochs=args.epochs, batch_size=64, validation_data=(x_val, y_val), verbose=2,
                    callbacks=[gn.callbacks.EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)])
print(f"{len(history.history['loss'])} epochs in {time.perf_counter() - start:.0f} s, "
      f"best val_loss {min(history.history['val_loss']):.4f}")

for split, x, y in (("validation", x_val, y_val), ("test", x_test, y_test)):  # choices use validation only
    probability = model.predict(x)[:, 0]
    accuracy = float(((probability > 0.5) == y).mean())
    print(f"{split} accuracy: {accuracy:.4f}, ROC AUC: {roc_auc_score(y, probability):.4f}")
print("examples/06's 3-CNN ensemble, as documented there: "
      + ", ".join(f"{name} {value:.3f}" for name, value in ENSEMBLE_06.items()))
