"""One training epoch of the same MLP as a Sequential and as a graph (gn.Model): the graph's overhead.

    python benchmarks/bench_graph.py             # 7 repeats, the two taking turns
    python benchmarks/bench_graph.py --repeats 3

Both models have the same seed, so they train the same numbers (tests/test_functional_training.py
checks that bit for bit); only the bookkeeping differs. Prints the median seconds per epoch, the
ratio graph / Sequential, and the CPU model.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import glassnet as gn
from glassnet import layers
from glassnet.utils import cpu_model


def stack():
    return [layers.Dense(128, activation="relu"), layers.Dense(128, activation="relu"),
            layers.Dense(10, activation="softmax")]


def models():
    sequential = gn.Sequential([layers.Input((64,)), *stack()], seed=0)
    x = out = gn.Input((64,))
    for layer in stack():
        out = layer(out)
    return {"Sequential": sequential, "Model (graph)": gn.Model(x, out, seed=0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8192, 64)).astype("float32"), rng.integers(0, 10, 8192)
    contenders = models()
    for model in contenders.values():
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(x, y, epochs=1, batch_size=64, verbose=0)  # warm-up
    times = {name: [] for name in contenders}
    for _ in range(args.repeats):  # taking turns, so a busy moment on a shared machine hits both
        for name, model in contenders.items():
            start = time.perf_counter()
            model.fit(x, y, epochs=1, batch_size=64, verbose=0)
            times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(t) for name, t in times.items()}
    print("one epoch: 8192 x 64, MLP 128-128-10 (ReLU, softmax), Adam, batch 64, float32")
    for name, median in medians.items():
        print(f"  {name:<14} {median * 1000:7.1f} ms")
    print(f"  ratio graph / Sequential: {medians['Model (graph)'] / medians['Sequential']:.2f}")
    print(f"CPU: {cpu_model()}")


if __name__ == "__main__":
    main()
