"""scikit-learn's 8x8 handwritten digits (1,797 images), split like a Keras dataset; always offline."""

from __future__ import annotations

import numpy as np


def load_data(test_size: float = 0.2, seed: int = 0):
    """Load the UCI 8x8 digits bundled with scikit-learn, as ``(x_train, y_train), (x_test, y_test)``.

    The split is stratified and fixed by ``seed``, so every run compares on the same test set.

    Args:
        test_size: share of the 1,797 images held out for testing.
        seed: seed of the split.

    Returns:
        x uint8 (N, 8, 8) with values 0..16 (each pixel counts 4x4 dark cells of a 32x32 scan),
        y uint8 (N,) digits 0..9.

    Example:
        >>> from glassnet.datasets import digits
        >>> (x_train, y_train), (x_test, y_test) = digits.load_data()
        >>> x_train.shape, x_test.shape
        ((1437, 8, 8), (360, 8, 8))
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    bunch = load_digits()
    x = bunch.images.astype(np.uint8)
    y = bunch.target.astype(np.uint8)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=test_size, random_state=seed, stratify=y)
    return (x_train, y_train), (x_test, y_test)
