"""Benchmark: one training epoch of an MLP 784-128-128-10 in glassnet and in PyTorch.

The model is ReLU, ReLU, softmax with categorical cross-entropy, Adam, batch 128, float32,
one epoch over 60,000 samples after a warm-up epoch. Machines are shared and noisy, so the two
frameworks alternate repeat by repeat in one run, each in its own process (contenders.py says
why), and only medians and ratios taken in the same run are reported. The script also measures:

- the machine's float32 matrix-multiply speed, on the exact matrix products of one training
  epoch (the shapes this MLP uses) and on a large square product, which gives the lower bound
  "epoch FLOPs / GFLOP/s" that no NumPy implementation can beat;
- the peak memory each framework adds while training, each in its own spawned child process
  (VmHWM from /proc/self/status, reset after the data is loaded).

Run:  python benchmarks/bench_mlp.py             (5 repeats, about two minutes)
      python benchmarks/bench_mlp.py --quick     (a smoke run: 2 repeats on 12,800 samples)
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import time

import numpy as np

SIZES = (784, 128, 128, 10)
BATCH = 128
SEED = 0
FASHION_DIR = "/usr/share/datasets/fashion-mnist"


# -- data --------------------------------------------------------------------------------------
SYNTHETIC = "synthetic (uniform [0, 1) pixels, random labels; timing does not depend on the values)"


def load_data(samples: int):
    """(x float32 (N, 784) in [0, 1), labels int64 (N,), description)."""
    files = _fashion_files()
    if files is not None:
        (images, labels), opener = files
        with opener(images, "rb") as f:
            x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)
        with opener(labels, "rb") as f:
            y = np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64)
        x = (x / np.float32(255)).astype(np.float32)
        reps = -(-samples // x.shape[0])
        x, y = np.tile(x, (reps, 1))[:samples], np.tile(y, reps)[:samples]
        return np.ascontiguousarray(x), y, describe_data()
    rng = np.random.default_rng(SEED)
    x = rng.random((samples, SIZES[0]), dtype=np.float32)
    return x, rng.integers(0, SIZES[-1], samples), describe_data()


def describe_data() -> str:
    """Where load_data's samples come from, without loading them."""
    return f"Fashion-MNIST from {FASHION_DIR}" if _fashion_files() is not None else SYNTHETIC


