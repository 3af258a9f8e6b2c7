"""Talos' ``Predict`` and ``Evaluate``: the predictions of a scan's best (or chosen) round, and
that model's score on k folds of new data."""

from __future__ import annotations

import numpy as np

#: Talos' task names; "continuous" is regression.
TASKS = ("binary", "multi_class", "multi_label", "continuous")


def _check_task(task: str) -> None:
    if task not in TASKS:
        raise ValueError(f"task must be one of {', '.join(TASKS)} (Talos' names); got {task!r}.")


def _model(scan_object, metric, asc, model_id):
    """The model of round ``model_id``, or of the round with the best ``metric``."""
    if model_id is None:
        model_id = scan_object._best_round(metric, asc)
    elif not 0 <= model_id < len(scan_object.data):
        raise IndexError(f"model_id {model_id} is not a round of this scan (0 to {len(scan_object.data) - 1}).")
    return scan_object._model_of(model_id)


def _classes(scores: np.ndarray, task: str) -> np.ndarray:
    """Class predictions from a model's outputs: 0/1 at 0.5 for one sigmoid column (binary),
    else the most probable column."""
    if task == "binary" and (scores.ndim == 1 or scores.shape[-1] == 1):
        return (scores.reshape(len(scores)) >= 0.5).astype(int)
    return np.argmax(scores, axis=-1)


class Predict:
    """Predictions of a scan's rounds: ``Predict(scan).predict(x, metric="val_acc", asc=False)``.

    Args:
        scan_object: a finished ``Scan`` run with ``save_weights=True``.

    Example:
        >>> import glassnet as gn  # doctest: +SKIP
        >>> probabilities = gn.tuning.Predict(scan).predict(x_new, "val_acc", asc=False)  # doctest: +SKIP
    """

    def __init__(self, scan_object):
        self.scan_object = scan_object
        self.data = scan_object.data

    def predict(self, x, metric="val_acc", asc=False, model_id=None) -> np.ndarray:
        """The outputs of round ``model_id``, or of the round with the best ``metric`` (highest;
        lowest with ``asc=True``)."""
        return _model(self.scan_object, metric, asc, model_id).predict(x)

    def predict_classes(self, x, metric="val_acc", asc=False, task="multi_class", model_id=None) -> np.ndarray:
        """Class predictions of that round: 0/1 at 0.5 for a binary sigmoid output, else the
        most probable class."""
        _check_task(task)
        if task == "continuous":
            raise ValueError("predict_classes has no classes for task='continuous'; use predict.")
        return _classes(self.predict(x, metric, asc, model_id), task)


class Evaluate:
    """Score a scan's best (or chosen) round on k folds of data it was not trained on.

    ``Evaluate(scan).evaluate(x, y, task="multi_class", metric="val_acc")`` returns one score per
    fold: the F1 score for classification (binary: the positive class, after a 0.5 threshold on
    one sigmoid column; multi_class / multi_label: macro average over the classes, after the
    most probable class) or the mean absolute error for ``task="continuous"``. The model is not
    trained again: each fold is scored as it is, as Talos does.

    Args:
        scan_object: a finished ``Scan`` run with ``save_weights=True``.
    """

    def __init__(self, scan_object):
        self.scan_object = scan_object
        self.data = scan_object.data

    def evaluate(self, x, y, task, metric="val_acc", model_id=None, folds=5, shuffle=True, asc=False,
                 print_out=False) -> list[float]:
        from sklearn.metrics import f1_score, mean_absolute_error
        from sklearn.model_selection import KFold

        _check_task(task)
        if isinstance(folds, bool) or not isinstance(folds, int) or not 2 <= folds <= len(x):
            raise ValueError(f"folds must be an integer from 2 to the number of samples ({len(x)}); got {folds!r}.")
        model = _model(self.scan_object, metric, asc, model_id)
        x, y = np.asarray(x), np.asarray(y)
        seed = self.scan_object.seed if shuffle else None
        scores = []
        for _, part in KFold(folds, shuffle=shuffle, random_state=seed).split(x):
            outputs = model.predict(x[part])
            if task == "continuous":
                scores.append(float(mean_absolute_error(y[part], outputs.reshape(y[part].shape))))
                continue
            truth = y[part]
            if truth.ndim == 2 and truth.shape[1] > 1:  # one-hot rows
                truth = np.argmax(truth, axis=1)
            average = "binary" if task == "binary" else "macro"
            scores.append(float(f1_score(truth.reshape(-1), _classes(outputs, task), average=average)))
        if print_out:
            print(f"{np.mean(scores):.4f} (+/- {np.std(scores):.4f})")
        return scores
