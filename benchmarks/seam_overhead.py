"""What the array-module seam (glassnet/backend.py) costs the CPU path: Python calls and seconds.

For an MLP 784-128-128-10 and a small CNN (Conv2D 32 - pool - Conv2D 64 - pool - Dense), both
with Adam, batch 128, float32 on random data: the Python function calls per training step
(cProfile's count, machine-independent for the MLP; the CNN's varies a little with glassnet's
threads) and the fastest of several timed epochs (the minimum: the figure least disturbed by
other load). Run it in two checkouts, alternately, to compare them (issue 17 did so against the
code before the seam); the output names the CPU and the load.

Run:  python benchmarks/seam_overhead.py
"""

from __future__ import annotations

import cProfile
import os
import pstats
import time

import numpy as np

import glassnet as gn

L = gn.layers
BATCH = 128


def models():
    mlp = gn.Sequential([L.Dense(128, activation="relu", input_shape=(784,)), L.Dense(128, activation="relu"),
                         L.Dense(10, activation="softmax")], seed=0)
    cnn = gn.Sequential([L.Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)), L.MaxPooling2D(),
                         L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(), L.Flatten(),
                         L.Dense(128, activation="relu"), L.Dense(10, activation="softmax")], seed=0)
    rng = np.random.default_rng(0)
    return {"MLP": (mlp, rng.normal(size=(10_000, 784)).astype("float32"), rng.integers(0, 10, 10_000), 5),
            "CNN": (cnn, rng.random((1_280, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, 1_280), 3)}


def calls_per_step(model, x, y, steps: int = 10) -> float:
    """cProfile's call count for fit over 1 + steps batches, minus that over 1 batch, per step."""
    counts = []
    for n in (1, 1 + steps):
        profile = cProfile.Profile()
        profile.enable()
        model.fit(x[:BATCH * n], y[:BATCH * n], batch_size=BATCH, epochs=1, verbose=0)
        profile.disable()
        counts.append(pstats.Stats(profile).total_calls)
    return (counts[1] - counts[0]) / steps


def fastest_epoch(model, x, y, epochs: int) -> float:
    seconds = []
    for _ in range(epochs):
        start = time.perf_counter()
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
        seconds.append(time.perf_counter() - start)
    return min(seconds)


def main() -> None:
    print(f"CPU {gn.utils.cpu_model()}, load average {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    for name, (model, x, y, epochs) in models().items():
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(x[:4 * BATCH], y[:4 * BATCH], batch_size=BATCH, epochs=1, verbose=0)  # warm-up
        calls = calls_per_step(model, x, y)
        print(f"{name}: {calls:7.1f} Python calls per step, fastest of {epochs} epochs "
              f"({len(x)} samples) {fastest_epoch(model, x, y, epochs):.3f} s")


if __name__ == "__main__":
    main()
