"""The one rule that divides samples into a training part and a held-out part: fit's
``validation_split``, the tuner's validation split and cross-validation folds, and the CLI's test
split all call these functions, so the same seed and data give the same samples everywhere."""

from __future__ import annotations

import numpy as np

from glassnet import utils
from glassnet.models import outputs


def class_labels(y, classification: bool | None = None) -> np.ndarray | None:
    """One class per sample, or None when the targets are not single-label classes.

    Args:
        y: the targets (N,) or (N, 1) labels, or one-hot rows (N, C).
        classification: whether the targets are classes, when the caller knows (a model's loss,
            the CLI's task); None infers it: integer or whole-number labels, or one-hot rows.

    Returns None for regression targets, multi-hot rows, and labels per time step (N, T), which
    give a sample no single class to stratify on.
    """
    if classification is False or y is None:
        return None
    y = np.asarray(y)
    if y.ndim == 0 or y.dtype.kind not in "iubf":
        return None
    if y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1):
        labels = y.reshape(-1)
        whole = labels.dtype.kind in "iub" or bool(np.all(labels == np.round(labels)))
        return np.rint(labels).astype(np.int64) if whole else None
    if y.ndim == 2 and y.dtype.kind == "f" and np.all((y == 0) | (y == 1)) and np.all(y.sum(axis=1) == 1):
        return y.argmax(axis=1)  # one-hot rows; integer (N, T) are labels per time step
    return None


def stratified_split(y, fraction: float, seed: int, *, classification: bool | None = None):
    """Shuffled indices of a training part and a held-out part of ``fraction`` of the samples.

    Stratified (each class in the same proportion on both sides) when the targets are
    single-label classes with at least two members each and room for every class on both sides;
    otherwise a plain shuffled split. Both index arrays are sorted, so each part keeps the data's
    order.

    Args:
        y: the targets, one row per sample (a batch source's ``labels`` will do).
        fraction: the held-out share, in (0, 1); ``round(N * fraction)`` samples are held out.
        seed: the same seed gives the same split (fit passes the model's seed, the tuner its
            study seed, the CLI its ``split_seed``).
        classification: see ``class_labels``; None infers it from the targets.

    Returns:
        (train, held_out): integer index arrays.

    Example:
        >>> train, val = stratified_split(np.array([0, 0, 0, 0, 1, 1, 1, 1]), 0.5, seed=0)
        >>> len(train), len(val)
        (4, 4)
    """
    from sklearn.model_selection import train_test_split

    if not 0 < fraction < 1:
        raise ValueError(f"the held-out fraction must be in (0, 1); got {fraction}.")
    n = len(y)
    n_held = int(round(n * fraction))
    if n_held < 1 or n - n_held < 1:
        raise ValueError(f"holding out {fraction} of {n} samples leaves an empty part; use more data or a "
                         f"fraction between {1 / n:.3g} and {1 - 1 / n:.3g}." if n else
                         "there are no samples to split.")
    labels = class_labels(y, classification)
    strata = None
    if labels is not None:
        counts = np.unique(labels, return_counts=True)[1]
        # sklearn needs two members per class and a place for each class on both sides.
        if counts.min() >= 2 and counts.size <= min(n_held, n - n_held):
            strata = labels
    train, held = train_test_split(np.arange(n), test_size=n_held, random_state=_random_state(seed),
                                   shuffle=True, stratify=strata)
    return np.sort(train), np.sort(held)


def stratified_folds(y, k: int, seed: int, *, classification: bool | None = None) -> list:
    """The ``k`` cross-validation folds as (train, held_out) index pairs, stratified by the same
    rule as ``stratified_split`` (when every class has at least ``k`` members)."""
    from sklearn.model_selection import KFold, StratifiedKFold

    labels = class_labels(y, classification)
    stratify = labels is not None and np.unique(labels, return_counts=True)[1].min() >= k
    splitter = (StratifiedKFold if stratify else KFold)(n_splits=k, shuffle=True, random_state=_random_state(seed))
    index = np.arange(len(y))
    return list(splitter.split(index, labels if stratify else None))


def _random_state(seed: int) -> int:
    # The split's own stream of the seed, independent of the initial weights' and dropout's.
    return int(utils.rng_for(int(seed), utils.SPLIT).integers(2**31 - 1))


def split_validation(model, x, y, sample_weight, validation_split: float, verbose: int):
    """fit's ``validation_split``: the shared shuffled, stratified split, seeded by the model."""
    if not 0 < validation_split < 1:
        raise ValueError(f"validation_split must be in (0, 1); got {validation_split}.")
    if getattr(model, "is_graph", False):
        labels, classification = outputs.stratify_labels(model, y), True
    else:
        labels, classification = y, model.loss.classification
    if labels is None:  # a graph without a classification output: only the sample count matters
        labels, classification = np.arange(x.shape[0]), False
    try:
        train_idx, val_idx = stratified_split(labels, validation_split, model.seed,
                                                    classification=classification)
    except ValueError as error:
        raise ValueError(f"validation_split: {error}") from None
    classes = class_labels(labels, classification)
    if classes is not None and verbose >= 1:
        print(_balance_line("training", classes[train_idx]) + "; " + _balance_line("validation", classes[val_idx]))
    w = sample_weight
    return (x[train_idx], y[train_idx], None if w is None else w[train_idx],
            (x[val_idx], y[val_idx], None if w is None else w[val_idx]))


def _balance_line(part: str, classes: np.ndarray) -> str:
    counts = np.bincount(classes)
    shares = ", ".join(f"{c}: {n} ({n / classes.size:.1%})" for c, n in enumerate(counts) if n)
    return f"{part} {classes.size} samples [{shares}]"
