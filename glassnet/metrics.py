"""Metrics: stateful objects with ``update_state``, ``result`` and ``reset_state`` (Keras' API).

A model updates them batch by batch, so an epoch's figure is over the whole epoch rather than
an average of per-batch figures.
"""

from __future__ import annotations

import copy
import math

import numpy as np

from glassnet import backend, losses
from glassnet._registry import deserialize, lookup, register, registered


class Metric:
    """Base class: a weighted running mean of per-sample ``values(y_true, y_pred)``."""

    #: whether ``result()`` is cheap enough to report after every batch (batch logs, as Keras'):
    #: False for a metric that recomputes over everything seen (AUC), which would make an epoch
    #: quadratic in its batches.
    per_batch = True

    def __init__(self, name: str | None = None):
        self.name = name or _default_name(type(self))
        self.reset_state()

    def values(self, y_true, y_pred) -> np.ndarray:
        raise NotImplementedError

    def update_state(self, y_true, y_pred, sample_weight=None, mask=None) -> None:
        """Add a batch: ``sample_weight`` is None, one weight per sample (N,) or per sample and
        time step (N, T); ``mask`` is None or the output's time-step mask (N, T), whose masked
        steps count for nothing (the figure is Σ w m v / Σ w m over the kept steps; values that
        are one per sample, from a function of your own, have no steps to leave out)."""
        xp = backend.array_module(y_pred)  # NumPy, or CuPy when the model computes on a GPU
        v = xp.asarray(self.values(xp.asarray(y_true), xp.asarray(y_pred)), dtype=np.float64)
        w = None if sample_weight is None else xp.asarray(sample_weight, np.float64)
        if w is not None and (w.ndim < 2 or w.shape != v.shape[:w.ndim]):
            w = w.reshape(-1)  # per sample, as (N,) or (N, 1)
        if mask is not None and v.ndim == 1 and np.ndim(mask) > 1:
            mask = None  # one value per sample (a function of your own): no steps to leave out
        if mask is not None:
            m = xp.asarray(mask, dtype=bool)
            if m.shape != v.shape[:m.ndim]:
                raise ValueError(f"{self.name}: the output's mask has shape {m.shape} but the metric's values have "
                                 f"shape {v.shape}; a time-step mask is boolean (N, T).")
            m = m.astype(np.float64)
            w = m if w is None else _expand(w, m.ndim) * _expand(m, w.ndim)
        axes = 1 if w is None else w.ndim  # one value per sample, or per sample and time step
        v = v.reshape(v.shape[:axes] + (-1,)).mean(axis=-1) if v.ndim > axes else v
        w = xp.ones_like(v) if w is None else xp.broadcast_to(_expand(w, v.ndim), v.shape)
        self._total += float((v * w).sum())
        self._count += float(w.sum())

    def result(self) -> float:
        return self._total / self._count if self._count else 0.0

    def reset_state(self) -> None:
        self._total, self._count = 0.0, 0.0

    def __call__(self, y_true, y_pred, sample_weight=None, mask=None) -> float:
        """One-shot value on these arrays (the running state is left as it was)."""
        fresh = copy.deepcopy(self)  # keeps what adapt() learned
        fresh.reset_state()
        fresh.update_state(y_true, y_pred, sample_weight, **losses.masked(mask))
        return fresh.result()

    def get_config(self) -> dict:
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


def _default_name(cls) -> str:
    import re

    # "MeanSquaredError" -> "mean_squared_error", and an acronym stays one word: "AUC" -> "auc".
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", cls.__name__).lower()


def _expand(a: np.ndarray, ndim: int) -> np.ndarray:
    """``a`` with trailing axes of length 1 up to ``ndim`` axes: (N,) meets (N, T) as (N, 1)."""
    return a.reshape(a.shape + (1,) * (ndim - a.ndim)) if a.ndim < ndim else a


