"""Where bench_rnn.py's LSTM(64) layer spends its time: the cell's arithmetic against the products.

Times the layer alone at the benchmark's sizes (batch 64, 100 steps, 32 features in, 64 units),
on one BLAS thread: an inference forward, a training forward (which keeps every step's values
for backward) and a training forward plus backward, each split into the cell's step formulas
(``LSTM.step`` / ``step_backward``, the elementwise gate arithmetic) and the rest (the matrix
products, the time loop and its copies). The matrix products are also timed on their own, at the
same shapes. CPU time of this thread, best of ``--repeats``: on a shared machine it is steadier
than wall time, though a busy sibling core still slows it.

With ``--model glassnet`` or ``--model pytorch`` it times bench_rnn.py's whole model instead (its
training and inference jobs, 40 steps and 1,024 sequences), by the same CPU-time clock: run both
and compare, when wall times on a busy machine swing by more than the difference sought.

With ``--threads 2`` it times the layer as ``fit`` and ``predict`` run it on two threads (BLAS
held to one, the chunk products on glassnet's second thread beside the time loop): wall time and
this (the calling) thread's CPU time, against the same on one thread, in turns. The CPU time of
the calling thread is what the loop itself costs; the wall time falls to it only where a core is free.

Run:  python benchmarks/rnn_breakdown.py
      python benchmarks/rnn_breakdown.py --threads 2
      python benchmarks/rnn_breakdown.py --model glassnet; python benchmarks/rnn_breakdown.py --model pytorch
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as fit and predict hold it (glassnet/parallel.py)

import numpy as np  # noqa: E402

N, T, D, U = 64, 100, 32, 64


def best(fn, repeats: int) -> float:
    """The fewest seconds of this thread's CPU time one call of ``fn`` took."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.thread_time()
        fn()
        times.append(time.thread_time() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--model", choices=["glassnet", "pytorch"], help="time bench_rnn.py's model instead")
    parser.add_argument("--threads", type=int, choices=[1, 2], default=1,
                        help="2: the layer on one thread and on two, in turns (wall and calling-thread CPU time)")
    args = parser.parse_args()
    from machine import describe

    if args.model:
        return whole_model(args.model, args.repeats, describe())
    if args.threads == 2:
        return one_and_two_threads(args.repeats, describe())

    rng, x, grad, lstm = lstm_and_data()
    cell = {"step": 0.0, "step_backward": 0.0}

    def timed(name, method):
        def run(*args):
            start = time.thread_time()
            result = method(*args)
            cell[name] += time.thread_time() - start
            return result
        return run

    lstm.step, lstm.step_backward = timed("step", lstm.step), timed("step_backward", lstm.step_backward)

    def train():
        lstm.forward(x, training=True)
        lstm.backward(grad)

    print(f"LSTM({U}) alone, batch {N}, {T} steps, {D} features in, float32, 1 BLAS thread")
    print(f"{describe()}; thread CPU time, best of {args.repeats}\n")
    for name, fn in (("inference forward", lambda: lstm.forward(x)),
                     ("training forward", lambda: lstm.forward(x, training=True)),
                     ("training forward + backward", train)):
        runs = []  # (total, the cell's share) of each call; the quickest call is reported
        for _ in range(args.repeats + 1):
            cell["step"] = cell["step_backward"] = 0.0
            start = time.thread_time()
            fn()
            runs.append((time.thread_time() - start, dict(cell)))
        total, share = min(runs[1:], key=lambda run: run[0])  # the first call warms up
        print(f"  {name:28s} {total * 1e3:6.2f} ms; cell steps {share['step'] * 1e3:5.2f} ms, "
              f"cell step_backward {share['step_backward'] * 1e3:5.2f} ms")

    h, a = x[:, 0, :U // 2].repeat(2, axis=1), rng.standard_normal((N, 4 * U)).astype(np.float32)
    xs, g_all = x.reshape(-1, D), rng.standard_normal((N * T, 4 * U)).astype(np.float32)
    h_all = rng.standard_normal((N * T, U)).astype(np.float32)
    W, Uk = lstm.params["kernel"], lstm.params["recurrent_kernel"]
    Uk_t, W_t = np.ascontiguousarray(Uk.T), np.ascontiguousarray(W.T)
    print("\n  the products alone:")
    for name, fn, times in (("input projection, all steps (N·T, D) @ (D, 4U)", lambda: xs @ W, 1),
                            ("recurrent product h U, x T steps", lambda: h @ Uk, T),
                            ("backward's d_a Uᵀ, x T steps", lambda: a @ Uk_t, T),
                            ("dW, dU and dx after the loop", lambda: (xs.T @ g_all, h_all.T @ g_all, g_all @ W_t), 1)):
        print(f"  {name:50s} {best(fn, args.repeats) * times * 1e3:6.2f} ms")


def lstm_and_data():
    """(rng, x, the gradient from above, a built LSTM(U)): the layer alone, as under an Embedding."""
    from glassnet import layers

    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, T, D)).astype(np.float32)
    grad = rng.standard_normal((N, U)).astype(np.float32)
    lstm = layers.LSTM(U)
    lstm.build((None, T, D))
    lstm.needs_input_grad = True  # as under an Embedding: the input's gradient is computed
    return rng, x, grad, lstm


def one_and_two_threads(repeats: int, machine: str) -> None:
    import glassnet as gn
    from glassnet import parallel

    _, x, grad, lstm = lstm_and_data()

    def train():
        lstm.forward(x, training=True)
        lstm.backward(grad)

    jobs = {"inference forward": lambda: lstm.forward(x), "training forward + backward": train}
    times = {}  # (threads, job) -> [(wall, cpu)]
    for _ in range(repeats + 1):  # the first round warms up
        for threads in (1, 2):
            gn.config.set_num_threads(threads)
            with parallel.training_threads():  # BLAS is held to one thread already (OPENBLAS_NUM_THREADS)
                for name, job in jobs.items():
                    wall, cpu = time.perf_counter(), time.thread_time()
                    job()
                    times.setdefault((threads, name), []).append((time.perf_counter() - wall,
                                                                  time.thread_time() - cpu))
    gn.config.set_num_threads(None)
    print(f"LSTM({U}) alone, batch {N}, {T} steps, {D} features in, float32, BLAS held to 1 thread")
    print(f"{machine}; best of {repeats}, one and two threads in turns\n")
    for (threads, name), runs in sorted(times.items(), key=lambda item: (item[0][1], item[0][0])):
        runs = runs[1:]
        print(f"  {name:28s} {threads} thread(s): wall {min(r[0] for r in runs) * 1e3:6.2f} ms, "
              f"calling thread's CPU {min(r[1] for r in runs) * 1e3:6.2f} ms")


def whole_model(framework: str, repeats: int, machine: str) -> None:
    import bench_rnn

    steps, predict = 40, 1024
    if framework == "glassnet":
        jobs = bench_rnn.glassnet_jobs(steps, predict)
    else:
        jobs = bench_rnn.torch_jobs(steps, predict, threads=1)
    train, infer = best(jobs["train"], repeats), best(jobs["infer"], repeats)
    print(f"{machine}; 1 thread; thread CPU time, best of {repeats}")
    print(f"  {framework}: training {train / steps * 1e3:.2f} ms a step, inference "
          f"{infer / (predict / bench_rnn.BATCH) * 1e3:.2f} ms a batch of {bench_rnn.BATCH}")


if __name__ == "__main__":
    main()
