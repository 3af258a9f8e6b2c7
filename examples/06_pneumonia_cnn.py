"""Chest X-rays: a CNN that tells pneumonia from normal lungs (PneumoniaMNIST, 28x28 grayscale).

Reads the class-balanced copy in ../shared/data/pneumoniamnist_balanced.npz (MedMNIST layout:
train/val/test images and labels), reports the class balance and the class weights computed
from it (all 1.0 here; on the original 74 % / 26 % split they would weigh normal images up),
trains three small CNNs with augmentation (rotations, shifts and zooms, active only in
training), averages their probabilities, and prints accuracy, ROC AUC, sensitivity,
specificity and the confusion matrix on the validation and the test split.

Every setting was chosen on the validation split (log loss), never on the test split. The test
split is harder than validation (MedMNIST takes it from the original dataset's separate test
set): the full run gives 0.974 validation accuracy but 0.895 on test (419 of 468), ROC AUC
0.976, sensitivity 0.983, specificity 0.808; most test errors are healthy lungs flagged as
pneumonia. MedMNIST's ResNet-18 reported 0.854 / 0.944 on the official, imbalanced test split.
Every test accuracy seen so far, so that none of them is mistaken for a selected one: 0.8654,
0.8611, 0.8846 and 0.8996 while the settings were being chosen; 0.8910 after engine changes
that only reordered floating-point sums; 0.8910 again with ``--networks 5`` (validation log
loss 0.0655 against 0.0661 for three: too small a gain for 40 % more time, so three it stays).
Two more ideas were declared in advance with a rule (replace the default only if validation log
loss drops by 0.003 or more) and judged on validation only, the test split never evaluated:
averaging each network over the image and 8 augmented copies (test-time augmentation) raised
validation log loss from 0.0693 (this script's networks retrained by the study script, which
passes no class weights) to 0.0917; RandomContrast(0.2) and RandomBrightness(0.1) in training
raised it to 0.0956 (0.1226 with test-time augmentation). Neither was adopted. The script
itself, re-run unchanged at the end of that session (the engine had changed since 0.8910 was
measured): validation 0.9741, log loss 0.0693 (the same networks as the study's baseline),
test 0.8953 (419 of 468).

    python examples/06_pneumonia_cnn.py                    # the full run (about 4 minutes)
    python examples/06_pneumonia_cnn.py --limit 200 --epochs 1
"""

import argparse
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import confusion_matrix, log_loss, roc_auc_score

import glassnet as gn
from glassnet import layers
from glassnet.datasets import class_balance, load_npz

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" /
                                          "pneumoniamnist_balanced.npz"), help="an .npz in MedMNIST layout")
parser.add_argument("--epochs", type=int, default=40)
parser.add_argument("--limit", type=int, default=None, help="use only this many images of each split")
parser.add_argument("--networks", type=int, default=3, help="networks in the ensemble (seeds 0, 1, ...)")
args = parser.parse_args()

splits = load_npz(args.data)
if args.limit:  # a random subset: the files are sorted by class
    pick = {name: np.random.default_rng(0).permutation(len(y))[:args.limit] for name, (_, y) in splits.items()}
    splits = {name: (x[pick[name]], y[pick[name]]) for name, (x, y) in splits.items()}
balance = class_balance(["normal", "pneumonia"], **{name: y for name, (_, y) in splits.items()})
print(balance)
class_weight = balance.class_weight("train")
print("class weights:", {k: round(v, 3) for k, v in class_weight.items()})


(x_train, y_train), (x_val, y_val), (x_test, y_test) = (
    ((x[..., None] / 255.0).astype("float32"), y.astype("float32")) for x, y in splits.values())

# 2,428 images make only 38 batches per epoch: with Keras' momentum 0.99 the moving statistics
# that BatchNormalization uses at inference would still lag the batch statistics after ten
# epochs (measured: validation accuracy stuck at 0.50 while the batch-statistics accuracy was
# 0.96). Momentum 0.9 forgets the initial 0/1 within a few dozen batches.
bn_momentum = 0.9


