"""Benchmark: six real training epochs of an MLP 784-128-128-10 in glassnet and in PyTorch.

The model is ReLU, ReLU, softmax with categorical cross-entropy, Adam, batch 128, float32,
trained from scratch for six shuffled epochs of Fashion-MNIST's 60,000 training images (the
Debian files in /usr/share/datasets/fashion-mnist; random pixels with ``--synthetic`` or when
the files are missing). Every epoch is timed, so a slowdown as training goes on shows: the
target compares epochs 4-6 with epochs 1-2. Machines are shared and noisy, so the frameworks
alternate epoch by epoch in one run, each in its own process (contenders.py says why), and
only medians and ratios taken in the same run are reported. Then it measures:

- the machine's float32 matrix-multiply speed, on the exact matrix products of one training
  epoch (the shapes this MLP uses) and on a large square product, which gives the lower bound
  "epoch FLOPs / GFLOP/s" that no NumPy implementation can beat, and the same step written
  by hand in NumPy with no framework;
- the peak memory each framework adds while training, each in its own spawned child process
  (VmHWM from /proc/self/status, reset after the data is loaded).

Run:  python benchmarks/bench_mlp.py             (3 runs of 6 epochs, then the bound; ~2 minutes)
      python benchmarks/bench_mlp.py --quick     (1 run of 6 epochs of 10,000 images; < 1 minute)
      python benchmarks/bench_mlp.py --compare-keep-memory   (adds glassnet with
          gn.config.set_keep_freed_memory(False) as a third contender: what it is worth)
      python benchmarks/bench_mlp.py --compare-own-threads   (adds glassnet with BLAS held to one
          thread and the products split over glassnet's own threads, as for a CNN)
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import sys
import time

import numpy as np
import real_data
from machine import describe

SIZES = (784, 128, 128, 10)
BATCH = 128
SEED = 0
EPOCHS = 6


# -- data --------------------------------------------------------------------------------------
def load_data(samples: int, synthetic: bool = False):
    """(x float32 (N, 784) in [0, 1], labels int64 (N,), description)."""
    x, labels, what = real_data.images("fashion_mnist", "train", synthetic, samples)
    return x.reshape(-1, SIZES[0]), labels, what


def one_hot(labels: np.ndarray) -> np.ndarray:
    y = np.zeros((labels.size, SIZES[-1]), dtype=np.float32)
    y[np.arange(labels.size), labels] = 1
    return y


# -- the two trainers --------------------------------------------------------------------------
class GlassnetTrainer:
    def __init__(self, x, labels):
        self.x, self.y = x, one_hot(labels)
        self.new_model()

    def new_model(self) -> None:
        import glassnet as gn
        from glassnet import layers

        self.model = gn.Sequential([
            layers.Dense(SIZES[1], activation="relu", input_shape=(SIZES[0],)),
            layers.Dense(SIZES[2], activation="relu"),
            layers.Dense(SIZES[3], activation="softmax"),
        ], seed=SEED)
        self.model.compile(optimizer=gn.optimizers.Adam(learning_rate=1e-3),
                           loss="categorical_crossentropy")

    def epoch(self) -> float:
        history = self.model.fit(self.x, self.y, batch_size=BATCH, epochs=1, verbose=0, shuffle=True)
        return history.history["loss"][-1]


class TorchTrainer:
    def __init__(self, x, labels, threads: int = 2):
        import torch
        from torch import nn

        torch.set_num_threads(threads)
        self.torch, self.nn = torch, nn
        self.x, self.y = torch.from_numpy(x), torch.from_numpy(labels)
        self.new_model()

    def new_model(self) -> None:
        torch, nn = self.torch, self.nn
        torch.manual_seed(SEED)
        self.model = nn.Sequential(nn.Linear(SIZES[0], SIZES[1]), nn.ReLU(),
                                   nn.Linear(SIZES[1], SIZES[2]), nn.ReLU(),
                                   nn.Linear(SIZES[2], SIZES[3]))
        self.loss_fn = nn.CrossEntropyLoss()  # log-softmax + NLL: the fused softmax-CE
        self.opt = torch.optim.Adam(self.model.parameters(), lr=1e-3, eps=1e-7)
        self.gen = torch.Generator().manual_seed(SEED)

    def epoch(self) -> float:
        torch, n = self.torch, self.x.shape[0]
        order = torch.randperm(n, generator=self.gen)
        total = 0.0
        for start in range(0, n, BATCH):
            idx = order[start:start + BATCH]
            xb, yb = self.x[idx], self.y[idx]
            self.opt.zero_grad(set_to_none=True)
            loss = self.loss_fn(self.model(xb), yb)
            loss.backward()
            self.opt.step()
            total += loss.item() * idx.shape[0]
        return total / n


def glassnet_jobs(samples: int, threads: int, synthetic: bool, keep_memory: bool = True,
                  own_threads: bool = False) -> dict:
    """glassnet's jobs, built and warmed up in its own process (see contenders.py). With
    ``own_threads``, Dense claims large elementwise work as a convolution does, so fit holds BLAS
    to one thread and splits the products over glassnet's threads (glassnet/parallel.py), which
    it does not do for dense layers alone."""
    limit_blas_threads(threads)
    import glassnet as gn

    gn.layers.Dense.splits_batch_work = own_threads

    gn.config.set_keep_freed_memory(keep_memory)
    x, labels, _ = load_data(samples, synthetic)
    trainer, by_hand = GlassnetTrainer(x, labels), NumpyTrainer(x, labels)
    GlassnetTrainer(x[:BATCH * 20], labels[:BATCH * 20]).epoch()  # warm-up, on a model of its own
    by_hand.epoch()
    matmul_epoch_seconds(samples, repeats=1)
    return {"new_model": trainer.new_model, "epoch": trainer.epoch, "numpy": by_hand.epoch,
            "matmul": lambda: matmul_epoch_seconds(samples, repeats=1)}


def torch_jobs(samples: int, threads: int, synthetic: bool) -> dict:
    x, labels, _ = load_data(samples, synthetic)
    TorchTrainer(x[:BATCH * 20], labels[:BATCH * 20], threads).epoch()  # warm-up
    trainer = TorchTrainer(x, labels, threads)
    return {"new_model": trainer.new_model, "epoch": trainer.epoch}


class NumpyTrainer:
    """The same training step written out by hand in NumPy, no framework: what is left of
    glassnet's epoch over this one is framework overhead (layers, loss objects, callbacks, the
    input check); what is left of this one over the matrix products is NumPy's elementwise work.
    It does what glassnet does: one flat Adam over all parameters, ReLU masks, fused softmax +
    cross-entropy, bias gradients as 1ᵀg products."""

    def __init__(self, x, labels):
        self.x, self.y = x, one_hot(labels)
        self.rng = np.random.default_rng(SEED)
        pairs = list(zip(SIZES[:-1], SIZES[1:]))
        n = sum(d * u + u for d, u in pairs)
        f32 = np.float32
        self.P, self.G = np.zeros(n, f32), np.zeros(n, f32)
        self.m, self.v, self.tmp = np.zeros(n, f32), np.zeros(n, f32), np.empty(n, f32)
        self.mask = np.empty(n, bool)
        self.W, self.b, self.dW, self.db = [], [], [], []
        start = 0
        for d, u in pairs:
            limit = np.sqrt(6 / (d + u))  # glorot_uniform, as glassnet's Dense
            self.P[start:start + d * u] = self.rng.uniform(-limit, limit, d * u)
            self.W.append(self.P[start:start + d * u].reshape(d, u))
            self.dW.append(self.G[start:start + d * u].reshape(d, u))
            start += d * u
            self.b.append(self.P[start:start + u])
            self.db.append(self.G[start:start + u])
            start += u
        self.t = 0

    def epoch(self) -> float:
        n = self.x.shape[0]
        order = self.rng.permutation(n)
        total = 0.0
        W, b, dW, db = self.W, self.b, self.dW, self.db
        for start in range(0, n, BATCH):
            idx = order[start:start + BATCH]
            xb, yb = self.x[idx], self.y[idx]
            ones = np.ones(xb.shape[0], np.float32)
            z1 = xb @ W[0]
            z1 += b[0]
            m1 = z1 > 0
            a1 = np.maximum(z1, 0)
            z2 = a1 @ W[1]
            z2 += b[1]
            m2 = z2 > 0
            a2 = np.maximum(z2, 0)
            z3 = a2 @ W[2]
            z3 += b[2]
            shifted = z3 - z3.max(axis=1, keepdims=True)
            e = np.exp(shifted)
            s = e.sum(axis=1, keepdims=True)
            total -= float((yb * (shifted - np.log(s))).sum())
            g = e / s
            g -= yb
            g *= np.float32(1 / xb.shape[0])
            np.matmul(a2.T, g, out=dW[2])
            np.matmul(ones, g, out=db[2])
            g = g @ W[2].T
            g *= m2
            np.matmul(a1.T, g, out=dW[1])
            np.matmul(ones, g, out=db[1])
            g = g @ W[1].T
            g *= m1
            np.matmul(xb.T, g, out=dW[0])
            np.matmul(ones, g, out=db[0])
            self._adam()
        return total / n

    def _adam(self):
        self.t += 1
        adam_update(self.P, self.G, self.m, self.v, self.tmp, self.t, self.mask)


def adam_update(p, g, m, v, tmp, t: int, mask=None, lr=1e-3, b1=0.9, b2=0.999, eps=1e-7) -> None:
    """Adam step ``t`` on flat float32 arrays in place (torch's formula), ``tmp`` as work space.
    With a bool ``mask`` to work in, m and v are flushed below the smallest normal float, as
    glassnet flushes them (glassnet/numerics.py)."""
    tiny = np.finfo(m.dtype).tiny
    m *= b1
    m += np.multiply(g, 1 - b1, out=tmp)
    if mask is not None:
        np.greater_equal(np.abs(m, out=tmp), tiny, out=mask)
        np.multiply(m, mask, out=m)
    v *= b2
    np.multiply(g, g, out=tmp)
    tmp *= 1 - b2
    v += tmp
    if mask is not None:
        np.multiply(v, np.greater_equal(v, tiny, out=mask), out=v)
    c = np.sqrt(1 - b2 ** t)
    update = np.sqrt(v, out=tmp)
    update += eps * c
    np.divide(m, update, out=update)
    update *= lr * c / (1 - b1 ** t)
    p -= update


# -- the matrix-multiply bound -----------------------------------------------------------------
def epoch_flops(samples: int) -> int:
    """Multiply-adds x2 of the matrix products in one epoch: forward, dW, and dx except layer 1."""
    per_sample = 0
    for i, (d, u) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        per_sample += 2 * d * u  # forward  (N, D) @ (D, U)
        per_sample += 2 * d * u  # dW = xᵀ g (D, N) @ (N, U)
        if i > 0:
            per_sample += 2 * d * u  # dx = g Wᵀ (N, U) @ (U, D); not needed for the data
    return per_sample * samples


def matmul_epoch_seconds(samples: int, repeats: int = 3) -> float:
    """Best time of the matrix products of one epoch alone, float32, preallocated outputs."""
    rng = np.random.default_rng(1)
    f32 = np.float32
    xs = [rng.random((BATCH, d), dtype=f32) for d in SIZES[:-1]]
    ws = [rng.random((d, u), dtype=f32) for d, u in zip(SIZES[:-1], SIZES[1:])]
    gs = [rng.random((BATCH, u), dtype=f32) for u in SIZES[1:]]
    zs = [np.empty((BATCH, u), f32) for u in SIZES[1:]]
    dws = [np.empty_like(w) for w in ws]
    dxs = [np.empty_like(x) for x in xs]
    steps = samples // BATCH
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            for x, w, z in zip(xs, ws, zs):
                np.matmul(x, w, out=z)
            for i in range(len(ws) - 1, -1, -1):
                np.matmul(xs[i].T, gs[i], out=dws[i])
                if i > 0:
                    np.matmul(gs[i], ws[i].T, out=dxs[i])
        best = min(best, time.perf_counter() - start)
    return best * samples / (steps * BATCH)


def square_gflops(size: int = 2048, repeats: int = 5) -> float:
    rng = np.random.default_rng(2)
    a, b = rng.random((size, size), dtype=np.float32), rng.random((size, size), dtype=np.float32)
    out = np.empty_like(a)
    np.matmul(a, b, out=out)
    best = min(_timed(lambda: np.matmul(a, b, out=out)) for _ in range(repeats))
    return 2 * size**3 / best / 1e9


from contenders import PAUSE  # seconds of idling before each timed run (see main)


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


# -- peak memory, one child process per framework ----------------------------------------------
def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def limit_blas_threads(threads: int) -> None:
    """Give NumPy's BLAS ``threads`` threads (threadpoolctl), as torch.set_num_threads does."""
    try:
        from threadpoolctl import threadpool_limits  # installed with scikit-learn
    except ImportError:
        print("threadpoolctl is not installed: NumPy's BLAS keeps its default thread count.")
        return
    threadpool_limits(threads, user_api="blas")


def _memory_child(framework: str, samples: int, threads: int, synthetic: bool, queue) -> None:
    limit_blas_threads(threads)
    x, labels, _ = load_data(samples, synthetic)
    trainer = GlassnetTrainer(x, labels) if framework == "glassnet" else TorchTrainer(x, labels, threads)
    # Writing 5 to clear_refs resets VmHWM (Linux >= 4.0), so the peak counts training only.
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    before = _status_kib("VmRSS")
    trainer.epoch()  # the warm-up epoch, as in the timing runs
    trainer.epoch()
    queue.put((before, _status_kib("VmHWM")))


def peak_memory_mib(framework: str, samples: int, threads: int = 2, synthetic: bool = False) -> tuple[float, float]:
    """(peak RSS increase during two epochs, RSS before training) in MiB, in a fresh process."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_memory_child, args=(framework, samples, threads, synthetic, queue))
    proc.start()
    before, peak = queue.get()
    proc.join()
    return (peak - before) / 1024, before / 1024


# -- main --------------------------------------------------------------------------------------
def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of 6 epochs from scratch (default 3)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="alternating repeats of the by-hand step and the matrix-product bound (default 3)")
    parser.add_argument("--samples", type=int, default=60_000, help="samples per epoch (default 60000)")
    parser.add_argument("--quick", action="store_true",
                        help="one run of 6 epochs of 10,000 samples, no bound, no memory: under a minute")
    parser.add_argument("--synthetic", action="store_true", help="random pixels and labels instead of Fashion-MNIST")
    parser.add_argument("--compare-own-threads", action="store_true",
                        help="add glassnet with BLAS on one thread and its products on glassnet's threads")
    parser.add_argument("--compare-keep-memory", action="store_true",
                        help="add glassnet with gn.config.set_keep_freed_memory(False) as a contender")
    parser.add_argument("--threads", type=int, default=2,
                        help="threads for NumPy's BLAS and for PyTorch (default 2; 1 is steadier on a busy machine)")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory child processes")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.repeats, args.samples, args.no_memory = 1, 0, 10_000, True

    from contenders import Contender

    limit_blas_threads(args.threads)  # for the square product measured here, in the parent
    print(f"MLP {'-'.join(map(str, SIZES))}, ReLU, softmax + CCE, Adam, batch {BATCH}, float32, "
          f"{EPOCHS} epochs from scratch per run")
    print(f"data: {args.samples} samples per epoch, {real_data.describe('fashion_mnist', args.synthetic)}")
    print(f"{describe()}; numpy {np.__version__}; {args.threads} thread(s) each; "
          f"each framework in its own process\n", flush=True)

    # Each framework trains in its own process (benchmarks/contenders.py says why); the matrix
    # products alone and the step by hand run in glassnet's, under the same BLAS settings.
    common = (args.samples, args.threads, args.synthetic)
    children = {"glassnet": Contender("bench_mlp", "glassnet_jobs", *common),
                "torch": Contender("bench_mlp", "torch_jobs", *common)}
    if args.compare_own_threads:
        children["glassnet, own threads"] = Contender("bench_mlp", "glassnet_jobs", *common, True, True)
    if args.compare_keep_memory:
        children["glassnet, keep memory off"] = Contender("bench_mlp", "glassnet_jobs", *common, False)
    if not children["torch"].available:
        print(f"PyTorch is not available ({children['torch'].missing}): timing glassnet alone.\n")
        del children["torch"]

    epochs = {name: [] for name in children}  # name -> one list of epoch times per run
    for run in range(args.runs):
        for name, child in children.items():
            child.run("new_model")
            epochs[name].append([])
        for e in range(EPOCHS):
            turn = run * EPOCHS + e  # rotate who goes first, so no one always follows the same neighbour
            names = list(children)[turn % len(children):] + list(children)[:turn % len(children)]
            line = []
            for name in names:
                # Idle first: PyTorch's OpenMP threads and OpenBLAS' threads keep spinning for a
                # while after their last product and would steal the cores from whoever runs next.
                time.sleep(PAUSE)
                loss, seconds = children[name].run("epoch")
                epochs[name][-1].append(seconds)
                line.append(f"{name} {seconds:.3f} s (loss {loss:.4f})")
            print(f"run {run + 1}/{args.runs}, epoch {e + 1}: " + ", ".join(line), flush=True)

    extras = {"glassnet": [], "numpy": [], "matmul": []}
    for r in range(args.repeats):
        for name in list(extras)[r % 3:] + list(extras)[:r % 3]:
            time.sleep(PAUSE)
            result, seconds = children["glassnet"].run("epoch" if name == "glassnet" else name)
            extras[name].append(result if name == "matmul" else seconds)
        print(f"bound, repeat {r + 1}/{args.repeats}: " + ", ".join(f"{k} {v[-1]:.3f} s" for k, v in extras.items()),
              flush=True)
    for child in children.values():
        child.close()
    memory = {}
    if not args.no_memory:
        for name in ("glassnet", "torch"):
            if name in children:
                memory[name] = peak_memory_mib(name, args.samples, args.threads, args.synthetic)

    print("\n==== summary " + "=" * 66)
    print(f"{describe()}; {args.threads} thread(s)")
    print(f"seconds per epoch, median of {args.runs} run(s) of {EPOCHS} epochs from scratch, "
          f"{args.samples} samples, frameworks alternating epoch by epoch:")
    med = {}
    for name, runs in epochs.items():
        med[name] = [statistics.median(r[e] for r in runs) for e in range(EPOCHS)]
        total = statistics.median(sum(r) for r in runs)
        late_early = statistics.mean(med[name][3:6]) / statistics.mean(med[name][0:2])
        print(f"  {name:<26} " + " ".join(f"{t:.3f}" for t in med[name]) +
              f"   total {total:.2f} s   epochs 4-6 / epochs 1-2 = {late_early:.2f}x")
    g_total = statistics.median(sum(r) for r in epochs["glassnet"])
    g_late = statistics.mean(med["glassnet"][3:6]) / statistics.mean(med["glassnet"][0:2])
    if "torch" in epochs:
        t_total = statistics.median(sum(r) for r in epochs["torch"])
        paired = statistics.median(sum(a) / sum(b) for a, b in zip(epochs["glassnet"], epochs["torch"]))
        print(f"  glassnet / PyTorch over {EPOCHS} epochs = {g_total / t_total:.2f}x (median of per-run ratios "
              f"{paired:.2f}x)   (target <= 0.7x)")
    print(f"  glassnet epochs 4-6 / epochs 1-2 = {g_late:.2f}x   (target <= 1.1x)")
    off = "glassnet, keep memory off"
    if off in epochs:
        ratio = statistics.median(sum(a) / sum(b) for a, b in zip(epochs["glassnet"], epochs[off]))
        print(f"  keeping freed memory (glassnet/models/memory.py): glassnet with it / without it = {ratio:.2f}x "
              f"(median of per-run ratios)")
    own = "glassnet, own threads"
    if own in epochs:
        ratio = statistics.median(sum(a) / sum(b) for a, b in zip(epochs[own], epochs["glassnet"]))
        print(f"  BLAS on one thread, products on glassnet's threads: glassnet with them / with BLAS's threads = "
              f"{ratio:.2f}x (median of per-run ratios)")
    if args.repeats:
        g, hand, mm_seconds = (statistics.median(extras[k]) for k in ("glassnet", "numpy", "matmul"))
        flops = epoch_flops(args.samples)
        sq_gflops = square_gflops()
        sq_seconds = flops / (sq_gflops * 1e9)
        print(f"one more epoch each, median of {args.repeats} alternating repeats: glassnet {g:.3f} s, "
              f"NumPy by hand (the same step, no framework) {hand:.3f} s; glassnet / by hand = {g / hand:.2f}x")
        print(f"matrix products of one epoch: {flops / 1e9:.2f} GFLOP")
        print(f"  at the MLP's shapes: {flops / mm_seconds / 1e9:.1f} GFLOP/s -> bound {mm_seconds:.3f} s; "
              f"glassnet / bound = {g / mm_seconds:.2f}x   (target <= 2x); by hand / bound = {hand / mm_seconds:.2f}x")
        print(f"  large square 2048^3 (best of 5, after): {sq_gflops:.1f} GFLOP/s -> bound {sq_seconds:.3f} s; "
              f"glassnet / bound = {g / sq_seconds:.2f}x")
    if memory:
        print("peak RSS added by training (own process, data loaded before):")
        for name, (peak, base) in memory.items():
            print(f"  {name:<9} +{peak:.1f} MiB   (RSS before training {base:.0f} MiB)")
        if "torch" in memory:
            gm, tm = memory["glassnet"][0], memory["torch"][0]
            print(f"  glassnet / PyTorch = {gm / tm:.2f}x   (target <= 1x)" if tm > 0 else
                  "  PyTorch added nothing measurable")
    print("=" * 80)


if __name__ == "__main__":
    sys.exit(main())
