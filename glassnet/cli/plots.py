"""The plots of a run: curves, confusion matrix, sample predictions and ROC, as PNG files.

Each function returns a ``matplotlib.figure.Figure`` (no pyplot state, so it works headless and
from threads); ``save`` writes one. Reuses ``History.plot``, ``glassnet.reports`` and
scikit-learn's ``ConfusionMatrixDisplay`` rather than redrawing what they draw.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure


def save(fig: Figure, path) -> str:
    fig.savefig(path, dpi=100)
    return str(path)


def curves(history) -> Figure:
    """Loss and, when recorded, accuracy per epoch, training and validation side by side."""
    bases = [k for k in ("loss", "accuracy") if k in history.history]
    bases += [k for k in history.history if k not in bases and not k.startswith("val_")
              and k != "learning_rate"][: max(0, 2 - len(bases))]
    if not bases:  # epochs = 0 (the untrained model evaluated as a baseline): nothing to draw
        fig = Figure(figsize=(5, 3.6))
        fig.text(0.5, 0.5, "No epochs were trained (epochs = 0).", ha="center", va="center")
        return fig
    fig = Figure(figsize=(5 * len(bases), 3.6))
    axes = fig.subplots(1, len(bases), squeeze=False)[0]
    for ax, key in zip(axes, bases):
        history.plot(metrics=[key], ax=ax)
        ax.set_title(key)
    return fig


def confusion_matrix(counts, class_names) -> Figure:
    """Draw ``counts``: true classes (rows) against predicted classes (columns)."""
    from sklearn.metrics import ConfusionMatrixDisplay

    size = 3.5 + 0.35 * len(class_names)
    fig = Figure(figsize=(size, size))
    ax = fig.subplots()
    display = ConfusionMatrixDisplay(np.asarray(counts), display_labels=class_names)
    display.plot(ax=ax, colorbar=False, cmap="Blues", values_format="d")
    ax.set_title("Confusion matrix (test)")
    fig.tight_layout()
    return fig


def roc(report) -> Figure:
    """ROC curve of a ``glassnet.reports`` binary classification report."""
    fig = Figure(figsize=(5, 4.5))
    report.plot_roc(fig.subplots())
    fig.tight_layout()
    return fig


def sample_grid(images, y_true, y_pred, class_names, count: int = 24) -> Figure:
    """A grid of test images titled ``predicted (true)``; wrong predictions in red with a red frame.

    Wrong predictions are shown first (up to half the grid), so the grid says what the model misses.
    """
    images = np.asarray(images)
    wrong = np.flatnonzero(y_pred != y_true)
    right = np.flatnonzero(y_pred == y_true)
    n_wrong = min(wrong.size, count // 2)
    order = np.concatenate([wrong[:n_wrong], right[: count - n_wrong]]).astype(int)
    cols = 8
    rows = max(1, -(-order.size // cols))
    fig = Figure(figsize=(cols * 1.25, rows * 1.45))
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes:
        ax.set_axis_off()
    for ax, i in zip(axes, order):
        image = images[i]
        if image.ndim == 3 and image.shape[-1] == 1:
            image = image[..., 0]
        image = image.astype(np.float64)
        span = image.max() - image.min()
        image = (image - image.min()) / span if span > 0 else np.zeros_like(image)
        ax.imshow(image, cmap="gray_r" if image.ndim == 2 else None, interpolation="nearest")
        is_wrong = y_pred[i] != y_true[i]
        name = (lambda c: class_names[int(c)] if int(c) < len(class_names) else str(int(c)))
        ax.set_title(f"{name(y_pred[i])} ({name(y_true[i])})", fontsize=8, color="red" if is_wrong else "black")
        if is_wrong:
            ax.set_axis_on()
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_color("red")
                spine.set_linewidth(2.5)
    fig.suptitle(f"Sample test predictions: predicted (true); {wrong.size} of {len(y_true)} wrong, in red",
                 fontsize=10)
    fig.tight_layout()
    return fig