def _weights_like(sample_weight, mask, like) -> np.ndarray:
    """Weights broadcast to ``like``'s shape (N, ...), where it lives: per sample (N,) or per time step (N, T), times
    the output's time-step mask (N, T) when there is one."""
    xp, shape = backend.array_module(like), like.shape
    w = xp.ones(shape[:1]) if sample_weight is None else xp.asarray(sample_weight, np.float64)
    if w.ndim < 2 or w.shape != tuple(shape[:w.ndim]):
        w = w.reshape(-1)
    if mask is not None:
        m = xp.asarray(mask, np.float64)
        w = _expand(w, m.ndim) * _expand(m, w.ndim)
    return xp.broadcast_to(_expand(w, len(shape)), shape)


def _labels(y: np.ndarray, y_pred: np.ndarray | None = None) -> np.ndarray:
    """Integer labels, one per row of scores: (N, 1) -> (N,), and (N, T, 1) -> (N, T) for
    sequence scores (N, T, C)."""
    if y_pred is not None and y.size == int(np.prod(y_pred.shape[:-1])) and y.shape != y_pred.shape[:-1]:
        return y.reshape(y_pred.shape[:-1])
    return y.reshape(-1) if y.ndim == 2 and y.shape[1] == 1 else y


def _one_hot_if_sparse(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    """Arrays of both; integer labels against (N, C) scores become one-hot rows."""
    xp = backend.array_module(y_true, y_pred)
    y_true, y_pred = xp.asarray(y_true), xp.asarray(y_pred)
    if y_pred.ndim == 2 and y_pred.shape[1] > 1 and (y_true.ndim == 1 or y_true.shape[-1] == 1):
        y_true = xp.eye(y_pred.shape[1])[_labels(y_true).astype(np.int64)]
    return y_true, y_pred


@register("metric", "binary_accuracy")
class BinaryAccuracy(Metric):
    """Share of elements where (y_pred > threshold) equals the 0/1 target."""

    def __init__(self, name: str | None = None, threshold: float = 0.5):
        self.threshold = float(threshold)
        super().__init__(name)

    def values(self, y_true, y_pred):
        y_true = y_true.reshape(y_pred.shape) if y_true.size == y_pred.size else y_true
        return ((y_pred > self.threshold) == (y_true > 0.5)).astype(np.float64)

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}


@register("metric", "categorical_accuracy")
class CategoricalAccuracy(Metric):
    """Share of rows where argmax(y_pred) equals argmax(y_true) (one-hot targets)."""

    def values(self, y_true, y_pred):
        return (y_pred.argmax(axis=-1) == y_true.argmax(axis=-1)).astype(np.float64)


@register("metric", "sparse_categorical_accuracy")
class SparseCategoricalAccuracy(Metric):
    """Share of rows where argmax(y_pred) equals the integer label (one label per time step for
    sequence scores (N, T, C))."""

    def values(self, y_true, y_pred):
        return (y_pred.argmax(axis=-1) == _labels(y_true, y_pred).astype(np.int64)).astype(np.float64)


@register("metric", "accuracy", "acc")
class Accuracy(Metric):
    """Classification accuracy that picks its kind from the shapes, like Keras' "accuracy".

    - y_pred (N, 1) or (N,): binary, thresholded at ``threshold``;
    - y_pred (N, C) and integer labels (N,) or (N, 1): sparse categorical, and so for
      sequence scores (N, T, C) with labels (N, T);
    - y_pred (N, C) and one-hot (N, C): categorical (argmax of both).
    """

    def __init__(self, name: str | None = None, threshold: float = 0.5):
        self.threshold = float(threshold)
        # The three kinds it may pick, built once rather than on every batch.
        self._binary = BinaryAccuracy(threshold=self.threshold)
        self._sparse, self._categorical = SparseCategoricalAccuracy(), CategoricalAccuracy()
        super().__init__(name or "accuracy")

    def values(self, y_true, y_pred):
        if y_pred.ndim == 1 or y_pred.shape[-1] == 1:
            return self._binary.values(y_true, y_pred)
        if (y_true.ndim == 1 or (y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1)
                or y_true.shape == y_pred.shape[:-1]):
            return self._sparse.values(y_true, y_pred)
        return self._categorical.values(y_true, y_pred)

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}


