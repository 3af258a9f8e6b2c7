"""Benchmark: one full real training epoch and inference of a small CNN, glassnet against PyTorch.

The model is the issue's: input 28x28x1, Conv2D 32 3x3 ReLU, MaxPool 2, Conv2D 64 3x3 ReLU,
MaxPool 2, Flatten, Dense 128 ReLU, Dense 10 softmax with cross-entropy, Adam, batch 128,
float32. Each repeat trains a fresh model for one shuffled epoch of the 60,000 training images
(``model.fit`` in glassnet; a ``randperm`` loop in PyTorch), then predicts the 10,000 test
images in batches of 512. The data is MNIST when its files are on the machine, else
Fashion-MNIST (the same shapes; the output says which), else random pixels (``--synthetic``
forces those). The frameworks alternate repeat by repeat in one run, each in its own process
(benchmarks/contenders.py says why), and medians and ratios are printed.

BLAS threads: ``--threads`` sets PyTorch's intra-op threads and OpenBLAS' threads for NumPy
(through the environment, before NumPy starts). On a busy shared machine, use 1: OpenBLAS
threads that wait for a descheduled sibling spin and can make a 2 ms product take a second.

Run:  python benchmarks/bench_cnn.py                (3 repeats of a full epoch; ~3 minutes)
      python benchmarks/bench_cnn.py --quick        (6,400 images, 2,048 predicted; < 1 minute)
      python benchmarks/bench_cnn.py --threads 1 --repeats 5
      python benchmarks/bench_cnn.py --compare-keep-memory   (adds glassnet with
          gn.config.set_keep_freed_memory(False) as a third contender: what it is worth)
"""

from __future__ import annotations

import argparse
import os
import statistics

BATCH, INFER_BATCH = 128, 512
ONE = "glassnet, 1 own thread"  # the --compare-one-thread contender


def parse():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="fresh models trained for one epoch (default 3)")
    parser.add_argument("--samples", type=int, default=60_000, help="training images per epoch (default 60000)")
    parser.add_argument("--predict", type=int, default=10_000, help="test images predicted (default 10000)")
    parser.add_argument("--quick", action="store_true", help="6,400 training images, 2,048 predicted, 2 repeats")
    parser.add_argument("--synthetic", action="store_true", help="random pixels and labels instead of real images")
    parser.add_argument("--compare-keep-memory", action="store_true",
                        help="add glassnet with gn.config.set_keep_freed_memory(False) as a contender")
    parser.add_argument("--compare-one-thread", action="store_true",
                        help="add glassnet with gn.config.set_num_threads(1) as a contender: BLAS keeps its "
                             "threads for the products, glassnet's other work runs on one (as before issue 13)")
    return parser.parse_args()


def data(samples: int, predict: int, synthetic: bool):
    import real_data

    x, y, _ = real_data.images("mnist", "train", synthetic, samples)
    x_test, _, _ = real_data.images("mnist", "test", synthetic, predict)
    return x, y, x_test


def glassnet_model():
    """The issue's CNN in glassnet, compiled."""
    import glassnet as gn
    from glassnet import layers

    model = gn.Sequential([
        layers.Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)), layers.MaxPooling2D(),
        layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(), layers.Flatten(),
        layers.Dense(128, activation="relu"), layers.Dense(10, activation="softmax"),
    ], seed=0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def glassnet_jobs(samples: int, predict: int, synthetic: bool, keep_memory: bool = True,
                  own_threads: int | None = None) -> dict:
    """Built in glassnet's own process (see contenders.py); warmed up on a model of its own."""
    import glassnet as gn

    gn.config.set_keep_freed_memory(keep_memory)
    gn.config.set_num_threads(own_threads)
    x, y, x_test = data(samples, predict, synthetic)
    build = glassnet_model
    model = build()
    warm = build()
    warm.fit(x[:BATCH * 4], y[:BATCH * 4], batch_size=BATCH, epochs=1, verbose=0)
    warm.predict(x_test[:INFER_BATCH], batch_size=INFER_BATCH)

    def train():
        nonlocal model
        model = build()
        return model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=True).history["loss"][-1]

    def infer():
        model.predict(x_test, batch_size=INFER_BATCH)

    return {"train": train, "infer": infer}


