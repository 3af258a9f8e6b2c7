"""Evaluation reports: the figures and plots a binary classifier is judged by.

``sklearn.metrics`` does the arithmetic; this module gathers the figures at one threshold,
prints them, and draws the ROC curve and confusion matrix with matplotlib (a ``Figure`` object,
no pyplot state, so it works headless).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn import metrics


@dataclass(frozen=True)
class BinaryClassificationReport:
    """Figures of a binary classifier at one decision threshold.

    Attributes:
        threshold: a row is predicted positive when its score is >= threshold.
        accuracy, precision, recall, f1: at that threshold (precision is 0 when nothing is
            predicted positive, recall 0 when there are no positives).
        roc_auc: area under the ROC curve (threshold-free); NaN when y_true has one class.
        confusion_matrix: [[TN, FP], [FN, TP]].
        labels: display names of the negative and positive class.
        y_true, y_score: the inputs, kept for the plots.
    """

    threshold: float
    accuracy: float
    precision: float
    recall: float
    f1: float
    roc_auc: float
    confusion_matrix: np.ndarray
    labels: tuple[str, str]
    y_true: np.ndarray
    y_score: np.ndarray

    @property
    def n_samples(self) -> int:
        return int(self.y_true.shape[0])

    def to_dict(self) -> dict:
        """The scalar figures and the confusion matrix as plain Python values."""
        return {"threshold": self.threshold, "accuracy": self.accuracy, "precision": self.precision,
                "recall": self.recall, "f1": self.f1, "roc_auc": self.roc_auc,
                "confusion_matrix": self.confusion_matrix.tolist(), "n_samples": self.n_samples}

    def __str__(self) -> str:
        (tn, fp), (fn, tp) = self.confusion_matrix
        neg, pos = self.labels
        width = max(len(neg), len(pos), 9)
        lines = [f"Binary classification report ({self.n_samples:,} samples, threshold {self.threshold:g})",
                 f"  accuracy  {self.accuracy:.4f}", f"  precision {self.precision:.4f}",
                 f"  recall    {self.recall:.4f}", f"  f1        {self.f1:.4f}", f"  roc_auc   {self.roc_auc:.4f}",
                 "  confusion matrix (rows: true, columns: predicted)",
                 f"  {'':>{width}} {neg:>{width}} {pos:>{width}}",
                 f"  {neg:>{width}} {tn:>{width},} {fp:>{width},}",
                 f"  {pos:>{width}} {fn:>{width},} {tp:>{width},}"]
        return "\n".join(lines)

    # -- plots ----------------------------------------------------------------------------------
    def plot_roc(self, ax=None):
        """Draw the ROC curve, marking the report's threshold; returns the axes."""
        ax = ax if ax is not None else _new_axes()
        fpr, tpr, _ = metrics.roc_curve(self.y_true, self.y_score)
        ax.plot(fpr, tpr, label=f"ROC (AUC = {self.roc_auc:.3f})")
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance")
        (tn, fp), (fn, tp) = self.confusion_matrix
        ax.scatter([fp / max(fp + tn, 1)], [tp / max(tp + fn, 1)], color="black", zorder=3,
                   label=f"threshold {self.threshold:g}")
        ax.set(xlabel="false positive rate", ylabel="true positive rate", xlim=(0, 1), ylim=(0, 1.01),
               title="ROC curve")
        ax.legend(loc="lower right")
        return ax

    def plot_confusion_matrix(self, ax=None):
        """Draw the confusion matrix with counts in the cells; returns the axes."""
        ax = ax if ax is not None else _new_axes()
        cm = self.confusion_matrix
        ax.imshow(cm, cmap="Blues")
        for (i, j), count in np.ndenumerate(cm):
            ax.text(j, i, f"{count:,}", ha="center", va="center",
                    color="white" if count > cm.max() / 2 else "black")
        ax.set(xticks=[0, 1], yticks=[0, 1], xticklabels=self.labels, yticklabels=self.labels,
               xlabel="predicted", ylabel="true", title=f"Confusion matrix (threshold {self.threshold:g})")
        return ax

    def plot(self, path=None):
        """Both plots side by side in one ``matplotlib.figure.Figure``; saved when ``path`` is given."""
        from matplotlib.figure import Figure

        fig = Figure(figsize=(10, 4.5), layout="constrained")
        roc_ax, cm_ax = fig.subplots(1, 2)
        self.plot_roc(roc_ax)
        self.plot_confusion_matrix(cm_ax)
        if path is not None:
            fig.savefig(path)
        return fig


