"""Where an MLP training epoch goes when it is written in NumPy, part by part.

bench_mlp.py compares glassnet with PyTorch and with the matrix-product bound; this script
explains the gap to the bound. It times the framework-free NumPy step of bench_mlp.py (the same
784-128-128-10 MLP, batch 128, Adam, Fashion-MNIST) cut into its parts, then Adam's twelve
elementwise passes one by one on the 118,282 parameters, then Adam split across two Python
threads against Adam on one (the obvious way to use the second core for elementwise work).

Run:  python benchmarks/mlp_breakdown.py            (about a minute)
      python benchmarks/mlp_breakdown.py --epochs 1 (quicker, noisier)
"""

from __future__ import annotations

import argparse
import os
import threading
import time

import numpy as np
from bench_mlp import (BATCH, NumpyTrainer, adam_update, limit_blas_threads, load_data,
                       matmul_epoch_seconds)


def parts_of_an_epoch(trainer: NumpyTrainer, epochs: int) -> dict[str, float]:
    """Seconds per epoch of each part of the by-hand step (the same arithmetic, timed in pieces)."""
    clock = time.perf_counter
    spent: dict[str, float] = {}

    def lap(part: str, since: float) -> float:
        now = clock()
        spent[part] = spent.get(part, 0.0) + now - since
        return now

    W, b, dW, db = trainer.W, trainer.b, trainer.dW, trainer.db
    n = trainer.x.shape[0]
    for _ in range(epochs):
        order = trainer.rng.permutation(n)
        for start in range(0, n, BATCH):
            t = clock()
            idx = order[start:start + BATCH]
            xb, yb = trainer.x[idx], trainer.y[idx]
            ones = np.ones(xb.shape[0], np.float32)
            t = lap("batch gather x[idx]", t)
            z1 = xb @ W[0]
            t = lap("matrix products", t)
            z1 += b[0]
            m1 = z1 > 0
            a1 = np.maximum(z1, 0)
            t = lap("bias add, ReLU and its mask", t)
            z2 = a1 @ W[1]
            t = lap("matrix products", t)
            z2 += b[1]
            m2 = z2 > 0
            a2 = np.maximum(z2, 0)
            t = lap("bias add, ReLU and its mask", t)
            z3 = a2 @ W[2]
            t = lap("matrix products", t)
            z3 += b[2]
            shifted = z3 - z3.max(axis=1, keepdims=True)
            e = np.exp(shifted)
            s = e.sum(axis=1, keepdims=True)
            float((yb * (shifted - np.log(s))).sum())
            g = e / s
            g -= yb
            g *= np.float32(1 / xb.shape[0])
            t = lap("softmax + cross-entropy and its gradient", t)
            np.matmul(a2.T, g, out=dW[2])
            np.matmul(ones, g, out=db[2])
            g = g @ W[2].T
            t = lap("matrix products", t)
            g *= m2
            t = lap("bias add, ReLU and its mask", t)
            np.matmul(a1.T, g, out=dW[1])
            np.matmul(ones, g, out=db[1])
            g = g @ W[1].T
            t = lap("matrix products", t)
            g *= m1
            t = lap("bias add, ReLU and its mask", t)
            np.matmul(xb.T, g, out=dW[0])
            np.matmul(ones, g, out=db[0])
            t = lap("matrix products", t)
            trainer._adam()
            lap("Adam (12 passes, 5 more to flush subnormals)", t)
    return {part: seconds / epochs for part, seconds in spent.items()}


def adam_passes(size: int, repeats: int = 300) -> list[tuple[str, float]]:
    """Microseconds of each of Adam's passes over ``size`` float32 parameters (best of 5)."""
    rng = np.random.default_rng(0)
    p, g, m, v, tmp = (rng.random(size, dtype=np.float32) + np.float32(0.1) for _ in range(5))
    f = np.float32
    passes = [
        ("m *= beta_1", lambda: np.multiply(m, f(0.9), out=m)),
        ("tmp = g * (1 - beta_1)", lambda: np.multiply(g, f(0.1), out=tmp)),
        ("m += tmp", lambda: np.add(m, tmp, out=m)),
        ("v *= beta_2", lambda: np.multiply(v, f(0.999), out=v)),
        ("tmp = g * g", lambda: np.multiply(g, g, out=tmp)),
        ("tmp *= 1 - beta_2", lambda: np.multiply(tmp, f(0.001), out=tmp)),
        ("v += tmp", lambda: np.add(v, tmp, out=v)),
        ("tmp = sqrt(v)", lambda: np.sqrt(v, out=tmp)),
        ("tmp += epsilon", lambda: np.add(tmp, f(1e-7), out=tmp)),
        ("tmp = m / tmp", lambda: np.divide(m, tmp, out=tmp)),
        ("tmp *= step size", lambda: np.multiply(tmp, f(1e-3), out=tmp)),
        ("p -= tmp", lambda: np.subtract(p, tmp, out=p)),
    ]
    timings = []
    for name, run in passes:
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(repeats):
                run()
            best = min(best, (time.perf_counter() - start) / repeats)
        timings.append((name, best * 1e6))
    return timings