def torch_jobs(samples: int, predict: int, synthetic: bool, threads: int) -> dict:
    import torch
    from contenders import torch_epoch, torch_infer

    x, y, x_test = data(samples, predict, synthetic)
    torch.set_num_threads(threads)
    xt = torch.tensor(x.transpose(0, 3, 1, 2).copy())  # torch wants NCHW
    yt = torch.tensor(y)
    xt_test = torch.tensor(x_test.transpose(0, 3, 1, 2).copy())
    state = {}

    def build():
        torch.manual_seed(0)
        net = torch.nn.Sequential(
            torch.nn.Conv2d(1, 32, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(32, 64, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
            torch.nn.Linear(1600, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
        return net, torch.optim.Adam(net.parameters(), lr=1e-3)

    def train(n=None):
        net, opt = state["net"], state["opt"] = build()
        return torch_epoch(net, opt, torch.nn.functional.cross_entropy, xt, yt, n or xt.shape[0], BATCH)

    def infer():
        torch_infer(state["net"], xt_test, INFER_BATCH)

    train(BATCH * 4)  # warm-up
    infer()
    return {"train": train, "infer": infer}


def main():
    args = parse()
    if args.quick:
        args.samples, args.predict, args.repeats = 6_400, 2_048, 2
    # Set before the children start NumPy or torch: they inherit the environment.
    os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = str(args.threads)
    import real_data
    from contenders import Contender, alternate
    from machine import describe

    print("CNN Conv2D(32)-MaxPool-Conv2D(64)-MaxPool-Dense(128)-Dense(10), Adam, batch 128, float32")
    print(f"data: {args.samples} training images per epoch, {args.predict} predicted at batch {INFER_BATCH}; "
          f"{real_data.describe('mnist', args.synthetic)}")
    print(f"{describe()}; {args.threads} thread(s) each; each framework in its own process\n", flush=True)
    common = (args.samples, args.predict, args.synthetic)
    contenders = {"glassnet": Contender("bench_cnn", "glassnet_jobs", *common),
                  "pytorch": Contender("bench_cnn", "torch_jobs", *common, args.threads)}
    if args.compare_keep_memory:
        contenders["glassnet, keep memory off"] = Contender("bench_cnn", "glassnet_jobs", *common, False)
    if args.compare_one_thread:
        contenders[ONE] = Contender("bench_cnn", "glassnet_jobs", *common, True, 1)
    if not contenders["pytorch"].available:
        print(f"PyTorch is not available ({contenders['pytorch'].missing}): glassnet only.")
        del contenders["pytorch"]
    times, faults = alternate(contenders, args.repeats)
    for contender in contenders.values():
        contender.close()

    print("\n==== summary " + "=" * 66)
    print(f"{describe()}; {args.threads} thread(s); medians of {args.repeats} repeats")
    for name, t in times.items():
        train, infer = statistics.median(t["train"]), statistics.median(t["infer"])
        steps = -(-args.samples // BATCH)
        print(f"  {name:26s} epoch of {args.samples} images: {train:6.2f} s ({train / steps * 1000:.1f} ms a step)   "
              f"inference: {args.predict / infer:7.0f} images/s")
        print(f"  {'':26s} page faults: {statistics.median(faults[name]['train']) / steps:.0f} a training step, "
              f"{statistics.median(faults[name]['infer']):.0f} for the inference")
    if "pytorch" in times:
        g, p = times["glassnet"], times["pytorch"]
        train_ratio = statistics.median(g["train"]) / statistics.median(p["train"])
        infer_ratio = statistics.median(g["infer"]) / statistics.median(p["infer"])
        # The two frameworks of one repeat ran seconds apart, under nearly the same load.
        paired = statistics.median(a / b for a, b in zip(g["train"], p["train"]))
        print(f"  glassnet / PyTorch: training {train_ratio:.2f}x (median of per-repeat ratios {paired:.2f}x)   "
              f"(target <= 1.0x)")
        print(f"  glassnet / PyTorch: inference time {infer_ratio:.2f}x   (target <= 1.0x)")
    off = "glassnet, keep memory off"
    if off in times:
        for job in ("train", "infer"):
            ratio = statistics.median(a / b for a, b in zip(times["glassnet"][job], times[off][job]))
            print(f"  keeping freed memory (glassnet/models/memory.py), {job}: glassnet with it / without it = "
                  f"{ratio:.2f}x (median of per-repeat ratios)")
    if ONE in times:
        for job in ("train", "infer"):
            ratio = statistics.median(a / b for a, b in zip(times["glassnet"][job], times[ONE][job]))
            print(f"  glassnet's own threads, BLAS on one (glassnet/parallel.py), {job}: glassnet with them / "
                  f"with one own thread = {ratio:.2f}x (median of per-repeat ratios)")
    print("=" * 80)


if __name__ == "__main__":
    main()
