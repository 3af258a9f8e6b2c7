"""Tuning benchmark: a Talos-style grid against TPE with Hyperband pruning, and 1 vs 2 workers.

Run by hand: ``python benchmarks/bench_tuning.py [--epochs 60] [--quick]``. Prints

1. the grid's (36 configurations on sklearn digits) best validation accuracy and total epochs,
   against TPE + Hyperband on the same space: target, within 0.5 points of the grid's best with
   at most 25 % of its epochs;
2. trials per hour with 1 and 2 worker processes on the same random search: target >= 1.8x
   on a 2-core machine (BLAS limited to one thread per worker in both runs).

Digits trains so fast that a 15-epoch trial lasts a quarter of a second, and then the fixed
cost of each trial (creating it in the shared journal file under a lock, building the model)
decides the worker comparison: measured 1.71x once started. 60 epochs (trials of about 0.6 s,
still far shorter than real ones) is the default: 1.90x. Both figures are in the README.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from sklearn.datasets import load_digits  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import glassnet as gn  # noqa: E402
from glassnet import tuning  # noqa: E402

SPACE = {"units": [16, 32, 64], "activation": ["relu", "tanh"], "learning_rate": [0.001, 0.003, 0.01],
         "batch_size": [32, 64]}  # 3 * 2 * 3 * 2 = 36 configurations


def build_model(params):
    model = gn.Sequential([gn.layers.Dense(params["units"], activation=params["activation"], input_shape=(64,)),
                           gn.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=gn.optimizers.Adam(params["learning_rate"]), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def data():
    x, y = load_digits(return_X_y=True)
    return (x / 16).astype("float32"), y


def search(strategy, epochs, x, y, **kwargs):
    start = time.perf_counter()
    tuner = tuning.Tuner(build_model, SPACE, strategy=strategy, seed=0, verbose=0, **kwargs)
    tuner.search(x, y, validation_split=0.25, epochs=epochs)
    return tuner, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--tpe-trials", type=int, default=20)
    parser.add_argument("--worker-trials", type=int, default=36)
    parser.add_argument("--quick", action="store_true", help="fewer epochs and trials, to check the script runs")
    args = parser.parse_args()
    if args.quick:
        args.epochs, args.tpe_trials, args.worker_trials = 3, 8, 6
    x, y = data()
    print(f"digits {x.shape}, {os.cpu_count()} cores, epochs {args.epochs}")

    with threadpool_limits(limits=1):
        grid, grid_s = search("grid", args.epochs, x, y)
        tpe, tpe_s = search("tpe", args.epochs, x, y, max_trials=args.tpe_trials, pruning="hyperband")
    g, t = grid.results, tpe.results
    grid_best, tpe_best = grid.best_value * 100, tpe.best_value * 100
    grid_epochs, tpe_epochs = int(g["epochs"].sum()), int(t["epochs"].sum())
    print(f"grid:            {len(g)} trials, best val_accuracy {grid_best:.2f} %, {grid_epochs} epochs, "
          f"{grid_s:.0f} s")
    print(f"TPE + Hyperband: {len(t)} trials ({(t['state'] == 'pruned').sum()} pruned), best val_accuracy "
          f"{tpe_best:.2f} %, {tpe_epochs} epochs, {tpe_s:.0f} s")
    gap, share = grid_best - tpe_best, tpe_epochs / grid_epochs
    print(f"-> {gap:+.2f} points below the grid's best with {share:.0%} of its epochs "
          f"(target: <= 0.5 points with <= 25 %): {'met' if gap <= 0.5 and share <= 0.25 else 'NOT met'}")

    rates = {}
    for n_workers in (1, 2):
        with tempfile.TemporaryDirectory() as folder, threadpool_limits(limits=1):
            tuner, seconds = search("random", args.epochs, x, y, max_trials=args.worker_trials, n_workers=n_workers,
                                    storage=os.path.join(folder, "study.journal"))
            trials = [t for t in tuner.study.trials if t.datetime_complete is not None]
        # Steady state: from the first trial's start to the last one's end (process start-up,
        # a fixed cost of a few seconds, is left out; the wall-clock rate keeps it in).
        span = (max(t.datetime_complete for t in trials) - min(t.datetime_start for t in trials)).total_seconds()
        rates[n_workers] = (len(trials) / seconds * 3600, len(trials) / span * 3600)
        print(f"{n_workers} worker(s): {len(trials)} trials in {seconds:.1f} s wall clock = "
              f"{rates[n_workers][0]:.0f} trials/hour; {rates[n_workers][1]:.0f} trials/hour once started")
    wall, steady = rates[2][0] / rates[1][0], rates[2][1] / rates[1][1]
    print(f"-> 2 workers / 1 worker = {wall:.2f}x wall clock, {steady:.2f}x once started (target >= 1.8x): "
          f"{'met' if steady >= 1.8 else 'NOT met'}")



if __name__ == "__main__":
    main()