class _HalfAdam:
    """Adam on a slice of the trainer's flat buffers (views), the same update as NumpyTrainer's."""

    def __init__(self, trainer: NumpyTrainer, lo: int, hi: int):
        self.buffers = [a[lo:hi] for a in (trainer.P, trainer.G, trainer.m, trainer.v, trainer.tmp)]
        self.mask = trainer.mask[lo:hi]

    def step(self, t: int) -> None:
        adam_update(*self.buffers, t, self.mask)


def adam_one_thread_vs_two(trainer: NumpyTrainer, steps: int = 2000) -> tuple[float, float]:
    """Microseconds per Adam step: on the calling thread alone, and split in halves with a
    persistent worker thread taking the second half (one hand-off and one join per step)."""
    n = trainer.P.size
    first, second = _HalfAdam(trainer, 0, n // 2), _HalfAdam(trainer, n // 2, n)
    go, done = threading.Event(), threading.Event()
    state = {"t": 1, "stop": False}

    def worker():
        while True:
            go.wait()
            go.clear()
            if state["stop"]:
                return
            second.step(state["t"])
            done.set()

    thread = threading.Thread(target=worker, daemon=True)
    thread.start()
    one = two = 0.0
    for step in range(1, steps + 1):
        state["t"] = step
        start = time.perf_counter()
        first.step(step)
        second.step(step)
        one += time.perf_counter() - start
        start = time.perf_counter()
        go.set()
        first.step(step)
        done.wait()
        done.clear()
        two += time.perf_counter() - start
    state["stop"] = True
    go.set()
    thread.join()
    return one / steps * 1e6, two / steps * 1e6


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs for the breakdown (default 3)")
    parser.add_argument("--threads", type=int, default=2, help="threads for NumPy's BLAS (default 2)")
    args = parser.parse_args(argv)
    limit_blas_threads(args.threads)
    # bench_mlp's "numpy" contender runs in glassnet's process after glassnet has trained, so
    # glibc keeps freed blocks for reuse there (glassnet/models/memory.py); do the same here,
    # or every 400 KB batch is a fresh mmap with a hundred page faults.
    from glassnet.models.memory import keep_freed_memory

    keep_freed_memory()
    x, labels, source = load_data(60_000)
    trainer = NumpyTrainer(x, labels)
    trainer.epoch()  # warm-up
    print(f"the by-hand NumPy step of bench_mlp.py; data: {source}")
    print(f"machine: {os.cpu_count()} CPUs, numpy {np.__version__}, {args.threads} BLAS thread(s); "
          f"load average {os.getloadavg()[0]:.2f}\n")

    parts = parts_of_an_epoch(trainer, args.epochs)
    total = sum(parts.values())
    print(f"one epoch of 60,000 samples, {args.epochs} epoch(s) averaged: {total:.3f} s")
    for part, seconds in sorted(parts.items(), key=lambda kv: -kv[1]):
        print(f"  {part:42s} {seconds * 1e3:7.1f} ms  {seconds / total:5.1%}")
    # bench_mlp's bound times the same products on the same few buffers over and over, so
    # they stay in cache; inside the step each product reads what the one before it wrote.
    bound = matmul_epoch_seconds(60_000)
    print(f"  the matrix products alone, as bench_mlp's bound times them: {bound * 1e3:.1f} ms "
          f"(in the step: {parts['matrix products'] / bound:.2f}x that; whole step: {total / bound:.2f}x)")

    size = trainer.P.size
    passes = adam_passes(size)
    print(f"\nAdam's passes over {size:,} float32 parameters, one at a time (best of 5): "
          f"{sum(us for _, us in passes):.0f} us in all")
    for name, us in passes:
        print(f"  {name:24s} {us:6.1f} us")

    one, two = adam_one_thread_vs_two(trainer)
    print(f"\nAdam step on one thread: {one:.0f} us; split across two threads: {two:.0f} us "
          f"(two / one = {two / one:.2f}x)")


if __name__ == "__main__":
    main()
