"""What flushing subnormal optimizer slots costs, and what it saves, per Adam step.

Adam updates the 118,282 parameters of bench_mlp.py's MLP (784-128-128-10), as one flat float32
buffer as a model keeps them. Two versions take turns step by step in this one process: Adam as
it is, and Adam with the flush replaced by a no-op (the formulas before the flush existed).
Two kinds of gradients:

- "ordinary": every gradient nonzero; nothing decays, so this is the flush's pure cost;
- "dead units": 40 % of the gradients exactly zero after a warm-up of ordinary steps (pixels
  that are always 0, dead ReLU units), run until the unflushed slots hold subnormals, so this
  is where the flush pays. On CPUs whose subnormal arithmetic is slow (Intel's), the no-flush
  column grows; on those where it is cheap (AMD EPYC) the two stay close.

Run:  python benchmarks/bench_flush.py            (about 20 seconds)
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from machine import describe

from glassnet import optimizers

SIZES = (784, 128, 128, 10)
N_PARAMS = sum(a * b + b for a, b in zip(SIZES, SIZES[1:]))


def subnormals(opt) -> int:
    return sum(int(np.count_nonzero((a != 0) & (np.abs(a) < np.finfo(a.dtype).tiny)))
               for a in opt.variables().values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000, help="timed steps per version and kind")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(describe())
    print(f"Adam on {N_PARAMS:,} float32 parameters in one buffer; median microseconds per step, "
          f"{args.steps} steps each, the two versions alternating")
    flush = optimizers.flush_subnormals

    def no_flush(a, *rest, **kwargs):
        return a

    for kind, dead in (("ordinary", 0.0), ("dead units", 0.4)):
        versions = {}
        for name, fn in (("flush", flush), ("no flush", no_flush)):
            opt = optimizers.Adam()
            param = rng.normal(scale=0.05, size=2 * N_PARAMS).astype(np.float32)
            versions[name] = (fn, opt, param[:N_PARAMS], param[N_PARAMS:])
        grad = rng.normal(scale=1e-2, size=N_PARAMS).astype(np.float32)
        # Two parameters side by side, as a model's kernel and bias: the one-buffer path.
        items = lambda p, g: [("k", p[:-10], g[:-10]), ("b", p[-10:], g[-10:])]  # noqa: E731
        for fn, opt, p, g in versions.values():
            optimizers.flush_subnormals = fn
            for _ in range(100):  # warm-up with ordinary gradients
                opt.apply_gradients(items(p, grad))
        if dead:
            grad[rng.random(N_PARAMS) < dead] = 0
            for fn, opt, p, g in versions.values():  # long enough for m to sink below 1e-38
                optimizers.flush_subnormals = fn
                for _ in range(1000):
                    opt.apply_gradients(items(p, grad))
        times = {name: [] for name in versions}
        for _ in range(args.steps):
            for name, (fn, opt, p, g) in versions.items():
                optimizers.flush_subnormals = fn
                start = time.perf_counter()
                opt.apply_gradients(items(p, grad))
                times[name].append(time.perf_counter() - start)
        optimizers.flush_subnormals = flush
        med = {name: statistics.median(t) * 1e6 for name, t in times.items()}
        counts = {name: subnormals(v[1]) for name, v in versions.items()}
        print(f"  {kind:10s}  flush {med['flush']:7.1f} us ({counts['flush']} subnormal slot values)   "
              f"no flush {med['no flush']:7.1f} us ({counts['no flush']} subnormal)   "
              f"flush / no flush = {med['flush'] / med['no flush']:.2f}x")
    print(describe())


if __name__ == "__main__":
    main()
