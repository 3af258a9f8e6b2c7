"""What a figure was measured on: the CPU model, the load average and how fast the BLAS runs right
now, printed beside it."""

from __future__ import annotations

import os
import time

from glassnet.utils import cpu_model


def load_average() -> str:
    """The 1, 5 and 15-minute load averages ("n/a" where the OS has none)."""
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except (OSError, AttributeError):
        return "n/a"


def blas_probe(repeats: int = 100) -> str:
    """The median time of bench_mlp's first-layer product, (128, 784) @ (784, 128) float32, on
    this process's BLAS threads.

    A shared VM has slow phases: on the 2-core development VM this product takes about 156 us on
    two threads when both cores are free and 245-275 us when the host takes the second one, and
    whole epochs of every framework then run up to 1.8x longer. The figure says which phase a run
    was in (ratios taken in one alternating run stay comparable either way).
    """
    import numpy as np

    rng = np.random.default_rng(0)
    a, b = rng.random((128, 784), dtype=np.float32), rng.random((784, 128), dtype=np.float32)
    times = []
    for _ in range(repeats + 10):
        start = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - start)
    return f"a (128, 784) @ (784, 128) product: {sorted(times[10:])[repeats // 2] * 1e6:.0f} us"


def describe() -> str:
    return f"CPU: {cpu_model()} ({os.cpu_count()} logical cores); load average {load_average()}; {blas_probe()}"
