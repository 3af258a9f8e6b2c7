"""Elementwise work split along the batch axis over as many threads as NumPy's BLAS uses.

BLAS runs glassnet's matrix products on every thread it has; the copies and elementwise passes
around them (im2col, col2im, pooling, ReLU) would otherwise run on one. NumPy releases the GIL
in ufuncs and copies of large arrays, so threads over batch slices really run side by side, and
each sample's values are computed by the same operations whatever the split: results are
bit-for-bit those of one thread. Reductions over the batch (dW, db) must not go through here.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

#: below this many bytes in the output, one thread does the whole call: handing a slice to
#: another thread costs tens of microseconds, more than an elementwise pass over 256 KiB.
MIN_BYTES = 1 << 18

_num_threads: int | None = None  # None: follow NumPy's BLAS (threadpoolctl)
_blas = None  # threadpoolctl's controllers of NumPy's BLAS libraries, found on first use
_pool: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def set_num_threads(n: int | None) -> None:
    """Threads for glassnet's elementwise work: an int >= 1, or None to follow NumPy's BLAS.

    By default (None) glassnet uses as many threads as NumPy's BLAS has at the time of each
    call, so ``threadpoolctl.threadpool_limits(1)`` or ``OPENBLAS_NUM_THREADS=1`` also keeps
    glassnet on one thread. This changes nothing outside glassnet.
    """
    global _num_threads
    if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1):
        raise ValueError(f"set_num_threads: n must be a positive int or None (follow NumPy's BLAS); got {n!r}.")
    _num_threads = None if n is None else int(n)


def num_threads() -> int:
    """The number of threads ``over_batch`` splits work over now."""
    if _num_threads is not None:
        return _num_threads
    global _blas
    if _blas is None:
        from threadpoolctl import ThreadpoolController

        _blas = [lib for lib in ThreadpoolController().lib_controllers if lib.user_api == "blas"]
    # A cheap call into the library each time, so threadpool_limits takes effect at once.
    return max((lib.num_threads for lib in _blas), default=1)


def _executor(workers: int) -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None or _pool._max_workers < workers:
            _pool = ThreadPoolExecutor(workers, thread_name_prefix="glassnet")
        return _pool


def over_batch(fn, *args, out: np.ndarray):
    """``fn(*args, out=out)``, run as ``fn(*args[a:b], out=out[a:b])`` on batch slices in threads.

    Every array in ``args`` must have the batch axis first, as ``out`` does (anything else, e.g.
    a bias to broadcast, goes in through a closure or ``functools.partial``); other arguments
    (numbers) pass unchanged. ``fn`` must treat samples independently and write its result into
    ``out``. Returns ``out``.

    Example:
        >>> import numpy as np
        >>> x = np.arange(6.0).reshape(3, 2) - 2
        >>> over_batch(np.maximum, x, 0.0, out=np.empty_like(x))
        array([[0., 0.],
               [0., 1.],
               [2., 3.]])
    """
    n = out.shape[0] if out.ndim else None
    for a in args:
        if isinstance(a, np.ndarray) and (a.ndim == 0 or a.shape[0] != n):
            raise ValueError(f"over_batch: every array argument needs the batch axis ({n}) first; got "
                             f"shape {a.shape}. Pass arrays that broadcast through a closure instead.")
    if out.ndim == 0 or out.nbytes < MIN_BYTES:  # the size first: it costs nothing to read
        fn(*args, out=out)
        return out
    threads = min(num_threads(), n)
    if threads < 2:
        fn(*args, out=out)
        return out
    bounds = [n * i // threads for i in range(threads + 1)]

    def part(i):
        a, b = bounds[i], bounds[i + 1]
        fn(*(x[a:b] if isinstance(x, np.ndarray) else x for x in args), out=out[a:b])

    futures = [_executor(threads - 1).submit(part, i) for i in range(1, threads)]
    try:
        part(0)  # the calling thread takes the first slice instead of waiting idle
    finally:  # even when part(0) raised, return only once no thread writes into out any more
        for future in futures:
            future.result()
    return out
