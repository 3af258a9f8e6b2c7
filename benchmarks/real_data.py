"""The data the benchmarks train on: real images when their files are here, random ones if not.

Real data is what the figures are about: timings on random pixels miss what real images do to
training (pixels that are always 0, dead ReLU units, and the optimizer state that decays for
them). Nothing is downloaded: the benchmarks only look for files already on the machine.
"""

from __future__ import annotations

import numpy as np

SYNTHETIC = "synthetic (uniform [0, 1) pixels, random labels)"


def images(dataset: str, split: str = "train", synthetic: bool = False, samples: int | None = None):
    """(x float32 (N, 28, 28, 1) in [0, 1], labels int64 (N,), what the data is).

    ``dataset`` is "fashion_mnist" or "mnist"; "mnist" falls back to Fashion-MNIST (the same
    shapes) when MNIST's files are not found, and either falls back to random images, saying
    so. ``samples`` takes the first N (repeating the set if it has fewer).
    """
    x, labels, what = (None, None, SYNTHETIC) if synthetic else _load(dataset, split)
    n = samples or (60_000 if split == "train" else 10_000)
    if x is None:
        rng = np.random.default_rng(0)
        return rng.random((n, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, n), what
    reps = -(-n // x.shape[0])
    x, labels = np.tile(x, (reps, 1, 1))[:n], np.tile(labels, reps)[:n]
    x = (x.reshape(-1, 28, 28, 1) / np.float32(255)).astype(np.float32)
    return np.ascontiguousarray(x), labels.astype(np.int64), what


def describe(dataset: str, synthetic: bool = False) -> str:
    """What ``images`` would return, without converting it."""
    return SYNTHETIC if synthetic else _load(dataset, "test")[2]


def _load(dataset: str, split: str):
    from glassnet.datasets import fashion_mnist, mnist

    part = 0 if split == "train" else 1
    note = ""
    if dataset == "mnist":
        try:
            x, y = mnist.load_data(download=False)[part]
            return x, y, "MNIST (glassnet.datasets.mnist)"
        except FileNotFoundError:
            note = ("; real MNIST's files were not found offline, so Fashion-MNIST (same shapes, "
                    "60,000 + 10,000 28x28 images) stands in for it")
    try:
        x, y = fashion_mnist.load_data(download=False)[part]
        return x, y, f"Fashion-MNIST from {fashion_mnist.SYSTEM_FOLDER} or the cache{note}"
    except FileNotFoundError:
        return None, None, f"{SYNTHETIC}: no Fashion-MNIST files found{note}"
