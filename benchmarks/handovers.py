"""How often a training step of bench_cnn's CNN hands work to glassnet's other threads, and what
the convolution passes that do it cost.

Every hand-over (glassnet/parallel.py: a slice of work given to the pool, then waited for) costs
tens of microseconds on top of the work itself (a thread woken on the other core, the GIL taken
back), and more on a busy machine. The count is machine-independent; the timings are not.
Prints the hand-overs a step by the function that made them, then the second convolution's
forward and backward (im2col and products; dW and col2im) at the benchmark's sizes, alternating
with nothing else, minimum and median of the repeats. To compare two versions of glassnet, run
this at each (e.g. ``git stash``) on the same quiet machine.

Run:  python benchmarks/handovers.py               (2 threads, ~20 s)
      python benchmarks/handovers.py --repeats 200
"""

from __future__ import annotations

import argparse
import collections
import statistics
import sys
import time

import numpy as np
from bench_cnn import BATCH, glassnet_model
from machine import describe
from threadpoolctl import threadpool_limits

import glassnet as gn
from glassnet import layers, parallel

STEPS = 4


def hand_overs_a_step() -> collections.Counter:
    """Hand-overs per training step of the benchmark CNN, by the function that asked for them."""
    rng = np.random.default_rng(0)
    x = np.round(rng.random((BATCH * STEPS, 28, 28, 1), dtype=np.float32) * 4) / 4  # ties, as real images
    y = rng.integers(0, 10, BATCH * STEPS)
    model = glassnet_model()
    counts = collections.Counter()
    real_run = parallel._run

    def counted(part, threads):
        counts[sys._getframe(2).f_code.co_qualname] += 1  # who called over_batch, matmul, ...
        return real_run(part, threads)

    parallel._run = counted
    try:
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
    finally:
        parallel._run = real_run
    return collections.Counter({k: v / STEPS for k, v in counts.items()})


def conv_pass_times(repeats: int) -> dict[str, list[float]]:
    """Seconds of Conv2D(64, 3)'s forward and backward on the benchmark's (128, 13, 13, 32) input."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((BATCH, 13, 13, 32), dtype=np.float32)
    conv = layers.Conv2D(64, 3)
    conv.build(x.shape)
    grad = rng.standard_normal((BATCH, 11, 11, 64), dtype=np.float32)
    times = {"forward": [], "backward": []}
    with parallel.training_threads():
        for _ in range(repeats):
            start = time.perf_counter()
            conv.forward_logits(x, training=True)
            middle = time.perf_counter()
            conv.backward_logits(grad)
            times["forward"].append(middle - start)
            times["backward"].append(time.perf_counter() - middle)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    threadpool_limits(args.threads, user_api="blas")
    gn.config.set_num_threads(args.threads)
    print(f"{describe()}; glassnet at {gn.__file__}; {args.threads} thread(s)")
    counts = hand_overs_a_step()
    print(f"hand-overs a training step (batch {BATCH}): {sum(counts.values()):.0f}")
    for name, n in counts.most_common():
        print(f"  {n:5.1f}  {name}")
    times = conv_pass_times(args.repeats)
    print(f"Conv2D(64, 3) on (128, 13, 13, 32), {args.repeats} repeats:")
    for name, t in times.items():
        print(f"  {name:<9} min {min(t) * 1e3:6.2f} ms   median {statistics.median(t) * 1e3:6.2f} ms")
    print(describe())


if __name__ == "__main__":
    main()