@register("metric", "regression_accuracy")
class RegressionAccuracy(Metric):
    """Share of predictions within a tolerance of the target (the NNFS book's regression accuracy).

    Args:
        tolerance: absolute tolerance. None: std(y) / ``std_divisor`` (the book's precision,
            std/250), taken from the targets passed to ``adapt`` (``fit`` does this with the
            training targets) or else from the first batch seen.
        std_divisor: divisor of std(y) when ``tolerance`` is None.
        adapted_tolerance: the tolerance an earlier ``adapt`` learned, as ``get_config`` records
            it, so a saved model reports the accuracy it reported before saving (like the
            ``mean`` and ``variance`` arguments of Keras' ``Normalization``). A later ``adapt``
            replaces it. Ignored when ``tolerance`` is given.

    Example:
        >>> import numpy as np, glassnet as gn
        >>> metric = gn.metrics.RegressionAccuracy()
        >>> metric.adapt(np.array([0.0, 500.0]))  # std 250: tolerance 1
        >>> metric(np.array([0.0, 0.0]), np.array([0.5, 2.0]))
        0.5
        >>> metric.get_config()["adapted_tolerance"]
        1.0
    """

    def __init__(self, name: str | None = None, tolerance: float | None = None, std_divisor: float = 250.0,
                 adapted_tolerance: float | None = None):
        self.tolerance = None if tolerance is None else float(tolerance)
        self.std_divisor = float(std_divisor)
        if self.tolerance is not None:
            self._adapted = self.tolerance
        else:
            self._adapted = None if adapted_tolerance is None else float(adapted_tolerance)
        super().__init__(name)

    def adapt(self, y_true) -> None:
        if self.tolerance is None:
            self._adapted = float(np.std(y_true)) / self.std_divisor

    def values(self, y_true, y_pred):
        if self._adapted is None:
            self.adapt(y_true)
        return (np.abs(y_pred - y_true.reshape(y_pred.shape)) < self._adapted).astype(np.float64)

    def get_config(self):
        # The learned tolerance is saved too: without it a loaded model would re-learn it from
        # the first batch it evaluates and report a different accuracy.
        adapted = None if self.tolerance is not None else self._adapted
        return {**super().get_config(), "tolerance": self.tolerance, "std_divisor": self.std_divisor,
                "adapted_tolerance": adapted}


@register("metric", "mae", "mean_absolute_error")
class MeanAbsoluteError(Metric):
    def values(self, y_true, y_pred):
        return np.abs(y_pred - y_true.reshape(y_pred.shape))


@register("metric", "mse", "mean_squared_error")
class MeanSquaredError(Metric):
    def values(self, y_true, y_pred):
        return np.square(y_pred - y_true.reshape(y_pred.shape))


@register("metric", "rmse", "root_mean_squared_error")
class RootMeanSquaredError(MeanSquaredError):
    """√(Σ w (ŷ - y)² / Σ w) over everything seen (Keras' ``RootMeanSquaredError``): the square root
    of the running mean, not a mean of per-batch roots."""

    def result(self) -> float:
        return math.sqrt(super().result())


@register("metric", "mape", "mean_absolute_percentage_error")
class MeanAbsolutePercentageError(Metric):
    """100 · |ŷ - y| / max(|y|, ε), ε = 1e-7, averaged (Keras' ``MeanAbsolutePercentageError``)."""

    def values(self, y_true, y_pred):
        y_true = y_true.reshape(y_pred.shape)
        return 100.0 * np.abs(y_pred - y_true) / np.maximum(np.abs(y_true), losses.EPSILON)


