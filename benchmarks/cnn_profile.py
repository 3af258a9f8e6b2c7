"""Where bench_cnn.py's real training epoch goes: cProfile over ``fit`` on real images, by function.

The same CNN and data as bench_cnn.py (MNIST if found, else Fashion-MNIST), trained with
``model.fit`` for ``--steps`` batches of 128 under cProfile; each engine function's own time
(cumulative for the layers' forward and backward) is printed, scaled to a full 469-step epoch.
Real images matter here: their black background gives windows of equal values, the ties that
max pooling's backward must break (random pixels almost never tie).

Run:  python benchmarks/cnn_profile.py              (80 steps, about 15 seconds)
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats

BATCH, EPOCH_STEPS = 128, 469


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=80)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--synthetic", action="store_true")
    args = parser.parse_args()
    os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = str(args.threads)
    import real_data
    from bench_cnn import glassnet_model
    from machine import describe

    x, y, what = real_data.images("mnist", "train", args.synthetic, BATCH * args.steps)
    model = glassnet_model()
    model.fit(x[:BATCH * 4], y[:BATCH * 4], batch_size=BATCH, epochs=1, verbose=0)  # warm-up
    profiler = cProfile.Profile()
    profiler.enable()
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=True)
    profiler.disable()
    stats = pstats.Stats(profiler).stats
    scale = EPOCH_STEPS / args.steps
    total = sum(tt for (_, _, _), (_, _, tt, _, _) in stats.items())
    print(f"{describe()}; {args.threads} thread(s)")
    print(f"data: {what}; {args.steps} steps of {BATCH}, scaled to a {EPOCH_STEPS}-step epoch "
          f"({total * scale:.1f} s of profiled time)")
    rows = []
    for (path, _, name), (_, _, tottime, cumtime, _) in stats.items():
        if "glassnet" not in path:
            continue
        where = f"{os.path.basename(path)}:{name}"
        if name in ("forward", "backward", "forward_logits", "backward_logits", "_backward_tiled",
                    "apply_gradients"):
            rows.append((cumtime, where + " (cumulative)"))
        elif tottime * scale > 0.1:
            rows.append((tottime, where))
    for seconds, where in sorted(rows, reverse=True)[:20]:
        print(f"  {seconds * scale:6.2f} s  {where}")


if __name__ == "__main__":
    main()
