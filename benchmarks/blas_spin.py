"""How much of the second core NumPy's BLAS keeps busy during training of bench_cnn's CNN.

OpenBLAS's worker threads spin (busy-wait) for a while after each product before they sleep, so
with 2 BLAS threads on 2 cores the second core is taken for most of a training step even while
glassnet runs its single-threaded elementwise work; a thread of glassnet's own would have no core
to run on. This prints the CPU time of the main thread and of the other threads over training
steps: "other threads" close to the wall time means the second core was spinning. Compare with
``OPENBLAS_THREAD_TIMEOUT=4`` in the environment, which makes the workers sleep almost at once.

Run:  python benchmarks/blas_spin.py                              (2 BLAS threads, ~10 s)
      OPENBLAS_THREAD_TIMEOUT=4 python benchmarks/blas_spin.py
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "2")  # before NumPy starts

from bench_cnn import BATCH, data, glassnet_model  # noqa: E402
from machine import describe  # noqa: E402

STEPS = 10


def main():
    print(f"{describe()}; OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}, "
          f"OPENBLAS_THREAD_TIMEOUT={os.environ.get('OPENBLAS_THREAD_TIMEOUT', 'unset')}")
    x, y, _ = data(BATCH * STEPS, 1, False)
    model = glassnet_model()
    model.fit(x[:BATCH * 2], y[:BATCH * 2], batch_size=BATCH, epochs=1, verbose=0)  # warm-up
    for _ in range(3):
        wall, cpu, main_cpu = time.perf_counter(), time.process_time(), time.thread_time()
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=False)
        wall, cpu, main_cpu = time.perf_counter() - wall, time.process_time() - cpu, time.thread_time() - main_cpu
        print(f"{STEPS} training steps: wall {wall:.3f} s; CPU: main thread {main_cpu:.3f} s, "
              f"other threads (BLAS workers) {cpu - main_cpu:.3f} s = {(cpu - main_cpu) / wall:.0%} of the wall time")


if __name__ == "__main__":
    main()
