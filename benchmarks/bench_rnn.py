"""Benchmark: training steps and inference of an LSTM text classifier, glassnet against PyTorch.

The model is issue 15's: Embedding(10,000 ids, 32), LSTM(64), Dense(1) with a sigmoid and binary
cross-entropy, Adam, batch 64, sequences of 100 token ids, float32. The ids and labels are random
(uniform ids, coin-flip labels): the time of a step does not depend on what the ids mean. Each
repeat trains a fresh model for ``--steps`` batches (``model.fit`` in glassnet; a loop in
PyTorch), then predicts ``--predict`` sequences at batch 64. The frameworks alternate repeat by
repeat, each in its own process (benchmarks/contenders.py says why); medians and ratios are printed.

Peak memory: the growth of each process's peak resident set size (ru_maxrss) from when its data
and modules were loaded (before any model) to the end of its last repeat: what the models, their
training and their inference added.

Run:  python benchmarks/bench_rnn.py                 (3 repeats of 40 steps; about a minute)
      python benchmarks/bench_rnn.py --quick         (2 repeats of 10 steps)
      python benchmarks/bench_rnn.py --threads 1
      python benchmarks/bench_rnn.py --baseline /tmp/old   (adds the glassnet of another checkout, say
                                                            `git archive <commit> | tar -x -C /tmp/old`)
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics

VOCAB, EMBED, UNITS, LENGTH, BATCH = 10_000, 32, 64, 100, 64


def parse():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=40, help="training batches per repeat (default 40)")
    parser.add_argument("--predict", type=int, default=2048, help="sequences predicted per repeat (default 2048)")
    parser.add_argument("--quick", action="store_true", help="2 repeats of 10 steps, 512 predicted")
    parser.add_argument("--baseline", metavar="PATH",
                        help="also time the glassnet of the checkout at PATH (before/after side by side)")
    return parser.parse_args()


def data(steps: int, predict: int):
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.integers(0, VOCAB, (steps * BATCH, LENGTH))
    y = rng.integers(0, 2, steps * BATCH).astype(np.float32)
    return x, y, rng.integers(0, VOCAB, (predict, LENGTH))


def _peak_kib() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def glassnet_jobs(steps: int, predict: int, checkout: str | None = None) -> dict:
    if checkout:  # another checkout's glassnet, imported first (the child has imported none yet)
        import sys

        sys.path.insert(0, checkout)
    import glassnet as gn
    from glassnet import layers

    x, y, x_test = data(steps, predict)
    xf, x_testf = x.astype("float32"), x_test.astype("float32")  # as fit and predict cast them

    def build():
        model = gn.Sequential([layers.Embedding(VOCAB, EMBED, input_shape=(LENGTH,)), layers.LSTM(UNITS),
                               layers.Dense(1, activation="sigmoid")], seed=0)
        model.compile(optimizer="adam", loss="binary_crossentropy")
        return model

    state = {"start": _peak_kib()}  # before any model: the data and the modules are loaded
    warm = build()
    warm.fit(xf[:BATCH * 2], y[:BATCH * 2], batch_size=BATCH, epochs=1, verbose=0)
    warm.predict(x_testf[:BATCH], batch_size=BATCH)
    state["model"] = warm

    def train():
        # A fitted Sequential sits in a reference cycle, so the previous repeat's model (and its
        # LSTM's per-step caches, about 25 MiB) would wait for the cycle collector; collected here,
        # the figure is what one model costs, as for a user who trains one.
        state["model"] = None
        gc.collect()
        state["model"] = build()
        return state["model"].fit(xf, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=True).history["loss"][-1]

    def infer():
        state["model"].predict(x_testf, batch_size=BATCH)

    def memory():
        return _peak_kib() - state["start"]

    return {"train": train, "infer": infer, "memory": memory}


def torch_jobs(steps: int, predict: int, threads: int) -> dict:
    import torch
    from contenders import torch_epoch, torch_infer

    torch.set_num_threads(threads)
    x, y, x_test = data(steps, predict)
    xt, yt, xt_test = torch.tensor(x), torch.tensor(y), torch.tensor(x_test)

    class Classifier(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = torch.nn.Embedding(VOCAB, EMBED)
            self.lstm = torch.nn.LSTM(EMBED, UNITS, batch_first=True)
            self.dense = torch.nn.Linear(UNITS, 1)

        def forward(self, ids):
            _, (h, _) = self.lstm(self.embedding(ids))
            return self.dense(h[-1])[:, 0]  # logits; the loss applies the sigmoid

    state = {}

    def build():
        torch.manual_seed(0)
        net = Classifier()
        return net, torch.optim.Adam(net.parameters(), lr=1e-3)

    def train(n=None):
        net, opt = build()
        state["net"] = net
        loss = torch.nn.functional.binary_cross_entropy_with_logits
        return torch_epoch(net, opt, loss, xt, yt, n or xt.shape[0], BATCH)

    def infer():
        torch_infer(state["net"], xt_test, BATCH)

    state["start"] = _peak_kib()  # before any model: the data and the modules are loaded
    train(BATCH * 2)  # warm-up
    infer()

    def memory():
        return _peak_kib() - state["start"]

    return {"train": train, "infer": infer, "memory": memory}


def main():
    args = parse()
    if args.quick:
        args.repeats, args.steps, args.predict = 2, 10, 512
    os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = str(args.threads)
    from contenders import Contender, alternate
    from machine import describe

    print(f"LSTM text classifier: Embedding({VOCAB}, {EMBED}) - LSTM({UNITS}) - Dense(1, sigmoid), Adam, "
          f"batch {BATCH}, {LENGTH} random token ids per sequence, float32")
    print(f"{args.steps} training steps and {args.predict} sequences predicted per repeat")
    print(f"{describe()}; {args.threads} thread(s) each; each framework in its own process\n", flush=True)
    contenders = {"glassnet": Contender("bench_rnn", "glassnet_jobs", args.steps, args.predict),
                  "pytorch": Contender("bench_rnn", "torch_jobs", args.steps, args.predict, args.threads)}
    if args.baseline:
        contenders["baseline"] = Contender("bench_rnn", "glassnet_jobs", args.steps, args.predict,
                                           os.path.abspath(args.baseline))
        print(f"baseline: the glassnet of {os.path.abspath(args.baseline)}")
    if not contenders["pytorch"].available:
        print(f"PyTorch is not available ({contenders['pytorch'].missing}): glassnet only.")
        del contenders["pytorch"]
    times, _ = alternate(contenders, args.repeats)
    peaks = {name: contender.run("memory")[0] for name, contender in contenders.items()}
    for contender in contenders.values():
        contender.close()

    print("\n==== summary " + "=" * 66)
    print(f"{describe()}; {args.threads} thread(s); medians of {args.repeats} repeats")
    for name, t in times.items():
        train, infer = statistics.median(t["train"]), statistics.median(t["infer"])
        print(f"  {name:10s} training: {train / args.steps * 1000:7.1f} ms a step   inference: "
              f"{args.predict / infer:7.0f} sequences/s   peak memory added: {peaks[name] / 1024:.0f} MiB")
    if "pytorch" in times:
        g = times["glassnet"]
        for name in [name for name in ("baseline",) if name in times] + ["pytorch"]:
            p = times[name]
            for job, target in (("train", 1.2), ("infer", 1.0)):
                ratio = statistics.median(g[job]) / statistics.median(p[job])
                paired = statistics.median(a / b for a, b in zip(g[job], p[job]))
                print(f"  glassnet / {'PyTorch' if name == 'pytorch' else name} {job}: {ratio:.2f}x (median of per-repeat ratios {paired:.2f}x)"
                      + (f"   (target <= {target}x)" if name == "pytorch" else ""))
        print(f"  glassnet / PyTorch peak memory added: {peaks['glassnet'] / max(peaks['pytorch'], 1):.2f}x   "
              f"(target <= 1.0x)")
    print("=" * 80)


if __name__ == "__main__":
    main()