@register("metric", "msle", "mean_squared_logarithmic_error")
class MeanSquaredLogarithmicError(Metric):
    """(log(1 + max(ŷ, ε)) - log(1 + max(y, ε)))², ε = 1e-7, averaged (Keras' ``MeanSquaredLogarithmicError``)."""

    def values(self, y_true, y_pred):
        y_true = y_true.reshape(y_pred.shape)
        return np.square(np.log1p(np.maximum(y_pred, losses.EPSILON)) - np.log1p(np.maximum(y_true, losses.EPSILON)))


@register("metric", "r2_score", "r2")
class R2Score(Metric):
    """The coefficient of determination over everything seen, 1 - Σ w (y - ŷ)² / Σ w (y - ȳ)²,
    per output column and then averaged over the columns (Keras' ``R2Score`` with
    ``class_aggregation="uniform_average"``, scikit-learn's ``r2_score``). 1 is a perfect fit, 0 is
    as good as predicting the mean, below 0 is worse."""

    def reset_state(self):
        self._sums = None  # per column: Σw, Σw·y, Σw·y², Σw·(y - ŷ)²

    def update_state(self, y_true, y_pred, sample_weight=None, mask=None):
        xp = backend.array_module(y_pred)
        y_pred = xp.asarray(y_pred, dtype=np.float64)
        y_pred = y_pred.reshape(len(y_pred), -1)
        y_true = xp.asarray(y_true, dtype=np.float64).reshape(y_pred.shape)
        w = xp.ones((len(y_pred), 1)) if sample_weight is None else xp.asarray(sample_weight, np.float64).reshape(-1, 1)
        sums = xp.stack([xp.broadcast_to(w, y_true.shape).sum(axis=0), (w * y_true).sum(axis=0),
                         (w * y_true ** 2).sum(axis=0), (w * (y_true - y_pred) ** 2).sum(axis=0)])
        self._sums = sums if self._sums is None else self._sums + sums

    def result(self) -> float:
        if self._sums is None:
            return 0.0
        count, total, squares, residual = (backend.to_host(row) for row in self._sums)
        spread = squares - total ** 2 / count  # Σ w (y - ȳ)²
        with np.errstate(divide="ignore", invalid="ignore"):
            # a constant column: 1 if it is predicted exactly, else 0, as scikit-learn scores it
            r2 = np.where(spread > 0, 1 - residual / np.where(spread > 0, spread, 1), np.where(residual == 0, 1.0, 0.0))
        return float(r2.mean())


class _Confusion(Metric):
    """Counts of true/false positives over thresholded elements (Keras' Precision/Recall).

    Args:
        threshold: a prediction above it counts as positive; 0.5 when neither it nor
            ``thresholds`` is given.
        class_id: score only this column of (N, C) outputs; None: all columns (micro average).
        thresholds: Keras' spelling of ``threshold``: one float, or a list holding one float.
    """

    def __init__(self, name: str | None = None, threshold: float | None = None, class_id: int | None = None,
                 thresholds: float | list[float] | None = None):
        self.threshold = _one_threshold(type(self).__name__, threshold, thresholds)
        self.class_id = class_id
        super().__init__(name)

    def reset_state(self):
        self._tp = self._fp = self._fn = 0.0

    def update_state(self, y_true, y_pred, sample_weight=None, mask=None):
        y_true, y_pred = _one_hot_if_sparse(y_true, y_pred)
        y_true = y_true.reshape(y_pred.shape)
        if self.class_id is not None:
            y_true, y_pred = y_true[..., self.class_id : self.class_id + 1], y_pred[..., self.class_id : self.class_id + 1]
        pred = y_pred > self.threshold
        true = y_true > 0.5
        w = _weights_like(sample_weight, mask, pred)
        self._tp += float((w * (pred & true)).sum())
        self._fp += float((w * (pred & ~true)).sum())
        self._fn += float((w * (~pred & true)).sum())

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold, "class_id": self.class_id}


