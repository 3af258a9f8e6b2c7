"""Build functions and data for the tuning tests, in a module of their own so that spawned
worker processes (and ``python -m glassnet.tuning.worker``) can import them by name."""

import copy
import os
import signal
import time

import numpy as np
from sklearn.datasets import load_digits

import glassnet as gn
from glassnet.datasets import ImageFolderSource


def digits(n: int = 240):
    """The first ``n`` sklearn digits, scaled to [0, 1]: 64 features, 10 classes."""
    x, y = load_digits(return_X_y=True)
    return (x[:n] / 16).astype("float32"), y[:n]


def build_model(params):
    """Talos style: one dict of parameters."""
    model = gn.Sequential([gn.layers.Dense(params["units"], activation=params.get("activation", "relu"),
                                           input_shape=(64,)),
                           gn.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=gn.optimizers.Adam(params["learning_rate"]), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def build_kwargs(units, learning_rate=0.01):
    """One keyword argument per parameter."""
    return build_model({"units": units, "learning_rate": learning_rate})


def build_hp(hp):
    """keras-tuner style, with a conditional parameter."""
    units = hp.Int("units", 4, 32, step=4)
    optimizer = hp.Choice("optimizer", ["adam", "sgd"])
    momentum = hp.Float("momentum", 0.0, 0.9, parent_name="optimizer", parent_values=["sgd"], default=0.0)
    rate = hp.Float("learning_rate", 1e-3, 1e-1, log=True)
    opt = gn.optimizers.Adam(rate) if optimizer == "adam" else gn.optimizers.SGD(rate, momentum=momentum)
    model = gn.Sequential([gn.layers.Dense(units, activation="relu", input_shape=(64,)),
                           gn.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=opt, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def build_slow(params):
    """Like build_model, but each trial sleeps first (to be killed mid-trial); the sleep is
    skipped when SLOW_TRIAL_SECONDS is not set."""
    time.sleep(float(os.environ.get("SLOW_TRIAL_SECONDS", "0")))
    return build_model(params)


def build_dies_once(params):
    """Like build_slow, but the first trial that a worker process (not the test's own process)
    builds kills that process, as the kernel's out-of-memory killer would. The file named by
    DIE_ONCE_FILE, created atomically, says it happened; DIE_ONCE_PARENT is the test's pid."""
    if os.getpid() != int(os.environ["DIE_ONCE_PARENT"]):
        try:
            os.close(os.open(os.environ["DIE_ONCE_FILE"], os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            pass
        else:
            os.kill(os.getpid(), signal.SIGKILL)
    return build_slow(params)


# -- image folders (tests/tuning/test_tuning_sources.py) --------------------------------------------
def write_image_folder(root, per_class: int = 16, size=(8, 8)):
    """root/dark/*.png and root/light/*.png: grayscale noise around 70 and 150, a learnable pair."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for c, name in enumerate(("dark", "light")):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = np.clip(rng.normal(70 + 80 * c, 40, size), 0, 255).astype(np.uint8)
            Image.fromarray(pixels, "L").save(root / name / f"{i}.png")
    return root


def build_images(params):
    """A small model of 8x8 grayscale images with values 0..255."""
    model = gn.Sequential([gn.layers.Rescaling(1 / 255, input_shape=(8, 8, 1)), gn.layers.Flatten(),
                           gn.layers.Dense(params["units"], activation="relu"),
                           gn.layers.Dense(2, activation="softmax")])
    model.compile(optimizer=gn.optimizers.Adam(params["learning_rate"]), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


class CountingImageSource(ImageFolderSource):
    """An ``ImageFolderSource`` that appends "<pid> <images decoded>" to ``log`` at every batch it
    decodes, in whichever process decodes it."""

    def __init__(self, source: ImageFolderSource, log):
        vars(self).update(vars(copy.copy(source)))
        self.log = str(log)

    def __getitem__(self, index):
        batch = super().__getitem__(index)
        with open(self.log, "a", encoding="utf-8") as f:
            f.write(f"{os.getpid()} {len(batch[0])}\n")
        return batch


def decodes(log) -> list[tuple[int, int]]:
    """(pid, images) of every batch a ``CountingImageSource`` decoded."""
    if not os.path.exists(log):
        return []
    with open(log, encoding="utf-8") as f:
        return [tuple(map(int, line.split())) for line in f]


def two_tables(n: int = 120):
    """Two inputs ("a": 5 features, "b": 3) and two targets ("cls": a class from a, "reg": a
    number from b), for graph models with several inputs and outputs."""
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(n, 5)).astype("float32"), rng.normal(size=(n, 3)).astype("float32")
    return {"a": a, "b": b}, {"cls": (a[:, 0] > 0).astype(int), "reg": b[:, :1] * 2}


def build_two_tables(hp):
    """keras-tuner style: a gn.Model taking two inputs and giving a class and a number."""
    a, b = gn.Input((5,), name="a"), gn.Input((3,), name="b")
    h = gn.layers.Dense(hp.Choice("units", [4, 8]), activation="relu")(gn.layers.Concatenate()([a, b]))
    outputs = {"cls": gn.layers.Dense(2, activation="softmax")(h), "reg": gn.layers.Dense(1)(h)}
    model = gn.Model([a, b], outputs)
    model.compile(optimizer=gn.optimizers.Adam(0.01), loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"},
                  metrics={"cls": ["accuracy"]})
    return model
