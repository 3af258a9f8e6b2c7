"""Floating-point housekeeping: keeping decaying state out of the slow subnormal range."""

from __future__ import annotations

import numpy as np

from glassnet import backend


def flush_subnormals(a: np.ndarray, mask: np.ndarray | None = None, work: np.ndarray | None = None,
                     nonnegative: bool = False) -> np.ndarray:
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
    """
    # A multiply by the mask, not a masked assignment: with a scattered mask (dead units are
    # scattered through a kernel) an assignment branches on every element and mispredicts.
    tiny = np.finfo(a.dtype).tiny
    mask = backend.array_module(a).empty(a.shape, bool) if mask is None else mask
    np.greater_equal(a if nonnegative else np.abs(a, out=work), tiny, out=mask)
    return np.multiply(a, mask, out=a)