def _fashion_files():
    """((images path, labels path), opener) of Fashion-MNIST's training idx files, or None."""
    import gzip

    for suffix, opener in (("", open), (".gz", gzip.open)):
        paths = tuple(os.path.join(FASHION_DIR, name + suffix)
                      for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"))
        if all(os.path.exists(p) for p in paths):
            return paths, opener
    return None


def one_hot(labels: np.ndarray) -> np.ndarray:
    y = np.zeros((labels.size, SIZES[-1]), dtype=np.float32)
    y[np.arange(labels.size), labels] = 1
    return y


# -- the two trainers --------------------------------------------------------------------------
class GlassnetTrainer:
    def __init__(self, x, labels):
        import glassnet as gn
        from glassnet import layers

        self.x, self.y = x, one_hot(labels)
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
        torch.manual_seed(SEED)
        self.torch = torch
        self.x, self.y = torch.from_numpy(x), torch.from_numpy(labels)
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


def glassnet_jobs(samples: int, threads: int) -> dict:
    """glassnet's jobs, built and warmed up in its own process (see contenders.py)."""
    limit_blas_threads(threads)
    import glassnet  # noqa: F401  (import time is not training time)

    x, labels, _ = load_data(samples)
    trainer, by_hand = GlassnetTrainer(x, labels), NumpyTrainer(x, labels)
    trainer.epoch()  # warm-up
    by_hand.epoch()
    matmul_epoch_seconds(samples, repeats=1)
    return {"epoch": trainer.epoch, "numpy": by_hand.epoch,
            "matmul": lambda: matmul_epoch_seconds(samples, repeats=1)}


def torch_jobs(samples: int, threads: int) -> dict:
    trainer = TorchTrainer(*load_data(samples)[:2], threads)
    trainer.epoch()
    return {"epoch": trainer.epoch}


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
        adam_update(self.P, self.G, self.m, self.v, self.tmp, self.t)


def adam_update(p, g, m, v, tmp, t: int, lr=1e-3, b1=0.9, b2=0.999, eps=1e-7) -> None:
    """Adam step ``t`` on flat float32 arrays in place (torch's formula), ``tmp`` as work space."""
    m *= b1
    m += np.multiply(g, 1 - b1, out=tmp)
    v *= b2
    np.multiply(g, g, out=tmp)
    tmp *= 1 - b2
    v += tmp
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


#: seconds of idling before each timed run (see main).
PAUSE = 0.5


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


def _memory_child(framework: str, samples: int, threads: int, queue) -> None:
    limit_blas_threads(threads)
    x, labels, _ = load_data(samples)
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


def peak_memory_mib(framework: str, samples: int, threads: int = 2) -> tuple[float, float]:
    """(peak RSS increase during two epochs, RSS before training) in MiB, in a fresh process."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_memory_child, args=(framework, samples, threads, queue))
    proc.start()
    before, peak = queue.get()
    proc.join()
    return (peak - before) / 1024, before / 1024


# -- main --------------------------------------------------------------------------------------
def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed epochs per framework (default 5)")
    parser.add_argument("--samples", type=int, default=60_000, help="samples per epoch (default 60000)")
    parser.add_argument("--quick", action="store_true", help="2 repeats on 12,800 samples, a smoke run")
    parser.add_argument("--threads", type=int, default=2,
                        help="threads for NumPy's BLAS and for PyTorch (default 2; 1 is steadier on a busy machine)")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory child processes")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.samples = 2, 12_800

    from contenders import Contender

    limit_blas_threads(args.threads)  # for the square product measured here, in the parent
    source = describe_data()  # the children load the data; the parent only says what it is
    print(f"MLP {'-'.join(map(str, SIZES))}, ReLU, softmax + CCE, Adam, batch {BATCH}, float32")
    print(f"data: {args.samples} samples, {source}")
    print(f"machine: {os.cpu_count()} CPUs, numpy {np.__version__}; {args.threads} thread(s) each; "
          f"load average {os.getloadavg()[0]:.2f}; each framework in its own process\n")

    # Each framework trains in its own process (benchmarks/contenders.py says why); the matrix
    # products alone, the third contender, run in glassnet's, under the same BLAS settings.
    children = {"glassnet": Contender("bench_mlp", "glassnet_jobs", args.samples, args.threads),
                "torch": Contender("bench_mlp", "torch_jobs", args.samples, args.threads)}
    if not children["torch"].available:
        print(f"PyTorch is not available ({children['torch'].missing}): timing glassnet alone.\n")
        del children["torch"]
    contenders = {name: (child, "epoch") for name, child in children.items()}
    contenders["numpy"] = (children["glassnet"], "numpy")  # the step by hand, no framework
    contenders["matmul"] = (children["glassnet"], "matmul")
    times = {name: [] for name in contenders}
    for r in range(args.repeats):
        # Rotate who goes first, so no one always follows the same neighbour.
        names = list(contenders)[r % len(contenders):] + list(contenders)[:r % len(contenders)]
        line = []
        for name in names:
            # Idle first: PyTorch's OpenMP threads and OpenBLAS' threads keep spinning for a
            # while after their last product and would steal the cores from whoever runs next
            # (measured: glassnet 0.59 s alone, 0.70 s right after a PyTorch epoch).
            time.sleep(PAUSE)
            child, job = contenders[name]
            result, seconds = child.run(job)
            times[name].append(seconds if name != "matmul" else result)
            line.append(f"{name} {times[name][-1]:.3f} s" + (f" (loss {result:.4f})" if name != "matmul" else ""))
        print(f"repeat {r + 1}/{args.repeats}: " + ", ".join(line), flush=True)
    for child in children.values():
        child.close()
    trainers = children

    med = {name: statistics.median(t) for name, t in times.items()}
    flops = epoch_flops(args.samples)
    mm_seconds = med["matmul"]
    mm_gflops = flops / mm_seconds / 1e9
    sq_gflops = square_gflops()
    sq_seconds = flops / (sq_gflops * 1e9)

    memory = {}
    if not args.no_memory:
        for name in trainers:
            memory[name] = peak_memory_mib(name, args.samples, args.threads)

    g = med["glassnet"]
    print("\n==== summary " + "=" * 66)
    print(f"epoch of {args.samples} samples, median of {args.repeats} alternating repeats, "
          f"{args.threads} thread(s):")
    print(f"  glassnet  {g:.3f} s   (min {min(times['glassnet']):.3f}, max {max(times['glassnet']):.3f})")
    if "torch" in med:
        t = med["torch"]
        print(f"  PyTorch   {t:.3f} s   (min {min(times['torch']):.3f}, max {max(times['torch']):.3f})")
        print(f"  glassnet / PyTorch = {g / t:.2f}x   (target <= 0.8x)")
    hand = med["numpy"]
    print(f"  NumPy by hand (the same step, no framework): {hand:.3f} s; glassnet / by hand = {g / hand:.2f}x")
    print(f"matrix products of one epoch: {flops / 1e9:.2f} GFLOP")
    print(f"  at the MLP's shapes (median of the repeats): {mm_gflops:.1f} GFLOP/s -> bound {mm_seconds:.3f} s; "
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
