"""``init()`` and the book's data, drawn from NumPy's global generator as the ``nnfs`` package draws them."""

from __future__ import annotations

import numpy as np


def init(dot_precision_workaround: bool = True, default_dtype: str = "float32", random_seed: int | None = 0):
    """The ``nnfs.init()`` of the book: seed NumPy's global generator (0 by default).

    The package also patches NumPy for the whole process: ``np.dot`` computes in float64 and
    returns float32 (so results agree between machines) and ``np.zeros``/``np.random.randn``
    return float32. glassnet changes nothing in NumPy: the book's classes here already work in
    float32 and ``Layer_Dense`` computes its products that way itself, and the data functions
    below return what the package's return after its ``init()``. Only the defaults are accepted
    for the first two arguments, since there is nothing to switch off.

    Args:
        dot_precision_workaround: must be True (the book's layers always compute that way).
        default_dtype: must be "float32".
        random_seed: the seed for ``np.random.seed``; None leaves the generator as it is.
    """
    if dot_precision_workaround is not True or default_dtype != "float32":
        raise ValueError("glassnet.nnfs.init() supports only dot_precision_workaround=True and "
                         "default_dtype='float32' (the book's settings); call init() without them.")
    if random_seed is not None:
        np.random.seed(random_seed)


def spiral_data(samples: int, classes: int) -> tuple[np.ndarray, np.ndarray]:
    """The book's spiral, drawn from NumPy's global generator: each call draws new points.

    Equal, value for value, to ``nnfs.datasets.spiral_data`` after ``nnfs.init()`` from the same
    generator state. For a seeded copy that leaves global state alone, use
    ``glassnet.datasets.spiral_data(seed=...)``.

    Shapes:
        X: (samples * classes, 2) float32; y: (samples * classes,) uint8.
    """
    _check_counts(samples, classes)
    X = np.zeros((samples * classes, 2), dtype=np.float32)
    y = np.repeat(np.arange(classes, dtype=np.uint8), samples)
    r = np.linspace(0.0, 1.0, samples)
    for c in range(classes):
        # The noise rounded to float32 first: the package's patched randn returns float32.
        t = np.linspace(c * 4, (c + 1) * 4, samples) + draw_normal(samples) * 0.2
        X[c * samples:(c + 1) * samples] = np.column_stack([r * np.sin(t * 2.5), r * np.cos(t * 2.5)])
    return X, y


def vertical_data(samples: int, classes: int) -> tuple[np.ndarray, np.ndarray]:
    """The book's vertical clusters (class c around x = c / 3, y = 0.5, spread 0.1), drawn from
    NumPy's global generator like ``nnfs.datasets.vertical_data`` after ``nnfs.init()``.

    Shapes:
        X: (samples * classes, 2) float32; y: (samples * classes,) uint8.
    """
    _check_counts(samples, classes)
    X = np.zeros((samples * classes, 2), dtype=np.float32)
    y = np.repeat(np.arange(classes, dtype=np.uint8), samples)
    for c in range(classes):
        column_x = draw_normal(samples) * 0.1 + c / 3  # drawn before column_y, as the package does
        column_y = draw_normal(samples) * 0.1 + 0.5
        X[c * samples:(c + 1) * samples] = np.column_stack([column_x, column_y])
    return X, y


def sine_data(samples: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """The book's sine: x = i / samples, y = sin(2π x), both (samples, 1) float64 as the package's."""
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples <= 1:
        raise ValueError(f"sine_data: samples must be an integer > 1; got {samples!r}.")
    X = np.arange(samples).reshape(-1, 1) / samples
    return X, np.sin(2 * np.pi * X)


def draw_normal(*shape) -> np.ndarray:
    """N(0, 1) draws from NumPy's global generator, rounded to float32 as the package's patched
    ``np.random.randn`` returns them."""
    return np.random.randn(*shape).astype(np.float32)


def _check_counts(samples, classes) -> None:
    for arg, value in (("samples", samples), ("classes", classes)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
            raise ValueError(f"{arg} must be a positive integer; got {value!r}.")