def _one_threshold(owner: str, threshold, thresholds) -> float:
    """The single threshold given as ``threshold`` or as Keras' ``thresholds`` (0.5 if neither)."""
    if thresholds is not None:
        values = np.ravel(np.asarray(thresholds, dtype=np.float64))
        if values.size != 1:
            # Keras keeps one count per threshold; these metrics keep one set of counts.
            raise ValueError(
                f"{owner} supports a single threshold; got thresholds={thresholds!r}. "
                f"Use one {owner} metric per threshold."
            )
        if threshold is not None and float(threshold) != values[0]:
            raise ValueError(
                f"{owner} got threshold={threshold!r} and thresholds={thresholds!r}, which differ; "
                f"they are the same setting (thresholds is Keras' spelling), so give only one."
            )
        return float(values[0])
    return 0.5 if threshold is None else float(threshold)


@register("metric", "precision")
class Precision(_Confusion):
    """TP / (TP + FP) at ``threshold`` (0 when nothing is predicted positive).

    Example:
        >>> import numpy as np, glassnet as gn
        >>> gn.metrics.Precision(thresholds=0.3)(np.array([0, 1, 1]), np.array([0.4, 0.9, 0.2]))
        0.5
    """

    def result(self):
        d = self._tp + self._fp
        return self._tp / d if d else 0.0


@register("metric", "recall")
class Recall(_Confusion):
    """TP / (TP + FN) at ``threshold`` (0 when there are no positives)."""

    def result(self):
        d = self._tp + self._fn
        return self._tp / d if d else 0.0


@register("metric", "auc")
class AUC(Metric):
    """Exact area under the ROC (or precision-recall) curve over everything seen since reset.

    Keeps the scores and computes the area with ``sklearn.metrics`` (Keras approximates it with
    200 thresholds instead). Multi-column outputs are flattened (micro-averaged), like Keras'
    default ``multi_label=False``; sparse labels are one-hot encoded first.

    Args:
        curve: "ROC" or "PR" (average precision).
    """

    per_batch = False  # result() sorts every score seen since reset

    def __init__(self, name: str | None = None, curve: str = "ROC"):
        if curve not in ("ROC", "PR"):
            raise ValueError(f"AUC curve must be 'ROC' or 'PR'; got {curve!r}.")
        self.curve = curve
        super().__init__(name)

    def reset_state(self):
        self._true, self._pred, self._weight = [], [], []

    def update_state(self, y_true, y_pred, sample_weight=None, mask=None):
        y_true, y_pred = _one_hot_if_sparse(y_true, y_pred)
        self._true.append((y_true.reshape(-1) > 0.5).astype(np.int8))
        self._pred.append(y_pred.reshape(-1).astype(np.float64))
        self._weight.append(_weights_like(sample_weight, mask, y_pred).reshape(-1))

    def result(self):
        from sklearn.metrics import average_precision_score, roc_auc_score

        if not self._true:
            return 0.0
        # scikit-learn reads host arrays: the scores kept on a device come over once, here
        t, p, w = (backend.to_host(np.concatenate(a)) for a in (self._true, self._pred, self._weight))
        if t.min() == t.max():
            return 0.0  # undefined with one class present; Keras reports 0 as well
        if not np.isfinite(p).all():  # diverged weights: no ranking to score (sklearn would raise)
            return float("nan")
        if self.curve == "PR":
            return float(average_precision_score(t, p, sample_weight=w))
        return float(roc_auc_score(t, p, sample_weight=w))

    def get_config(self):
        return {**super().get_config(), "curve": self.curve}


