"""glassnet's work split over its own threads: matrix products and elementwise passes alike.

While ``fit``, ``evaluate`` or ``predict`` runs (inside :func:`training_threads`), NumPy's BLAS
is held to one thread and glassnet splits each large product over its own threads instead
(:func:`matmul`: the rows of the result, or its columns, never the summed axis), and the
copies and elementwise passes around them (im2col, col2im, pooling, ReLU) over the same
threads (:func:`over_batch`); a recurrent layer runs its large products on a second thread
beside its time loop (:func:`in_background`). Left to itself, OpenBLAS runs the products on every core but its
idle workers spin on them between products (benchmarks/blas_spin.py), so elementwise work on a
second thread finds no core free. NumPy releases the GIL in BLAS calls, ufuncs and copies of
large arrays, so the threads really run side by side, and every element is computed by the same
operations in the same order whatever the split: results are bit-for-bit those of one thread.

The number of threads is ``glassnet.config.set_num_threads(n)``; by default, as many as NumPy's
BLAS has when training starts (so ``threadpoolctl.threadpool_limits(1)`` or
``OPENBLAS_NUM_THREADS=1`` keeps glassnet on one thread and starts no other).
Holding BLAS to one thread is process-wide while it lasts (other threads' NumPy products run on
one thread meanwhile); BLAS's own setting is restored when the call returns. The first verbose
``fit`` says so in one line; ``glassnet.config.set_own_threads(False)`` leaves BLAS alone (its
threads run the products, glassnet's work runs on the calling thread).
"""

from __future__ import annotations

import contextlib
import functools
import threading
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

#: below this many bytes in the output, one thread does the whole call: handing a slice to
#: another thread costs tens of microseconds, more than an elementwise pass over 256 KiB.
MIN_BYTES = 1 << 18

#: below this many multiply-adds, one thread does the whole product.
MIN_MACS = 1 << 21
#: the fewest rows (or columns) of the result one thread computes. Every thread reads the whole
#: other operand, so a thinner band makes a memory-bound product: the first convolution's dW,
#: (10, 86528) @ (86528, 32), took 1.8-2.5 ms split in two against 1.6 ms on one thread.
MIN_BAND = 32

ANNOUNCEMENT = ("glassnet: NumPy's BLAS held to 1 thread while fit/evaluate/predict run (process-wide while "
                "they last, restored after), glassnet's products split over its own {n} threads; "
                "glassnet.config.set_own_threads(False) leaves BLAS alone")

_num_threads: int | None = None  # None: follow NumPy's BLAS (threadpoolctl)
_own_threads = True  # hold BLAS to one thread during training and split products ourselves
_active: int | None = None  # inside training_threads: the threads products are split over
_announced = False
_controller = None  # threadpoolctl's ThreadpoolController, found on first use
_blas = None  # threadpoolctl's controllers of NumPy's BLAS libraries, found on first use
_pool: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def set_num_threads(n: int | None) -> None:
    """Threads for glassnet's work in ``fit``, ``evaluate`` and ``predict``: an int >= 1, or
    None (the default) for as many as NumPy's BLAS has when each of them starts.

    So ``threadpoolctl.threadpool_limits(1)`` or ``OPENBLAS_NUM_THREADS=1`` also keeps glassnet
    on one thread, and 1 starts no other thread and leaves BLAS alone. Outside those calls
    (a layer's forward called directly, say) glassnet's work runs on the calling thread.
    """
    global _num_threads
    if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1):
        raise ValueError(f"set_num_threads: n must be a positive int or None (follow NumPy's BLAS); got {n!r}.")
    _num_threads = None if n is None else int(n)


def set_own_threads(enabled: bool) -> None:
    """Whether training holds NumPy's BLAS to one thread and splits glassnet's products over
    its own threads (True, the default) or leaves BLAS's threads alone (False)."""
    global _own_threads
    if not isinstance(enabled, bool):
        raise ValueError(f"set_own_threads takes True or False; got {enabled!r}.")
    _own_threads = enabled


def own_threads_enabled() -> bool:
    """Whether training runs glassnet's products on its own threads (``set_own_threads``)."""
    return _own_threads


def num_threads() -> int:
    """The number of threads the running (or the next) ``fit`` splits glassnet's work over."""
    if _active is not None:
        return _active
    if _num_threads is not None:
        return _num_threads
    return blas_threads()