def _new_axes():
    from matplotlib.figure import Figure

    return Figure(figsize=(5, 4.5), layout="constrained").subplots()


def binary_classification_report(y_true, y_score, threshold: float = 0.5,
                                 labels=("negative", "positive")) -> BinaryClassificationReport:
    """Accuracy, precision, recall, F1, ROC AUC and the confusion matrix of a binary classifier.

    Args:
        y_true: 0/1 (or False/True) targets, shape (N,) or (N, 1).
        y_score: scores of the positive class, higher meaning more likely positive: a model's
            sigmoid output (N,) / (N, 1), or ``predict_proba`` output (N, 2) whose second
            column is used.
        threshold: rows with score >= threshold are predicted positive.
        labels: display names of class 0 and class 1.

    Example:
        >>> import glassnet as gn
        >>> r = gn.reports.binary_classification_report([0, 0, 1, 1], [0.1, 0.6, 0.4, 0.9])
        >>> r.accuracy, r.roc_auc, r.confusion_matrix.tolist()
        (0.5, 0.75, [[1, 1], [1, 1]])
    """
    y_true = np.asarray(y_true)
    y_score = np.asarray(y_score, dtype=np.float64)
    if y_true.ndim == 2 and y_true.shape[1] == 1:
        y_true = y_true.reshape(-1)
    if y_score.ndim == 2 and y_score.shape[1] in (1, 2):
        y_score = y_score[:, -1]
    if y_true.ndim != 1 or y_score.ndim != 1:
        raise ValueError(f"y_true must be (N,) and y_score (N,), (N, 1) or (N, 2); got {y_true.shape} "
                         f"and {np.shape(y_score)}.")
    if y_true.shape[0] != y_score.shape[0]:
        raise ValueError(f"y_true has {y_true.shape[0]} rows but y_score has {y_score.shape[0]}.")
    if y_true.shape[0] == 0:
        raise ValueError("binary_classification_report got no samples.")
    if not np.isin(y_true, (0, 1)).all():
        bad = y_true[~np.isin(y_true, (0, 1))][0]
        raise ValueError(f"y_true must hold only 0 and 1 (encode the labels first, e.g. with "
                         f"TabularPreprocessor.encode_target); found {bad.item()!r}.")
    if not np.isfinite(y_score).all():
        raise ValueError("y_score contains NaN or infinite values.")
    if not np.isfinite(threshold):
        raise ValueError(f"threshold must be a finite number; got {threshold!r}.")
    y_true = y_true.astype(np.int64)
    y_pred = (y_score >= threshold).astype(np.int64)
    both = len(np.unique(y_true)) == 2
    return BinaryClassificationReport(
        threshold=float(threshold),
        accuracy=float(metrics.accuracy_score(y_true, y_pred)),
        precision=float(metrics.precision_score(y_true, y_pred, zero_division=0)),
        recall=float(metrics.recall_score(y_true, y_pred, zero_division=0)),
        f1=float(metrics.f1_score(y_true, y_pred, zero_division=0)),
        roc_auc=float(metrics.roc_auc_score(y_true, y_score)) if both else float("nan"),
        confusion_matrix=metrics.confusion_matrix(y_true, y_pred, labels=[0, 1]),
        labels=(str(labels[0]), str(labels[1])),
        y_true=y_true, y_score=y_score)