def build(seed: int) -> gn.Sequential:
    model = gn.Sequential([
        layers.RandomRotation(0.05, fill_mode="nearest", input_shape=(28, 28, 1)),  # up to ±18°
        layers.RandomTranslation(0.1, 0.1, fill_mode="nearest"),
        layers.RandomZoom(0.15, 0.15, fill_mode="nearest"),  # height and width apart: the aspect varies too
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.BatchNormalization(momentum=bn_momentum),
        layers.MaxPooling2D(),  # -> (14, 14, 32)
        layers.Conv2D(64, 3, padding="same", activation="relu"),
        layers.BatchNormalization(momentum=bn_momentum),
        layers.MaxPooling2D(),  # -> (7, 7, 64)
        layers.Conv2D(128, 3, activation="relu"),  # -> (5, 5, 128)
        layers.BatchNormalization(momentum=bn_momentum),
        layers.GlobalAveragePooling2D(),
        layers.Dropout(0.3),
        layers.Dense(1, activation="sigmoid"),
    ], seed=seed)
    model.compile(optimizer=gn.optimizers.Adam(learning_rate=1e-3), loss="binary_crossentropy",
                  metrics=["accuracy", "auc"])
    return model


# An ensemble of three networks that differ only in their seed (initial weights, augmentation,
# batch order), averaging their probabilities. On 2,428 images one network's test figures swing
# by a few points with the smallest change (measured: test accuracy 0.893, then 0.865 after a
# change in the order of a floating-point sum); the average is steadier. Validation log loss:
# 0.0755 for one network and 0.0718 for three with lighter augmentation (±11°, 8 % shifts, 10 %
# zoom keeping the aspect), 0.0691 for three with the augmentation above.
seeds = list(range(args.networks))
models = []
start = time.perf_counter()
for seed in seeds:
    model = build(seed)
    if seed == seeds[0]:
        model.summary()
    history = model.fit(x_train, y_train, epochs=args.epochs, batch_size=64, validation_data=(x_val, y_val),
                        class_weight=class_weight, verbose=2,
                        callbacks=[gn.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.3, patience=4),
                                   gn.callbacks.EarlyStopping(monitor="val_loss", patience=8,
                                                              restore_best_weights=True)])
    print(f"network {seed}: {len(history.history['loss'])} epochs, best val_loss "
          f"{min(history.history['val_loss']):.4f}")
    models.append(model)
elapsed = time.perf_counter() - start
print(f"trained {len(models)} networks in {elapsed:.0f} s")


def predict(x: np.ndarray) -> np.ndarray:
    return np.mean([model.predict(x)[:, 0] for model in models], axis=0)


def report(split: str, x: np.ndarray, y: np.ndarray) -> None:
    """Accuracy and ROC AUC, then the figures a clinician asks for: the share of sick lungs
    found (sensitivity) and of healthy ones cleared (specificity), and the confusion matrix."""
    probability = predict(x)
    predicted = (probability > 0.5).astype(int)
    accuracy = float((predicted == y).mean())
    print(f"{split} accuracy: {accuracy:.4f}, ROC AUC: {roc_auc_score(y, probability):.4f}, "
          f"log loss: {log_loss(y, probability, labels=[0, 1]):.4f}")
    print(f"{split} sensitivity (pneumonia found): {predicted[y == 1].mean():.3f}, "
          f"specificity (normal cleared): {1 - predicted[y == 0].mean():.3f}")
    (tn, fp), (fn, tp) = confusion_matrix(y, predicted, labels=[0, 1])
    print(f"{split} confusion matrix (rows: true, columns: predicted)\n"
          f"               normal  pneumonia\n"
          f"    normal     {tn:6d}  {fp:9d}\n"
          f"    pneumonia  {fn:6d}  {tp:9d}")


report("validation", x_val, y_val)  # the split every setting above was chosen on
report("test", x_test, y_test)