def _controller_for_blas():
    """threadpoolctl's controller, its NumPy BLAS libraries in ``_blas``: found once per process
    (finding them scans every loaded library)."""
    global _blas, _controller
    if _blas is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
        _blas = [lib for lib in _controller.lib_controllers if lib.user_api == "blas"]
    return _controller


def blas_threads() -> int:
    """The number of threads NumPy's BLAS uses now."""
    _controller_for_blas()
    # A cheap call into the library each time, so threadpool_limits takes effect at once.
    return max((lib.num_threads for lib in _blas), default=1)


def pays_off(layers) -> bool:
    """Whether any of ``layers`` (nested models' included) sets ``splits_batch_work``: a layer
    with large elementwise passes around its products (convolution, pooling).

    Only then do glassnet's own threads beat BLAS's: with dense layers alone the products are
    small (a batch of 128 rows) and one BLAS call on two threads shares its packed operands,
    while two calls each pack their own and wait on a thread hand-over (about 60 us): an MLP
    784-128-128-10 epoch on 30,000 samples took 0.39 s split against 0.29 s (AMD EPYC, 2 cores).
    """
    return any(getattr(layer, "splits_batch_work", False) or pays_off(getattr(layer, "sublayers", ()))
               for layer in layers)


@contextlib.contextmanager
def training_threads(worth_it: bool = True):
    """Hold NumPy's BLAS to one thread and split glassnet's products over its own threads
    (``num_threads()`` of them) until the block ends; nested blocks keep the outer one's.
    With ``worth_it`` False (see :func:`pays_off`) nothing changes."""
    global _active
    if _active is not None or not _own_threads or not worth_it:
        yield
        return
    threads = num_threads()  # read before BLAS is limited: the default follows BLAS
    if threads < 2:  # nothing to split: leave BLAS as it is
        yield
        return
    with _controller_for_blas().limit(limits=1, user_api="blas"):
        _active = threads
        try:
            yield
        finally:
            _active = None


def on_own_threads(fn):
    """``fn(model, ...)`` run inside :func:`training_threads` when its model's layers pay off
    (for fit, evaluate and predict)."""

    @functools.wraps(fn)
    def wrapper(model, *args, **kwargs):
        with training_threads(pays_off(model.layers)):
            return fn(model, *args, **kwargs)

    return wrapper


