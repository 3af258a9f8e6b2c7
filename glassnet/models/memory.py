"""Keep freed memory in the process while training, for the next batch to reuse (glibc only).

Every training step allocates and frees the same large arrays: im2col copies, layer outputs,
gradients (about 100 MB a step for the benchmark CNN). By default glibc gives blocks above its
mmap threshold back to the kernel when they are freed, and trims the top of the heap past its
trim threshold, so the next step faults the same memory back in page by page, zeroed by the
kernel. Raising both thresholds keeps that memory for reuse, as the caching allocators of
PyTorch and TensorFlow do (what it is worth: benchmarks/README.md).

This is a process-wide setting, so it is made openly: the first ``fit`` that makes it says so in
one line at ``verbose >= 1``, and it can be switched off, from Python with
``glassnet.config.set_keep_freed_memory(False)`` (before or after training; after, glibc's
default thresholds are set back) or with the environment variable ``GLASSNET_KEEP_MEMORY=0``.
What it costs: peak memory does not change, but after training the process keeps up to
``TRIM_THRESHOLD`` of freed heap instead of shrinking, and other libraries in the process
(PyTorch, say) allocate under the same thresholds. Elsewhere (macOS, Windows, musl) this does
nothing.
"""

from __future__ import annotations

import ctypes
import functools
import os
import platform

#: glibc's mallopt parameter numbers (malloc.h).
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
#: blocks up to this size come from the heap and are reused; larger ones (a batch-512 conv
#: output of 44 MB, say) are still mapped afresh each time.
MMAP_THRESHOLD = 32 << 20
#: free memory at the top of the heap kept for reuse rather than returned to the kernel.
TRIM_THRESHOLD = 512 << 20
#: glibc's defaults for both (its mmap threshold then no longer adapts, as it does at start-up).
DEFAULT_THRESHOLD = 128 << 10

ANNOUNCEMENT = ("glassnet: keeping freed memory for reuse between batches (glibc malloc thresholds "
                "raised for this whole process; glassnet.config.set_keep_freed_memory(False) or "
                "GLASSNET_KEEP_MEMORY=0 turns it off)")

_enabled = True  # the Python switch; the environment variable can only turn it off
_applied: bool | None = None  # None: not tried since switched on; then whether they are in force
_announced = False


def set_keep_freed_memory(enabled: bool) -> None:
    """Switch keeping freed memory on (the default) or off for this process.

    Off before the first training step: glibc's settings are never touched. Off after it:
    glibc's default thresholds are set back.
    """
    global _enabled, _applied
    if not isinstance(enabled, bool):
        raise ValueError(f"set_keep_freed_memory takes True or False; got {enabled!r}.")
    _enabled = enabled
    if not enabled and _applied:
        _applied = not _mallopt(DEFAULT_THRESHOLD, DEFAULT_THRESHOLD)
    elif enabled and not _applied:
        _applied = None  # try again at the next training step


def keep_freed_memory_enabled() -> bool:
    """Whether training may raise the thresholds: the Python switch and GLASSNET_KEEP_MEMORY."""
    return _enabled and os.environ.get("GLASSNET_KEEP_MEMORY", "1") != "0"


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds unless switched off; True if they are in force."""
    global _applied
    if _applied is None and keep_freed_memory_enabled():
        _applied = _mallopt(MMAP_THRESHOLD, TRIM_THRESHOLD)
    return bool(_applied)


def announcement() -> str | None:
    """The line that names the setting, the first time it is asked for after the setting took
    effect; None otherwise (once per process)."""
    global _announced
    if not _applied or _announced:
        return None
    _announced = True
    return ANNOUNCEMENT


@functools.cache
def _glibc_mallopt():
    """glibc's ``mallopt``, or None where the C library is another."""
    if platform.libc_ver()[0] != "glibc":
        return None
    try:
        return ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return None


def _mallopt(mmap_threshold: int, trim_threshold: int) -> bool:
    """Set both thresholds; True if glibc took them (False where there is no glibc)."""
    mallopt = _glibc_mallopt()
    if mallopt is None:
        return False
    # mallopt returns 1 on success; the mmap threshold first, so that no large block is mapped
    # between the two calls.
    return bool(mallopt(M_MMAP_THRESHOLD, mmap_threshold)) and bool(mallopt(M_TRIM_THRESHOLD, trim_threshold))
