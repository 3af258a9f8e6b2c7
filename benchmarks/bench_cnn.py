"""Benchmark: training steps and inference of a small CNN in glassnet and in PyTorch (CPU).

The model is the issue's: input 28x28x1, Conv2D 32 3x3 ReLU, MaxPool 2, Conv2D 64 3x3 ReLU,
MaxPool 2, Flatten, Dense 128 ReLU, Dense 10 softmax with cross-entropy, Adam, batch 128,
float32. Each repeat times 20 training steps after warm-up, and inference on batches of 512;
the two frameworks alternate repeat by repeat in one run (shared machines are noisy), each in
its own process (benchmarks/contenders.py says why), and medians and ratios are printed.

BLAS threads: ``--threads`` sets PyTorch's intra-op threads and OpenBLAS' threads for NumPy
(through the environment, before NumPy starts). On a busy shared machine, use 1: OpenBLAS
threads that wait for a descheduled sibling spin and can make a 2 ms product take a second.

Run:  python benchmarks/bench_cnn.py                (5 repeats, 2 threads)
      python benchmarks/bench_cnn.py --threads 1 --repeats 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

BATCH, STEPS, INFER_BATCH = 128, 20, 512
PAUSE = 0.5  # seconds of idling before each timed run


def parse():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    return parser.parse_args()


def make_data():
    import numpy as np

    rng = np.random.default_rng(0)
    return (rng.random((BATCH * STEPS, 28, 28, 1), dtype=np.float32),
            rng.integers(0, 10, BATCH * STEPS))


def glassnet_jobs(threads: int) -> dict:
    """Built in glassnet's own process (see contenders.py); warmed up."""
    import glassnet as gn
    from glassnet import layers

    x, y = make_data()
    model = gn.Sequential([
        layers.Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)), layers.MaxPooling2D(),
        layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(), layers.Flatten(),
        layers.Dense(128, activation="relu"), layers.Dense(10, activation="softmax"),
    ], seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")

    def train():
        for i in range(STEPS):
            s = slice(i * BATCH, (i + 1) * BATCH)
            model.train_on_batch(x[s], y[s])

    def infer():
        model.predict(x[:INFER_BATCH], batch_size=INFER_BATCH)

    train(), infer()  # warm-up: allocation, BLAS start-up
    return {"train": train, "infer": infer}


def torch_jobs(threads: int) -> dict:
    import torch

    x, y = make_data()
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
        torch.nn.Linear(1600, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    xt = torch.tensor(x.transpose(0, 3, 1, 2).copy())  # torch wants NCHW
    yt = torch.tensor(y)

    def train():
        for i in range(STEPS):
            s = slice(i * BATCH, (i + 1) * BATCH)
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(xt[s]), yt[s]).backward()
            opt.step()

    def infer():
        with torch.no_grad():
            net(xt[:INFER_BATCH])

    train(), infer()
    return {"train": train, "infer": infer}


def main():
    args = parse()
    # Set before the children start NumPy or torch: they inherit the environment.
    os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = str(args.threads)
    from contenders import Contender

    contenders = {"glassnet": Contender("bench_cnn", "glassnet_jobs", args.threads),
                  "pytorch": Contender("bench_cnn", "torch_jobs", args.threads)}
    if not contenders["pytorch"].available:
        print(f"PyTorch is not available ({contenders['pytorch'].missing}): glassnet only.")
        del contenders["pytorch"]
    times = {name: {"train": [], "infer": []} for name in contenders}
    for r in range(args.repeats):
        names = list(contenders)[r % len(contenders):] + list(contenders)[:r % len(contenders)]
        for name in names:  # who goes first alternates
            for job in ("train", "infer"):
                # Idle first: the other framework's OpenMP/OpenBLAS threads keep spinning for a
                # while after their last product and would steal the cores (see bench_mlp.py).
                time.sleep(PAUSE)
                _, seconds = contenders[name].run(job)
                times[name][job].append(seconds / STEPS if job == "train" else seconds)
    for contender in contenders.values():
        contender.close()
    print(f"{sys.platform}, {args.threads} thread(s), {args.repeats} repeats, medians, "
          f"each framework in its own process")
    for name, t in times.items():
        step, infer = statistics.median(t["train"]), statistics.median(t["infer"])
        print(f"{name:9s} train step (batch {BATCH}): {step * 1000:7.1f} ms   "
              f"inference: {INFER_BATCH / infer:8.0f} images/s")
    if "pytorch" in times:
        g, p = times["glassnet"], times["pytorch"]
        train_ratio = statistics.median(g["train"]) / statistics.median(p["train"])
        infer_ratio = statistics.median(g["infer"]) / statistics.median(p["infer"])
        print(f"ratio glassnet / pytorch: training {train_ratio:.2f}x, inference time {infer_ratio:.2f}x")
        # The two frameworks of one repeat ran seconds apart, under nearly the same load.
        paired = statistics.median(a / b for a, b in zip(g["train"], p["train"]))
        print(f"median of the {args.repeats} per-repeat training ratios: {paired:.2f}x")


if __name__ == "__main__":
    main()
