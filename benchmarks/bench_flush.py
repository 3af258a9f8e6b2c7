"""What flushing subnormal optimizer slots costs, and what it saves, per Adam step.

Adam updates the 118,282 parameters of bench_mlp.py's MLP (784-128-128-10), as one flat float32
buffer as a model keeps them. Two versions take turns step by step in this one process: Adam as
it is (each slot flushed every few steps: numerics.flush_schedule), Adam flushing every step (as
before that schedule), and Adam with the flush replaced by a no-op (the formulas before the flush
existed). Two kinds of gradients:

- "ordinary": every gradient nonzero; nothing decays, so this is the flush's pure cost;
- "dead units": 40 % of the gradients exactly zero after a warm-up of ordinary steps (pixels
  that are always 0, dead ReLU units), run until the unflushed slots hold subnormals, so this
  is where the flush pays. On CPUs whose subnormal arithmetic is slow (Intel's), the no-flush
  column grows; on those where it is cheap (AMD EPYC) the two stay close.

Then the real thing: identical models (784-128-128-10, Adam, batch 128) train on
Fashion-MNIST epoch by epoch in turns, one per version, and after each epoch the subnormal
values in Adam's slots are counted (a figure that holds on any CPU) and the weights compared
with the every-step version's, bit for bit.

Run:  python benchmarks/bench_flush.py              (about a minute)
      python benchmarks/bench_flush.py --epochs 0   (the Adam steps alone, 20 seconds)
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import real_data
from machine import describe

from glassnet import numerics, optimizers

SIZES = (784, 128, 128, 10)
N_PARAMS = sum(a * b + b for a, b in zip(SIZES, SIZES[1:]))


def subnormals(opt) -> int:
    return sum(int(np.count_nonzero((a != 0) & (np.abs(a) < np.finfo(a.dtype).tiny)))
               for a in opt.variables().values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000, help="timed steps per version and kind")
    parser.add_argument("--epochs", type=int, default=3, help="real Fashion-MNIST epochs per version (default 3)")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(describe())
    print(f"Adam on {N_PARAMS:,} float32 parameters in one buffer; median microseconds per step, "
          f"{args.steps} steps each, the two versions alternating")
    for kind, dead in (("ordinary", 0.0), ("dead units", 0.4)):
        versions = {}
        for name in VERSIONS:
            param = rng.normal(scale=0.05, size=2 * N_PARAMS).astype(np.float32)
            versions[name] = (optimizers.Adam(), param[:N_PARAMS])
        grad = rng.normal(scale=1e-2, size=N_PARAMS).astype(np.float32)
        # Two parameters side by side, as a model's kernel and bias: the one-buffer path.
        items = lambda p, g: [("k", p[:-10], g[:-10]), ("b", p[-10:], g[-10:])]  # noqa: E731
        for name, (opt, p) in versions.items():
            use(name)
            for _ in range(100):  # warm-up with ordinary gradients
                opt.apply_gradients(items(p, grad))
        if dead:
            grad[rng.random(N_PARAMS) < dead] = 0
            for name, (opt, p) in versions.items():  # long enough for m to sink below 1e-38
                use(name)
                for _ in range(1000):
                    opt.apply_gradients(items(p, grad))
        times = {name: [] for name in versions}
        for _ in range(args.steps):
            for name, (opt, p) in versions.items():
                use(name)
                start = time.perf_counter()
                opt.apply_gradients(items(p, grad))
                times[name].append(time.perf_counter() - start)
        use("flush")
        med = {name: statistics.median(t) * 1e6 for name, t in times.items()}
        counts = {name: subnormals(v[0]) for name, v in versions.items()}
        print(f"  {kind}: " + "   ".join(f"{name} {med[name]:.1f} us ({counts[name]} subnormal)" for name in versions))
        print(f"      flush / no flush = {med['flush'] / med['no flush']:.2f}x, "
              f"flush every step / no flush = {med['flush every step'] / med['no flush']:.2f}x")
    if args.epochs:
        real_epochs(args.epochs)
    print(describe())


FLUSH, SCHEDULE = optimizers.flush_subnormals, optimizers.flush_schedule
VERSIONS = ("flush", "flush every step", "no flush")


def use(version: str) -> None:
    """Make glassnet's optimizers flush as ``version`` does."""
    optimizers.flush_subnormals = FLUSH if version != "no flush" else (lambda a, *rest, **kwargs: a)
    every_step = lambda decay, dtype: (1, float(np.finfo(dtype).tiny))  # noqa: E731
    optimizers.flush_schedule = every_step if version == "flush every step" else numerics.flush_schedule


def real_epochs(epochs: int) -> None:
    import glassnet as gn

    x, labels, what = real_data.images("fashion_mnist")
    x, y = x.reshape(-1, 784), gn.utils.to_categorical(labels, 10)
    print(f"\nMLP {'-'.join(map(str, SIZES))}, Adam, batch 128, {what}: epoch seconds and subnormal "
          f"values in Adam's slots (of {2 * N_PARAMS:,}) after each epoch, the two versions alternating")
    models = {}
    for name in VERSIONS:
        models[name] = gn.Sequential([gn.layers.Dense(128, activation="relu", input_shape=(784,)),
                                      gn.layers.Dense(128, activation="relu"),
                                      gn.layers.Dense(10, activation="softmax")], seed=0)
        models[name].compile(optimizer=gn.optimizers.Adam(), loss="categorical_crossentropy")
    for epoch in range(epochs):
        line = []
        for name in VERSIONS:
            use(name)
            time.sleep(0.5)
            start = time.perf_counter()
            models[name].fit(x, y, batch_size=128, epochs=1, verbose=0, shuffle=True)
            seconds = time.perf_counter() - start
            line.append(f"{name} {seconds:.2f} s, {subnormals(models[name].optimizer):6d} subnormal")
        use("flush")
        same = all(np.array_equal(a, b) for a, b in zip(models["flush"].get_weights(),
                                                        models["flush every step"].get_weights()))
        print(f"  epoch {epoch + 1}: " + "   ".join(line), flush=True)
        print(f"      weights of 'flush' and 'flush every step' bit-identical: {same}")


if __name__ == "__main__":
    main()