@register("metric", "mean_metric_wrapper")
class MeanMetricWrapper(Metric):
    """The running mean of a function's per-sample values: how a plain function becomes a metric
    (``metrics=[gn.metrics.categorical_accuracy]`` or a function of your own), as in Keras.

    Args:
        fn: ``fn(y_true, y_pred) -> (N,)`` values. A saved model names it; loading finds
            glassnet's own functions by name and yours through ``custom_objects``.
        name: logged name; the function's name by default.
    """

    def __init__(self, fn, name: str | None = None):
        if isinstance(fn, str):  # from a config: the function's name
            fn = lookup("metric_function", fn)
        if not callable(fn):
            raise TypeError(f"MeanMetricWrapper needs a function fn(y_true, y_pred); got {type(fn).__name__}.")
        self.fn = fn
        super().__init__(name or fn.__name__)

    def values(self, y_true, y_pred):
        return self.fn(y_true, y_pred)

    def get_config(self):
        return {**super().get_config(), "fn": self.fn.__name__}


# -- Keras' functional forms: per-sample values, shape (N,); each also a value for ``metrics=`` ----
def _per_sample(values: np.ndarray) -> np.ndarray:
    """(N, K) element values averaged over the last axis, as Keras' functions return them."""
    return values.mean(axis=-1) if values.ndim > 1 else values


def _arrays(y_true, y_pred) -> tuple:
    """Both as arrays where ``y_pred`` lives (lists taken; a device's stay there: ``np.asarray``
    would copy them to the host, or refuse, as on CuPy), as ``Loss.conform`` takes them."""
    xp = backend.array_module(y_pred)
    return xp.asarray(y_true), xp.asarray(y_pred)


def _per_row(values: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Per-element values (binary) averaged over the last axis; the others are one per row of
    scores already: (N,), or (N, T) for a sequence, as Keras' functions return them."""
    return _per_sample(values) if values.shape == y_pred.shape else values


@register("metric_function")
def accuracy(y_true, y_pred) -> np.ndarray:
    """1.0 where the prediction is right, its kind picked from the shapes as ``"accuracy"`` does."""
    y_true, y_pred = _arrays(y_true, y_pred)
    return _per_row(Accuracy().values(y_true, y_pred), y_pred)


@register("metric_function")
def binary_accuracy(y_true, y_pred, threshold: float = 0.5) -> np.ndarray:
    """1.0 where (ŷ > threshold) equals y (``keras.metrics.binary_accuracy``)."""
    return _per_sample(BinaryAccuracy(threshold=threshold).values(*_arrays(y_true, y_pred)))


@register("metric_function")
def categorical_accuracy(y_true, y_pred) -> np.ndarray:
    """1.0 where argmax ŷ equals argmax y (``keras.metrics.categorical_accuracy``): one per row."""
    return CategoricalAccuracy().values(*_arrays(y_true, y_pred))


@register("metric_function")
def sparse_categorical_accuracy(y_true, y_pred) -> np.ndarray:
    """1.0 where argmax ŷ equals the integer label (``keras.metrics.sparse_categorical_accuracy``):
    one per row, (N, T) for a sequence."""
    return SparseCategoricalAccuracy().values(*_arrays(y_true, y_pred))


# Keras' metric and loss functions of these names are one function each; so are glassnet's.
mean_absolute_error = register("metric_function")(losses.mean_absolute_error)
mean_squared_error = register("metric_function")(losses.mean_squared_error)
mse, mae = mean_squared_error, mean_absolute_error


def get(identifier) -> Metric:
    """A fresh metric from a name ("accuracy", "mae", "auc"), a serialized dict, an instance or
    a function ``fn(y_true, y_pred) -> per-sample values`` (glassnet's, Keras-named, or yours)."""
    if isinstance(identifier, Metric):
        return identifier
    if callable(identifier) and not isinstance(identifier, type):
        return MeanMetricWrapper(identifier)
    if isinstance(identifier, str):
        cls = lookup("metric", identifier)
        return cls(name=identifier) if identifier != cls.__name__ else cls()
    if isinstance(identifier, dict):
        return deserialize("metric", identifier)
    raise TypeError(
        f"metrics entries must be names or Metric objects; got {type(identifier).__name__}. "
        f"Valid names: {', '.join(sorted(registered('metric')))}."
    )
