"""Floating-point housekeeping: keeping decaying state out of the slow subnormal range."""

from __future__ import annotations

import functools
import math

import numpy as np

from glassnet import backend

#: the most steps between two flushes of a slot that decays (see :func:`flush_schedule`)
MAX_FLUSH_PERIOD = 8


def flush_subnormals(a: np.ndarray, mask: np.ndarray | None = None, work: np.ndarray | None = None,
                     nonnegative: bool = False, below: float | None = None) -> np.ndarray:
    """Set every value of ``a`` whose magnitude is below the smallest normal number of its dtype
    (``np.finfo(a.dtype).tiny``, about 1.2e-38 in float32) to zero, in place, and return ``a``.

    State that decays geometrically while its gradient is zero (Adam's moments, momentum,
    moving averages) otherwise sinks into subnormal numbers and stays there: rounding keeps
    the last few from ever reaching zero. Arithmetic on subnormals is many times slower on
    many CPUs (Intel's in particular). Setting the CPU's flush-to-zero mode would do the same
    for the whole process, which a library must not do; this touches ``a`` alone. Values at or
    above ``tiny``, infinities and NaN are left exactly as they are; a subnormal becomes a zero
    of its own sign.

    Args:
        a: a float array, changed in place.
        mask: a bool array shaped like ``a`` to work in (allocated when None).
        work: an array like ``a`` to hold ``|a|`` (allocated when None; unused if nonnegative).
        nonnegative: ``a`` has no negative values (a running mean of squares), so ``|a|`` is
            ``a`` itself: one pass fewer.
        below: flush magnitudes below this instead of ``tiny`` (at most a few times ``tiny``:
            see :func:`flush_schedule`).
    """
    # A multiply by the mask, not a masked assignment: with a scattered mask (dead units are
    # scattered through a kernel) an assignment branches on every element and mispredicts.
    bound = np.finfo(a.dtype).tiny if below is None else a.dtype.type(below)
    mask = backend.array_module(a).empty(a.shape, bool) if mask is None else mask
    np.greater_equal(a if nonnegative else np.abs(a, out=work), bound, out=mask)
    return np.multiply(a, mask, out=a)


@functools.lru_cache(maxsize=64)  # asked for every slot at every step: a few decays and dtypes in all
def flush_schedule(decay: float | None, dtype) -> tuple[int, float]:
    """(period, bound): flush a slot that shrinks by ``decay`` per step every ``period`` steps,
    of its values below ``bound``, and it holds no subnormal value after any step where it
    only decays.

    A flush costs three passes over the slot, as much as the update itself, so it is not done
    every step. Right after a flush every value is 0 or at least ``bound``; ``period - 1`` steps
    of decay take it down to ``bound·decay^(period-1)``, still at least ``tiny``; the next flush
    comes before a further step. The period is the longest (up to ``MAX_FLUSH_PERIOD``) that
    keeps ``bound`` within twice ``tiny``: values below 2.4e-38 in float32, which no float32
    parameter update of ordinary size can notice. A slot that does not decay (``decay`` None,
    Adagrad's sum) is flushed every step at ``tiny``, as is one that decays faster than by half
    a step.

    Example:
        >>> period, bound = flush_schedule(0.9, np.float32)
        >>> period, bound / float(np.finfo(np.float32).tiny) < 2
        (7, True)
    """
    tiny = float(np.finfo(dtype).tiny)
    if decay is None or not 0 < decay < 1:
        return 1, tiny
    # 1 + 1e-6: float32 rounding of each decay step may take a value a hair below value·decay.
    period = min(MAX_FLUSH_PERIOD, 1 + int(math.log(0.5 * (1 + 1e-6)) / math.log(decay)))
    if period == 1:
        return 1, tiny
    return period, tiny / decay ** (period - 1) * (1 + 1e-5)