def announcement() -> str | None:
    """The line that names the BLAS setting, the first time it is asked for while it is in
    force; None otherwise (once per process)."""
    global _announced
    if _announced or _active is None:
        return None
    _announced = True
    return ANNOUNCEMENT.format(n=_active)


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``a @ b``; for 2-D arrays, split over glassnet's threads inside :func:`training_threads`.

    Each thread computes a band of the result: its rows (slices of ``a``) when it has at least
    as many rows as columns, else its columns (slices of ``b``). Every element is still one
    whole sum over the shared axis, in one BLAS call, so the bits do not depend on the split.

    Example:
        >>> import numpy as np
        >>> matmul(np.ones((2, 3)), np.ones((3, 2)))
        array([[3., 3.],
               [3., 3.]])
    """
    if a.ndim != 2 or b.ndim != 2:  # stacks of matrices (Dense on (N, T, D)): one BLAS call each
        return a @ b if out is None else np.matmul(a, b, out=out)
    m, n = a.shape[0], b.shape[1]
    threads = 1 if _active is None else min(_active, max(m, n) // MIN_BAND)
    if threads < 2 or m * n * a.shape[1] < MIN_MACS or type(a) is not np.ndarray:  # a device splits its own
        return a @ b if out is None else np.matmul(a, b, out=out)
    if out is None:
        out = np.empty((m, n), dtype=np.result_type(a, b))
    rows = m >= n
    size = m if rows else n
    bounds = [size * i // threads for i in range(threads + 1)]

    def part(i):
        lo, hi = bounds[i], bounds[i + 1]
        if rows:
            np.matmul(a[lo:hi], b, out=out[lo:hi])
        else:
            np.matmul(a, b[:, lo:hi], out=out[:, lo:hi])

    _run(part, threads)
    return out


def _run(part, threads: int) -> None:
    """part(0) … part(threads - 1), the first on the calling thread, the others on the pool."""
    pool = _executor(threads - 1)
    futures = [pool.submit(part, i) for i in range(1, threads)]
    try:
        part(0)  # the calling thread takes the first slice instead of waiting idle
    finally:  # even when part(0) raised, return only once no thread writes into out any more
        for future in futures:
            future.result()


def _executor(workers: int) -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None or _pool._max_workers < workers:
            _pool = ThreadPoolExecutor(workers, thread_name_prefix="glassnet")
        return _pool


def over_samples(fn, n: int, macs: int) -> None:
    """``fn(start, stop)`` for slices of the batch ``range(n)``, one per thread inside
    :func:`training_threads` (elsewhere, or for a product of under ``MIN_MACS`` multiply-adds,
    ``fn(0, n)`` on the calling thread).

    For a chain of steps on the same samples around a product of ``macs`` multiply-adds (im2col
    then its product; nine col2im products and additions): one hand-over to the other threads
    for the whole chain instead of one per step. ``fn`` must write only what belongs to samples
    ``start`` to ``stop - 1``, computing each of its products' rows as one BLAS call whatever the
    slice. Each slice keeps at least ``MIN_MACS // 2`` multiply-adds: below about a million
    OpenBLAS may take another path (its small-matrix kernels) with other roundings; cut into
    0.7 M slices, a Conv2D's (2304, 73) @ (73, 8) product no longer gave the bits of the whole.

    Example:
        >>> import numpy as np
        >>> out = np.empty(4)
        >>> def double(start, stop):
        ...     out[start:stop] = 2 * np.arange(start, stop)
        >>> over_samples(double, 4, macs=10)
        >>> out
        array([0., 2., 4., 6.])
    """
    threads = 1 if _active is None or macs < MIN_MACS else min(_active, n)
    while threads > 1 and (n // threads) * macs < (MIN_MACS // 2) * n:  # the smallest slice's share
        threads -= 1
    if threads < 2:
        fn(0, n)
        return
    bounds = [n * i // threads for i in range(threads + 1)]
    _run(lambda i: fn(bounds[i], bounds[i + 1]), threads)


def over_batch(fn, *args, out: np.ndarray):
    """``fn(*args, out=out)``, run as ``fn(*args[a:b], out=out[a:b])`` on batch slices in threads
    (inside :func:`training_threads`; elsewhere on the calling thread alone).

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
    if out.ndim == 0 or out.nbytes < MIN_BYTES or type(out) is not np.ndarray:  # size first: it costs nothing
        fn(*args, out=out)
        return out
    threads = 1 if _active is None else min(_active, n)
    if threads < 2:
        fn(*args, out=out)
        return out
    bounds = [n * i // threads for i in range(threads + 1)]

    def part(i):
        a, b = bounds[i], bounds[i + 1]
        fn(*(x[a:b] if isinstance(x, np.ndarray) else x for x in args), out=out[a:b])

    _run(part, threads)
    return out


def in_background(fn, *args) -> Task:
    """``fn(*args)`` handed to one of glassnet's threads inside :func:`training_threads` (2 or more
    threads), or run now on the calling thread otherwise; ``.result()`` gives its result.

    For work that overlaps the caller's: a recurrent layer's large products over the steps
    already done (or not yet needed) while its time loop, small products and elementwise passes
    that gain nothing from a second thread, runs on. ``fn`` must write only where the caller
    does not read until it asks for the result; then the numbers do not depend on the thread
    count, only the time does.
    """
    if _active is not None and _active >= 2:
        return Task(fn, args, _executor(1).submit(fn, *args))
    return Task(fn, args, None)


class Task:
    """A call handed to another thread (``future``), or to be run by whoever asks for its result.

    ``result()`` waits only for a call another thread has started: one still queued is taken back
    and run on the calling thread. On a busy machine the other thread may wait for a core while the
    caller has one; the caller then does the work itself instead of waiting idle for it.
    """

    def __init__(self, fn, args: tuple, future: Future | None):
        self._fn, self._args, self._future = fn, args, future
        if future is None:
            self._value = fn(*args)

    def result(self):
        if self._future is not None and self._future.cancel():  # not started: run it here
            self._future, self._value = None, self._fn(*self._args)
        return self._value if self._future is None else self._future.result()
