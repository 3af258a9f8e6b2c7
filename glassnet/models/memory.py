"""Keep freed memory in the process while training, for the next batch to reuse (glibc only).

Every training step allocates and frees the same large arrays: im2col copies, layer outputs,
gradients (about 100 MB a step for the benchmark CNN). By default glibc gives blocks above its
mmap threshold back to the kernel when they are freed, and trims the top of the heap past its
trim threshold, so the next step faults the same memory back in page by page, zeroed by the
kernel: about 650 faults and 4 to 6 ms of a 45 ms CNN step, measured. Raising both thresholds
keeps that memory for reuse, as the caching allocators of PyTorch and TensorFlow do.

What it costs: peak memory does not change, but after training the process keeps up to
``TRIM_THRESHOLD`` of freed heap instead of shrinking. It applies to the whole process, once,
from the first training step on. Set the environment variable ``GLASSNET_KEEP_MEMORY=0`` to
leave glibc's defaults alone. Elsewhere (macOS, Windows, musl) this does nothing.
"""

from __future__ import annotations

import ctypes
import os
import platform

#: glibc's mallopt parameter numbers (malloc.h).
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
#: blocks up to this size come from the heap and are reused; larger ones (a batch-512 conv
#: output of 44 MB, say) are still mapped afresh each time.
MMAP_THRESHOLD = 32 << 20
#: free memory at the top of the heap kept for reuse rather than returned to the kernel.
TRIM_THRESHOLD = 512 << 20

_applied: bool | None = None  # None: not tried yet; then whether the settings took


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds once per process; True if they are in force."""
    global _applied
    if _applied is None:
        _applied = False
        if os.environ.get("GLASSNET_KEEP_MEMORY", "1") != "0" and platform.libc_ver()[0] == "glibc":
            try:
                mallopt = ctypes.CDLL("libc.so.6").mallopt
            except (OSError, AttributeError):
                return False
            # mallopt returns 1 on success; the mmap threshold first, so that no large block
            # is mapped between the two calls.
            _applied = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
                mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return _applied
