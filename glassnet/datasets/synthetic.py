"""Generated toy problems from the NNFS book: the spiral (classification) and the sine (regression).

Both follow the book's recipes, drawing from ``np.random.default_rng(seed)`` instead of NumPy's
global state, so the same seed always gives the same data.
"""

from __future__ import annotations

import numpy as np


def spiral_data(samples: int = 100, classes: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms, one per class: not separable by a straight line.

    Args:
        samples: points per class (> 0).
        classes: number of arms (> 0).
        seed: seed of the angle noise.

    Shapes:
        x: (samples * classes, 2) float32; y: (samples * classes,) int64 labels in [0, classes).

    Math:
        arm c: radius r = linspace(0, 1), angle t = 2.5 · (linspace(4c, 4(c + 1)) + 0.2 ε),
        ε ~ N(0, 1); point (r sin t, r cos t).

    Example:
        >>> from glassnet.datasets import spiral_data
        >>> x, y = spiral_data(samples=100, classes=3)
        >>> x.shape, y.shape
        ((300, 2), (300,))
    """
    for arg, value in (("samples", samples), ("classes", classes)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
            raise ValueError(f"spiral_data: {arg} must be a positive integer; got {value!r}.")
    rng = np.random.default_rng(seed)
    x = np.zeros((samples * classes, 2), dtype=np.float32)
    y = np.repeat(np.arange(classes, dtype=np.int64), samples)
    r = np.linspace(0.0, 1.0, samples)
    for c in range(classes):
        t = np.linspace(c * 4.0, (c + 1) * 4.0, samples) + rng.standard_normal(samples) * 0.2
        rows = slice(c * samples, (c + 1) * samples)
        x[rows, 0] = r * np.sin(t * 2.5)
        x[rows, 1] = r * np.cos(t * 2.5)
    return x, y


def sine_data(samples: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """One period of a sine wave sampled evenly on [0, 1): the book's regression problem.

    Args:
        samples: number of points (> 1).

    Shapes:
        x: (samples, 1) float32 in [0, 1); y: (samples, 1) float32, y = sin(2π x).

    Example:
        >>> from glassnet.datasets import sine_data
        >>> x, y = sine_data(4)
        >>> y.ravel().round(3).tolist()
        [0.0, 1.0, 0.0, -1.0]
    """
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples <= 1:
        raise ValueError(f"sine_data: samples must be an integer > 1; got {samples!r}.")
    x = (np.arange(samples, dtype=np.float64) / samples).reshape(-1, 1)
    y = np.sin(2 * np.pi * x)
    return x.astype(np.float32), y.astype(np.float32)
